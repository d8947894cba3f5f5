"""Comparisons, logical and bitwise ops, and value tests (`isnan`, `isclose`, `isin`) on torch
tensors. Binary ops combine their operands in the dtype Keras' promotion rules give (Python
ints and floats are weak, numpy scalars are not); torch is left to promote on its own wherever
its rule lands on the same dtype, so the common case costs no cast. Every comparison and test
returns a bool tensor; bitwise ops return the promoted integer (or bool) dtype.
"""

import torch

from kerastorch.ops import _dtypes
from kerastorch.ops.core import convert_to_tensor

_WEAK = (int, float)


def _promote(x1, x2):
    """`x1`, `x2` as tensors that torch combines in Keras' result dtype."""
    t1, t2 = convert_to_tensor(x1), convert_to_tensor(x2)
    if t1.dtype == t2.dtype:
        return t1, t2
    want = _dtypes.to_torch_dtype(_dtypes.result_type(
        type(x1) if type(x1) in _WEAK else t1.dtype,
        type(x2) if type(x2) in _WEAK else t2.dtype))
    # torch treats 0-d tensors as weak (uint8 vs int8 scalar -> uint8); Keras does not.
    if torch.result_type(t1, t2) != want:
        t1, t2 = t1.to(want), t2.to(want)
    return t1, t2


# ------------------------------------------------------------------ comparisons

def equal(x1, x2):
    """Elementwise `x1 == x2` (bool), compared in the promoted dtype."""
    return torch.eq(*_promote(x1, x2))


def not_equal(x1, x2):
    """Elementwise `x1 != x2` (bool)."""
    return torch.ne(*_promote(x1, x2))


def greater(x1, x2):
    """Elementwise `x1 > x2` (bool)."""
    return torch.gt(*_promote(x1, x2))


def greater_equal(x1, x2):
    """Elementwise `x1 >= x2` (bool)."""
    return torch.ge(*_promote(x1, x2))


def less(x1, x2):
    """Elementwise `x1 < x2` (bool)."""
    return torch.lt(*_promote(x1, x2))


def less_equal(x1, x2):
    """Elementwise `x1 <= x2` (bool)."""
    return torch.le(*_promote(x1, x2))


# ------------------------------------------------------------------ logical

def logical_and(x1, x2):
    """Elementwise truth of `x1 and x2` (nonzero is true), as bool."""
    return torch.logical_and(convert_to_tensor(x1), convert_to_tensor(x2))


def logical_or(x1, x2):
    """Elementwise truth of `x1 or x2`, as bool."""
    return torch.logical_or(convert_to_tensor(x1), convert_to_tensor(x2))


def logical_xor(x1, x2):
    """Elementwise truth of exactly one of `x1`, `x2`, as bool."""
    return torch.logical_xor(convert_to_tensor(x1), convert_to_tensor(x2))


def logical_not(x):
    """Elementwise `not x` (zero is false), as bool."""
    return torch.logical_not(convert_to_tensor(x))


# ------------------------------------------------------------------ bitwise

def bitwise_and(x, y):
    """Bitwise AND of integer or bool tensors, in the promoted dtype."""
    return torch.bitwise_and(*_promote(x, y))


def bitwise_or(x, y):
    """Bitwise OR of integer or bool tensors, in the promoted dtype."""
    return torch.bitwise_or(*_promote(x, y))


def bitwise_xor(x, y):
    """Bitwise XOR of integer or bool tensors, in the promoted dtype."""
    return torch.bitwise_xor(*_promote(x, y))


def bitwise_invert(x):
    """Bitwise NOT (`~x`); logical NOT for bool tensors."""
    return torch.bitwise_not(convert_to_tensor(x))


def bitwise_not(x):
    """Same as `bitwise_invert`."""
    return bitwise_invert(x)


def bitwise_left_shift(x, y):
    """`x << y` elementwise; shifting by the bit width or more (or by a negative amount)
    gives 0, as in Keras on JAX."""
    return torch.bitwise_left_shift(*_promote(x, y))


def left_shift(x, y):
    """Same as `bitwise_left_shift`."""
    return bitwise_left_shift(x, y)


def bitwise_right_shift(x, y):
    """`x >> y` elementwise, arithmetic for signed integers."""
    return torch.bitwise_right_shift(*_promote(x, y))


def right_shift(x, y):
    """Same as `bitwise_right_shift`."""
    return bitwise_right_shift(x, y)


# ------------------------------------------------------------------ closeness and membership

def _inexact_pair(x1, x2):
    t1, t2 = _promote(x1, x2)
    common = torch.result_type(t1, t2)
    if not (common.is_floating_point or common.is_complex):
        # Keras on JAX compares integers and bools with the tolerances too, in float32.
        common = torch.float32
    return t1.to(common), t2.to(common)


def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """Elementwise `|x1 - x2| <= atol + rtol * |x2|` (bool); equal infinities are close, and
    NaNs are close to each other only with `equal_nan`. Integer inputs are compared as
    float32 with the tolerances, as Keras does."""
    t1, t2 = _inexact_pair(x1, x2)
    return torch.isclose(t1, t2, rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """Whether `isclose` holds everywhere, as a 0-d bool tensor (no host sync)."""
    return torch.all(isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isin(x1, x2, assume_unique=False, invert=False):
    """For each element of `x1`, whether it equals some element of `x2` (bool, `x1`'s shape);
    the opposite with `invert`."""
    t1, t2 = _promote(x1, x2)
    common = torch.result_type(t1, t2)
    if common == torch.bool:  # torch.isin has no bool kernel
        common = torch.uint8
    return torch.isin(t1.to(common), t2.to(common), assume_unique=assume_unique, invert=invert)


# ------------------------------------------------------------------ value tests

def isfinite(x):
    """Elementwise: neither infinite nor NaN (always true for integers and bools)."""
    return torch.isfinite(convert_to_tensor(x))


def isinf(x):
    """Elementwise: positive or negative infinity."""
    return torch.isinf(convert_to_tensor(x))


def isnan(x):
    """Elementwise: NaN."""
    return torch.isnan(convert_to_tensor(x))


def isneginf(x):
    """Elementwise: negative infinity."""
    return torch.isneginf(convert_to_tensor(x))


def isposinf(x):
    """Elementwise: positive infinity."""
    return torch.isposinf(convert_to_tensor(x))


def isreal(x):
    """Elementwise: a zero imaginary part (always true for real dtypes)."""
    return torch.isreal(convert_to_tensor(x))


__all__ = [
    "bitwise_and",
    "bitwise_invert",
    "bitwise_left_shift",
    "bitwise_not",
    "bitwise_or",
    "bitwise_right_shift",
    "bitwise_xor",
    "left_shift",
    "right_shift",
    "equal",
    "not_equal",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "isclose",
    "allclose",
    "isfinite",
    "isinf",
    "isnan",
    "isneginf",
    "isposinf",
    "isreal",
    "isin",
]
