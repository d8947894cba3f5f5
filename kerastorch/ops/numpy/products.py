"""keras.ops.numpy: products (placeholder: re-exports the old implementation)."""

from kerastorch.ops._numpy_old import (  # noqa: F401
    cross,
    dot,
    einsum,
    inner,
    kron,
    matmul,
    outer,
    tensordot,
    trace,
    vdot,
    slogdet,
    vectorize,
)

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
