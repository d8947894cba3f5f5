"""`BackupAndRestore`: resume an interrupted `fit` where its last backup left it."""

import os
import random
import shutil

import numpy as np
import torch

from kerastorch.callbacks._files import BatchSaveCounter, atomic_write
from kerastorch.callbacks.callback import Callback

BACKUP_FILE = "latest.pt"


class BackupAndRestore(Callback):
    """Back up the training state to `backup_dir`, and restore it when `fit` starts again.

    One file, `backup_dir/latest.pt`, written atomically, holds everything a resumed run needs
    to continue as if never stopped: the model's state dict, the optimizer's state (its slots
    and `iterations`), the epoch to resume at, and the random number generators (torch CPU and
    CUDA, numpy, Python `random`), so the re-run epoch shuffles and draws dropout masks exactly
    as the uninterrupted run would. At `on_train_begin` a backup, if present, is loaded and
    `model._initial_epoch` is set; `fit` starts from that epoch. With `save_freq="epoch"` a run
    killed mid-epoch and resumed ends with the same weights as an uninterrupted one. A run
    with no backup yet backs up its starting state at once, so this holds in its first epoch too
    (Keras writes its first backup at the end of epoch 0).

    Args:
        backup_dir: Folder for the backup (created when needed). Use a different folder per
            training job.
        save_freq: `"epoch"` (back up at each epoch end) or an integer: back up after every
            that many batches as well. A mid-epoch backup resumes (as in Keras) by re-running
            that epoch from its start, with the weights of the backup and the random state of
            the epoch's start. Defaults to `"epoch"`.
        double_checkpoint: Keep the previous backup as `latest.pt.bkp`, used when the latest
            cannot be read. Defaults to `False`.
        delete_checkpoint: Delete `backup_dir` when training ends normally. Defaults to `True`.
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError("Invalid value for argument `save_freq`. Received: "
                             f"save_freq={save_freq}. Expected either 'epoch' or an integer "
                             "value.")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._backup_path = os.path.join(self.backup_dir, BACKUP_FILE)
        self._prev_backup_path = f"{self._backup_path}.bkp"
        self._save_counter = BatchSaveCounter()
        self._last_batch_seen = 0
        self._current_epoch = 0
        self._epoch_rng = None
        if save_freq != "epoch":
            # A batch hook only when backing up per batch: batch logs cost a sync per step.
            self.on_train_batch_end = self._on_train_batch_end

    # ------------------------------------------------------------------ restore
    def on_train_begin(self, logs=None):
        if not os.path.exists(self._backup_path):
            # Nothing to resume: back up the starting state, so that a run killed during its
            # first epoch also resumes exactly (epoch 0 leaves `fit`'s `initial_epoch` as is).
            self._current_epoch = 0
            self._save(rng=_get_rng_state())
            return
        try:
            state = _read(self._backup_path)
        except Exception:  # unreadable (truncated, corrupted): try the previous backup
            if not os.path.exists(self._prev_backup_path):
                raise
            state = _read(self._prev_backup_path)
        self._restore(state)

    def _restore(self, state):
        model = self.model
        if not getattr(model, "built", True) or not list(model.state_dict()):
            raise ValueError("To use the BackupAndRestore callback, your model must be built "
                             f"before you call `fit()`. Model {model} is unbuilt. You can build "
                             "it beforehand by calling it on a batch of data.")
        model.load_state_dict(state["model"])
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None and state.get("optimizer") is not None:
            if not getattr(optimizer, "built", True):
                optimizer.build(list(model.parameters()))
            optimizer.load_state_dict(state["optimizer"])
        _set_rng_state(state["rng"])
        model._initial_epoch = int(state["epoch"])
        self._current_epoch = int(state["epoch"])

    # ------------------------------------------------------------------ backup
    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch
        if self.save_freq != "epoch":
            self._epoch_rng = _get_rng_state()  # what a mid-epoch backup resumes with

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save(rng=_get_rng_state())

    def _on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save(rng=self._epoch_rng or _get_rng_state(), batch=batch)

    def _should_save_on_batch(self, batch):
        self._last_batch_seen = batch
        return self._save_counter.due(batch, self.save_freq)

    def _save(self, rng, batch=None):
        model = self.model
        optimizer = getattr(model, "optimizer", None)
        state = {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict() if optimizer is not None
            and getattr(optimizer, "built", True) else None,
            "epoch": self._current_epoch,
            "batch": self._last_batch_seen if batch is None else batch,
            "rng": rng,
        }
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._backup_path):
            shutil.copyfile(self._backup_path, self._prev_backup_path)
        atomic_write(self._backup_path, lambda tmp: torch.save(state, tmp))

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)


def _read(path):
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise ValueError(f"Could not read the backup '{path}': {err}") from err
    if not isinstance(state, dict) or not {"model", "epoch", "rng"} <= set(state):
        raise ValueError(f"'{path}' is not a BackupAndRestore backup.")
    return state


def _get_rng_state() -> dict:
    """All generators a training step may draw from, in `weights_only`-loadable types."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    py_version, py_internal, py_gauss = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else [],
        "numpy": (kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss),
                  float(gauss)),
        "python": (py_version, list(py_internal), py_gauss),
    }


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"][:torch.cuda.device_count()])
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
