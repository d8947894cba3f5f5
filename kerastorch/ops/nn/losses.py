"""keras.ops.nn: losses (placeholder: re-exports the old implementation)."""

from kerastorch.ops._nn_old import (  # noqa: F401
    binary_crossentropy,
    categorical_crossentropy,
    sparse_categorical_crossentropy,
    ctc_loss,
    ctc_decode,
    one_hot,
    multi_hot,
)

__all__ = [
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "ctc_loss",
    "ctc_decode",
    "one_hot",
    "multi_hot",
]
