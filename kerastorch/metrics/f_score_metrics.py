"""`FBetaScore` and `F1Score`: `(1 + beta^2) * precision * recall / (beta^2 * precision + recall)`,
per class or averaged, from counts accumulated on the device."""

import torch

from kerastorch import config
from kerastorch.losses import as_tensor
from kerastorch.metrics.base import Metric, register


@register()
class FBetaScore(Metric):
    """F-beta score of multi-class / multi-label predictions of shape `(batch, num_classes)`.

    Args:
        average: `None` (one score per class), `"micro"` (counts pooled over classes),
            `"macro"` (unweighted mean of the class scores) or `"weighted"` (mean weighted by
            each class' number of true instances).
        beta: Float > 0, the weight of recall against precision (default 1.0).
        threshold: Float in `(0, 1]`: predictions above it are positive. Default `None`: each
            row's largest prediction is positive (unless it is 0).
        name: Optional name.
        dtype: Optional state dtype.
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError("Invalid `average` argument value. Expected one of: {None, 'micro', "
                             f"'macro', 'weighted'}}. Received: average={average}")
        if not isinstance(beta, float):
            raise ValueError("Invalid `beta` argument value. It should be a Python float. "
                             f"Received: beta={beta} of type '{type(beta)}'")
        if beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be > 0. "
                             f"Received: beta={beta}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError("Invalid `threshold` argument value. It should be a Python "
                                 f"float. Received: threshold={threshold} of type "
                                 f"'{type(threshold)}'")
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError("Invalid `threshold` argument value. It should verify "
                                 f"0 < threshold <= 1. Received: threshold={threshold}")
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(
                f"{type(self).__name__} expects 2D inputs with shape (batch_size, output_dim). "
                f"Received input shapes: y_pred.shape={tuple(y_pred_shape)} and "
                f"y_true.shape={tuple(y_true_shape)}.")
        self._num_classes = y_pred_shape[-1]
        shape = (self._num_classes,) if self.average != "micro" else ()
        self.true_positives = self._add_state(shape, name="true_positives")
        self.false_positives = self._add_state(shape, name="false_positives")
        self.false_negatives = self._add_state(shape, name="false_negatives")
        self.intermediate_weights = self._add_state(shape, name="intermediate_weights")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        dtype = self._torch_dtype
        y_pred = as_tensor(self._place(y_pred), dtype)
        y_true = as_tensor(y_true, dtype, y_pred.device)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        if y_true.shape != y_pred.shape or y_pred.shape[-1] != self._num_classes:
            raise ValueError(
                f"{type(self).__name__} ({self.name!r}) expects `y_true` and `y_pred` of the "
                f"same shape (batch_size, {self._num_classes}). Received: "
                f"y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}")
        if self.threshold is None:
            # The row's maximum is positive; `abs > 1e-9` keeps an all-zero row negative.
            top = y_pred.amax(-1, keepdim=True)
            y_pred = (y_pred >= top) & (y_pred.abs() > 1e-9)
        else:
            y_pred = y_pred > self.threshold
        y_pred = y_pred.to(dtype)
        if sample_weight is not None:
            sample_weight = as_tensor(sample_weight, dtype, y_pred.device)
            if sample_weight.ndim == 1:  # one weight per row
                sample_weight = sample_weight.unsqueeze(1)

        def weighted_sum(val):
            if sample_weight is not None:
                val = val * sample_weight
            return val.sum() if self.axis is None else val.sum(self.axis)

        self.true_positives.add_(weighted_sum(y_pred * y_true))
        self.false_positives.add_(weighted_sum(y_pred * (1 - y_true)))
        self.false_negatives.add_(weighted_sum((1 - y_pred) * y_true))
        self.intermediate_weights.add_(weighted_sum(y_true))

    def result(self):
        if not self._built:
            return torch.zeros((), dtype=self._torch_dtype, device=self._device)
        eps = config.epsilon()
        tp = self.true_positives
        precision = tp / (tp + self.false_positives + eps)
        recall = tp / (tp + self.false_negatives + eps)
        beta2 = self.beta**2
        f_score = precision * recall / (beta2 * precision + recall + eps) * (1 + beta2)
        if self.average == "weighted":
            weights = self.intermediate_weights / (self.intermediate_weights.sum() + eps)
            return (f_score * weights).sum()
        if self.average is not None:  # micro, macro
            return f_score.mean()
        return f_score

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta,
                "threshold": self.threshold}


@register()
class F1Score(FBetaScore):
    """F1 score: `FBetaScore` with `beta=1.0`.

    Args:
        average: `None`, `"micro"`, `"macro"` or `"weighted"`; see `FBetaScore`.
        threshold: See `FBetaScore`.
        name: Optional name.
        dtype: Optional state dtype.
    """

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config_ = super().get_config()
        del config_["beta"]
        return config_
