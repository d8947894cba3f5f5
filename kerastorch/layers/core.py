"""Core layers: `Dense`, `Activation`, `Identity`."""

import torch
import torch.nn.functional as F
from torch import nn

from kerastorch import activations
from kerastorch.layers.layer import InputShapeError, Layer, WeightView, transposed
from kerastorch.layers.weight_options import set_weight_options, weight_options_config


class Dense(Layer):
    """Densely connected layer: `activation(inputs @ kernel + bias)`; torch's `nn.Linear`.

    Args:
        units: Positive int, size of the output's last axis.
        activation: Name or callable; `None` means linear.
        use_bias: Whether to learn an additive bias.
        kernel_initializer: Name or initializer, applied to the Keras-shaped kernel
            `(input_dim, units)` (default `glorot_uniform`; torch's default differs).
        bias_initializer: Default `zeros`.
        kernel_regularizer, bias_regularizer, activity_regularizer: Penalties added to the loss.
        kernel_constraint, bias_constraint: Applied after each optimizer step.

    Input shape: `(batch, ..., input_dim)`. Output shape: `(batch, ..., units)`.

    State: `weight (units, input_dim)` and `bias (units,)` as in `nn.Linear`; `kernel` is the
    Keras view `weight.T`.
    """

    _float_inputs = True  # integer inputs are cast to the compute dtype

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None,
                 quantization_config=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValueError("Received an invalid value for `units`, expected a positive "
                             f"integer. Received: units={units!r}")
        if lora_rank or quantization_config:
            raise NotImplementedError("Dense(lora_rank=..., quantization_config=...) is not "
                                      "supported by kerastorch.")
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        set_weight_options(self, kernel_initializer=kernel_initializer,
                           bias_initializer=bias_initializer,
                           kernel_regularizer=kernel_regularizer,
                           bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                           bias_constraint=bias_constraint)
        self.supports_masking = True

    def build(self, input_shape):
        in_features = input_shape[-1]
        if in_features is None:
            raise ValueError(f"Layer '{self.name}' (Dense) needs a known last input dimension. "
                             f"Received: input_shape={input_shape}")
        # Initialised in Keras' (in, out) layout so fans and seeds mean what they mean in Keras,
        # then stored as nn.Linear stores it, (out, in).
        kernel = self.kernel_initializer((in_features, self.units))
        self.weight = nn.Parameter(kernel.T.contiguous())
        if self.use_bias:
            self.bias = nn.Parameter(self.bias_initializer((self.units,)))
        else:
            self.register_parameter("bias", None)
        if self.kernel_regularizer is not None:
            self._weight_regularizers().append((self.kernel_regularizer, "weight"))
        if self.bias_regularizer is not None and self.use_bias:
            self._weight_regularizers().append((self.bias_regularizer, "bias"))
        if self.kernel_constraint is not None:
            self._weight_constraints().append((self.kernel_constraint, "weight"))
        if self.bias_constraint is not None and self.use_bias:
            self._weight_constraints().append((self.bias_constraint, "bias"))
        self.built = True

    def call(self, inputs):
        return self.activation(F.linear(inputs, self.weight, self.bias))

    def check_input_shape(self, input_shape):
        want = self.weight.shape[1]
        if len(input_shape) < 2 or input_shape[-1] not in (None, want):
            raise InputShapeError(
                f"Input 0 of layer '{self.name}' (Dense) is incompatible with the layer: "
                f"expected axis -1 of input shape to have value {want}, but received input "
                f"with shape {tuple(input_shape)}")

    @property
    def kernel(self) -> torch.Tensor:
        """Keras' view of the weight, `(input_dim, units)`; shares storage with `weight`."""
        return self.weight.T

    def keras_weight_views(self):
        views = [transposed("kernel", self.weight)]
        if self.use_bias:
            views.append(WeightView("bias", self.bias))
        return views

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **weight_options_config(self, "kernel_initializer", "bias_initializer",
                                    "kernel_regularizer", "bias_regularizer", "kernel_constraint",
                                    "bias_constraint"),
            "quantization_config": None,
        }

    def extra_repr(self):
        in_features = self.weight.shape[1] if self.built else None
        return (f"name={self.name!r}, in_features={in_features}, units={self.units}, "
                f"activation={getattr(self.activation, '__name__', self.activation)}")


class Activation(Layer):
    """Applies an activation function: `Activation("relu")`.

    Args:
        activation: Name (`"relu"`, `"softmax"`, ...) or callable.
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Identity(Layer):
    """Returns its input unchanged (Keras' `Identity`; torch's `nn.Identity`)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape
