"""MNIST for the examples: from the caches, or from a folder given on the command line.

A folder holding only the 10,000 test-set images (`t10k-*`, as ../shared/data/mnist does) is
split: the first 8,000 train, the last 2,000 test.
"""

import os

import kerastorch as keras
from kerastorch.datasets import _cache


def load(data_dir):
    if data_dir is None:
        return keras.datasets.mnist.load_data()
    if not os.path.isdir(data_dir):
        raise FileNotFoundError(f"--data-dir {data_dir!r} is not a folder. Pass a folder holding "
                                "mnist.npz or the MNIST IDX files.")
    npz = os.path.join(data_dir, "mnist.npz")
    if os.path.isfile(npz):
        return keras.datasets.mnist.load_data(path=npz)
    names = set(os.listdir(data_dir))
    if any(n.startswith("train-images") for n in names):
        return _cache.read_idx_folder(data_dir)
    images = [n for n in names if n.startswith("t10k-images")]
    labels = [n for n in names if n.startswith("t10k-labels")]
    if not images or not labels:
        raise FileNotFoundError(f"--data-dir {data_dir} holds neither mnist.npz nor the MNIST "
                                "IDX files (train-*/t10k-*-idx*-ubyte[.gz]).")
    x = _cache.read_idx(os.path.join(data_dir, images[0]))
    y = _cache.read_idx(os.path.join(data_dir, labels[0]))
    print(f"{data_dir} holds only the test set: training on its first 8,000 images, "
          "testing on the last 2,000.")
    return (x[:8000], y[:8000]), (x[8000:], y[8000:])
