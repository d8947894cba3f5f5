"""Fashion-MNIST (Zalando's clothing images), as `keras.datasets.fashion_mnist`."""

from kerastorch.datasets import _cache

# Keras keeps the four gzipped IDX files in `~/.keras/datasets/fashion-mnist/`; the IDX names are
# the same as MNIST's, so they never sit directly in `datasets/`.
_SPEC = _cache.IDXDataset(
    title="Fashion-MNIST",
    npz_name="fashion-mnist.npz",
    idx_subdirs=("fashion-mnist", "FashionMNIST/raw"),
    keras_npz=None,
    keras_idx_subdir="fashion-mnist",
    torchvision_class="FashionMNIST",
)


def load_data():
    """Loads Fashion-MNIST: 60,000 training and 10,000 test 28x28 grayscale clothing images.

    Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt,
    7 Sneaker, 8 Bag, 9 Ankle boot.

    Looks in `$KERASTORCH_HOME/datasets` (default `~/.kerastorch/datasets`) for
    `fashion-mnist.npz` (Keras-format arrays `x_train, y_train, x_test, y_test`), or the four IDX
    files (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
    `t10k-labels-idx1-ubyte`, each plain or `.gz`) in its `fashion-mnist/` or
    `FashionMNIST/raw/` folder; then in Keras' cache (`$KERAS_HOME/datasets/fashion-mnist/`,
    default `~/.keras`); then downloads with `torchvision.datasets.FashionMNIST` into the
    kerastorch cache, which checks the files' md5 sums.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: `uint8` numpy arrays of shapes
        `(60000, 28, 28)`, `(60000,)`, `(10000, 28, 28)`, `(10000,)`.

    Raises:
        kerastorch.datasets.DatasetNotFoundError: (a `FileNotFoundError`) Nothing local and the
            download failed; the message names the accepted files and the folder for them.
        kerastorch.datasets.DatasetFormatError: (a `ValueError`) A local file is damaged; the
            message names it.

    License: the copyright for Fashion-MNIST is held by Zalando SE; MIT license.
    """
    return _cache.load(_SPEC)
