"""keras.ops.numpy, part 6 (floor_divide .. dsplit).

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


def floor_divide(x1, x2):
    if not isinstance(x1, (int, float)):
        x1 = convert_to_tensor(x1)
    if not isinstance(x2, (int, float)):
        x2 = convert_to_tensor(x2)
    dtype = dtypes.result_type(
        getattr(x1, "dtype", type(x1)),
        getattr(x2, "dtype", type(x2)),
    )
    return cast(torch.floor_divide(x1, x2), dtype)


def logical_xor(x1, x2):
    x1, x2 = convert_to_tensor(x1), convert_to_tensor(x2)
    return torch.logical_xor(x1, x2)


def corrcoef(x):
    x = convert_to_tensor(x)

    if standardize_dtype(x.dtype) == "bool":
        x = cast(x, config.floatx())
    elif standardize_dtype(x.dtype) == "int64":
        x = cast(x, "float64")

    return torch.corrcoef(x)


def correlate(x1, x2, mode="valid"):
    x1 = convert_to_tensor(x1)
    x2 = convert_to_tensor(x2)

    dtype = dtypes.result_type(
        getattr(x1, "dtype", type(x1)),
        getattr(x2, "dtype", type(x2)),
    )
    if dtype == "int64":
        dtype = "float64"
    elif dtype not in ["bfloat16", "float16", "float64"]:
        dtype = "float32"

    x1 = cast(x1, dtype)
    x2 = cast(x2, dtype)

    x1_len, x2_len = x1.size(0), x2.size(0)

    if x1.shape[:-1] != x2.shape[:-1]:
        new_shape = [max(i, j) for i, j in zip(x1.shape[:-1], x2.shape[:-1])]
        x1 = torch.broadcast_to(x1, new_shape + [x1.shape[-1]])
        x2 = torch.broadcast_to(x2, new_shape + [x2.shape[-1]])

    num_signals = torch.tensor(x1.shape[:-1]).prod()
    x1 = torch.reshape(x1, (int(num_signals), x1.size(-1)))
    x2 = torch.reshape(x2, (int(num_signals), x2.size(-1)))

    output = torch.nn.functional.conv1d(
        x1, x2.unsqueeze(1), groups=x1.size(0), padding=x2.size(-1) - 1
    )
    output_shape = x1.shape[:-1] + (-1,)
    result = output.reshape(output_shape)

    if mode == "valid":
        target_length = (
            builtins.max(x1_len, x2_len) - builtins.min(x1_len, x2_len) + 1
        )
        start_idx = (result.size(-1) - target_length) // 2
        result = result[..., start_idx : start_idx + target_length]

    if mode == "same":
        start_idx = (result.size(-1) - x1_len) // 2
        result = result[..., start_idx : start_idx + x1_len]

    return torch.squeeze(result)


def select(condlist, choicelist, default=0):
    condlist = [convert_to_tensor(c) for c in condlist]
    choicelist = [convert_to_tensor(c) for c in choicelist]
    out = convert_to_tensor(default)
    for c, v in reversed(list(zip(condlist, choicelist))):
        out = torch.where(c, v, out)
    return out


def slogdet(x):
    x = convert_to_tensor(x)
    return tuple(torch.linalg.slogdet(x))


def argpartition(x, kth, axis=-1):
    x = convert_to_tensor(x, "int32")

    if axis is None:
        x = torch.flatten(x)
        axis = 0
        original_axis = None
    else:
        original_axis = axis

    x = torch.transpose(x, axis, -1)

    bottom_ind = torch.topk(-x, kth + 1)[1]

    def set_to_zero(a, i):
        a = a.clone()
        a[i] = 0
        return a

    for _ in range(x.dim() - 1):
        set_to_zero = torch.vmap(set_to_zero)

    proxy = set_to_zero(torch.ones_like(x, dtype=torch.int32), bottom_ind)

    top_ind = torch.topk(proxy, x.shape[-1] - kth - 1)[1]

    out = torch.cat([bottom_ind, top_ind], dim=-1)

    if original_axis is None:
        return cast(out, "int32")

    return cast(torch.transpose(out, -1, axis), "int32")


def histogram(x, bins=10, range=None):
    x = convert_to_tensor(x)
    if x.ndim > 1:
        raise ValueError(
            f"Input tensor must be 1-dimensional. Received: input.shape={x.shape}"
        )
    hist_result = torch.histogram(x, bins=bins, range=range)
    return hist_result.hist, hist_result.bin_edges


def unique(
    x,
    sorted=True,
    return_index=False,
    return_inverse=False,
    return_counts=False,
    axis=None,
    size=None,
    fill_value=None,
):
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(x)

    output = torch.unique(
        x,
        sorted=sorted,  # Added sorted parameter here
        return_inverse=(return_inverse or return_index),
        return_counts=return_counts,
        dim=axis,
    )

    if not (return_inverse or return_counts or return_index):
        output = [output]
    else:
        output = list(output)

    values = output[0]

    if axis is None:
        dim = 0
    else:
        dim = canonicalize_axis(axis, x.ndim)

    if return_index:
        inverse = output[1]
        perm = torch.arange(
            inverse.size(0), dtype=inverse.dtype, device=inverse.device
        )
        unique_indices = inverse.new_empty(values.size(dim)).scatter_reduce_(
            0, inverse, perm, reduce="min", include_self=False
        )

    if size is not None:
        values_count = values.shape[dim]

        if values_count > size:
            # Truncate
            indices = [slice(None)] * values.ndim
            indices[dim] = slice(0, size)
            values = values[tuple(indices)]
            if return_counts:
                output[-1] = output[-1][indices[dim]]
            if return_index:
                unique_indices = unique_indices[indices[dim]]

        elif values_count < size:
            # Pad
            diff = size - values_count
            pad_width = [0, 0] * values.ndim
            # F.pad expects padding from last dim to first
            idx = (values.ndim - 1 - dim) * 2
            pad_width[idx + 1] = diff
            fill = 0 if fill_value is None else fill_value
            values = torch.nn.functional.pad(values, pad_width, value=fill)
            if return_counts:
                output[-1] = torch.nn.functional.pad(
                    output[-1], pad_width[idx : idx + 2], value=0
                )
            if return_index:
                unique_indices = torch.nn.functional.pad(
                    unique_indices, pad_width[idx : idx + 2], value=1
                )

    output[0] = values
    if return_index and return_inverse:
        output.insert(1, unique_indices)
    elif return_index:
        output[1] = unique_indices
    return output[0] if len(output) == 1 else tuple(output)


def dsplit(x, indices_or_sections):
    x = convert_to_tensor(x)
    if not isinstance(indices_or_sections, int):
        indices_or_sections = convert_to_tensor(indices_or_sections).tolist()
    return list(torch.dsplit(x, indices_or_sections))


from kerastorch.ops._np1 import (  # noqa: E402 (cycle: after defs)
    max,
)


from kerastorch.ops._np2 import (  # noqa: E402 (cycle: after defs)
    diff,
)


from kerastorch.ops._np5 import (  # noqa: E402 (cycle: after defs)
    size,
)
