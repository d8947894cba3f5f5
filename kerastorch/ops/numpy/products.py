"""keras.ops.numpy: products and contractions (`matmul`, `dot`, `tensordot`, `einsum`,
`inner`, `outer`, `vdot`, `cross`, `kron`), `trace`, `slogdet`, and `vectorize` (defined in
`kerastorch.ops.numpy.vectorize`). Results take Keras' promotion of the operands' dtypes
(int8 x int8 gives int32 in `matmul` and `einsum`). Where torch has no kernel for that dtype
(booleans anywhere, integers off the CPU) the contraction runs in a float dtype wide enough to
be exact, then is cast back.
"""

import torch

from kerastorch.ops._args import axis_index
from kerastorch.ops._dtypes import is_int_dtype, result_type, standardize_dtype, to_torch_dtype
from kerastorch.ops.core import convert_to_tensor
from kerastorch.ops.numpy.vectorize import vectorize

__all__ = [
    "cross",
    "dot",
    "einsum",
    "inner",
    "kron",
    "matmul",
    "outer",
    "tensordot",
    "trace",
    "vdot",
    "slogdet",
    "vectorize",
]


def _run_dtype(out: str, device) -> torch.dtype:
    """The torch dtype a contraction with result dtype `out` runs in on `device`."""
    if out == "bool":
        return torch.float32  # counts of True products: only "nonzero" matters
    if is_int_dtype(out) and device.type != "cpu":
        # integer matmul kernels exist on the CPU only; float64 is exact up to 2**53
        return torch.float32 if device.type == "mps" else torch.float64
    return to_torch_dtype(out)


def _as(x, dtype: torch.dtype):
    return x if x.dtype == dtype else x.to(dtype)


def _contract(fn, out: str, *xs):
    """`fn(*xs)` computed in `_run_dtype(out)` and returned as `out`."""
    run = _run_dtype(out, xs[0].device)
    return _as(fn(*(_as(x, run) for x in xs)), to_torch_dtype(out))


def _pair(x1, x2):
    x1, x2 = convert_to_tensor(x1), convert_to_tensor(x2)
    return x1, x2, result_type(x1.dtype, x2.dtype)


def _int8_mm_fits(x1, x2) -> bool:
    """Whether torch's CUDA int8 GEMM (`torch._int_mm`, int32 accumulation) takes these
    operands: 2-D, more than 16 rows, inner and outer sizes multiples of 8 (at least 16)."""
    if x1.device.type != "cuda" or x1.ndim != 2 or x2.ndim != 2:
        return False
    (m, k), n = x1.shape, x2.shape[1]
    return m > 16 and k >= 16 and k % 8 == 0 and n % 8 == 0


def matmul(x1, x2):
    """Matrix product with numpy's broadcasting of batch axes (1-D operands are vectors).
    int8 x int8 gives int32 (no overflow), other pairs Keras' promoted dtype."""
    x1, x2 = convert_to_tensor(x1), convert_to_tensor(x2)
    if x1.dtype == torch.int8 and x2.dtype == torch.int8:
        if _int8_mm_fits(x1, x2):
            try:
                return torch._int_mm(x1, x2)
            except RuntimeError:  # shapes or builds the kernel refuses: the general path
                pass
        out = "int32"
    else:
        out = result_type(x1.dtype, x2.dtype)
    return _contract(torch.matmul, out, x1, x2)


def dot(x1, x2):
    """numpy's `dot`: a product with a scalar, the matrix product for operands up to 2-D,
    and otherwise the sum over `x1`'s last axis and `x2`'s second-to-last axis."""
    x1, x2, out = _pair(x1, x2)
    if x1.ndim == 0 or x2.ndim == 0:
        dt = to_torch_dtype(out)
        return torch.mul(_as(x1, dt), _as(x2, dt))
    if x2.ndim <= 2:
        return _contract(torch.matmul, out, x1, x2)
    # torch.matmul would broadcast batch axes; numpy's dot pairs every row with every matrix
    return _contract(lambda a, b: torch.tensordot(a, b, dims=([a.ndim - 1], [b.ndim - 2])),
                     out, x1, x2)


def tensordot(x1, x2, axes=2):
    """Sum of products over the last `axes` axes of `x1` and the first of `x2`, or over the
    axes listed in `axes=(axes_of_x1, axes_of_x2)` (an int or a list each)."""
    x1, x2, out = _pair(x1, x2)
    if isinstance(axes, (list, tuple)):
        first, second = axes
        axes = ([first] if isinstance(first, int) else list(first),
                [second] if isinstance(second, int) else list(second))
    return _contract(lambda a, b: torch.tensordot(a, b, dims=axes), out, x1, x2)


def inner(x1, x2):
    """Sum of products over the last axes of `x1` and `x2` (a product when one is a
    scalar)."""
    x1, x2, out = _pair(x1, x2)
    return _contract(torch.inner, out, x1, x2)


def vdot(x1, x2):
    """Dot product of the flattened `x1` and `x2`, conjugating `x1` when complex."""
    x1, x2, out = _pair(x1, x2)
    return _contract(torch.vdot, out, x1.reshape(-1), x2.reshape(-1))


def outer(x1, x2):
    """Outer product of the flattened `x1` and `x2`: `out[i, j] = x1[i] * x2[j]`."""
    x1, x2, out = _pair(x1, x2)
    dt = to_torch_dtype(out)
    x1 = x1 if x1.ndim == 1 else x1.reshape(-1)
    x2 = x2 if x2.ndim == 1 else x2.reshape(-1)
    return torch.outer(_as(x1, dt), _as(x2, dt))


_EINSUM_OPTIONS = frozenset({"optimize", "precision", "preferred_element_type"})


def einsum(subscripts, *operands, **kwargs):
    """Einstein summation over `operands` as `subscripts` describes (`"ij,jk->ik"`,
    ellipses and implicit outputs included). Only int8 operands give int32 (no overflow),
    others Keras' promoted dtype. XLA's tuning options (`optimize`, `precision`,
    `preferred_element_type`) are accepted and have no effect."""
    unknown = set(kwargs) - _EINSUM_OPTIONS
    if unknown:
        raise TypeError(f"einsum() got unexpected keyword arguments: {sorted(unknown)}")
    tensors = [convert_to_tensor(x) for x in operands]
    if tensors and all(t.dtype == torch.int8 for t in tensors):
        out = "int32"
    else:
        out = result_type(*(t.dtype for t in tensors))
    return _contract(lambda *xs: torch.einsum(subscripts, *xs), out, *tensors)


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of the vectors of `x1` (along `axisa`) and `x2` (along `axisb`), laid
    along `axisc`; `axis` sets all three. Vectors have 3 or 2 components (a 2-vector has a
    zero third component; two 2-vectors give the scalar z component), batch axes
    broadcast."""
    if axis is not None:
        axisa = axisb = axisc = axis
    x1, x2, out = _pair(x1, x2)
    dt = to_torch_dtype(out)
    a = torch.movedim(_as(x1, dt), axisa, -1)
    b = torch.movedim(_as(x2, dt), axisb, -1)
    if a.shape[-1] not in (2, 3) or b.shape[-1] not in (2, 3):
        raise ValueError("Dimension must be either 2 or 3 for cross product. Received: "
                         f"x1.shape={tuple(x1.shape)}, x2.shape={tuple(x2.shape)}")
    a0, a1, b0, b1 = a[..., 0], a[..., 1], b[..., 0], b[..., 1]
    z = a0 * b1 - a1 * b0
    if a.shape[-1] == 2 and b.shape[-1] == 2:
        return z
    if a.shape[-1] == 3 and b.shape[-1] == 3:
        a2, b2 = a[..., 2], b[..., 2]
        x, y = a1 * b2 - a2 * b1, a2 * b0 - a0 * b2
    elif a.shape[-1] == 3:  # b's third component is 0
        a2 = a[..., 2]
        x, y = -(a2 * b1), a2 * b0
    else:  # a's third component is 0
        b2 = b[..., 2]
        x, y = a1 * b2, -(a0 * b2)
    return torch.movedim(torch.stack((x, y, z), dim=-1), -1, axisc)


def kron(x1, x2):
    """Kronecker product: blocks `x1[i, j] * x2` (the operand of fewer axes gets leading
    ones)."""
    x1, x2, out = _pair(x1, x2)
    dt = to_torch_dtype(out)
    return torch.kron(_as(x1, dt), _as(x2, dt))


def trace(x, offset=0, axis1=0, axis2=1):
    """Sum along the `offset` diagonal of the `axis1`/`axis2` planes. Booleans and integers
    narrower than 32 bits sum as int32 (Keras' torch rule: unsigned ones too, torch having no
    uint32)."""
    x = convert_to_tensor(x)
    first, second = axis_index(axis1, x.ndim), axis_index(axis2, x.ndim)
    if first == second:
        raise ValueError("`axis1` and `axis2` must be different. "
                         f"Received: axis1={axis1}, axis2={axis2}")
    dtype = standardize_dtype(x.dtype)
    if dtype in ("bool", "int8", "int16", "uint8", "uint16"):
        dtype = "int32"
    diagonal = torch.diagonal(x, offset=offset, dim1=first, dim2=second)
    return torch.sum(diagonal, dim=-1, dtype=to_torch_dtype(dtype))


def slogdet(x):
    """`(sign, log|det|)` of the square matrices in `x`'s last two axes. Integer and boolean
    inputs give float results; float16/bfloat16 are computed in float32 (torch's LU takes no
    half precision) and returned in their own dtype."""
    x = convert_to_tensor(x)
    out = standardize_dtype(x.dtype)
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        out = result_type(out, float)
    run = torch.float32 if out in ("float16", "bfloat16") else to_torch_dtype(out)
    sign, logabsdet = torch.linalg.slogdet(x.to(run))
    target = to_torch_dtype(out)
    return sign.to(target), logabsdet.to(target)
