"""Keras 3's `.keras` format: a zip with `metadata.json`, `config.json` and `model.weights.h5`.

`config.json` is `serialize_keras_object(model)` (module, class_name, config, registered_name,
build_config, compile_config); `metadata.json` holds `keras_version` and `date_saved`;
`model.weights.h5` is the layout of `h5_store` (fletcher32-checksummed datasets); `assets/`
holds what layers' `save_assets` wrote, one folder per layer path. Files written
here open in Keras 3 (`keras.saving.load_model`), and Keras 3's files open here.

Damage is found by the zip's CRC-32 of each member (checked as a member is read: `config.json`,
`metadata.json` and `model.weights.h5` are read whole) and by HDF5's checksums; whatever a
damaged archive raises on the way (zipfile, zlib, json, unicode, h5py, or a config that parses
but does not build) becomes a `SavedFileError` naming the file.
"""

import datetime
import io
import json
import os
import posixpath
import tempfile
import zipfile

from kerastorch.saving.file_safety import (LOW_LEVEL_ERRORS, SavedFileError, atomic_write,
                                           check_zip_members, config_errors, file_error,
                                           read_errors, require_file)

CONFIG_FILENAME = "config.json"
METADATA_FILENAME = "metadata.json"
WEIGHTS_FILENAME = "model.weights.h5"
ASSETS_DIRNAME = "assets"  # `assets/<layer path>/...`: files of layers' `save_assets`
KERAS_VERSION = "3.15.1"  # the Keras release whose format is written
# Refuse members that declare far more bytes than they store (decompression bombs), as Keras.
_BOMB_FLOOR = 1 << 32
_MAX_EXPANSION = 100


def _json_default(obj):
    import numpy as np
    if isinstance(obj, (np.generic, np.ndarray)):
        return obj.tolist()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable: {obj!r}")


def model_config_json(model) -> str:
    from kerastorch.saving.serialization import serialize_keras_object
    return json.dumps(serialize_keras_object(model), default=_json_default)


def metadata_json() -> str:
    import kerastorch
    return json.dumps({"keras_version": KERAS_VERSION,
                       "kerastorch_version": getattr(kerastorch, "__version__", None),
                       "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")})


def save_model(model, filepath, include_optimizer=True) -> None:
    """Write `model` as a `.keras` archive (atomically: the old file survives a crash)."""
    import h5py

    from kerastorch.saving import h5_store
    config = model_config_json(model)
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        h5_store.write_model(f, model, include_optimizer=include_optimizer)
    with atomic_write(filepath) as tmp:
        with zipfile.ZipFile(tmp, "w") as zf:
            zf.writestr(METADATA_FILENAME, metadata_json())
            zf.writestr(CONFIG_FILENAME, config)
            zf.writestr(WEIGHTS_FILENAME, buffer.getvalue())
            _save_assets(zf, model)


def _save_assets(zf, model) -> None:
    """Files written by layers' `save_assets(dir)` go under `assets/<layer path>/` (Keras)."""
    from kerastorch.saving import h5_store
    for entry in h5_store.layer_entries(model):
        if not h5_store.overrides(entry.layer, "save_assets"):
            continue
        with tempfile.TemporaryDirectory() as folder:
            entry.layer.save_assets(folder)
            for root, _, files in os.walk(folder):
                for name in sorted(files):
                    full = os.path.join(root, name)
                    inner = os.path.relpath(full, folder).replace(os.sep, "/")
                    zf.write(full, posixpath.join(ASSETS_DIRNAME, entry.path, inner))


def _load_assets(zf, path, model) -> None:
    """Each layer with its own `load_assets` gets a folder of what it saved (when present)."""
    from kerastorch.saving import h5_store
    names = zf.namelist()
    for entry in h5_store.layer_entries(model):
        if not h5_store.overrides(entry.layer, "load_assets"):
            continue
        prefix = posixpath.join(ASSETS_DIRNAME, entry.path) + "/"
        members = [n for n in names if n.startswith(prefix) and not n.endswith("/")]
        if not members:
            continue
        with tempfile.TemporaryDirectory() as folder:
            for name in members:  # member paths were checked by `check_zip_members`
                target = os.path.join(folder, *name[len(prefix):].split("/"))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as f:
                    f.write(_read_member(zf, path, name))
            entry.layer.load_assets(folder)


def _open(path) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(path, "r")
    except LOW_LEVEL_ERRORS as err:
        raise file_error(path, "not a valid .keras archive (expected a zip file; truncated or "
                               "corrupted?)", err) from err
    try:
        check_zip_members(zf, path)
    except SavedFileError:
        zf.close()
        raise
    return zf


def _read_member(zf, path, name) -> bytes:
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise file_error(path, f"the archive has no '{name}' (is it a .keras file?)") from None
    if info.file_size > _BOMB_FLOOR and info.file_size > _MAX_EXPANSION * info.compress_size:
        raise file_error(path, f"archive member '{name}' declares {info.file_size} bytes but "
                               f"stores {info.compress_size}; refusing a potential "
                               "decompression bomb.")
    try:  # zipfile checks the member's CRC-32 once it is read whole
        return zf.read(name)
    except LOW_LEVEL_ERRORS as err:  # BadZipFile (CRC), zlib.error, NotImplementedError ...
        raise file_error(path, f"archive member '{name}' could not be read (truncated or "
                               "corrupted?)", err) from err


def _read_json(zf, path, name):
    raw = _read_member(zf, path, name)
    try:
        return json.loads(raw.decode("utf-8"))
    except ValueError as err:  # UnicodeDecodeError, JSONDecodeError
        raise file_error(path, f"'{name}' is not valid JSON", err) from err


def read_config(zf, path) -> dict:
    config = _read_json(zf, path, CONFIG_FILENAME)
    if not isinstance(config, dict) or "class_name" not in config:
        raise file_error(path, f"'{CONFIG_FILENAME}' does not describe a Keras object")
    return config


def check_metadata(zf, path) -> None:
    """`metadata.json`, when the archive has one, must be read whole (its CRC-32 checked) and
    be a JSON object."""
    if METADATA_FILENAME in zf.namelist() and not isinstance(
            _read_json(zf, path, METADATA_FILENAME), dict):
        raise file_error(path, f"'{METADATA_FILENAME}' is not a JSON object")


def _weights(zf, path, model, skip_mismatch=False, load_optimizer=True) -> None:
    import h5py

    from kerastorch.saving import h5_store
    names = zf.namelist()
    if WEIGHTS_FILENAME not in names:
        if "model.weights.npz" in names:
            raise file_error(path, "weights stored as 'model.weights.npz' are not supported; "
                                   "save with weights_format='h5'")
        raise file_error(path, f"the archive has no '{WEIGHTS_FILENAME}'")
    data = _read_member(zf, path, WEIGHTS_FILENAME)
    try:
        f = h5py.File(io.BytesIO(data), "r")
    except LOW_LEVEL_ERRORS as err:
        raise file_error(path, f"'{WEIGHTS_FILENAME}' is not a readable HDF5 file", err) from err
    with read_errors(path, f"'{WEIGHTS_FILENAME}' could not be read"), f:
        h5_store.read_model(f, model, f"'{os.fspath(path)}'", skip_mismatch,
                            load_optimizer=load_optimizer)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A model from a `.keras` archive written by Keras 3 or kerastorch.

    Args:
        filepath: Path of the `.keras` file.
        custom_objects: Dict of name -> class/function for custom objects in the config.
        compile: Whether to compile the model from its `compile_config` (and restore the
            optimizer's variables) when the file has one.
        safe_mode: Refuse configs that would run code (Lambda layers holding Python bytecode).
    """
    from kerastorch.saving.serialization import deserialize_keras_object
    path = require_file(filepath)
    with _open(path) as zf:
        check_metadata(zf, path)
        config = read_config(zf, path)
        if not compile:
            config.pop("compile_config", None)
        with config_errors(path):
            model = deserialize_keras_object(config, custom_objects=custom_objects,
                                             safe_mode=safe_mode)
        _weights(zf, path, model, load_optimizer=compile)
        _load_assets(zf, path, model)
    return model


def load_weights(model, filepath, skip_mismatch=False) -> None:
    """The weights of a `.keras` archive into an existing, built `model`."""
    path = require_file(filepath)
    with _open(path) as zf:
        check_metadata(zf, path)
        _weights(zf, path, model, skip_mismatch)
        _load_assets(zf, path, model)
