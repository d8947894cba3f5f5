"""Argument and padding arithmetic shared by the conv and pooling ops (private): the
channels_last <-> NCHW views, Keras' kernel layout as torch's, the per-axis `(before, after)`
pads of "valid", "same" (TF/JAX rule: the odd cell goes at the end) and "causal", and the
crops that make torch's transposed convolution give Keras' output window. The arithmetic is
Python on static shapes: no tensor's values are read (no host syncs).
"""

import torch
import torch.nn.functional as F

from kerastorch.ops._args import int_tuple

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
CONV_TRANSPOSE = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
ADAPTIVE_AVG = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}
ADAPTIVE_MAX = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}


def spatial_rank(x, what: str) -> int:
    """The number of spatial axes of a batched, channelled input (1, 2 or 3)."""
    rank = x.ndim - 2
    if rank not in (1, 2, 3):
        raise ValueError(f"Inputs to {what} must have ndim=3, 4 or 5, corresponding to 1D, "
                         f"2D and 3D inputs. Received input shape: {tuple(x.shape)}.")
    return rank


def padding_mode(padding, allowed=("valid", "same")) -> str:
    """`padding` lower-cased, checked against `allowed`."""
    mode = padding.lower() if isinstance(padding, str) else padding
    if mode not in allowed:
        raise ValueError(f"The `padding` argument must be one of {allowed}. "
                         f"Received: padding={padding}")
    return mode


def channels_first(x, channels_last: bool):
    """`x` seen as (batch, channels, *spatial): a view, no copy."""
    return x.movedim(-1, 1) if channels_last else x


def restore_format(y, channels_last: bool):
    return y.movedim(1, -1) if channels_last else y


def torch_kernel(kernel, rank: int):
    """Keras' (*spatial, a, b) kernel as torch's (b, a, *spatial): conv (in, out) becomes
    (out, in) and a transposed conv's (out, in) becomes (in, out), one permutation for both."""
    return kernel.permute(rank + 1, rank, *range(rank))


def same_pads(size: int, window: int, stride: int, dilation: int = 1) -> tuple:
    """(before, after) of one axis for "same": output `ceil(size / stride)`, extra at the end."""
    span = (window - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + span - size, 0)
    return total // 2, total - total // 2


def axis_pads(mode: str, sizes, windows, strides, dilations) -> list:
    """Per spatial axis `(before, after)` for `mode` ("valid", "same" or "causal")."""
    if mode == "valid":
        return [(0, 0)] * len(sizes)
    if mode == "causal":  # everything before: output t sees inputs up to t only
        return [((w - 1) * d, 0) for w, d in zip(windows, dilations)]
    return [same_pads(n, w, s, d) for n, w, s, d in zip(sizes, windows, strides, dilations)]


def split_pads(pads):
    """(`padding=` for the torch op, F.pad argument or None). Symmetric pads are the op's own;
    otherwise the input is padded first (F.pad lists the last axis first)."""
    if all(before == after for before, after in pads):
        return [before for before, _ in pads], None
    flat = []
    for before, after in reversed(pads):
        flat += [before, after]
    return 0, flat


def out_sizes(sizes, pads, windows, strides, dilations) -> list:
    """Output length of each axis of a windowed op over padded inputs (0 when none fits)."""
    lengths = []
    for n, (before, after), w, s, d in zip(sizes, pads, windows, strides, dilations):
        room = n + before + after - (w - 1) * d - 1
        lengths.append(room // s + 1 if room >= 0 else 0)
    return lengths


def same_average_scale(sizes, pads, windows, strides, like):
    """`prod(windows) / cells`, with `cells` the real (unpadded) cells each output window
    covers, broadcastable over (batch, channels, *out): it turns torch's mean over the whole
    zero-padded window into Keras' mean over the real cells only. Built on the device (a
    host-made tensor would cost a copy and a sync)."""
    rank = len(sizes)
    lengths = out_sizes(sizes, pads, windows, strides, [1] * rank)
    scale = None
    for axis in range(rank):
        n, before, w, s = sizes[axis], pads[axis][0], windows[axis], strides[axis]
        starts = torch.arange(lengths[axis], device=like.device) * s - before
        cells = (starts + w).clamp(max=n) - starts.clamp(min=0)
        shape = [1] * (rank + 2)
        shape[axis + 2] = lengths[axis]
        vec = (w / cells.to(like.dtype)).reshape(shape)
        scale = vec if scale is None else scale * vec
    return scale


def transpose_pads(kernel: int, stride: int, dilation: int, mode: str, extra) -> tuple:
    """Keras' transposed-conv padding of one axis, as zeros (left, right) around the
    stride-dilated input before a correlation with the flipped kernel (JAX's convention).

    "valid": output `(n - 1) * stride + span + extra`, `extra` defaulting to
    `max(stride - span, 0)`; "same": output `n * stride`, or with `extra` given
    `(n - 1) * stride + span % 2 + extra`; the left share is capped at `span - 1`."""
    span = (kernel - 1) * dilation + 1
    if mode == "valid":
        if extra is None:
            extra = max(stride - span, 0)
        return span - 1, span - 1 + extra
    total = stride + span - 2 if extra is None else span + span % 2 - 2 + extra
    left = min((total + 1) // 2, span - 1)
    return left, total - left


def transpose_plan(kernels, strides, dilations, mode, output_padding):
    """How torch's conv_transpose gives Keras' window, per axis.

    torch's full output (padding 0) equals JAX's with pads `span - 1` on both sides; Keras'
    pads (left, right) mean cropping `span - 1 - left` and `span - 1 - right` of it (a negative
    crop: zeros appended). torch crops `padding` from both sides and then extends the right
    by `output_padding < max(stride, dilation)`; when that cannot express the crops, torch
    runs with the common part and the rest is sliced (or zero-padded) afterwards.
    Returns (padding, output_padding, residual crops [(left, right), ...]) for torch."""
    rank = len(kernels)
    extras = (output_padding if output_padding is None or isinstance(output_padding, int)
              else list(output_padding))
    paddings, out_pads, rest = [], [], []
    for i in range(rank):
        extra = extras if extras is None or isinstance(extras, int) else extras[i]
        left, right = transpose_pads(kernels[i], strides[i], dilations[i], mode, extra)
        span = (kernels[i] - 1) * dilations[i] + 1
        crop_l, crop_r = span - 1 - left, span - 1 - right
        grow = crop_l - crop_r
        if crop_l >= 0 and 0 <= grow < max(strides[i], dilations[i]):
            paddings.append(crop_l)
            out_pads.append(grow)
            rest.append((0, 0))
        else:
            common = max(min(crop_l, crop_r), 0)
            paddings.append(common)
            out_pads.append(0)
            rest.append((crop_l - common, crop_r - common))
    return paddings, out_pads, rest


def apply_crops(y, crops):
    """Slice positive crops off (a view) and zero-pad negative ones, spatial axes from 2."""
    if all(c == (0, 0) for c in crops):
        return y
    index = [slice(None), slice(None)]
    for (left, right), size in zip(crops, y.shape[2:]):
        index.append(slice(max(left, 0), size - max(right, 0)))
    y = y[tuple(index)]
    if any(left < 0 or right < 0 for left, right in crops):
        flat = []
        for left, right in reversed(crops):
            flat += [max(-left, 0), max(-right, 0)]
        y = F.pad(y, flat)
    return y


def conv_params(rank, strides, dilation_rate):
    return int_tuple(strides, rank, "strides"), int_tuple(dilation_rate, rank, "dilation_rate")


def check_output(sizes, name="convolution"):
    if any(n <= 0 for n in sizes):
        raise ValueError(
            f"The {name} operation resulted in an empty output. This can happen if the input "
            "is too small for the given kernel size, strides, dilation rate, and padding "
            "mode. Please check the input shape and convolution parameters.")
