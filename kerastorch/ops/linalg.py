"""`keras.ops.linalg` on torch: factorizations (Cholesky, LU, QR, SVD, eigen-decompositions),
inverses and solvers, determinants, norms, ranks and forward-mode `jvp`.

Numbers and dtypes follow Keras 3 on JAX: integer and boolean matrices are solved in `floatx()`
(mixed inputs promote together), half-precision ones are computed in float32 and answered in
their own dtype. Like JAX, singular systems give inf/NaN instead of raising (torch's `*_ex`
variants, which also skip a host sync); only `cholesky` refuses a non-positive-definite input.
"""

import torch
from torch.utils import _pytree

from kerastorch.ops._args import axis_indices as _axis_indices
from kerastorch.ops.core import convert_to_tensor as _tensor
from kerastorch.ops.math import _float_dtype

__all__ = [
    "cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "jvp", "lstsq", "lu_factor",
    "matrix_rank", "norm", "pinv", "qr", "solve", "solve_triangular", "svd",
]

_HALF = (torch.float16, torch.bfloat16)


def _floats(*xs):
    """The inputs as tensors of the dtype torch computes in (float32 for half precision) and
    the dtype to answer in, their common floating dtype."""
    xs = [_tensor(x) for x in xs]
    dtype = _float_dtype(*(x.dtype for x in xs))
    work = torch.float32 if dtype in _HALF else dtype
    return [x.to(work) for x in xs], dtype


def _answer(x, dtype):
    """`x` (computed in float32) back in the half-precision dtype asked for; else as is."""
    return x.to(dtype) if dtype in _HALF else x


def _matrices(x):
    if x.ndim < 2:
        raise ValueError("Expected input to have rank >= 2. "
                         f"Received input with shape {tuple(x.shape)}.")


def _square(x):
    _matrices(x)
    if x.shape[-1] != x.shape[-2]:
        raise ValueError("Expected a square matrix. "
                         f"Received non-square input with shape {tuple(x.shape)}")


def _one_float(x, square=True):
    (x,), dtype = _floats(x)
    (_square if square else _matrices)(x)
    return x, dtype


def cholesky(x, upper=False):
    """Cholesky factor of positive-definite matrices: lower `L` with `x = L L^H`, or upper
    `U` with `x = U^H U`; raises `ValueError` when the factorization fails."""
    x, dtype = _one_float(x)
    factor, info = torch.linalg.cholesky_ex(x, upper=upper)
    if bool((info != 0).any() | torch.isnan(factor).any()):  # one host read, as Keras' check
        raise ValueError("Cholesky decomposition failed: Cholesky decomposition failed. "
                         "The input might not be a valid positive definite matrix.")
    return _answer(factor, dtype)


def cholesky_inverse(x, upper=False):
    """Inverse of `A` from its Cholesky factor `x` (lower unless `upper`)."""
    x, dtype = _one_float(x)
    return _answer(torch.cholesky_inverse(x, upper=upper), dtype)


def det(x):
    """Determinants of square matrices `(..., M, M)`."""
    x, dtype = _one_float(x)
    return _answer(torch.linalg.det(x), dtype)


def eig(x):
    """Eigenvalues and right eigenvectors of general square matrices (complex tensors)."""
    x, _ = _one_float(x)
    values, vectors = torch.linalg.eig(x)
    return values, vectors


def eigh(x):
    """Eigenvalues (ascending) and eigenvectors of Hermitian matrices."""
    x, dtype = _one_float(x)
    # JAX symmetrizes its input ((x + x^H) / 2) where torch reads the lower triangle only.
    x = (x + x.mH) / 2
    values, vectors = torch.linalg.eigh(x)
    return _answer(values, dtype), _answer(vectors, dtype)


def inv(x):
    """Inverses of square matrices (inf/NaN entries for singular ones, as in Keras on JAX)."""
    x, dtype = _one_float(x)
    return _answer(torch.linalg.inv_ex(x).inverse, dtype)


def lu_factor(x):
    """LU factorization with partial pivoting: the packed `LU` matrix and the 0-based int32
    row pivots (scipy's convention; torch counts from 1)."""
    x, dtype = _one_float(x, square=False)
    lu, pivots, _ = torch.linalg.lu_factor_ex(x)
    return _answer(lu, dtype), (pivots - 1).to(torch.int32)


_MATRIX_ORDS = (None, "fro", "nuc", float("inf"), float("-inf"), 1, -1, 2, -2)


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector norm over one axis, matrix norm over two (numpy's `ord` values); with no axis,
    the 2-norm of the flattened input or, given an `ord`, the norm of a 1-D/2-D input."""
    x = _tensor(x)
    if isinstance(ord, str) and ord not in ("fro", "nuc"):
        raise ValueError("Invalid `ord` argument. Expected one of {'fro', 'nuc'} when using "
                         f"string. Received: ord={ord}")
    dtype = _float_dtype(x.dtype)  # integers and booleans: floatx(), int64 included
    x = x.to(dtype)
    if axis is None:
        if ord is None:
            out = torch.linalg.vector_norm(x, 2)
            return out.reshape((1,) * x.ndim) if keepdims else out
        axis = tuple(range(x.ndim))
    axes = _axis_indices(axis, x.ndim)
    if len(axes) == 1:
        if isinstance(ord, str):
            raise ValueError(f"Invalid `ord` argument for vector norm. Received: ord={ord}")
        return torch.linalg.vector_norm(x, 2 if ord is None else ord, dim=axes,
                                        keepdim=keepdims)
    if len(axes) != 2:
        raise ValueError(f"Improper number of axes for norm: axis={axis}. Pass one axis to "
                         "compute a vector-norm, or two axes to compute a matrix-norm.")
    if ord not in _MATRIX_ORDS:
        raise ValueError(f"Invalid `ord` argument for matrix norm. Received: ord={ord}")
    ord = "fro" if ord is None else ord
    if not isinstance(ord, str) and abs(ord) != float("inf"):
        ord = int(ord)
    work = torch.float32 if dtype in _HALF else None  # torch's matrix norms refuse half
    out = torch.linalg.matrix_norm(x if work is None else x.to(work), ord, dim=axes,
                                   keepdim=keepdims)
    return out if work is None else out.to(dtype)


def qr(x, mode="reduced"):
    """QR factorization `x = Q R`; `mode` is "reduced" (`Q`: `(..., M, K)`) or "complete"."""
    if mode not in ("reduced", "complete"):
        raise ValueError("`mode` argument value not supported. Expected one of "
                         f"{{'reduced', 'complete'}}. Received: mode={mode}")
    x, dtype = _one_float(x, square=False)
    q, r = torch.linalg.qr(x, mode=mode)
    return _answer(q, dtype), _answer(r, dtype)


def solve(a, b):
    """`x` with `a @ x = b`; `b` is a vector when 1-D, else matrices `(..., M, K)`; batch
    axes broadcast."""
    (a, b), dtype = _floats(a, b)
    _square(a)
    if b.ndim == 0:
        raise ValueError(f"Expected input to have rank >= 1. Received scalar input {b}.")
    if b.ndim > 1 and b.ndim == a.ndim - 1:
        # numpy 2 / JAX read a b of rank >= 2 as matrices: keep torch from taking it as a
        # batch of vectors
        b = b.unsqueeze(0)
    return _answer(torch.linalg.solve_ex(a, b, check_errors=False).result, dtype)


def solve_triangular(a, b, lower=False):
    """`x` with `a @ x = b` for triangular `a` (only its lower or upper triangle is read)."""
    (a, b), dtype = _floats(a, b)
    _square(a)
    if b.ndim == 0:
        raise ValueError(f"Expected input to have rank >= 1. Received scalar input {b}.")
    vector = b.ndim == 1 or (a.ndim == b.ndim + 1 and a.shape[-1] == b.shape[-1])
    if vector:
        b = b.unsqueeze(-1)
    out = torch.linalg.solve_triangular(a, b, upper=not lower)
    return _answer(out.squeeze(-1) if vector else out, dtype)


def svd(x, full_matrices=True, compute_uv=True):
    """Singular value decomposition `x = U diag(S) V^H`: `(U, S, V^H)`, or `S` alone."""
    x, dtype = _one_float(x, square=False)
    if not compute_uv:
        return _answer(torch.linalg.svdvals(x), dtype)
    u, s, vh = torch.linalg.svd(x, full_matrices=full_matrices)
    return _answer(u, dtype), _answer(s, dtype), _answer(vh, dtype)


def lstsq(a, b, rcond=None):
    """Least-squares solution of `a @ x = b` for one matrix `a` `(M, N)` and `b` `(M,)` or
    `(M, K)`; singular values below `rcond * largest` are ignored (numpy's default rcond)."""
    (a, b), dtype = _floats(a, b)
    if a.ndim != 2:
        raise ValueError(f"Expected a to have rank 2. Received: a.shape={tuple(a.shape)}")
    if b.ndim not in (1, 2):
        raise ValueError(f"Expected b to have rank 1 or 2. Received: b.shape={tuple(b.shape)}")
    if b.shape[0] != a.shape[0]:
        raise ValueError("Expected b.shape[0] to be equal to a.shape[0]. Received: "
                         f"a.shape={tuple(a.shape)}, b.shape={tuple(b.shape)}")
    column = b.ndim == 1
    if column:
        b = b[:, None]
    m, n = a.shape
    if a.numel() == 0:
        out = a.new_zeros((n, b.shape[1]))
    else:
        # SVD-based as numpy/JAX (torch's default CPU driver, gelsy, ranks by QR instead and
        # CUDA's gels has no cutoff at all).
        eps = torch.finfo(a.dtype).eps
        cutoff = eps * max(m, n) if rcond is None else (eps if rcond < 0 else rcond)
        u, s, vh = torch.linalg.svd(a, full_matrices=False)
        keep = (s > 0) & (s >= cutoff * s[0])
        s_inv = torch.where(keep, 1 / torch.where(keep, s, torch.ones_like(s)),
                            torch.zeros_like(s))
        out = vh.mH @ (s_inv[:, None] * (u.mH @ b))
    return _answer(out[:, 0] if column else out, dtype)


def matrix_rank(x, tol=None):
    """Number of singular values above `tol` (absolute; default `eps * max(M, N) * S_max`),
    as int32."""
    x, _ = _one_float(x, square=False)
    if tol is None:
        rank = torch.linalg.matrix_rank(x)
    else:
        rank = torch.linalg.matrix_rank(x, atol=tol, rtol=0.0)
    return rank.to(torch.int32)


def pinv(x, rcond=None):
    """Moore-Penrose pseudo-inverse; singular values below `rcond * largest` are dropped."""
    x, dtype = _one_float(x, square=False)
    if rcond is None:
        # JAX's default cutoff is 10x torch's (and numpy's 1e-15 is different again)
        rcond = 10.0 * max(x.shape[-2:]) * torch.finfo(x.dtype).eps
    return _answer(torch.linalg.pinv(x, rtol=rcond), dtype)


def jvp(fun, primals, tangents, has_aux=False):
    """Forward-mode Jacobian-vector product: `(fun(*primals), J @ tangents)` (and `aux`)."""
    def leaves(tree):
        return tuple(_pytree.tree_map(_tensor, tuple(tree)))

    return torch.func.jvp(fun, leaves(primals), leaves(tangents), has_aux=has_aux)
