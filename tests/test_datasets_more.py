"""CIFAR, IMDB, Reuters and the housing sets: lookup order, downloads, errors, damaged files.

No network: the files are generated in the datasets' formats under temporary
`$KERASTORCH_HOME` / `$KERAS_HOME` folders, and the downloaders are replaced by stand-ins.
"""

import hashlib
import os
import pickle
import shutil

import numpy as np
import pytest
import torchvision.datasets

from kerastorch import config
from kerastorch.datasets import (
    DatasetFormatError,
    DatasetNotFoundError,
    _fetch,
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    imdb,
    reuters,
)

CIFAR10_FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


class _NoNetwork:
    def __init__(self, root, train=True, download=False, **kwargs):
        raise RuntimeError("Error downloading cifar-10-python.tar.gz: no network here")


def _no_urlretrieve(url, dest):
    raise OSError(f"<urlopen error [Errno -3] Temporary failure in name resolution> ({url})")


@pytest.fixture
def homes(tmp_path, monkeypatch):
    kt, kh = tmp_path / "kt", tmp_path / "kh"
    monkeypatch.setenv("KERASTORCH_HOME", str(kt))
    monkeypatch.setenv("KERAS_HOME", str(kh))
    monkeypatch.setattr(torchvision.datasets, "CIFAR10", _NoNetwork)
    monkeypatch.setattr(torchvision.datasets, "CIFAR100", _NoNetwork)
    monkeypatch.setattr(_fetch, "_urlretrieve", _no_urlretrieve)
    return kt / "datasets", kh / "datasets"


def write_batch(path, data, labels, label_key=b"labels", protocol=3):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump({b"data": data, label_key: list(labels)}, f, protocol=protocol)


def write_cifar10(folder, n=3, offset=0):
    """Batch i holds images filled with i + offset, labels i, so the assembly is checkable."""
    for i, name in enumerate(CIFAR10_FILES):
        data = np.full((n, 3072), i + offset, dtype=np.uint8)
        data[:, :1024] = np.arange(1024) % 251  # the red plane varies: checks the transpose
        write_batch(os.path.join(folder, name), data, [i] * n)


def write_seq_npz(path, keys, seqs, labels):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    arrays = {}
    for (xk, yk), s, y in zip(keys, seqs, labels):
        x = np.empty(len(s), dtype=object)
        x[:] = [list(v) for v in s]
        arrays[xk], arrays[yk] = x, np.asarray(y, dtype=np.int64)
    np.savez(path, **arrays)


# --------------------------------------------------------------------------------------------
# CIFAR


def test_cifar10_values_and_layout(homes):
    kt, _ = homes
    write_cifar10(str(kt / "cifar-10-batches-py"))
    (x, y), (xt, yt) = cifar10.load_data()
    assert x.shape == (15, 32, 32, 3) and x.dtype == np.uint8
    assert y.shape == (15, 1) and y.dtype == np.uint8 and yt.shape == (3, 1)
    np.testing.assert_array_equal(y[:, 0], np.repeat(np.arange(5), 3))
    np.testing.assert_array_equal(yt[:, 0], [5, 5, 5])
    # Channel 0 is the red plane, row-major; channels 1 and 2 hold the batch number.
    np.testing.assert_array_equal(x[0, :, :, 0], (np.arange(1024) % 251).reshape(32, 32))
    np.testing.assert_array_equal(x[4, :, :, 1], np.full((32, 32), 1))
    np.testing.assert_array_equal(xt[:, :, :, 2], np.full((3, 32, 32), 5))


def test_cifar10_channels_first(homes):
    kt, _ = homes
    write_cifar10(str(kt / "cifar-10-batches-py"))
    config.set_image_data_format("channels_first")
    try:
        (x, _), (xt, _) = cifar10.load_data()
    finally:
        config.set_image_data_format("channels_last")
    assert x.shape == (15, 3, 32, 32) and xt.shape == (3, 3, 32, 32)
    np.testing.assert_array_equal(x[0, 0], (np.arange(1024) % 251).reshape(32, 32))


@pytest.mark.parametrize("where", ["kt", "keras3", "keras2"])
def test_cifar10_lookup_folders(homes, where):
    kt, kh = homes
    folder = {"kt": kt / "cifar-10-batches-py",
              "keras3": kh / "cifar-10-batches-py-target" / "cifar-10-batches-py",
              "keras2": kh / "cifar-10-batches-py"}[where]
    write_cifar10(str(folder))
    assert cifar10.load_data()[0][0].shape == (15, 32, 32, 3)


def test_cifar_kerastorch_cache_comes_first(homes):
    kt, kh = homes
    write_cifar10(str(kt / "cifar-10-batches-py"), offset=0)
    write_cifar10(str(kh / "cifar-10-batches-py-target" / "cifar-10-batches-py"), offset=100)
    (x, _), _ = cifar10.load_data()
    assert x[0, 0, 0, 1] == 0


def test_cifar10_offline_error_names_files_and_folders(homes):
    kt, kh = homes
    write_batch(str(kh / "cifar-10-batches-py" / "data_batch_1"),
                np.zeros((1, 3072), np.uint8), [0])
    with pytest.raises(DatasetNotFoundError) as e:
        cifar10.load_data()
    msg = str(e.value)
    assert "CIFAR-10" in msg and "test_batch" in msg and "data_batch_5" in msg
    assert str(kt / "cifar-10-batches-py") in msg
    assert str(kh / "cifar-10-batches-py-target" / "cifar-10-batches-py") in msg
    assert "has 1 of the 6 files" in msg and "no network here" in msg
    assert isinstance(e.value, FileNotFoundError)


def test_cifar100_download_with_torchvision(homes, monkeypatch):
    kt, _ = homes
    calls = []

    class FakeCIFAR100:
        def __init__(self, root, train=True, download=False, **kwargs):
            calls.append((root, train, download))
            data = np.arange(2 * 3072).reshape(2, 3072).astype(np.uint8)
            for name in ("train", "test"):
                path = os.path.join(root, "cifar-100-python", name)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as f:
                    pickle.dump({b"data": data, b"fine_labels": [99, 3],
                                 b"coarse_labels": [19, 0]}, f, protocol=3)

    monkeypatch.setattr(torchvision.datasets, "CIFAR100", FakeCIFAR100)
    (x, y), (xt, yt) = cifar100.load_data(label_mode="coarse")
    assert calls == [(str(kt), False, True)]
    assert y.tolist() == [[19], [0]] and y.dtype == np.int64  # as Keras: the list's dtype
    np.testing.assert_array_equal(x[1, 0, 0], [3072 % 256, 4096 % 256, 5120 % 256])
    assert cifar100.load_data()[0][1].tolist() == [[99], [3]]


def test_cifar100_bad_label_mode(homes):
    with pytest.raises(ValueError, match="label_mode"):
        cifar100.load_data(label_mode="medium")


def test_cifar_refuses_pickled_code(homes, tmp_path):
    kt, _ = homes
    write_cifar10(str(kt / "cifar-10-batches-py"))
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    with open(kt / "cifar-10-batches-py" / "test_batch", "wb") as f:
        pickle.dump({b"data": Evil(), b"labels": [0]}, f, protocol=3)
    with pytest.raises(DatasetFormatError, match="test_batch.*Refusing.*mkdir"):
        cifar10.load_data()
    assert not marker.exists()


@pytest.mark.parametrize("damage", ["truncated", "missing_key", "bad_shape"])
def test_cifar_damaged_batch_names_the_file(homes, damage):
    kt, _ = homes
    folder = kt / "cifar-10-batches-py"
    write_cifar10(str(folder))
    path = folder / "data_batch_3"
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "missing_key":
        write_batch(str(path), np.zeros((3, 3072), np.uint8), [0] * 3, label_key=b"fine_labels")
    else:
        write_batch(str(path), np.zeros((3, 100), np.uint8), [0] * 3)
    with pytest.raises(DatasetFormatError, match="data_batch_3"):
        cifar10.load_data()


# --------------------------------------------------------------------------------------------
# IMDB and Reuters


def test_imdb_by_hand(homes):
    kt, _ = homes
    write_seq_npz(str(kt / "imdb.npz"), [("x_train", "y_train"), ("x_test", "y_test")],
                  [[[1, 2, 3], [4, 5, 9, 1]], [[2], [7, 1, 1]]], [[0, 1], [1, 0]])
    (x, y), (xt, yt) = imdb.load_data(seed=0, num_words=10, skip_top=4)
    rng = np.random.RandomState(0)
    perm_train, perm_test = np.arange(2), np.arange(2)
    rng.shuffle(perm_train)
    rng.shuffle(perm_test)
    # +3 (index_from), 1 in front (start_char); outside [4, 10) -> 2 (oov_char), the start
    # character included (Keras filters after adding it).
    train = [[2, 4, 5, 6], [2, 7, 8, 2, 4]]
    test = [[2, 5], [2, 2, 4, 4]]
    assert x.tolist() == [train[i] for i in perm_train]
    assert xt.tolist() == [test[i] for i in perm_test]
    assert y.tolist() == [[0, 1][i] for i in perm_train]
    assert yt.tolist() == [[1, 0][i] for i in perm_test]
    assert x.dtype == object


def test_imdb_maxlen_keeping_nothing(homes):
    kt, _ = homes
    write_seq_npz(str(kt / "imdb.npz"), [("x_train", "y_train"), ("x_test", "y_test")],
                  [[[1, 2, 3]], [[2, 2]]], [[0], [1]])
    with pytest.raises(ValueError, match="maxlen=3"):
        imdb.load_data(maxlen=3)


def test_reuters_by_hand(homes):
    kt, _ = homes
    write_seq_npz(str(kt / "reuters.npz"), [("x", "y")],
                  [[[1, 2], [5, 5, 5], [3], [1, 1, 1, 1], [4]]], [[10, 11, 12, 13, 14]])
    (x, y), (xt, yt) = reuters.load_data(start_char=None, index_from=0, oov_char=None,
                                         maxlen=4, test_split=0.25, seed=1)
    rng = np.random.RandomState(1)
    perm = np.arange(5)
    rng.shuffle(perm)
    seqs = [[1, 2], [5, 5, 5], [3], [1, 1, 1, 1], [4]]
    # maxlen=4 drops the sequence of length 4; num_words is then the largest word (5), which
    # is itself cut (Keras' rule), and oov_char=None drops instead of replacing.
    kept = [i for i in perm if len(seqs[i]) < 4]
    want = [[w for w in seqs[i] if w < 5] for i in kept]
    assert x.tolist() + xt.tolist() == want
    assert len(x) == int(4 * 0.75) and y.tolist() + yt.tolist() == [10 + i for i in kept]


def test_sequences_path_lookup_and_order(homes, tmp_path):
    kt, kh = homes
    keys = [("x", "y")]
    write_seq_npz(str(kh / "reuters.npz"), keys, [[[1]] * 5], [[7] * 5])
    assert reuters.load_data()[0][1].tolist() == [7] * 4  # from Keras' cache
    write_seq_npz(str(kt / "reuters.npz"), keys, [[[1]] * 5], [[8] * 5])
    assert reuters.load_data()[0][1].tolist() == [8] * 4  # the kerastorch cache comes first
    write_seq_npz(str(kh / "other.npz"), keys, [[[1]] * 5], [[9] * 5])
    assert reuters.load_data(path="other.npz")[0][1].tolist() == [9] * 4
    explicit = tmp_path / "elsewhere" / "r.npz"
    write_seq_npz(str(explicit), keys, [[[1]] * 5], [[6] * 5])
    assert reuters.load_data(path=str(explicit))[0][1].tolist() == [6] * 4
    with pytest.raises(DatasetNotFoundError, match="No Reuters file at path="):
        reuters.load_data(path=str(tmp_path / "elsewhere" / "missing.npz"))


@pytest.mark.parametrize("loader, name", [
    (imdb.load_data, "imdb.npz"),
    (reuters.load_data, "reuters.npz"),
    (boston_housing.load_data, "boston_housing.npz"),
    (california_housing.load_data, "california_housing.npz"),
    (imdb.get_word_index, "imdb_word_index.json"),
    (reuters.get_word_index, "reuters_word_index.json"),
])
def test_offline_error_names_file_and_folders(homes, loader, name):
    kt, kh = homes
    with pytest.raises(DatasetNotFoundError) as e:
        loader()
    msg = str(e.value)
    assert f"put {name}" in msg
    assert str(kt / name) in msg and str(kh / name) in msg
    assert "storage.googleapis.com/tensorflow/tf-keras-datasets/" + name in msg
    assert "Temporary failure in name resolution" in msg and "KERASTORCH_HOME" in msg
    assert not os.path.exists(kt / name) and not os.path.exists(str(kt / name) + ".part")


def _serving(monkeypatch, source):
    def fake(url, dest):
        shutil.copyfile(source, dest)

    monkeypatch.setattr(_fetch, "_urlretrieve", fake)


def test_download_checks_the_hash(homes, monkeypatch, tmp_path):
    kt, _ = homes
    source = tmp_path / "served.npz"
    x = np.arange(20.0).reshape(10, 2)
    np.savez(source, x=x, y=np.arange(10.0))
    _serving(monkeypatch, source)
    with pytest.raises(DatasetNotFoundError, match="downloaded with sha256 [0-9a-f]{64}, expected"):
        boston_housing.load_data()
    assert not os.listdir(kt)  # nothing half-written is left
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    monkeypatch.setattr(boston_housing, "_SHA256", sha)
    (xtr, _), (xte, _) = boston_housing.load_data(test_split=0.3)
    assert (kt / "boston_housing.npz").read_bytes() == source.read_bytes()
    assert len(xtr) == 7 and len(xte) == 3
    np.testing.assert_array_equal(np.sort(np.concatenate([xtr, xte])[:, 0]), x[:, 0])


def test_word_index_md5_download(homes, monkeypatch, tmp_path):
    source = tmp_path / "served.json"
    source.write_text('{"the": 1, "of": 2}')
    _serving(monkeypatch, source)
    monkeypatch.setattr(imdb, "_INDEX_MD5", hashlib.md5(source.read_bytes()).hexdigest())
    assert imdb.get_word_index() == {"the": 1, "of": 2}


def test_npz_refuses_pickled_code(homes, tmp_path):
    kt, _ = homes
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    x = np.empty(2, dtype=object)
    x[:] = [Evil(), [1]]
    os.makedirs(kt)
    np.savez(kt / "reuters.npz", x=x, y=np.zeros(2, np.int64))
    with pytest.raises(DatasetFormatError, match="reuters.npz.*Refusing"):
        reuters.load_data()
    assert not marker.exists()


@pytest.mark.parametrize("damage", ["not_zip", "missing_key", "length_mismatch"])
def test_damaged_npz_names_the_file(homes, damage):
    kt, _ = homes
    os.makedirs(kt)
    path = kt / "california_housing.npz"
    if damage == "not_zip":
        path.write_bytes(b"this is not a zip file")
    elif damage == "missing_key":
        np.savez(path, x=np.zeros((3, 8)))
    else:
        np.savez(path, x=np.zeros((3, 8)), y=np.zeros(4))
    with pytest.raises(DatasetFormatError, match="california_housing.npz"):
        california_housing.load_data()


# --------------------------------------------------------------------------------------------
# Housing arguments


@pytest.mark.parametrize("test_split", [1.0, -0.1, 1.5])
def test_bad_test_split(homes, test_split):
    with pytest.raises(ValueError, match="Invalid `test_split` argument"):
        boston_housing.load_data(test_split=test_split)
    with pytest.raises(ValueError, match="Invalid `test_split` argument"):
        california_housing.load_data(test_split=test_split)


def test_california_version(homes):
    kt, _ = homes
    os.makedirs(kt)
    np.savez(kt / "california_housing.npz", x=np.arange(1400.0).reshape(700, 2),
             y=np.arange(700.0))
    (x, y), (xt, yt) = california_housing.load_data(version="small", test_split=0.1)
    assert len(x) == 540 and len(xt) == 60
    assert sorted(np.concatenate([y, yt]).tolist()) == list(range(600))
    np.testing.assert_array_equal(np.concatenate([x, xt])[:, 0], 2 * np.concatenate([y, yt]))
    with pytest.raises(ValueError, match="version=medium"):
        california_housing.load_data(version="medium")
