"""Hinge losses: hinge, squared hinge, categorical hinge (Keras' formulas)."""

import torch

from kerastorch.losses.base import LOSSES, KerasLoss, check_broadcast, pred_and_true


def _hinge_labels(y_true):
    # Keras: labels that are all 0 or 1 become -1 or 1; any other labels are used as they are.
    # A 0-dim boolean picks the branch on the device (no host sync).
    is_binary = ((y_true == 0) | (y_true == 1)).all()
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


def _margins(y_true, y_pred, name):
    y_true, y_pred = pred_and_true(y_true, y_pred)
    check_broadcast(y_true, y_pred, name)
    return (1.0 - _hinge_labels(y_true) * y_pred).clamp_min(0.0)


@LOSSES.register("hinge")
def hinge(y_true, y_pred):
    """Per-sample `mean(max(1 - y_true * y_pred, 0))` over the last axis. `y_true` should be
    -1 or 1; if every label is 0 or 1 they are mapped to -1 or 1 first (Keras' rule)."""
    return _margins(y_true, y_pred, "hinge").mean(-1)


@LOSSES.register("squared_hinge")
def squared_hinge(y_true, y_pred):
    """Per-sample `mean(max(1 - y_true * y_pred, 0) ** 2)` over the last axis; labels as in
    `hinge`."""
    return _margins(y_true, y_pred, "squared_hinge").square().mean(-1)


@LOSSES.register("categorical_hinge")
def categorical_hinge(y_true, y_pred):
    """Per-sample `max(neg - pos + 1, 0)` with `pos = sum(y_true * y_pred)` and
    `neg = max((1 - y_true) * y_pred)` over the last axis, for one-hot `y_true`."""
    y_true, y_pred = pred_and_true(y_true, y_pred)
    check_broadcast(y_true, y_pred, "categorical_hinge")
    pos = (y_true * y_pred).sum(-1)
    neg = ((1.0 - y_true) * y_pred).amax(-1)
    return (neg - pos + 1.0).clamp_min(0.0)


@LOSSES.register("Hinge")
class Hinge(KerasLoss):
    """Class form of `hinge`; `reduction`, `name`, `dtype`: see `Loss`."""

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(hinge, reduction, name, dtype)


@LOSSES.register("SquaredHinge")
class SquaredHinge(KerasLoss):
    """Class form of `squared_hinge`; `reduction`, `name`, `dtype`: see `Loss`."""

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, reduction, name, dtype)


@LOSSES.register("CategoricalHinge")
class CategoricalHinge(KerasLoss):
    """Class form of `categorical_hinge`; `reduction`, `name`, `dtype`: see `Loss`."""

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, reduction, name, dtype)
