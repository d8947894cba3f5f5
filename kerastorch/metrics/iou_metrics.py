"""Intersection-over-union metrics: IoU, BinaryIoU, MeanIoU, OneHotIoU, OneHotMeanIoU.

All accumulate one `(num_classes, num_classes)` confusion matrix (rows: true class, columns:
predicted class) on the device, with one `index_add_` per update; `result()` reads
`IoU = TP / (TP + FP + FN)` per target class and averages over the classes that occurred.
As in Keras the state dtype defaults to `int32`, so float sample weights are truncated.
"""

import warnings

import torch

from kerastorch import config
from kerastorch.losses import as_tensor
from kerastorch.metrics.base import Metric, register


class _IoUBase(Metric):
    """The confusion-matrix state and its update, shared by the IoU metrics.

    Args:
        num_classes: Number of classes (the matrix is `num_classes` square).
        name: Optional name.
        dtype: State dtype; default `"int32"`.
        ignore_class: Optional class id whose targets are left out (e.g. a "void" class).
        sparse_y_true: Whether labels are class ids (else one-hot / scores along `axis`).
        sparse_y_pred: Whether predictions are class ids (else scores along `axis`).
        axis: The class axis of non-sparse inputs (default -1).
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True,
                 sparse_y_pred=True, axis=-1):
        super().__init__(name=name, dtype=dtype or "int32")
        self._direction = "up"
        self.num_classes, self.ignore_class, self.axis = num_classes, ignore_class, axis
        self.sparse_y_true, self.sparse_y_pred = sparse_y_true, sparse_y_pred
        self.total_cm = self._add_state((num_classes, num_classes),
                                        name="total_confusion_matrix")

    def update_state(self, y_true, y_pred, sample_weight=None):
        dtype = self._torch_dtype
        y_pred = self._place(y_pred)
        y_true = as_tensor(y_true, device=y_pred.device)
        if not self.sparse_y_true:
            y_true = y_true.argmax(self.axis)
        if not self.sparse_y_pred:
            y_pred = y_pred.argmax(self.axis)
        y_true = y_true.to(dtype).reshape(-1)
        y_pred = y_pred.to(dtype).reshape(-1)
        if y_true.shape != y_pred.shape:
            raise ValueError(
                f"{type(self).__name__} ({self.name!r}): `y_true` and `y_pred` must hold the same "
                f"number of class ids. Received: {y_true.shape[0]} and {y_pred.shape[0]} "
                "(after argmax of the one-hot/score inputs and flattening)")
        if sample_weight is None:
            weights = torch.ones_like(y_true)
        else:
            sample_weight = as_tensor(sample_weight, device=y_pred.device)
            if sample_weight.is_floating_point() and not dtype.is_floating_point:
                warnings.warn("You are passing weight as `float`, but dtype is `int`. This may "
                              "result in an incorrect weight due to type casting Consider using "
                              "integer weights.", stacklevel=2)
            weights = sample_weight.to(dtype)
            if weights.ndim > 1:
                weights = weights.reshape(-1)
            if weights.shape != y_true.shape and weights.numel() != 1:
                raise ValueError(
                    f"{type(self).__name__} ({self.name!r}): `sample_weight` must have one weight "
                    f"per class id (or be a scalar). Received: sample_weight.shape="
                    f"{tuple(sample_weight.shape)} for {y_true.shape[0]} class ids")
            weights = torch.broadcast_to(weights, y_true.shape)
        # Out-of-range ids (and the ignored class) go nowhere: weight 0, index 0.
        n = self.num_classes
        keep = (y_true >= 0) & (y_true < n) & (y_pred >= 0) & (y_pred < n)
        if self.ignore_class is not None:
            keep &= y_true != self.ignore_class
        index = torch.where(keep, y_true.to(torch.int64) * n + y_pred.to(torch.int64), 0)
        weights = torch.where(keep, weights, torch.zeros_like(weights))
        self.total_cm.view(-1).index_add_(0, index, weights)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


@register()
class IoU(_IoUBase):
    """Mean IoU over `target_class_ids`: `TP / (TP + FP + FN)` per class, averaged over the
    target classes present in the targets or predictions.

    Args:
        num_classes: Number of classes.
        target_class_ids: Class ids to average over.
        name, dtype, ignore_class, sparse_y_true, sparse_y_pred, axis: See `MeanIoU`.
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)
        if max(target_class_ids) >= num_classes:
            raise ValueError(f"Target class id {max(target_class_ids)} is out of range, which is "
                             f"[0, {num_classes}).")
        self.target_class_ids = list(target_class_ids)
        self._target_ids = torch.as_tensor(self.target_class_ids, dtype=torch.int64)

    def result(self):
        cm = self.total_cm.to(torch.float32)
        true_positives = torch.diagonal(cm)
        # column sums + row sums = 2 TP + FP + FN
        denominator = cm.sum(0) + cm.sum(1) - true_positives
        ids = self._target_ids.to(cm.device)
        true_positives, denominator = true_positives[ids], denominator[ids]
        valid = denominator > 1e-9  # a class never seen is left out of the mean
        eps = config.epsilon()
        iou = torch.where(valid, true_positives / (denominator + eps), 0.0)
        return iou.sum(-1) / (valid.to(torch.float32).sum() + eps)

    def get_config(self):
        cfg = super().get_config()
        return {"name": cfg["name"], "dtype": cfg["dtype"], "num_classes": self.num_classes,
                "target_class_ids": self.target_class_ids, **{
                    k: cfg[k] for k in ("ignore_class", "sparse_y_true", "sparse_y_pred",
                                        "axis")}}


@register()
class BinaryIoU(IoU):
    """IoU of binary predictions thresholded at `threshold` (`y_pred >= threshold` is class 1).

    Args:
        target_class_ids: Which of classes 0 and 1 to average over (default both).
        threshold: Float; predictions at or above it are class 1.
        name: Optional name.
        dtype: State dtype; default `"int32"`.
    """

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = as_tensor(self._place(y_pred), torch.float32)
        return super().update_state(y_true, (y_pred >= self.threshold).to(self._torch_dtype),
                                    sample_weight)

    def get_config(self):
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold,
                "name": self.name, "dtype": self.dtype}


@register()
class MeanIoU(IoU):
    """Mean IoU over all `num_classes` classes (those present).

    Args:
        num_classes: Number of classes.
        name: Optional name.
        dtype: State dtype; default `"int32"`.
        ignore_class: Optional class id whose targets are left out.
        sparse_y_true: Whether labels are class ids (else one-hot along `axis`).
        sparse_y_pred: Whether predictions are class ids (else scores along `axis`).
        axis: The class axis of non-sparse inputs.
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True,
                 sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, list(range(num_classes)), name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


@register()
class OneHotIoU(IoU):
    """`IoU` for one-hot targets (and, by default, score predictions: argmax along `axis`).

    Args: as `IoU`, without `sparse_y_true`; `sparse_y_pred` defaults to False.
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, target_class_ids, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "target_class_ids": self.target_class_ids,
                "name": self.name, "dtype": self.dtype, "ignore_class": self.ignore_class,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


@register()
class OneHotMeanIoU(MeanIoU):
    """`MeanIoU` for one-hot targets (and, by default, score predictions).

    Args: as `MeanIoU`, without `sparse_y_true`; `sparse_y_pred` defaults to False.
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}
