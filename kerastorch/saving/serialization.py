"""Config <-> object, in Keras 3's JSON structure (`module`, `class_name`, `config`,
`registered_name`, `build_config`).

Built-in classes are found by Keras `class_name`: every `Layer` subclass exported by
`kerastorch.layers` / `kerastorch.models`, looked up when a config is read (so layers added to
those namespaces later need no registration), then the other namespaces by Keras module
(`keras.initializers` -> `kerastorch.initializers`). Custom classes come from `custom_objects`,
an active `custom_object_scope`, or `@register_keras_serializable` (registered name
`"package>Name"`). This module imports no layers or models at import time.
"""

import base64
import builtins
import contextvars
import importlib
import inspect
import marshal
import types
import warnings

import numpy as np
import torch

from kerastorch.saving.object_registration import (  # noqa: F401 (also importable from here)
    _GLOBAL_CUSTOM_NAMES, _GLOBAL_CUSTOM_OBJECTS, _SCOPE, CustomObjectScope, custom_object_scope,
    get_custom_objects, get_registered_name, get_registered_object, register_keras_serializable)

_PLAIN = (str, int, float, bool)
_SAFE_MODE = contextvars.ContextVar("kerastorch_safe_mode", default=None)
_LAMBDA_REFUSED = (
    "Requested the deserialization of a Python lambda. This carries a potential risk of "
    "arbitrary code execution and thus it is disallowed by default. If you trust the source of "
    "the artifact, you can override this error by passing `safe_mode=False` to the loading "
    "function.")


# ---------------------------------------------------------------------- safe mode
class SafeModeScope:
    """Within the block, `in_safe_mode()` answers `safe_mode` (Lambda layers read it)."""

    def __init__(self, safe_mode=True):
        self.safe_mode, self._token = safe_mode, None

    def __enter__(self):
        self._token = _SAFE_MODE.set(self.safe_mode)
        return self

    def __exit__(self, *exc):
        _SAFE_MODE.reset(self._token)


_UNSAFE_EVERYWHERE = [False]


def in_safe_mode():
    """True/False inside a deserialization, None outside one (False everywhere after
    `enable_unsafe_deserialization()`)."""
    value = _SAFE_MODE.get()
    return False if value is None and _UNSAFE_EVERYWHERE[0] else value


def enable_unsafe_deserialization():
    """Allow lambdas in configs from now on, in this process (Keras'
    `keras.config.enable_unsafe_deserialization`)."""
    _UNSAFE_EVERYWHERE[0] = True


# ---------------------------------------------------------------------- lambdas
def func_dump(func):
    """`(code, defaults, closure)` of a function, code as base64 marshal (Keras' format)."""
    code = base64.b64encode(marshal.dumps(func.__code__)).decode("ascii")
    closure = tuple(c.cell_contents for c in func.__closure__) if func.__closure__ else None
    return code, func.__defaults__, closure


def func_load(code, defaults=None, closure=None):
    """Inverse of `func_dump`; runs code from the config, so only called with safe_mode off."""
    if isinstance(code, (list, tuple)):
        code, defaults, closure = code
    defaults = tuple(defaults) if isinstance(defaults, list) else defaults
    cells = tuple(types.CellType(v) for v in closure) if closure is not None else None
    code = marshal.loads(base64.b64decode(code.encode("ascii")))
    globs = {"__builtins__": builtins, "torch": torch, "np": np}
    return types.FunctionType(code, globs, code.co_name, defaults, cells)


def _load_lambda(config):
    inner = config.get("config") or {}
    if "value" in inner:  # serialize_keras_object's form
        return func_load(inner["value"])
    return func_load(inner["code"], inner.get("defaults"), inner.get("closure"))  # Lambda's


def _is_lambda(value) -> bool:
    return isinstance(value, dict) and value.get("class_name") == "__lambda__"


def _holds_lambda(value) -> bool:
    if _is_lambda(value):
        return True
    if isinstance(value, dict):
        return any(_holds_lambda(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds_lambda(v) for v in value)
    return False


# ---------------------------------------------------------------------- serialize
def serialize_keras_object(obj):
    """A JSON-ready description of `obj` that `deserialize_keras_object` turns back into it."""
    if obj is None or isinstance(obj, _PLAIN):
        return obj
    if isinstance(obj, (list, tuple)):
        items = [serialize_keras_object(x) for x in obj]
        return tuple(items) if isinstance(obj, tuple) else items
    if isinstance(obj, dict):
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    if isinstance(obj, bytes):
        return {"class_name": "__bytes__", "config": {"value": obj.decode("utf-8")}}
    if obj is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(obj, slice):
        return {"class_name": "__slice__", "config": {
            k: serialize_keras_object(getattr(obj, k)) for k in ("start", "stop", "step")}}
    if hasattr(obj, "_keras_history") and hasattr(obj, "shape"):  # KerasTensor
        history = obj._keras_history
        history = [history[0].name, *history[1:]] if history else None
        return {"class_name": "__keras_tensor__",
                "config": {"shape": obj.shape, "dtype": obj.dtype, "keras_history": history}}
    if isinstance(obj, torch.Tensor):
        return {"class_name": "__tensor__", "config": {
            "value": obj.detach().cpu().tolist(), "dtype": str(obj.dtype).split(".")[-1]}}
    if isinstance(obj, np.ndarray) and obj.ndim > 0:
        return {"class_name": "__numpy__",
                "config": {"value": obj.tolist(), "dtype": str(obj.dtype)}}
    if isinstance(obj, (np.generic, np.ndarray)):
        return obj.item()
    if isinstance(obj, torch.dtype):
        return str(obj).split(".")[-1]
    if isinstance(obj, types.FunctionType) and obj.__name__ == "<lambda>":
        warnings.warn("The object being serialized includes a `lambda`. Reloading it needs "
                      "`safe_mode=False`; prefer named functions.", stacklevel=2)
        return {"class_name": "__lambda__", "config": {"value": func_dump(obj)}}
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return _serialize_function(obj)
    if not hasattr(obj, "get_config"):
        raise TypeError(f"Cannot serialize object {obj!r} of type {type(obj).__name__}. To be "
                        "serializable, a class must implement the `get_config()` method.")
    config = obj.get_config()
    if not isinstance(config, dict):
        raise TypeError(f"The `get_config()` method of {obj!r} should return a dict. It "
                        f"returned: {config!r}")
    module, registered = _class_identity(type(obj))
    out = {"module": module, "class_name": type(obj).__name__,
           "config": serialize_keras_object(config), "registered_name": registered}
    build_config = _build_config(obj)
    if build_config is not None:
        out["build_config"] = serialize_keras_object(build_config)
    compiled = getattr(obj, "compiled", None)
    if compiled is False:  # an uncompiled model, as Keras writes it
        out["compile_config"] = {}
    elif compiled is True and hasattr(obj, "_compile_metrics"):
        hook = getattr(obj, "get_compile_config", None)  # `Model.get_compile_config`, or a
        out["compile_config"] = hook() if hook is not None else \
            serialize_keras_object(get_compile_config(obj))  # user's override of it
    return out


def get_compile_config(model) -> dict:
    """The arguments `model.compile` was called with, as Keras 3's `compile_config` holds them."""
    compile_loss, compile_metrics = model._compile_loss, model._compile_metrics
    return {
        "optimizer": model.optimizer,
        "loss": model.loss,
        "loss_weights": getattr(compile_loss, "loss_weights", None),
        "metrics": getattr(compile_metrics, "_spec", None),
        "weighted_metrics": getattr(compile_metrics, "_weighted_spec", None),
        "run_eagerly": False,
        "steps_per_execution": 1,
        "jit_compile": bool(getattr(model, "_jit_compile", False)),
    }


def _serialize_function(fn):
    if fn in _GLOBAL_CUSTOM_NAMES:  # as Keras writes a registered function
        return {"module": "builtins", "class_name": "function",
                "config": _GLOBAL_CUSTOM_NAMES[fn], "registered_name": "function"}
    module = fn.__module__ or "builtins"
    if module.startswith("kerastorch."):
        module = "keras." + module.split(".")[1]
    return {"module": module, "class_name": "function", "config": fn.__name__,
            "registered_name": fn.__name__}


def _class_identity(cls):
    """(module, registered_name) as Keras writes them for `cls`."""
    if cls in _GLOBAL_CUSTOM_NAMES:
        return cls.__module__, _GLOBAL_CUSTOM_NAMES[cls]
    if getattr(cls, "keras_module", None) is not None:  # an op (`x * 2`): keras.src.ops.*
        return cls.keras_module, cls.__name__
    parts = cls.__module__.split(".")
    if parts[0] != "kerastorch":
        return cls.__module__, cls.__name__  # unregistered custom class
    if cls.__name__ == "Functional":  # Keras exports no name for it
        return "keras.src.models.functional", "Functional"
    if cls.__name__ in ("Sequential", "Model") or parts[1] == "models":
        return "keras", None
    return "keras." + parts[1], None


def _build_config(obj):
    getter = getattr(obj, "get_build_config", None)
    if getter is not None:
        return getter()
    return default_build_config(obj)


def default_build_config(obj):
    """Keras' `build_config` of a built layer: its build input shape(s) (None: unbuilt)."""
    if isinstance(obj, torch.nn.Module) and getattr(obj, "built", False):
        shapes = getattr(obj, "_build_shapes", None)
        if shapes is not None and type(obj).__name__ == "MultiHeadAttention":
            return _attention_build_config(obj, shapes)
        if shapes is not None:
            return {"input_shape": shapes}
    return None


def _attention_build_config(layer, query_shape):
    """Keras' MultiHeadAttention builds from `build(query_shape, value_shape, key_shape)` and
    writes `{"shapes_dict": ...}`; kerastorch records the query's shape only, so the value's and
    key's feature sizes are read from the projection kernels (other axes as the query's)."""
    dims = {v.name.split("/")[0]: tuple(v.keras_value().shape)[0]
            for v in layer.keras_weight_views() if v.name.endswith("/kernel")}
    query_shape = list(query_shape)
    return {"shapes_dict": {
        "query_shape": query_shape,
        "value_shape": query_shape[:-1] + [dims.get("value", query_shape[-1])],
        "key_shape": query_shape[:-1] + [dims.get("key", query_shape[-1])]}}


# ---------------------------------------------------------------------- deserialize
def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """The object described by `config` (the output of `serialize_keras_object`).

    Args:
        config: A config dict, list, or plain value.
        custom_objects: Dict of name -> class/function for classes that are not built in.
        safe_mode: When True (default), configs holding a serialized Python lambda are refused.
    """
    scoped = in_safe_mode()
    safe_mode = scoped if scoped is not None else safe_mode
    custom = {**(custom_objects or {}), **_SCOPE.get(), **_GLOBAL_CUSTOM_OBJECTS}
    if config is None:
        return None
    if isinstance(config, str) and config in custom:
        return custom[config]
    if isinstance(config, (list, tuple)):
        return [deserialize_keras_object(x, custom, safe_mode) for x in config]
    if isinstance(config, _PLAIN):
        return config
    if not isinstance(config, dict):
        raise TypeError(f"Could not parse config: {config!r}")
    if "class_name" not in config or "config" not in config:
        return {k: deserialize_keras_object(v, custom, safe_mode) for k, v in config.items()}
    class_name = config["class_name"]
    inner = config["config"] if config["config"] is not None else {}
    special = _deserialize_special(class_name, inner, config, custom, safe_mode)
    if special is not _NOT_SPECIAL:
        return special
    module = config.get("module")
    registered = config.get("registered_name") or class_name
    if class_name == "function":
        return _retrieve_function(inner, registered, module, custom, config)
    if not isinstance(inner, dict):
        raise TypeError(f"Expected 'config' to be a dict for {class_name}. Full config: "
                        f"{config!r}")
    if _holds_lambda(inner):  # refused before anything from the config is looked up or run
        if safe_mode:
            raise ValueError(_LAMBDA_REFUSED)
        inner = {k: _load_lambda(v) if _is_lambda(v) else v for k, v in inner.items()}
    cls = _retrieve_class(class_name, registered, module, custom, config)
    if isinstance(cls, types.FunctionType):
        return cls
    with CustomObjectScope(custom), SafeModeScope(safe_mode):
        try:
            instance = cls.from_config(inner)
        except TypeError as err:
            raise TypeError(f"{cls} could not be deserialized properly: {err}\n\n"
                            f"config={config!r}") from err
        build_config = config.get("build_config")
        if build_config and not getattr(instance, "built", True):
            _build_from_config(instance, build_config)
        compile_config = config.get("compile_config")
        if compile_config and hasattr(instance, "compile"):
            _compile_from_config(instance, compile_config)
    return instance


_NOT_SPECIAL = object()


def _deserialize_special(class_name, inner, config, custom, safe_mode):
    if class_name == "__keras_tensor__":
        from kerastorch.layers.input_layer import KerasTensor
        tensor = KerasTensor(inner["shape"], dtype=inner.get("dtype", "float32"))
        tensor._pre_serialization_keras_history = inner.get("keras_history")
        return tensor
    if class_name == "__tensor__":
        return torch.tensor(inner["value"], dtype=getattr(torch, inner["dtype"]))
    if class_name == "__numpy__":
        return np.array(inner["value"], dtype=inner["dtype"])
    if class_name == "__bytes__":
        return inner["value"].encode("utf-8")
    if class_name == "__ellipsis__":
        return Ellipsis
    if class_name == "__slice__":
        return slice(*(deserialize_keras_object(inner[k], custom, safe_mode)
                       for k in ("start", "stop", "step")))
    if class_name == "__lambda__":
        if safe_mode:
            raise ValueError(_LAMBDA_REFUSED)
        return _load_lambda(config)
    return _NOT_SPECIAL


def _builtin_classes() -> dict:
    """Keras class name -> kerastorch class, read from the namespaces now (not cached), so
    classes exported later are found; then loaded kerastorch Layer subclasses not yet
    exported."""
    from kerastorch import layers, models
    from kerastorch.layers.layer import Layer
    from kerastorch.models.functional import Functional
    found = {"Functional": Functional}
    for namespace in (layers, models):
        for attr in dir(namespace):
            obj = getattr(namespace, attr, None)
            if inspect.isclass(obj) and issubclass(obj, Layer):
                found.setdefault(obj.__name__, obj)
                found.setdefault(attr, obj)
    stack = [Layer]
    while stack:
        cls = stack.pop()
        if cls.__module__.startswith("kerastorch.") and not cls.__name__.startswith("_"):
            found.setdefault(cls.__name__, cls)
        stack.extend(cls.__subclasses__())
    return found


def _retrieve_class(class_name, registered, module, custom, config):
    for key in (registered, class_name):
        if key in custom:
            return custom[key]
    if isinstance(module, str) and module.startswith("keras.src.ops"):  # an op (`x * 2`)
        from kerastorch.layers.symbolic_ops import op_class
        return op_class(class_name, module=module)
    cls = _builtin_classes().get(class_name) or _from_namespace(module, class_name)
    if cls is None and module in (None, "keras", "keras.layers"):
        _import_layer_modules()  # a layer defined but not yet exported by kerastorch.layers
        cls = _builtin_classes().get(class_name)
    if cls is None:
        raise TypeError(f"Could not locate class '{class_name}'. Make sure custom classes are "
                        "decorated with `@keras.saving.register_keras_serializable()` or passed "
                        f"in `custom_objects`. Full object config: {config!r}")
    return cls


def _import_layer_modules():
    import pkgutil

    from kerastorch import layers
    for info in pkgutil.iter_modules(layers.__path__):
        try:
            importlib.import_module(f"kerastorch.layers.{info.name}")
        except Exception:  # a module that does not import is not where the class is
            continue


def _retrieve_function(name, registered, module, custom, config):
    for key in (registered, name):
        if key in custom:
            return custom[key]
    fn = _from_namespace(module, name)
    if fn is None:
        raise TypeError(f"Could not locate function '{name}'. Make sure custom functions are "
                        "decorated with `@keras.saving.register_keras_serializable()` or passed "
                        f"in `custom_objects`. Full object config: {config!r}")
    return fn


def _from_namespace(module, name):
    """`keras.initializers` + `GlorotUniform` -> `kerastorch.initializers.GlorotUniform`."""
    if not module or not isinstance(name, str):
        return None
    parts = module.split(".")
    if parts[0] != "keras" or len(parts) < 2 or parts[1] == "src":
        return None
    try:
        namespace = importlib.import_module("kerastorch." + parts[1])
    except ImportError:
        return None
    return getattr(namespace, name, None)


def shape_from_config(shape):
    """JSON shapes back to tuples: `[None, 3]` -> `(None, 3)`; lists/dicts of shapes kept."""
    if isinstance(shape, dict):
        return {k: shape_from_config(v) for k, v in shape.items()}
    if isinstance(shape, (list, tuple)):
        if all(d is None or isinstance(d, int) for d in shape):
            return tuple(shape)
        return [shape_from_config(s) for s in shape]
    return shape


def _build_from_config(instance, build_config):
    from kerastorch.layers.layer import Layer
    own = getattr(type(instance), "build_from_config", None)
    if own is not None and own is not Layer.build_from_config:
        instance.build_from_config(build_config)  # a user's hook gets the whole dict
        return
    shape = shape_from_config(build_config.get("input_shape"))
    if shape is None:
        return
    if hasattr(instance, "build_from_config"):
        instance.build_from_config({"input_shape": shape})
        return
    instance._build_shapes = shape
    instance.build(shape)
    instance.built = True


def _compile_from_config(instance, compile_config):
    try:
        hook = getattr(instance, "compile_from_config", None)
        if hook is not None:
            hook(compile_config)
        else:
            instance.compile(**deserialize_keras_object(compile_config))
    except Exception as err:  # the model loads; only its training setup is lost
        warnings.warn(f"compile() was not called as part of model loading: {err}. Call "
                      "`model.compile()` yourself.", stacklevel=3)
