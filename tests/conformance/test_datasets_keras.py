"""Datasets against Keras 3's own `load_data`, both reading the same generated files.

No network here: small files are generated in Keras' exact on-disk formats (the CIFAR pickles,
the `.npz` files Keras downloads) in Keras' cache layout under `$KERAS_HOME/datasets`. Keras'
`get_file` would check the real files' hashes and re-download, so each Keras dataset module's
`get_file` is replaced by one that returns the path Keras itself computes in that cache
(`<cache>/datasets/<fname>`; for CIFAR the extraction folder `<fname>`). kerastorch finds the
same files through its lookup of Keras' cache, with `$KERASTORCH_HOME` an empty folder.
"""

import importlib
import json
import os
import pickle

import numpy as np
import pytest

import kerastorch.datasets as kt_datasets
from kerastorch import config

pytestmark = pytest.mark.conformance


@pytest.fixture
def homes(tmp_path, monkeypatch, keras3):
    kt, kh = tmp_path / "kt", tmp_path / "kh"
    kt.mkdir()
    monkeypatch.setenv("KERASTORCH_HOME", str(kt))
    monkeypatch.setenv("KERAS_HOME", str(kh))
    datadir = kh / "datasets"
    datadir.mkdir(parents=True)

    def fake_get_file(fname=None, origin=None, extract=False, file_hash=None, **kwargs):
        path = os.path.join(str(datadir), fname)
        assert os.path.exists(path), path
        return path

    for name in ("cifar10", "cifar100", "imdb", "reuters", "boston_housing",
                 "california_housing"):
        module = importlib.import_module(f"keras.src.datasets.{name}")
        monkeypatch.setattr(module, "get_file", fake_get_file)
    return datadir


# --------------------------------------------------------------------------------------------
# Files in Keras' formats


def write_cifar_batch(path, n, rng, label_keys, num_classes):
    """A CIFAR batch: a pickled dict with bytes keys (Python 2's str, as the originals hold),
    `data` uint8 `(n, 3072)`, labels as lists of ints."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    d = {b"batch_label": b"generated", b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
         b"filenames": [b"f%d.png" % i for i in range(n)]}
    for key, k in zip(label_keys, num_classes):
        d[key] = rng.integers(0, k, n).tolist()
    with open(path, "wb") as f:
        pickle.dump(d, f, protocol=3)


def write_sequences_npz(path, rng, keys, sizes, max_word=40, max_len=12):
    """`x*` object arrays of ragged lists of word indices (Zipf-like), `y*` int64 labels."""
    arrays = {}
    for (xk, yk), n in zip(keys, sizes):
        seqs = np.empty(n, dtype=object)
        for i in range(n):
            length = int(rng.integers(1, max_len))
            seqs[i] = [int(w) for w in np.minimum(rng.zipf(1.5, length), max_word)]
        arrays[xk] = seqs
        arrays[yk] = rng.integers(0, 5, n).astype(np.int64)
    np.savez(path, **arrays)


def assert_same(got, want):
    for g, w in zip((*got[0], *got[1]), (*want[0], *want[1])):
        assert g.dtype == w.dtype
        assert g.shape == w.shape
        if g.dtype == object:
            assert g.tolist() == w.tolist()
        else:
            np.testing.assert_array_equal(g, w)


# --------------------------------------------------------------------------------------------
# Tests


def test_cifar10(homes, keras3, rng):
    # Keras' loader writes each batch into a preallocated (50000, ...) array: full-size batches.
    folder = homes / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        write_cifar_batch(str(folder / name), 10000, rng, [b"labels"], [10])
    want = keras3.datasets.cifar10.load_data()
    got = kt_datasets.cifar10.load_data()
    assert_same(got, want)
    assert got[0][0].shape == (50000, 32, 32, 3) and got[0][1].shape == (50000, 1)
    assert got[1][0].dtype == np.uint8 and got[1][1].dtype == np.uint8


@pytest.mark.parametrize("label_mode", ["fine", "coarse"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_cifar100(homes, keras3, rng, label_mode, data_format):
    folder = homes / "cifar-100-python-target" / "cifar-100-python"
    keys, classes = [b"fine_labels", b"coarse_labels"], [100, 20]
    write_cifar_batch(str(folder / "train"), 7, rng, keys, classes)
    write_cifar_batch(str(folder / "test"), 5, rng, keys, classes)
    old_keras, old_ours = keras3.config.image_data_format(), config.image_data_format()
    keras3.config.set_image_data_format(data_format)
    config.set_image_data_format(data_format)
    try:
        want = keras3.datasets.cifar100.load_data(label_mode=label_mode)
        got = kt_datasets.cifar100.load_data(label_mode=label_mode)
    finally:
        keras3.config.set_image_data_format(old_keras)
        config.set_image_data_format(old_ours)
    assert_same(got, want)
    assert got[0][0].shape == ((7, 32, 32, 3) if data_format == "channels_last" else (7, 3, 32, 32))


SEQ_OPTIONS = [
    {},
    {"num_words": 15},
    {"num_words": 20, "skip_top": 4},
    {"maxlen": 8},
    {"maxlen": 8, "num_words": 10, "oov_char": None},
    {"start_char": None, "index_from": 0},
    {"start_char": None, "index_from": 2, "oov_char": 7, "skip_top": 5},
    {"start_char": 9, "oov_char": None, "skip_top": 6},
    {"seed": 7, "index_from": 0},
]


@pytest.mark.parametrize("kwargs", SEQ_OPTIONS, ids=str)
def test_imdb(homes, keras3, rng, kwargs):
    write_sequences_npz(str(homes / "imdb.npz"), rng,
                        [("x_train", "y_train"), ("x_test", "y_test")], [13, 11])
    assert_same(kt_datasets.imdb.load_data(**kwargs), keras3.datasets.imdb.load_data(**kwargs))


def test_imdb_equal_lengths_give_2d_object_arrays(homes, keras3, rng):
    # np.array(list of equal-length lists, dtype=object) is 2-D: Keras returns that too.
    write_sequences_npz(str(homes / "imdb.npz"), rng,
                        [("x_train", "y_train"), ("x_test", "y_test")], [4, 3], max_len=2)
    got = kt_datasets.imdb.load_data()
    assert_same(got, keras3.datasets.imdb.load_data())
    assert got[0][0].shape == (4, 2)


@pytest.mark.parametrize("kwargs", SEQ_OPTIONS + [{"test_split": 0.5}, {"test_split": 0.0},
                                                  {"test_split": 0.3, "maxlen": 6}], ids=str)
def test_reuters(homes, keras3, rng, kwargs):
    write_sequences_npz(str(homes / "reuters.npz"), rng, [("x", "y")], [23])
    assert_same(kt_datasets.reuters.load_data(**kwargs),
                keras3.datasets.reuters.load_data(**kwargs))


@pytest.mark.parametrize("name", ["imdb", "reuters"])
def test_word_index(homes, keras3, name):
    index = {"the": 1, "and": 2, "émigré": 3}
    with open(homes / f"{name}_word_index.json", "w") as f:
        json.dump(index, f)
    module = getattr(kt_datasets, name)
    assert module.get_word_index() == getattr(keras3.datasets, name).get_word_index() == index


def test_reuters_label_names(keras3):
    assert kt_datasets.reuters.get_label_names() == keras3.datasets.reuters.get_label_names()


@pytest.mark.parametrize("kwargs", [{}, {"test_split": 0.5, "seed": 3}, {"test_split": 0.0}])
def test_boston_housing(homes, keras3, rng, kwargs):
    np.savez(homes / "boston_housing.npz", x=rng.normal(size=(31, 13)), y=rng.normal(size=31))
    assert_same(kt_datasets.boston_housing.load_data(**kwargs),
                keras3.datasets.boston_housing.load_data(**kwargs))


@pytest.mark.parametrize("kwargs", [{}, {"version": "small"},
                                    {"version": "small", "test_split": 0.25, "seed": 5},
                                    {"test_split": 0.9}])
def test_california_housing(homes, keras3, rng, kwargs):
    np.savez(homes / "california_housing.npz", x=rng.normal(size=(613, 8)).astype(np.float32),
             y=rng.uniform(1e4, 5e5, size=613).astype(np.float32))
    got = kt_datasets.california_housing.load_data(**kwargs)
    assert_same(got, keras3.datasets.california_housing.load_data(**kwargs))
    n = 600 if kwargs.get("version") == "small" else 613
    assert len(got[0][0]) + len(got[1][0]) == n
