"""Operations on `KerasTensor`s: `x / 255.0`, `a + b`, `x[:, :2]`, ... in the functional API.

As in Keras 3, each such expression becomes one node of the graph, made by an op object
(`Operation` in Keras, `SymbolicOp` here): a weightless `Layer` subclass named after Keras' op
class (`TrueDivide`, `Add`, `GetItem`, ...) and auto-named like it (`true_divide`, `add_1`).
An op is not in `model.layers`, but shows in `summary()` and in the functional config as Keras
writes it (`"module": "keras.src.ops.numpy"`, `"class_name": "Multiply"`, `"config":
{"name": "multiply"}`, constants inline in `inbound_nodes`).

`symbolic_call(keras_class_name, fn, args, kwargs)` is the one entry point: any op whose
arguments hold a `KerasTensor` records itself through it. On real tensors the op runs
`fn(*args, **kwargs, **config)`; shapes and dtypes come from running `fn` on fake tensors
(`torch._subclasses.FakeTensorMode`), so dtypes follow torch's promotion, which agrees with
Keras' for the common cases (int tensor * float constant -> float32, comparisons -> bool).
"""

import operator

import numpy as np
import torch
from torch._subclasses.fake_tensor import FakeTensorMode

from kerastorch.layers.layer import Layer

NUMPY_MODULE = "keras.src.ops.numpy"
# Two stand-ins for unknown (`None`) dimensions: a dimension that differs between the two
# fake runs depends on an unknown one and is reported as `None`.
_PLACEHOLDERS = (5, 7)


def _as_tensor(value, device):
    return value if isinstance(value, torch.Tensor) else torch.as_tensor(value, device=device)


def _device_of(args):
    """The device of the first tensor argument (None when there is none, as under fx)."""
    return next((a.device for a in args if isinstance(a, torch.Tensor)), None)


def _logical(fn):
    def run(*args):
        device = _device_of(args)
        return fn(*(_as_tensor(a, device) for a in args))
    run.__name__ = fn.__name__
    return run


def _get_item(x, key):
    return x[tuple(key) if isinstance(key, list) else key]  # JSON turns Keras' tuple keys to lists


# Keras op class name -> torch function, for the operators of `KerasTensor`.
OPERATORS = {
    "Add": operator.add,
    "Subtract": operator.sub,
    "Multiply": operator.mul,
    "TrueDivide": operator.truediv,
    "Divide": operator.truediv,
    "FloorDivide": operator.floordiv,
    "Mod": operator.mod,
    "Power": operator.pow,
    "Matmul": torch.matmul,
    "Negative": torch.neg,
    "Absolute": torch.abs,
    "Less": operator.lt,
    "LessEqual": operator.le,
    "Greater": operator.gt,
    "GreaterEqual": operator.ge,
    "NotEqual": operator.ne,
    "LogicalAnd": _logical(torch.logical_and),
    "LogicalOr": _logical(torch.logical_or),
    "LogicalXor": _logical(torch.logical_xor),
    "LogicalNot": torch.logical_not,
    "GetItem": _get_item,
}
_REGISTERED = {}  # class name -> (fn, module), from `symbolic_call` and `register_op`
_CLASSES = {}


def _torch_dtype(name):
    return getattr(torch, name) if isinstance(name, str) else name


def _dtype_name(dtype):
    return str(dtype).split(".")[-1]


def _is_kt(value):
    return type(value).__name__ == "KerasTensor" and hasattr(value, "_keras_history")


def _map(fn, value):
    if _is_kt(value):
        return fn(value)
    if isinstance(value, dict):
        return {k: _map(fn, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_map(fn, v) for v in value)
    return value


def _map_constants(fn, value):
    """`fn` applied to the torch tensors in `value` (KerasTensors kept)."""
    if isinstance(value, torch.Tensor):
        return fn(value)
    if isinstance(value, dict):
        return {k: _map_constants(fn, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and not _is_kt(value):
        return type(value)(_map_constants(fn, v) for v in value)
    return value


def _has_kt(value) -> bool:
    found = []
    _map(found.append, value)
    return bool(found)


def _has_array(value) -> bool:
    if isinstance(value, np.ndarray):
        return True
    if isinstance(value, dict):
        return any(_has_array(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_array(v) for v in value)
    return False


def _arrays_to_tensors(value, device, cache=None):
    """numpy arrays in `value` -> tensors on `device` (each copied once per device when a
    `cache` dict is given)."""
    if isinstance(value, np.ndarray):
        if cache is None:
            return torch.as_tensor(value, device=device)
        key = (id(value), device)
        if key not in cache:
            cache[key] = torch.as_tensor(value, device=device)
        return cache[key]
    if isinstance(value, dict):
        return {k: _arrays_to_tensors(v, device, cache) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_arrays_to_tensors(v, device, cache) for v in value)
    return value


class SymbolicOp(Layer):
    """One Keras op applied in a functional graph: a weightless layer running `fn`.

    Subclasses (one per Keras op class, made by `op_class`) set `fn` and `keras_module`.

    Args:
        name: The op's name; by default Keras' auto name (`multiply`, `multiply_1`, ...).
        **config: The op's constructor arguments in Keras (e.g. `axis` of `ExpandDims`),
            passed to `fn` as keyword arguments and written in its config.
    """

    fn = None
    keras_module = NUMPY_MODULE

    def __init__(self, name=None, **config):
        super().__init__(name=name)
        self.op_config = config
        self.built = True
        self._array_args = False
        self._constants = {}  # (id(array), device) -> tensor, for numpy constants

    def __call__(self, *args, **kwargs):
        if _has_kt((args, kwargs)):
            return self.symbolic_call(*args, **kwargs)
        return self.run(*args, **kwargs)

    def run(self, *args, **kwargs):
        """The op on real tensors (what a functional model's forward calls)."""
        if self._array_args:  # numpy constants move to the device of the tensors
            device = _device_of(args)
            args, kwargs = _arrays_to_tensors((args, kwargs), device, self._constants)
        return type(self).fn(*args, **kwargs, **self.op_config)

    forward = __call__

    def call(self, *args, **kwargs):
        return self.__call__(*args, **kwargs)

    def _infer(self, args, kwargs, placeholder):
        def fake(t):
            shape = tuple(placeholder if d is None else d for d in t.shape)
            return torch.empty(shape, dtype=_torch_dtype(t.dtype))

        with FakeTensorMode(allow_non_fake_inputs=True), torch.no_grad():
            fake_args, fake_kwargs = _map(fake, (args, kwargs))
            fake_args, fake_kwargs = _arrays_to_tensors((fake_args, fake_kwargs), "cpu")
            return type(self).fn(*fake_args, **fake_kwargs, **self.op_config)

    def symbolic_call(self, *args, **kwargs):
        """Record this op on KerasTensors; returns the output KerasTensor(s)."""
        from kerastorch.layers.input_layer import KerasTensor, Node
        if self.__dict__.get("_inbound_nodes"):
            raise ValueError(f"Op '{self.name}' ({type(self).__name__}) is already part of a "
                             "graph; each op object records one call.")
        try:
            runs = [self._infer(args, kwargs, p) for p in _PLACEHOLDERS]
        except Exception as err:
            shapes = _map(lambda t: t.shape, list(args))
            raise ValueError(f"Op {type(self).__name__} cannot be applied to these arguments "
                             f"(KerasTensor shapes {shapes}): {err}") from err
        # torch tensor constants are kept as numpy arrays: copied to the inputs' device once,
        # written `__numpy__` in configs
        args, kwargs = _map_constants(lambda t: t.detach().cpu().numpy(), (args, kwargs))
        self._array_args = _has_array((args, kwargs))
        single = isinstance(runs[0], torch.Tensor)
        firsts = [runs[0]] if single else list(runs[0])
        seconds = [runs[1]] if single else list(runs[1])
        flat = []
        for i, (a, b) in enumerate(zip(firsts, seconds)):
            shape = tuple(d if d == e else None for d, e in zip(a.shape, b.shape))
            flat.append(KerasTensor(shape, _dtype_name(a.dtype), name=self.name,
                                    history=(self, 0, i)))
        outputs = flat[0] if single else type(runs[0])(flat)
        self._inbound_nodes = [Node(self, args, kwargs, flat, structure=outputs)]
        return outputs

    def compute_output_shape(self, input_shape):
        node = self.__dict__.get("_inbound_nodes")
        if node:
            outs = node[0].outputs
            return outs[0].shape if len(outs) == 1 else [t.shape for t in outs]
        raise NotImplementedError(f"Op {type(self).__name__} infers its shape when called.")

    def count_params(self) -> int:
        return 0

    def get_config(self):
        return {"name": self.name, **self.op_config}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_build_config(self):
        return None  # Keras writes no build_config for ops

    def __repr__(self):
        return f"<Operation name={self.name}>"


def op_class(keras_class_name, fn=None, module=NUMPY_MODULE):
    """The `SymbolicOp` subclass for a Keras op class name (made once, then cached).

    `fn` defaults to the operator table, then to a function registered with `register_op`,
    then to `kerastorch.ops.<snake_case name>` when that package has it.
    """
    cls = _CLASSES.get(keras_class_name)
    if cls is not None:
        return cls
    if fn is None or keras_class_name in OPERATORS:
        # one class per name: `ops.add(kt, 2)` and `kt + 2` share `Add`, which runs the torch
        # operator (traceable by torch.fx), whichever of the two made the class first
        fn, module = _lookup(keras_class_name, module)
    cls = type(keras_class_name, (SymbolicOp,), {
        "fn": staticmethod(fn), "keras_module": module, "__module__": __name__,
        "__doc__": f"Keras' `{keras_class_name}` op on KerasTensors (runs `{fn.__name__}`)."})
    _CLASSES[keras_class_name] = cls
    return cls


def _lookup(keras_class_name, module):
    if keras_class_name in OPERATORS:
        return OPERATORS[keras_class_name], NUMPY_MODULE
    if keras_class_name in _REGISTERED:
        return _REGISTERED[keras_class_name]
    from kerastorch.utils.naming import to_snake_case
    try:
        from kerastorch import ops
    except ImportError:
        ops = None
    fn = getattr(ops, to_snake_case(keras_class_name), None) if ops is not None else None
    if not callable(fn):
        raise ValueError(f"Unsupported Keras op '{keras_class_name}' (module {module}): "
                         "kerastorch cannot run it in a functional model. Supported ops: "
                         f"{sorted({*OPERATORS, *_REGISTERED})}.")
    return fn, module


def register_op(keras_class_name, fn, module=NUMPY_MODULE):
    """Make `keras_class_name` loadable from configs (`fn` runs it on torch tensors)."""
    _REGISTERED[keras_class_name] = (fn, module)


def symbolic_call(keras_class_name, fn, args, kwargs=None, config=None, module=NUMPY_MODULE):
    """Record Keras op `keras_class_name` applied to `args`/`kwargs`, which hold KerasTensors.

    Args:
        keras_class_name: Keras' op class (`"Add"`, `"ExpandDims"`...): the node's type in
            summaries and configs, and its auto name (`add`, `expand_dims_1`...).
        fn: Runs the op on torch tensors: `fn(*args, **kwargs, **config)`.
        args: Positional arguments: KerasTensors and constants (numbers, slices, arrays).
        kwargs: Keyword arguments, recorded in the node like `args`.
        config: The op's constructor arguments in Keras (e.g. `{"axis": 1}` for
            `ExpandDims`), written in the op's config.
        module: Keras' module of the op class (`keras.src.ops.numpy`, `keras.src.ops.nn`,
            `keras.src.ops.core`...).

    Returns:
        The output KerasTensor (or a tuple/list of them when `fn` returns several).
    """
    if fn is not None and keras_class_name not in OPERATORS:
        _REGISTERED.setdefault(keras_class_name, (fn, module))
    cls = op_class(keras_class_name, fn, module)
    return cls(**(config or {})).symbolic_call(*args, **(kwargs or {}))


def __getattr__(name):
    """`symbolic_ops.Multiply` -> the op class (pickle finds op classes by name this way)."""
    if name[:1].isupper():
        try:
            return op_class(name)
        except ValueError:
            pass
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
