"""CIFAR-100 small images classification dataset, as `keras.datasets.cifar100`."""

import os

import numpy as np

from kerastorch.datasets import _cifar

_FILES = ("train", "test")


def load_data(label_mode="fine"):
    """Loads CIFAR-100: 50,000 training and 10,000 test 32x32 colour images, labelled over 100
    fine classes grouped into 20 coarse ones.

    Looks for the folder `cifar-100-python/` (files `train`, `test`) in
    `$KERASTORCH_HOME/datasets` (default `~/.kerastorch/datasets`; torchvision's layout too),
    then in Keras' cache (`$KERAS_HOME/datasets`, default `~/.keras`) as Keras 3 extracts it
    (`cifar-100-python-target/cifar-100-python/`) or as Keras 2 did (`cifar-100-python/`);
    then downloads it with `torchvision.datasets.CIFAR100` into the kerastorch cache, which
    checks the md5 sum. The files are Python pickles (the dataset's own format, which Keras
    reads with `pickle`); they are read with an unpickler that only rebuilds numpy arrays.

    Args:
        label_mode: `"fine"` (labels 0-99) or `"coarse"` (the 20 superclasses, 0-19).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: images `uint8` of shape `(50000, 32, 32, 3)`
        and `(10000, 32, 32, 3)` (`(n, 3, 32, 32)` under `"channels_first"`); labels of shape
        `(50000, 1)` and `(10000, 1)`, `int64` as Keras returns them (its docs say `uint8`).

    Raises:
        ValueError: `label_mode` is not `"fine"` or `"coarse"`.
        kerastorch.datasets.DatasetNotFoundError: Nothing local and the download failed; the
            message names the files and the folders for them.
        kerastorch.datasets.DatasetFormatError: A local file is damaged; the message names it.
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError('`label_mode` must be one of `"fine"`, `"coarse"`. '
                         f"Received: label_mode={label_mode}.")
    path = _cifar.find_folder("CIFAR-100", "cifar-100-python", "cifar-100-python-target",
                              _FILES, "CIFAR100")
    key = f"{label_mode}_labels"
    x_train, y_train = _cifar.load_batch(os.path.join(path, "train"), label_key=key)
    x_test, y_test = _cifar.load_batch(os.path.join(path, "test"), label_key=key)
    y_train = np.reshape(y_train, (len(y_train), 1))
    y_test = np.reshape(y_test, (len(y_test), 1))
    return (_cifar.to_data_format(x_train), y_train), (_cifar.to_data_format(x_test), y_test)
