"""Datasets from arrays: `timeseries_dataset_from_array`, `split_dataset`, and the
`ArrayDataset` that they and `directory_datasets` (image/text folders) return.

Keras returns `tf.data` datasets; here each is a `PyDataset` of CPU torch-tensor batches
(numeric data; texts stay numpy arrays of `str`), so `fit`, `evaluate` and `predict` take it,
`for x, y in ds` iterates its batches and `x.numpy()` works as on a `tf.Tensor`; the samples,
labels and batches are Keras'. Shuffling: files are ordered exactly as Keras orders them
(`numpy.random.RandomState(seed)`), time windows as Keras' start positions; Keras' extra
`tf.data` shuffle buffer has no equivalent, so each later epoch is a fresh seeded permutation.
"""

import random

import numpy as np
import torch

from kerastorch.utils.py_dataset import PyDataset


def _as_tensors(batch):
    """numpy batch (or tuple of them) -> CPU tensors, sharing memory; `str` arrays stay."""
    if isinstance(batch, tuple):
        return tuple(_as_tensors(b) for b in batch)
    if isinstance(batch, (np.ndarray, np.generic)) and batch.dtype.kind in "biuf":
        return torch.from_numpy(np.ascontiguousarray(batch))
    return batch


class ArrayDataset(PyDataset):
    """Batches of `batch_size` samples drawn from in-memory items.

    Args:
        load: `load(indices) -> batch` (numpy arrays, or a tuple of them).
        num_samples: Number of samples.
        batch_size: Samples per batch (`None`: one sample per item, no batch axis).
        shuffle: Re-permute the samples after each epoch (seeded by `seed`).
    """

    def __init__(self, load, num_samples, batch_size, shuffle=False, seed=None):
        super().__init__()
        self._load, self._n, self.batch_size = load, num_samples, batch_size
        self._order = np.arange(num_samples)
        self._shuffle, self._rng = shuffle, np.random.RandomState(seed)

    def __len__(self):
        return self.num_batches

    @property
    def num_batches(self):
        if self.batch_size is None:
            return self._n
        return -(-self._n // self.batch_size)

    def __getitem__(self, index):
        if index < 0 or index >= self.num_batches:
            raise IndexError(f"Batch index {index} is out of range for a dataset of "
                             f"{self.num_batches} batches.")
        if self.batch_size is None:
            batch = self._load(self._order[index:index + 1])
            batch = tuple(b[0] for b in batch) if isinstance(batch, tuple) else batch[0]
        else:
            size = self.batch_size
            batch = self._load(self._order[index * size:(index + 1) * size])
        return _as_tensors(batch)

    def __iter__(self):
        for i in range(self.num_batches):
            yield self[i]

    def on_epoch_end(self):
        if self._shuffle:
            self._order = self._rng.permutation(self._n)

    # The few `tf.data.Dataset` methods Keras examples chain onto these datasets.
    def take(self, count):
        """A dataset of the first `count` batches (`tf.data.Dataset.take`)."""
        return _Mapped(self, None, min(count, self.num_batches))

    def map(self, map_func, num_parallel_calls=None, deterministic=None):
        """A dataset whose batches are `map_func(*batch)` (a tuple batch is unpacked, as
        `tf.data.Dataset.map` does)."""
        return _Mapped(self, map_func, self.num_batches)

    def prefetch(self, buffer_size=None):
        """Returns the dataset itself (`fit` fetches PyDataset batches ahead with `workers`)."""
        return self

    def cache(self, filename=""):
        """Returns the dataset itself (batches are built from memory or files each time)."""
        return self


class _Mapped(ArrayDataset):
    """`source`'s batches through `fn` (None: unchanged), the first `count` of them."""

    def __init__(self, source, fn, count):
        PyDataset.__init__(self)
        self._source, self._fn, self._count = source, fn, count
        self.class_names = getattr(source, "class_names", None)
        self.file_paths = getattr(source, "file_paths", None)

    @property
    def num_batches(self):
        return self._count

    def __getitem__(self, index):
        if index < 0 or index >= self._count:
            raise IndexError(f"Batch index {index} is out of range for a dataset of "
                             f"{self._count} batches.")
        batch = self._source[index]
        if self._fn is None:
            return batch
        return self._fn(*batch) if isinstance(batch, tuple) else self._fn(batch)

    def on_epoch_begin(self):
        self._source.on_epoch_begin()

    def on_epoch_end(self):
        self._source.on_epoch_end()


def _check_format(format):
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')


# ---------------------------------------------------------------------------- timeseries
def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1,
                                  sampling_rate=1, batch_size=128, shuffle=False, seed=None,
                                  start_index=None, end_index=None, format="tf"):
    """Sliding windows over `data`: batches of `(batch, sequence_length, ...)` sequences.

    Sequence `i` is `data[start_index + p : ... : sampling_rate]` (`sequence_length` steps)
    for start position `p = i * sequence_stride`; its target is `targets[start_index + p]`.
    Args as Keras: `targets` may be None; `shuffle` permutes the windows
    (`numpy.random.RandomState(seed)`, as Keras); `start_index`/`end_index` bound the rows used
    (`end_index` excluded). `format` (`"tf"`/`"grain"` in Keras) is accepted; both give this
    dataset.
    """
    _check_format(format)
    if start_index:
        if start_index < 0:
            raise ValueError("`start_index` must be 0 or greater. "
                             f"Received: start_index={start_index}")
        if start_index >= len(data):
            raise ValueError("`start_index` must be lower than the length of the data. "
                             f"Received: start_index={start_index}, for data of length "
                             f"{len(data)}")
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError("`end_index` must be higher than `start_index`. Received: "
                             f"start_index={start_index}, and end_index={end_index} ")
        if end_index >= len(data):
            raise ValueError("`end_index` must be lower than the length of the data. "
                             f"Received: end_index={end_index}, for data of length {len(data)}")
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: end_index={end_index}")
    for name, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if value <= 0:
            raise ValueError(f"`{name}` must be higher than 0. Received: {name}={value}")
        if value >= len(data):
            raise ValueError(f"`{name}` must be lower than the length of the data. Received: "
                             f"{name}={value}, for data of length {len(data)}")
    start_index = start_index or 0
    end_index = end_index if end_index is not None else len(data)
    num_seqs = end_index - start_index - (sequence_length - 1) * sampling_rate
    if targets is not None:
        num_seqs = min(num_seqs, len(targets))
    starts = np.arange(0, max(num_seqs, 0), sequence_stride)
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(starts)
    window = np.asarray(data)[start_index:end_index]
    offsets = np.arange(0, sequence_length * sampling_rate, sampling_rate)
    target_rows = None if targets is None else np.asarray(targets)[start_index:end_index]

    def load(idx):
        pos = starts[idx]
        x = window[pos[:, None] + offsets[None, :]]
        return x if target_rows is None else (x, target_rows[pos])

    return ArrayDataset(load, len(starts), batch_size, shuffle=shuffle, seed=seed)


# ---------------------------------------------------------------------------- split
class SampleDataset(torch.utils.data.Dataset):
    """A list of samples (each an array or a tuple of arrays) as a torch `Dataset`."""

    def __init__(self, samples):
        self.samples = samples

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        return self.samples[index]


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None):
    """Split a dataset into a left and a right part (Keras' order and sizes).

    Args:
        dataset: An array, a list/tuple of arrays (split along their first axis together), a
            torch `Dataset`/iterable of samples, or a batched dataset of this module (its
            samples are split and both parts batched as it was, as Keras re-batches).
        left_size: Int (samples) or float in (0, 1) (fraction, rounded); default: the rest.
        right_size: Likewise for the right part.
        shuffle: Shuffle the samples first (Python's `random.seed(seed)`, as Keras).
        seed: Seed for the shuffle.

    Returns:
        `(left, right)`, each a torch `Dataset` of samples (tuples when `dataset` is a tuple),
        or batched datasets for a batched input.
    """
    if right_size is None and left_size is None:
        raise ValueError("At least one of the `left_size` or `right_size` must be specified. "
                         "Received: left_size=None and right_size=None")
    batch_size = None
    if isinstance(dataset, PyDataset):  # batched: split its samples, re-batch both parts
        batch_size = getattr(dataset, "batch_size", None)
        samples = []
        for i in range(dataset.num_batches):
            batch = dataset[i]
            if batch_size is None:
                samples.append(batch)
            elif isinstance(batch, tuple):
                samples.extend(zip(*batch))
            else:
                samples.extend(batch)
    elif isinstance(dataset, np.ndarray) or torch.is_tensor(dataset):
        samples = list(dataset)
    elif isinstance(dataset, (list, tuple)):
        samples = list(zip(*dataset))
    elif hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__"):
        samples = [dataset[i] for i in range(len(dataset))]
    elif hasattr(dataset, "__iter__"):
        samples = list(dataset)
    else:
        raise TypeError("The `dataset` argument must be an array, a list/tuple of arrays or a "
                        f"torch Dataset. Received: dataset={dataset} of type {type(dataset)}")
    if not samples:
        raise ValueError("Received an empty dataset.")
    if shuffle:
        if seed is None:
            seed = random.randint(0, int(1e6))
        random.seed(seed)
        random.shuffle(samples)
    left, right = _rescale_split_sizes(left_size, right_size, len(samples))
    if batch_size is None:
        return SampleDataset(samples[:left]), SampleDataset(samples[-right:])
    return _batched(samples[:left], batch_size), _batched(samples[-right:], batch_size)


def _batched(samples, batch_size):
    def load(idx):
        picked = [samples[i] for i in idx]
        if isinstance(picked[0], tuple):
            return tuple(np.stack([np.asarray(p[k]) for p in picked])
                         for k in range(len(picked[0])))
        return np.stack([np.asarray(p) for p in picked])

    return ArrayDataset(load, len(samples), batch_size)


def _rescale_split_sizes(left_size, right_size, total):
    for name, size in (("left_size", left_size), ("right_size", right_size)):
        if size is not None and type(size) not in (int, float):
            raise TypeError(f"Invalid `{name}` Type. Expected: int or float or None, "
                            f"Received: type({name})={type(size)}.")
        if (type(size) is int and not 0 < size < total) or \
                (type(size) is float and not 0 < size < 1):
            raise ValueError(f"`{name}` should be either a positive integer smaller than "
                             f"{total}, or a float within the range `[0, 1]`. "
                             f"Received: {name}={size}")
    if type(left_size) is float and type(right_size) is float and left_size + right_size > 1:
        raise ValueError("The sum of `left_size` and `right_size` is greater than 1. It must "
                         "be less than or equal to 1.")
    left = round(left_size * total) if type(left_size) is float else left_size
    right = round(right_size * total) if type(right_size) is float else right_size
    if left is None:
        left = total - right
    elif right is None:
        right = total - left
    if left + right > total:
        raise ValueError(f"The sum of `left_size` and `right_size` should be smaller than the "
                         f"{total}. Received: left_size + right_size = {left + right}and "
                         f"total_length = {total}")
    for split, side in ((left, "left"), (right, "right")):
        if split == 0:
            raise ValueError(f"With `dataset` of length={total}, `left_size`={left_size} and "
                             f"`right_size`={right_size}.Resulting {side} side dataset split "
                             "will be empty. Adjust any of the aforementioned parameters")
    return int(left), int(right)


# Keras' names, all from `kerastorch.utils.dataset_utils`.
from kerastorch.utils.directory_datasets import (  # noqa: E402
    IMAGE_FORMATS as IMAGE_FORMATS,
    image_dataset_from_directory as image_dataset_from_directory,
    index_directory as index_directory,
    text_dataset_from_directory as text_dataset_from_directory,
)
