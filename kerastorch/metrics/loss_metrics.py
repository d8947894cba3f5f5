"""Keras' metrics that are running means of a loss function: MAPE, MSLE, RMSE, cosine
similarity, log-cosh, the hinge family, KL divergence and Poisson (Keras'
`regression_metrics`, `probabilistic_metrics` and `hinge_metrics`).

Each is a `MeanMetricWrapper` of the per-sample function from `kerastorch.losses`, so it has
the same per-batch fast path (no host sync, state on the data's device). Also re-exports the
per-sample functions that Keras exports under `keras.metrics` (`keras.metrics.hinge`, ...).
"""

from kerastorch.losses import as_tensor, squeeze_or_expand_to_same_rank
from kerastorch.losses import categorical_hinge as categorical_hinge
from kerastorch.losses import hinge as hinge
from kerastorch.losses import huber as huber
from kerastorch.losses import kl_divergence as kl_divergence
from kerastorch.losses import log_cosh as log_cosh
from kerastorch.losses import mean_absolute_percentage_error as mean_absolute_percentage_error
from kerastorch.losses import mean_squared_logarithmic_error as mean_squared_logarithmic_error
from kerastorch.losses import poisson as poisson
from kerastorch.losses import squared_hinge as squared_hinge
from kerastorch.losses.regression import _l2_normalize
from kerastorch.metrics.base import FUNCTIONS, Mean, _LossMetric, register

__all__ = ["MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "RootMeanSquaredError",
           "CosineSimilarity", "LogCoshError", "Hinge", "SquaredHinge", "CategoricalHinge",
           "KLDivergence", "Poisson", "cosine_similarity"]


@FUNCTIONS.register("cosine_similarity")
def cosine_similarity(y_true, y_pred, axis=-1):
    """Per-sample `sum(l2_normalize(y_true) * l2_normalize(y_pred))` over `axis`: 1 for the
    same direction (the metric; `losses.cosine_similarity` is its negative)."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype, y_pred.device)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return (_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis)).sum(axis)


@register("mape", "MAPE")
class MeanAbsolutePercentageError(_LossMetric):
    """Running mean of `losses.mean_absolute_percentage_error`.

    Args:
        name: Default `"mean_absolute_percentage_error"`.
        dtype: State and result dtype; default floatx.
    """

    _fn_of = staticmethod(mean_absolute_percentage_error)

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(name=name, dtype=dtype)


@register("msle", "MSLE")
class MeanSquaredLogarithmicError(_LossMetric):
    """Running mean of `losses.mean_squared_logarithmic_error`; `name`, `dtype` as in
    `MeanAbsolutePercentageError`."""

    _fn_of = staticmethod(mean_squared_logarithmic_error)

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(name=name, dtype=dtype)


@register()
class RootMeanSquaredError(Mean):
    """`sqrt` of the (weighted) running mean of the squared errors `(y_pred - y_true) ** 2`.

    Args:
        name: Default `"root_mean_squared_error"`.
        dtype: State and result dtype; default floatx.
    """

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "down"

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = self._place(y_pred)
        if y_pred.dtype != self._torch_dtype:
            y_pred = y_pred.to(self._torch_dtype)
        y_true = as_tensor(y_true, self._torch_dtype, y_pred.device)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        self._accumulate((y_pred - y_true).square(), sample_weight)

    def result(self):
        return super().result().sqrt()


@register()
class CosineSimilarity(_LossMetric):
    """Running mean of the cosine similarity (`metrics.cosine_similarity`): higher is better.

    Args:
        name: Default `"cosine_similarity"`.
        dtype: State and result dtype; default floatx.
        axis: The axis along which the similarity is computed. Default -1.

    Keras' config has `name` and `dtype` only (it drops `axis`); here `axis` is kept when it
    is not the default, so that the config round-trips.
    """

    _fn_of = staticmethod(cosine_similarity)

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(name=name, dtype=dtype, axis=axis)
        self.axis = axis
        self._direction = "up"

    def get_config(self):
        config = super().get_config()
        if self.axis != -1:
            config["axis"] = self.axis
        return config


@register()
class LogCoshError(_LossMetric):
    """Running mean of `losses.log_cosh`; `name` (default `"logcosh"`, as Keras), `dtype`."""

    _fn_of = staticmethod(log_cosh)

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(name=name, dtype=dtype)


@register()
class Hinge(_LossMetric):
    """Running mean of `losses.hinge`; `name` (default `"hinge"`), `dtype`."""

    _fn_of = staticmethod(hinge)

    def __init__(self, name="hinge", dtype=None):
        super().__init__(name=name, dtype=dtype)


@register()
class SquaredHinge(_LossMetric):
    """Running mean of `losses.squared_hinge`; `name` (default `"squared_hinge"`), `dtype`."""

    _fn_of = staticmethod(squared_hinge)

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(name=name, dtype=dtype)


@register()
class CategoricalHinge(_LossMetric):
    """Running mean of `losses.categorical_hinge`; `name` (default `"categorical_hinge"`),
    `dtype`."""

    _fn_of = staticmethod(categorical_hinge)

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(name=name, dtype=dtype)


@register()
class KLDivergence(_LossMetric):
    """Running mean of `losses.kl_divergence`; `name` (default `"kl_divergence"`), `dtype`."""

    _fn_of = staticmethod(kl_divergence)

    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(name=name, dtype=dtype)


@register()
class Poisson(_LossMetric):
    """Running mean of `losses.poisson`; `name` (default `"poisson"`), `dtype`."""

    _fn_of = staticmethod(poisson)

    def __init__(self, name="poisson", dtype=None):
        super().__init__(name=name, dtype=dtype)

