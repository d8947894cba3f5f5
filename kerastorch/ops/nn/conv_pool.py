"""keras.ops.nn convolutions (plain, grouped, depthwise, separable, transposed) and pooling
(max, average, adaptive) over torch's `F.conv*d` / `F.*pool*d`. Keras' conventions hold:
channels_last inputs by default (seen as NCHW through a view), kernels laid out
`(*spatial, in, out)` (`(*spatial, out, in)` for the transposed conv), "same" padding with the
odd cell at the end (asymmetric cases padded with `F.pad` first), and Keras' output windows for
the transposed conv. Integer inputs run in float64 where torch's kernels are float-only.
"""

import math

import torch
import torch.nn.functional as F

from kerastorch.ops._args import data_format_of, int_tuple
from kerastorch.ops.core import convert_to_tensor
from kerastorch.ops.nn import _conv_args as ca

__all__ = [
    "adaptive_average_pool",
    "adaptive_max_pool",
    "average_pool",
    "conv",
    "conv_transpose",
    "depthwise_conv",
    "max_pool",
    "separable_conv",
]


# ---------------------------------------------------------------------- convolutions
def _with_kernel_dtype(inputs, kernel):
    """(inputs, kernel) as tensors, inputs cast to the kernel's dtype (Keras' rule for conv)."""
    kernel = convert_to_tensor(kernel)
    inputs = convert_to_tensor(inputs)
    if inputs.dtype != kernel.dtype:
        inputs = inputs.to(kernel.dtype)
    return inputs, kernel


def _check_channels(channels, kernel_channels, fmt):
    if channels != kernel_channels:
        raise ValueError(
            "The number of input channels must match the kernel's input channels. "
            f"Received: input channels={channels}, kernel input channels={kernel_channels}, "
            f"data_format='{fmt}'.")


def _float_run(fn, x, weight, *args):
    """`fn(x, weight, *args)`, in float64 for integer/bool tensors (torch's conv kernels are
    float-only on most devices; float64 is exact for the sums of int32 products)."""
    if x.is_floating_point() or x.is_complex():
        return fn(x, weight, None, *args)
    return fn(x.double(), weight.double(), None, *args).to(x.dtype)


def _conv_core(x, weight, rank, strides, mode, dilations, groups):
    """Correlation of channels-first `x` with torch-layout `weight`, Keras' padding `mode`."""
    if mode == "causal" and rank != 1:
        raise ValueError("`padding='causal'` is only supported for 1D convolutions. "
                         f"Received inputs with {rank} spatial dimensions.")
    sizes, windows = tuple(x.shape[2:]), tuple(weight.shape[2:])
    pads = ca.axis_pads(mode, sizes, windows, strides, dilations)
    ca.check_output(ca.out_sizes(sizes, pads, windows, strides, dilations))
    padding, flat = ca.split_pads(pads)
    if flat is not None:
        x = F.pad(x, flat)
    return _float_run(ca.CONV[rank], x, weight, strides, padding, dilations, groups)


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D convolution (1D/2D/3D); kernel `(*spatial, in // groups, out)`, the groups implied
    by the channel counts. The result has the kernel's dtype (inputs are cast to it)."""
    fmt = data_format_of(data_format)
    mode = ca.padding_mode(padding, ("valid", "same", "causal"))
    inputs, kernel = _with_kernel_dtype(inputs, kernel)
    rank = ca.spatial_rank(inputs, "conv operation")
    strides, dilations = ca.conv_params(rank, strides, dilation_rate)
    last = fmt == "channels_last"
    x = ca.channels_first(inputs, last)
    channels, kernel_in = x.shape[1], kernel.shape[-2]
    if channels % kernel_in:
        raise ValueError(
            "The number of input channels must be evenly divisible by kernel's in_channels. "
            f"Received input channels {channels} and kernel in_channels {kernel_in}. ")
    y = _conv_core(x, ca.torch_kernel(kernel, rank), rank, strides, mode, dilations,
                   channels // kernel_in)
    return ca.restore_format(y, last)


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1):
    """Depthwise convolution: kernel `(*spatial, channels, multiplier)`, output channel
    `c * multiplier + m` from input channel `c`; the kernel's dtype."""
    fmt = data_format_of(data_format)
    mode = ca.padding_mode(padding, ("valid", "same", "causal"))
    inputs, kernel = _with_kernel_dtype(inputs, kernel)
    rank = ca.spatial_rank(inputs, "depthwise_conv operation")
    strides, dilations = ca.conv_params(rank, strides, dilation_rate)
    last = fmt == "channels_last"
    x = ca.channels_first(inputs, last)
    channels, multiplier = kernel.shape[-2], kernel.shape[-1]
    _check_channels(x.shape[1], channels, fmt)
    # torch's grouped layout: (channels * multiplier, 1, *spatial), one group per channel
    weight = ca.torch_kernel(kernel.reshape(*kernel.shape[:-2], 1, channels * multiplier), rank)
    y = _conv_core(x, weight, rank, strides, mode, dilations, channels)
    return ca.restore_format(y, last)


def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid",
                   data_format=None, dilation_rate=1):
    """A depthwise convolution followed by a 1x1 ("pointwise") convolution."""
    fmt = data_format_of(data_format)
    mid = depthwise_conv(inputs, depthwise_kernel, strides, padding, fmt, dilation_rate)
    return conv(mid, pointwise_kernel, 1, "valid", fmt, dilation_rate)


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None,
                   data_format=None, dilation_rate=1):
    """Transposed convolution (the gradient of `conv`); kernel `(*spatial, out, in)`.

    Output lengths as Keras: "same" gives `n * stride`, "valid" `(n - 1) * stride + span`
    (span the dilated kernel, at least `stride`), `output_padding` overriding the extra."""
    fmt = data_format_of(data_format)
    mode = ca.padding_mode(padding)
    inputs, kernel = _with_kernel_dtype(inputs, kernel)
    rank = ca.spatial_rank(inputs, "conv transpose operation")
    strides, dilations = ca.conv_params(rank, strides, dilation_rate)
    if output_padding is not None:
        output_padding = int_tuple(output_padding, rank, "output_padding", allow_zero=True)
    last = fmt == "channels_last"
    x = ca.channels_first(inputs, last)
    _check_channels(x.shape[1], kernel.shape[-1], fmt)
    paddings, out_pads, rest = ca.transpose_plan(tuple(kernel.shape[:-2]), strides, dilations,
                                                 mode, output_padding)
    y = _float_run(ca.CONV_TRANSPOSE[rank], x, ca.torch_kernel(kernel, rank), strides,
                   paddings, out_pads, 1, dilations)
    return ca.restore_format(ca.apply_crops(y, rest), last)


# ---------------------------------------------------------------------- pooling
def _pool_setup(inputs, pool_size, strides, padding, data_format, what):
    """(channels-first x, channels_last?, windows, strides, pads, output lengths)."""
    fmt = data_format_of(data_format)
    mode = ca.padding_mode(padding)
    x = convert_to_tensor(inputs)
    rank = ca.spatial_rank(x, what)
    windows = int_tuple(pool_size, rank, "pool_size")
    steps = windows if strides is None else int_tuple(strides, rank, "strides")
    last = fmt == "channels_last"
    x = ca.channels_first(x, last)
    sizes = tuple(x.shape[2:])
    ones = [1] * rank
    pads = ca.axis_pads(mode, sizes, windows, steps, ones)
    return x, last, windows, steps, pads, ca.out_sizes(sizes, pads, windows, steps, ones)


def _empty(x, lengths, dtype):
    """A window bigger than the (padded) input: an empty result, as Keras gives."""
    return x.new_empty((*x.shape[:2], *lengths), dtype=dtype)


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Max over windows of `pool_size` (strides default to it); keeps the input's dtype."""
    x, last, windows, steps, pads, lengths = _pool_setup(inputs, pool_size, strides, padding,
                                                         data_format, "pooling op")
    dtype = x.dtype
    if 0 in lengths:
        return ca.restore_format(_empty(x, lengths, dtype), last)
    if not x.is_floating_point():  # torch's max pools are float-only (1D) on the CPU
        x = x.double()
    padding, flat = ca.split_pads(pads)
    if flat is not None:  # padded cells never win: -inf, as Keras' reduce_window starts
        x = F.pad(x, flat, value=-math.inf)
    y = ca.MAX_POOL[len(windows)](x, windows, steps, padding)
    return ca.restore_format(y.to(dtype), last)


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Mean over windows of `pool_size`; with "same", over the real cells of each window only
    (padding is not counted). Integer inputs give float32 (Keras divides their sums)."""
    x, last, windows, steps, pads, lengths = _pool_setup(inputs, pool_size, strides, padding,
                                                         data_format, "pooling op")
    if not x.is_floating_point():
        x = x.to(torch.float32)
    if 0 in lengths:
        return ca.restore_format(_empty(x, lengths, x.dtype), last)
    pool = ca.AVG_POOL[len(windows)]
    padding, flat = ca.split_pads(pads)
    if flat is None:  # symmetric: torch's count_include_pad=False is Keras' divisor
        y = pool(x, windows, steps, padding, count_include_pad=False)
    else:
        sizes = tuple(x.shape[2:])
        y = pool(F.pad(x, flat), windows, steps)
        y = y * ca.same_average_scale(sizes, pads, windows, steps, y)
    return ca.restore_format(y, last)


def _adaptive_setup(inputs, output_size, data_format, what):
    fmt = data_format_of(data_format)
    x = convert_to_tensor(inputs)
    rank = ca.spatial_rank(x, what)
    size = int_tuple(output_size, rank, "output_size")
    last = fmt == "channels_last"
    return ca.channels_first(x, last), last, size


def adaptive_average_pool(inputs, output_size, data_format=None):
    """Mean over `output_size` bins per spatial axis (bin i spans
    `[floor(i * n / out), ceil((i + 1) * n / out))`, as torch's); integers give float32."""
    x, last, size = _adaptive_setup(inputs, output_size, data_format,
                                    "adaptive average pooling")
    if not x.is_floating_point():
        x = x.to(torch.float32)
    return ca.restore_format(ca.ADAPTIVE_AVG[len(size)](x, size), last)


def adaptive_max_pool(inputs, output_size, data_format=None):
    """Max over `output_size` bins per spatial axis; keeps the input's dtype."""
    x, last, size = _adaptive_setup(inputs, output_size, data_format, "adaptive max pooling")
    dtype = x.dtype
    if not x.is_floating_point():  # torch's adaptive max pools are float-only
        x = x.double()
    return ca.restore_format(ca.ADAPTIVE_MAX[len(size)](x, size).to(dtype), last)
