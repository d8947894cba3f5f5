"""keras.ops.numpy statistics: (population) variance and standard deviation, quantiles,
percentiles and medians, weighted averages, peak-to-peak ranges and trapezoidal integrals, with
the NaN-ignoring forms. Quantiles flatten the reduced axes into one, select the neighbouring
order statistics (linear-time selection rather than a sort where possible) and interpolate
between them as JAX does, for every method JAX offers. Results are floating: integer and bool
input gives Keras' `result_type(x.dtype, float)` (float32), a float input keeps its dtype
(float64 included), and half precision is computed in float32.
"""

import math

import numpy as np
import torch

from kerastorch.ops._args import axis_index
from kerastorch.ops._dtypes import result_type, to_torch_dtype
from kerastorch.ops.core import convert_to_tensor
from kerastorch.ops.numpy.reductions import _axes, _out_shape, _work_dtype, mean

_METHODS = ("linear", "lower", "higher", "midpoint", "nearest", "inverted_cdf")


def _float_dtype(*dtypes):
    """Keras' float result dtype for these input dtypes; float64 is not narrowed to float32
    (Keras' 64-bit narrowing mirrors JAX, which has no float64 by default)."""
    if dtypes[0].is_floating_point and all(d == dtypes[0] for d in dtypes):
        return dtypes[0]
    out = to_torch_dtype(result_type(*dtypes, float))
    if out == torch.float32 and torch.float64 in dtypes:
        return torch.float64
    return out


def _floating(x):
    """`x` as a tensor in its compute dtype, and the dtype of the result."""
    x = convert_to_tensor(x)
    dtype = _float_dtype(x.dtype)
    return x.to(_work_dtype(dtype)), dtype


def var(x, axis=None, keepdims=False):
    """Population variance (no Bessel correction, as NumPy) over `axis`."""
    x, dtype = _floating(x)
    axes = _axes(axis, x.ndim)
    if axes == ():
        return (x - x).square().to(dtype)  # zero, NaN where x is not finite
    return torch.var(x, dim=axes, keepdim=keepdims, correction=0).to(dtype)


def std(x, axis=None, keepdims=False):
    """Population standard deviation (no Bessel correction, as NumPy) over `axis`."""
    x, dtype = _floating(x)
    axes = _axes(axis, x.ndim)
    if axes == ():
        return (x - x).abs().to(dtype)
    return torch.std(x, dim=axes, keepdim=keepdims, correction=0).to(dtype)


def nanvar(x, axis=None, keepdims=False):
    """`var` of the non-NaN elements (NaN where all are NaN)."""
    x, dtype = _floating(x)
    axes = _axes(axis, x.ndim)
    if axes == ():
        return (x - x).square().to(dtype)
    valid = ~torch.isnan(x)
    count = valid.sum(dim=axes, keepdim=True, dtype=x.dtype)
    centred = x - torch.where(valid, x, 0).sum(dim=axes, keepdim=True) / count
    out = torch.where(valid, centred, 0).square().sum(dim=axes, keepdim=True) / count
    return out.reshape(_out_shape(x.shape, axes, keepdims)).to(dtype)


def nanstd(x, axis=None, keepdims=False):
    """`std` of the non-NaN elements (NaN where all are NaN)."""
    return torch.sqrt(nanvar(x, axis=axis, keepdims=keepdims))


def _inverted_cdf(rows, q, skip_nan):
    """The first value of each row (last axis) whose empirical CDF reaches `q` (1D): torch
    has no such method, so sort and read the order statistic."""
    ordered = torch.sort(rows, dim=-1).values  # NaNs sort last
    if skip_nan:
        count = (~torch.isnan(ordered)).sum(dim=-1, keepdim=True, dtype=rows.dtype)
        index = torch.minimum(torch.ceil(q * count) - 1, count - 1).clamp_min(0)
    else:
        count = rows.shape[-1]
        index = (torch.ceil(q * count) - 1).clamp(0, count - 1)
    out = ordered.gather(-1, index.long().expand(*rows.shape[:-1], q.shape[-1]))
    if not skip_nan:  # any NaN makes the quantile NaN; all-NaN rows (skip_nan) read a NaN
        out = out.masked_fill(torch.isnan(ordered[..., -1:]), math.nan)
    return out.movedim(-1, 0)


def _combine(low, high, weight, method):
    """JAX's interpolation between the neighbouring order statistics `low` and `high`."""
    if method == "midpoint":
        return (low + high) * 0.5
    if method == "linear":  # torch's lerp would give NaN next to an infinite neighbour
        return low * (1 - weight) + high * weight
    return low


def _next_order_statistic(rows, value, rank):
    """The order statistic after `value`, the `rank`-th (from 0) of each row of `rows` (last
    axis, kept with size 1 in `value`): `value` again when it repeats, else the smallest
    larger element; NaN stays NaN. A few linear passes instead of a second selection."""
    repeats = (rows <= value).sum(dim=-1, keepdim=True) > rank + 1
    larger = torch.where(rows > value, rows, math.inf).amin(dim=-1, keepdim=True)
    return torch.where(repeats | torch.isnan(value), value, larger)


def _host_quantiles(rows, q, method):
    """Quantiles of the last axis of `rows` for `q` known on the host (1D numpy, JAX's float
    arithmetic): the ranks need no device read, so select just those order statistics
    (`kthvalue`, linear time), or sort once when many are needed."""
    size = rows.shape[-1]
    rank = np.ceil(q * size) - 1 if method == "inverted_cdf" else q * q.dtype.type(size - 1)
    low = np.clip(np.floor(rank), 0, size - 1).astype(np.int64).tolist()
    high = np.clip(np.ceil(rank), 0, size - 1).astype(np.int64).tolist()
    weight = (rank - np.floor(rank)).tolist()
    if method == "higher":
        low = high
    elif method == "nearest":  # ties go to the lower neighbour
        low = [lo if w <= 0.5 else hi for lo, hi, w in zip(low, high, weight)]
    if method not in ("linear", "midpoint"):
        high = low
    if len(set(low)) <= 4:
        stats = {k: torch.kthvalue(rows, k + 1, dim=-1, keepdim=True).values for k in set(low)}
        for lo, hi in zip(low, high):
            if hi not in stats:
                stats[hi] = _next_order_statistic(rows, stats[lo], lo)
        if len(weight) == 1:
            out = _combine(stats[low[0]], stats[high[0]], weight[0], method)
        else:
            out = _combine(torch.cat([stats[k] for k in low], dim=-1),
                           torch.cat([stats[k] for k in high], dim=-1),
                           torch.as_tensor(weight, dtype=rows.dtype, device=rows.device), method)
    else:
        ordered = torch.sort(rows, dim=-1).values
        out = _combine(ordered[..., low], ordered[..., high],
                       torch.as_tensor(weight, dtype=rows.dtype, device=rows.device), method)
    return out.masked_fill(torch.isnan(rows).any(dim=-1, keepdim=True), math.nan).movedim(-1, 0)


def _device_quantiles(rows, q, method, skip_nan):
    """Quantiles for a tensor `q`, or ignoring NaNs (per-row counts): torch's selection-based
    quantile reads the lower neighbour, the upper one follows, combined as JAX does."""
    if method == "inverted_cdf":
        return _inverted_cdf(rows, q.reshape(-1), skip_nan)
    fn = torch.nanquantile if skip_nan else torch.quantile
    if method in ("lower", "higher"):
        return fn(rows, q, dim=-1, interpolation=method)
    low = fn(rows, q, dim=-1, interpolation="lower")
    count = (~torch.isnan(rows)).sum(dim=-1, dtype=rows.dtype) if skip_nan else rows.shape[-1]
    rank = q.reshape(q.shape + (1,) * (rows.ndim - 1)) * (count - 1)
    weight = rank - torch.floor(rank)
    after = _next_order_statistic(rows, low.unsqueeze(-1), torch.floor(rank).unsqueeze(-1))
    high = torch.where(weight == 0, low, after.squeeze(-1))
    if method == "nearest":  # torch rounds ties to even, JAX to the lower neighbour
        return torch.where(weight <= 0.5, low, high)
    return _combine(low, high, weight, method)


def _quantile(x, q, axis, method, keepdims, skip_nan, scale=1):
    if method not in _METHODS:
        raise ValueError(f"Invalid `method` {method!r}: expected one of {_METHODS}.")
    x, dtype = _floating(x)
    on_host = not skip_nan and not isinstance(q, torch.Tensor)
    if on_host:
        q = np.asarray(q, dtype=np.float64 if x.dtype == torch.float64 else np.float32)
    else:
        q = convert_to_tensor(q, dtype=x.dtype)
    if scale != 1:
        q = q / q.dtype.type(scale) if on_host else q / scale
    if q.ndim > 1:
        raise ValueError(f"`q` must be a scalar or a 1D tensor. Received: q.shape={q.shape}")
    q_shape = tuple(q.shape)
    axes = _axes(axis, x.ndim)
    if axes == ():  # every element is its own sample
        return x.expand(q_shape + x.shape).to(dtype, copy=True)
    if axes is None:
        kept, size = [], x.numel()
        rows = x.reshape(size)
    else:  # the reduced axes, moved last, become one
        kept = [i for i in range(x.ndim) if i not in axes]
        size = math.prod(x.shape[i] for i in axes)
        rows = x.permute(kept + list(axes)).reshape([x.shape[i] for i in kept] + [size])
    out_shape = q_shape + _out_shape(x.shape, axes, keepdims)
    if rows.numel() == 0:  # NaN for an empty sample (where JAX fails)
        return torch.full(out_shape, math.nan, dtype=dtype, device=x.device)
    out = _host_quantiles(rows, q.reshape(-1), method) if on_host else \
        _device_quantiles(rows, q, method, skip_nan)
    return out.reshape(out_shape).to(dtype)


def quantile(x, q, axis=None, method="linear", keepdims=False):
    """The `q`-th quantiles (`q` in [0, 1], scalar or 1D; its axis comes first) over `axis`.

    `method`: "linear", "lower", "higher", "midpoint", "nearest" or "inverted_cdf". NaN input
    gives NaN.
    """
    return _quantile(x, q, axis, method, keepdims, skip_nan=False)


def percentile(x, q, axis=None, method="linear", keepdims=False):
    """`quantile` with `q` in percent ([0, 100])."""
    return _quantile(x, q, axis, method, keepdims, skip_nan=False, scale=100)


def median(x, axis=None, keepdims=False):
    """Median over `axis` (the mean of the two middle values for an even count)."""
    return _quantile(x, 0.5, axis, "midpoint", keepdims, skip_nan=False)


def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    """`quantile` of the non-NaN elements (NaN where all are NaN)."""
    return _quantile(x, q, axis, method, keepdims, skip_nan=True)


def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    """`percentile` of the non-NaN elements (NaN where all are NaN)."""
    return _quantile(x, q, axis, method, keepdims, skip_nan=True, scale=100)


def nanmedian(x, axis=None, keepdims=False):
    """`median` of the non-NaN elements (NaN where all are NaN)."""
    return _quantile(x, 0.5, axis, "midpoint", keepdims, skip_nan=True)


def average(x, axis=None, weights=None):
    """Mean over `axis`, weighted by `weights` (the shape of `x`, or 1D along an int `axis`).

    Dtype: `result_type(x.dtype, weights.dtype, float)`.
    """
    x = convert_to_tensor(x)
    if weights is None:
        return mean(x.to(_float_dtype(x.dtype)), axis=axis)
    weights = convert_to_tensor(weights)
    dtype = _float_dtype(x.dtype, weights.dtype)
    x, weights = x.to(_work_dtype(dtype)), weights.to(_work_dtype(dtype))
    if weights.shape != x.shape:
        if axis is None:
            raise ValueError("Axis must be specified when shapes of x and weights differ.")
        if weights.ndim != 1:
            raise ValueError("1D weights expected when shapes of x and weights differ.")
        axis = axis_index(axis, x.ndim)
        if weights.shape[0] != x.shape[axis]:
            raise ValueError("Length of weights not compatible with specified axis.")
        weights = weights.reshape([-1 if i == axis else 1 for i in range(x.ndim)])
        return (torch.sum(x * weights, dim=axis) / weights.sum()).to(dtype)
    axes = _axes(axis, x.ndim)
    if axes == ():
        return (x * weights / weights).to(dtype)
    return (torch.sum(x * weights, dim=axes) / torch.sum(weights, dim=axes)).to(dtype)


def ptp(x, axis=None, keepdims=False):
    """Range (max - min) over `axis`, in `x`'s dtype; bool input is a TypeError (as JAX)."""
    x = convert_to_tensor(x)
    if x.dtype == torch.bool:
        raise TypeError("ptp does not support bool input: subtraction of booleans is undefined.")
    axes = _axes(axis, x.ndim)
    if axes == ():
        return x - x
    return torch.amax(x, dim=axes, keepdim=keepdims) - torch.amin(x, dim=axes, keepdim=keepdims)


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """Integral of `y` along `axis` by the trapezoidal rule, at sample points `x` (1D or
    `y`'s shape) or with constant spacing `dx`. Dtype: `result_type(y, x, float)`; a Python
    `dx` is weakly typed, a tensor `dx` takes part in the promotion."""
    y = convert_to_tensor(y)
    if x is not None:
        x = convert_to_tensor(x)
        dtype = _float_dtype(y.dtype, x.dtype)
        work = _work_dtype(dtype)
        return torch.trapezoid(y.to(work), x.to(work), dim=axis).to(dtype)
    if isinstance(dx, (int, float)):
        dtype = _float_dtype(y.dtype)
        return torch.trapezoid(y.to(_work_dtype(dtype)), dx=dx, dim=axis).to(dtype)
    dx = convert_to_tensor(dx)
    dtype = _float_dtype(y.dtype, dx.dtype)
    work = _work_dtype(dtype)
    y = y.to(work).movedim(axis, -1)
    dx = dx.to(work)
    if dx.ndim:  # spacing per sample: broadcast like `y` with the integration axis last
        dx = dx.reshape((1,) * (y.ndim - dx.ndim) + dx.shape).movedim(axis, -1)
        if dx.shape[-1] != 1:
            return (0.5 * dx * (y[..., 1:] + y[..., :-1])).sum(-1).to(dtype)
        dx = dx[..., 0]
    return (dx * (y.sum(-1) - 0.5 * (y[..., 0] + y[..., -1]))).to(dtype)
