"""keras.ops.nn: patches (placeholder: re-exports the old implementation)."""

from kerastorch.ops._nn_old import (  # noqa: F401
    depth_to_space,
    space_to_depth,
    fold,
    unfold,
)

__all__ = [
    "depth_to_space",
    "space_to_depth",
    "fold",
    "unfold",
]
