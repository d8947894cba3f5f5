"""Torch state-dict files (`.pt`/`.pth`): written atomically, read with `weights_only=True`."""

import os

import torch

from kerastorch.saving.file_safety import atomic_write, file_error


def atomic_save(obj, path) -> None:
    """`torch.save` to a temporary file in the same folder, then rename over `path`, so an
    interrupted save never leaves a half-written file where a good one was."""
    with atomic_write(path) as tmp:
        torch.save(obj, tmp)


def load_state_dict_file(path) -> dict:
    """Read a state dict without running code from the file (`weights_only=True`)."""
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
        raise ValueError(f"'{path}' holds a {type(state).__name__}, not a state dict.")
    return state


def save_weights(model, path) -> None:
    atomic_save(model.state_dict(), path)


def load_weights(model, path) -> None:
    state = load_state_dict_file(path)
    own = model.state_dict()
    if set(own) != set(state):
        state = _match_by_order(own, state)
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected:
        hint = "" if own else " The model has no weights yet: build it (call it on data) first."
        raise ValueError(f"'{path}' does not fit model '{model.name}': missing keys {missing}, "
                         f"unexpected keys {unexpected}.{hint}")
    for key, value in state.items():
        if tuple(value.shape) != tuple(own[key].shape):
            raise ValueError(f"'{path}' does not fit model '{model.name}': '{key}' has shape "
                             f"{tuple(value.shape)} in the file and {tuple(own[key].shape)} in "
                             "the model.")
    model.load_state_dict(state)


def _match_by_order(own: dict, state: dict) -> dict:
    """Same architecture, other layer names (auto-numbering differs between models): pair keys
    in order when every tensor's in-layer name and shape agree; else return `state` as is."""
    def signature(d):
        return [(k.split(".", 1)[-1], tuple(v.shape)) for k, v in d.items()]
    if len(own) != len(state) or signature(own) != signature(state):
        return state
    return {mine: value for mine, value in zip(own, state.values())}
