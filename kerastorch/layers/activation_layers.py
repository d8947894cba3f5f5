"""Activation layers: `ReLU`, `LeakyReLU`, `PReLU`, `ELU`, `Softmax`.

(`Activation` and `Identity` live in `layers/core.py`.)
"""

import warnings

import torch
import torch.nn.functional as F
from torch import nn

from kerastorch import activations
from kerastorch.layers.layer import Layer, WeightView
from kerastorch.layers.weight_options import set_weight_options, weight_options_config


class _Elementwise(Layer):
    """Shape-preserving, mask-preserving, weightless."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.built = True

    def compute_output_shape(self, input_shape):
        return input_shape


class ReLU(_Elementwise):
    """Rectified linear unit: `max_value`-capped `x` above `threshold`,
    `negative_slope * (x - threshold)` below.

    Args:
        max_value: Optional float >= 0, the largest output.
        negative_slope: Float >= 0 (default 0).
        threshold: Float >= 0 (default 0).

    With the defaults this is `torch.relu`; `ReLU(max_value=6)` is `F.relu6`.
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0.0:
            raise ValueError("max_value of a ReLU layer cannot be a negative value. "
                             f"Received: max_value={max_value}")
        if negative_slope is None or negative_slope < 0.0:
            raise ValueError("negative_slope of a ReLU layer cannot be None or a negative "
                             f"value. Received: negative_slope={negative_slope}")
        if threshold is None or threshold < 0.0:
            raise ValueError("threshold of a ReLU layer cannot be None or a negative value. "
                             f"Received: threshold={threshold}")
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold

    def call(self, inputs):
        return activations.relu(inputs, negative_slope=self.negative_slope,
                                max_value=self.max_value, threshold=self.threshold)

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}


class LeakyReLU(_Elementwise):
    """`x` if `x >= 0` else `negative_slope * x`.

    Args:
        negative_slope: Float >= 0. Keras' layer default is 0.3 (its `leaky_relu` function:
            0.2; torch's `nn.LeakyReLU`: 0.01). tf.keras 2's `alpha=` is accepted, with a
            warning.
    """

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.",
                          stacklevel=2)
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError("The negative_slope value of a Leaky ReLU layer cannot be None or "
                             f"negative value. Expected a float. Received: "
                             f"negative_slope={negative_slope}")
        self.negative_slope = negative_slope

    def call(self, inputs):
        return F.leaky_relu(inputs, self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(_Elementwise):
    """Exponential linear unit: `x` if `x > 0` else `alpha * (exp(x) - 1)`.

    Args:
        alpha: Scale of the negative part (default 1.0).
    """

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = alpha

    def call(self, inputs):
        return F.elu(inputs, self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(_Elementwise):
    """Softmax over `axis`, with an optional mask.

    Args:
        axis: Int or tuple of ints (default -1); a tuple normalises over those axes jointly.

    Call arguments:
        inputs: Logits.
        mask: Optional bool tensor broadcastable to `inputs` (1 = keep). As in Keras, masked
            logits are replaced by -1e9 (-3e4 in float16) before the softmax and masked outputs
            are set to 0. A float mask counts as True where > 0.5.
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs, mask=None):
        if mask is not None:
            if mask.dim() > inputs.dim() or any(
                    m != 1 and m != i for m, i in zip(mask.shape[::-1], inputs.shape[::-1])):
                raise ValueError(
                    f"Layer '{self.name}' (Softmax): the `mask` must be broadcastable to "
                    f"`inputs`. Received: inputs.shape={tuple(inputs.shape)}, "
                    f"mask.shape={tuple(mask.shape)}")
            if mask.dtype != torch.bool:
                mask = mask > 0.5
            large_negative = -30000.0 if inputs.dtype == torch.float16 else -1e9
            inputs = torch.where(mask, inputs, large_negative)
        axis = self.axis
        if isinstance(axis, (list, tuple)):
            if len(axis) > 1:
                outputs = torch.exp(inputs - torch.logsumexp(inputs, dim=tuple(axis),
                                                             keepdim=True))
            else:
                outputs = torch.softmax(inputs, dim=axis[0])
        else:
            outputs = torch.softmax(inputs, dim=axis)
        if mask is not None:
            outputs = torch.where(mask, outputs, 0.0)
        return outputs

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class PReLU(Layer):
    """Parametric ReLU: `x` if `x >= 0` else `alpha * x`, with a learned `alpha`.

    Args:
        alpha_initializer: Default `zeros` (torch's `nn.PReLU`: 0.25).
        alpha_regularizer, alpha_constraint: On Keras' `alpha`.
        shared_axes: Axes (1-based, batch = 0) along which one alpha is shared, e.g. `[1, 2]`
            for one alpha per channel of `(batch, h, w, channels)` images.

    State: `weight`. When alpha varies along one axis only (one alpha per channel, the usual
    case) or not at all, `weight` is 1-D, `(channels,)` or `(1,)`, exactly `nn.PReLU`'s
    parameter, and the layer runs `F.prelu` with that axis moved to dim 1. Otherwise `weight`
    has Keras' alpha shape (no torch module takes it). Keras' view is always the alpha shape
    `input_shape[1:]` with shared axes set to 1.
    """

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        set_weight_options(self, alpha_initializer=alpha_initializer,
                           alpha_regularizer=alpha_regularizer, alpha_constraint=alpha_constraint)
        self.shared_axes = shared_axes if shared_axes is None else \
            list(shared_axes) if isinstance(shared_axes, (list, tuple)) else [shared_axes]
        self._alpha_shape = None
        self._channel_axis = None  # input axis of a 1-D `weight`; None = Keras-shaped weight

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if not 1 <= axis <= len(shape):
                raise ValueError(f"Layer '{self.name}' (PReLU): shared axis {axis} is out of "
                                 f"range for inputs of shape {tuple(input_shape)}. Received: "
                                 f"shared_axes={self.shared_axes}")
            shape[axis - 1] = 1
        if any(d is None for d in shape):
            raise ValueError(f"Layer '{self.name}' (PReLU) needs known sizes on the non-shared "
                             f"axes. Received: input_shape={tuple(input_shape)}, "
                             f"shared_axes={self.shared_axes}")
        self._alpha_shape = tuple(shape)
        alpha = self.alpha_initializer(self._alpha_shape)
        varying = [i for i, d in enumerate(shape) if d != 1]
        if len(varying) <= 1:
            self._channel_axis = varying[0] + 1 if varying else 1
            alpha = alpha.reshape(-1)  # (channels,) or (1,): nn.PReLU's parameter
        self.weight = nn.Parameter(alpha)
        if self.alpha_regularizer is not None:
            self._weight_regularizers().append((self.alpha_regularizer, "weight"))
        if self.alpha_constraint is not None:
            self._weight_constraints().append((self.alpha_constraint, "weight"))
        self.built = True

    @property
    def alpha(self) -> torch.Tensor:
        """Keras' view of `weight`, shaped `input_shape[1:]` with shared axes set to 1."""
        return self.weight.reshape(self._alpha_shape)

    def call(self, inputs):
        axis = self._channel_axis
        if axis is None:
            return torch.relu(inputs) - self.weight * torch.relu(-inputs)
        if axis == 1 or self.weight.numel() == 1:
            return F.prelu(inputs, self.weight)
        return F.prelu(inputs.movedim(axis, 1), self.weight).movedim(1, axis)

    def keras_weight_views(self):
        shape = self._alpha_shape
        if self._channel_axis is None:
            return [WeightView("alpha", self.weight)]
        return [WeightView("alpha", self.weight, lambda t: t.reshape(shape),
                           lambda a: a.reshape(-1))]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(),
                **weight_options_config(self, "alpha_initializer", "alpha_regularizer",
                                        "alpha_constraint"),
                "shared_axes": self.shared_axes}

    def extra_repr(self):
        n = self.weight.numel() if self.built else None
        return f"name={self.name!r}, num_parameters={n}"

