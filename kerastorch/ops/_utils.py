"""Argument helpers shared by the ops (adapted from Keras 3's `backend_utils` and
`argument_validation`, Apache 2.0)."""

import math
import operator
import warnings

import torch

from kerastorch import config
from kerastorch.ops import _dtypes
from kerastorch.ops._dtypes import result_type, standardize_dtype, to_torch_dtype
from kerastorch.ops.core import cast, convert_to_tensor, is_tensor


def get_device():
    """The device type string (`"cpu"`, `"cuda"`, ...) new tensors go to."""
    return config.device().type


def standardize_data_format(data_format):
    if data_format is None:
        return config.image_data_format()
    data_format = str(data_format).lower()
    if data_format not in {"channels_first", "channels_last"}:
        raise ValueError("The `data_format` argument must be one of {'channels_first', "
                         f"'channels_last'}}. Received: data_format={data_format}")
    return data_format


def _convert_conv_transpose_padding_args_from_keras_to_jax(
    kernel_size, stride, dilation_rate, padding, output_padding
):
    """Convert the padding arguments from Keras to the ones used by JAX.
    JAX starts with an shape of size `(input-1) * stride - kernel_size + 2`,
    then adds `left_pad` on the left, and `right_pad` on the right.
    In Keras, the `padding` argument determines a base shape, to which
    `output_padding` is added on the right. If `output_padding` is None, it will
    be given a default value.
    """

    if padding.lower() not in {"valid", "same"}:
        raise ValueError(
            f"The `padding` argument must be one of 'valid', 'same'. "
            f"Received: padding={padding}"
        )
    kernel_size = (kernel_size - 1) * dilation_rate + 1

    if padding.lower() == "valid":
        # If output_padding is None, we fill it so that the shape of the output
        # is `(input-1)*s + max(kernel_size, stride)`
        output_padding = (
            max(kernel_size, stride) - kernel_size
            if output_padding is None
            else output_padding
        )
        left_pad = kernel_size - 1
        right_pad = kernel_size - 1 + output_padding

    else:
        if output_padding is None:
            # When output_padding is None, we want the shape of the output to
            # be `input * s`, therefore a total padding of
            # `stride + kernel_size - 2`
            pad_len = stride + kernel_size - 2
        else:
            # When output_padding is filled, we want the shape of the output to
            # be `(input-1)*stride + kernel_size%2 + output_padding`
            pad_len = kernel_size + kernel_size % 2 - 2 + output_padding
        left_pad = min(pad_len // 2 + pad_len % 2, kernel_size - 1)
        right_pad = pad_len - left_pad

    return left_pad, right_pad


def _convert_conv_transpose_padding_args_from_keras_to_torch(
    kernel_size, stride, dilation_rate, padding, output_padding
):
    """Convert the padding arguments from Keras to the ones used by Torch.
    Torch starts with an output shape of `(input-1) * stride + kernel_size`,
    then removes `torch_padding` from both sides, and adds
    `torch_output_padding` on the right.
    Because in Torch the output_padding can only be added to the right,
    consistency with Tensorflow is not always possible. In particular this is
    the case when both the Torch padding and output_padding values are
    strictly positive.
    """
    if padding.lower() not in {"valid", "same"}:
        raise ValueError(
            f"The `padding` argument must be one of 'valid', 'same'. "
            f"Received: padding={padding}"
        )
    original_kernel_size = kernel_size
    kernel_size = (kernel_size - 1) * dilation_rate + 1

    if padding.lower() == "valid":
        # If output_padding is None, we fill it so that the shape of the output
        # is `(i-1)*s + max(k, s)`
        output_padding = (
            max(kernel_size, stride) - kernel_size
            if output_padding is None
            else output_padding
        )
        torch_padding = 0
        torch_output_padding = output_padding

    else:
        # When output_padding is None, we want the shape of the output to be
        # `input * s`, otherwise we use the value provided.
        output_padding = (
            stride - kernel_size % 2
            if output_padding is None
            else output_padding
        )
        torch_padding = max(
            -((kernel_size % 2 - kernel_size + output_padding) // 2), 0
        )
        torch_output_padding = (
            2 * torch_padding + kernel_size % 2 - kernel_size + output_padding
        )

    if torch_padding > 0 and torch_output_padding > 0:
        warnings.warn(
            f"You might experience inconsistencies across backends when "
            f"calling conv transpose with kernel_size={original_kernel_size}, "
            f"stride={stride}, dilation_rate={dilation_rate}, "
            f"padding={padding}, output_padding={output_padding}."
        )

    if torch_output_padding >= stride:
        warnings.warn(
            f"Torch backend requires output_padding < stride. "
            f"Clamping output_padding {torch_output_padding} -> {stride - 1} "
            f"for stride {stride}.",
            UserWarning,
        )
        torch_output_padding = stride - 1

    return torch_padding, torch_output_padding


def compute_conv_transpose_padding_args_for_jax(
    input_shape,
    kernel_shape,
    strides,
    padding,
    output_padding,
    dilation_rate,
):
    num_spatial_dims = len(input_shape) - 2
    kernel_spatial_shape = kernel_shape[:-2]

    jax_padding = []
    for i in range(num_spatial_dims):
        output_padding_i = (
            output_padding
            if output_padding is None or isinstance(output_padding, int)
            else output_padding[i]
        )
        strides_i = strides if isinstance(strides, int) else strides[i]
        dilation_rate_i = (
            dilation_rate
            if isinstance(dilation_rate, int)
            else dilation_rate[i]
        )
        (
            pad_left,
            pad_right,
        ) = _convert_conv_transpose_padding_args_from_keras_to_jax(
            kernel_size=kernel_spatial_shape[i],
            stride=strides_i,
            dilation_rate=dilation_rate_i,
            padding=padding,
            output_padding=output_padding_i,
        )
        jax_padding.append((pad_left, pad_right))

    return jax_padding


def compute_conv_transpose_padding_args_for_torch(
    input_shape,
    kernel_shape,
    strides,
    padding,
    output_padding,
    dilation_rate,
):
    num_spatial_dims = len(input_shape) - 2
    kernel_spatial_shape = kernel_shape[:-2]

    torch_paddings = []
    torch_output_paddings = []
    for i in range(num_spatial_dims):
        output_padding_i = (
            output_padding
            if output_padding is None or isinstance(output_padding, int)
            else output_padding[i]
        )
        strides_i = strides if isinstance(strides, int) else strides[i]
        dilation_rate_i = (
            dilation_rate
            if isinstance(dilation_rate, int)
            else dilation_rate[i]
        )
        (
            torch_padding,
            torch_output_padding,
        ) = _convert_conv_transpose_padding_args_from_keras_to_torch(
            kernel_size=kernel_spatial_shape[i],
            stride=strides_i,
            dilation_rate=dilation_rate_i,
            padding=padding,
            output_padding=output_padding_i,
        )
        torch_paddings.append(torch_padding)
        torch_output_paddings.append(torch_output_padding)

    # --- FIX FOR TORCH CONSTRAINT: output_padding < stride ---
    corrected_output_paddings = []
    for s, op in zip(
        strides
        if isinstance(strides, (list, tuple))
        else [strides] * num_spatial_dims,
        torch_output_paddings,
    ):
        max_allowed = max(0, s - 1)
        if op > max_allowed:
            corrected_output_paddings.append(max_allowed)
        else:
            corrected_output_paddings.append(op)

    torch_output_paddings = corrected_output_paddings

    return torch_paddings, torch_output_paddings


def compute_conv_transpose_output_crops_for_torch(
    input_shape,
    kernel_shape,
    strides,
    padding,
    output_padding,
    dilation_rate,
):
    """Per-spatial-dim asymmetric (left, right) crop amounts for torch.

    Torch's `conv_transpose*d` only supports symmetric `padding` plus a
    right-side `output_padding`, which cannot express the asymmetric crops
    that Keras "same" semantics requires when stride > 1 with an odd kernel.
    We work around this by calling torch with `padding=0, output_padding=0`
    (which produces the largest "natural" output of size
    `(input - 1) * stride + effective_kernel`), then asymmetrically slicing
    the spatial dims to the same window JAX would compute.

    The slice on each side is `(effective_kernel - 1) - left_pad` from the
    left and `(effective_kernel - 1) - right_pad` from the right, where
    `left_pad` / `right_pad` come from the existing JAX helper. A negative
    value means we need to extend with zero-padding instead of cropping.
    """
    num_spatial_dims = len(input_shape) - 2
    kernel_spatial_shape = kernel_shape[:-2]

    crops = []
    for i in range(num_spatial_dims):
        output_padding_i = (
            output_padding
            if output_padding is None or isinstance(output_padding, int)
            else output_padding[i]
        )
        strides_i = strides if isinstance(strides, int) else strides[i]
        dilation_rate_i = (
            dilation_rate
            if isinstance(dilation_rate, int)
            else dilation_rate[i]
        )
        (
            left_pad,
            right_pad,
        ) = _convert_conv_transpose_padding_args_from_keras_to_jax(
            kernel_size=kernel_spatial_shape[i],
            stride=strides_i,
            dilation_rate=dilation_rate_i,
            padding=padding,
            output_padding=output_padding_i,
        )
        effective_kernel = (kernel_spatial_shape[i] - 1) * dilation_rate_i + 1
        crop_left = (effective_kernel - 1) - left_pad
        crop_right = (effective_kernel - 1) - right_pad
        crops.append((crop_left, crop_right))
    return crops



def canonicalize_axis(axis, num_dims):
    """Canonicalize an axis in [-num_dims, num_dims) to [0, num_dims)."""
    axis = operator.index(axis)
    if not -num_dims <= axis < num_dims:
        raise ValueError(
            f"axis {axis} is out of bounds for an array with dimension "
            f"{num_dims}."
        )
    if axis < 0:
        axis = axis + num_dims
    return axis


def canonicalize_axes(axis, num_dims):
    """Canonicalize an axis or axes to a tuple of non-negative integers."""
    if isinstance(axis, (tuple, list)):
        return tuple(canonicalize_axis(a, num_dims) for a in axis)
    return (canonicalize_axis(axis, num_dims),)


def check_conv_input_channels(inputs, kernel, data_format):
    """Validate a conv input against its kernel shape.

    Used by `conv`, `depthwise_conv`, and `separable_conv` — all share the
    convention that the kernel's input-channel dimension is `kernel.shape[-2]`.
    Produces a clear error message before the backend op raises its own
    implementation-specific one.
    """
    input_channels = (
        inputs.shape[-1] if data_format == "channels_last" else inputs.shape[1]
    )
    kernel_input_channels = kernel.shape[-2]
    # Only validate when both dimensions are concrete Python ints. Dynamic
    # dimensions can come in forms other than `None` during tracing.
    if (
        isinstance(input_channels, int)
        and isinstance(kernel_input_channels, int)
        and input_channels != kernel_input_channels
    ):
        raise ValueError(
            "The number of input channels must match the kernel's input "
            f"channels. Received: input channels={input_channels}, kernel "
            f"input channels={kernel_input_channels}, "
            f"data_format='{data_format}'."
        )


def check_conv_transpose_input_channels(inputs, kernel, data_format):
    """Validate a conv_transpose input against its kernel shape.

    `conv_transpose` kernels use the layout
    `(spatial..., out_channels, in_channels)`, so the input-channel dimension
    is at `kernel.shape[-1]` (vs. `kernel.shape[-2]` for regular conv).
    """
    input_channels = (
        inputs.shape[-1] if data_format == "channels_last" else inputs.shape[1]
    )
    kernel_input_channels = kernel.shape[-1]
    if (
        isinstance(input_channels, int)
        and isinstance(kernel_input_channels, int)
        and input_channels != kernel_input_channels
    ):
        raise ValueError(
            "The number of input channels must match the kernel's input "
            f"channels. Received: input channels={input_channels}, kernel "
            f"input channels={kernel_input_channels}, "
            f"data_format='{data_format}'."
        )


def to_tuple_or_list(value):
    """Convert the non-`None` value to either a tuple or a list."""
    if value is None:
        return value
    if not isinstance(value, (int, tuple, list)):
        raise ValueError(
            "`value` must be an integer, tuple or list. "
            f"Received: value={value}"
        )
    if isinstance(value, int):
        return (value,)
    return value


def slice_along_axis(x, start=0, stop=None, step=1, axis=0):
    """Slice a Tensor along the given axis."""
    # Ref: same util function defined in tfp.math.scan_associative
    if axis >= 0:
        slices = [slice(None)] * axis + [slice(start, stop, step)]
    else:
        slices = [Ellipsis, slice(start, stop, step)] + [slice(None)] * (
            -1 - axis
        )
    return x[tuple(slices)]


def compute_adaptive_pooling_window_sizes(input_dim, output_dim):
    """Compute small and big window sizes for adaptive pooling."""
    small = math.ceil(input_dim / output_dim)
    big = small + 1
    return small, big


def standardize_tuple(value, n, name, allow_zero=False):
    """Transforms non-negative/positive integer/integers into an integer tuple.

    Args:
        value: int or iterable of ints. The value to validate and convert.
        n: int. The size of the tuple to be returned.
        name: string. The name of the argument being validated, e.g. "strides"
            or "kernel_size". This is only used to format error messages.
        allow_zero: bool, defaults to `False`. A `ValueError` will raised
            if zero is received and this argument is `False`.

    Returns:
        A tuple of n integers.
    """
    error_msg = (
        f"The `{name}` argument must be a tuple of {n} integers. "
        f"Received {name}={value}"
    )

    if isinstance(value, int):
        value_tuple = (value,) * n
    else:
        try:
            value_tuple = tuple(value)
        except TypeError:
            raise ValueError(error_msg)
        if len(value_tuple) != n:
            raise ValueError(error_msg)
        for single_value in value_tuple:
            try:
                int(single_value)
            except (ValueError, TypeError):
                error_msg += (
                    f"including element {single_value} of "
                    f"type {type(single_value)}"
                )
                raise ValueError(error_msg)

    if allow_zero:
        unqualified_values = {v for v in value_tuple if v < 0}
        req_msg = ">= 0"
    else:
        unqualified_values = {v for v in value_tuple if v <= 0}
        req_msg = "> 0"

    if unqualified_values:
        error_msg += (
            f", including values {unqualified_values}"
            f" that do not satisfy `value {req_msg}`"
        )
        raise ValueError(error_msg)

    return value_tuple

