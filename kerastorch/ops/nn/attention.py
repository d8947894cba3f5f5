"""keras.ops.nn: attention (placeholder: re-exports the old implementation)."""

from kerastorch.ops._nn_old import (  # noqa: F401
    dot_product_attention,
)

__all__ = [
    "dot_product_attention",
]
