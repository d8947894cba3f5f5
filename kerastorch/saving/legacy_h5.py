"""Legacy Keras 2 / tf.keras HDF5 files (`.h5`, `.hdf5`), read and written for kerastorch.

Full-model files hold the attribute `model_config` (JSON `{"class_name", "config"}`), optionally
`training_config` (the compile arguments `loss`, `metrics`, `loss_weights`, `weighted_metrics`,
... and `optimizer_config`), the group `model_weights` (attribute `layer_names`; one group per
layer with attribute `weight_names`) and `optimizer_weights` (attribute `weight_names`: Keras'
optimizer variables, iterations and learning rate first). Weight-only files hold the
`model_weights` content at the top level. A layer's weights are in Keras' legacy order, its
trainable weights then its non-trainable ones, and layers are matched in order among those with
weights, as Keras does (`keras/src/legacy/saving/legacy_h5_format.py`, `saving_utils.py`).

Files kerastorch writes checksum every non-scalar dataset (fletcher32) and end in
`file_safety.seal`'s sha256 trailer, which also covers the configs held as attributes; files
from Keras, tf.keras or older kerastorch have neither and load as before.
"""

import json
import os
import warnings

import numpy as np

from kerastorch.saving.file_safety import (SavedFileError, atomic_write, config_errors,
                                           file_error, read_errors, require_file, seal)

# Keras namespaces whose objects appear inside layer configs without a `module` in Keras 2.
_NAMESPACES = ("initializers", "regularizers", "constraints", "activations", "optimizers",
               "losses", "metrics")
# Loss aliases Keras 3 writes into `training_config` but cannot read back there (its
# `losses.deserialize("mse")` fails: "Could not deserialize 'keras.metrics.mse'"); written as
# the functions' names, which both Keras and kerastorch read.
_LOSS_ALIASES = {"mse": "mean_squared_error", "mae": "mean_absolute_error",
                 "mape": "mean_absolute_percentage_error",
                 "msle": "mean_squared_logarithmic_error", "bce": "binary_crossentropy",
                 "kld": "kl_divergence"}
# Metric strings Keras keeps as strings on load (compile resolves them from the output shape).
_SPECIAL_METRICS = ("accuracy", "acc", "crossentropy", "ce")


def _text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _names(group, attr):
    """Keras' `load_attributes_from_hdf5_group`: `attr`, or its chunks `attr0`, `attr1`, ..."""
    if attr in group.attrs:
        values = group.attrs[attr]
        return [_text(v) for v in np.asarray(values).reshape(-1)] if np.size(values) else []
    out, chunk = [], 0
    while f"{attr}{chunk}" in group.attrs:
        out.extend(_text(v) for v in np.asarray(group.attrs[f"{attr}{chunk}"]).reshape(-1))
        chunk += 1
    return out


def _add_modules(config):
    """Give Keras 2 objects (no `module`) the Keras 3 module kerastorch resolves them by."""
    import importlib
    if isinstance(config, list):
        return [_add_modules(v) for v in config]
    if not isinstance(config, dict):
        return config
    out = {k: _add_modules(v) for k, v in config.items()}
    if "class_name" in out and "config" in out and "module" not in out:
        name = out["class_name"]
        for namespace in _NAMESPACES:
            module = importlib.import_module(f"kerastorch.{namespace}")
            if isinstance(name, str) and hasattr(module, name):
                out["module"] = f"keras.{namespace}"
                break
    return out


def _open(path):
    from kerastorch.saving.h5_store import open_file
    return open_file(require_file(path))


def _json_attr(f, name, path, what):
    """The JSON attribute `name` of the open file (`what`, for errors), parsed; None when
    absent."""
    raw = f.attrs.get(name)
    if raw is None:
        return None
    try:
        return json.loads(_text(raw))
    except ValueError as err:  # JSONDecodeError, UnicodeDecodeError
        raise file_error(path, f"{what} (attribute '{name}') is not valid JSON", err) from err


def _legacy_views(layer):
    """Keras' `_legacy_weights`: the layer's trainable weights, then its non-trainable ones."""
    views = layer._all_weight_views()
    trainable = layer._trainable_tensor_ids()
    return ([v for v in views if id(v.tensor) in trainable]
            + [v for v in views if id(v.tensor) not in trainable])


# ---------------------------------------------------------------------- reading
def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A model from a legacy full-model `.h5` (Keras 2, tf.keras, Keras 3's `save("m.h5")` or
    kerastorch's); compiled from its `training_config` when `compile=True`, optimizer state
    included."""
    from kerastorch.saving.h5_store import UNREADABLE
    from kerastorch.saving.serialization import deserialize_keras_object
    path = os.fspath(filepath)
    with read_errors(path, UNREADABLE), _open(path) as f:
        config = _json_attr(f, "model_config", path, "the model config")
        if config is None:
            raise file_error(path, "no model config found in the file (a weights-only .h5 "
                                   "loads with `model.load_weights`)")
        if not isinstance(config, dict):
            raise file_error(path, f"the model config is a {type(config).__name__}, not a dict")
        with config_errors(path):
            model = deserialize_keras_object(_add_modules(config),
                                             custom_objects=custom_objects, safe_mode=safe_mode)
        if "model_weights" not in f:
            raise file_error(path, "the file has no 'model_weights' group")
        load_weights_from_group(f["model_weights"], model, path)
        training = (_json_attr(f, "training_config", path, "the training config") if compile
                    else None)
        if training is not None:
            _compile(model, training, f, custom_objects, path)
    return model


def _nested(fn, config):
    """Keras' `_deserialize_nested_config`: `fn` on each object of a dict/list structure."""
    if config is None:
        return None
    if isinstance(config, str) or (isinstance(config, dict) and "class_name" in config):
        return fn(config)
    if isinstance(config, dict):
        return {k: _nested(fn, v) for k, v in config.items()}
    if isinstance(config, (list, tuple)):
        return [_nested(fn, v) for v in config]
    raise ValueError("Saved configuration not understood. Configuration should be a "
                     f"dictionary, string, tuple or list. Received: config={config}.")


def _resolver(deserialize, custom_objects):
    """A name or `{"class_name", "config"}` -> object: registered and custom objects first
    (Keras' legacy files name them `"package>Name"`), then the library's `deserialize`."""
    from kerastorch.saving.object_registration import get_registered_object

    def resolve(config):
        name = config if isinstance(config, str) else config.get("class_name")
        found = get_registered_object(name, custom_objects) if isinstance(name, str) else None
        if found is None:
            return deserialize(_add_modules(config), custom_objects)
        if not isinstance(found, type):
            return found
        return found() if isinstance(config, str) else found.from_config(
            config.get("config") or {})
    return resolve


def compile_args_from_training_config(training, custom_objects=None):
    """Keras' `compile_args_from_training_config`: `model.compile` arguments from the file."""
    from kerastorch import losses, metrics, optimizers
    custom_objects = custom_objects or {}
    loss = _resolver(losses.deserialize, custom_objects)
    metric = _resolver(metrics.deserialize, custom_objects)

    def metric_or_name(config):  # Keras leaves these for compile to resolve by output shape
        return config if config in _SPECIAL_METRICS else metric(config)

    return {
        "optimizer": _resolver(optimizers.deserialize, custom_objects)(
            training["optimizer_config"]),
        "loss": _nested(loss, training.get("loss")),
        "metrics": _nested(metric_or_name, training.get("metrics")),
        "weighted_metrics": _nested(metric_or_name, training.get("weighted_metrics")),
        "loss_weights": training.get("loss_weights"),
    }


def _compile(model, training, f, custom_objects, path):
    try:
        model.compile(**compile_args_from_training_config(training, custom_objects))
    except Exception as err:  # the model loads; only its training setup is lost
        warnings.warn(f"compile() was not called as part of model loading ({err}). Call "
                      "`model.compile()` yourself.", stacklevel=3)
        return
    group = f.get("optimizer_weights")
    if group is not None:
        from kerastorch.saving.h5_store import load_optimizer_values
        values = [np.asarray(group[n][()]) for n in _names(group, "weight_names")]
        load_optimizer_values(model, model.optimizer, values, f"'{os.fspath(path)}'")


def load_weights_from_group(group, model, path, skip_mismatch=False):
    """Keras' `load_weights_from_hdf5_group`: layers with weights, matched in order, each
    layer's weights in the legacy order (trainable, then non-trainable)."""
    if "model_weights" in group and "layer_names" not in group.attrs:
        group = group["model_weights"]
    layer_names = [n for n in _names(group, "layer_names")
                   if n in group and _names(group[n], "weight_names")]
    layers = [layer for layer in model.layers if layer.weights]
    if len(layer_names) != len(layers):
        raise SavedFileError(
            f"'{os.fspath(path)}': layer count mismatch when loading weights from file. Model "
            f"expected {len(layers)} layers with weights, found {len(layer_names)} saved layers "
            f"({layer_names}).")
    plan = []
    for name, layer in zip(layer_names, layers):
        layer_group = group[name]
        values = [np.asarray(layer_group[w][()]) for w in _names(layer_group, "weight_names")]
        views = _legacy_views(layer)
        problem = None
        if len(values) != len(views):
            problem = (f"Layer '{layer.name}' expected {len(views)} weights, but the saved "
                       f"layer '{name}' has {len(values)} elements.")
        else:
            for value, view in zip(values, views):
                want = tuple(view.keras_value().shape)
                if tuple(value.shape) != want:
                    problem = (f"Layer '{layer.name}' weight '{view.name}' has shape {want}; "
                               f"the saved layer '{name}' has shape {tuple(value.shape)}.")
                    break
        if problem and skip_mismatch:
            warnings.warn(f"Skipping loading weights for layer '{layer.name}': {problem}",
                          stacklevel=3)
            continue
        if problem:
            raise SavedFileError(f"'{os.fspath(path)}': {problem}")
        plan.append((views, values))
    for views, values in plan:
        for view, value in zip(views, values):
            view.assign(value)


# ---------------------------------------------------------------------- writing
def _legacy_object(config):
    """A kerastorch-serialized object in Keras' legacy form: a function by its name, an object
    as `{"class_name", "config"}` (the registered name for custom classes)."""
    if isinstance(config, (list, tuple)):
        return [_legacy_object(v) for v in config]
    if not isinstance(config, dict):
        return config
    if "class_name" not in config or "config" not in config:
        return {k: _legacy_object(v) for k, v in config.items()}
    if config["class_name"] == "function":  # its name ("package>name" when registered)
        return config["config"]
    registered = config.get("registered_name") or ""
    name = registered if ">" in registered else config["class_name"]
    return {"class_name": name, "config": config["config"]}


def _loss_names(config):
    if isinstance(config, str):
        return _LOSS_ALIASES.get(config.lower(), config)
    if isinstance(config, (list, tuple)):
        return [_loss_names(v) for v in config]
    if isinstance(config, dict) and "class_name" not in config:
        return {k: _loss_names(v) for k, v in config.items()}
    return config


def training_config(model) -> dict:
    """Keras' `training_config`: the compile config without the optimizer, in the legacy form,
    plus `optimizer_config` (`{"class_name", "config"}`)."""
    from kerastorch.saving.serialization import get_compile_config, serialize_keras_object
    compile_config = get_compile_config(model)
    optimizer = compile_config.pop("optimizer")
    config = _legacy_object(serialize_keras_object(compile_config))
    config["loss"] = _loss_names(config.get("loss"))
    serialized = _legacy_object(serialize_keras_object(optimizer))
    config["optimizer_config"] = {"class_name": serialized["class_name"],
                                  "config": serialize_keras_object(optimizer.get_config())}
    return config


def save_model(model, filepath, include_optimizer=True) -> None:
    """Write the legacy full-model `.h5` as Keras 3's `model.save("m.h5")` does (compile
    arguments and optimizer variables included for a compiled model), atomically and sealed
    with a sha256 trailer."""
    import h5py

    from kerastorch.saving.serialization import serialize_keras_object
    config = serialize_keras_object(model)
    config = {"class_name": config["class_name"], "config": config["config"]}
    optimizer = getattr(model, "optimizer", None)
    compiled = (include_optimizer and getattr(model, "compiled", False)
                and hasattr(optimizer, "get_config"))  # a plain torch optimizer has no config
    with atomic_write(filepath) as tmp:
        with h5py.File(tmp, "w") as f:
            _write_file(f, model, config, optimizer if compiled else None)
        seal(tmp)


def _write_file(f, model, config, optimizer):
    """Attributes, `model_weights` and (with an `optimizer`) `training_config` and
    `optimizer_weights`, into the open h5py File `f`."""
    import kerastorch
    from kerastorch.saving.keras_zip import KERAS_VERSION, _json_default
    f.attrs["backend"] = "torch"
    f.attrs["keras_version"] = KERAS_VERSION
    f.attrs["kerastorch_version"] = str(getattr(kerastorch, "__version__", ""))
    f.attrs["model_config"] = json.dumps(config, default=_json_default)
    if optimizer is not None:
        f.attrs["training_config"] = json.dumps(training_config(model), default=_json_default)
    group = f.create_group("model_weights")
    group.attrs["backend"] = "torch"
    group.attrs["keras_version"] = KERAS_VERSION
    _write_weights(group, model)
    if optimizer is not None:
        _write_optimizer(f, model, optimizer)


def _write_weights(group, model):
    from kerastorch.saving.h5_store import create_dataset
    layers = model.layers
    group.attrs["layer_names"] = np.array([layer.name.encode("utf8") for layer in layers])
    for layer in sorted(layers, key=lambda x: x.name):  # as Keras: no group name is a prefix
        layer_group = group.create_group(layer.name)
        views = _legacy_views(layer)
        names = [f"{layer.name}/{i}_{v.name.replace('/', '_')}" for i, v in enumerate(views)]
        layer_group.attrs["weight_names"] = np.array([n.encode("utf8") for n in names])
        for name, view in zip(names, views):
            create_dataset(layer_group, name, view.keras_value().cpu().numpy())


def _write_optimizer(f, model, optimizer):
    """`optimizer_weights`: Keras' optimizer variables (iterations, learning rate, slots)."""
    from kerastorch.saving.h5_store import (_trainable_views, create_dataset,
                                            optimizer_keras_values)
    values = optimizer_keras_values(model, optimizer)
    names = ["iteration", "learning_rate"][:2 if optimizer._schedule is None else 1]
    if optimizer.built:  # in `optimizer_keras_values`' order
        views = _trainable_views(model)
        names += [f"{i}_{view.name.replace('/', '_')}_{slot}"
                  for group in optimizer._all_slot_groups()
                  for i, view in enumerate(views) for slot in group]
    if len(names) != len(values):
        names = [str(i) for i in range(len(values))]
    names = [f"{optimizer.name}/{n}" for n in names]
    group = f.create_group("optimizer_weights")
    group.attrs["weight_names"] = np.array([n.encode("utf8") for n in names])
    for name, value in zip(names, values):
        create_dataset(group, name, value)
