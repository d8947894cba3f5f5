"""`keras.ops` elementwise arithmetic: the four operations and their relatives (`power`, `mod`,
`floor_divide`, `divide_no_nan`), extrema, rounding, signs, `clip`, `nan_to_num` and the parts
of complex numbers. Each op converts its operands, picks the result dtype by Keras' rules (on
JAX, the oracle) and calls the torch function; the dtype helpers are in `_elementwise`. Ops
whose result is a float (`divide`, `sqrt`, `floor`, `hypot`, ...) turn bools and ints into a
float of `floatx()`'s width; the others keep the promoted input dtype.
"""

import torch

from kerastorch import config
from kerastorch.ops._dtypes import INT_TYPES
from kerastorch.ops.core import convert_to_tensor
from kerastorch.ops.numpy._elementwise import (
    cast_to, dtype_name, float_dtype, no_bool, operands, pair, resolve, unary_float,
)

__all__ = [
    "abs", "absolute", "add", "angle", "cbrt", "ceil", "clip", "conj", "conjugate", "deg2rad",
    "divide", "divide_no_nan", "fabs", "floor", "floor_divide", "fmax", "fmin", "fmod", "gcd",
    "heaviside", "hypot", "imag", "lcm", "ldexp", "maximum", "minimum", "mod", "multiply",
    "nan_to_num", "negative", "nextafter", "power", "rad2deg", "real", "reciprocal", "round",
    "sign", "signbit", "sqrt", "square", "subtract", "true_divide", "trunc",
]

_NUMBERS = (int, float)


def _beside(t, other):
    """`t` on `other`'s device. A Python number operand is a 0-d CPU tensor, which torch's
    binary kernels take beside device tensors, but `where`/`clamp` with tensor bounds need it
    moved (a copy, only for that number)."""
    return t if t.device == other.device else t.to(other.device)


# ---------------------------------------------------------------- the four operations

def add(x1, x2):
    """`x1 + x2`, elementwise, in the promoted dtype (bool + bool stays bool: logical or)."""
    (a, b), _ = pair(x1, x2, scalar_last=True)
    return torch.add(a, b)


def subtract(x1, x2):
    """`x1 - x2`, elementwise, in the promoted dtype (two bools are refused, as in Keras)."""
    (a, b), _ = pair(x1, x2, scalar_last=True)
    return torch.sub(a, b)


def multiply(x1, x2):
    """`x1 * x2`, elementwise, in the promoted dtype."""
    (a, b), _ = pair(x1, x2, scalar_last=True)
    return torch.mul(a, b)


def divide(x1, x2):
    """`x1 / x2` (true division); ints and bools give `floatx()`."""
    (a, b), _ = pair(x1, x2, rule=float_dtype, scalar_last=True)
    return torch.div(a, b)


def true_divide(x1, x2):
    """Same as `divide`."""
    return divide(x1, x2)


def divide_no_nan(x1, x2):
    """`x1 / x2`, with 0 wherever `x2 == 0` (no inf, no nan, and finite gradients there)."""
    (a, b), _ = pair(x1, x2, rule=float_dtype)
    b = _beside(b, a)
    zero = b == 0
    quotient = torch.div(a, torch.where(zero, 1, b))
    return torch.where(zero, 0, quotient)


def floor_divide(x1, x2):
    """`x1 // x2`, rounded toward minus infinity; ints stay ints (bools give int32)."""
    (a, b), _ = pair(x1, x2, rule=no_bool, scalar_last=True)
    return torch.floor_divide(a, b)


def mod(x1, x2):
    """Remainder of `x1 // x2`, with the sign of `x2` (Python's `%`); bools give int32."""
    (a, b), _ = pair(x1, x2, rule=no_bool, scalar_last=True)
    return torch.remainder(a, b)


def fmod(x1, x2):
    """Remainder of the division truncated toward zero (sign of `x1`, C's `fmod`)."""
    (a, b), _ = pair(x1, x2, rule=no_bool, scalar_last=True)
    return torch.fmod(a, b)


def power(x1, x2):
    """`x1 ** x2`, elementwise, in the promoted dtype (bools give int32)."""
    (a, b), _ = pair(x1, x2, rule=no_bool, scalar_last=True)
    return torch.pow(a, b)


def negative(x):
    """`-x`, elementwise (unsigned ints wrap around)."""
    return torch.neg(convert_to_tensor(x))


def reciprocal(x):
    """`1 / x`, elementwise; ints and bools give `floatx()`."""
    return torch.reciprocal(unary_float(x))


def square(x):
    """`x * x`, elementwise; bools give int32."""
    x = convert_to_tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    return torch.square(x)


def sqrt(x):
    """Square root, elementwise; ints and bools give `floatx()`."""
    return torch.sqrt(unary_float(x))


def cbrt(x):
    """Cube root (real, negative for negative `x`); ints and bools give `floatx()`."""
    x = unary_float(x)
    # torch has no cbrt: |x| ** (1/3) with the sign of x put back (copysign keeps -0.0)
    return torch.copysign(torch.abs(x).pow(1.0 / 3.0), x)


# ---------------------------------------------------------------- extrema and clipping

def maximum(x1, x2):
    """The larger of `x1` and `x2`, elementwise; nan wins."""
    (a, b), _ = pair(x1, x2)
    return torch.maximum(a, b)


def minimum(x1, x2):
    """The smaller of `x1` and `x2`, elementwise; nan wins."""
    (a, b), _ = pair(x1, x2)
    return torch.minimum(a, b)


def fmax(x1, x2):
    """The larger of `x1` and `x2`, elementwise, ignoring a nan when the other is a number."""
    (a, b), _ = pair(x1, x2)
    return torch.fmax(a, b)


def fmin(x1, x2):
    """The smaller of `x1` and `x2`, elementwise, ignoring a nan when the other is a number."""
    (a, b), _ = pair(x1, x2)
    return torch.fmin(a, b)


def clip(x, x_min, x_max):
    """`x` limited to `[x_min, x_max]` (`x_max` wins where `x_min > x_max`); bools give int32
    and the result takes the dtype promoted with the bounds (`clip(int32, -2.5, 3.5)` is
    float32)."""
    x = convert_to_tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    bounds = [b for b in (x_min, x_max) if b is not None]
    if not bounds:
        return x
    if all(type(b) in _NUMBERS for b in bounds):  # torch.clamp takes Python numbers as they are
        _, dt = resolve(x.dtype, *(type(b) for b in bounds))
        return torch.clamp(x if x.dtype == dt else x.to(dt), x_min, x_max)
    (x, *bounds), _ = operands(x, *bounds)
    bounds = [_beside(b, x) for b in bounds]
    low = bounds.pop(0) if x_min is not None else None
    high = bounds.pop(0) if x_max is not None else None
    return torch.clamp(x, low, high)


# ---------------------------------------------------------------- rounding and signs

def floor(x):
    """Largest integer `<= x`, as a float (ints and bools give `floatx()`)."""
    return torch.floor(unary_float(x))


def ceil(x):
    """Smallest integer `>= x`, as a float (ints and bools give `floatx()`)."""
    return torch.ceil(unary_float(x))


def trunc(x):
    """`x` rounded toward zero; ints and bools are returned as they are."""
    x = convert_to_tensor(x)
    if not (x.is_floating_point() or x.is_complex()):
        return x
    return torch.trunc(x)


def round(x, decimals=0):
    """`x` rounded half to even to `decimals` places (negative: tens, hundreds...); ints keep
    their dtype and are unchanged unless `decimals < 0`."""
    x = convert_to_tensor(x)
    if x.is_floating_point():
        return torch.round(x, decimals=decimals)
    if x.dtype == torch.bool or x.is_complex():
        raise ValueError(f"round does not support inputs of dtype {dtype_name(x)}.")
    if decimals >= 0:
        return x
    # ints with decimals < 0: Keras rounds in floatx, then casts back
    rounded = torch.round(cast_to(x, config.floatx()), decimals=decimals)
    return rounded.to(x.dtype)


def sign(x):
    """-1, 0 or 1 by the sign of `x` (nan stays nan), in `x`'s dtype."""
    x = convert_to_tensor(x)
    if x.is_floating_point():  # torch.sign gives 0 for nan, Keras keeps the nan
        return torch.where(torch.isnan(x), x, torch.sign(x))
    return torch.sign(x)


def signbit(x):
    """Whether the sign bit of `x` is set (True for -0.0 and negative nan), as bools."""
    return torch.signbit(convert_to_tensor(x))


def absolute(x):
    """`|x|`, elementwise (bools as they are; complex gives its float magnitude)."""
    x = convert_to_tensor(x)
    if x.dtype == torch.bool:
        return x
    return torch.abs(x)


def abs(x):
    """Same as `absolute`."""
    return absolute(x)


def fabs(x):
    """`|x|` as a float (ints and bools give `floatx()`); complex inputs are refused."""
    x = convert_to_tensor(x)
    if x.is_complex():
        raise TypeError("fabs does not support complex inputs. "
                        f"Received: x.dtype={dtype_name(x)}")
    return torch.abs(unary_float(x))


def heaviside(x1, x2):
    """Step function: 0 where `x1 < 0`, `x2` where `x1 == 0`, 1 where `x1 > 0`, nan where `x1`
    is nan (float)."""
    (a, b), _ = pair(x1, x2, rule=float_dtype)
    a = _beside(a, b)
    # torch.heaviside gives 0 for a nan x1; Keras passes the nan through
    return torch.where(torch.isnan(a), a, torch.heaviside(a, b))


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """`x` with nan, +inf and -inf replaced (by default: 0 and the dtype's largest finite
    values); ints and bools are returned as they are."""
    x = convert_to_tensor(x)
    if not (x.is_floating_point() or x.is_complex()):
        return x
    return torch.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


# ---------------------------------------------------------------- float-valued binary ops

def hypot(x1, x2):
    """`sqrt(x1**2 + x2**2)` without overflow, elementwise (float)."""
    (a, b), _ = pair(x1, x2, rule=float_dtype)
    return torch.hypot(a, b)


def nextafter(x1, x2):
    """The next float after `x1` toward `x2`, in the promoted float dtype."""
    (a, b), _ = pair(x1, x2, rule=float_dtype)
    return torch.nextafter(a, b)


def ldexp(x1, x2):
    """`x1 * 2**x2` (float); the exponent `x2` must be an integer."""
    x2 = convert_to_tensor(x2)
    if dtype_name(x2) not in INT_TYPES:
        raise TypeError(f"ldexp exponent must be an integer type. "
                        f"Received: x2 dtype={dtype_name(x2)}")
    x1 = unary_float(x1)
    # the power of two in float32 (float64 for float64 x1), then back to x1's dtype
    out = torch.mul(x1, torch.pow(2.0, x2 if x1.dtype != torch.float64 else x2.double()))
    return out if out.dtype == x1.dtype else out.to(x1.dtype)


def deg2rad(x):
    """Degrees to radians (float; ints and bools give `floatx()`)."""
    return torch.deg2rad(unary_float(x))


def rad2deg(x):
    """Radians to degrees (float; ints and bools give `floatx()`)."""
    return torch.rad2deg(unary_float(x))


# ---------------------------------------------------------------- integers

def _integer_pair(x1, x2, name):
    (a, b), dtype = pair(x1, x2)
    if dtype not in INT_TYPES:
        raise ValueError(f"{name} takes integer arguments. Received dtype {dtype}.")
    return a, b


def gcd(x1, x2):
    """Greatest common divisor of `|x1|` and `|x2|`, elementwise (integers only)."""
    return torch.gcd(*_integer_pair(x1, x2, "gcd"))


def lcm(x1, x2):
    """Least common multiple of `|x1|` and `|x2|`, elementwise (integers only)."""
    return torch.lcm(*_integer_pair(x1, x2, "lcm"))


# ---------------------------------------------------------------- complex parts

def real(x):
    """Real part of `x` (a real `x` as it is)."""
    x = convert_to_tensor(x)
    return torch.real(x) if x.is_complex() else x


def imag(x):
    """Imaginary part of `x` (zeros of `x`'s dtype for a real `x`)."""
    x = convert_to_tensor(x)
    return torch.imag(x) if x.is_complex() else torch.zeros_like(x)


def conjugate(x):
    """Complex conjugate of `x` (a real `x` as it is)."""
    x = convert_to_tensor(x)
    return torch.conj(x).resolve_conj() if x.is_complex() else x


def conj(x):
    """Same as `conjugate`."""
    return conjugate(x)


def angle(x):
    """Argument of `x` in radians (float): `arctan2(imag, real)`; ints give `floatx()`."""
    x = unary_float(x)
    if x.is_complex():
        return torch.angle(x)
    # arctan2(0, x), not torch.angle: Keras gives pi for -0.0 (torch.angle gives 0)
    return torch.atan2(x.new_zeros(()), x)
