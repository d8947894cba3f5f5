"""Helpers of the Layer base: Keras weight views, shape utilities, input inspection."""

from typing import Callable, NamedTuple

import numpy as np
import torch

from kerastorch import config


class WeightView(NamedTuple):
    """One Keras variable and the torch tensor that stores it.

    `to_keras(tensor)` gives Keras' layout, `from_keras(array)` the torch layout; `None` = same.
    """

    name: str
    tensor: torch.Tensor
    to_keras: Callable | None = None
    from_keras: Callable | None = None

    def keras_value(self) -> torch.Tensor:
        t = self.tensor.detach()
        return self.to_keras(t) if self.to_keras else t

    def assign(self, value) -> None:
        value = torch.as_tensor(np.asarray(value))
        value = self.from_keras(value) if self.from_keras else value
        with torch.no_grad():
            self.tensor.copy_(value.to(self.tensor.dtype))


def transposed(name: str, tensor: torch.Tensor) -> WeightView:
    """A 2-D weight stored (out, in) by torch and (in, out) by Keras."""
    return WeightView(name, tensor, lambda t: t.T, lambda a: a.T)


class InputShapeError(ValueError):
    """An input whose shape does not fit the layer; names the layer and both shapes."""


def standardize_shape(shape) -> tuple:
    if shape is None:
        return None
    if isinstance(shape, int):
        return (shape,)
    return tuple(None if d is None else int(d) for d in shape)


def _holds_numpy(x) -> bool:
    if isinstance(x, (list, tuple)):
        return any(isinstance(v, np.ndarray) for v in x)
    if isinstance(x, dict):
        return any(isinstance(v, np.ndarray) for v in x.values())
    return False


def _numpy_to_tensors(x, device):
    if isinstance(x, np.ndarray):
        return config.to_tensor(x, device_=device)
    if isinstance(x, (list, tuple)):
        return type(x)(_numpy_to_tensors(v, device) for v in x)
    if isinstance(x, dict):
        return {k: _numpy_to_tensors(v, device) for k, v in x.items()}
    return x


def _cast_floats(x, dtype):
    """`x` (a tensor, or lists/tuples/dicts of them) with its floating tensors cast to `dtype`
    (Keras casts every floating input of a layer to its compute dtype); masks stay on."""
    if isinstance(x, torch.Tensor):
        if x.dtype is dtype or not x.is_floating_point():
            return x
        mask = x.__dict__.get("_keras_mask")
        x = x.to(dtype)
        if mask is not None:
            x._keras_mask = mask
        return x
    if isinstance(x, (list, tuple)):
        cast = [_cast_floats(v, dtype) for v in x]
        if all(a is b for a, b in zip(cast, x)):
            return x
        return type(x)(*cast) if hasattr(x, "_fields") else type(x)(cast)
    if isinstance(x, dict):
        cast = {k: _cast_floats(v, dtype) for k, v in x.items()}
        return x if all(cast[k] is x[k] for k in x) else cast
    return x


def _mask_of(x):
    if isinstance(x, torch.Tensor):
        return x.__dict__.get("_keras_mask")
    if isinstance(x, (list, tuple)) and x and isinstance(x[0], torch.Tensor):
        masks = [t.__dict__.get("_keras_mask") for t in x]
        return None if all(m is None for m in masks) else masks
    return None


def _is_symbolic(x) -> bool:
    """True when the first leaf of `x` (a tensor or nested lists/dicts) is a KerasTensor."""
    from kerastorch.layers.input_layer import KerasTensor
    while True:
        if isinstance(x, KerasTensor):
            return True
        if isinstance(x, (list, tuple)) and x:
            x = x[0]
        elif isinstance(x, dict) and x:
            x = next(iter(x.values()))
        else:
            return False


def _shapes_of(x):
    if isinstance(x, (list, tuple)):
        return [_shapes_of(t) for t in x]
    if isinstance(x, dict):
        return {k: _shapes_of(v) for k, v in x.items()}
    if hasattr(x, "shape"):
        return tuple(x.shape)
    return None


def _device_of(x):
    if isinstance(x, torch.Tensor):
        return x.device
    if isinstance(x, (list, tuple)) and x:
        return _device_of(x[0])
    if isinstance(x, dict) and x:
        return _device_of(next(iter(x.values())))
    return None
