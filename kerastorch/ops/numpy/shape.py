"""`keras.ops.numpy`, shape family: reshaping, transposing, joining, splitting, repeating,
flipping and rotating tensors, with NumPy's (and Keras on JAX's) semantics on torch. Most ops
are views or single torch calls; the joining ops (`concatenate`, `stack`, `append`, the
`*stack` ops) first bring their inputs to the one dtype Keras' promotion rules give. Split
positions, tile counts and shapes given as tensors are read on the host, as NumPy needs them.
"""

import math
import operator

import numpy as np
import torch

from kerastorch.ops._args import axis_index, axis_indices
from kerastorch.ops._dtypes import result_type, standardize_dtype, to_torch_dtype
from kerastorch.ops.core import convert_to_tensor


def _promoted(xs):
    """`xs` as tensors of the dtype Keras promotes theirs to (none is cast when all agree)."""
    xs = [convert_to_tensor(x) for x in xs]
    kinds = {x.dtype for x in xs}
    if len(kinds) > 1:
        target = to_torch_dtype(result_type(*kinds))
        xs = [x if x.dtype == target else x.to(target) for x in xs]
    return xs


def _ints(values):
    """A sequence of ints from a list, tuple, numpy array or tensor (read on the host)."""
    if isinstance(values, (torch.Tensor, np.ndarray)):
        return [int(v) for v in values.tolist()]
    return [operator.index(v) for v in values]


def _axes(axis):
    return axis if isinstance(axis, (tuple, list)) else (axis,)


def append(x1, x2, axis=None):
    """`x2` joined after `x1` along `axis` (both flattened when `axis` is None)."""
    x1, x2 = _promoted((x1, x2))
    if axis is None:
        return torch.cat((x1.reshape(-1), x2.reshape(-1)))
    return torch.cat((x1, x2), dim=axis)


def array_split(x, indices_or_sections, axis=0):
    """`x` cut into `indices_or_sections` nearly equal parts along `axis` (the first ones
    one longer when the length does not divide)."""
    if not isinstance(indices_or_sections, int):
        raise TypeError("Argument `indices_or_sections` must be of type `int`. "
                        f"Received: indices_or_sections={indices_or_sections}")
    if indices_or_sections <= 0:
        raise ValueError("Argument `indices_or_sections` must be a positive integer. "
                         f"Received: indices_or_sections={indices_or_sections}")
    if not isinstance(axis, int):
        raise TypeError(f"Argument `axis` must be of type `int`. Received: {axis}")
    x = convert_to_tensor(x)
    return list(torch.tensor_split(x, indices_or_sections, dim=axis_index(axis, x.ndim)))


def broadcast_to(x, shape):
    """`x` broadcast to `shape` (a view, as torch does; no copy)."""
    shape = (shape,) if isinstance(shape, int) else tuple(_ints(shape))
    return torch.broadcast_to(convert_to_tensor(x), shape)


def concatenate(xs, axis=0):
    """The tensors `xs` joined along `axis` (flattened first when `axis` is None)."""
    xs = _promoted(xs)
    if axis is None:
        return torch.cat([x.reshape(-1) for x in xs])
    return torch.cat(xs, dim=axis)


def copy(x):
    """A new tensor with `x`'s values."""
    # numpy input on the CPU: as_tensor shares its memory, so clone in every case.
    return convert_to_tensor(x).clone()


def _split(x, indices_or_sections, axis):
    """NumPy's `split`: equal sections (an error when they do not divide) or cut points."""
    if isinstance(indices_or_sections, (int, np.integer)):
        sections, length = int(indices_or_sections), x.shape[axis]
        if sections <= 0 or length % sections:
            raise ValueError(
                f"Received indices_or_sections={indices_or_sections} (interpreted as a number "
                f"of sections) and axis={axis}, but input dimension x.shape[{axis}]={length} "
                f"is not divisible by {indices_or_sections}. Full input shape: "
                f"x.shape={tuple(x.shape)}")
        return list(torch.tensor_split(x, sections, dim=axis))
    return list(torch.tensor_split(x, _ints(indices_or_sections), dim=axis))


def split(x, indices_or_sections, axis=0):
    """`x` cut along `axis` into equal sections, or at the given cut points."""
    x = convert_to_tensor(x)
    return _split(x, indices_or_sections, axis_index(axis, x.ndim))


def hsplit(x, indices_or_sections):
    """`split` along the second axis (the first for 1-D `x`)."""
    x = convert_to_tensor(x)
    return _split(x, indices_or_sections, 1 if x.ndim > 1 else 0)


def vsplit(x, indices_or_sections):
    """`split` along the first axis of an at least 2-D `x`."""
    x = convert_to_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"vsplit only works on arrays of 2 or more dimensions. "
                         f"Received: x.ndim={x.ndim}")
    return _split(x, indices_or_sections, 0)


def dsplit(x, indices_or_sections):
    """`split` along the third axis of an at least 3-D `x`."""
    x = convert_to_tensor(x)
    if x.ndim < 3:
        raise ValueError(f"dsplit only works on arrays of 3 or more dimensions. "
                         f"Received: x.ndim={x.ndim}")
    return _split(x, indices_or_sections, 2)


def hstack(xs):
    """The tensors joined along the second axis (the first for 1-D ones)."""
    return torch.hstack(_promoted(xs))


def vstack(xs):
    """The tensors, as at least 2-D, joined along the first axis."""
    return torch.vstack(_promoted(xs))


def dstack(xs):
    """The tensors, as at least 3-D, joined along the third axis."""
    return torch.dstack(_promoted(xs))


def stack(x, axis=0):
    """The tensors of `x` (all of one shape) joined along a new axis `axis`."""
    return torch.stack(_promoted(x), dim=axis)


def expand_dims(x, axis):
    """`x` with a length-1 axis inserted at `axis` (an int or several)."""
    x = convert_to_tensor(x)
    axes = _axes(axis)
    positions = sorted(axis_indices(axes, x.ndim + len(axes)))
    if len(set(positions)) != len(positions):
        raise ValueError(f"repeated axis in `axis`: {axis}")
    for position in positions:  # ascending: each index is one of the result's axes
        x = x.unsqueeze(position)
    return x


def squeeze(x, axis=None):
    """`x` without its length-1 axes (only those of `axis` when given; each must be 1)."""
    x = convert_to_tensor(x)
    if axis is None:
        return torch.squeeze(x)
    axes = axis_indices(axis, x.ndim)  # torch skips axes longer than 1; NumPy refuses them
    if any(x.shape[a] != 1 for a in axes):
        raise ValueError("cannot select an axis to squeeze out which has size not equal to "
                         f"one, got shape={tuple(x.shape)} and dimensions={tuple(axes)}")
    return torch.squeeze(x, dim=axes)


def flip(x, axis=None):
    """`x` with the order of its elements reversed along `axis` (all axes when None)."""
    x = convert_to_tensor(x)
    dims = tuple(range(x.ndim)) if axis is None else axis_indices(axis, x.ndim)
    return torch.flip(x, dims=dims)


def fliplr(x):
    """`x` reversed along its second axis (at least 2-D)."""
    x = convert_to_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"fliplr requires an input of at least 2 dimensions. "
                         f"Received: x.ndim={x.ndim}")
    return torch.flip(x, dims=(1,))


def flipud(x):
    """`x` reversed along its first axis (at least 1-D)."""
    x = convert_to_tensor(x)
    if x.ndim < 1:
        raise ValueError("flipud requires an input of at least 1 dimension.")
    return torch.flip(x, dims=(0,))


def rot90(array, k=1, axes=(0, 1)):
    """`array` turned `k` quarter turns in the plane of `axes`, from the first axis towards
    the second."""
    array = convert_to_tensor(array)
    if array.ndim < 2:
        raise ValueError("Input array must have at least 2 dimensions. "
                         f"Received: array.ndim={array.ndim}")
    axes = tuple(axes)
    dims = axis_indices(axes, array.ndim)
    if len(axes) != 2 or dims[0] == dims[1]:
        raise ValueError(f"Invalid axes: {axes}. Axes must be a tuple of two different "
                         "dimensions.")
    return torch.rot90(array, k=operator.index(k), dims=dims)


def moveaxis(x, source, destination):
    """`x` with the axes `source` moved to the positions `destination`, the others in order."""
    x = convert_to_tensor(x)
    source, destination = axis_indices(source, x.ndim), axis_indices(destination, x.ndim)
    if len(source) != len(destination):
        raise ValueError("`source` and `destination` arguments must have the same number "
                         f"of elements. Received: source={source}, destination={destination}")
    return torch.movedim(x, source, destination)


def swapaxes(x, axis1, axis2):
    """`x` with axes `axis1` and `axis2` exchanged."""
    return torch.swapaxes(convert_to_tensor(x), axis1, axis2)


def transpose(x, axes=None):
    """`x` with its axes permuted as `axes` says (reversed when None)."""
    x = convert_to_tensor(x)
    if axes is None:  # not `x.T`, which torch deprecates beyond 2-D
        return x.permute(tuple(range(x.ndim - 1, -1, -1)))
    axes = axis_indices(tuple(axes), x.ndim)
    if len(axes) != x.ndim or len(set(axes)) != x.ndim:
        raise ValueError(f"`axes` must be a permutation of the {x.ndim} axes of `x`. "
                         f"Received: axes={axes}")
    return x.permute(axes)


def reshape(x, newshape):
    """`x`'s elements in the shape `newshape` (one entry may be -1, inferred)."""
    if isinstance(newshape, torch.Tensor):
        newshape = tuple(_ints(newshape.reshape(-1)))
    else:
        try:
            newshape = tuple(newshape)
        except TypeError:
            newshape = (newshape,)
        if any(isinstance(d, (int, np.integer)) and d < -1 for d in newshape):
            raise ValueError("Each dimension in `newshape` must be a non-negative integer, "
                             f"or `-1` for a single unknown dimension. Received: "
                             f"newshape={newshape}.")
        if sum(1 for d in newshape if isinstance(d, (int, np.integer)) and d == -1) > 1:
            raise ValueError("There must be at most one unknown dimension (-1) in "
                             f"`newshape`. Received: newshape={newshape}.")
    return torch.reshape(convert_to_tensor(x), newshape)


def ravel(x):
    """`x` flattened to 1-D (a view when the layout allows)."""
    return torch.ravel(convert_to_tensor(x))


def view(x, dtype=None):
    """`x`'s bits read as `dtype`; the last axis scales by the ratio of the item sizes."""
    x = convert_to_tensor(x)
    if dtype is None:
        return x
    name = standardize_dtype(dtype)
    if name in ("uint16", "uint32"):
        # our tensors hold uint16/uint32 in wider signed ints: read the bits unsigned, widen
        bits = x.view(getattr(torch, name))
        return bits.to(to_torch_dtype(name))
    return x.view(to_torch_dtype(name))


def repeat(x, repeats, axis=None):
    """Each element of `x` repeated `repeats` times along `axis` (of the flattened `x` when
    None); `repeats` may give one count per element."""
    x = convert_to_tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = axis_index(axis, x.ndim)
    if isinstance(repeats, (int, np.integer)):
        # expand + reshape, not repeat_interleave: the result's shape stays static for export
        count = int(repeats)
        shape = list(x.shape)
        sizes = [-1] * (x.ndim + 1)
        sizes[axis + 1] = count
        shape[axis] *= count
        return x.unsqueeze(axis + 1).expand(sizes).reshape(shape)
    if isinstance(repeats, torch.Tensor):
        return torch.repeat_interleave(x, convert_to_tensor(repeats).long(), dim=axis)
    counts = _ints(np.atleast_1d(np.asarray(repeats)))
    total = sum(counts) * (x.shape[axis] if len(counts) == 1 else 1)
    return torch.repeat_interleave(x, torch.tensor(counts, device=x.device), dim=axis,
                                   output_size=total)  # known size: no device sync


def tile(x, repeats):
    """`x` repeated `repeats` times along each axis (NumPy's rules for unequal lengths)."""
    reps = (operator.index(repeats),) if isinstance(repeats, (int, np.integer)) or (
        isinstance(repeats, torch.Tensor) and repeats.ndim == 0) else _ints(repeats)
    return torch.tile(convert_to_tensor(x), tuple(reps))


def roll(x, shift, axis=None):
    """`x`'s elements shifted by `shift` along `axis`, wrapping around (on the flattened
    `x`, shape kept, when None)."""
    x = convert_to_tensor(x)
    if x.numel() == 0:
        return x
    if axis is None:
        shift = sum(_ints(_axes(shift)))  # NumPy adds the shifts of a flat roll
        return torch.roll(x, shift)
    shifts, dims = _ints(_axes(shift)), axis_indices(axis, x.ndim)
    if len(shifts) == 1 and len(dims) > 1:
        shifts = shifts * len(dims)
    elif len(dims) == 1 and len(shifts) > 1:
        dims = dims * len(shifts)
    return torch.roll(x, shifts, dims)


def ndim(x):
    """The number of axes of `x` (a Python int)."""
    return x.ndim if isinstance(x, torch.Tensor) else np.ndim(x)


def size(x):
    """The number of elements of `x` (a Python int, as on JAX)."""
    if isinstance(x, torch.Tensor):
        return x.numel()
    return math.prod(tuple(x.shape) if hasattr(x, "shape") else np.shape(x))
