"""`keras.ops.numpy`, indexing family: gathering (`take`, `take_along_axis`, `get_item`),
choosing elementwise (`where`, `select`), padding in every mode Keras lists, diagonals and
triangles, and `unravel_index`. Index arguments follow Keras on JAX: negative indices count from
the end, `where`/`select` promote their values with Keras' rules (Python scalars are weak), and
`unravel_index` clips out-of-range flat indices as JAX does.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

from kerastorch.ops._args import axis_index
from kerastorch.ops._dtypes import result_type, to_torch_dtype
from kerastorch.ops.core import convert_to_tensor

_WEAK = (bool, int, float)  # kept as Python scalars: torch.where takes them without a copy
_PAD_MODES = ("constant", "edge", "linear_ramp", "maximum", "mean", "median", "minimum",
              "reflect", "symmetric", "wrap", "empty", "circular")
_INT_TYPES = (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8)


def _as_bool(condition):
    condition = convert_to_tensor(condition)
    return condition if condition.dtype == torch.bool else condition.to(torch.bool)


def _common(values):
    """`values` (tensors or weak Python scalars) and the torch dtype Keras promotes them to;
    the tensors come back cast to it, the scalars as they are."""
    values = [v if isinstance(v, _WEAK) else convert_to_tensor(v) for v in values]
    target = to_torch_dtype(result_type(*[type(v) if isinstance(v, _WEAK) else v.dtype
                                          for v in values]))
    return [v if isinstance(v, _WEAK) or v.dtype == target else v.to(target)
            for v in values], target


def where(condition, x1=None, x2=None):
    """`x1` where `condition` holds, else `x2`; with neither, the indices of the true
    elements (a tuple of int32 tensors, one per axis, as on JAX)."""
    if (x1 is None) != (x2 is None):
        raise ValueError("`x1` and `x2` either both should be `None` or both should have "
                         "non-None value.")
    condition = _as_bool(condition)
    if x1 is None:  # a tuple as on JAX (Keras' torch backend stacks it into one tensor)
        return tuple(i.to(torch.int32) for i in torch.nonzero(condition, as_tuple=True))
    (x1, x2), target = _common((x1, x2))
    out = torch.where(condition, x1, x2)
    return out if out.dtype == target else out.to(target)


def select(condlist, choicelist, default=0):
    """Per element, the entry of the first `choicelist` tensor whose condition holds, else
    `default`; the result has the promoted dtype of the choices and `default`."""
    if not isinstance(condlist, (list, tuple)) or not isinstance(choicelist, (list, tuple)):
        raise ValueError("condlist and choicelist must be lists. Received: "
                         f"type(condlist) = {type(condlist)}, "
                         f"type(choicelist) = {type(choicelist)}")
    if not condlist or not choicelist:
        raise ValueError("condlist and choicelist must not be empty. Received: "
                         f"condlist = {condlist}, choicelist = {choicelist}")
    if len(condlist) != len(choicelist):
        raise ValueError("condlist and choicelist must have the same length. Received: "
                         f"{len(condlist)} and {len(choicelist)}")
    conditions = [_as_bool(c) for c in condlist]
    values, target = _common((*choicelist, default))
    out = values[-1]
    for condition, value in zip(reversed(conditions), reversed(values[:-1])):
        out = torch.where(condition, value, out)
    return out if out.dtype == target else out.to(target)


def _indices(indices, length):
    """`indices` as an int32/int64 tensor with negative entries counted from `length`."""
    # torch's index ops refuse negative indices: count them from the end first
    if isinstance(indices, (np.ndarray, np.integer, int, list, tuple)):
        host = np.asarray(indices)  # numpy or Python indices: wrapped on the host
        if host.dtype.kind not in "iu":
            raise ValueError(f"indices must have an integer type. Received: {host.dtype}")
        if host.size and host.min() < 0:
            host = np.where(host < 0, host + length, host)
        return convert_to_tensor(host, dtype="int64" if host.dtype.itemsize > 4 else "int32")
    indices = convert_to_tensor(indices)
    if indices.dtype not in _INT_TYPES:
        raise ValueError(f"indices must have an integer type. Received: {indices.dtype}")
    if indices.dtype not in (torch.int32, torch.int64):
        indices = indices.long()
    return torch.where(indices < 0, indices + length, indices)


def take(x, indices, axis=None):
    """The elements of `x` at `indices` along `axis` (of the flattened `x` when None); the
    result's shape puts `indices`' shape in place of that axis."""
    x = convert_to_tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    else:
        axis = axis_index(axis, x.ndim)
    indices = _indices(indices, x.shape[axis])
    if x.ndim == 2 and axis == 0:  # a row lookup: embedding's backward is the fast one
        return F.embedding(indices, x)
    out = torch.index_select(x, axis, indices.reshape(-1))
    return out.reshape(x.shape[:axis] + indices.shape + x.shape[axis + 1:])


def take_along_axis(x, indices, axis=None):
    """The elements of `x` at `indices` along `axis`, the other axes broadcast between the
    two (the flattened `x` and 1-D `indices` when `axis` is None)."""
    x = convert_to_tensor(x)
    if axis is None:
        if np.ndim(indices) != 1:
            raise ValueError("take_along_axis indices must be 1D if axis=None, got shape "
                             f"{tuple(np.shape(indices))}")
        x, axis = x.reshape(-1), 0
    else:
        axis = axis_index(axis, x.ndim)
    indices = _indices(indices, x.shape[axis])
    return torch.take_along_dim(x, indices.long(), dim=axis)  # gather needs int64


def get_item(x, key):
    """`x[key]`: NumPy's basic and advanced indexing."""
    return convert_to_tensor(x)[key]


def diag(x, k=0):
    """The `k`-th diagonal of a 2-D `x`, or the 2-D tensor with a 1-D `x` on it."""
    x = convert_to_tensor(x)
    if x.ndim not in (1, 2):
        raise ValueError(f"diag input must be 1d or 2d. Received: x.ndim={x.ndim}")
    return torch.diag(x, diagonal=k)


def diagflat(x, k=0):
    """The 2-D tensor with the flattened `x` on its `k`-th diagonal."""
    return torch.diagflat(convert_to_tensor(x), offset=k)


def diagonal(x, offset=0, axis1=0, axis2=1):
    """The diagonal of `x` in the plane of `axis1` and `axis2`, as a new last axis."""
    x = convert_to_tensor(x)
    dim1, dim2 = axis_index(axis1, x.ndim), axis_index(axis2, x.ndim)
    if dim1 == dim2:
        raise ValueError("`axis1` and `axis2` cannot be the same. "
                         f"Received: axis1={axis1}, axis2={axis2}")
    return torch.diagonal(x, offset=offset, dim1=dim1, dim2=dim2)


def _matrices(x, name):
    x = convert_to_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"Argument to {name} must be at least 2D. Received: x.ndim={x.ndim}")
    return x


def tril(x, k=0):
    """`x` (its last two axes) with the elements above the `k`-th diagonal zeroed."""
    return torch.tril(_matrices(x, "tril"), diagonal=k)


def triu(x, k=0):
    """`x` (its last two axes) with the elements below the `k`-th diagonal zeroed."""
    return torch.triu(_matrices(x, "triu"), diagonal=k)


def unravel_index(indices, shape):
    """The coordinates in an array of `shape` of the flat `indices`, one tensor per axis of
    `indices`' dtype (64-bit narrowed to 32); out-of-range indices are clipped, as on JAX."""
    indices = convert_to_tensor(indices)
    if indices.dtype not in _INT_TYPES:
        raise ValueError(f"indices must have an integer type. Received: {indices.dtype}")
    out_dtype = to_torch_dtype(result_type(indices.dtype))
    dims = [int(shape)] if np.ndim(shape) == 0 else [int(d) for d in shape]
    total = math.prod(dims)
    flat = indices if indices.dtype == torch.int64 or (
        indices.dtype == torch.int32 and total < 2**31) else indices.long()
    # JAX: indices below -total give coordinate 0, above total - 1 the last coordinate
    flat = flat.clamp(-total, total - 1)
    flat = torch.where(flat < 0, flat + total, flat)
    coordinates = []
    for d in reversed(dims):
        coordinates.append(torch.remainder(flat, d).to(out_dtype))
        flat = torch.div(flat, d, rounding_mode="floor")
    return tuple(reversed(coordinates))


def _pad_widths(pad_width, ndim):
    """`pad_width` in Keras' spellings as one `(before, after)` pair of ints per axis."""
    if isinstance(pad_width, (torch.Tensor, np.ndarray)):
        pad_width = pad_width.tolist()
    if isinstance(pad_width, (int, np.integer)):
        widths = [(pad_width, pad_width)]
    elif isinstance(pad_width[0], (int, np.integer)):
        widths = [tuple(pad_width)]
    else:
        widths = [tuple(pw) for pw in pad_width]
        if any(len(w) != len(widths[0]) for w in widths):
            raise ValueError("`pad_width` should be a list of tuples of length 1 or 2. "
                             f"Received: pad_width={pad_width}")
    widths = [(w[0], w[0]) if len(w) == 1 else w for w in widths]
    if any(len(w) != 2 for w in widths):
        raise ValueError("`pad_width` should be a list of tuples of length 1 or 2. "
                         f"Received: pad_width={pad_width}")
    if len(widths) == 1:
        widths = widths * ndim
    elif len(widths) != ndim:
        raise ValueError("`pad_width` must have the same length as `x.shape`. "
                         f"Received: pad_width={pad_width} (of length {len(widths)}) and "
                         f"x.shape={(None,) * ndim} (of length {ndim})")
    widths = [(int(b), int(a)) for b, a in widths]
    if any(b < 0 or a < 0 for b, a in widths):
        raise ValueError(f"index can't contain negative values. Received: "
                         f"pad_width={pad_width}")
    return widths


def _fill_value(value, dtype):
    """A Python scalar cast as JAX casts a pad value to the tensor's dtype."""
    if dtype == torch.bool:
        return bool(value)
    if dtype in _INT_TYPES:
        info = torch.iinfo(dtype)
        return (int(value) - info.min) % (info.max - info.min + 1) + info.min  # wraps
    return complex(value) if dtype.is_complex else float(value)


def _pad_constant(x, widths, value):
    flat = [p for pair in reversed(widths) for p in pair]  # F.pad lists the last axis first
    if isinstance(value, (bool, int, float)):
        return F.pad(x, flat, value=_fill_value(value, x.dtype))
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        # pad with zeros, then write the (device) value where the mask says: no host read
        mask = F.pad(torch.zeros(x.shape, dtype=torch.bool, device=x.device), flat, value=True)
        return torch.where(mask, value.reshape(()).to(x.dtype), F.pad(x, flat, value=0))
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    values = np.broadcast_to(np.asarray(value), (x.ndim, 2)) if x.ndim else np.asarray(value)
    if values.size == 0 or (values == values.flat[0]).all():
        scalar = values.flat[0].item() if values.size else 0
        return F.pad(x, flat, value=_fill_value(scalar, x.dtype))
    for axis, (before, after) in enumerate(widths):  # in axis order: later axes fill corners
        tail = [0, 0] * (x.ndim - 1 - axis)
        if before:
            x = F.pad(x, tail + [before, 0], value=_fill_value(values[axis, 0].item(), x.dtype))
        if after:
            x = F.pad(x, tail + [0, after], value=_fill_value(values[axis, 1].item(), x.dtype))
    return x


def _source_index(length, before, after, mode, device):
    """For each position of the padded axis, the position of `x` it copies."""
    if length == 0:
        raise ValueError(f"Cannot apply '{mode}' padding to empty axis")
    i = torch.arange(-before, length + after, device=device)
    if mode == "edge" or (mode == "reflect" and length == 1):
        return i.clamp_(0, length - 1)
    if mode in ("wrap", "circular"):
        return i.remainder_(length)
    period = 2 * length if mode == "symmetric" else 2 * length - 2  # one mirror and back
    i = i.remainder_(period)
    return torch.minimum(i, period - (mode == "symmetric") - i)


def _stat(x, axis, mode):
    """The statistic `mode` of `x` along `axis` (kept), rounded to the nearest for ints."""
    if mode == "maximum":
        return torch.amax(x, dim=axis, keepdim=True)
    if mode == "minimum":
        return torch.amin(x, dim=axis, keepdim=True)
    wide = x if x.dtype in (torch.float32, torch.float64) else x.to(torch.float32)
    if mode == "mean":
        stat = wide.mean(dim=axis, keepdim=True)
    else:  # the median averages the middle two, as NumPy's does (torch.median takes one)
        stat = torch.quantile(wide, 0.5, dim=axis, keepdim=True)
    if not x.is_floating_point():
        stat = torch.round(stat)  # half to even, as JAX
    return stat.to(x.dtype)


def _ramp(edge, count, axis, rising):
    """`count` values going linearly from 0 towards `edge` (reversed when not `rising`)."""
    kind = edge.dtype if edge.is_floating_point() else torch.float32
    steps = torch.arange(count, device=edge.device, dtype=kind) / count
    if not rising:
        steps = steps.flip(0)
    shape = [1] * edge.ndim
    shape[axis] = count
    ramp = edge.to(kind) * steps.reshape(shape)
    if not edge.is_floating_point():
        ramp = torch.floor(ramp)  # JAX's linspace rounds down for integer dtypes
    return ramp.to(edge.dtype)


def _pad_by_axis(x, widths, mode):
    """Stat and ramp modes: each axis in turn, its pads computed from the array so far."""
    for axis, (before, after) in enumerate(widths):
        if not (before or after):
            continue
        pieces, shape = [], list(x.shape)
        if mode == "linear_ramp":
            if before:
                pieces.append(_ramp(x.narrow(axis, 0, 1), before, axis, True))
            pieces.append(x)
            if after:
                pieces.append(_ramp(x.narrow(axis, x.shape[axis] - 1, 1), after, axis, False))
        else:
            stat = _stat(x, axis, mode)
            if before:
                shape[axis] = before
                pieces.append(stat.expand(shape))
            pieces.append(x)
            if after:
                shape[axis] = after
                pieces.append(stat.expand(shape))
        x = torch.cat(pieces, dim=axis)
    return x


def pad(x, pad_width, mode="constant", constant_values=None):
    """`x` padded by `pad_width` per axis, in NumPy's `mode`s (`"circular"` is `"wrap"`;
    `"empty"` pads with zeros, as JAX does)."""
    if constant_values is not None and mode != "constant":
        raise ValueError("Argument `constant_values` can only be provided when "
                         f"`mode == 'constant'`. Received: mode={mode}")
    if mode not in _PAD_MODES:
        raise ValueError(f"Unsupported padding mode: `mode` must be one of {_PAD_MODES}. "
                         f"Received: mode={mode}")
    x = convert_to_tensor(x)
    widths = _pad_widths(pad_width, x.ndim)
    if mode in ("constant", "empty"):
        return _pad_constant(x, widths, 0 if constant_values is None else constant_values)
    if mode in ("maximum", "minimum", "mean", "median", "linear_ramp"):
        return _pad_by_axis(x, widths, mode)
    for axis, (before, after) in enumerate(widths):
        if before or after:
            index = _source_index(x.shape[axis], before, after, mode, x.device)
            x = torch.index_select(x, axis, index)
    return x
