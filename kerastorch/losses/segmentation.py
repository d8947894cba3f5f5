"""Segmentation losses: Dice and Tversky, over the axes in `axis` (default: all of them)."""

from kerastorch import config
from kerastorch.losses.base import LOSSES, KerasLoss, check_broadcast, pred_and_true


def _sum(x, axis):
    return x.sum() if axis is None else x.sum(_dims(axis))


def _dims(axis):
    if isinstance(axis, int) and not isinstance(axis, bool):
        return axis
    if isinstance(axis, (list, tuple)) and all(
            isinstance(a, int) and not isinstance(a, bool) for a in axis):
        return tuple(axis)
    raise ValueError(f"`axis` must be None, an int or a tuple of ints. Received: axis={axis!r}")


def _pair(y_true, y_pred, name):
    y_true, y_pred = pred_and_true(y_true, y_pred)
    check_broadcast(y_true, y_pred, name)
    return y_true, y_pred


@LOSSES.register("dice")
def dice(y_true, y_pred, axis=None):
    """`1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + eps)`, the sums over
    `axis` (a tuple of axes; `None`, the default, sums everything into one value)."""
    y_true, y_pred = _pair(y_true, y_pred, "dice")
    intersection = _sum(y_true * y_pred, axis)
    return 1 - 2.0 * intersection / (_sum(y_true, axis) + _sum(y_pred, axis) + config.epsilon())


@LOSSES.register("tversky")
def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """`1 - tp / (tp + alpha * fp + beta * fn + eps)` with `tp = sum(y_true * y_pred)`,
    `fp = sum((1 - y_pred) * y_true)`, `fn = sum(y_pred * (1 - y_true))` over `axis`
    (Keras' naming of fp/fn). `alpha = beta = 0.5` gives the Dice loss."""
    y_true, y_pred = _pair(y_true, y_pred, "tversky")
    intersection = _sum(y_true * y_pred, axis)
    fp = _sum((1 - y_pred) * y_true, axis)
    fn = _sum(y_pred * (1 - y_true), axis)
    return 1 - intersection / (intersection + fp * alpha + fn * beta + config.epsilon())


@LOSSES.register("Dice")
class Dice(KerasLoss):
    """Class form of `dice`.

    Args:
        reduction, name, dtype: See `Loss`.
        axis: Axes the sums run over; `None` (default) means all of them.
    """

    _options = ("axis",)

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(dice, reduction, name, dtype, axis=axis)


@LOSSES.register("Tversky")
class Tversky(KerasLoss):
    """Class form of `tversky`.

    Args:
        alpha: Weight of the false positives. Default 0.5.
        beta: Weight of the false negatives. Default 0.5.
        reduction, name, dtype: See `Loss`.
        axis: Axes the sums run over; `None` (default) means all of them.
    """

    _options = ("alpha", "beta", "axis")

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky",
                 axis=None, dtype=None):
        super().__init__(tversky, reduction, name, dtype, alpha=alpha, beta=beta, axis=axis)
