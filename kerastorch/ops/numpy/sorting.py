"""Sorting, searching and counting on torch tensors: `sort`/`argsort`/`argpartition`,
`searchsorted`/`digitize`, `unique`, `nonzero`, `histogram`, `bincount`, plus the sequence
statistics `diff`, `corrcoef` and `correlate`. Index results are int32 as in Keras; NaN sorts
last and index sorts are stable (ties keep their order), as on JAX; ops whose output size
depends on the values (`unique`, `nonzero`, `bincount`) read that size from the device once,
the others never leave it.
"""

import operator

import numpy as np
import torch
import torch.nn.functional as tnn

from kerastorch.ops import _dtypes
from kerastorch.ops._args import axis_index
from kerastorch.ops.core import convert_to_tensor
from kerastorch.ops.numpy.logic import _promote

_INT32_MAX = 2**31 - 1


def _sortable(x):
    # torch has no bool sort kernel on every device; uint8 sorts the same way.
    return x.to(torch.uint8) if x.dtype == torch.bool else x


def _float_of(dtype):
    """The float dtype an op computes in for inputs of `dtype` (int64 -> float64, as Keras)."""
    if dtype.is_floating_point or dtype.is_complex:
        return dtype
    if dtype == torch.int64:
        return torch.float64
    return _dtypes.to_torch_dtype(_dtypes.result_type(dtype, float))


# ------------------------------------------------------------------ sorting

def sort(x, axis=-1):
    """`x` sorted ascending along `axis` (flattened first when `axis=None`), NaN last."""
    x = convert_to_tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = axis_index(axis, x.ndim)
    return torch.sort(_sortable(x), dim=axis).values.to(x.dtype)


def argsort(x, axis=-1):
    """int32 indices that sort `x` along `axis` (stable: ties keep their order); `axis=None`
    sorts the flattened tensor, and a 0-d `x` gives `[0]`."""
    x = convert_to_tensor(x)
    if axis is None or x.ndim == 0:
        x, axis = x.reshape(-1), 0
    axis = axis_index(axis, x.ndim)
    return torch.argsort(_sortable(x), dim=axis, stable=True).to(torch.int32)


def argpartition(x, kth, axis=-1):
    """int32 indices that put the `kth` smallest element of each slice along `axis` in place.

    As Keras on JAX: the first `kth + 1` indices are those of the smallest elements in
    ascending order (ties by position), the rest follow in increasing index order.
    """
    x = convert_to_tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = axis_index(axis, x.ndim)
    n = x.shape[axis]
    kth = operator.index(kth)
    if not -n <= kth < n:
        raise ValueError(f"kth(={kth}) out of bounds for an axis of size {n}.")
    kth %= n
    order = torch.argsort(_sortable(x), dim=axis, stable=True)
    rest = torch.sort(order.narrow(axis, kth + 1, n - kth - 1), dim=axis).values
    return torch.cat([order.narrow(axis, 0, kth + 1), rest], dim=axis).to(torch.int32)


# ------------------------------------------------------------------ searching

def searchsorted(sorted_sequence, values, side="left"):
    """int32 positions at which `values` would be inserted into the 1-D `sorted_sequence`
    to keep it sorted (`side="left"`: before equal entries, `"right"`: after them)."""
    sorted_sequence = convert_to_tensor(sorted_sequence)
    if sorted_sequence.ndim != 1:
        raise ValueError(
            "`searchsorted` only supports 1-D sorted sequences. "
            "You can use `keras.ops.vectorized_map` "
            "to extend it to N-D sequences. Received: "
            f"sorted_sequence.shape={sorted_sequence.shape}")
    if side not in ("left", "right"):
        raise ValueError(f"`side` must be 'left' or 'right'. Received: side={side!r}")
    seq, vals = _promote(sorted_sequence, values)
    common = torch.result_type(seq, vals)
    seq, vals = _sortable(seq.to(common)), _sortable(vals.to(common))
    return torch.searchsorted(seq, vals, side=side,
                              out_int32=sorted_sequence.shape[0] <= _INT32_MAX)


def digitize(x, bins):
    """int32 index of the bin of each element of `x`: `i` with `bins[i-1] <= x < bins[i]` for
    increasing `bins`, `bins[i-1] > x >= bins[i]` for decreasing ones (numpy's rule)."""
    host_bins = bins if isinstance(bins, (list, tuple, np.ndarray)) else None
    xt, b = _promote(x, bins)
    if b.ndim != 1:
        raise ValueError(f"`bins` must be a 1D array. Received: bins={bins} "
                         f"with shape bins.shape={tuple(b.shape)}")
    common = torch.result_type(xt, b)
    xt, b = _sortable(xt.to(common)), _sortable(b.to(common))
    n = b.shape[0]
    if n == 0:
        return torch.zeros(xt.shape, dtype=torch.int32, device=xt.device)
    if host_bins is not None:  # the direction is known without asking the device
        flat = np.asarray(host_bins).reshape(-1)
        if flat[-1] >= flat[0]:
            return torch.bucketize(xt, b, right=True, out_int32=True)
        return n - torch.bucketize(xt, b.flip(0), right=True, out_int32=True)
    rising = torch.bucketize(xt, b, right=True, out_int32=True)
    falling = n - torch.bucketize(xt, b.flip(0), right=True, out_int32=True)
    return torch.where(b[-1] >= b[0], rising, falling)


# ------------------------------------------------------------------ counting

def _pad_to(t, size, dim, fill):
    """`t` grown to `size` along `dim` with copies of `fill` (broadcast to one slice)."""
    shape = list(t.shape)
    shape[dim] = size - t.shape[dim]
    return torch.cat([t, fill.expand(shape).to(t.dtype)], dim=dim)


def unique(x, sorted=True, return_index=False, return_inverse=False, return_counts=False,
           axis=None, size=None, fill_value=None):
    """The unique elements of `x` (slices along `axis`, when given), sorted, optionally with
    the index of each one's first occurrence, the inverse indices (`x`'s shape when `axis` is
    None) and the counts, all int32. With `size` the results are cut or padded to `size`
    entries: values with `fill_value` (default: the smallest value), first indices with the
    first index, counts with 0. NaNs are all distinct."""
    x = convert_to_tensor(x)
    dim = None if axis is None else axis_index(axis, x.ndim)
    d = 0 if dim is None else dim
    want_inverse = return_inverse or return_index
    # Keras on JAX always returns the values sorted, whatever `sorted` says.
    found = torch.unique(x, sorted=True, return_inverse=want_inverse,
                         return_counts=return_counts, dim=dim)
    found = list(found) if isinstance(found, tuple) else [found]
    values = found.pop(0)
    inverse = found.pop(0) if want_inverse else None
    counts = found.pop(0) if return_counts else None
    first = None
    if return_index:
        flat = inverse.reshape(-1)
        positions = torch.arange(flat.shape[0], device=flat.device)
        first = positions.new_full((values.shape[d],), flat.shape[0])
        first = first.scatter_reduce(0, flat, positions, reduce="amin")
    if size is not None:
        have = values.shape[d]
        if have >= size:
            values = values.narrow(d, 0, size)
            first = None if first is None else first[:size]
            counts = None if counts is None else counts[:size]
        else:
            if have == 0 and fill_value is None:
                raise ValueError("`unique` of an empty tensor with `size` needs a "
                                 "`fill_value`.")
            fill = values.narrow(d, 0, 1) if fill_value is None else torch.tensor(
                fill_value, device=values.device).to(values.dtype)
            values = _pad_to(values, size, d, fill)
            if first is not None and have:
                first = _pad_to(first, size, 0, first[:1])
            if counts is not None:
                counts = _pad_to(counts, size, 0, counts.new_zeros(()))
    results = [values]
    for wanted, extra in ((return_index, first), (return_inverse, inverse),
                          (return_counts, counts)):
        if wanted:
            results.append(extra.to(torch.int32))
    return results[0] if len(results) == 1 else tuple(results)


def nonzero(x):
    """A tuple of int32 index tensors, one per axis, of the nonzero elements of `x`."""
    x = convert_to_tensor(x)
    if x.ndim == 0:
        raise ValueError("`nonzero` needs a tensor of rank 1 or more; use it on "
                         "`expand_dims(x, 0)` for a scalar.")
    return tuple(torch.nonzero(x).to(torch.int32).unbind(1))


def histogram(x, bins=10, range=None):
    """`(counts, bin_edges)` of the 1-D `x` over `bins` equal bins spanning `range` (default:
    `x`'s min and max, widened by 0.5 each way when they are equal). The last bin includes its
    right edge; values outside the range are not counted. Both outputs have `x`'s float dtype
    (float32 for integers and bools)."""
    if not isinstance(bins, int):
        raise TypeError(f"Argument `bins` must be of type `int`. Received: bins={bins}")
    if bins < 0:
        raise ValueError("Argument `bins` should be a non-negative integer. "
                         f"Received: bins={bins}")
    if range:
        if len(range) < 2 or not isinstance(range, tuple):
            raise ValueError("Argument `range` must be a tuple of two elements. "
                             f"Received: range={range}")
        if range[1] < range[0]:
            raise ValueError("The second element of `range` must be greater than the first. "
                             f"Received: range={range}")
    x = convert_to_tensor(x)
    if x.ndim > 1:
        raise ValueError(f"Input tensor must be 1-dimensional. Received: input.shape={x.shape}")
    dtype = _float_of(x.dtype)
    x = x.to(dtype)
    if range:
        lo = torch.tensor(range[0], dtype=dtype, device=x.device)
        hi = torch.tensor(range[1], dtype=dtype, device=x.device)
    else:
        lo, hi = torch.aminmax(x)
    flat = lo == hi
    lo, hi = torch.where(flat, lo - 0.5, lo), torch.where(flat, hi + 0.5, hi)
    steps = torch.arange(bins, device=x.device, dtype=dtype) / max(bins, 1)
    edges = torch.cat([lo * (1 - steps) + hi * steps, (hi if bins else lo).reshape(1)])
    index = torch.bucketize(x, edges, right=True)
    index = torch.where(x == edges[-1], bins, index)  # the last bin is closed on the right
    counts = torch.zeros(bins + 2, dtype=dtype, device=x.device)
    counts = counts.scatter_add(0, index, torch.ones_like(x))
    return counts[1:bins + 1], edges


def bincount(x, weights=None, minlength=0, sparse=False):
    """Counts of each value `0..max(x)` in the non-negative int `x` (at least `minlength` of
    them), or sums of `weights` per value (in `weights`' dtype). A 2-D `x` counts each row,
    all rows to the same length. Negative values count as 0, as in Keras on JAX."""
    if sparse:
        raise ValueError("`sparse=True` is not supported by kerastorch.ops.bincount.")
    x = convert_to_tensor(x)
    if x.ndim not in (1, 2):
        raise ValueError(f"`bincount` expects a 1-D or 2-D tensor. Received: x.shape={x.shape}")
    if x.dtype.is_floating_point or x.dtype.is_complex:
        raise TypeError(f"`bincount` expects integers. Received: x.dtype={x.dtype}")
    # Keras on JAX counts negative values in bin 0 (torch.bincount would refuse them).
    if x.dtype == torch.bool:
        x = x.to(torch.uint8)
    elif x.dtype != torch.uint8:
        x = x.clamp_min(0)
    out_dtype = torch.int32
    if weights is not None:
        weights = convert_to_tensor(weights)
        out_dtype = weights.dtype
        if weights.shape != x.shape:
            raise ValueError("`weights` must have the shape of `x`. Received: "
                             f"x.shape={x.shape}, weights.shape={weights.shape}")
    if x.ndim == 1:
        if weights is not None and not weights.dtype.is_floating_point:
            weights = weights.to(torch.float64)  # torch.bincount sums in floats only
        return torch.bincount(x, weights=weights, minlength=minlength).to(out_dtype)
    rows = x.shape[0]
    length = max(minlength, int(x.max()) + 1) if x.numel() else minlength
    flat = (x + torch.arange(rows, device=x.device).unsqueeze(1) * length).reshape(-1)
    summed = torch.ones((), dtype=torch.int32, device=x.device).expand(flat.shape) \
        if weights is None else weights.reshape(-1)
    counts = torch.zeros(rows * length, dtype=out_dtype, device=x.device)
    return counts.index_add_(0, flat, summed).reshape(rows, length)


# ------------------------------------------------------------------ sequences

def diff(a, n=1, axis=-1):
    """The `n`-th discrete difference along `axis` (`a[1:] - a[:-1]`, repeated `n` times;
    inequality for bool tensors). The axis shrinks by `n` (to 0 at most)."""
    a = convert_to_tensor(a)
    n = operator.index(n)
    if n < 0:
        raise ValueError(f"order must be non-negative but got {n}")
    return torch.diff(a, n=n, dim=axis_index(axis, a.ndim))


def corrcoef(x):
    """Pearson correlation coefficients of the rows of `x` (variables) over its columns
    (observations), clipped to [-1, 1]; a 1-D `x` gives a 0-d 1. Integers and bools compute
    in float32 (int64 in float64), as Keras."""
    x = convert_to_tensor(x)
    if x.ndim > 2:
        raise ValueError(f"`corrcoef` expects a 1-D or 2-D tensor. Received: x.shape={x.shape}")
    return torch.corrcoef(x.to(_float_of(x.dtype)))


_MODES = ("valid", "same", "full")


def correlate(x1, x2, mode="valid"):
    """Cross-correlation of two 1-D tensors, `c[k] = sum_n x1[n + k] * x2[n]`, numpy's rule
    for `mode` (`"valid"`, `"same"`, `"full"`); a complex `x2` is conjugated. Dtype: the
    promoted float dtype; integers and bools give float32 (int64: float64), as Keras."""
    if mode not in _MODES:
        raise ValueError("`mode` must be either `valid`, `same`, or `full`, but"
                         f"received: {mode}")
    t1, t2 = convert_to_tensor(x1), convert_to_tensor(x2)
    if t1.ndim != 1 or t2.ndim != 1:
        raise ValueError("`correlate` only supports 1-D inputs. Received: "
                         f"x1.shape={t1.shape}, x2.shape={t2.shape}")
    if t1.shape[0] == 0 or t2.shape[0] == 0:
        raise ValueError("`correlate` needs non-empty inputs.")
    common = _float_of(torch.promote_types(t1.dtype, t2.dtype))
    signal, kernel = t1.to(common), t2.to(common)
    if kernel.is_complex():
        kernel = kernel.conj()
    swapped = signal.shape[0] < kernel.shape[0]
    if swapped:  # numpy slides the shorter one; the result comes out reversed
        signal, kernel = kernel, signal
    m = kernel.shape[0]
    pad = {"valid": (0, 0), "same": (m // 2, m - m // 2 - 1), "full": (m - 1, m - 1)}[mode]
    out = tnn.conv1d(tnn.pad(signal, pad)[None, None], kernel[None, None])[0, 0]
    return out.flip(0) if swapped else out


__all__ = [
    "argpartition",
    "argsort",
    "sort",
    "searchsorted",
    "digitize",
    "unique",
    "nonzero",
    "histogram",
    "bincount",
    "corrcoef",
    "correlate",
    "diff",
]
