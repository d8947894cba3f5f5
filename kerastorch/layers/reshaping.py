"""Reshaping layers: `Flatten`, `Reshape`."""

import math

from kerastorch import config
from kerastorch.layers.layer import Layer


class Flatten(Layer):
    """Flattens everything but the batch axis, in channels_last order (Keras' order).

    Args:
        data_format: `"channels_last"` (default) or `"channels_first"`; channels_first inputs are
            moved to channels_last first, so the flattened order is always (..., channels).
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format or config.image_data_format()
        if self.data_format not in ("channels_last", "channels_first"):
            raise ValueError("`data_format` must be 'channels_last' or 'channels_first'. "
                             f"Received: data_format={data_format!r}")
        self.built = True

    def call(self, inputs):
        # No branching on the input's rank, so torch.fx can trace it; a view, not a copy,
        # whenever the layout allows.
        if self.data_format == "channels_first":
            inputs = inputs.movedim(1, -1)  # identity on 2-D inputs
        return inputs.reshape(inputs.shape[0], -1)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        if not rest:
            return (input_shape[0], 1)
        dim = None if any(d is None for d in rest) else math.prod(rest)
        return (input_shape[0], dim)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshapes each sample to `target_shape` (batch excluded; one `-1` allowed)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        target_shape = tuple(target_shape)
        if sum(d == -1 for d in target_shape) > 1 or any(
                not isinstance(d, int) or d == 0 or d < -1 for d in target_shape):
            raise ValueError("`target_shape` must hold positive integers and at most one -1. "
                             f"Received: target_shape={target_shape}")
        self.target_shape = target_shape
        self.built = True

    def call(self, inputs):
        return inputs.reshape(inputs.shape[0], *self.target_shape)

    def compute_output_shape(self, input_shape):
        target = list(self.target_shape)
        if -1 in target:
            known = math.prod(d for d in target if d != -1)
            rest = input_shape[1:]
            target[target.index(-1)] = (None if any(d is None for d in rest)
                                        else math.prod(rest) // known)
        else:
            rest = input_shape[1:]
            if None not in rest and math.prod(rest) != math.prod(target):
                raise ValueError(f"Layer '{self.name}' (Reshape) cannot reshape inputs of shape "
                                 f"{tuple(input_shape)} to target_shape={self.target_shape}: "
                                 f"{math.prod(rest)} values per sample, target holds "
                                 f"{math.prod(target)}.")
        return (input_shape[0], *target)

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}
