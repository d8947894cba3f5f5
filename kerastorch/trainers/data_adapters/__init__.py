"""Data adapters: every input kind of `fit`/`evaluate`/`predict` as an iterable of device
batches `(x,)`, `(x, y)` or `(x, y, sample_weight)` (see `get_data_adapter`)."""

import types
import warnings

import torch

from kerastorch.trainers.data_adapters.array_adapter import ArrayBatches as ArrayBatches
from kerastorch.trainers.data_adapters.base import Batches as Batches
from kerastorch.trainers.data_adapters.iterable_adapters import (
    GeneratorBatches as GeneratorBatches, LoaderBatches as LoaderBatches,
    PyDatasetBatches as PyDatasetBatches)
from kerastorch.trainers.data_adapters.utils import (
    ClassWeights as ClassWeights, batch_to_device as batch_to_device,
    concat_to_numpy as concat_to_numpy, describe as describe,
    is_array_like as is_array_like, num_samples as num_samples,
    pack_x_y_sample_weight as pack_x_y_sample_weight, split_validation as split_validation,
    to_device as to_device, tree_leaves as tree_leaves, tree_map as tree_map,
    unpack_x_y_sample_weight as unpack_x_y_sample_weight)
from kerastorch.utils.py_dataset import PyDataset

__all__ = ["ArrayBatches", "Batches", "ClassWeights", "GeneratorBatches", "LoaderBatches",
           "PyDatasetBatches", "batch_to_device", "concat_to_numpy", "describe",
           "get_data_adapter",
           "is_array_like", "num_samples", "pack_x_y_sample_weight", "split_validation",
           "to_device", "tree_leaves", "tree_map", "unpack_x_y_sample_weight"]


def _unsupported(arg, what, kind):
    raise ValueError(f"When providing `x` as a {kind}, `{arg}` should not be passed. Instead, "
                     f"{what} should be included as part of the {kind}.")


def _kind(x):
    if isinstance(x, PyDataset):
        return "PyDataset"
    if isinstance(x, torch.utils.data.DataLoader):
        return "torch DataLoader"
    if isinstance(x, torch.utils.data.Dataset):
        return "torch Dataset"
    if isinstance(x, types.GeneratorType) or (hasattr(x, "__next__") and hasattr(x, "__iter__")):
        return "generator"
    if hasattr(x, "__iter__") and not isinstance(x, (str, bytes)):
        return "iterable"
    return None


def get_data_adapter(x, y=None, sample_weight=None, batch_size=None, steps=None,
                     shuffle=False, class_weight=None, device=None,
                     steps_name="steps_per_epoch"):
    """The `Batches` for `x` (and `y`, `sample_weight` when `x` holds arrays).

    Arrays/tensors (or lists/tuples/dicts of them) are moved to `device` once and sliced;
    a `torch.utils.data.Dataset` is batched with `batch_size` (default 32) by a DataLoader,
    shuffled when `shuffle`; a `DataLoader` gives its batches as they are; a generator or
    iterator is drawn from across epochs; a `PyDataset` is indexed batch by batch.
    `class_weight` (a dict) turns targets into per-sample weights, for every source.
    """
    weights = ClassWeights(class_weight) if class_weight is not None else None
    if x is not None and is_array_like(x):
        x = to_device(x, device, "x")
        y = to_device(y, device, "y")
        sample_weight = to_device(sample_weight, device, "sample_weight")
        if weights is not None:
            sample_weight = weights(y, sample_weight)
        return ArrayBatches(x, y, sample_weight, batch_size, shuffle, steps, steps_name)
    kind = _kind(x)
    if kind is None:
        raise ValueError(f"Unrecognized data type: x={describe(x)}. Expected numpy arrays or "
                         "torch tensors (or lists/dicts of them), a torch Dataset or "
                         "DataLoader, a generator, or a `keras.utils.PyDataset`.")
    if y is not None:
        _unsupported("y", "the targets", kind)
    if sample_weight is not None:
        _unsupported("sample_weight", "the sample weights", kind)
    if kind == "PyDataset":
        if x.num_batches is None and shuffle:
            warnings.warn("`shuffle=True` was passed, but will be ignored since the data `x` "
                          "was provided as an infinite PyDataset. The PyDataset is expected "
                          "to already be shuffled.", stacklevel=3)
        return PyDatasetBatches(x, device, steps, weights, shuffle=bool(shuffle),
                                steps_name=steps_name)
    if kind == "torch Dataset":
        iterable = isinstance(x, torch.utils.data.IterableDataset)
        loader = torch.utils.data.DataLoader(x, batch_size=batch_size or 32,
                                             shuffle=bool(shuffle) and not iterable)
        return LoaderBatches(loader, device, steps, weights, kind="torch Dataset",
                             steps_name=steps_name)
    if shuffle:
        warnings.warn(f"`shuffle=True` was passed, but will be ignored since the data `x` was "
                      f"provided as a {kind}. The {kind} is expected to already be "
                      "shuffled.", stacklevel=3)
    if kind == "generator":
        return GeneratorBatches(x, device, steps, weights, steps_name=steps_name)
    return LoaderBatches(x, device, steps, weights, kind=kind, steps_name=steps_name)
