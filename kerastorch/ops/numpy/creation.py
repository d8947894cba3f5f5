"""keras.ops.numpy: tensor creation. Ranges (`arange`, `linspace`, `logspace`, `geomspace`),
constant fills and their `_like` forms, identity and triangular matrices, `meshgrid`, `vander`
and the window functions. New tensors land on `kerastorch.config.device()`; without `dtype`
the fills (`zeros`, `ones`, `full`, `empty`, `eye`, `tri`) are `floatx()` and the ranges take
Keras' promotion of their bounds (Python ints and floats count as weak types).
"""

import operator

import numpy as np
import torch

from kerastorch import config
from kerastorch.ops._dtypes import (is_float_dtype, is_int_dtype, result_type, standardize_dtype,
                                    to_torch_dtype)
from kerastorch.ops.core import convert_to_tensor

__all__ = [
    "arange",
    "array",
    "bartlett",
    "blackman",
    "empty",
    "empty_like",
    "eye",
    "full",
    "full_like",
    "geomspace",
    "hamming",
    "hanning",
    "identity",
    "kaiser",
    "linspace",
    "logspace",
    "meshgrid",
    "ones",
    "ones_like",
    "tri",
    "vander",
    "zeros",
    "zeros_like",
]


def _size(shape) -> tuple:
    """A shape given as an int or a sequence of ints, as a tuple of ints."""
    try:
        return (operator.index(shape),)
    except TypeError:
        return tuple(operator.index(d) for d in shape)


def _fill_dtype(dtype):
    return to_torch_dtype(config.floatx() if dtype is None else dtype)


def _dtype_of(value):
    """What Keras' promotion sees for `value`: the Python type of a scalar (a weak type),
    otherwise the array's dtype."""
    if isinstance(value, (bool, int, float, complex)):
        return type(value)
    if hasattr(value, "dtype"):
        return value.dtype
    return convert_to_tensor(value).dtype


# ------------------------------------------------------------------ fills


def empty(shape, dtype=None):
    """An uninitialised tensor of `shape` (`floatx()` by default)."""
    return torch.empty(_size(shape), dtype=_fill_dtype(dtype), device=config.device())


def zeros(shape, dtype=None):
    """A tensor of `shape` filled with zeros (`floatx()` by default)."""
    return torch.zeros(_size(shape), dtype=_fill_dtype(dtype), device=config.device())


def ones(shape, dtype=None):
    """A tensor of `shape` filled with ones (`floatx()` by default)."""
    return torch.ones(_size(shape), dtype=_fill_dtype(dtype), device=config.device())


def full(shape, fill_value, dtype=None):
    """A tensor of `shape` filled with `fill_value`, which may be an array broadcast to
    `shape`. The dtype is `floatx()` unless given, whatever `fill_value`'s type."""
    size, dt = _size(shape), _fill_dtype(dtype)
    if isinstance(fill_value, (bool, int, float, complex)):
        return torch.full(size, fill_value, dtype=dt, device=config.device())
    # an array (or 0-d tensor) value: broadcast, then materialise a tensor of our own
    return convert_to_tensor(fill_value, dtype=dt).expand(size).clone()


def _like(x, dtype):
    x = convert_to_tensor(x)
    return x, x.dtype if dtype is None else to_torch_dtype(dtype)


def empty_like(x, dtype=None):
    """An uninitialised tensor with `x`'s shape (and dtype unless given)."""
    x, dt = _like(x, dtype)
    return torch.empty_like(x, dtype=dt)


def zeros_like(x, dtype=None):
    """Zeros with `x`'s shape (and dtype unless given)."""
    x, dt = _like(x, dtype)
    return torch.zeros_like(x, dtype=dt)


def ones_like(x, dtype=None):
    """Ones with `x`'s shape (and dtype unless given)."""
    x, dt = _like(x, dtype)
    return torch.ones_like(x, dtype=dt)


def full_like(x, fill_value, dtype=None):
    """`fill_value` (a scalar or an array broadcast to `x.shape`) with `x`'s shape; the dtype
    is `x`'s unless given (`full_like(int_x, 2.5)` is filled with 2)."""
    x, dt = _like(x, dtype)
    if isinstance(fill_value, (bool, int, float, complex)):
        return torch.full_like(x, fill_value, dtype=dt)
    return full(x.shape, fill_value, dtype=dt)


def array(x, dtype=None):
    """`x` as a tensor (of `dtype` when given); a tensor already on the device is returned
    as is, without a copy."""
    return convert_to_tensor(x, dtype=dtype)


# ------------------------------------------------------------------ matrices


def _is_float_arg(value):
    if isinstance(value, float):
        return True
    dtype = getattr(value, "dtype", None)
    return dtype is not None and is_float_dtype(dtype)


def eye(N, M=None, k=0, dtype=None):
    """An `N x M` matrix with ones on the `k`-th diagonal and zeros elsewhere."""
    if _is_float_arg(N):
        raise TypeError("Argument `N` must be an integer or an integer tensor.")
    if _is_float_arg(M):
        raise TypeError("Argument `M` must be an integer, an integer tensor, or `None`.")
    rows = operator.index(N)
    cols = rows if M is None else operator.index(M)
    k = 0 if k is None else operator.index(k)
    if k == 0:
        return torch.eye(rows, cols, dtype=_fill_dtype(dtype), device=config.device())
    out = torch.zeros((rows, cols), dtype=_fill_dtype(dtype), device=config.device())
    out.diagonal(k).fill_(1)  # an empty diagonal when k is off the matrix
    return out


def identity(n, dtype=None):
    """The `n x n` identity matrix (`floatx()` by default)."""
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):
    """An `N x M` matrix with ones at and below the `k`-th diagonal, zeros above."""
    rows = operator.index(N)
    cols = rows if M is None else operator.index(M)
    out = torch.ones((rows, cols), dtype=_fill_dtype(dtype), device=config.device())
    return out.tril_(operator.index(k))


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of the 1-D `x`: columns `x**(N-1), ..., x**0` (reversed with
    `increasing=True`); `N` defaults to `len(x)`. The dtype is `x`'s."""
    x = convert_to_tensor(x)
    if x.ndim != 1:
        raise ValueError("Input tensor must be 1-dimensional. "
                         f"Received: input.shape={tuple(x.shape)}")
    if N is not None:
        if not isinstance(N, int):
            raise TypeError(f"Argument `N` must be of type `int`. Received: N={N} of type "
                            f"{type(N)}")
        if N < 0:
            raise ValueError(f"Argument 'N' must be nonnegative. Received: N={N}")
    if not isinstance(increasing, bool):
        raise TypeError("Argument `increasing` must be of type `bool`. Received: "
                        f"increasing={increasing} of type {type(increasing)}")
    # torch.vander widens integers to int64; Keras keeps x's dtype (powers wrap as in x's type)
    return torch.vander(x, N=N, increasing=increasing).to(x.dtype)


def meshgrid(*x, indexing="xy"):
    """Coordinate grids from 1-D coordinate vectors, as a list of tensors (each keeps its
    input's dtype). `indexing="xy"` swaps the first two output axes (Cartesian), `"ij"`
    keeps them (matrix indexing). The grids are broadcast views of the inputs."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"Valid values for `indexing` are 'xy' and 'ij'. "
                         f"Received: indexing={indexing}")
    vectors = [convert_to_tensor(v).reshape(-1) for v in x]
    order = list(range(len(vectors)))
    if indexing == "xy" and len(vectors) > 1:
        order[0], order[1] = 1, 0
    grid = [0] * len(vectors)
    for i, v in zip(order, vectors):
        grid[i] = v.shape[0]
    out = []
    for i, v in zip(order, vectors):
        view = [1] * len(vectors)
        view[i] = -1
        out.append(v.reshape(view).expand(grid))
    return out


# ------------------------------------------------------------------ ranges


def arange(start, stop=None, step=None, dtype=None):
    """Evenly spaced values in `[start, stop)` (`arange(n)` counts from 0). Without `dtype`:
    Keras' promotion of the arguments (ints give int32, a float gives float32)."""
    if dtype is None:
        dtype = result_type(*(_dtype_of(v) for v in (start, stop, step) if v is not None))
    if stop is None:
        start, stop = 0, start
    first, last, step = (_number(v) for v in (start, stop, 1 if step is None else step))
    if step != 0 and (last - first) * step <= 0:  # torch refuses empty ranges, numpy gives []
        return torch.empty(0, dtype=to_torch_dtype(dtype), device=config.device())
    return torch.arange(first, last, step, dtype=to_torch_dtype(dtype), device=config.device())


def _number(value):
    """A range bound torch.arange takes: a Python number or a 0-d tensor."""
    if isinstance(value, (int, float, torch.Tensor)):
        return value
    return np.asarray(value).item()  # a numpy scalar or 0-d array: on the host already


def _range_dtypes(start, stop, dtype):
    """(result dtype, dtype computed in) for the spaced ranges: Keras promotes the bounds
    to a float dtype unless `dtype` is given; integer results are computed in a float."""
    if dtype is None:
        dtype = result_type(_dtype_of(start), _dtype_of(stop), float)
    dtype = standardize_dtype(dtype)
    compute = dtype if is_float_dtype(dtype) or "complex" in dtype else \
        result_type(dtype, float)
    return dtype, compute


def _integral(value) -> bool:
    """Whether a range bound holds whole numbers only (a Python int, an integer array)."""
    if isinstance(value, int):
        return True
    dtype = getattr(value, "dtype", None)
    return dtype is not None and (is_int_dtype(dtype) or standardize_dtype(dtype) == "bool")


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """`num` evenly spaced values from `start` to `stop` (excluded with `endpoint=False`).
    Array bounds give one range per element, along `axis`; `retstep=True` also returns the
    spacing. Integer dtypes take the floor of the values, as Keras on JAX does."""
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    dtype, compute = _range_dtypes(start, stop, dtype)
    # integer bounds and results: exact integer arithmetic (a float formula can land an ulp
    # below a whole value and floor one too low)
    exact = is_int_dtype(dtype) and _integral(start) and _integral(stop) and num > 1
    ct = to_torch_dtype(compute)
    steps = num - 1 if endpoint else num
    if num > 1 and not is_int_dtype(dtype) and isinstance(start, (int, float)) \
            and isinstance(stop, (int, float)):  # Python bounds: one kernel
        last = stop if endpoint else start + (stop - start) * (num - 1) / num
        values = torch.linspace(start, last, num, dtype=ct, device=config.device())
        if not retstep:
            return values.to(to_torch_dtype(dtype))
        return values.to(to_torch_dtype(dtype)), \
            torch.tensor((stop - start) / steps, dtype=ct, device=values.device)
    run = torch.int64 if exact else ct
    lo, hi = convert_to_tensor(start, dtype=run), convert_to_tensor(stop, dtype=run)
    bounds = torch.broadcast_shapes(lo.shape, hi.shape)
    axis = operator.index(axis)
    axis = axis + len(bounds) + 1 if axis < 0 else axis
    first, last = lo.expand(bounds).unsqueeze(axis), hi.expand(bounds).unsqueeze(axis)
    if num > 1:
        delta = (hi.to(ct) - lo.to(ct)) / steps if retstep else None
        view = [1] * (len(bounds) + 1)
        view[axis] = steps
        i = torch.arange(steps, dtype=run, device=lo.device).reshape(view)
        if exact:
            values = torch.div(first * steps + i * (last - first), steps, rounding_mode="floor")
        else:  # start * (1 - t) + stop * t (Keras on JAX's formula): both bounds exact
            t = i / steps
            values = first * (1 - t) + last * t
        if endpoint:
            values = torch.cat([values, last], dim=axis)
    else:
        nan = torch.tensor(float("nan"), dtype=ct, device=lo.device)
        delta = hi - lo if num == 1 and not endpoint else nan
        values = first.clone() if num == 1 else first[(slice(None),) * axis + (slice(0, 0),)]
    if is_int_dtype(dtype) and not exact:
        values = torch.floor(values)
    values = values.to(to_torch_dtype(dtype))
    return (values, delta) if retstep else values


def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    """`base ** linspace(start, stop, num, endpoint)`: `num` values evenly spaced on a log
    scale. Integer dtypes truncate the powers."""
    dtype, compute = _range_dtypes(start, stop, dtype)
    if is_float_dtype(dtype) and all(isinstance(v, (int, float)) for v in (start, stop, base)):
        last = start + (stop - start) * (num - 1) / num if num > 1 and not endpoint else stop
        run = torch.float32 if dtype in ("float16", "bfloat16") else to_torch_dtype(dtype)
        values = torch.logspace(start, last, num, base=base, dtype=run, device=config.device())
        return values.to(to_torch_dtype(dtype))
    exponents = linspace(start, stop, num, endpoint=endpoint, dtype=compute, axis=axis)
    if isinstance(base, (int, float)):
        values = torch.pow(base, exponents)
    else:
        values = torch.pow(convert_to_tensor(base, dtype=exponents.dtype), exponents)
    return values.to(to_torch_dtype(dtype))


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """`num` values from `start` to `stop` in geometric progression (both bounds of one
    sign; a zero bound gives nan, as on JAX)."""
    dtype, compute = _range_dtypes(start, stop, dtype)
    ct = to_torch_dtype(compute)
    start = convert_to_tensor(start, dtype=ct)
    stop = convert_to_tensor(stop, dtype=ct)
    sign = torch.sign(start)
    magnitudes = logspace(torch.log10(start / sign), torch.log10(stop / sign), num,
                          endpoint=endpoint, base=10.0, dtype=compute, axis=axis)
    bounds = torch.broadcast_shapes(start.shape, stop.shape)
    axis = operator.index(axis)
    sign = sign.expand(bounds).unsqueeze(axis + len(bounds) + 1 if axis < 0 else axis)
    return (sign * magnitudes).to(to_torch_dtype(dtype))


# ------------------------------------------------------------------ windows


def _window(fn, x, **kwargs):
    # Keras computes the windows in float32 and casts them to floatx()
    size = int(x)
    if size < 0:
        raise ValueError(f"The window length must be non-negative. Received: {x}")
    w = fn(size, sym=True, dtype=torch.float32, device=config.device(), **kwargs)
    return w.to(to_torch_dtype(config.floatx()))


def bartlett(x):
    """The Bartlett (triangular) window of length `x`, in `floatx()`."""
    return _window(torch.signal.windows.bartlett, x)


def blackman(x):
    """The Blackman window of length `x`, in `floatx()`."""
    return _window(torch.signal.windows.blackman, x)


def hamming(x):
    """The Hamming window of length `x`, in `floatx()`."""
    return _window(torch.signal.windows.hamming, x)


def hanning(x):
    """The Hann window of length `x`, in `floatx()`."""
    return _window(torch.signal.windows.hann, x)


def kaiser(x, beta):
    """The Kaiser window of length `x` and shape `beta`, in `floatx()`."""
    return _window(torch.signal.windows.kaiser, x, beta=float(beta))
