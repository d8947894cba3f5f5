"""California housing price regression dataset, as `keras.datasets.california_housing`."""

from kerastorch.datasets import _housing

_SHA256 = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"


def load_data(version="large", path="california_housing.npz", test_split=0.2, seed=113):
    """Loads the California Housing dataset: 20,640 census block groups of 1990, 8 features
    each (MedInc, HouseAge, AveRooms, AveBedrms, Population, AveOccup, Latitude, Longitude);
    targets are median house values in dollars.

    Looks for `path` in `$KERASTORCH_HOME/datasets` (default `~/.kerastorch/datasets`), then in
    Keras' cache (`$KERAS_HOME/datasets`, default `~/.keras`), then downloads Keras'
    `california_housing.npz` into the kerastorch cache and checks its sha256 sum.

    Args:
        version: `"large"` (all 20,640 samples) or `"small"` (the first 600, a stand-in for
            the Boston Housing dataset).
        path: File name to look for in both caches (a path with a folder is read from there
            only).
        test_split: Fraction of the data kept for the test set, in `[0, 1)`.
        seed: Seed of the `np.random.RandomState` that shuffles the data before the split.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: `x_*` of shape `(num_samples, 8)`, `y_*` of
        shape `(num_samples,)`.

    Raises:
        ValueError: `test_split` is outside `[0, 1)`, or `version` is not `"small"`/`"large"`.
        kerastorch.datasets.DatasetNotFoundError: Nothing local and the download failed.
        kerastorch.datasets.DatasetFormatError: The file is damaged; the message names it.
    """
    _housing.check_test_split(test_split)
    x, y = _housing.read_xy("California Housing", path, "california_housing.npz", _SHA256)
    if version == "small":
        x, y = x[:600], y[:600]
    elif version != "large":
        raise ValueError(
            "Argument `version` must be one of 'small', 'large'. "
            f"Received: version={version}"
        )
    return _housing.shuffle_split(x, y, test_split, seed)
