"""`keras.ops.view_as_complex` / `view_as_real` (defined at Keras' ops level)."""

import torch

from kerastorch.ops.core import convert_to_tensor


def view_as_complex(x):
    """Real tensor with a last axis of 2 (real, imaginary) -> complex tensor."""
    x = convert_to_tensor(x)
    if x.ndim < 1 or x.shape[-1] != 2:
        raise ValueError("Last dimension of input must be size 2 (real and imaginary). "
                         f"Received shape: {tuple(x.shape)}")
    if x.dtype not in (torch.float32, torch.float64):
        x = x.float()
    return torch.view_as_complex(x.contiguous())


def view_as_real(x):
    """Complex tensor -> real tensor with a last axis of 2 (real, imaginary)."""
    x = convert_to_tensor(x)
    if not x.is_complex():
        return torch.stack((x, torch.zeros_like(x)), dim=-1)
    return torch.view_as_real(x)
