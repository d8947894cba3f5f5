"""The `Initializer` base class, the initializer registry and the shape/dtype helpers shared by
the constant and random initializers."""

import numbers

import numpy as np
import torch

from kerastorch import config
from kerastorch.utils.registry import Registry

INITIALIZERS = Registry("initializer")


class Initializer:
    """Base class: subclasses implement `__call__(shape, dtype=None)` and `get_config()`."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError("Initializer subclasses must implement the `__call__()` method.")

    def get_config(self):
        """A JSON-serializable dict of the constructor arguments."""
        return {}

    @classmethod
    def from_config(cls, config_):
        return cls(**config_)

    def clone(self):
        """A new instance with the same config (an unseeded one draws a new seed)."""
        return self.__class__.from_config(self.get_config())

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _to_dtype(dtype):
    if dtype is None:
        return config.float_dtype()
    if isinstance(dtype, torch.dtype):
        return dtype
    if isinstance(dtype, str) and isinstance(getattr(torch, dtype, None), torch.dtype):
        return getattr(torch, dtype)
    try:
        return torch.from_numpy(np.zeros(0, dtype=dtype)).dtype
    except TypeError:
        raise ValueError(f"Unknown dtype for an initializer. Received: dtype={dtype!r}") from None


def _to_shape(shape):
    if isinstance(shape, numbers.Integral):
        return (int(shape),)
    return tuple(int(d) for d in shape)
