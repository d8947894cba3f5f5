"""What the elementwise ops of `arithmetic` and `transcendental` share: turning operands into
torch tensors and choosing the result dtype by Keras' `result_type` (`ops._dtypes`). Python
`int`/`float` operands are Keras' weak types (`int8 tensor + 1 -> int8`, `int32 tensor * 1.5
-> float32`), as `jax.numpy` promotes them; `arctan2` and `logaddexp(2)` count them as
int32/float32 arrays, as Keras' JAX backend does there. Weak floats and int-to-float results
take `floatx()`'s width, as Keras' rules and its torch backend say (Keras on JAX gives float32
for some of them under a 16-bit `floatx()`); Python ints alone give int32. One deliberate
widening: where an input is already float64 (or int64, complex128) the result keeps 64 bits,
as JAX does with x64 enabled, so float64 layers stay float64 (Keras narrows every 64-bit result
to 32 bits).
"""

import torch

from kerastorch import config
from kerastorch.ops._dtypes import TORCH_DTYPES, is_float_dtype, result_type, standardize_dtype
from kerastorch.ops.core import convert_to_tensor

# what jnp.asarray makes of a Python number: the dtype Keras' explicit result_type calls see
_STRONG = {int: "int32", float: "float32"}
_WIDE = {"float32": "float64", "int32": "int64", "complex64": "complex128"}


def promote(*dtypes):
    """Keras' `result_type(*dtypes)`, 64 bits kept where an input has them (see the module)."""
    if int in dtypes and all(d is int or d == "bool" for d in dtypes):
        # weak ints alone (or with bools): int32, as on JAX and Keras' torch backend
        # (result_type would give floatx()'s width: int16 under float16)
        return "int32"
    out = result_type(*dtypes)
    wide = _WIDE.get(out)
    if wide is not None and wide in dtypes:
        return wide
    return out


def _is_inexact(dtype):
    return is_float_dtype(dtype) or dtype.startswith("complex")


def _memo(fn):
    """Caches a pure function of hashable arguments in a plain dict (which torch.compile
    traces, where it warns about and bypasses `functools.lru_cache`)."""
    table = {}

    def cached(*args):
        found = table.get(args)
        if found is None:
            found = table[args] = fn(*args)
        return found
    cached.__name__ = fn.__name__
    return cached


@_memo
def _float_dtype(dtype, floatx):
    if _is_inexact(dtype):
        return dtype
    if dtype == "int64":
        return floatx
    return result_type(dtype, float)


def float_dtype(dtype):
    """Rule of the float-valued ops (Keras' `result_type(dtype, float)`): floats keep their
    dtype, complex stays complex, bools and ints give a float of `floatx()`'s width (int64:
    `floatx()`)."""
    return _float_dtype(dtype, config.floatx())


def dtype_name(x):
    """Keras' name of a tensor's dtype."""
    return standardize_dtype(x.dtype)


def cast_to(x, dtype):
    """Tensor `x` as Keras dtype `dtype` (itself when it already is)."""
    dt = TORCH_DTYPES[dtype]
    return x if x.dtype == dt else x.to(dt)


def to_floatx(dtype):
    """Rule of `exp`, `exp2`, `expm1`: floats keep their dtype, bools and ints give `floatx()`."""
    return dtype if _is_inexact(dtype) else config.floatx()


@_memo
def _float_torch(dtype, rule, floatx):
    return TORCH_DTYPES[rule(standardize_dtype(dtype))]


def unary_float(x, rule=float_dtype):
    """`x` as a tensor of the float dtype `rule` gives for its dtype."""
    x = convert_to_tensor(x)
    dt = _float_torch(x.dtype, rule, config.floatx())
    return x if x.dtype == dt else x.to(dt)


_PYTHON = (int, float, bool)


@_memo
def _resolve(keys, rule, weak, floatx):
    """(Keras name, torch dtype) of the result for operand keys: torch dtypes or Python types."""
    dtypes = []
    for key in keys:
        if key is bool:
            dtypes.append("bool")
        elif key is int or key is float:
            dtypes.append(key if weak else _STRONG[key])
        else:
            dtypes.append(standardize_dtype(key))
    dtype = promote(*dtypes)
    if rule is not None:
        dtype = rule(dtype)
    return dtype, TORCH_DTYPES[dtype]


def resolve(*keys, rule=None, weak=True):
    """(Keras name, torch dtype) of the result for operands given by their torch dtypes or, for
    Python numbers, their types (see `operands`)."""
    return _resolve(keys, rule, weak, config.floatx())


def operands(*xs, rule=None, weak=True, scalar_last=False):
    """The operands as tensors of one dtype, and that dtype's Keras name.

    The dtype is `promote` over the operands' dtypes (Python numbers weak), then `rule(dtype)`
    when given. `weak=False` counts Python numbers as int32/float32 arrays, as where Keras
    calls `result_type(x1.dtype, x2.dtype, float)` on JAX's converted operands. A Python number
    becomes a 0-d CPU tensor (torch mixes those with tensors on any device, no copy to the
    device), or stays a number when it is the last operand and `scalar_last` (the op takes a
    Python scalar).
    """
    xs = [x if type(x) in _PYTHON else convert_to_tensor(x) for x in xs]
    keys = tuple(type(x) if type(x) in _PYTHON else x.dtype for x in xs)
    dtype, dt = _resolve(keys, rule, weak, config.floatx())
    numbers = [type(x) in _PYTHON for x in xs]
    if not any(numbers):
        return [x if x.dtype == dt else x.to(dt) for x in xs], dtype
    if all(numbers):  # numbers only: tensors on the device
        return [torch.tensor(x, dtype=dt, device=config.device()) for x in xs], dtype
    out = []
    last = len(xs) - 1
    for i, (x, number) in enumerate(zip(xs, numbers)):
        if not number:
            out.append(x if x.dtype == dt else x.to(dt))
        elif scalar_last and i == last:  # torch refuses a bool scalar in most arithmetic
            out.append(int(x) if type(x) is bool and dtype != "bool" else x)
        else:
            out.append(torch.tensor(x, dtype=dt))
    return out, dtype


def pair(x1, x2, rule=None, weak=True, scalar_last=False):
    """`operands(x1, x2, ...)`, with shortcuts for the common cases: two tensors, and a tensor
    with a Python number the op takes as it is."""
    if type(x2) in _PYTHON and scalar_last and type(x2) is not bool and \
            type(x1) not in _PYTHON:
        x1 = convert_to_tensor(x1)
        dtype, dt = _resolve((x1.dtype, type(x2)), rule, weak, config.floatx())
        return (x1 if x1.dtype == dt else x1.to(dt), x2), dtype
    if type(x1) in _PYTHON or type(x2) in _PYTHON:
        return operands(x1, x2, rule=rule, weak=weak, scalar_last=scalar_last)
    x1 = convert_to_tensor(x1)
    x2 = convert_to_tensor(x2)
    dtype, dt = _resolve((x1.dtype, x2.dtype), rule, weak, config.floatx())
    return (x1 if x1.dtype == dt else x1.to(dt), x2 if x2.dtype == dt else x2.to(dt)), dtype


def no_bool(dtype):
    """Rule: bool results become int32 (Keras on JAX for `power`, `mod`, `floor_divide`...)."""
    return "int32" if dtype == "bool" else dtype
