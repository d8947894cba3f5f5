"""Legacy Keras 2 / tf.keras HDF5 files (`.h5`, `.hdf5`), read (and written) for kerastorch.

Full-model files hold the attribute `model_config` (JSON `{"class_name", "config"}`), optionally
`training_config` (compile arguments, `optimizer_config`), the group `model_weights` (attribute
`layer_names`; one group per layer with attribute `weight_names`, datasets in the layer's
`get_weights()` order) and `optimizer_weights`. Weight-only files hold the `model_weights`
content at the top level. Layers are matched in order among those with weights, as Keras does
(`keras/src/legacy/saving/legacy_h5_format.py`).
"""

import json
import os
import warnings

import numpy as np

from kerastorch.saving.file_safety import SavedFileError, atomic_write, file_error, require_file

# Keras namespaces whose objects appear inside layer configs without a `module` in Keras 2.
_NAMESPACES = ("initializers", "regularizers", "constraints", "activations", "optimizers",
               "losses", "metrics")


def _text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _names(group, attr):
    values = group.attrs.get(attr)
    if values is None:
        return []
    return [_text(v) for v in np.asarray(values).reshape(-1)] if np.size(values) else []


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
    import h5py
    path = require_file(path)
    try:
        return h5py.File(path, "r")
    except OSError as err:
        raise file_error(path, "not a readable HDF5 file (truncated or corrupted?)", err) from err


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A model from a legacy full-model `.h5` (Keras 2, tf.keras, or Keras 3's `save("m.h5")`)."""
    from kerastorch.saving.serialization import deserialize_keras_object
    path = os.fspath(filepath)
    with _open(path) as f:
        raw = f.attrs.get("model_config")
        if raw is None:
            raise file_error(path, "no model config found in the file (a weights-only .h5 "
                                   "loads with `model.load_weights`)")
        try:
            config = json.loads(_text(raw))
        except json.JSONDecodeError as err:
            raise file_error(path, "the model config is not valid JSON", err) from err
        model = deserialize_keras_object(_add_modules(config), custom_objects=custom_objects,
                                         safe_mode=safe_mode)
        if "model_weights" not in f:
            raise file_error(path, "the file has no 'model_weights' group")
        try:
            load_weights_from_group(f["model_weights"], model, path)
            training = f.attrs.get("training_config")
            if compile and training is not None:
                _compile(model, json.loads(_text(training)), f, path)
        except (OSError, KeyError, RuntimeError) as err:
            raise file_error(path, "the HDF5 data could not be read (truncated or corrupted?)",
                             err) from err
    return model


def _compile(model, training, f, path):
    from kerastorch.saving.serialization import deserialize_keras_object
    optimizer = training.get("optimizer_config")
    if isinstance(optimizer, dict) and "module" not in optimizer:
        optimizer = {**optimizer, "module": "keras.optimizers"}
    try:
        model.compile(optimizer=deserialize_keras_object(_add_modules(optimizer)),
                      loss=deserialize_keras_object(_add_modules(training.get("loss"))),
                      loss_weights=training.get("loss_weights"),
                      metrics=deserialize_keras_object(_add_modules(training.get("metrics"))),
                      weighted_metrics=deserialize_keras_object(
                          _add_modules(training.get("weighted_metrics"))))
    except Exception as err:  # the model loads; only its training setup is lost
        warnings.warn(f"compile() was not called as part of model loading ({err}). Call "
                      "`model.compile()` yourself.", stacklevel=3)
        return
    group = f.get("optimizer_weights")
    if group is not None:
        from kerastorch.saving.h5_store import load_optimizer_values
        values = [np.asarray(group[n][()]) for n in _names(group, "weight_names")]
        load_optimizer_values(model, model.optimizer, values)


def _layers_with_weights(model):
    return [layer for layer in model.layers if layer.weights]


def load_weights_from_group(group, model, path, skip_mismatch=False):
    """Keras' `load_weights_from_hdf5_group`: layers with weights, matched in order."""
    if "model_weights" in group and "layer_names" not in group.attrs:
        group = group["model_weights"]
    layer_names = [n for n in _names(group, "layer_names")
                   if n in group and _names(group[n], "weight_names")]
    layers = _layers_with_weights(model)
    if len(layer_names) != len(layers):
        raise SavedFileError(
            f"'{os.fspath(path)}': layer count mismatch when loading weights from file. Model "
            f"expected {len(layers)} layers with weights, found {len(layer_names)} saved layers "
            f"({layer_names}).")
    plan = []
    for name, layer in zip(layer_names, layers):
        layer_group = group[name]
        values = [np.asarray(layer_group[w][()]) for w in _names(layer_group, "weight_names")]
        expected = layer.get_weights()
        problem = None
        if len(values) != len(expected):
            problem = (f"Layer '{layer.name}' expected {len(expected)} weights, but the saved "
                       f"layer '{name}' has {len(values)} elements.")
        else:
            for i, (value, want) in enumerate(zip(values, expected)):
                if value.shape != want.shape:
                    problem = (f"Layer '{layer.name}' weight {i} has shape {want.shape}; the "
                               f"saved layer '{name}' has shape {value.shape}.")
                    break
        if problem and skip_mismatch:
            warnings.warn(f"Skipping loading weights for layer '{layer.name}': {problem}",
                          stacklevel=3)
            continue
        if problem:
            raise SavedFileError(f"'{os.fspath(path)}': {problem}")
        plan.append((layer, values))
    for layer, values in plan:
        layer.set_weights(values)


def save_model(model, filepath, include_optimizer=True) -> None:
    """Write the legacy full-model `.h5` (as Keras 3's `model.save("m.h5")` does)."""
    import h5py

    import kerastorch
    from kerastorch.saving.keras_zip import KERAS_VERSION, _json_default
    from kerastorch.saving.serialization import get_compile_config, serialize_keras_object
    config = serialize_keras_object(model)
    config = {"class_name": config["class_name"], "config": config["config"]}
    with atomic_write(filepath) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["backend"] = "torch"
        f.attrs["keras_version"] = KERAS_VERSION
        f.attrs["kerastorch_version"] = str(getattr(kerastorch, "__version__", ""))
        f.attrs["model_config"] = json.dumps(config, default=_json_default)
        _write_weights(f.create_group("model_weights"), model)
        optimizer = getattr(model, "optimizer", None)
        if include_optimizer and getattr(model, "compiled", False) and optimizer is not None:
            compile_config = serialize_keras_object(get_compile_config(model))
            training = {k: v for k, v in compile_config.items() if k != "optimizer"}
            training["optimizer_config"] = {"class_name": type(optimizer).__name__,
                                            "config": serialize_keras_object(
                                                optimizer.get_config())}
            f.attrs["training_config"] = json.dumps(training, default=_json_default)


def _write_weights(group, model):
    layers = model.layers
    group.attrs["layer_names"] = np.array([layer.name.encode("utf8") for layer in layers])
    for layer in layers:
        layer_group = group.create_group(layer.name)
        values = layer.get_weights()
        views = layer._all_weight_views()
        names = [f"{layer.name}/{i}_{v.name}" for i, v in enumerate(views)]
        layer_group.attrs["weight_names"] = np.array([n.encode("utf8") for n in names])
        for name, value in zip(names, values):
            layer_group.create_dataset(name, data=value)
