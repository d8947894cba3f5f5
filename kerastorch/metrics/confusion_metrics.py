"""Confusion-matrix metrics: TruePositives ... FalseNegatives, Precision, Recall, and the
"X at Y" metrics (SensitivityAtSpecificity, SpecificityAtSensitivity, PrecisionAtRecall,
RecallAtPrecision). `AUC` lives in `auc.py`.

A prediction is positive at threshold `t` when `y_pred > t`; labels are cast to bool. The
counts are accumulated on the device (see `confusion_utils`); `result()` divides them.
"""

import torch

from kerastorch.losses import divide_no_nan
from kerastorch.metrics import confusion_utils as cu
from kerastorch.metrics.base import register


class _ConfusionMatrixConditionCount(cu.ThresholdedMetric):
    """One confusion-matrix count (`_cond`: 0 TP, 1 FP, 2 TN, 3 FN) at each threshold.

    Args:
        thresholds: Float or list of floats in `[0, 1]`; default 0.5. The result has one value
            per threshold (a scalar for a single one).
        name: Optional name.
        dtype: Optional state dtype.
    """

    _cond = 0

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = cu.parse_init_thresholds(thresholds, default_threshold=0.5)
        self._set_thresholds(self.thresholds,
                             cu.is_evenly_distributed_thresholds(self.thresholds))
        self.accumulator = self._add_state((len(self.thresholds),), name="accumulator")

    def update_state(self, y_true, y_pred, sample_weight=None):
        counts = cu.confusion_counts(self, y_true, y_pred, sample_weight=sample_weight)
        self.accumulator.add_(counts[self._cond])

    def result(self):
        return self.accumulator[0].clone() if len(self.thresholds) == 1 \
            else self.accumulator.clone()

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


@register()
class TruePositives(_ConfusionMatrixConditionCount):
    """The (weighted) number of true positives: label true, `y_pred > threshold`.

    `TruePositives()([0, 1, 1, 1], [1, 0, 1, 1])` gives 2.
    """

    _cond = 0


@register()
class FalsePositives(_ConfusionMatrixConditionCount):
    """The (weighted) number of false positives: label false, `y_pred > threshold`."""

    _cond = 1


@register()
class TrueNegatives(_ConfusionMatrixConditionCount):
    """The (weighted) number of true negatives: label false, `y_pred <= threshold`."""

    _cond = 2


@register()
class FalseNegatives(_ConfusionMatrixConditionCount):
    """The (weighted) number of false negatives: label true, `y_pred <= threshold`."""

    _cond = 3


class _PrecisionRecall(cu.ThresholdedMetric):
    _other = "false_positives"  # the count beside true_positives in the denominator

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default = 0.5 if top_k is None else cu.NEG_INF
        self.thresholds = cu.parse_init_thresholds(thresholds, default_threshold=default)
        self._set_thresholds(self.thresholds,
                             cu.is_evenly_distributed_thresholds(self.thresholds))
        n = len(self.thresholds)
        self.true_positives = self._add_state((n,), name="true_positives")
        setattr(self, self._other, self._add_state((n,), name=self._other))

    def update_state(self, y_true, y_pred, sample_weight=None):
        tp, fp, _, fn = cu.confusion_counts(self, y_true, y_pred, top_k=self.top_k,
                                            class_id=self.class_id, sample_weight=sample_weight)
        self.true_positives.add_(tp)
        getattr(self, self._other).add_(fp if self._other == "false_positives" else fn)

    def result(self):
        tp = self.true_positives
        result = divide_no_nan(tp, tp + getattr(self, self._other))
        return result[0] if len(self.thresholds) == 1 else result

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


@register()
class Precision(_PrecisionRecall):
    """`true_positives / (true_positives + false_positives)`, at each threshold.

    Args:
        thresholds: Float or list of floats in `[0, 1]`; predictions above count as positive.
            Default 0.5, or (with `top_k`) any prediction among the top k.
        top_k: Optional int: only the `top_k` largest predictions of each row may be positive.
        class_id: Optional int: only this class (last axis) is measured.
        name: Optional name.
        dtype: Optional state dtype.
    """

    _other = "false_positives"


@register()
class Recall(_PrecisionRecall):
    """`true_positives / (true_positives + false_negatives)`, at each threshold.

    Args: as `Precision`.
    """

    _other = "false_negatives"


class SensitivitySpecificityBase(cu.ThresholdedMetric):
    """The four counts at `num_thresholds` evenly spaced thresholds in `[0, 1]`, and the best
    value of one rate where another satisfies a constraint (`value`)."""

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        if num_thresholds <= 0:
            raise ValueError("Argument `num_thresholds` must be an integer > 0. "
                             f"Received: num_thresholds={num_thresholds}")
        self.value = value
        self.class_id = class_id
        if num_thresholds == 1:
            self.thresholds = [0.5]
            evenly = False
        else:
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds = [0.0] + inner + [1.0]
            evenly = True
        self._set_thresholds(self.thresholds, evenly)
        n = len(self.thresholds)
        self.true_positives = self._add_state((n,), name="true_positives")
        self.false_positives = self._add_state((n,), name="false_positives")
        self.true_negatives = self._add_state((n,), name="true_negatives")
        self.false_negatives = self._add_state((n,), name="false_negatives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        tp, fp, tn, fn = cu.confusion_counts(self, y_true, y_pred, class_id=self.class_id,
                                             sample_weight=sample_weight)
        self.true_positives.add_(tp)
        self.false_positives.add_(fp)
        self.true_negatives.add_(tn)
        self.false_negatives.add_(fn)

    def _rates(self):
        tp, fp = self.true_positives, self.false_positives
        tn, fn = self.true_negatives, self.false_negatives
        recall = divide_no_nan(tp, tp + fn)  # = sensitivity
        return {"sensitivity": recall, "recall": recall,
                "specificity": divide_no_nan(tn, tn + fp),
                "precision": divide_no_nan(tp, tp + fp)}

    def _find_max_under_constraint(self, constrained, dependent):
        """Max of `dependent` where `constrained >= value` (0 where nowhere)."""
        feasible = constrained >= self.value
        return torch.where(feasible, dependent, 0.0).amax().clamp_min(0.0)

    def get_config(self):
        return {**super().get_config(), "class_id": self.class_id}


def _check_rate(name, value):
    if value < 0 or value > 1:
        raise ValueError(f"Argument `{name}` must be in the range [0, 1]. "
                         f"Received: {name}={value}")


class _AtMetric(SensitivitySpecificityBase):
    _given = "specificity"  # the constrained rate (the constructor argument)
    _found = "sensitivity"  # the rate maximised

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_rate(self._given, value)
        setattr(self, self._given, value)
        self.num_thresholds = num_thresholds
        super().__init__(value, num_thresholds=num_thresholds, class_id=class_id, name=name,
                         dtype=dtype)

    def result(self):
        rates = self._rates()
        return self._find_max_under_constraint(rates[self._given], rates[self._found])

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds,
                self._given: getattr(self, self._given)}


@register()
class SensitivityAtSpecificity(_AtMetric):
    """The best sensitivity (recall) at any threshold where specificity >= `specificity`.

    Args:
        specificity: Float in `[0, 1]`.
        num_thresholds: Number of evenly spaced thresholds in `[0, 1]` (default 200).
        class_id: Optional int: only this class (last axis) is measured.
        name: Optional name.
        dtype: Optional state dtype.
    """

    _given, _found = "specificity", "sensitivity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds, class_id, name, dtype)


@register()
class SpecificityAtSensitivity(_AtMetric):
    """The best specificity at any threshold where sensitivity >= `sensitivity`.

    Args: as `SensitivityAtSpecificity`, with `sensitivity` in `[0, 1]`.
    """

    _given, _found = "sensitivity", "specificity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)


@register()
class PrecisionAtRecall(_AtMetric):
    """The best precision at any threshold where recall >= `recall`.

    Args: as `SensitivityAtSpecificity`, with `recall` in `[0, 1]`.
    """

    _given, _found = "recall", "precision"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds, class_id, name, dtype)


@register()
class RecallAtPrecision(_AtMetric):
    """The best recall at any threshold where precision >= `precision`.

    Args: as `SensitivityAtSpecificity`, with `precision` in `[0, 1]`.
    """

    _given, _found = "precision", "recall"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds, class_id, name, dtype)
