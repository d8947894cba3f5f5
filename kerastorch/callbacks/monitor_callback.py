"""`MonitorCallback`: the shared "is this value an improvement?" logic of EarlyStopping,
ModelCheckpoint and ReduceLROnPlateau (Keras 3's `keras.src.callbacks.MonitorCallback`)."""

import operator
import warnings

import numpy as np

from kerastorch.callbacks.callback import Callback


def print_msg(message):
    """Keras' `io_utils.print_msg`: callback messages go to stdout, flushed."""
    print(message, flush=True)


def keras_learning_rate(optimizer) -> float:
    """The optimizer's learning rate as Keras reports it: its float32 variable, as a Python
    float (so thresholds such as `min_lr` compare exactly as in Keras)."""
    return float(np.float32(optimizer.learning_rate))


class MonitorCallback(Callback):
    """Base class of callbacks that watch `logs[monitor]` for improvements.

    Args:
        monitor: Quantity to be monitored. Defaults to `"val_loss"`.
        mode: One of `{"auto", "min", "max"}`. With `"auto"` the direction comes from the name:
            `loss`/`val_loss` is minimised, a compiled metric follows its direction (accuracy
            up, a loss-like metric down); other names raise `ValueError`. An unknown mode warns
            and falls back to `"auto"`.
        baseline: Initial "best" value; `None` means the first value seen.
        min_delta: Minimum absolute change that counts as an improvement. Defaults to `0`.

    Improvement (Keras' rule): `current - min_delta < best` in min mode,
    `current + min_delta > best` in max mode; anything beats a `best` of `None`.
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto "
                          "mode.", stacklevel=2)
            mode = "auto"
        self.monitor, self.mode, self.best = monitor, mode, baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _set_monitor_op(self):
        op = {"min": operator.lt, "max": operator.gt}.get(self.mode)
        self.monitor_op = op = op or self._direction_of_monitor()
        if op is operator.lt:  # min_delta is applied as `value - min_delta` below
            self.min_delta *= -1

    def _direction_of_monitor(self):
        """`mode="auto"`: minimise a loss; otherwise follow the compiled metric of that name."""
        name = self.monitor.removeprefix("val_")
        op = operator.lt if name == "loss" else None
        for metric in _compiled_metrics(self.model):
            if getattr(metric, "name", None) == name and hasattr(metric, "_direction"):
                op = operator.gt if metric._direction == "up" else operator.lt
        if op is None:
            raise ValueError(
                f"{type(self).__name__} callback received monitor={self.monitor}, but "
                "Keras isn't able to automatically determine whether that metric should "
                "be maximized or minimized. Pass `mode='max'` in order to monitor based on "
                "the highest metric value, or pass `mode='min'` in order to use the lowest "
                "value.")
        return op

    def _is_improvement(self, monitor_value, reference_value):
        if reference_value is None:
            return True
        return self.monitor_op(monitor_value - self.min_delta, reference_value)


def _compiled_metrics(model) -> list:
    """The metric objects inside the model's compiled-metrics container(s), as Keras searches
    them for `mode="auto"` (the loss trackers are not among them)."""
    found = []
    for container in getattr(model, "metrics", None) or ():
        entries = getattr(container, "metrics", None)
        if entries is None or not isinstance(entries, (list, tuple)):
            continue
        for entry in entries:  # kerastorch: (metric, output, weighted) tuples
            found.append(entry[0] if isinstance(entry, tuple) else entry)
    return found
