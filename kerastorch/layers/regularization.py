"""Regularization layers: `Dropout`."""

import torch
import torch.nn.functional as F

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
