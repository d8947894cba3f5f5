"""Regression and probabilistic losses: mean squared / absolute (percentage, logarithmic)
error, Huber, log-cosh, cosine similarity, KL divergence, Poisson. Each per-sample function
reduces the last axis (cosine similarity: `axis`) with Keras' formula and epsilon.
"""

import functools
import math

import torch
import torch.nn.functional as F

from kerastorch import config
from kerastorch.losses.base import LOSSES, KerasLoss, check_broadcast, pred_and_true
from kerastorch.losses.base import register_fast_mean, same_rank_pair
from kerastorch.losses.base import squeeze_or_expand_to_same_rank


def _elementwise_mean(loss_fn, y_true, y_pred, batch_mean):
    y_true, y_pred = squeeze_or_expand_to_same_rank(*pred_and_true(y_true, y_pred))
    if y_true.shape == y_pred.shape:  # a mean of equal-sized per-sample means is the mean
        return loss_fn(y_pred, y_true) if batch_mean else loss_fn(
            y_pred, y_true, reduction="none").mean(-1)
    # Keras broadcasts here; torch's losses warn on it unless broadcast first.
    check_broadcast(y_true, y_pred, _KERAS_NAMES.get(loss_fn.__name__, loss_fn.__name__))
    per_sample = loss_fn(*torch.broadcast_tensors(y_pred, y_true), reduction="none").mean(-1)
    return per_sample.mean() if batch_mean else per_sample


_KERAS_NAMES = {"mse_loss": "mean_squared_error", "l1_loss": "mean_absolute_error"}
_mse = functools.partial(_elementwise_mean, F.mse_loss)
_mae = functools.partial(_elementwise_mean, F.l1_loss)


@LOSSES.register("mean_squared_error", "mse", "MSE")
def mean_squared_error(y_true, y_pred):
    """Per-sample `mean((y_true - y_pred) ** 2)` over the last axis."""
    return _mse(y_true, y_pred, False)


@LOSSES.register("mean_absolute_error", "mae", "MAE")
def mean_absolute_error(y_true, y_pred):
    """Per-sample `mean(abs(y_true - y_pred))` over the last axis."""
    return _mae(y_true, y_pred, False)


@LOSSES.register("mean_absolute_percentage_error", "mape", "MAPE")
def mean_absolute_percentage_error(y_true, y_pred):
    """Per-sample `100 * mean(abs((y_true - y_pred) / max(abs(y_true), eps)))`, last axis."""
    y_true, y_pred = same_rank_pair(y_true, y_pred, "mean_absolute_percentage_error")
    diff = (y_true - y_pred) / y_true.abs().clamp_min(config.epsilon())
    return 100.0 * diff.abs().mean(-1)


@LOSSES.register("mean_squared_logarithmic_error", "msle", "MSLE")
def mean_squared_logarithmic_error(y_true, y_pred):
    """Per-sample `mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)) ** 2)`."""
    y_true, y_pred = same_rank_pair(y_true, y_pred, "mean_squared_logarithmic_error")
    eps = config.epsilon()
    # Keras' log(x + 1), not log1p: they differ in float32 for tiny x.
    first_log = (y_pred.clamp_min(eps) + 1.0).log()
    second_log = (y_true.clamp_min(eps) + 1.0).log()
    return (first_log - second_log).square().mean(-1)


def _l2_normalize(x, axis):
    # Keras' `ops.normalize`: x * min(rsqrt(sum(x^2)), 1 / eps), so a zero vector stays zero
    inv_norm = x.square().sum(axis, keepdim=True).rsqrt().clamp_max(1.0 / config.epsilon())
    return x * inv_norm


@LOSSES.register("cosine_similarity")
def cosine_similarity(y_true, y_pred, axis=-1):
    """Per-sample `-sum(l2_normalize(y_true) * l2_normalize(y_pred))` over `axis`: -1 for the
    same direction, 0 orthogonal, 1 opposite (a loss to minimise)."""
    y_true, y_pred = same_rank_pair(y_true, y_pred, "cosine_similarity")
    return -(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis)).sum(axis)


@LOSSES.register("huber")
def huber(y_true, y_pred, delta=1.0):
    """Per-sample Huber loss over the last axis: `0.5 * e ** 2` where `|e| <= delta`, else
    `delta * |e| - 0.5 * delta ** 2`, with `e = y_pred - y_true` (torch's `huber_loss`)."""
    y_true, y_pred = same_rank_pair(y_true, y_pred, "huber")
    if y_true.shape != y_pred.shape:
        y_true, y_pred = torch.broadcast_tensors(y_true, y_pred)
    return F.huber_loss(y_pred, y_true, reduction="none", delta=float(delta)).mean(-1)


_LOG2 = math.log(2.0)


@LOSSES.register("log_cosh")
def log_cosh(y_true, y_pred):
    """Per-sample `mean(log(cosh(y_pred - y_true)))` over the last axis, computed as
    `x + softplus(-2x) - log(2)` so that large errors do not overflow."""
    y_true, y_pred = same_rank_pair(y_true, y_pred, "log_cosh")
    x = y_pred - y_true
    return (x + F.softplus(x * -2.0) - _LOG2).mean(-1)


@LOSSES.register("kl_divergence", "kld", "KLD")
def kl_divergence(y_true, y_pred):
    """Per-sample `sum(y_true * log(y_true / y_pred))` over the last axis, both clipped to
    `[eps, 1]` first."""
    y_true, y_pred = pred_and_true(y_true, y_pred)
    check_broadcast(y_true, y_pred, "kl_divergence")
    eps = config.epsilon()
    y_true, y_pred = y_true.clamp(eps, 1.0), y_pred.clamp(eps, 1.0)
    return (y_true * (y_true / y_pred).log()).sum(-1)


@LOSSES.register("poisson")
def poisson(y_true, y_pred):
    """Per-sample `mean(y_pred - y_true * log(y_pred + eps))` over the last axis."""
    y_true, y_pred = pred_and_true(y_true, y_pred)
    check_broadcast(y_true, y_pred, "poisson")
    return (y_pred - y_true * (y_pred + config.epsilon()).log()).mean(-1)


register_fast_mean(mean_squared_error, _mse)
register_fast_mean(mean_absolute_error, _mae)


# ------------------------------------------------------------------------------------ classes
@LOSSES.register("MeanSquaredError")
class MeanSquaredError(KerasLoss):
    """Class form of `mean_squared_error`; `reduction`, `name`, `dtype`: see `Loss`."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, reduction, name, dtype)


@LOSSES.register("MeanAbsoluteError")
class MeanAbsoluteError(KerasLoss):
    """Class form of `mean_absolute_error`; `reduction`, `name`, `dtype`: see `Loss`."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, reduction, name, dtype)


@LOSSES.register("MeanAbsolutePercentageError")
class MeanAbsolutePercentageError(KerasLoss):
    """Class form of `mean_absolute_percentage_error`; `reduction`, `name`, `dtype`: see
    `Loss`."""

    def __init__(self, reduction="sum_over_batch_size",
                 name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, reduction, name, dtype)


@LOSSES.register("MeanSquaredLogarithmicError")
class MeanSquaredLogarithmicError(KerasLoss):
    """Class form of `mean_squared_logarithmic_error`; `reduction`, `name`, `dtype`: see
    `Loss`."""

    def __init__(self, reduction="sum_over_batch_size",
                 name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, reduction, name, dtype)


@LOSSES.register("LogCosh")
class LogCosh(KerasLoss):
    """Class form of `log_cosh`; `reduction`, `name`, `dtype`: see `Loss`."""

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(log_cosh, reduction, name, dtype)


@LOSSES.register("KLDivergence")
class KLDivergence(KerasLoss):
    """Class form of `kl_divergence`; `reduction`, `name`, `dtype`: see `Loss`."""

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, reduction, name, dtype)


@LOSSES.register("Poisson")
class Poisson(KerasLoss):
    """Class form of `poisson`; `reduction`, `name`, `dtype`: see `Loss`."""

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(poisson, reduction, name, dtype)


@LOSSES.register("CosineSimilarity")
class CosineSimilarity(KerasLoss):
    """Class form of `cosine_similarity`.

    Args:
        axis: The axis along which the similarity is computed. Default -1.
        reduction, name, dtype: See `Loss`.

    Keras' config has `name` and `reduction` only (it drops `axis`); here `axis` is kept
    when it is not the default, so that the config round-trips.
    """

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity",
                 dtype=None):
        super().__init__(cosine_similarity, reduction, name, dtype, axis=axis)
        self.axis = axis

    def get_config(self):
        config = super().get_config()
        if self.axis != -1:
            config["axis"] = self.axis
        return config


@LOSSES.register("Huber")
class Huber(KerasLoss):
    """Class form of `huber`.

    Args:
        delta: The error size where the loss turns from quadratic to linear. Default 1.0.
        reduction, name, dtype: See `Loss`.

    Keras' config has `name` and `reduction` only (it drops `delta`); here `delta` is kept
    when it is not the default, so that the config round-trips.
    """

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss",
                 dtype=None):
        super().__init__(huber, reduction, name, dtype, delta=delta)
        self.delta = delta

    def get_config(self):
        config = super().get_config()
        if self.delta != 1.0:
            config["delta"] = self.delta
        return config
