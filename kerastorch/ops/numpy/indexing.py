"""keras.ops.numpy: indexing (placeholder: re-exports the old implementation)."""

from kerastorch.ops._numpy_old import (  # noqa: F401
    diag,
    diagflat,
    diagonal,
    get_item,
    pad,
    select,
    take,
    take_along_axis,
    tril,
    triu,
    unravel_index,
    where,
)

__all__ = [
    "diag",
    "diagflat",
    "diagonal",
    "get_item",
    "pad",
    "select",
    "take",
    "take_along_axis",
    "tril",
    "triu",
    "unravel_index",
    "where",
]
