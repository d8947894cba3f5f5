"""Adaptive pooling to a fixed output size: `AdaptiveAveragePooling1D/2D/3D`,
`AdaptiveMaxPooling1D/2D/3D`; torch's `F.adaptive_avg_pool*d` / `F.adaptive_max_pool*d`.

Bins: output cell `i` of an axis of length `L` pooled to `O` covers `[floor(i*L/O),
ceil((i+1)*L/O))`, in torch and in Keras (its two-pool gather picks windows of `ceil(L/O)` or
`ceil(L/O) + 1` at those starts), so uneven sizes give the same numbers.
"""

import torch.nn.functional as F

from kerastorch.layers.conv_base import normalize_data_format
from kerastorch.layers.layer import Layer

_AVG = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}
_MAX = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}
_NAMES = {1: "(length,)", 2: "(height, width)", 3: "(depth, height, width)"}


def _output_size(value, rank):
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * rank
    if isinstance(value, (tuple, list)) and len(value) == rank and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        return tuple(value)
    raise TypeError(f"`output_size` must be an integer or {_NAMES[rank]} tuple. "
                    f"Received: {value} of type {type(value)}")


class _AdaptivePooling(Layer):
    rank = 1
    _max = False

    def __init__(self, output_size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.output_size = _output_size(output_size, self.rank)
        if any(v <= 0 for v in self.output_size):
            raise ValueError(f"`output_size` must be positive. Received: "
                             f"output_size={output_size}")
        self.data_format = normalize_data_format(data_format)
        self._channels_last = self.data_format == "channels_last"
        self._fn = (_MAX if self._max else _AVG)[self.rank]
        self.built = True

    def call(self, inputs):
        if inputs.dim() != self.rank + 2:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) expects inputs of "
                             f"rank {self.rank + 2}. Received: inputs.shape="
                             f"{tuple(inputs.shape)}")
        if self._channels_last:  # NHWC viewed NCHW: a channels_last tensor, no copy
            return self._fn(inputs.movedim(-1, 1), self.output_size).movedim(1, -1)
        return self._fn(inputs, self.output_size)

    def compute_output_shape(self, input_shape):
        if self._channels_last:
            return (input_shape[0], *self.output_size, input_shape[-1])
        return (input_shape[0], input_shape[1], *self.output_size)

    def get_config(self):
        return {**super().get_config(), "output_size": self.output_size,
                "data_format": self.data_format}


class AdaptiveAveragePooling1D(_AdaptivePooling):
    """Mean over `output_size` adaptive bins of the steps axis of `(batch, steps, channels)`
    (channels_last, default) or `(batch, channels, steps)`; `F.adaptive_avg_pool1d`.

    Args:
        output_size: Int or 1-tuple, the number of output steps.
        data_format: `"channels_last"` (default: `keras.config.image_data_format()`) or
            `"channels_first"`.
    """

    rank = 1


class AdaptiveAveragePooling2D(_AdaptivePooling):
    """2-D adaptive mean pooling; `output_size` an int or `(height, width)`. See
    `AdaptiveAveragePooling1D`."""

    rank = 2


class AdaptiveAveragePooling3D(_AdaptivePooling):
    """3-D adaptive mean pooling; `output_size` an int or `(depth, height, width)`. See
    `AdaptiveAveragePooling1D`."""

    rank = 3


class AdaptiveMaxPooling1D(_AdaptivePooling):
    """Max over `output_size` adaptive bins of the steps axis; `F.adaptive_max_pool1d`.
    Arguments as `AdaptiveAveragePooling1D`."""

    rank = 1
    _max = True


class AdaptiveMaxPooling2D(_AdaptivePooling):
    """2-D adaptive max pooling; see `AdaptiveMaxPooling1D`."""

    rank = 2
    _max = True


class AdaptiveMaxPooling3D(_AdaptivePooling):
    """3-D adaptive max pooling; see `AdaptiveMaxPooling1D`."""

    rank = 3
    _max = True
