"""What the Boston and California housing loaders share: reading and splitting `x`, `y`."""

import numpy as np

from kerastorch.datasets import _fetch
from kerastorch.datasets._cache import DatasetFormatError


def check_test_split(test_split):
    if not (0 <= test_split < 1):
        raise ValueError(
            f"Invalid `test_split` argument: {test_split}. "
            "It must be between 0 and 1 (exclusive of 1)."
        )


def read_xy(title, path, name, file_hash):
    """Finds (or downloads) the `.npz` and returns its `x`, `y` arrays."""
    file = _fetch.fetch_file(title, path, name, _fetch.KERAS_ORIGIN + name, file_hash)
    f = _fetch.read_npz(file, ("x", "y"))
    x, y = f["x"], f["y"]
    if x.dtype == object or y.dtype == object or len(x) != len(y):
        raise DatasetFormatError(
            f"{file} should hold numeric arrays x and y of the same length. Received: "
            f"x {x.dtype} {x.shape}, y {y.dtype} {y.shape}"
        )
    return x, y


def shuffle_split(x, y, test_split, seed):
    """Shuffles with `np.random.RandomState(seed)` and splits at `int(n * (1 - test_split))`."""
    rng = np.random.RandomState(seed)
    indices = np.arange(len(x))
    rng.shuffle(indices)
    x, y = x[indices], y[indices]
    idx = int(len(x) * (1 - test_split))
    return (x[:idx], y[:idx]), (x[idx:], y[idx:])
