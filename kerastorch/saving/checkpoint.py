"""Training checkpoints: model config + weights + optimizer state + epoch (+ torch RNG state),
in one torch file that loads with `weights_only=True`; resuming gives the same result as an
uninterrupted run.

```python
kerastorch.saving.save_checkpoint("ckpt.pt", model, epoch=3)
state = kerastorch.saving.load_checkpoint("ckpt.pt")  # or load_checkpoint(path, model=model)
model = state["model"]
model.fit(x, y, initial_epoch=state["epoch"] + 1, epochs=10)
```
"""

import os

import torch

from kerastorch.saving import torch_model

FORMAT = "kerastorch.checkpoint"


def save_checkpoint(filepath, model, epoch=None, **extra) -> None:
    """Write `model` (config, weights, optimizer state), `epoch` and `extra` values (plain data:
    numbers, strings, tensors, lists, dicts), atomically.

    Args:
        filepath: Destination (`.pt`/`.pth` by convention).
        model: A kerastorch model; its optimizer state is included when it has been built.
        epoch: The last completed epoch (0-based, as Keras callbacks count), or None.
        **extra: More plain values to store; returned by `load_checkpoint` under their names.
    """
    payload = torch_model.model_payload(model, include_optimizer=True)
    payload["format"] = FORMAT
    payload["epoch"] = epoch
    payload["rng_state"] = torch.get_rng_state()
    payload["extra"] = torch_model._cpu(dict(extra))
    torch_model.save_payload(payload, filepath)


def load_checkpoint(filepath, model=None, custom_objects=None, compile=True, safe_mode=True,
                    restore_rng_state=True) -> dict:
    """Read a checkpoint written by `save_checkpoint`.

    Args:
        filepath: The checkpoint file.
        model: An existing model of the same architecture to load into (its optimizer gets the
            saved state); None rebuilds the model from the stored config.
        custom_objects, compile, safe_mode: As in `load_model`.
        restore_rng_state: Restore torch's CPU random generator as it was when saved, so that
            shuffling and dropout continue as in an uninterrupted run.

    Returns:
        A dict: `model`, `epoch`, and the `extra` values saved with it.
    """
    path = os.fspath(filepath)
    payload = torch_model.read_payload(path, expected_format=FORMAT)
    if model is None:
        model = torch_model.model_from_payload(payload, path, custom_objects, compile, safe_mode)
    else:
        torch_model.load_state(model, payload, path, load_optimizer=True)
    rng = payload.get("rng_state")
    if restore_rng_state and isinstance(rng, torch.Tensor):
        torch.set_rng_state(rng)
    return {"model": model, "epoch": payload.get("epoch"), **(payload.get("extra") or {})}
