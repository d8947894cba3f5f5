"""Regularization layers: `Dropout`, `SpatialDropout1D/2D/3D`, `GaussianNoise`,
`GaussianDropout`, `AlphaDropout`, `ActivityRegularization`.

The random layers are the identity in inference mode and draw their noise with torch's RNG in
training (values differ from Keras', distributions match).
"""

import math

import torch
import torch.nn.functional as F

from kerastorch import config, regularizers
from kerastorch.layers.layer import Layer


class Dropout(Layer):
    """Inverted dropout: in training, zero a `rate` fraction of inputs and scale the rest.

    Args:
        rate: Float in [0, 1): the fraction dropped (torch's `p`).
        noise_shape: Shape of the binary mask, broadcast over the input (`None` = input's).
        seed: Optional int; masks then come from a generator seeded with it.

    Masks cannot match Keras' bit for bit (different random generators).
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ValueError("Invalid value received for argument `rate`. Expected a float "
                             f"value between 0 and 1. Received: rate={rate!r}")
        self.rate = rate
        self.noise_shape = tuple(noise_shape) if noise_shape is not None else None
        self.seed = seed
        self._generator = None
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=None):
        if not self.resolve_training(training) or self.rate == 0:
            return inputs
        if self.noise_shape is None and self.seed is None:
            return F.dropout(inputs, self.rate, True)
        shape = inputs.shape if self.noise_shape is None else tuple(
            inputs.shape[i] if d is None else d for i, d in enumerate(self.noise_shape))
        keep = torch.rand(shape, device=inputs.device, generator=self._gen(inputs.device))
        keep = (keep >= self.rate).to(inputs.dtype)
        return inputs * keep / (1 - self.rate)

    def _gen(self, device):
        if self.seed is None:
            return None
        if self._generator is None or self._generator.device != device:
            self._generator = torch.Generator(device=device).manual_seed(self.seed)
        return self._generator

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": self.noise_shape}


# ---------------------------------------------------------------------- noise layers
def _check_fraction(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"Invalid value received for argument `{name}`. Expected a float "
                         f"value between 0 and 1. Received: {name}={value!r}")
    return value


class _Seeded:
    """A `torch.Generator` per device, seeded with `self.seed`; `None` = torch's global RNG.

    Random values cannot match Keras' (different generators); only their distribution does.
    """

    def _gen(self, device):
        if self.seed is None:
            return None
        gen = self.__dict__.get("_generator")
        if gen is None or gen.device != device:
            gen = torch.Generator(device=device).manual_seed(self.seed)
            self.__dict__["_generator"] = gen
        return gen

    def _uniform(self, shape, like):
        return torch.rand(shape, dtype=like.dtype, device=like.device, generator=self._gen(
            like.device))

    def _normal(self, like):
        return torch.randn(like.shape, dtype=like.dtype, device=like.device,
                           generator=self._gen(like.device))


class _SpatialDropout(_Seeded, Dropout):
    """Dropout of whole feature maps: one keep/drop draw per (sample, channel)."""

    _rank = None  # input rank

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None, **kwargs):
        super().__init__(rate, seed=seed, name=name, dtype=dtype, **kwargs)
        self.built = False  # build() checks the input rank
        self.data_format = data_format or config.image_data_format()
        if self.data_format not in ("channels_last", "channels_first"):
            raise ValueError("The `data_format` argument must be one of 'channels_first', "
                             f"'channels_last'. Received: data_format={data_format!r}")

    def build(self, input_shape):
        if len(input_shape) != self._rank:
            raise ValueError(f"Input 0 of layer '{self.name}' ({type(self).__name__}) is "
                             f"incompatible with the layer: expected ndim={self._rank}, found "
                             f"ndim={len(input_shape)}. Full shape received: "
                             f"{tuple(input_shape)}")
        self.built = True

    def call(self, inputs, training=None):
        if not self.resolve_training(training) or self.rate == 0:
            return inputs
        if self.rate >= 1:
            return torch.zeros_like(inputs)
        # (batch, 1, ..., 1, channels) or (batch, channels, 1, ..., 1)
        shape = [1] * inputs.dim()
        shape[0] = inputs.shape[0]
        channel = 1 if self.data_format == "channels_first" else -1
        shape[channel] = inputs.shape[channel]
        keep = self._uniform(shape, inputs) >= self.rate
        return inputs * (keep.to(inputs.dtype) / (1 - self.rate))

    def get_config(self):
        # Keras' spatial dropouts return exactly these keys (no `trainable`, dtype as a string).
        return {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype,
                "data_format": self.data_format}


class SpatialDropout1D(_SpatialDropout):
    """Drops whole channels of `(batch, steps, channels)` inputs in training, scaling the rest
    by `1 / (1 - rate)`; identity in inference.

    Args:
        rate: Float in [0, 1], the fraction of channels dropped (per sample).
        seed: Optional int for the layer's own generator.
    """

    _rank = 3

    def __init__(self, rate, seed=None, name=None, dtype=None, **kwargs):
        super().__init__(rate, data_format="channels_last", seed=seed, name=name, dtype=dtype,
                         **kwargs)

    def get_config(self):
        config_ = super().get_config()
        del config_["data_format"]
        return config_


class SpatialDropout2D(_SpatialDropout):
    """Drops whole feature maps of `(batch, h, w, channels)` images (torch's `Dropout2d`).

    Args:
        rate: Float in [0, 1], the fraction of channels dropped (per sample).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: Optional int for the layer's own generator.
    """

    _rank = 4


class SpatialDropout3D(_SpatialDropout):
    """Drops whole feature maps of `(batch, d, h, w, channels)` volumes (torch's `Dropout3d`).

    Args: as `SpatialDropout2D`.
    """

    _rank = 5


class GaussianNoise(_Seeded, Layer):
    """Adds `N(0, stddev)` noise in training; identity in inference.

    Args:
        stddev: Float in [0, 1] (Keras' bound), the noise's standard deviation.
        seed: Optional int for the layer's own generator.
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.stddev = _check_fraction(stddev, "stddev")
        self.seed = seed
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=None):
        if not self.resolve_training(training) or self.stddev == 0:
            return inputs
        return inputs + self.stddev * self._normal(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(_Seeded, Layer):
    """Multiplies inputs by `N(1, sqrt(rate / (1 - rate)))` noise in training; identity in
    inference.

    Args:
        rate: Float in [0, 1], as for `Dropout`.
        seed: Optional int for the layer's own generator.
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _check_fraction(rate, "rate")
        self.seed = seed
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=None):
        if not self.resolve_training(training) or self.rate == 0:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        return inputs * (1.0 + stddev * self._normal(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class AlphaDropout(_Seeded, Layer):
    """Dropout that keeps SELU's self-normalising mean and variance: dropped units are set to
    SELU's negative saturation `-alpha * scale`, then `a * x + b` restores the moments.

    Args:
        rate: Float in [0, 1], the fraction dropped.
        noise_shape: Optional shape of the keep/drop draw, `None` entries taken from the input.
        seed: Optional int for the layer's own generator.

    torch's `nn.AlphaDropout` computes the same in training.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _check_fraction(rate, "rate")
        self.noise_shape = noise_shape
        self.seed = seed
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=None):
        if not self.resolve_training(training) or self.rate == 0:
            return inputs
        shape = inputs.shape if self.noise_shape is None else tuple(
            inputs.shape[i] if d is None else d for i, d in enumerate(self.noise_shape))
        alpha_p = -1.6732632423543772 * 1.0507009873554805  # -alpha * scale of SELU
        kept = (self._uniform(shape, inputs) >= self.rate).to(inputs.dtype)
        a = ((1 - self.rate) * (1 + self.rate * alpha_p**2)) ** -0.5
        b = -a * alpha_p * self.rate
        x = inputs * kept + alpha_p * (1 - kept)
        return a * x + b

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": self.noise_shape}


class ActivityRegularization(Layer):
    """Identity that adds `(l1 * sum(|x|) + l2 * sum(x**2)) / batch_size` of its input to the
    training loss (Keras' activity-regularizer penalty, normalised by the batch size).

    Args:
        l1, l2: Non-negative floats (default 0).

    The penalty is added (with `add_loss`) on calls in training mode only: kerastorch layers
    keep `add_loss` values until the trainer clears them, so inference calls must not pile them
    up. Keras also adds it on inference calls, so `evaluate()` reports a loss without it here.
    """

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(**kwargs)
        self.l1 = l1
        self.l2 = l2
        self._penalty = regularizers.L1L2(l1=l1, l2=l2)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=None):
        if self.resolve_training(training) and (self.l1 or self.l2):
            penalty = self._penalty(inputs)
            if inputs.dim() > 0 and inputs.shape[0] > 0:
                penalty = penalty / inputs.shape[0]
            self.add_loss(penalty)
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "l1": self.l1, "l2": self.l2}
