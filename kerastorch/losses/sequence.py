"""The CTC (Connectionist Temporal Classification) loss, on `torch.nn.functional.ctc_loss`."""

import torch
import torch.nn.functional as F

from kerastorch.losses.base import LOSSES, KerasLoss, as_tensor, register_fast_mean


@LOSSES.register("ctc")
def ctc(y_true, y_pred):
    """Per-sample CTC loss, Keras' convention: class 0 is the blank (mask) index.

    Args:
        y_true: Integer labels `(batch_size, max_length)`, padded at the end with 0; the
            label length of a row is its number of non-zero entries.
        y_pred: Logits `(batch_size, time, num_classes)` (not softmax-normalised: the loss
            applies `log_softmax`); every time step counts (input length = `time`).

    Returns:
        The negative log-likelihood of each row's label sequence, shape `(batch_size,)`.
        Where no alignment exists (labels longer than `time` allows) torch gives `inf`;
        Keras on JAX gives about `1e5` there.
    """
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, device=y_pred.device)
    if y_true.ndim != 2:
        raise ValueError("Targets `y_true` are expected to be a tensor of shape "
                         "`(batch_size, max_length)` in integer format. "
                         f"Received: y_true.shape={tuple(y_true.shape)}")
    if y_pred.ndim != 3:
        raise ValueError("Logits `y_pred` are expected to be a tensor of shape "
                         "`(batch_size, max_length, num_classes)`. "
                         f"Received: y_pred.shape={tuple(y_pred.shape)}")
    labels = y_true.long()
    batch, time = y_pred.shape[:2]
    if y_pred.dtype in (torch.float16, torch.bfloat16):
        y_pred = y_pred.float()  # Keras computes CTC in at least float32
    log_probs = F.log_softmax(y_pred, dim=-1).transpose(0, 1)  # (time, batch, classes)
    input_lengths = torch.full((batch,), time, dtype=torch.long, device=y_pred.device)
    label_lengths = (labels != 0).sum(-1)
    return F.ctc_loss(log_probs, labels, input_lengths, label_lengths, blank=0,
                      reduction="none")


register_fast_mean(ctc, None, integer_labels=True)


@LOSSES.register("CTC")
class CTC(KerasLoss):
    """Class form of `ctc`; `reduction`, `name`, `dtype`: see `Loss`."""

    def __init__(self, reduction="sum_over_batch_size", name="ctc", dtype=None):
        super().__init__(ctc, reduction, name, dtype)
