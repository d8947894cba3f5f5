"""Pooling layers: `MaxPooling1D/2D/3D`, `AveragePooling1D/2D/3D` and the global
`GlobalMaxPooling1D/2D/3D`, `GlobalAveragePooling1D/2D/3D`.

`strides` default to `pool_size` (torch: the same). `padding="same"` uses Keras' arithmetic
(`conv_base.same_pads`): max pooling ignores the padded cells, average pooling averages the VALID
cells only, as TF and JAX do ([1, 2, 3, 4], pool 3, stride 2 -> [2, 3.5]).

How torch does that without copying: Keras' same padding of an axis is either symmetric or has
exactly one extra cell at the end. Symmetric padding goes to the op (`padding=before`, implicit
`-inf` for max, `count_include_pad=False` for average). With stride >= 2 the one-extra-cell
case is torch's `ceil_mode=True` with `padding=before`: the last window runs past the end, torch
clips it to the input and averages over the cells it kept, which are exactly Keras' valid cells.
With stride 1 it is `padding=before + 1` and a crop of the first output cell. Details in
`_Pooling._params_for`.
"""

import torch
import torch.nn.functional as F

from kerastorch.layers.conv_base import (
    normalize_data_format,
    normalize_padding,
    normalize_tuple,
    output_length,
    same_pads,
)
from kerastorch.layers.layer import InputShapeError, Layer

_MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def _rank_message(layer, shape):
    axes = "spatial..., channels" if layer.data_format == "channels_last" else \
        "channels, spatial..."
    return (f"Layer '{layer.name}' ({type(layer).__name__}) expects inputs of rank "
            f"{layer.rank + 2} (batch, {axes}), received an input of shape {tuple(shape)}.")


class _Pooling(Layer):
    """Windowed max/average pooling (Keras `BasePooling`) with torch's pooling kernels."""

    def __init__(self, rank, mode, pool_size, strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.rank = rank
        self.pool_size = normalize_tuple(pool_size, rank, "pool_size")
        self.strides = (self.pool_size if strides is None
                        else normalize_tuple(strides, rank, "strides"))
        self.padding = normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)
        self._channels_last = self.data_format == "channels_last"
        self._max = mode == "max"
        self._fn = (_MAX_POOL if self._max else _AVG_POOL)[rank]
        if self.padding == "valid":
            self._static_params = (self.pool_size, self.strides, (0,) * rank, False, None)
        elif max(self.strides) == 1:  # the padding then does not depend on the size
            self._static_params = self._params_for((2,) * rank)
        else:
            self._static_params = None
        self.built = True

    def _params_for(self, spatial):
        """(pool_size, strides, padding, ceil_mode, crop) giving Keras' `same` pooling on torch.

        Per axis, total padding = before + after with after - before in {0, 1}; torch's padding
        is symmetric and its windows are clipped to the input (max ignores the padding, and
        `count_include_pad=False` averages the cells inside the input, both as Keras does).
        - symmetric: `padding=before`.
        - one extra cell, stride >= 2: `padding=before` and `ceil_mode=True`: torch then keeps
          the last window, which starts inside the input, the output cell Keras' extra end
          padding adds. (On the other axes ceil_mode is a no-op: `n + 2*before - k` is a
          multiple of the stride there, or the extra window would start past the input.)
        - one extra cell, stride 1: `padding=before + 1` gives one more output cell at the
          start, cropped (a view).
        - length 1: one output cell whose window holds that one cell: pooled with a window of
          1 (torch would find the kernel larger than the padded input).
        """
        kernel, strides, padding, crop = [], [], [], [slice(None), slice(None)]
        ceil_mode = False
        for n, k, s in zip(spatial, self.pool_size, self.strides):
            if n == 1:
                k = s = 1
            before, after = same_pads(n, k, s)
            crop.append(slice(1, None) if after != before and s == 1 else slice(None))
            ceil_mode = ceil_mode or (after != before and s > 1)
            kernel.append(k)
            strides.append(s)
            padding.append(before + (after != before and s == 1))
        crop = tuple(crop) if any(c.start for c in crop) else None
        return tuple(kernel), tuple(strides), tuple(padding), ceil_mode, crop

    def call(self, inputs):
        if inputs.ndim != self.rank + 2:
            raise InputShapeError(_rank_message(self, inputs.shape))
        x = inputs.movedim(-1, 1) if self._channels_last else inputs
        try:
            y = self._pool(x)
        except RuntimeError as err:
            out = self._out_spatial(self._spatial(tuple(inputs.shape)))
            if all(o > 0 for o in out):
                raise
            raise InputShapeError(
                f"Layer '{self.name}' ({type(self).__name__}) cannot take an input of shape "
                f"{tuple(inputs.shape)}: the output would have spatial size {out} "
                f"(pool_size={self.pool_size}, strides={self.strides}, "
                f"padding={self.padding!r}).") from err
        return y.movedim(1, -1) if self._channels_last else y

    def _pool(self, x):
        params = self._static_params
        if params is None or (self.padding == "same" and 1 in x.shape[2:]):
            params = self._params_for(tuple(x.shape[2:]))
        kernel, strides, padding, ceil_mode, crop = params
        if self._max:
            y = self._fn(x, kernel, strides, padding, ceil_mode=ceil_mode)
        else:
            y = self._fn(x, kernel, strides, padding, ceil_mode=ceil_mode,
                         count_include_pad=False)
        return y if crop is None else y[crop]

    def _spatial(self, shape):
        return tuple(shape[1:-1] if self._channels_last else shape[2:])

    def _out_spatial(self, spatial):
        return tuple(output_length(n, k, s, self.padding)
                     for n, k, s in zip(spatial, self.pool_size, self.strides))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2:
            raise ValueError(_rank_message(self, input_shape))
        spatial = self._out_spatial(self._spatial(input_shape))
        if any(o is not None and o <= 0 for o in spatial):
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}): computed output "
                             f"size would be zero or negative for input_shape={input_shape}, "
                             f"pool_size={self.pool_size}, strides={self.strides}.")
        if self._channels_last:
            return (input_shape[0], *spatial, input_shape[-1])
        return (input_shape[0], input_shape[1], *spatial)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}

    def extra_repr(self):
        return (f"name={self.name!r}, pool_size={self.pool_size}, strides={self.strides}, "
                f"padding={self.padding!r}, data_format={self.data_format!r}")


class MaxPooling1D(_Pooling):
    """Max over windows of `pool_size` steps of `(batch, steps, channels)`; `nn.MaxPool1d`.

    Args:
        pool_size: Int or 1-tuple (default 2).
        strides: Int, 1-tuple or `None` (= `pool_size`).
        padding: `"valid"` or `"same"` (padded cells never win the max).
        data_format: `"channels_last"` (default) or `"channels_first"`.
    """

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, name=None,
                 **kwargs):
        super().__init__(1, "max", pool_size, strides, padding, data_format, name=name, **kwargs)


class MaxPooling2D(_Pooling):
    """2-D max pooling; `nn.MaxPool2d`. Arguments as `MaxPooling1D` (2-tuples, default (2, 2)).

    Example:

        >>> MaxPooling2D()(torch.zeros(1, 4, 5, 3)).shape
        torch.Size([1, 2, 2, 3])
    """

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(2, "max", pool_size, strides, padding, data_format, name=name, **kwargs)


class MaxPooling3D(_Pooling):
    """3-D max pooling; `nn.MaxPool3d`. Arguments as `MaxPooling1D` (3-tuples, default 2s)."""

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(3, "max", pool_size, strides, padding, data_format, name=name, **kwargs)


class AveragePooling1D(_Pooling):
    """Mean over windows of `(batch, steps, channels)`; `nn.AvgPool1d` for valid padding.

    Args:
        pool_size: Int or 1-tuple (required, as in Keras).
        strides: Int, 1-tuple or `None` (= `pool_size`).
        padding: `"valid"` or `"same"`; `same` averages only the cells inside the input.
        data_format: `"channels_last"` (default) or `"channels_first"`.
    """

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None,
                 **kwargs):
        super().__init__(1, "average", pool_size, strides, padding, data_format, name=name,
                         **kwargs)


class AveragePooling2D(_Pooling):
    """2-D average pooling; `nn.AvgPool2d` for valid padding. Arguments as `AveragePooling1D`
    (2-tuples)."""

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None,
                 **kwargs):
        super().__init__(2, "average", pool_size, strides, padding, data_format, name=name,
                         **kwargs)


class AveragePooling3D(_Pooling):
    """3-D average pooling; `nn.AvgPool3d` for valid padding. Arguments as `AveragePooling1D`
    (3-tuples)."""

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None,
                 **kwargs):
        super().__init__(3, "average", pool_size, strides, padding, data_format, name=name,
                         **kwargs)


class _GlobalPooling(Layer):
    """Max or mean over all spatial axes (Keras `BaseGlobalPooling`)."""

    _reduce = None

    def __init__(self, rank, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.rank = rank
        self.data_format = normalize_data_format(data_format)
        self.keepdims = bool(keepdims)
        self._channels_last = self.data_format == "channels_last"
        self._dims = tuple(range(1, rank + 1)) if self._channels_last else \
            tuple(range(2, rank + 2))
        self.built = True

    def _check(self, inputs):
        if inputs.ndim != self.rank + 2:
            raise InputShapeError(_rank_message(self, inputs.shape))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2:
            raise ValueError(_rank_message(self, input_shape))
        if self._channels_last:
            return (input_shape[0], *((1,) * self.rank if self.keepdims else ()),
                    input_shape[-1])
        return (input_shape[0], input_shape[1], *((1,) * self.rank if self.keepdims else ()))

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class _GlobalMax(_GlobalPooling):
    def call(self, inputs):
        self._check(inputs)
        return torch.amax(inputs, dim=self._dims, keepdim=self.keepdims)


class _GlobalAverage(_GlobalPooling):
    def call(self, inputs):
        self._check(inputs)
        return torch.mean(inputs, dim=self._dims, keepdim=self.keepdims)


class GlobalMaxPooling1D(_GlobalMax):
    """Max over the steps of `(batch, steps, channels)` -> `(batch, channels)`.

    Args:
        data_format: `"channels_last"` (default) or `"channels_first"`.
        keepdims: Keep the reduced axis with length 1.
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(1, data_format, keepdims, **kwargs)


class GlobalMaxPooling2D(_GlobalMax):
    """Max over height and width -> `(batch, channels)`. Arguments as `GlobalMaxPooling1D`."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(2, data_format, keepdims, **kwargs)


class GlobalMaxPooling3D(_GlobalMax):
    """Max over the three spatial axes. Arguments as `GlobalMaxPooling1D`."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(3, data_format, keepdims, **kwargs)


class GlobalAveragePooling1D(_GlobalAverage):
    """Mean over the steps of `(batch, steps, channels)` -> `(batch, channels)`.

    With a mask (`(batch, steps)`, e.g. from `Embedding(mask_zero=True)`), the mean is over the
    unmasked steps only; the output carries no mask.

    Args:
        data_format: `"channels_last"` (default) or `"channels_first"`.
        keepdims: Keep the reduced axis with length 1.
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(1, data_format, keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        self._check(inputs)
        if mask is None:
            return torch.mean(inputs, dim=self._dims, keepdim=self.keepdims)
        if not isinstance(mask, torch.Tensor):
            mask = torch.as_tensor(mask, device=inputs.device)
        mask = mask.to(dtype=torch.bool).unsqueeze(-1 if self._channels_last else 1)
        total = torch.where(mask, inputs, 0).sum(dim=self._dims, keepdim=self.keepdims)
        count = mask.to(inputs.dtype).sum(dim=self._dims, keepdim=self.keepdims)
        return total / count

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalAveragePooling2D(_GlobalAverage):
    """Mean over height and width -> `(batch, channels)`. Arguments as
    `GlobalAveragePooling1D` (no mask)."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(2, data_format, keepdims, **kwargs)


class GlobalAveragePooling3D(_GlobalAverage):
    """Mean over the three spatial axes. Arguments as `GlobalAveragePooling1D` (no mask)."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(3, data_format, keepdims, **kwargs)
