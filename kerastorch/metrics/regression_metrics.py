"""`R2Score`, the coefficient of determination, from sums accumulated on the device.

(The regression metrics that are running means of a loss, e.g. `MeanSquaredError`, are in
`base.py` and `loss_metrics.py`.)
"""

import warnings

import torch

from kerastorch.losses import as_tensor, squeeze_or_expand_to_same_rank
from kerastorch.metrics.base import Metric, register


@register()
class R2Score(Metric):
    """`1 - SS_res / SS_tot` per output column, aggregated; inputs `(batch, num_outputs)`.

    Args:
        class_aggregation: `"uniform_average"` (default: the mean of the column scores),
            `"variance_weighted_average"` (weighted by each column's total sum of squares) or
            `None` (one score per column).
        num_regressors: Number of independent regressors `p`, for the adjusted score
            `1 - (1 - R2) * (n - 1) / (n - p - 1)`; 0 (default) for the plain score.
            As in Keras, `n` counts every entry of `y_true` (batch times outputs).
        name: Optional name.
        dtype: Optional state dtype.
    """

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score",
                 dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        valid = (None, "uniform_average", "variance_weighted_average")
        if class_aggregation not in valid:
            raise ValueError("Invalid value for argument `class_aggregation`. Expected one of "
                             f"{valid}. Received: class_aggregation={class_aggregation}")
        if num_regressors < 0:
            raise ValueError("Invalid value for argument `num_regressors`. Expected a value "
                             f">= 0. Received: num_regressors={num_regressors}")
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.num_samples = self._add_state((), name="num_samples")
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError("R2Score expects 2D inputs with shape (batch_size, output_dim). "
                             f"Received input shapes: y_pred.shape={tuple(y_pred_shape)} and "
                             f"y_true.shape={tuple(y_true_shape)}.")
        n = y_pred_shape[-1]
        self.squared_sum = self._add_state((n,), name="squared_sum")
        self.sum = self._add_state((n,), name="sum")
        self.total_mse = self._add_state((n,), name="residual")
        self.count = self._add_state((n,), name="count")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        dtype = self._torch_dtype
        y_pred = as_tensor(self._place(y_pred), dtype)
        y_true = as_tensor(y_true, dtype, y_pred.device)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        if y_true.shape != y_pred.shape or y_true.shape[-1] != self.sum.shape[0]:
            raise ValueError(
                f"R2Score ({self.name!r}) expects `y_true` and `y_pred` of shape (batch_size, "
                f"{self.sum.shape[0]}). Received: y_true.shape={tuple(y_true.shape)}, "
                f"y_pred.shape={tuple(y_pred.shape)}")
        if sample_weight is None:
            weights = torch.ones((), dtype=dtype, device=y_true.device).expand(y_true.shape)
        else:
            weights = as_tensor(sample_weight, dtype, y_true.device)
            if weights.ndim == 1:
                weights = weights.unsqueeze(1)  # one weight per row
            weights = torch.broadcast_to(weights, y_true.shape)
        weighted_y_true = y_true * weights
        self.sum.add_(weighted_y_true.sum(0))
        self.squared_sum.add_((y_true * weighted_y_true).sum(0))
        self.total_mse.add_(((y_true - y_pred) ** 2 * weights).sum(0))
        self.count.add_(weights.sum(0))
        self.num_samples.add_(y_true.numel())

    def result(self):
        if not self._built:
            return torch.zeros((), dtype=self._torch_dtype, device=self._device)
        mean = self.sum / self.count
        total = self.squared_sum - self.sum * mean
        raw_scores = 1 - self.total_mse / total
        raw_scores = torch.where(torch.isinf(raw_scores), 0.0, raw_scores)
        if self.class_aggregation == "uniform_average":
            r2 = raw_scores.mean()
        elif self.class_aggregation == "variance_weighted_average":
            r2 = (total * raw_scores).sum() / total.sum()
        else:
            r2 = raw_scores
        if self.num_regressors != 0:
            n = float(self.num_samples)  # the result is read here anyway
            if self.num_regressors > n - 1:
                warnings.warn("More independent predictors than datapoints in adjusted R2 "
                              "score. Falling back to standard R2 score.", stacklevel=2)
            elif self.num_regressors == n - 1:
                warnings.warn("Division by zero in Adjusted R2 score. Falling back to standard "
                              "R2 score.", stacklevel=2)
            else:
                r2 = 1.0 - (1.0 - r2) * (n - 1.0) / (n - self.num_regressors - 1.0)
        return r2

    def get_config(self):
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}
