"""Torch state-dict files (`.pt`/`.pth`): written atomically, read with `weights_only=True`,
each tensor's sha256 stored with it and checked on load.

A state dict's checksums live in its `_metadata` (the per-module dict torch pickles with every
state dict) under `CHECKSUM_KEY`: `{"tensors": {key: sha256 hex}, "metadata": sha256 hex of the
other `_metadata` entries}`, so the file stays a plain state dict that
`module.load_state_dict(torch.load(f))` reads (torch ignores metadata keys that name no module).
Files written without checksums (before they were added, or by torch itself) load unchecked; a
checksum entry found under a damaged name is refused rather than skipped.
"""

import collections
import hashlib
import os

import torch

from kerastorch.saving.file_safety import (SavedFileError, atomic_write, file_error,
                                           read_errors)

CHECKSUM_KEY = "kerastorch.sha256"  # the `_metadata` entry of a state dict's checksums


def atomic_save(obj, path) -> None:
    """`torch.save` to a temporary file in the same folder, then rename over `path`, so an
    interrupted save never leaves a half-written file where a good one was."""
    with atomic_write(path) as tmp:
        torch.save(obj, tmp)


# ---------------------------------------------------------------------- checksums
def _feed(digest, obj) -> None:
    """Hash `obj` (tensors and plain containers) with its types, shapes and order."""
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().resolve_conj().resolve_neg().contiguous().reshape(-1)
        digest.update(f"T{t.dtype}{tuple(obj.shape)}:".encode())
        digest.update(t.view(torch.uint8).numpy() if t.numel() else b"")
    elif isinstance(obj, dict):
        digest.update(f"D{len(obj)}:".encode())
        for key, value in obj.items():
            _feed(digest, key)
            _feed(digest, value)
    elif isinstance(obj, (list, tuple)):
        digest.update(f"{'L' if isinstance(obj, list) else 'U'}{len(obj)}:".encode())
        for value in obj:
            _feed(digest, value)
    elif isinstance(obj, (set, frozenset)):  # in an order that does not depend on hashing
        _feed(digest, sorted(repr(v) for v in obj))
    elif isinstance(obj, (str, bytes)):
        data = obj.encode("utf-8") if isinstance(obj, str) else obj
        digest.update(f"{type(obj).__name__}{len(data)}:".encode() + data)
    else:  # None, bool, int, float, torch.dtype, torch.Size ...
        digest.update(f"{type(obj).__name__}:{obj!r};".encode())


def sha256(obj) -> str:
    """Hex sha256 of a tensor or a nested structure of tensors and plain values."""
    digest = hashlib.sha256()
    _feed(digest, obj)
    return digest.hexdigest()


def state_checksums(state) -> dict:
    """{key: sha256 hex} of each tensor of a state dict."""
    return {key: sha256(value) for key, value in state.items()}


def check_state(state, expected, path) -> None:
    """Refuse `state` unless its keys and every tensor's sha256 match `expected` (from the
    file), naming the first tensor that differs."""
    if not isinstance(expected, dict) or not all(isinstance(v, str) for v in expected.values()):
        raise file_error(path, "its tensor checksums are unreadable (the file is corrupted)")
    if list(state) != list(expected):
        missing = [k for k in expected if k not in state]
        extra = [k for k in state if k not in expected]
        raise file_error(path, f"its state dict keys do not match their checksums (missing "
                               f"{missing[:5]}, unexpected {extra[:5]}; the file is corrupted)")
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise file_error(path, f"'{key}' holds a {type(value).__name__}, not a tensor (the "
                                   "file is corrupted)")
        if sha256(value) != expected[key]:
            raise file_error(path, f"tensor '{key}' does not match its sha256 checksum (the file "
                                   "is corrupted)")


def with_checksums(state):
    """A copy of state dict `state` whose `_metadata` also holds its checksums."""
    metadata = {k: v for k, v in (getattr(state, "_metadata", None) or {}).items()
                if k != CHECKSUM_KEY}
    state = collections.OrderedDict(state)  # a copy: attributes set again
    metadata[CHECKSUM_KEY] = {"tensors": state_checksums(state), "metadata": sha256(metadata)}
    state._metadata = metadata
    return state


def _looks_like_checksums(value) -> bool:
    return isinstance(value, dict) and isinstance(value.get("tensors"), dict)


def _stored_checksums(state, path):
    """(checksums, the other `_metadata` entries) of a state dict read from `path`, or
    (None, None) when it has none. An entry shaped like ours under another name (or in an
    attribute other than `_metadata`) means a damaged name: refused."""
    found = [(attr, key) for attr, meta in getattr(state, "__dict__", {}).items()
             if isinstance(meta, dict)
             for key, value in meta.items() if key == CHECKSUM_KEY or _looks_like_checksums(value)]
    if not found:
        return None, None
    if found != [("_metadata", CHECKSUM_KEY)]:
        raise file_error(path, f"its checksums are stored under a damaged name {found} (the "
                               "file is corrupted)")
    metadata = dict(state._metadata)
    return metadata.pop(CHECKSUM_KEY), metadata


def load_state_dict_file(path) -> dict:
    """Read a state dict without running code from the file (`weights_only=True`); checked
    against its checksums when it has them."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No weights file at '{path}'.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # pickle payloads, truncation, foreign formats
        raise file_error(path, "not readable as a torch state dict with weights_only=True "
                               "(truncated, corrupted, or a pickle that would run code)",
                         err) from err
    if not isinstance(state, dict):
        raise file_error(path, f"it holds a {type(state).__name__}, not a state dict")
    with read_errors(path, "its checksums could not be checked (the file is corrupted)"):
        checksums, metadata = _stored_checksums(state, path)
        if checksums is not None:
            check_state(state, checksums.get("tensors"), path)
            if sha256(metadata) != checksums.get("metadata"):
                raise file_error(path, "its state dict `_metadata` does not match its sha256 "
                                       "checksum (the file is corrupted)")
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise file_error(path, f"'{key}' holds a {type(value).__name__}, not a tensor")
    return state


def save_weights(model, path) -> None:
    atomic_save(with_checksums(model.state_dict()), path)


def load_weights(model, path) -> None:
    state = load_state_dict_file(path)
    own = model.state_dict()
    if set(own) != set(state):
        state = _match_by_order(own, state)
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected:
        hint = "" if own else " The model has no weights yet: build it (call it on data) first."
        raise SavedFileError(f"'{path}' does not fit model '{model.name}': missing keys "
                             f"{missing}, unexpected keys {unexpected}.{hint}")
    for key, value in state.items():
        if tuple(value.shape) != tuple(own[key].shape):
            raise SavedFileError(f"'{path}' does not fit model '{model.name}': '{key}' has "
                                 f"shape {tuple(value.shape)} in the file and "
                                 f"{tuple(own[key].shape)} in the model.")
    with read_errors(path, "its tensors do not fit the model"):
        model.load_state_dict(state)


def _match_by_order(own: dict, state: dict) -> dict:
    """Same architecture, other layer names (auto-numbering differs between models): pair keys
    in order when every tensor's in-layer name and shape agree; else return `state` as is."""
    def signature(d):
        return [(k.split(".", 1)[-1], tuple(v.shape)) for k, v in d.items()]
    if len(own) != len(state) or signature(own) != signature(state):
        return state
    return {mine: value for mine, value in zip(own, state.values())}
