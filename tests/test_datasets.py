"""kerastorch.datasets: the lookup order, both file forms, damaged files, the offline error."""

import gzip
import hashlib
import os
import shutil
import struct

import numpy as np
import pytest
import torchvision.datasets

from kerastorch.datasets import DatasetFormatError, DatasetNotFoundError, fashion_mnist, mnist
from kerastorch.datasets import _cache

try:
    from conftest import MNIST_DIR
except ImportError:  # pytest's importlib mode does not put tests/ on sys.path
    MNIST_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "mnist")

IDX = _cache.IDX_FILES


def _fake_split(rng, n, offset=0):
    x = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    y = ((np.arange(n) + offset) % 10).astype(np.uint8)
    return x, y


def _fake_data(seed=0):
    rng = np.random.default_rng(seed)
    return _fake_split(rng, 7), _fake_split(rng, 5, offset=3)


def _idx_bytes(array):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx_folder(folder, data, gz=True):
    """Writes `((x_train, y_train), (x_test, y_test))` as the four IDX files in `folder`."""
    os.makedirs(folder, exist_ok=True)
    (x_train, y_train), (x_test, y_test) = data
    for name, array in zip(IDX, (x_train, y_train, x_test, y_test)):
        raw = _idx_bytes(array)
        if gz:
            with gzip.open(os.path.join(folder, name + ".gz"), "wb") as f:
                f.write(raw)
        else:
            with open(os.path.join(folder, name), "wb") as f:
                f.write(raw)


def write_npz(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    (x_train, y_train), (x_test, y_test) = data
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)


def assert_same(got, want):
    (gx, gy), (tx, ty) = got
    (wx, wy), (ux, uy) = want
    for g, w in ((gx, wx), (gy, wy), (tx, ux), (ty, uy)):
        assert g.dtype == np.uint8
        assert g.shape == w.shape
        np.testing.assert_array_equal(g, w)


class _NoNetwork:
    """Stands in for torchvision's dataset classes: the download always fails, offline."""

    calls = []

    def __init__(self, root, train=True, download=False, **kwargs):
        _NoNetwork.calls.append(root)
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: no network here")


@pytest.fixture
def homes(tmp_path, monkeypatch):
    """Empty kerastorch and Keras homes; any download attempt fails without the network."""
    kt, kh = tmp_path / "kt", tmp_path / "kh"
    monkeypatch.setenv("KERASTORCH_HOME", str(kt))
    monkeypatch.setenv("KERAS_HOME", str(kh))
    monkeypatch.setattr(torchvision.datasets, "MNIST", _NoNetwork)
    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", _NoNetwork)
    _NoNetwork.calls = []
    return kt / "datasets", kh / "datasets"


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("sub", ["", "MNIST/raw"])
def test_mnist_from_idx_files(homes, gz, sub):
    data = _fake_data()
    write_idx_folder(os.path.join(homes[0], sub), data, gz=gz)
    got = mnist.load_data()
    assert_same(got, data)
    assert got[0][0].flags.writeable  # Keras' arrays are writable too
    assert not _NoNetwork.calls


def test_mnist_from_npz(homes):
    data = _fake_data()
    write_npz(os.path.join(homes[0], "mnist.npz"), data)
    assert_same(mnist.load_data(), data)


def test_mnist_path_argument(homes, tmp_path):
    data = _fake_data(1)
    write_npz(os.path.join(homes[1], "other.npz"), data)  # Keras' cache, Keras' fname= form
    assert_same(mnist.load_data(path="other.npz"), data)
    explicit = tmp_path / "elsewhere" / "m.npz"
    write_npz(str(explicit), data)
    assert_same(mnist.load_data(path=str(explicit)), data)
    with pytest.raises(DatasetNotFoundError, match="missing.npz"):
        mnist.load_data(path=str(tmp_path / "missing.npz"))


def test_lookup_order(homes):
    kt, kh = homes
    in_keras, in_raw, in_flat, in_npz = (_fake_data(seed) for seed in range(4))
    write_npz(os.path.join(kh, "mnist.npz"), in_keras)
    assert_same(mnist.load_data(), in_keras)
    write_idx_folder(os.path.join(kt, "MNIST", "raw"), in_raw)
    assert_same(mnist.load_data(), in_raw)
    write_idx_folder(str(kt), in_flat, gz=False)
    assert_same(mnist.load_data(), in_flat)
    write_npz(os.path.join(kt, "mnist.npz"), in_npz)
    assert_same(mnist.load_data(), in_npz)
    assert not _NoNetwork.calls


def test_offline_error_names_files_and_folder(homes):
    kt, _ = homes
    # An incomplete copy is not used, and the error says what it lacks.
    write_idx_folder(str(kt), _fake_data())
    os.remove(os.path.join(kt, "train-images-idx3-ubyte.gz"))
    with pytest.raises(DatasetNotFoundError) as info:
        mnist.load_data()
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    for name in (*IDX, "mnist.npz", str(kt), os.path.join(str(kt), "MNIST", "raw"),
                 "no network here", "missing: train-images-idx3-ubyte"):
        assert name in message, name
    assert _NoNetwork.calls == [str(kt)]  # the download went into the kerastorch cache
    assert isinstance(info.value.__cause__, RuntimeError)


def test_download_is_read(homes, monkeypatch):
    data = _fake_data(5)

    class FakeMNIST:
        def __init__(self, root, train=True, download=False):
            assert download
            self.raw_folder = os.path.join(root, "MNIST", "raw")
            write_idx_folder(self.raw_folder, data)

    monkeypatch.setattr(torchvision.datasets, "MNIST", FakeMNIST)
    assert_same(mnist.load_data(), data)
    monkeypatch.setattr(torchvision.datasets, "MNIST", _NoNetwork)
    assert_same(mnist.load_data(), data)  # now found in MNIST/raw, no second download
    assert not _NoNetwork.calls


@pytest.mark.parametrize("damage", ["truncated", "bad_magic", "bad_gzip", "too_long"])
def test_damaged_idx_names_the_file(homes, damage):
    kt, _ = homes
    write_idx_folder(str(kt), _fake_data(), gz=(damage == "bad_gzip"))
    name = "t10k-images-idx3-ubyte" + (".gz" if damage == "bad_gzip" else "")
    path = os.path.join(kt, name)
    raw = open(path, "rb").read()
    raw = {"truncated": raw[:-100], "bad_magic": b"\x00\x00\x99\x03" + raw[4:],
           "bad_gzip": raw[:-30], "too_long": raw + b"\x00"}[damage]
    with open(path, "wb") as f:
        f.write(raw)
    with pytest.raises(DatasetFormatError, match=name):
        mnist.load_data()
    assert not _NoNetwork.calls  # a damaged copy is an error, not a reason to download


def test_mismatched_counts(homes):
    kt, _ = homes
    (x, y), test = _fake_data()
    write_idx_folder(str(kt), ((x, y[:-1]), test))
    with pytest.raises(DatasetFormatError, match="train-labels"):
        mnist.load_data()


def test_bad_npz_names_the_file(homes):
    kt, _ = homes
    os.makedirs(kt)
    np.savez(os.path.join(kt, "mnist.npz"), x_train=np.zeros(3))
    with pytest.raises(DatasetFormatError, match="mnist.npz.*y_train"):
        mnist.load_data()
    with open(os.path.join(kt, "mnist.npz"), "wb") as f:
        f.write(b"not a zip")
    with pytest.raises(DatasetFormatError, match="mnist.npz"):
        mnist.load_data()


def test_read_idx_other_types(tmp_path):
    values = (np.arange(6).reshape(2, 3) - 2).astype(">i4")
    path = tmp_path / "ints-idx2"
    path.write_bytes(struct.pack(">BBBBII", 0, 0, 0x0C, 2, 2, 3) + values.tobytes())
    got = _cache.read_idx(str(path))
    assert got.dtype == np.int32 and got.dtype.isnative
    np.testing.assert_array_equal(got, values)


def test_fashion_mnist_lookup(homes):
    kt, kh = homes
    in_keras, in_ours, in_tv = (_fake_data(seed) for seed in (7, 8, 9))
    write_idx_folder(str(kt), _fake_data(10))  # MNIST's files must never be taken for fashion
    with pytest.raises(DatasetNotFoundError) as info:
        fashion_mnist.load_data()
    for text in ("Fashion-MNIST", os.path.join(str(kt), "fashion-mnist"),
                 os.path.join(str(kh), "fashion-mnist"), "FashionMNIST"):
        assert text in str(info.value), text
    write_idx_folder(os.path.join(kh, "fashion-mnist"), in_keras)  # Keras' layout
    assert_same(fashion_mnist.load_data(), in_keras)
    write_idx_folder(os.path.join(kt, "FashionMNIST", "raw"), in_tv)
    assert_same(fashion_mnist.load_data(), in_tv)
    write_idx_folder(os.path.join(kt, "fashion-mnist"), in_ours)
    assert_same(fashion_mnist.load_data(), in_ours)


def test_default_home(monkeypatch):
    monkeypatch.delenv("KERASTORCH_HOME", raising=False)
    monkeypatch.delenv("KERAS_HOME", raising=False)
    assert _cache.datasets_dir() == os.path.expanduser(os.path.join("~", ".kerastorch",
                                                                    "datasets"))
    assert _cache.keras_home() == os.path.expanduser(os.path.join("~", ".keras"))


REAL_MD5 = {
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
REAL_TEST_HISTOGRAM = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_real_mnist_test_set(homes):
    if not all(os.path.isfile(os.path.join(MNIST_DIR, name)) for name in REAL_MD5):
        pytest.skip(f"the original MNIST test-set files are not in {MNIST_DIR}")
    raw = os.path.join(homes[0], "MNIST", "raw")
    os.makedirs(raw)
    for name, md5 in REAL_MD5.items():
        source = os.path.join(MNIST_DIR, name)
        assert hashlib.md5(open(source, "rb").read()).hexdigest() == md5
        shutil.copy(source, os.path.join(raw, name))
        # Only the test set is available offline: it stands in for the training files too.
        shutil.copy(source, os.path.join(raw, name.replace("t10k", "train")))
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_test.shape == (10000, 28, 28) and x_test.dtype == np.uint8
    assert y_test.shape == (10000,) and y_test.dtype == np.uint8
    assert np.bincount(y_test, minlength=10).tolist() == REAL_TEST_HISTOGRAM
    assert x_test.max() == 255 and x_test.min() == 0
    np.testing.assert_array_equal(x_train, x_test)
    assert not _NoNetwork.calls
