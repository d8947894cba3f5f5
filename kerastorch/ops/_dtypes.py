"""Keras 3's dtype names and type promotion (`keras.backend.result_type`), for torch tensors.

The lattice is Keras' (adapted by Keras from JAX): Python `int`/`float` are *weak* types, so
`int32 tensor + 1.5 -> float32` and `bfloat16 tensor + 1 -> bfloat16`; 64-bit results are
narrowed to 32 bits as Keras does on JAX and torch (`int64 -> int32`, `float64 -> float32`).
"""

import functools

import torch

from kerastorch import config

BOOL_TYPES = ("bool",)
INT_TYPES = ("uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64")
FLOAT_TYPES = ("bfloat16", "float16", "float32", "float64")
WEAK_TYPES = ("int", "float")
COMPLEX_TYPES = ("complex64", "complex128")
FLOAT8_TYPES = ("float8_e4m3fn", "float8_e5m2")
ALLOWED_DTYPES = ("float16", "float32", "float64", "uint8", "uint16", "uint32", "uint64",
                  "int8", "int16", "int32", "int64", "bfloat16", "bool", "string",
                  "float8_e4m3fn", "float8_e5m2", "complex64", "complex128")
PYTHON_DTYPES_MAP = {bool: "bool", int: "int32", float: "float32", str: "string",
                     "int": "int32", complex: "complex64"}

# torch has no uint16/uint32 arithmetic to speak of: Keras' torch backend widens them.
TORCH_DTYPES = {
    "float16": torch.float16, "float32": torch.float32, "float64": torch.float64,
    "uint8": torch.uint8, "uint16": torch.int32, "uint32": torch.int64,
    "int8": torch.int8, "int16": torch.int16, "int32": torch.int32, "int64": torch.int64,
    "bfloat16": torch.bfloat16, "bool": torch.bool,
    "float8_e4m3fn": torch.float8_e4m3fn, "float8_e5m2": torch.float8_e5m2,
    "complex64": torch.complex64, "complex128": torch.complex128,
}
_TORCH_NAMES = {v: k for k, v in TORCH_DTYPES.items() if k not in ("uint16", "uint32")}


def standardize_dtype(dtype):
    """Keras' name for `dtype` (`torch.float32`, `np.int64`, `int`, `"float32"` ...)."""
    if dtype is None:
        return config.floatx()
    if isinstance(dtype, torch.dtype):
        name = _TORCH_NAMES.get(dtype)
        if name is None:
            raise ValueError(f"Invalid dtype: {dtype}")
        return name
    dtype = PYTHON_DTYPES_MAP.get(dtype, dtype)
    if hasattr(dtype, "name"):
        dtype = dtype.name
    elif hasattr(dtype, "__name__"):
        dtype = dtype.__name__
    elif "torch" in str(dtype) or "jax.numpy" in str(dtype):
        dtype = str(dtype).split(".")[-1]
    if dtype not in ALLOWED_DTYPES:
        raise ValueError(f"Invalid dtype: {dtype}. Expected one of {ALLOWED_DTYPES}.")
    return dtype


def to_torch_dtype(dtype):
    """The torch dtype for a Keras dtype name (or any dtype-like)."""
    if isinstance(dtype, torch.dtype):
        return dtype
    found = TORCH_DTYPES.get(standardize_dtype(dtype))
    if found is None:
        raise ValueError(f"Unsupported dtype for PyTorch: {dtype}")
    return found


def is_float_dtype(dtype):
    dtype = standardize_dtype(dtype)
    return dtype.startswith("float") or dtype.startswith("bfloat")


def is_int_dtype(dtype):
    dtype = standardize_dtype(dtype)
    return dtype.startswith("int") or dtype.startswith("uint")


def _type_promotion_lattice():
    (b1,) = BOOL_TYPES
    (u1, u2, u4, u8, i1, i2, i4, i8) = INT_TYPES
    bf, f2, f4, f8 = FLOAT_TYPES
    i_, f_ = WEAK_TYPES
    c64, c128 = COMPLEX_TYPES
    return {b1: [i_], u1: [i2, u2], u2: [i4, u4], u4: [i8, u8], u8: [f_], i_: [u1, i1, c64],
            i1: [i2], i2: [i4], i4: [i8], i8: [f_], f_: [bf, f2], bf: [f4], f2: [f4],
            f4: [f8, c64], f8: [c128], c64: [c128], c128: []}


def _upper_bounds():
    lattice = _type_promotion_lattice()
    bounds = {node: {node} for node in lattice}
    for n in lattice:
        while True:
            new = set().union(*(lattice[b] for b in bounds[n]))
            if new.issubset(bounds[n]):
                break
            bounds[n] |= new
    return bounds


_UB = _upper_bounds()


@functools.lru_cache(512)
def _least_upper_bound(*nodes):
    nodes = set(nodes)
    try:
        bounds = [_UB[n] for n in nodes]
    except KeyError:
        bad = next(n for n in nodes if n not in _UB)
        raise ValueError(f"dtype={bad!r} is not a valid dtype for Keras type promotion.")
    cub = set.intersection(*bounds)
    lub = (cub & nodes) or {c for c in cub if cub.issubset(_UB[c])}
    if len(lub) != 1:
        raise ValueError(f"Input dtypes {tuple(nodes)} have no available implicit dtype "
                         "promotion path. Try explicitly casting inputs to the desired "
                         "output type.")
    return lub.pop()


def _weak(dtype, weak):
    if not weak or dtype == "bool":
        return dtype
    for kind in ("float", "int", "complex"):
        if kind in dtype:
            return kind
    raise ValueError(f"Invalid value for argument `dtype`. Received: dtype={dtype}")


def _resolve_weak(dtype, precision):
    first = "f" if dtype == "bfloat16" else dtype[:1]
    if first == "b":
        return "bool"
    if first == "i":
        return f"int{precision}"
    if first == "u":
        return f"uint{precision}"
    return f"float{precision}"


_BIT64_TO_BIT32 = {"int64": "int32", "uint64": "uint32", "float64": "float32",
                   "complex128": "complex64"}


@functools.lru_cache(1024)
def _result_type_cached(args, floatx):
    pairs = [(standardize_dtype(a), a is int or a is float) for a in args]
    dtypes, weak = zip(*pairs)
    if len(dtypes) == 1:
        out, out_weak = dtypes[0], weak[0]
    elif len(set(dtypes)) == 1 and not all(weak):
        out, out_weak = dtypes[0], False
    elif all(weak):
        out, out_weak = _least_upper_bound(*{d for d in dtypes}), True
    else:
        out = _least_upper_bound(*{_weak(d, w) for d, w in zip(dtypes, weak)})
        out_weak = out in WEAK_TYPES
    if out != "bool" and out_weak:
        out = _resolve_weak(out, floatx[-2:])
    return _BIT64_TO_BIT32.get(out, out)


def result_type(*dtypes):
    """The dtype Keras' promotion rules give (`keras.backend.result_type`).

    Arguments are dtypes (any spelling) or the Python types `int`/`float` (weak types).
    With no argument: `floatx()`.
    """
    if not dtypes:
        return config.floatx()
    if any(d in FLOAT8_TYPES for d in dtypes if isinstance(d, str)):
        raise ValueError("There is no implicit conversions from float8 dtypes to others. "
                         f"You must cast it internally. Received: {dtypes}")
    floatx = config.floatx()
    args = tuple(floatx if d is None else (d if isinstance(d, (str, type)) else
                                             standardize_dtype(d)) for d in dtypes)
    return _result_type_cached(args, floatx)
