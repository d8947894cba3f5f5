"""`keras.utils.PyDataset` (alias `Sequence`): a dataset of batches defined in Python."""

import itertools
import warnings


# The constructor's options and their defaults; a subclass that skips `super().__init__` gets
# the defaults (and a warning) the first time one is read.
_DEFAULTS = {"workers": 1, "use_multiprocessing": False, "max_queue_size": 10}


def _option(name):
    private = "_" + name

    def read(self):
        self._warn_if_super_not_called()
        return getattr(self, private)

    def write(self, value):
        setattr(self, private, value)

    return property(read, write, doc=f"The `{name}` option of the dataset.")


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
        self._workers, self._max_queue_size = workers, max_queue_size
        self._use_multiprocessing = use_multiprocessing

    def _warn_if_super_not_called(self):
        missing = [attr for attr in _DEFAULTS if not hasattr(self, "_" + attr)]
        for attr in missing:
            setattr(self, "_" + attr, _DEFAULTS[attr])
        if missing:
            warnings.warn("Your `PyDataset` class should call `super().__init__(**kwargs)` in "
                          "its constructor. `**kwargs` can include `workers`, "
                          "`use_multiprocessing`, `max_queue_size`. Do not pass these "
                          "arguments to `fit()`, as they will be ignored.", stacklevel=3)

    workers = _option("workers")
    use_multiprocessing = _option("use_multiprocessing")
    max_queue_size = _option("max_queue_size")

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
