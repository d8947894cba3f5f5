"""`RMSNormalization`: `x * rsqrt(mean(x**2, axis) + epsilon) * scale`; torch's `nn.RMSNorm`."""

import torch
import torch.nn.functional as F
from torch import nn

from kerastorch.layers.layer import Layer
from kerastorch.layers.layer_utils import WeightView


class RMSNormalization(Layer):
    """Root-mean-square normalization (Zhang & Sennrich, 2019), as Keras computes it:
    `x * rsqrt(mean(square(x), axis=axis, keepdims=True) + epsilon) * scale`, in at least
    float32, cast back to the input's dtype.

    Args:
        axis: Int or list of ints, the axes to normalize over (default -1). After `build` it
            is a sorted list, as in Keras (so is the `axis` of `get_config`).
        epsilon: Added to the mean square (default 1e-6; torch's `nn.RMSNorm` defaults to the
            dtype's machine epsilon).

    Weights: `scale` (ones), of shape `[input_shape[a] for a in axis]`; stored as `weight`, so
    with a trailing `axis` `state_dict()` loads into `nn.RMSNorm(shape, eps=epsilon)`. Trailing
    contiguous axes run torch's fused `F.rms_norm`; others broadcast `scale` against the
    trailing dimensions, as Keras does.
    """

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        axes = axis if isinstance(axis, (list, tuple)) else [axis]
        if not axes or any(isinstance(a, bool) or not isinstance(a, int) for a in axes):
            raise TypeError("RMSNormalization: `axis` must be an int or a list of ints. "
                            f"Received: axis={axis!r}")
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        ndim = len(input_shape)
        axes = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        for a in axes:
            if not -ndim <= a < ndim:
                raise ValueError(f"Axis {a} is out of bounds for input shape "
                                 f"{tuple(input_shape)}. Received: axis={self.axis}")
        shape = tuple(input_shape[a] for a in axes)
        if any(d is None for d in shape):
            raise ValueError(f"Layer '{self.name}' (RMSNormalization): the normalized axes must "
                             f"be known. Received: input_shape={tuple(input_shape)}")
        self.axis = axes
        positive = sorted(a % ndim for a in axes)
        self._fused = positive == list(range(ndim - len(axes), ndim))
        self._reduce = tuple(positive)
        self._shape = shape
        self.weight = nn.Parameter(torch.ones(shape))
        self.built = True

    @property
    def scale(self):  # Keras' name for the same storage
        return self.weight

    def keras_weight_views(self):
        return [WeightView("scale", self.weight)] if self.built else []

    def call(self, inputs):
        dtype = inputs.dtype
        x = inputs if dtype in (torch.float32, torch.float64) else inputs.float()
        scale = self.weight.to(x.dtype)
        if self._fused:
            out = F.rms_norm(x, self._shape, scale, self.epsilon)
        else:
            rrms = torch.rsqrt(x.square().mean(dim=self._reduce, keepdim=True) + self.epsilon)
            out = x * rrms * scale
        return out if out.dtype == dtype else out.to(dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}
