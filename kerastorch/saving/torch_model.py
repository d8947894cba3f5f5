"""kerastorch's own full-model torch file (`model.save("m.pt")`, `load_model("m.pt")`).

One `torch.save` dict of plain data, so it loads with `torch.load(weights_only=True)` (no code
from the file ever runs): `format`, `version`, `config` (the model's Keras config as a JSON
string, compile config included), `metadata` (JSON string), `state_dict` (the torch state dict,
keys of the equivalent torch modules), when asked `optimizer` (the optimizer's torch state
dict, Keras iteration count included) and, since version 2, `checksums`: the sha256 of each
state-dict tensor (`state_dict`, by key) and of every other entry (`entries`, by name), checked
on load, so a damaged file is refused naming the tensor or entry. Version 1 files (no
checksums) load unchecked.
"""

import json
import os

import torch

from kerastorch.saving.file_safety import (SavedFileError, atomic_write, config_errors,
                                           file_error, read_errors, require_file)

FORMAT = "kerastorch.model"
VERSION = 2  # 2: `checksums`
_CORRUPTED = "(the file is corrupted)"


def model_payload(model, include_optimizer=True) -> dict:
    from kerastorch.saving.keras_zip import metadata_json, model_config_json
    payload = {"format": FORMAT, "version": VERSION, "config": model_config_json(model),
               "metadata": metadata_json(),
               "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}
    optimizer = getattr(model, "optimizer", None)
    if include_optimizer and optimizer is not None and getattr(optimizer, "built", False):
        payload["optimizer"] = _cpu(optimizer.state_dict())
    return payload


def _cpu(obj):
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_cpu(v) for v in obj)
    return obj


def payload_checksums(payload) -> dict:
    """`checksums` of a payload: each state-dict tensor's sha256, and every other entry's."""
    from kerastorch.saving.torch_format import sha256, state_checksums
    return {"state_dict": state_checksums(payload.get("state_dict") or {}),
            "entries": {name: sha256(value) for name, value in payload.items()
                        if name not in ("state_dict", "checksums")}}


def check_payload(payload, path) -> None:
    """Refuse a payload whose tensors or entries do not match its `checksums` (a version 2+
    file without them is damaged too); version 1 files carry none."""
    from kerastorch.saving.torch_format import check_state, sha256
    checksums = payload.get("checksums")
    if checksums is None:
        version = payload.get("version")
        if isinstance(version, int) and version >= 2:
            raise file_error(path, f"version {version} files carry checksums, and this one has "
                                   f"none {_CORRUPTED}")
        return
    if not isinstance(checksums, dict) or not isinstance(checksums.get("entries"), dict):
        raise file_error(path, f"its checksums are unreadable {_CORRUPTED}")
    state = payload.get("state_dict")
    if not isinstance(state, dict):
        raise file_error(path, f"it holds no 'state_dict' {_CORRUPTED}")
    check_state(state, checksums.get("state_dict"), path)
    entries = {n: v for n, v in payload.items() if n not in ("state_dict", "checksums")}
    expected = checksums["entries"]
    if sorted(entries, key=str) != sorted(expected, key=str):
        raise file_error(path, f"its entries {sorted(entries, key=str)} do not match their "
                               f"checksums {sorted(expected, key=str)} {_CORRUPTED}")
    for name, value in entries.items():
        if sha256(value) != expected[name]:
            raise file_error(path, f"entry '{name}' does not match its sha256 checksum "
                                   f"{_CORRUPTED}")


def save_payload(payload, filepath) -> None:
    """`torch.save` the payload with its `checksums`, atomically."""
    payload = {**payload, "checksums": payload_checksums(payload)}
    with atomic_write(filepath) as tmp:
        torch.save(payload, tmp)


def read_payload(filepath, expected_format=FORMAT) -> dict:
    """`torch.load(weights_only=True)`, with errors that name the file and the problem."""
    path = require_file(filepath)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        text = str(err)
        if "weights_only" in text or "Unsupported global" in text or "GLOBAL" in text:
            raise file_error(path, "refused: the file holds Python objects other than tensors "
                                   "and plain containers, and loading them could run code from "
                                   "the file (torch.load(weights_only=True) rejected it)",
                             err) from err
        raise file_error(path, "not a readable torch file (truncated or corrupted?)",
                         err) from err
    if isinstance(payload, dict):
        with read_errors(path, f"its checksums could not be checked {_CORRUPTED}"):
            check_payload(payload, path)
    if not isinstance(payload, dict) or payload.get("format") != expected_format:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise file_error(path, f"expected a '{expected_format}' file (written by "
                               f"kerastorch); found {found!r}. A plain state dict loads with "
                               "`model.load_weights`.")
    return payload


def model_from_payload(payload, path, custom_objects=None, compile=True, safe_mode=True):
    from kerastorch.saving.serialization import deserialize_keras_object
    try:
        config = json.loads(payload["config"])
    except (KeyError, TypeError, ValueError) as err:  # JSONDecodeError, UnicodeDecodeError
        raise file_error(path, "the model config is missing or not valid JSON", err) from err
    if not isinstance(config, dict):
        raise file_error(path, f"the model config is a {type(config).__name__}, not a dict")
    if not compile:
        config.pop("compile_config", None)
    with config_errors(path):
        model = deserialize_keras_object(config, custom_objects=custom_objects,
                                         safe_mode=safe_mode)
    load_state(model, payload, path, load_optimizer=compile)
    return model


def load_state(model, payload, path, load_optimizer=True) -> None:
    """The payload's state dict (checked: keys and shapes) and optimizer state into `model`."""
    state = payload.get("state_dict")
    if not isinstance(state, dict):
        raise file_error(path, "it holds no 'state_dict'")
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise file_error(path, f"state dict entry '{key}' holds a {type(value).__name__}, "
                                   "not a tensor")
    own = model.state_dict()
    if set(own) != set(state):  # same architecture, other auto-numbered layer names
        from kerastorch.saving.torch_format import _match_by_order
        state = _match_by_order(own, state)
    missing, unexpected = sorted(set(own) - set(state)), sorted(set(state) - set(own))
    if missing or unexpected:
        raise SavedFileError(f"'{os.fspath(path)}' does not fit model '{model.name}': missing "
                             f"keys {missing}, unexpected keys {unexpected}.")
    for key, value in state.items():
        if tuple(value.shape) != tuple(own[key].shape):
            raise SavedFileError(f"'{os.fspath(path)}' does not fit model '{model.name}': "
                                 f"'{key}' has shape {tuple(value.shape)} in the file and "
                                 f"{tuple(own[key].shape)} in the model.")
    with read_errors(path, "its tensors do not fit the model"):
        model.load_state_dict(state)
    optimizer = getattr(model, "optimizer", None)
    if load_optimizer and "optimizer" in payload and optimizer is not None:
        if not optimizer.built:
            optimizer.build(list(model.parameters()))
        try:
            optimizer.load_state_dict(payload["optimizer"])
        except (ValueError, LookupError, RuntimeError, TypeError, AttributeError) as err:
            raise file_error(path, "the optimizer state does not fit the model's optimizer",
                             err) from err


def save_model(model, filepath, include_optimizer=True) -> None:
    save_payload(model_payload(model, include_optimizer), filepath)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    payload = read_payload(filepath)
    return model_from_payload(payload, os.fspath(filepath), custom_objects, compile, safe_mode)
