"""keras.ops.numpy reductions: sums, products, means, extrema, arg-extrema, truth tests,
nonzero counts and running sums/products, with their NaN-ignoring forms. `axis` is None (all
axes), an int or a tuple/list of ints; `axis=()` reduces nothing (NumPy's meaning, where a
bare torch `dim=()` would reduce everything). Result dtypes are Keras' on JAX: sums and
products widen bool and small ints to int32, means give float32 for integer input and keep a
float input's dtype (half precision is accumulated in float32). The statistics (variance,
quantiles, `average`, `ptp`, `trapezoid`) live in `statistics.py` and are re-exported here.
"""

import builtins
import math

import torch

from kerastorch.ops._args import axis_index, axis_indices
from kerastorch.ops._dtypes import result_type, to_torch_dtype
from kerastorch.ops.core import convert_to_tensor

# Sums and products of these accumulate in int32 (JAX's default int; no uint32 in torch, so
# uint8 also goes to int32 where JAX gives uint32).
_WIDEN = {torch.bool: torch.int32, torch.uint8: torch.int32, torch.int8: torch.int32,
          torch.int16: torch.int32}
_HALF = (torch.float16, torch.bfloat16)


def _axes(axis, ndim):
    """None (every axis) or a tuple of distinct axis indices; `()` reduces nothing."""
    if axis is None:
        return None
    if ndim == 0:  # a scalar: axis 0/-1 is accepted (as torch does) and reduces nothing
        axis_indices(axis, 1)
        return ()
    axes = axis_indices(axis, ndim)
    if len(set(axes)) != len(axes):
        raise ValueError(f"repeated axis in {axis}")
    return axes


def _out_shape(shape, axes, keepdims):
    """The shape left after reducing `axes` (None: all) of `shape`."""
    if axes is None:
        axes = range(len(shape))
    if keepdims:
        return tuple(1 if i in axes else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in axes)


def _work_dtype(dtype):
    """The dtype to accumulate `dtype` values in: float32 for half precision."""
    return torch.float32 if dtype in _HALF else dtype


def _is_float(x):
    return x.dtype.is_floating_point


def sum(x, axis=None, keepdims=False):
    """Sum over `axis`; bool and 8/16-bit ints sum in int32."""
    x = convert_to_tensor(x)
    dtype = _WIDEN.get(x.dtype, x.dtype)
    axes = _axes(axis, x.ndim)
    if axes == ():
        return x.to(dtype)
    return torch.sum(x, dim=axes, keepdim=keepdims, dtype=dtype)


def prod(x, axis=None, keepdims=False, dtype=None):
    """Product over `axis`, in `dtype` if given (else bool and 8/16-bit ints in int32)."""
    x = convert_to_tensor(x)
    dtype = _WIDEN.get(x.dtype, x.dtype) if dtype is None else to_torch_dtype(result_type(dtype))
    axes = _axes(axis, x.ndim)
    if axes == ():
        return x.to(dtype)
    if axes is None or len(axes) == x.ndim:
        out = torch.prod(x, dtype=dtype)
        return out.reshape((1,) * x.ndim) if keepdims else out
    for a in sorted(axes, reverse=True):  # torch.prod takes one dim at a time
        x = torch.prod(x, dim=a, keepdim=keepdims, dtype=dtype)
    return x


def mean(x, axis=None, keepdims=False):
    """Arithmetic mean over `axis`; float32 for int/bool input, else the input's dtype."""
    x = convert_to_tensor(x)
    dtype = x.dtype if _is_float(x) or x.dtype.is_complex else torch.float32
    axes = _axes(axis, x.ndim)
    if axes == ():
        return x.to(dtype)
    return torch.mean(x.to(_work_dtype(dtype)), dim=axes, keepdim=keepdims).to(dtype)


def _extremum(x, axis, keepdims, initial, reduce, combine, name):
    x = convert_to_tensor(x)
    axes = _axes(axis, x.ndim)
    if x.numel() == 0 and axes != ():
        reduced = range(x.ndim) if axes is None else axes
        if builtins.any(x.shape[i] == 0 for i in reduced):
            if initial is None:
                raise ValueError(f"zero-size array to reduction operation {name} which has "
                                 "no identity")
            fill = convert_to_tensor(initial).to(x.dtype)
            return fill.expand(_out_shape(x.shape, axes, keepdims)).clone()
    out = x if axes == () else reduce(x, dim=axes, keepdim=keepdims)
    if initial is not None:  # `initial` takes part in the comparison, cast to x's dtype
        out = combine(out, convert_to_tensor(initial).to(x.dtype))
    return out


def max(x, axis=None, keepdims=False, initial=None):
    """Largest value over `axis` (at least `initial` when given; required for empty input)."""
    return _extremum(x, axis, keepdims, initial, torch.amax, torch.maximum, "max")


def min(x, axis=None, keepdims=False, initial=None):
    """Smallest value over `axis` (at most `initial` when given; required for empty input)."""
    return _extremum(x, axis, keepdims, initial, torch.amin, torch.minimum, "min")


def amax(x, axis=None, keepdims=False):
    """Largest value over `axis` (NaN propagates)."""
    return _extremum(x, axis, keepdims, None, torch.amax, None, "max")


def amin(x, axis=None, keepdims=False):
    """Smallest value over `axis` (NaN propagates)."""
    return _extremum(x, axis, keepdims, None, torch.amin, None, "min")


def _arg_extremum(x, axis, keepdims, reduce):
    x = convert_to_tensor(x)
    if x.dtype == torch.bool:  # torch's argmax/argmin have no bool kernel
        x = x.to(torch.uint8)
    return reduce(x, dim=axis, keepdim=keepdims).to(torch.int32)


def argmax(x, axis=None, keepdims=False):
    """int32 index of the first largest value along `axis` (of the flattened `x` for None)."""
    return _arg_extremum(x, axis, keepdims, torch.argmax)


def argmin(x, axis=None, keepdims=False):
    """int32 index of the first smallest value along `axis` (of the flattened `x` for None)."""
    return _arg_extremum(x, axis, keepdims, torch.argmin)


def _truth(x, axis, keepdims, reduce):
    x = convert_to_tensor(x)
    axes = _axes(axis, x.ndim)
    if axes == ():
        return x.to(torch.bool)
    return reduce(x, dim=axes, keepdim=keepdims).to(torch.bool)  # uint8 in, uint8 out in torch


def all(x, axis=None, keepdims=False):
    """Whether every element along `axis` is truthy (bool)."""
    return _truth(x, axis, keepdims, torch.all)


def any(x, axis=None, keepdims=False):
    """Whether some element along `axis` is truthy (bool)."""
    return _truth(x, axis, keepdims, torch.any)


def count_nonzero(x, axis=None):
    """Number of nonzero elements along `axis`, as int32."""
    x = convert_to_tensor(x)
    axes = _axes(axis, x.ndim)
    if axes == ():
        return (x != 0).to(torch.int32)
    return torch.count_nonzero(x, dim=axes).to(torch.int32)


def _cumulative(x, axis, dtype, fn):
    x = convert_to_tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    if dtype is None:  # unlike sums, small ints keep their dtype; bool counts in int32
        dtype = torch.int32 if x.dtype == torch.bool else x.dtype
    else:
        dtype = to_torch_dtype(result_type(dtype))
    return fn(x, dim=axis, dtype=dtype)


def cumsum(x, axis=None, dtype=None):
    """Running sum along `axis` (of the flattened `x` for None)."""
    return _cumulative(x, axis, dtype, torch.cumsum)


def cumprod(x, axis=None, dtype=None):
    """Running product along `axis` (of the flattened `x` for None)."""
    return _cumulative(x, axis, dtype, torch.cumprod)


def _nan_filled(x, value):
    """`x` with NaNs replaced by `value` (only infinities kept, unlike `nan_to_num`)."""
    return x.masked_fill(torch.isnan(x), value)


def nansum(x, axis=None, keepdims=False):
    """`sum` treating NaN as zero."""
    x = convert_to_tensor(x)
    if not _is_float(x):
        return sum(x, axis=axis, keepdims=keepdims)
    axes = _axes(axis, x.ndim)
    if axes == ():
        return _nan_filled(x, 0)
    return torch.nansum(x, dim=axes, keepdim=keepdims)


def nanprod(x, axis=None, keepdims=False):
    """`prod` treating NaN as one."""
    x = convert_to_tensor(x)
    return prod(_nan_filled(x, 1) if _is_float(x) else x, axis=axis, keepdims=keepdims)


def nanmean(x, axis=None, keepdims=False):
    """`mean` of the non-NaN elements (NaN where all are NaN)."""
    x = convert_to_tensor(x)
    if not _is_float(x):
        return mean(x, axis=axis, keepdims=keepdims)
    axes = _axes(axis, x.ndim)
    if axes == ():
        return x
    return torch.nanmean(x.to(_work_dtype(x.dtype)), dim=axes, keepdim=keepdims).to(x.dtype)


def _nan_extremum(x, axis, keepdims, fill, reduce, name):
    x = convert_to_tensor(x)
    if not _is_float(x):
        return _extremum(x, axis, keepdims, None, reduce, None, name)
    axes = _axes(axis, x.ndim)
    if axes == ():
        return x
    nan = torch.isnan(x)
    out = _extremum(x.masked_fill(nan, fill), axes, keepdims, None, reduce, None, name)
    return out.masked_fill(torch.all(nan, dim=axes, keepdim=keepdims), math.nan)


def nanmax(x, axis=None, keepdims=False):
    """`max` ignoring NaNs (NaN where all are NaN)."""
    return _nan_extremum(x, axis, keepdims, -math.inf, torch.amax, "max")


def nanmin(x, axis=None, keepdims=False):
    """`min` ignoring NaNs (NaN where all are NaN)."""
    return _nan_extremum(x, axis, keepdims, math.inf, torch.amin, "min")


def _nan_arg_extremum(x, axis, keepdims, fill, reduce):
    x = convert_to_tensor(x)
    if not _is_float(x):
        return _arg_extremum(x, axis, keepdims, reduce)
    if axis is not None:
        axis = axis_index(axis, builtins.max(x.ndim, 1))
    nan = torch.isnan(x)
    out = _arg_extremum(x.masked_fill(nan, fill), axis, keepdims, reduce)
    return out.masked_fill(torch.all(nan, dim=axis, keepdim=keepdims), -1)


def nanargmax(x, axis=None, keepdims=False):
    """`argmax` ignoring NaNs; -1 where all are NaN (JAX's convention)."""
    return _nan_arg_extremum(x, axis, keepdims, -math.inf, torch.argmax)


def nanargmin(x, axis=None, keepdims=False):
    """`argmin` ignoring NaNs; -1 where all are NaN (JAX's convention)."""
    return _nan_arg_extremum(x, axis, keepdims, math.inf, torch.argmin)


def nancumsum(x, axis=None, dtype=None):
    """`cumsum` treating NaN as zero."""
    x = convert_to_tensor(x)
    return cumsum(_nan_filled(x, 0) if _is_float(x) else x, axis=axis, dtype=dtype)


def nancumprod(x, axis=None, dtype=None):
    """`cumprod` treating NaN as one."""
    x = convert_to_tensor(x)
    return cumprod(_nan_filled(x, 1) if _is_float(x) else x, axis=axis, dtype=dtype)


# The statistics module imports the helpers above, so it is loaded after them.
from kerastorch.ops.numpy.statistics import (  # noqa: E402
    average,
    median,
    nanmedian,
    nanpercentile,
    nanquantile,
    nanstd,
    nanvar,
    percentile,
    ptp,
    quantile,
    std,
    trapezoid,
    var,
)

__all__ = [
    "all",
    "any",
    "amax",
    "amin",
    "argmax",
    "argmin",
    "average",
    "count_nonzero",
    "cumprod",
    "cumsum",
    "max",
    "mean",
    "median",
    "min",
    "nanargmax",
    "nanargmin",
    "nancumprod",
    "nancumsum",
    "nanmax",
    "nanmean",
    "nanmedian",
    "nanmin",
    "nanpercentile",
    "nanprod",
    "nanquantile",
    "nanstd",
    "nansum",
    "nanvar",
    "percentile",
    "prod",
    "ptp",
    "quantile",
    "std",
    "sum",
    "var",
    "trapezoid",
]
