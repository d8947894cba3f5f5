"""MNIST handwritten digits, as `keras.datasets.mnist`."""

from kerastorch.datasets import _cache

_SPEC = _cache.IDXDataset(
    title="MNIST",
    npz_name="mnist.npz",
    idx_subdirs=("", "MNIST/raw"),
    keras_npz="mnist.npz",
    keras_idx_subdir=None,
    torchvision_class="MNIST",
)


def load_data(path="mnist.npz"):
    """Loads the MNIST dataset: 60,000 training and 10,000 test 28x28 grayscale digits.

    Looks in `$KERASTORCH_HOME/datasets` (default `~/.kerastorch/datasets`) for `path` (a
    Keras-format `.npz`) or the four IDX files (`train-images-idx3-ubyte`,
    `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each plain or
    `.gz`, there or in `MNIST/raw/`); then in Keras' cache (`$KERAS_HOME/datasets/mnist.npz`,
    default `~/.keras`); then downloads with `torchvision.datasets.MNIST` into the kerastorch
    cache, which checks the files' md5 sums.

    Args:
        path: File name of the `.npz` to look for in both caches (Keras' argument). kerastorch
            also accepts a path with a folder, read from there only (Keras refuses those).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: `uint8` numpy arrays of shapes
        `(60000, 28, 28)`, `(60000,)`, `(10000, 28, 28)`, `(10000,)`; labels are 0-9.

    Raises:
        kerastorch.datasets.DatasetNotFoundError: (a `FileNotFoundError`) Nothing local and the
            download failed; the message names the accepted files and the folder for them.
        kerastorch.datasets.DatasetFormatError: (a `ValueError`) A local file is damaged; the
            message names it.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and y_test.shape == (10000,)
    ```
    """
    return _cache.load(_SPEC, npz_name=path)
