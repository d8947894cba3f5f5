"""keras.ops.nn losses and label encodings on torch tensors: the three crossentropies (per-sample
values, no reduction), `one_hot` and `multi_hot`, with Keras-on-JAX formulas, dtypes and edge
cases (out-of-range labels encode as all zeros); CTC loss and decoding live in `ctc.py`.
"""

import torch
import torch.nn.functional as F

from kerastorch import config
from kerastorch.ops._args import axis_index
from kerastorch.ops._dtypes import result_type, standardize_dtype, to_torch_dtype
from kerastorch.ops.core import convert_to_tensor
from kerastorch.ops.nn.activations import log_softmax
from kerastorch.ops.nn.ctc import ctc_decode, ctc_loss


def _same_shape(target, output):
    if target.shape != output.shape:
        raise ValueError("Arguments `target` and `output` must have the same shape. Received: "
                         f"target.shape={tuple(target.shape)}, "
                         f"output.shape={tuple(output.shape)}")


def _clipped_log(probs, axis):
    """`log(clip(probs / sum(probs), eps, 1 - eps))`, Keras' guard for probability inputs."""
    probs = probs / torch.sum(probs, dim=axis, keepdim=True)
    eps = config.epsilon()
    return torch.log(torch.clamp(probs, eps, 1.0 - eps))


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """`-sum(target * log(p))` over `axis`, `p` the softmax of logits or the renormalized,
    clipped probabilities `output`."""
    target, output = convert_to_tensor(target), convert_to_tensor(output)
    _same_shape(target, output)
    if target.ndim < 1:
        raise ValueError("Arguments `target` and `output` must be at least rank 1. Received: "
                         f"target.shape={tuple(target.shape)}, "
                         f"output.shape={tuple(output.shape)}")
    log_prob = log_softmax(output, axis) if from_logits else _clipped_log(output, axis)
    return -torch.sum(target * log_prob, dim=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """`-log(p[target])`, `p` over the class axis `axis` of `output`; labels outside
    `[0, classes)` give 0, as Keras' one-hot product does. Half-precision outputs give float32
    (Keras multiplies by a float32 one-hot)."""
    target = convert_to_tensor(target)
    output = convert_to_tensor(output)
    if output.ndim < 1:
        raise ValueError("Argument `output` must be at least rank 1. Received: "
                         f"output.shape={tuple(output.shape)}")
    axis = axis_index(axis, output.ndim)
    if target.ndim == output.ndim and target.shape[axis] == 1:
        target = target.squeeze(axis)
    if tuple(target.shape) != output.shape[:axis] + output.shape[axis + 1:]:
        raise ValueError("Arguments `target` and `output` must have the same shape up until "
                         f"the last dimension: target.shape={tuple(target.shape)}, "
                         f"output.shape={tuple(output.shape)}")
    # Keras takes the log-probabilities in `output`'s dtype, then multiplies them by a float32
    # one-hot: half-precision outputs give float32 losses.
    dtype = to_torch_dtype(result_type(output.dtype, "float32"))
    if not output.is_floating_point():
        output = output.to(dtype)
    classes = output.shape[axis]
    target = target.to(torch.long)
    # F.cross_entropy / F.nll_loss pick the label's log-probability without a one-hot; labels
    # out of range become its ignored index (loss 0), as a one-hot row of zeros gives in Keras.
    target = torch.where((target >= 0) & (target < classes), target, -100)
    vector = output.ndim == 1
    if vector:
        output, target = output.unsqueeze(0), target.unsqueeze(0)
    elif axis != 1:
        output = output.movedim(axis, 1)
    if from_logits:
        loss = F.cross_entropy(output, target, reduction="none")
    else:
        loss = F.nll_loss(_clipped_log(output, 1), target, reduction="none")
    return (loss.squeeze(0) if vector else loss).to(dtype)


def binary_crossentropy(target, output, from_logits=False):
    """Elementwise `-(t log p + (1 - t) log(1 - p))`, `p` the sigmoid of logits or `output`
    clipped to `[eps, 1 - eps]`; the dtype is Keras' promotion of `target` with `output`."""
    target, output = convert_to_tensor(target), convert_to_tensor(output)
    _same_shape(target, output)
    dtype = to_torch_dtype(result_type(target.dtype, output.dtype, float))
    target = target.to(dtype)
    if not output.is_floating_point():
        output = output.to(dtype)
    # Keras takes the logs in `output`'s dtype, then combines them with `target`.
    if from_logits and output.dtype == dtype:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")
    if from_logits:
        return -target * F.logsigmoid(output) - (1.0 - target) * F.logsigmoid(-output)
    # Written out rather than F.binary_cross_entropy, which refuses (on CUDA: asserts on)
    # inputs outside [0, 1] such as nan, where Keras returns nan.
    eps = config.epsilon()
    output = torch.clamp(output, eps, 1.0 - eps)
    return -(target * torch.log(output) + (1.0 - target) * torch.log(1.0 - output))


def _no_sparse(sparse):
    if sparse:
        raise ValueError("`sparse=True` is not supported by kerastorch: torch tensors are dense.")


def _hot(x, num_classes, axis, dtype):
    """`x == class` along a new axis `axis` of `num_classes` entries, as `dtype`: a scatter
    of ones, none for labels outside `[0, num_classes)` or not whole numbers."""
    axis = axis_index(axis, x.ndim + 1)
    shape = list(x.shape)
    shape.insert(axis, num_classes)
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    valid = (x >= 0) & (x < num_classes)
    if x.is_floating_point():
        valid &= x == torch.floor(x)
    index = torch.clamp(x.to(torch.long), 0, max(num_classes - 1, 0)).unsqueeze(axis)
    out = torch.zeros(shape, dtype=dtype, device=x.device)
    if num_classes and x.numel():
        out.scatter_(axis, index, valid.unsqueeze(axis).to(dtype))
    return out


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """`x`'s integer labels as one-hot vectors along `axis` (`floatx()` by default); labels
    outside `[0, num_classes)` give rows of zeros."""
    _no_sparse(sparse)
    dtype = to_torch_dtype(standardize_dtype(dtype))
    return _hot(convert_to_tensor(x), num_classes, axis, dtype)


def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    """The one-hot encodings of `inputs`, maxed over axis 1 (axis 0 for a vector): one
    multi-hot vector per sample. `num_tokens` is Keras' older name of `num_classes`."""
    if num_classes is None and "num_tokens" in kwargs:
        num_classes = kwargs.pop("num_tokens")
    if num_classes is None:
        raise ValueError("Argument `num_classes` must be specified.")
    if kwargs:
        raise TypeError(f"multi_hot() got unexpected keyword arguments {sorted(kwargs)}")
    _no_sparse(sparse)
    dtype = to_torch_dtype(standardize_dtype(dtype))
    x = convert_to_tensor(inputs)
    if x.is_floating_point():  # Keras casts the labels to int32 first
        x = x.to(torch.int32)
    hot = _hot(x, num_classes, axis, torch.bool)
    return torch.any(hot, dim=1 if x.ndim > 1 else 0).to(dtype)


__all__ = [
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "ctc_loss",
    "ctc_decode",
    "one_hot",
    "multi_hot",
]
