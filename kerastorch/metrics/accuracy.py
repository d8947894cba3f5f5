"""Accuracy metrics: per-sample match functions and their running means.

The functions return 1.0 where a sample matches and 0.0 where not, in floatx, one value per
sample, exactly as Keras' do. Comparisons rely on torch's type promotion (an int64 label
against a float prediction compares as float), which is Keras' explicit cast in one kernel.
The metric classes sum the boolean matches directly, which saves that cast.
"""

import torch

from kerastorch import config
from kerastorch.losses import as_tensor, squeeze_or_expand_to_same_rank, target_kind
from kerastorch.metrics.base import FUNCTIONS, MeanMetricWrapper, register


def _tensors(y_true, y_pred):
    y_pred = as_tensor(y_pred)
    return as_tensor(y_true, device=y_pred.device), y_pred


def _accuracy_matches(y_true, y_pred):
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_tensors(y_true, y_pred))
    return torch.eq(y_true, y_pred)


def _binary_matches(y_true, y_pred, threshold=0.5):
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_tensors(y_true, y_pred))
    # Keras casts the boolean to y_true's dtype first; eq's promotion does the same.
    return torch.eq(y_true, y_pred > threshold)


def _categorical_matches(y_true, y_pred):
    if (type(y_true) is torch.Tensor and type(y_pred) is torch.Tensor and y_true.ndim == 2
            and y_pred.ndim == 2 and y_true.device == y_pred.device):
        return torch.eq(y_true.argmax(-1), y_pred.argmax(-1))  # the per-batch hot path
    y_true, y_pred = _tensors(y_true, y_pred)
    y_true = y_true.argmax(-1)
    true_shape = y_true.shape
    reshape_matches = y_true.ndim == y_pred.ndim
    if reshape_matches:
        y_true = y_true.squeeze(-1)
    matches = torch.eq(y_true, y_pred.argmax(-1))
    return matches.reshape(true_shape) if reshape_matches else matches


def _sparse_matches(y_true, y_pred):
    y_true, y_pred = _tensors(y_true, y_pred)
    true_shape = y_true.shape
    reshape_matches = y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1
    if reshape_matches:
        y_true = y_true.squeeze(-1)
    matches = torch.eq(y_true, y_pred.argmax(-1))
    if reshape_matches:
        matches = matches.reshape(true_shape)
    if matches.ndim > 1 and matches.shape[-1] == 1:
        matches = matches.squeeze(-1)
    return matches


@FUNCTIONS.register()
def accuracy(y_true, y_pred):
    """1.0 where `y_true == y_pred` elementwise (after Keras' rank matching)."""
    return _accuracy_matches(y_true, y_pred).to(config.float_dtype())


@FUNCTIONS.register()
def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where `y_pred > threshold` equals `y_true` (0/1 labels), elementwise."""
    return _binary_matches(y_true, y_pred, threshold).to(config.float_dtype())


@FUNCTIONS.register()
def categorical_accuracy(y_true, y_pred):
    """1.0 where `argmax(y_true, -1) == argmax(y_pred, -1)`; `y_true` is one-hot."""
    return _categorical_matches(y_true, y_pred).to(config.float_dtype())


@FUNCTIONS.register()
def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the integer label equals `argmax(y_pred, -1)`.

    Labels may be int or float, shape `(n,)` or `(n, 1)`; a float label that is not a whole
    number never matches (Keras compares, it does not truncate).
    """
    return _sparse_matches(y_true, y_pred).to(config.float_dtype())


@register()
class Accuracy(MeanMetricWrapper):
    """How often `y_pred` equals `y_true` exactly.

    Args:
        name: Optional name.
        dtype: Optional state dtype.
    """

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)
        self._values_fn = _accuracy_matches
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


@register()
class BinaryAccuracy(MeanMetricWrapper):
    """How often `y_pred > threshold` matches binary labels (also for logits: the threshold
    stays 0.5 unless given).

    Args:
        name: Optional name.
        dtype: Optional state dtype.
        threshold: Float; predictions above it count as 1.
    """

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold
        self._values_fn = _binary_matches
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}


@register()
class CategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax of `y_pred` matches that of one-hot `y_true` (logits work too).

    Args:
        name: Optional name.
        dtype: Optional state dtype.
    """

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)
        self._values_fn = _categorical_matches
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


@register()
class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax of `y_pred` matches integer labels (logits work too).

    Args:
        name: Optional name.
        dtype: Optional state dtype.
    """

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)
        self._values_fn = _sparse_matches
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


def _in_top_k(targets, predictions, k):
    """Keras' `in_top_k`: the target's score has fewer than `k` scores strictly above it
    (so ties count in the target's favour); a NaN score or an out-of-range target never is."""
    n = predictions.shape[-1]
    valid = (targets >= 0) & (targets < n)
    at_label = predictions.gather(-1, torch.where(valid, targets, 0).unsqueeze(-1))
    at_label = torch.where(torch.isnan(at_label) | ~valid.unsqueeze(-1), -torch.inf, at_label)
    return (predictions > at_label).sum(-1) < k


def _top_k_matches(y_true, y_pred, k=5):
    y_true, y_pred = _tensors(y_true, y_pred)
    y_true = y_true.argmax(-1)
    return _flat_top_k(y_true, y_pred, k)


def _flat_top_k(y_true, y_pred, k):
    # Predictions to (samples, classes), labels to (samples,); matches in the labels' shape.
    true_shape = y_true.shape
    if y_pred.ndim > 2:
        y_pred = y_pred.reshape(-1, y_pred.shape[-1])
    if y_true.ndim > 1:
        y_true = y_true.reshape(-1)
    if y_true.shape[0] != y_pred.shape[0]:
        raise ValueError("Top-k accuracy needs one label per row of `y_pred`. Received: "
                         f"y_true.shape={tuple(true_shape)}, y_pred.shape="
                         f"{tuple(y_pred.shape)}")
    return _in_top_k(y_true, y_pred, k).reshape(true_shape)


def _sparse_top_k_matches(y_true, y_pred, k=5, from_sorted_ids=False):
    y_true, y_pred = _tensors(y_true, y_pred)
    if from_sorted_ids:
        # y_pred holds class ids sorted by score: a match is the label among the first k.
        true_shape = y_true.shape
        y_true = y_true.to(y_pred.dtype).reshape(-1)
        y_pred = y_pred.reshape(-1, y_pred.shape[-1])
        return torch.eq(y_true.unsqueeze(1), y_pred[:, :k]).any(1).reshape(true_shape)
    # Keras converts the labels to int32: a float label is truncated, not compared.
    return _flat_top_k(y_true.to(torch.int64), y_pred, k)


@FUNCTIONS.register()
def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot target's class is among the `k` highest predictions (Keras'
    `in_top_k`: a class tied with the k-th score counts)."""
    return _top_k_matches(y_true, y_pred, k).to(config.float_dtype())


@FUNCTIONS.register()
def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the integer label is among the `k` highest predictions; with
    `from_sorted_ids`, `y_pred` holds class ids sorted by score and the first `k` are read."""
    return _sparse_top_k_matches(y_true, y_pred, k, from_sorted_ids).to(config.float_dtype())


@register()
class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot target is among the top `k` predictions.

    Args:
        k: Number of top predictions to consider (default 5).
        name: Optional name.
        dtype: Optional state dtype.
    """

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k
        self._values_fn = _top_k_matches
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


@register()
class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the top `k` predictions.

    Args:
        k: Number of top predictions to consider (default 5).
        name: Optional name.
        dtype: Optional state dtype.
        from_sorted_ids: If True, `y_pred` holds the class ids sorted by score (e.g. from
            `topk`), not scores.
    """

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None,
                 from_sorted_ids=False):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k,
                         from_sorted_ids=from_sorted_ids)
        self.k = k
        self.from_sorted_ids = from_sorted_ids
        self._values_fn = _sparse_top_k_matches
        self._direction = "up"

    def get_config(self):
        # `from_sorted_ids` appears in Keras' config only when it is set
        extra = {"from_sorted_ids": True} if self.from_sorted_ids else {}
        return {"name": self.name, "dtype": self.dtype, "k": self.k, **extra}


def resolve_accuracy(name, y_true, y_pred):
    """Keras' rule for `metrics=["accuracy"]` (or `"acc"`, any case), from the shapes.

    `y_pred` last dim 1 -> `BinaryAccuracy`; `y_true` of lower rank than `y_pred`, or `y_true`
    last dim 1 with `y_pred` last dim > 1 -> `SparseCategoricalAccuracy`; else
    `CategoricalAccuracy`. The metric is named `name` as given, so `"acc"` logs as `acc`.

    Args:
        name: `"accuracy"` or `"acc"`.
        y_true: Targets (a tensor, array, or shape tuple).
        y_pred: Model outputs (a tensor, array, or shape tuple).
    """
    if str(name).lower() not in ("accuracy", "acc"):
        raise ValueError(f"Expected 'accuracy' or 'acc'. Received: name={name!r}")
    cls = {"binary": BinaryAccuracy, "sparse": SparseCategoricalAccuracy,
           "categorical": CategoricalAccuracy}[target_kind(y_true, y_pred)]
    return cls(name=str(name))
