"""keras.ops.nn: normalization (placeholder: re-exports the old implementation)."""

from kerastorch.ops._nn_old import (  # noqa: F401
    batch_normalization,
    moments,
    layer_normalization,
    rms_normalization,
    normalize,
    polar,
    psnr,
)

__all__ = [
    "batch_normalization",
    "moments",
    "layer_normalization",
    "rms_normalization",
    "normalize",
    "polar",
    "psnr",
]
