"""`keras.utils.PyDataset` (alias `Sequence`): a dataset of batches defined in Python."""

import itertools
import warnings


class PyDataset:
    """Base class for a dataset of batches: implement `__getitem__(index)` (a whole batch:
    `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)`) and `__len__` (the number of batches),
    or the `num_batches` property (`None` for an infinite dataset). `on_epoch_begin` and
    `on_epoch_end` are called around every epoch of `fit`/`evaluate`/`predict`.

    Args:
        workers: Number of workers fetching batches ahead (threads; 1 fetches in the loop).
        use_multiprocessing: Accepted for Keras compatibility; batches are fetched by
            threads here (a `PyDataset` need not be picklable).
        max_queue_size: Maximum number of batches fetched ahead. Defaults to 10.
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _warn_if_super_not_called(self):
        warn = False
        for attr, default in (("_workers", 1), ("_use_multiprocessing", False),
                              ("_max_queue_size", 10)):
            if not hasattr(self, attr):
                setattr(self, attr, default)
                warn = True
        if warn:
            warnings.warn("Your `PyDataset` class should call `super().__init__(**kwargs)` in "
                          "its constructor. `**kwargs` can include `workers`, "
                          "`use_multiprocessing`, `max_queue_size`. Do not pass these "
                          "arguments to `fit()`, as they will be ignored.", stacklevel=3)

    @property
    def workers(self):
        self._warn_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value):
        self._workers = value

    @property
    def use_multiprocessing(self):
        self._warn_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = value

    @property
    def max_queue_size(self):
        self._warn_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = value

    def __getitem__(self, index):
        """The batch at position `index`."""
        raise NotImplementedError(f"{type(self).__name__} must implement `__getitem__`.")

    @property
    def num_batches(self):
        """Number of batches (`len(self)`), or `None` for an infinite dataset."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError("You need to implement the `num_batches` property:\n\n"
                                  "@property\ndef num_batches(self):\n  return ...")

    def __iter__(self):
        num_batches = self.num_batches
        indices = range(num_batches) if num_batches is not None else itertools.count()
        for index in indices:
            yield self[index]

    def on_epoch_begin(self):
        """Called at the beginning of every epoch."""

    def on_epoch_end(self):
        """Called at the end of every epoch."""
