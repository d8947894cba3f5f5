"""Metric-learning losses: Circle loss (Sun et al., 2020)."""

import torch
import torch.nn.functional as F

from kerastorch.losses.base import LOSSES, KerasLoss, as_tensor, register_fast_mean


def _pos_neg_masks(query_labels, key_labels, remove_diagonal):
    positive = query_labels.reshape(-1, 1) == key_labels.reshape(1, -1)
    negative = ~positive
    if remove_diagonal:
        positive = positive & ~torch.eye(*positive.shape, dtype=torch.bool,
                                         device=positive.device)
    return positive, negative


@LOSSES.register("circle")
def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True,
           gamma=80, margin=0.4):
    """Per-sample Circle loss of L2-normalised embeddings `y_pred` `(batch, dim)` with
    integer labels `y_true` `(batch,)`, against themselves or `ref_embeddings`/`ref_labels`.

    With cosine distances `d`, positives (same label) are weighted by `max(margin + d, 0)`
    and negatives by `max(1 + margin - d, 0)`; the loss is
    `softplus(logsumexp(-gamma * wp * (margin - d)) + logsumexp(gamma * wn * (1 - margin - d)))`.
    Entries with loss 0 are masked out of the mean, as in Keras.

    Args:
        remove_diagonal: Drop the self-similarities from the positives. Default True.
        gamma: Scale of the similarities. Default 80.
        margin: Relaxation factor. Default 0.4.
    """
    y_pred = as_tensor(y_pred)
    labels = as_tensor(y_true, device=y_pred.device).long()
    ref_embeddings = y_pred if ref_embeddings is None else as_tensor(
        ref_embeddings, y_pred.dtype, y_pred.device)
    ref_labels = labels if ref_labels is None else as_tensor(
        ref_labels, device=y_pred.device).long()
    distances = (1 - y_pred @ ref_embeddings.T).clamp_min(0.0)
    positive, negative = _pos_neg_masks(labels, ref_labels, remove_diagonal)
    pos_weights = ((margin + distances) * positive).clamp_min(0.0)
    neg_weights = ((1 + margin - distances) * negative).clamp_min(0.0)
    pos_wdists = -gamma * pos_weights * (margin - distances)
    neg_wdists = gamma * neg_weights * (1 - margin - distances)
    minus_inf = torch.tensor(float("-inf"), dtype=distances.dtype, device=distances.device)
    p_loss = torch.where(positive, pos_wdists, minus_inf).logsumexp(1)
    n_loss = torch.where(negative, neg_wdists, minus_inf).logsumexp(1)
    loss = F.softplus(p_loss + n_loss)
    loss._keras_mask = loss > 0
    return loss


register_fast_mean(circle, None, integer_labels=True)


@LOSSES.register("Circle")
class Circle(KerasLoss):
    """Class form of `circle` (see it for `gamma`, `margin`, `remove_diagonal`);
    `reduction`, `name`, `dtype`: see `Loss`. Feed it L2-normalised embeddings (e.g. a
    `UnitNormalization` layer after the last `Dense`)."""

    _options = ("gamma", "margin", "remove_diagonal")

    def __init__(self, gamma=80.0, margin=0.4, remove_diagonal=True,
                 reduction="sum_over_batch_size", name="circle", dtype=None):
        super().__init__(circle, reduction, name, dtype, gamma=gamma, margin=margin,
                         remove_diagonal=remove_diagonal)
