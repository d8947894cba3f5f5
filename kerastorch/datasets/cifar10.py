"""CIFAR-10 small images classification dataset, as `keras.datasets.cifar10`."""

import os

import numpy as np

from kerastorch.datasets import _cifar

_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)


def load_data():
    """Loads CIFAR-10: 50,000 training and 10,000 test 32x32 colour images in 10 classes.

    Labels: 0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog, 7 horse, 8 ship,
    9 truck.

    Looks for the folder `cifar-10-batches-py/` (files `data_batch_1` ... `data_batch_5`,
    `test_batch`) in `$KERASTORCH_HOME/datasets` (default `~/.kerastorch/datasets`; this is
    torchvision's layout too), then in Keras' cache (`$KERAS_HOME/datasets`, default
    `~/.keras`) as Keras 3 extracts it (`cifar-10-batches-py-target/cifar-10-batches-py/`) or
    as Keras 2 did (`cifar-10-batches-py/`); then downloads it with
    `torchvision.datasets.CIFAR10` into the kerastorch cache, which checks the md5 sum.
    The batch files are Python pickles (the dataset's own format, which Keras reads with
    `pickle`); they are read with an unpickler that only rebuilds numpy arrays.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: `uint8` numpy arrays; images of shape
        `(50000, 32, 32, 3)` and `(10000, 32, 32, 3)` (`(n, 3, 32, 32)` when
        `keras.config.image_data_format()` is `"channels_first"`), labels of shape
        `(50000, 1)` and `(10000, 1)`.

    Raises:
        kerastorch.datasets.DatasetNotFoundError: Nothing local and the download failed; the
            message names the files and the folders for them.
        kerastorch.datasets.DatasetFormatError: A local file is damaged; the message names it.
    """
    path = _cifar.find_folder("CIFAR-10", "cifar-10-batches-py", "cifar-10-batches-py-target",
                              _FILES, "CIFAR10")
    xs, ys = [], []
    for name in _FILES[:5]:
        x, y = _cifar.load_batch(os.path.join(path, name))
        xs.append(x)
        ys.append(np.asarray(y))
    x_test, y_test = _cifar.load_batch(os.path.join(path, "test_batch"))
    x_train = np.concatenate(xs).astype("uint8", copy=False)
    y_train = np.concatenate(ys).astype("uint8").reshape(-1, 1)
    y_test = np.asarray(y_test).astype("uint8").reshape(-1, 1)
    x_train = _cifar.to_data_format(x_train)
    x_test = _cifar.to_data_format(x_test.astype("uint8", copy=False))
    return (x_train, y_train), (x_test, y_test)
