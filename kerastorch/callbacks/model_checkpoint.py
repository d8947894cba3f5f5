"""`ModelCheckpoint`: save the model or its weights during `fit`, as Keras 3 names the files."""

import os
import warnings

import numpy as np
import torch

from kerastorch.callbacks._files import BatchSaveCounter, atomic_write
from kerastorch.callbacks.monitor_callback import MonitorCallback, print_msg

WEIGHTS_SUFFIXES = (".weights.h5", ".pt", ".pth")
MODEL_SUFFIXES = (".keras", ".h5")


class ModelCheckpoint(MonitorCallback):
    """Save the model (`model.save`) or its weights (`model.save_weights`) at some frequency.

    `filepath` may hold `str.format` fields filled from the epoch (1-based, as Keras) and the
    logs: `"ckpt-{epoch:02d}-{val_loss:.2f}.weights.h5"`; with `save_freq=N`, `{batch}` is the
    1-based batch too. Each file is written to a temporary name in the same folder and renamed
    over the target, so a crash mid-save never damages an existing checkpoint.

    Args:
        filepath: Path (str or `PathLike`). With `save_weights_only=True` it must end in
            `.weights.h5` (Keras' weights file) or `.pt`/`.pth` (a torch state dict);
            otherwise in `.keras` (or legacy `.h5`).
        monitor: Metric name for `save_best_only`. Defaults to `"val_loss"`.
        verbose: 0 (silent) or 1 (a message per save). Defaults to `0`.
        save_best_only: Save only when the monitored value improves on the best seen (with a
            fixed `filepath` the file then always holds the best model). Defaults to `False`.
        save_weights_only: Save only the weights. Defaults to `False`.
        mode: `"auto"`, `"min"` or `"max"`; see `MonitorCallback`. Defaults to `"auto"`.
        save_freq: `"epoch"` (the end of each epoch) or an integer: save after every that many
            batches (counted across epochs). Defaults to `"epoch"`.
        initial_value_threshold: Initial best value for `save_best_only`. Defaults to `None`.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__(monitor, mode, initial_value_threshold)
        self.verbose = verbose
        self.filepath = os.fspath(filepath)
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self._save_counter = BatchSaveCounter()
        self._current_epoch = 0
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError(f"Unrecognized save_freq: {save_freq}. Expected save_freq are "
                             "'epoch' or integer values")
        if save_weights_only:
            if not self.filepath.endswith(WEIGHTS_SUFFIXES):
                raise ValueError("When using `save_weights_only=True` in `ModelCheckpoint`, the "
                                 "filepath provided must end in `.weights.h5` (Keras weights "
                                 "format) or `.pt`/`.pth` (a torch state dict). Received: "
                                 f"filepath={self.filepath}")
        elif not self.filepath.endswith(MODEL_SUFFIXES):
            raise ValueError("The filepath provided must end in `.keras` (Keras model format). "
                             f"Received: filepath={self.filepath}")
        if save_freq != "epoch":
            # A batch hook only when saving per batch: the trainer then reads batch logs
            # (a host sync per step), which "epoch" saving does not need.
            self.on_train_batch_end = self._on_train_batch_end

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def _on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model(epoch=self._current_epoch, batch=batch, logs=logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        if self.save_freq != "epoch":
            return
        self._save_model(epoch=epoch, batch=None, logs=logs)

    def _should_save_on_batch(self, batch):
        return self.save_freq != "epoch" and self._save_counter.due(batch, self.save_freq)

    def _should_save_model(self, epoch, batch, logs, filepath):
        logs = logs or {}
        if not self.save_best_only:
            if self.verbose > 0:
                print_msg(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.",
                          stacklevel=2)
            return True
        if isinstance(current, (np.ndarray, torch.Tensor)) and len(current.shape) > 0:
            warnings.warn("Can save best model only when `monitor` is a scalar value. "
                          f"Received: {current}. Falling back to `save_best_only=False`.",
                          stacklevel=2)
            return True
        best_str = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                print_msg(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best_str} to "
                          f"{current:.5f}, saving model to {filepath}")
            self.best = current
            return True
        if self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best_str}")
        return False

    def _save_model(self, epoch, batch, logs):
        logs = logs or {}
        filepath = self._get_file_path(epoch, batch, logs)
        if not self._should_save_model(epoch, batch, logs, filepath):
            return
        if self.save_weights_only:
            atomic_write(filepath, lambda tmp: self.model.save_weights(tmp, overwrite=True))
        else:
            save = getattr(self.model, "save", None)
            if save is None:
                raise NotImplementedError(
                    f"ModelCheckpoint: model '{getattr(self.model, 'name', self.model)}' has no "
                    "`save` method for full-model files; pass `save_weights_only=True` with a "
                    f"'.weights.h5' or '.pt' filepath. Received: filepath={self.filepath}")
            atomic_write(filepath, lambda tmp: save(tmp, overwrite=True))
        if self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")

    def _get_file_path(self, epoch, batch, logs):
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as e:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". '
                           f"Reason: {e}") from None
