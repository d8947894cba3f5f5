"""Learning-rate callbacks: `ReduceLROnPlateau` and `LearningRateScheduler`.

Both read the rate as Keras does, from a float32 variable (`keras_learning_rate`), so the
thresholds (`min_lr`) and the values they log (`logs["learning_rate"]`) match Keras exactly.
"""

import warnings

import numpy as np

from kerastorch.callbacks.callback import Callback
from kerastorch.callbacks.monitor_callback import (MonitorCallback, keras_learning_rate,
                                                   print_msg)


def _optimizers(model):
    """`[(name, optimizer)]`: each inner optimizer of a multi-optimizer, else the one."""
    opt = model.optimizer
    if hasattr(opt, "optimizers"):
        return [(o.name, o) for o in opt.optimizers]
    return [("", opt)]


def _log_learning_rates(model, logs):
    opt = model.optimizer
    if hasattr(opt, "optimizers"):
        for o in opt.optimizers:
            logs[f"learning_rate_{o.name}"] = keras_learning_rate(o)
    else:
        logs["learning_rate"] = keras_learning_rate(opt)


class ReduceLROnPlateau(MonitorCallback):
    """Reduce the learning rate when a metric has stopped improving.

    After `patience` epochs without improvement (outside the `cooldown` that follows each
    reduction), `new_lr = max(lr * factor, min_lr)`. Adds `learning_rate` to the epoch logs.

    Args:
        monitor: Quantity to be monitored. Defaults to `"val_loss"`.
        factor: Factor by which the rate is reduced, `< 1`. Defaults to `0.1`.
        patience: Epochs with no improvement before a reduction. Defaults to `10`.
        verbose: 0 (quiet) or 1 (a message per reduction). Defaults to `0`.
        mode: `"auto"`, `"min"` or `"max"`; see `MonitorCallback`. Defaults to `"auto"`.
        min_delta: Threshold for a new optimum. Defaults to `1e-4`.
        cooldown: Epochs to wait after a reduction before counting again. Defaults to `0`.
        min_lr: Lower bound on the rate. Defaults to `0.0`.

    Example:
        >>> reduce_lr = ReduceLROnPlateau(monitor="val_loss", factor=0.2, patience=5,
        ...                               min_lr=0.001)
        >>> model.fit(x_train, y_train, callbacks=[reduce_lr])
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError("ReduceLROnPlateau does not support a factor >= 1.0. "
                             f"Received factor={factor}")
        self.factor, self.min_lr, self.cooldown = factor, min_lr, cooldown
        self.patience, self.verbose = patience, verbose
        self.cooldown_counter = self.wait = 0

    def _reset(self):
        self.best = None
        self.cooldown_counter = self.wait = 0

    def _reduce_optimizer_lr(self, optimizer, epoch, name=""):
        old_lr = keras_learning_rate(optimizer)
        if old_lr <= np.float32(self.min_lr):  # compared in float32, as Keras' variable is
            return False
        new_lr = max(old_lr * self.factor, self.min_lr)
        optimizer.learning_rate = new_lr
        if self.verbose > 0:
            which = f"reducing {name} learning rate" if name else "reducing learning rate"
            print_msg(f"\nEpoch {epoch + 1}: ReduceLROnPlateau {which} to {new_lr}.")
        return True

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()  # delayed until the model's metrics are built
        logs = logs if logs is not None else {}
        _log_learning_rates(self.model, logs)
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(f"Learning rate reduction is conditioned on metric `{self.monitor}` "
                          "which is not available. Available metrics are: "
                          f"{','.join(list(logs.keys()))}.", stacklevel=2)
            return
        if self.in_cooldown():  # epochs right after a reduction do not count towards the next
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(value, self.best):
            self.best, self.wait = value, 0
            return
        if self.in_cooldown():
            return
        self.wait += 1
        if self.wait < self.patience:
            return
        results = [self._reduce_optimizer_lr(opt, epoch, name)
                   for name, opt in _optimizers(self.model)]
        if any(results):
            self.cooldown_counter, self.wait = self.cooldown, 0

    def in_cooldown(self):
        return self.cooldown_counter > 0


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch to `schedule(epoch, lr)` (epochs count
    from 0; `lr` is the current rate). Adds `learning_rate` to the epoch logs.

    Args:
        schedule: Function `(epoch, lr) -> float` (a one-argument `schedule(epoch)` also works,
            as in Keras). Must return a Python or numpy float.
        verbose: 0 (quiet) or 1 (a message per epoch). Defaults to `0`.

    Example:
        >>> def scheduler(epoch, lr):
        ...     return lr if epoch < 10 else lr * math.exp(-0.1)
        >>> model.fit(x, y, epochs=15, callbacks=[LearningRateScheduler(scheduler)])
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def _update_optimizer_lr(self, optimizer, epoch):
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        current = keras_learning_rate(optimizer)
        try:
            rate = self.schedule(epoch, current)
        except TypeError:  # the one-argument form, kept by Keras for compatibility
            rate = self.schedule(epoch)
        if not isinstance(rate, (float, np.float32, np.float64)):
            raise ValueError(f"The output of the `schedule` function should be a float. Got: "
                             f"{rate}")
        optimizer.learning_rate = float(rate)
        return rate

    def on_epoch_begin(self, epoch, logs=None):
        for name, opt in _optimizers(self.model):
            learning_rate = self._update_optimizer_lr(opt, epoch)
            if self.verbose > 0:
                which = f"{name} learning rate" if name else "learning rate"
                print_msg(f"\nEpoch {epoch + 1}: LearningRateScheduler setting {which} to "
                          f"{learning_rate}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            _log_learning_rates(self.model, logs)
