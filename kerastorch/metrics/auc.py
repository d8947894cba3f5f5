"""`AUC`: the area under the ROC or PR curve, by a Riemann sum over thresholded counts."""

import numpy as np
import torch

from kerastorch import config
from kerastorch.losses import divide_no_nan
from kerastorch.metrics import confusion_utils as cu
from kerastorch.metrics.base import register

_CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
_SUMMATIONS = ("interpolation", "majoring", "minoring")


def _curve(key):
    key = getattr(key, "value", key)  # Keras' AUCCurve enum
    if str(key) in ("ROC", "roc", "PR", "pr", "PRGAIN", "prgain"):
        return _CURVES[str(key).lower()]
    raise ValueError(f'Invalid AUC curve value: "{key}". Expected values are '
                     '["PR", "ROC", "PRGAIN"]')


def _summation(key):
    key = getattr(key, "value", key)  # Keras' AUCSummationMethod enum
    for method in _SUMMATIONS:
        if key in (method, method.capitalize()):
            return method
    raise ValueError(f'Invalid AUC summation method value: "{key}". Expected values are '
                     '["interpolation", "majoring", "minoring"]')


@register()
class AUC(cu.ThresholdedMetric):
    """Approximate AUC (area under the ROC or PR curve) from counts at `num_thresholds`.

    Thresholds are `num_thresholds - 2` evenly spaced values in `(0, 1)` plus `-epsilon` and
    `1 + epsilon` (or the given `thresholds` plus those two ends); the curve's points come
    from the TP/FP/TN/FN counts there and the area is a Riemann sum.

    Args:
        num_thresholds: Int > 1 (default 200); ignored when `thresholds` is given.
        curve: `"ROC"` (default), `"PR"` or `"PRGAIN"`.
        summation_method: `"interpolation"` (trapezoids for ROC; Davis & Goadrich's
            interpolation for PR), `"minoring"` (lower sums) or `"majoring"` (upper sums).
        name: Optional name.
        dtype: Optional state dtype.
        thresholds: Optional list of floats in `[0, 1]` to use instead of evenly spaced ones.
        multi_label: If True, keep one curve per label (last axis of rank-2 data) and average
            their AUCs; else flatten everything into one curve.
        num_labels: With `multi_label`, the number of labels (else known at the first update).
        label_weights: Optional per-label non-negative weights: the weighted mean of the label
            AUCs with `multi_label`, else weights on each label's contributions to the counts.
        from_logits: Apply a sigmoid to `y_pred` first.
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            self.num_thresholds = len(thresholds) + 2
            thresholds = sorted(thresholds)
            evenly = cu.is_evenly_distributed_thresholds(np.array([0.0] + thresholds + [1.0]))
        else:
            if num_thresholds <= 1:
                raise ValueError("Argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds}")
            self.num_thresholds = num_thresholds
            thresholds = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            evenly = True
        eps = config.epsilon()
        self._thresholds = np.array([0.0 - eps] + thresholds + [1.0 + eps])
        self._set_thresholds(self._thresholds, evenly)
        self.curve = _curve(curve)
        self.summation_method = _summation(summation_method)
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = None if label_weights is None else torch.as_tensor(
            np.asarray(label_weights), dtype=self._torch_dtype, device=self._device)
        self._from_logits = from_logits
        self._built = False
        if multi_label:
            if num_labels:
                self._build((None, num_labels))
        else:
            if num_labels:
                raise ValueError("`num_labels` is needed only when `multi_label` is True.")
            self._build(None)

    @property
    def thresholds(self):
        """The thresholds, with the two end points."""
        return list(self._thresholds)

    def _build(self, shape):
        if self.multi_label:
            if len(shape) != 2:
                raise ValueError("`y_pred` must have rank 2 when `multi_label=True`. "
                                 f"Found rank {len(shape)}. Full shape received for `y_pred`: "
                                 f"{tuple(shape)}")
            self._num_labels = shape[1]
            var_shape = (self.num_thresholds, self._num_labels)
        else:
            var_shape = (self.num_thresholds,)
        self.true_positives = self._add_state(var_shape, name="true_positives")
        self.false_positives = self._add_state(var_shape, name="false_positives")
        self.true_negatives = self._add_state(var_shape, name="true_negatives")
        self.false_negatives = self._add_state(var_shape, name="false_negatives")
        self._built = True

    def _follow(self, device):
        if device != self._device and self.label_weights is not None:
            self.label_weights = self.label_weights.to(device)
        super()._follow(device)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = self._place(y_pred)
        if not self._built:
            self._build(tuple(y_pred.shape))
        if self._from_logits:
            y_pred = torch.sigmoid(y_pred)
        # With multi_label, the label weights average the label AUCs in `result` instead.
        label_weights = None if self.multi_label else self.label_weights
        tp, fp, tn, fn = cu.confusion_counts(self, y_true, y_pred, sample_weight=sample_weight,
                                             multi_label=self.multi_label,
                                             label_weights=label_weights)
        if tp.shape != self.true_positives.shape:
            raise ValueError(f"AUC ({self.name!r}) was built for {self._num_labels} labels. "
                             f"Received: y_pred.shape={tuple(y_pred.shape)}")
        self.true_positives.add_(tp)
        self.false_positives.add_(fp)
        self.true_negatives.add_(tn)
        self.false_negatives.add_(fn)

    def _average(self, terms):
        """Sum over thresholds; with `multi_label`, the (weighted) mean over labels."""
        if not self.multi_label:
            return terms.sum()
        by_label = terms.sum(0)
        if self.label_weights is None:
            return by_label.mean()
        return divide_no_nan((by_label * self.label_weights).sum(), self.label_weights.sum())

    def interpolate_pr_auc(self):
        """Davis & Goadrich's PR-AUC: precision interpolated between thresholds as
        `tp / p` with `tp` linear in `p` (predicted positives)."""
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        prec_slope = divide_no_nan(dtp, dp.clamp_min(0))
        intercept = tp[1:] - prec_slope * p[1:]
        safe_p_ratio = torch.where((p[:-1] > 0) & (p[1:] > 0),
                                   divide_no_nan(p[:-1], p[1:].clamp_min(0)),
                                   torch.ones_like(p[1:]))
        increment = divide_no_nan(prec_slope * (dtp + intercept * torch.log(safe_p_ratio)),
                                  (tp[1:] + fn[1:]).clamp_min(0))
        return self._average(increment)

    def result(self):
        if not self._built:
            return torch.zeros((), dtype=self._torch_dtype, device=self._device)
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self.interpolate_pr_auc()
        tp, fp = self.true_positives, self.false_positives
        tn, fn = self.true_negatives, self.false_negatives
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, divide_no_nan(tp, tp + fp)
        else:  # PRGAIN; see Keras for the handling of the degenerate cases
            scaling = divide_no_nan(tp + fn, tn + fp)
            recall_gain = 1.0 - scaling * divide_no_nan(fn, tp)
            precision_gain = 1.0 - scaling * divide_no_nan(fp, tp)
            no_tp = tp == 0.0
            recall_gain = torch.where(no_tp, 0.0, recall_gain).clamp_min(0.0)
            precision_gain = torch.where(no_tp, 1.0, precision_gain)
            x, y = recall_gain, precision_gain
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = torch.minimum(y[:-1], y[1:])
        else:
            heights = torch.maximum(y[:-1], y[1:])
        return self._average((x[:-1] - x[1:]) * heights)

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        label_weights = self.label_weights
        if isinstance(label_weights, torch.Tensor):
            label_weights = label_weights.cpu().tolist()
        cfg = {**super().get_config(), "num_thresholds": self.num_thresholds,
               "curve": self.curve, "summation_method": self.summation_method,
               "multi_label": self.multi_label, "num_labels": self.num_labels,
               "label_weights": label_weights, "from_logits": self._from_logits}
        if self._init_from_thresholds:
            cfg["thresholds"] = [float(t) for t in self.thresholds[1:-1]]
        return cfg
