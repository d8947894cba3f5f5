"""`save_model`, `load_model`, `save_weights`, `load_weights`: dispatch by file name.

| suffix | `save_model` / `load_model` | `save_weights` / `load_weights` |
|---|---|---|
| `.keras` | Keras 3 zip (`keras_zip`) | - / the weights inside the archive |
| `.weights.h5` | - | Keras 3 weights layout (`h5_store`) |
| `.h5`, `.hdf5` | legacy Keras 2 full model (`legacy_h5`) | - / legacy weights (by layer order) |
| `.pt`, `.pth` | kerastorch config + state dict (`torch_model`) | torch state dict |

Every writer replaces the file atomically; every reader refuses code-running content unless
`safe_mode=False` (configs) and reads torch files with `weights_only=True` (always).
"""

import os

from kerastorch.saving import file_safety

_TORCH = (".pt", ".pth")
_LEGACY = (".h5", ".hdf5")


def save_model(model, filepath, overwrite=True, zipped=None, include_optimizer=True, **kwargs):
    """Save `model`: `.keras` (Keras 3's format), `.h5` (legacy), `.pt`/`.pth` (kerastorch's
    torch file with config, state dict and optimizer state).

    Args:
        model: The model.
        filepath: Destination; the suffix picks the format.
        overwrite: Whether to replace an existing file.
        zipped: Keras' argument; only `None`/`True` (a zipped `.keras`) are supported.
        include_optimizer: Whether the optimizer's state is written (`.keras` always writes it,
            as Keras 3 does, unless this is False).
    """
    path = os.fspath(filepath)
    file_safety.check_overwrite(path, overwrite)
    if zipped is False:
        raise ValueError("kerastorch writes only zipped `.keras` archives. Received: "
                         "zipped=False")
    if kwargs:
        raise ValueError(f"The following argument(s) are not supported: {list(kwargs)}")
    if path.endswith(".keras"):
        from kerastorch.saving import keras_zip
        keras_zip.save_model(model, path, include_optimizer=include_optimizer)
    elif path.endswith(_LEGACY):
        from kerastorch.saving import legacy_h5
        legacy_h5.save_model(model, path, include_optimizer=include_optimizer)
    elif path.endswith(_TORCH):
        from kerastorch.saving import torch_model
        torch_model.save_model(model, path, include_optimizer=include_optimizer)
    else:
        raise ValueError("Invalid filepath extension for saving. Please add either a `.keras` "
                         "extension for the native Keras format (recommended), a `.h5` "
                         "extension for the legacy format, or `.pt`/`.pth` for a torch file. "
                         f"Received: filepath={path}")


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Load a model saved as `.keras` (Keras 3 or kerastorch), legacy `.h5`/`.hdf5` (Keras 2,
    tf.keras, Keras 3) or `.pt`/`.pth` (kerastorch).

    Args:
        filepath: The file.
        custom_objects: Dict of name -> class/function for custom objects in the config.
        compile: Whether to compile the model as it was saved (and restore optimizer state).
        safe_mode: Refuse configs that would run code (Lambda bytecode); `False` only for files
            you trust. Torch files are read with `weights_only=True` regardless.
    """
    path = file_safety.require_file(filepath)
    kind = _kind(path)
    if kind == "keras":
        from kerastorch.saving import keras_zip
        return keras_zip.load_model(path, custom_objects, compile, safe_mode)
    if kind == "legacy":
        from kerastorch.saving import legacy_h5
        return legacy_h5.load_model(path, custom_objects, compile, safe_mode)
    if kind == "torch":
        from kerastorch.saving import torch_model
        return torch_model.load_model(path, custom_objects, compile, safe_mode)
    raise ValueError(f"File format not supported: filepath={path}. kerastorch reads `.keras`, "
                     "legacy `.h5`/`.hdf5` and `.pt`/`.pth` files.")


def _kind(path) -> str:
    if path.endswith(".keras"):
        return "keras"
    if path.endswith(_LEGACY):
        return "legacy"
    if path.endswith(_TORCH):
        return "torch"
    magic = file_safety.sniff(path)
    if magic == "hdf5":
        return "legacy"
    if magic == "zip":  # a .keras archive or a torch zip file
        import zipfile
        try:
            with zipfile.ZipFile(path) as zf:
                return "keras" if "config.json" in zf.namelist() else "torch"
        except file_safety.LOW_LEVEL_ERRORS:  # a damaged zip
            return "unknown"
    return "unknown"


def save_weights(model, filepath, overwrite=True, **kwargs):
    """`.weights.h5` (Keras 3's layout) or `.pt`/`.pth` (the torch state dict)."""
    path = os.fspath(filepath)
    file_safety.check_overwrite(path, overwrite)
    if kwargs.get("max_shard_size") is not None:
        raise ValueError("Sharded weights (`max_shard_size`) are not supported by kerastorch.")
    if path.endswith(".weights.h5"):
        from kerastorch.saving import h5_store
        h5_store.save_weights(model, path)
    elif path.endswith(_TORCH):
        from kerastorch.saving import torch_format
        torch_format.save_weights(model, path)
    else:
        raise ValueError("The filename must end in `.weights.h5` (Keras' format) or `.pt`/`.pth` "
                         f"(a torch state dict). Received: filepath={path}")


def load_weights(model, filepath, skip_mismatch=False, **kwargs):
    """Weights from `.weights.h5`, `.keras`, legacy `.h5`/`.hdf5` or a `.pt`/`.pth` state dict.

    `skip_mismatch=True` skips (with a warning) layers whose saved weights do not fit, as in
    Keras; otherwise nothing changes and the error names the layer and variable.
    """
    path = file_safety.require_file(filepath)
    if path.endswith(".keras"):
        from kerastorch.saving import keras_zip
        keras_zip.load_weights(model, path, skip_mismatch)
    elif path.endswith(_LEGACY):
        from kerastorch.saving import h5_store
        h5_store.load_weights(model, path, skip_mismatch)  # Keras 3 or legacy layout
    elif path.endswith(_TORCH):
        from kerastorch.saving import torch_format
        torch_format.load_weights(model, path)
    else:
        raise ValueError("File format not supported: load_weights reads `.weights.h5`, "
                         f"`.keras`, legacy `.h5` and `.pt`/`.pth` files. Received: "
                         f"filepath={path}")
