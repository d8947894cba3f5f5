"""Thresholded confusion counts (TP, FP, TN, FN) for the confusion-matrix metrics, vectorised.

Keras' `metrics_utils.update_confusion_matrix_variables`, with the same semantics:
a prediction counts as positive at threshold `t` when `y_pred > t`; labels are cast to bool;
weights are `sample_weight` (broadcast to `y_pred`) times `label_weights` (along the last axis).

Two ways, as in Keras:
- evenly spaced thresholds (`i / (T - 1)`, possibly with an epsilon below 0 and above 1): each
  prediction falls into the bucket `ceil(p * (T - 1)) - 1`; one `index_add_` per label kind and a
  reversed cumulative sum give every threshold's counts in O(T + N);
- any other thresholds: one `(T, N)` comparison and one matmul for the four counts.

Neither syncs with the host: no `.item()`, no branching on tensor values, no `bincount`.
"""

import numpy as np
import torch

from kerastorch import config
from kerastorch.losses import as_tensor, squeeze_or_expand_to_same_rank
from kerastorch.metrics.base import Metric

NEG_INF = -1e10


def to_list(x):
    if isinstance(x, (list, tuple)):
        return list(x)
    if isinstance(x, np.ndarray):
        return x.tolist()
    return [x]


def parse_init_thresholds(thresholds, default_threshold=0.5):
    """`thresholds` (a float or a list in `[0, 1]`, or None) as a list; Keras' check."""
    if thresholds is not None:
        invalid = [t for t in to_list(thresholds) if t is None or t < 0 or t > 1]
        if invalid:
            raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")
    return to_list(default_threshold if thresholds is None else thresholds)


def is_evenly_distributed_thresholds(thresholds):
    """Whether `thresholds` are `[0, 1/(T-1), ..., 1]` (3 or more of them), as Keras checks."""
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=config.epsilon()))


def filter_top_k(x, k):
    """Keep the `k` largest values of the last axis, set the rest to `NEG_INF` (Keras' rule).

    Ties go to the lower index, as `jax.lax.top_k` breaks them (a stable descending sort).
    """
    order = torch.sort(x, dim=-1, descending=True, stable=True).indices[..., :k]
    keep = torch.zeros_like(x, dtype=torch.bool).scatter_(-1, order, True)
    return torch.where(keep, x, torch.full_like(x, NEG_INF))


def _prepare(metric, y_true, y_pred, sample_weight, top_k, class_id, dtype):
    """Keras' casts, rank matching, top-k filter and class slice; returns tensors."""
    y_pred = metric._place(y_pred)
    y_true = as_tensor(y_true, device=y_pred.device)
    if y_true.dtype != dtype:
        y_true = y_true.to(dtype)
    if y_pred.dtype != dtype:
        y_pred = y_pred.to(dtype)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"{type(metric).__name__} ({metric.name!r}): `y_true` and `y_pred` must have the same "
            f"shape. Received: y_true.shape={tuple(y_true.shape)}, "
            f"y_pred.shape={tuple(y_pred.shape)}")
    if sample_weight is not None:
        sample_weight = as_tensor(sample_weight, dtype, y_pred.device).unsqueeze(-1)
        _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight,
                                                          expand_rank_1=False)
    if top_k is not None:
        y_pred = filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(
                "When class_id is provided, y_pred must be a 2D array with shape "
                f"(num_samples, num_classes), found shape: {tuple(y_pred.shape)}")
        y_true = y_true[..., class_id, None]
        y_pred = y_pred[..., class_id, None]
    if sample_weight is not None:
        try:
            sample_weight = torch.broadcast_to(sample_weight, y_pred.shape)
        except RuntimeError:
            raise ValueError(
                f"{type(metric).__name__} ({metric.name!r}): `sample_weight` does not broadcast "
                f"to the predictions. Received: sample_weight.shape="
                f"{tuple(sample_weight.shape)}, y_pred.shape={tuple(y_pred.shape)}") from None
    return y_true, y_pred, sample_weight


def _weights(sample_weight, label_weights, shape):
    """`sample_weight * label_weights`, broadcast to `shape` (None when both are None)."""
    if label_weights is not None:
        label_weights = torch.broadcast_to(label_weights, shape)
        return label_weights if sample_weight is None else sample_weight * label_weights
    return sample_weight


def confusion_counts(metric, y_true, y_pred, top_k=None, class_id=None, sample_weight=None,
                     multi_label=False, label_weights=None):
    """TP, FP, TN, FN at each threshold, as 4 tensors of shape `(T,)` (`(T, L)` multi-label).

    Args:
        metric: The calling `ThresholdedMetric` (its thresholds, device, dtype; its name for
            errors).
        top_k, class_id: As `Precision`/`Recall` take them.
        multi_label: Keep the last axis (labels) apart instead of flattening.
        label_weights: A `(L,)` tensor, applied when not `multi_label`.
    """
    dtype = metric._torch_dtype
    y_true, y_pred, sample_weight = _prepare(metric, y_true, y_pred, sample_weight, top_k,
                                             class_id, dtype)
    thresholds = metric._thresholds_t
    num_t = thresholds.shape[0]
    weights = _weights(sample_weight, label_weights, y_pred.shape)
    labels = y_true != 0
    if multi_label:
        if y_pred.ndim != 2:
            raise ValueError(
                f"{type(metric).__name__} ({metric.name!r}): `y_pred` must have rank 2 when "
                f"`multi_label=True`. Found rank {y_pred.ndim}. Full shape received for "
                f"`y_pred`: {tuple(y_pred.shape)}")
    else:
        labels, y_pred = labels.reshape(-1, 1), y_pred.reshape(-1, 1)
        weights = None if weights is None else weights.reshape(-1, 1)
    true_w = labels.to(dtype)  # (N, L): the weight of each entry as a positive / a negative
    false_w = 1.0 - true_w
    if weights is not None:
        true_w, false_w = true_w * weights, false_w * weights
    if metric._thresholds_distributed_evenly:
        tp, fp, tn, fn = _bucketed(y_pred, true_w, false_w, num_t, metric._with_epsilon)
    else:
        pos = (y_pred.unsqueeze(0) > thresholds.reshape(-1, 1, 1)).to(dtype)  # (T, N, L)
        both = torch.cat([pos, 1.0 - pos])  # (2T, N, L): predicted positive, then negative
        t_counts = torch.einsum("snl,nl->sl", both, true_w)
        f_counts = torch.einsum("snl,nl->sl", both, false_w)
        tp, fn = t_counts[:num_t], t_counts[num_t:]
        fp, tn = f_counts[:num_t], f_counts[num_t:]
    if not multi_label:
        tp, fp, tn, fn = tp[:, 0], fp[:, 0], tn[:, 0], fn[:, 0]
    return tp, fp, tn, fn


def _bucketed(y_pred, true_w, false_w, num_t, with_epsilon):
    """Keras' O(T + N) method for evenly spaced thresholds (see the module docstring)."""
    n_labels = y_pred.shape[1]
    y_pred = y_pred.clamp(0.0, 1.0)
    bucket = torch.ceil(y_pred * (num_t - 1.0)) - 1.0
    # thresholds_with_epsilon (AUC's): everything in [0, 1] is above the first threshold.
    lo = 0.0 if with_epsilon else -1.0
    bucket = bucket.clamp_min(lo).to(torch.int64) + 1  # bucket -1 (not above t_0) -> slot 0
    slots = num_t + 1
    index = (bucket + torch.arange(n_labels, device=y_pred.device) * slots).reshape(-1)
    sums = torch.zeros(2, n_labels * slots, dtype=true_w.dtype, device=y_pred.device)
    sums[0].index_add_(0, index, true_w.reshape(-1))
    sums[1].index_add_(0, index, false_w.reshape(-1))
    sums = sums.reshape(2, n_labels, slots)[:, :, 1:]  # drop slot 0: counted nowhere
    # A prediction in bucket i is above thresholds 0..i: reversed cumulative sums.
    above = sums.flip(-1).cumsum(-1).flip(-1).transpose(1, 2)  # (2, T, L)
    tp, fp = above[0], above[1]
    fn = true_w.sum(0) - tp
    tn = false_w.sum(0) - fp
    return tp, fp, tn, fn


class ThresholdedMetric(Metric):
    """A metric whose state is counted at thresholds: keeps them as a device tensor.

    Subclasses call `_set_thresholds(values, evenly)` in `__init__`; `confusion_counts` reads
    `_thresholds_t`, `_thresholds_distributed_evenly` and `_with_epsilon`.
    """

    def _set_thresholds(self, values, evenly):
        self._thresholds_distributed_evenly = evenly
        # Keras' test: endpoints beyond [0, 1] (AUC's) put everything in [0, 1] above the first.
        self._with_epsilon = bool(evenly and (values[0] < 0.0 or values[-1] > 1.0))
        self._thresholds_t = torch.as_tensor(np.asarray(values, dtype=np.float64),
                                             dtype=self._torch_dtype, device=self._device)

    def _follow(self, device):
        if device != self._device:
            self._thresholds_t = self._thresholds_t.to(device)
        super()._follow(device)
