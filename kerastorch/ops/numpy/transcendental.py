"""`keras.ops` transcendental functions: exponentials and logarithms, trigonometric and
hyperbolic functions with their inverses, `sinc`, the Bessel function `i0`, and the binary
`arctan2`, `logaddexp`, `logaddexp2`. All give floats: float inputs keep their dtype (complex
stays complex), bool and int inputs become a float of `floatx()`'s width, as in Keras. Each op
is the torch function of the same meaning on the converted input.
"""

import torch

from kerastorch import config
from kerastorch.ops.core import convert_to_tensor
from kerastorch.ops.numpy._elementwise import (
    cast_to, dtype_name, float_dtype, pair, to_floatx, unary_float,
)

__all__ = [
    "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "cos", "cosh",
    "exp", "exp2", "expm1", "i0", "log", "log10", "log1p", "log2", "logaddexp", "logaddexp2",
    "sin", "sinc", "sinh", "tan", "tanh",
]


# ---------------------------------------------------------------- exponentials, logarithms

def exp(x):
    """`e ** x`, elementwise."""
    return torch.exp(unary_float(x, to_floatx))


def exp2(x):
    """`2 ** x`, elementwise."""
    return torch.exp2(unary_float(x, to_floatx))


def expm1(x):
    """`e ** x - 1`, accurate for small `x`."""
    return torch.expm1(unary_float(x, to_floatx))


def log(x):
    """Natural logarithm, elementwise (nan below 0, -inf at 0)."""
    return torch.log(unary_float(x))


def log2(x):
    """Base-2 logarithm, elementwise."""
    return torch.log2(unary_float(x))


def log10(x):
    """Base-10 logarithm, elementwise."""
    return torch.log10(unary_float(x))


def log1p(x):
    """`log(1 + x)`, accurate for small `x`."""
    return torch.log1p(unary_float(x))


def _strong_float_pair(x1, x2):
    # Keras promotes these with result_type(x1.dtype, x2.dtype, float) on the converted
    # operands, where a Python float is already a float32 array: float16 + 2.0 -> float32
    (a, b), _ = pair(x1, x2, rule=float_dtype, weak=False)
    return a, b


def logaddexp(x1, x2):
    """`log(exp(x1) + exp(x2))` without overflow."""
    return torch.logaddexp(*_strong_float_pair(x1, x2))


def logaddexp2(x1, x2):
    """`log2(2 ** x1 + 2 ** x2)` without overflow."""
    return torch.logaddexp2(*_strong_float_pair(x1, x2))


# ---------------------------------------------------------------- trigonometric

def sin(x):
    """Sine (radians), elementwise."""
    return torch.sin(unary_float(x))


def cos(x):
    """Cosine (radians), elementwise."""
    return torch.cos(unary_float(x))


def tan(x):
    """Tangent (radians), elementwise."""
    return torch.tan(unary_float(x))


def arcsin(x):
    """Inverse sine in `[-pi/2, pi/2]` (nan outside `[-1, 1]`)."""
    return torch.asin(unary_float(x))


def arccos(x):
    """Inverse cosine in `[0, pi]` (nan outside `[-1, 1]`)."""
    return torch.acos(unary_float(x))


def arctan(x):
    """Inverse tangent in `(-pi/2, pi/2)`."""
    return torch.atan(unary_float(x))


def arctan2(x1, x2):
    """Angle of the point `(x2, x1)` in `[-pi, pi]`, by the signs of both arguments."""
    return torch.atan2(*_strong_float_pair(x1, x2))


def sinc(x):
    """Normalized sinc: `sin(pi * x) / (pi * x)`, 1 at 0."""
    return torch.sinc(unary_float(x))


# ---------------------------------------------------------------- hyperbolic

def sinh(x):
    """Hyperbolic sine, elementwise."""
    return torch.sinh(unary_float(x))


def cosh(x):
    """Hyperbolic cosine, elementwise."""
    return torch.cosh(unary_float(x))


def tanh(x):
    """Hyperbolic tangent, elementwise."""
    return torch.tanh(unary_float(x))


def arcsinh(x):
    """Inverse hyperbolic sine, elementwise."""
    return torch.asinh(unary_float(x))


def arccosh(x):
    """Inverse hyperbolic cosine (nan below 1)."""
    return torch.acosh(unary_float(x))


def arctanh(x):
    """Inverse hyperbolic tangent (inf at +-1, nan outside `[-1, 1]`)."""
    return torch.atanh(unary_float(x))


# ---------------------------------------------------------------- Bessel

def i0(x):
    """Modified Bessel function of the first kind, order 0. Keras' dtype rule is its own here:
    float16, bfloat16 and float64 are kept, everything else (float32 too) gives `floatx()`."""
    x = convert_to_tensor(x)
    dtype = dtype_name(x)
    if dtype not in ("float16", "bfloat16", "float64"):
        dtype = config.floatx()
    return torch.i0(cast_to(x, dtype))
