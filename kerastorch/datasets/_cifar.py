"""What CIFAR-10 and CIFAR-100 share: their folders, the download, reading one batch."""

from __future__ import annotations

import os

import numpy as np

from kerastorch import config
from kerastorch.datasets import _fetch
from kerastorch.datasets._cache import DatasetFormatError, datasets_dir


def find_folder(title: str, base: str, keras_target: str, files: tuple[str, ...],
                torchvision_class: str) -> str:
    """The folder holding `files`: torchvision's layout in the kerastorch cache first, then
    Keras 3's (`<keras_target>/<base>/`) and Keras 2's (`<base>/`) in Keras' cache, then a
    download with torchvision (which checks the archive's md5 sum)."""
    keras_dir = _fetch.keras_datasets_dir()
    folders = (
        os.path.join(datasets_dir(), base),
        os.path.join(keras_dir, keras_target, base),
        os.path.join(keras_dir, base),
    )

    def download():
        import torchvision.datasets  # Imported here: only a download needs it.

        root = datasets_dir()
        getattr(torchvision.datasets, torchvision_class)(root=root, train=False, download=True)
        return os.path.join(root, base)

    return _fetch.fetch_folder(title, files, folders, download)


def load_batch(fpath: str, label_key: str = "labels"):
    """Reads one CIFAR batch file: `(data, labels)`, data `uint8` `(n, 3, 32, 32)`.

    The batches are Python pickles (CIFAR's own format, which Keras reads with `pickle`);
    they are read with `_fetch.RestrictedUnpickler`, which rebuilds numpy arrays only.
    """
    d = _fetch.read_pickle_dict(fpath)
    if "data" not in d or label_key not in d:
        raise DatasetFormatError(
            f"{fpath} lacks 'data' or {label_key!r}: a CIFAR batch holds both. "
            f"Received keys: {sorted(d)}"
        )
    data, labels = np.asarray(d["data"]), d[label_key]
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(labels) != len(data):
        raise DatasetFormatError(
            f"{fpath} should hold data of shape (n, 3072) and n labels. Received: data shape "
            f"{data.shape}, {len(labels)} labels."
        )
    return data.reshape(data.shape[0], 3, 32, 32), labels


def to_data_format(x):
    """`(n, 3, 32, 32)` -> `(n, 32, 32, 3)` under `channels_last` (a view, as in Keras)."""
    if config.image_data_format() == "channels_last":
        return x.transpose(0, 2, 3, 1)
    return x
