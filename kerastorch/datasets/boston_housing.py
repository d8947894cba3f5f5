"""Boston housing price regression dataset, as `keras.datasets.boston_housing`."""

from kerastorch.datasets import _housing

_SHA256 = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """Loads the Boston Housing dataset: 506 samples of 13 attributes of houses around Boston
    in the late 1970s; targets are median house values in k$.

    **Warning:** this dataset has an ethical problem (its "B" variable); Keras strongly
    discourages using it except to illustrate ethical issues in data science.

    Looks for `path` in `$KERASTORCH_HOME/datasets` (default `~/.kerastorch/datasets`), then in
    Keras' cache (`$KERAS_HOME/datasets`, default `~/.keras`), then downloads Keras'
    `boston_housing.npz` into the kerastorch cache and checks its sha256 sum.

    Args:
        path: File name to look for in both caches (a path with a folder is read from there
            only).
        test_split: Fraction of the data kept for the test set, in `[0, 1)`.
        seed: Seed of the `np.random.RandomState` that shuffles the data before the split.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: `x_*` of shape `(num_samples, 13)`, `y_*` of
        shape `(num_samples,)`, `float64`.

    Raises:
        ValueError: `test_split` is outside `[0, 1)`.
        kerastorch.datasets.DatasetNotFoundError: Nothing local and the download failed.
        kerastorch.datasets.DatasetFormatError: The file is damaged; the message names it.
    """
    _housing.check_test_split(test_split)
    x, y = _housing.read_xy("Boston Housing", path, "boston_housing.npz", _SHA256)
    return _housing.shuffle_split(x, y, test_split, seed)
