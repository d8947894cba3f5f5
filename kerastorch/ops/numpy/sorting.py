"""keras.ops.numpy: sorting (placeholder: re-exports the old implementation)."""

from kerastorch.ops._numpy_old import (  # noqa: F401
    argpartition,
    argsort,
    sort,
    searchsorted,
    digitize,
    unique,
    nonzero,
    histogram,
    bincount,
    corrcoef,
    correlate,
    diff,
)

__all__ = [
    "argpartition",
    "argsort",
    "sort",
    "searchsorted",
    "digitize",
    "unique",
    "nonzero",
    "histogram",
    "bincount",
    "corrcoef",
    "correlate",
    "diff",
]
