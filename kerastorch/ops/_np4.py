"""keras.ops.numpy, part 4 (moveaxis .. repeat).

Adapted from Keras 3's torch backend (`keras/src/backend/torch/numpy.py`, Apache 2.0), with Keras'
dtype rules; numbers checked against Keras on JAX in tests/conformance/test_ops_keras.py.
"""

import builtins  # noqa: F401
import math  # noqa: F401

import numpy as np  # noqa: F401
import torch
import torch.nn.functional as tnn  # noqa: F401

from kerastorch.ops import _dtypes as dtypes  # noqa: F401
from kerastorch.ops._utils import (  # noqa: F401
    canonicalize_axis, cast, check_conv_input_channels, check_conv_transpose_input_channels,
    compute_adaptive_pooling_window_sizes, compute_conv_transpose_output_crops_for_torch,
    convert_to_tensor, get_device, is_tensor, slice_along_axis, standardize_data_format,
    standardize_dtype, standardize_tuple, to_torch_dtype, to_tuple_or_list,
)
from kerastorch.ops._shim import backend, config  # noqa: F401


def moveaxis(x, source, destination):
    x = convert_to_tensor(x)
    return torch.moveaxis(x, source=source, destination=destination)


def nanargmax(x, axis=None, keepdims=False):
    x = convert_to_tensor(x)

    if not torch.is_floating_point(x):
        return argmax(x, axis=axis, keepdims=keepdims)

    x_clean = torch.where(torch.isnan(x), float("-inf"), x)

    return torch.where(
        torch.isnan(x).all(dim=axis, keepdim=keepdims),
        torch.tensor(-1, dtype=torch.int32, device=get_device()),
        argmax(x_clean, axis=axis, keepdims=keepdims),
    )


def nanargmin(x, axis=None, keepdims=False):
    x = convert_to_tensor(x)

    if not torch.is_floating_point(x):
        return argmin(x, axis=axis, keepdims=keepdims)

    x_clean = torch.where(torch.isnan(x), float("inf"), x)

    return torch.where(
        torch.isnan(x).all(dim=axis, keepdim=keepdims),
        torch.tensor(-1, dtype=torch.int32, device=get_device()),
        argmin(x_clean, axis=axis, keepdims=keepdims),
    )


def nancumsum(x, axis=None, dtype=None):
    x = nan_to_num(x)
    return cumsum(x, axis=axis, dtype=dtype)


def nancumprod(x, axis=None, dtype=None):
    x = nan_to_num(x, nan=1.0)
    return cumprod(x, axis=axis, dtype=dtype)


def nanmax(x, axis=None, keepdims=False):
    x = convert_to_tensor(x)
    if not torch.is_floating_point(x):
        return torch.amax(x, dim=axis, keepdim=keepdims)

    if axis == () or axis == []:
        return x

    x_clean = torch.where(torch.isnan(x), float("-inf"), x)
    out = torch.amax(x_clean, dim=axis, keepdim=keepdims)

    return torch.where(
        torch.isnan(x).all(dim=axis, keepdim=keepdims),
        torch.tensor(float("nan"), dtype=x.dtype, device=get_device()),
        out,
    )


def nanmean(x, axis=None, keepdims=False):
    x = convert_to_tensor(x)

    if axis == () or axis == []:
        return x

    dtype = dtypes.result_type(standardize_dtype(x.dtype), float)
    return torch.nanmean(cast(x, dtype), dim=axis, keepdim=keepdims)


def nanmedian(x, axis=None, keepdims=False):
    x = convert_to_tensor(x)

    if axis == () or axis == []:
        return x

    return nanquantile(x, q=0.5, axis=axis, keepdims=keepdims)


def nanmin(x, axis=None, keepdims=False):
    x = convert_to_tensor(x)
    if not torch.is_floating_point(x):
        return torch.amin(x, dim=axis, keepdim=keepdims)

    if axis == () or axis == []:
        return x

    x_clean = torch.where(torch.isnan(x), float("inf"), x)
    out = torch.amin(x_clean, dim=axis, keepdim=keepdims)

    return torch.where(
        torch.isnan(x).all(dim=axis, keepdim=keepdims),
        torch.tensor(float("nan"), dtype=x.dtype, device=get_device()),
        out,
    )


def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    x = convert_to_tensor(x)
    q = convert_to_tensor(q, dtype=config.floatx()) / 100.0
    return nanquantile(x, q, axis=axis, method=method, keepdims=keepdims)


def nanprod(x, axis=None, keepdims=False):
    x = convert_to_tensor(x)

    if axis == () or axis == []:
        return torch.nan_to_num(x, nan=1)

    if isinstance(axis, (list, tuple)):
        axis = sorted(axis, reverse=True)

    if not torch.is_floating_point(x):
        return prod(x, axis=axis, keepdims=keepdims)

    return prod(
        torch.where(torch.isnan(x), torch.ones((), dtype=x.dtype), x),
        axis=axis,
        keepdims=keepdims,
    )


def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    x = convert_to_tensor(x)
    q = convert_to_tensor(q)
    axis = to_tuple_or_list(axis)

    compute_dtype = dtypes.result_type(x.dtype, "float32")
    result_dtype = dtypes.result_type(x.dtype, float)

    x = cast(x, compute_dtype)
    if x.dtype != q.dtype:
        q = cast(q, x.dtype)

    if axis is None:
        y = reshape(x, [-1])
    else:
        axis = [canonicalize_axis(a, x.ndim) for a in axis]
        other_dims = sorted(set(range(x.ndim)).difference(axis))
        x_permed = torch.permute(x, dims=(other_dims + list(axis)))

        x_shape = list(x.shape)
        other_shape = [x_shape[i] for i in other_dims]
        end_shape = [math.prod([x_shape[i] for i in axis])]
        full_shape = other_shape + end_shape
        y = reshape(x_permed, full_shape)

    y = torch.nanquantile(y, q, dim=-1, interpolation=method)

    if keepdims:
        if axis is None:
            for _ in range(x.ndim):
                y = expand_dims(y, axis=-1)
        else:
            for i in sorted(axis):
                i = i + 1 if q.ndim > 0 else i
                y = expand_dims(y, axis=i)

    return cast(y, result_dtype)


def nanstd(x, axis=None, keepdims=False):
    var_val = nanvar(x, axis=axis, keepdims=keepdims)
    return torch.sqrt(var_val)


def nansum(x, axis=None, keepdims=False):
    if isinstance(x, (list, tuple)):
        x = stack(x)
    x = convert_to_tensor(x)
    dtype = standardize_dtype(x.dtype)

    if dtype in ("bool", "uint8", "int8", "int16"):
        dtype = "int32"

    if axis == () or axis == []:
        return cast(torch.nan_to_num(x, nan=0), dtype)
    return cast(torch.nansum(x, dim=axis, keepdim=keepdims), dtype)


def nanvar(x, axis=None, keepdims=False):
    x = convert_to_tensor(x)

    result_dtype = dtypes.result_type(x.dtype, float)
    x = cast(x, result_dtype)

    if axis == () or axis == []:
        return torch.where(torch.isnan(x), x, torch.zeros(()))

    mean = nanmean(x, axis=axis, keepdims=True)

    valid = ~torch.isnan(x)
    centered = torch.where(valid, x - mean, torch.zeros_like(x))

    if torch.is_complex(centered):
        centered = centered.real * centered.real + centered.imag * centered.imag
    else:
        centered = centered.square()

    count = valid.sum(dim=axis, keepdim=keepdims)
    var = centered.sum(dim=axis, keepdim=keepdims) / count
    return var


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    x = convert_to_tensor(x)
    return torch.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


def ndim(x):
    x = convert_to_tensor(x)
    return x.ndim


def nonzero(x):
    x = convert_to_tensor(x)
    return tuple(cast(i, "int32") for i in torch.nonzero(x, as_tuple=True))


def not_equal(x1, x2):
    x1, x2 = convert_to_tensor(x1), convert_to_tensor(x2)
    return torch.not_equal(x1, x2)


def ones_like(x, dtype=None):
    x = convert_to_tensor(x)
    dtype = to_torch_dtype(dtype or x.dtype)
    return torch.ones_like(x, dtype=dtype)


def outer(x1, x2):
    x1, x2 = convert_to_tensor(x1), convert_to_tensor(x2)
    return torch.outer(x1.flatten(), x2.flatten())


def _process_pad_width(pad_width, ndim):
    if isinstance(pad_width, int):
        pad_width = ((pad_width, pad_width),)
    elif isinstance(pad_width, (tuple, list)) and isinstance(pad_width[0], int):
        pad_width = (tuple(pad_width),)
    pad_width = [tuple(pw) if len(pw) == 2 else (pw[0], pw[0]) for pw in pad_width]
    if len(pad_width) == 1:
        pad_width = pad_width * ndim
    if len(pad_width) != ndim:
        raise ValueError(
            "`pad_width` must have the same length as `x.shape`. "
            f"Received: pad_width={pad_width} and x.shape={tuple(range(ndim))}"
        )
    return [(int(a), int(b)) for a, b in pad_width]


def pad(x, pad_width, mode="constant", constant_values=None):
    """Pads `x` as `numpy.pad` does (`constant`, `reflect`, `symmetric`, `edge`, `wrap`)."""
    if constant_values is not None and mode != "constant":
        raise ValueError(
            "Argument `constant_values` can only be provided when "
            f"`mode == 'constant'`. Received: mode={mode}"
        )
    x = convert_to_tensor(x)
    widths = _process_pad_width(pad_width, x.ndim)
    if mode == "constant":
        flat = [p for pw in reversed(widths) for p in pw]
        value = 0 if constant_values is None else constant_values
        return torch.nn.functional.pad(x, pad=flat, mode="constant", value=value)
    if mode not in ("reflect", "symmetric", "edge", "wrap"):
        raise ValueError(
            "`mode` must be one of 'constant', 'reflect', 'symmetric', 'edge', "
            f"'wrap'. Received: mode={mode}"
        )
    for dim, (before, after) in enumerate(widths):
        if before or after:
            index = np.pad(np.arange(x.shape[dim]), (before, after), mode=mode)
            x = torch.index_select(x, dim, torch.as_tensor(index, device=x.device))
    return x


def percentile(x, q, axis=None, method="linear", keepdims=False):
    x = convert_to_tensor(x)
    q = convert_to_tensor(q, dtype=config.floatx()) / 100.0
    return quantile(x, q, axis=axis, method=method, keepdims=keepdims)


def prod(x, axis=None, keepdims=False, dtype=None):
    x = convert_to_tensor(x)
    if dtype is None:
        dtype = dtypes.result_type(x.dtype)
        if dtype == "bool":
            dtype = "int32"
        elif dtype in ("int8", "int16"):
            dtype = "int32"
        # TODO: torch.prod doesn't support uint32
        elif dtype == "uint8":
            dtype = "int32"
    compute_dtype = dtype
    # TODO: torch.prod doesn't support float16 with cpu
    if get_device() == "cpu" and compute_dtype == "float16":
        compute_dtype = "float32"
    if axis is None:
        return cast(torch.prod(x, dtype=to_torch_dtype(compute_dtype)), dtype)
    axis = to_tuple_or_list(axis)
    axis = [canonicalize_axis(a, x.ndim) for a in axis]
    for a in sorted(axis, reverse=True):
        # `torch.prod` does not handle multiple axes.
        x = cast(
            torch.prod(
                x, dim=a, keepdim=keepdims, dtype=to_torch_dtype(compute_dtype)
            ),
            dtype,
        )
    return x


def ptp(x, axis=None, keepdims=False):
    x = convert_to_tensor(x)
    if axis is None:
        return x.max() - x.min()
    elif axis == ():
        return torch.zeros_like(x)
    else:
        return torch.amax(x, dim=axis, keepdim=keepdims) - torch.amin(
            x, dim=axis, keepdim=keepdims
        )


def quantile(x, q, axis=None, method="linear", keepdims=False):
    x = convert_to_tensor(x)
    q = convert_to_tensor(q)
    axis = to_tuple_or_list(axis)

    compute_dtype = dtypes.result_type(x.dtype, "float32")
    result_dtype = dtypes.result_type(x.dtype, float)

    x = cast(x, compute_dtype)
    # q must be same dtype as x
    if x.dtype != q.dtype:
        q = cast(q, x.dtype)

    # support multiple axes
    if axis is None:
        y = reshape(x, [-1])
    else:
        # transpose
        axis = [canonicalize_axis(a, x.ndim) for a in axis]
        other_dims = sorted(set(range(x.ndim)).difference(axis))
        perm = other_dims + list(axis)
        x_permed = torch.permute(x, dims=perm)
        # reshape
        x_shape = list(x.shape)
        other_shape = [x_shape[i] for i in other_dims]
        end_shape = [math.prod([x_shape[i] for i in axis])]
        full_shape = other_shape + end_shape
        y = reshape(x_permed, full_shape)

    y = torch.quantile(y, q, dim=-1, interpolation=method)

    if keepdims:
        if axis is None:
            for _ in range(x.ndim):
                y = expand_dims(y, axis=-1)
        else:
            for i in sorted(axis):
                i = i + 1 if q.ndim > 0 else i
                y = expand_dims(y, axis=i)

    return cast(y, result_dtype)


def ravel(x):
    x = convert_to_tensor(x)
    return torch.ravel(x)


def unravel_index(indices, shape):
    indices = convert_to_tensor(indices)
    dtype = dtypes.result_type(indices.dtype)
    return tuple(
        cast(idx, dtype) for idx in torch.unravel_index(indices, shape)
    )


def real(x):
    if not isinstance(x, torch.Tensor):
        x = torch.from_numpy(x)  # needed for complex type conversion
    return torch.real(x)


def reciprocal(x):
    x = convert_to_tensor(x)
    return torch.reciprocal(x)


def repeat(x, repeats, axis=None):
    x = convert_to_tensor(x)

    # When repeats is a scalar int and axis is specified, use
    # unsqueeze + expand + reshape instead of repeat_interleave.
    # repeat_interleave introduces unbacked symbolic integers during
    # torch.export tracing, preventing static shape inference. This
    # alternative preserves static output shapes.
    if isinstance(repeats, int) and axis is not None:
        if axis < 0:
            axis = x.ndim + axis
        shape = list(x.shape)
        x = x.unsqueeze(axis + 1)
        expand_shape = [-1] * x.ndim
        expand_shape[axis + 1] = repeats
        x = x.expand(expand_shape)
        new_shape = list(shape)
        new_shape[axis] = shape[axis] * repeats
        return x.reshape(new_shape)

    # When repeats is a list/tuple of ints, pass it directly to
    # repeat_interleave without converting to a tensor. The output
    # size (sum(repeats)) is statically known, so torch.export can
    # infer shapes without introducing unbacked symbols.
    if (
        isinstance(repeats, (list, tuple))
        and all(isinstance(r, int) for r in repeats)
        and axis is not None
    ):
        return torch.repeat_interleave(x, repeats, dim=axis)

    repeats = convert_to_tensor(repeats, dtype=int)

    return torch.repeat_interleave(x, repeats, dim=axis)


from kerastorch.ops._np1 import (  # noqa: E402 (cycle: after defs)
    all, argmax, argmin, mean,
)


from kerastorch.ops._np2 import (  # noqa: E402 (cycle: after defs)
    cumprod, cumsum, expand_dims,
)


from kerastorch.ops._np5 import (  # noqa: E402 (cycle: after defs)
    reshape, stack, var,
)
