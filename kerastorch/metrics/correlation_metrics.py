"""Correlation metrics: Pearson's and the concordance correlation coefficient, per sample along
`axis`, and their running (weighted) means `PearsonCorrelation`, `ConcordanceCorrelation`."""

import torch

from kerastorch import config
from kerastorch.losses import as_tensor, squeeze_or_expand_to_same_rank
from kerastorch.metrics.base import FUNCTIONS, MeanMetricWrapper, register

__all__ = ["pearson_correlation", "concordance_correlation", "PearsonCorrelation",
           "ConcordanceCorrelation"]


def _pair(y_true, y_pred):
    y_pred = as_tensor(y_pred)
    if not (y_pred.is_floating_point() or y_pred.is_complex()):
        y_pred = y_pred.to(config.float_dtype())
    y_true = as_tensor(y_true, y_pred.dtype, y_pred.device)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def _dims(axis):
    if isinstance(axis, (list, tuple)):
        return tuple(axis)
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ValueError(f"`axis` must be an int or a tuple of ints. Received: axis={axis!r}")
    return axis


@FUNCTIONS.register("pearson_correlation")
def pearson_correlation(y_true, y_pred, axis=-1):
    """Pearson's correlation of `y_true` and `y_pred` along `axis` (one value per sample):
    the mean product of the two standardized (population std) series."""
    y_true, y_pred = _pair(y_true, y_pred)
    dims = _dims(axis)
    centered_true = y_true - y_true.mean(dims, keepdim=True)
    centered_pred = y_pred - y_pred.mean(dims, keepdim=True)
    std_true = centered_true.std(dims, keepdim=True, correction=0)
    std_pred = centered_pred.std(dims, keepdim=True, correction=0)
    return ((centered_true / std_true) * (centered_pred / std_pred)).mean(dims)


@FUNCTIONS.register("concordance_correlation")
def concordance_correlation(y_true, y_pred, axis=-1):
    """Lin's concordance correlation along `axis` (one value per sample),
    `mean(2 * cov / (var_true + var_pred + (mean_true - mean_pred) ** 2 + epsilon))`.

    As Keras 3 computes it, the covariance term centres `y_true` on the mean of `y_pred`:
    `(y_true - mean_pred) * (y_pred - mean_pred)`; the numbers follow Keras'.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    dims = _dims(axis)
    mean_true = y_true.mean(dims, keepdim=True)
    mean_pred = y_pred.mean(dims, keepdim=True)
    var_true = (y_true - mean_true).var(dims, keepdim=True, correction=0)
    var_pred = (y_pred - mean_pred).var(dims, keepdim=True, correction=0)
    products = (y_true - mean_pred) * (y_pred - mean_pred)
    denominator = var_true + var_pred + torch.square(mean_true - mean_pred) + config.epsilon()
    return (2 * products / denominator).mean(dims)


class _Correlation(MeanMetricWrapper):
    """Running weighted mean of a per-sample correlation; higher is better."""

    def __init__(self, fn, name, dtype, axis):
        _dims(axis)
        super().__init__(fn, name=name, dtype=dtype, axis=axis)
        self.axis = axis
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}


@register()
class PearsonCorrelation(_Correlation):
    """Running mean of `pearson_correlation` over the samples seen (weighted by
    `sample_weight`).

    Args:
        name: Default `"pearson_correlation"`.
        dtype: State and result dtype; default floatx.
        axis: Axis (or tuple of axes) the correlation is taken along. Default -1.
    """

    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        super().__init__(pearson_correlation, name, dtype, axis)


@register()
class ConcordanceCorrelation(_Correlation):
    """Running mean of `concordance_correlation` over the samples seen (weighted by
    `sample_weight`).

    Args:
        name: Default `"concordance_correlation"`.
        dtype: State and result dtype; default floatx.
        axis: Axis (or tuple of axes) the coefficient is taken along. Default -1.
    """

    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        super().__init__(concordance_correlation, name, dtype, axis)
