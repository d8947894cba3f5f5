"""Reshaping layers: `Flatten`, `Reshape`, `Permute`, `RepeatVector`, `Cropping1D/2D/3D`,
`ZeroPadding1D/2D/3D`, `UpSampling1D/2D/3D`.

Spatial layers take `data_format` as Keras does (`channels_last` by default) and work on either
layout directly (slices, `F.pad`, broadcast repeats), without moving channels.
"""

import math
import numbers

import torch
import torch.nn.functional as F

from kerastorch import config
from kerastorch.layers.conv_base import normalize_data_format, normalize_tuple
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


# ---------------------------------------------------------------------- helpers
def _pairs(value, rank, name):
    """Keras' cropping/padding argument -> `rank` (before, after) pairs.

    An int is used everywhere; otherwise `rank` entries, each an int (symmetric) or a pair.
    (Rank 1 takes an int or one pair.)
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = int(value)
        if value < 0:
            raise ValueError(f"`{name}` cannot be negative. Received: {name}={value}.")
        return ((value, value),) * rank
    if rank == 1:
        return (normalize_tuple(value, 2, name, allow_zero=True),)
    if not hasattr(value, "__len__") or len(value) != rank:
        raise ValueError(f"`{name}` should be an int, a tuple of {rank} ints or a tuple of "
                         f"{rank} tuples of 2 ints. Received: {name}={value!r}.")
    ordinals = ("1st", "2nd", "3rd")
    return tuple(normalize_tuple(v, 2, f"{ordinals[i]} entry of {name}", allow_zero=True)
                 for i, v in enumerate(value))


def _spatial_axes(rank, data_format):
    return tuple(range(2, 2 + rank)) if data_format == "channels_first" else \
        tuple(range(1, 1 + rank))


def _check_ndim(layer, input_shape, ndim):
    if len(input_shape) != ndim:
        raise ValueError(f"Input 0 of layer '{layer.name}' ({type(layer).__name__}) is "
                         f"incompatible with the layer: expected ndim={ndim}, found "
                         f"ndim={len(input_shape)}. Full shape received: {tuple(input_shape)}")


def _repeat_axes(x, axes, sizes):
    """`x` with each of `axes` repeated element-wise `sizes` times (Keras' `ops.repeat`): one
    broadcast copy, exact for any factor (no float index arithmetic as in `F.interpolate`)."""
    view, expanded, out = [], [], []
    for i, d in enumerate(x.shape):
        view.append(d)
        expanded.append(d)
        out.append(d)
        if i in axes:
            s = sizes[axes.index(i)]
            view.append(1)
            expanded.append(s)
            out[-1] = d * s
    return x.reshape(view).expand(expanded).reshape(out)


# ---------------------------------------------------------------------- Permute, RepeatVector
class Permute(Layer):
    """Permutes the non-batch axes: `Permute((2, 1))` swaps axes 1 and 2 (a view, no copy).

    Args:
        dims: A permutation of `1..rank-1` (the batch axis 0 stays first).
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError("Invalid permutation argument `dims` for Permute Layer. The set of "
                             "indices in `dims` must be consecutive and start from 1. "
                             f"Received dims={dims}")

    def build(self, input_shape):
        _check_ndim(self, input_shape, len(self.dims) + 1)
        self.built = True

    def call(self, inputs):
        return inputs.permute(0, *self.dims)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}


class RepeatVector(Layer):
    """Repeats a `(batch, features)` input `n` times: `(batch, n, features)`.

    The output is a broadcast view of the input (`expand`), not a copy.

    Args:
        n: Positive int.
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"Expected an integer value for `n`, got {type(n)}. Received: n={n!r}")
        if n <= 0:
            raise ValueError(f"Argument `n` should be a positive integer. Received: n={n}")
        self.n = n

    def build(self, input_shape):
        _check_ndim(self, input_shape, 2)
        self.built = True

    def call(self, inputs):
        return inputs.unsqueeze(1).expand(-1, self.n, -1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}


# ---------------------------------------------------------------------- Cropping
class _Cropping(Layer):
    _rank = None

    def __init__(self, cropping, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format)
        self.cropping = _pairs(cropping, self._rank, "cropping")

    def build(self, input_shape):
        _check_ndim(self, input_shape, self._rank + 2)
        self.compute_output_shape(input_shape)  # validates the sizes
        self.built = True

    def call(self, inputs):
        index = [slice(None)] * inputs.dim()
        for axis, (before, after) in zip(_spatial_axes(self._rank, self.data_format),
                                         self.cropping):
            if before + after >= inputs.shape[axis]:
                raise ValueError(self._too_large(tuple(inputs.shape)))
            index[axis] = slice(before, inputs.shape[axis] - after)
        return inputs[tuple(index)]  # a view

    def _too_large(self, shape):
        return (f"Layer '{self.name}' ({type(self).__name__}): values in `cropping` should be "
                "smaller than the corresponding spatial dimension of the input. Received: "
                f"input_shape={shape}, cropping={self.cropping}")

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for axis, crop in zip(_spatial_axes(self._rank, self.data_format), self.cropping):
            if out[axis] is not None:
                if sum(crop) >= out[axis]:
                    raise ValueError(self._too_large(tuple(input_shape)))
                out[axis] -= sum(crop)
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping,
                "data_format": self.data_format}


class Cropping1D(_Cropping):
    """Crops `(before, after)` steps of `(batch, steps, features)` inputs.

    Args:
        cropping: Int or `(before, after)` (default `(1, 1)`).
    """

    _rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, data_format="channels_last", **kwargs)
        self.cropping = self.cropping[0]

    def call(self, inputs):
        before, after = self.cropping
        if before + after >= inputs.shape[1]:
            raise ValueError(self._too_large(tuple(inputs.shape)))
        return inputs[:, before:inputs.shape[1] - after]

    def compute_output_shape(self, input_shape):
        length = input_shape[1]
        if length is not None:
            if sum(self.cropping) >= length:
                raise ValueError(self._too_large(tuple(input_shape)))
            length -= sum(self.cropping)
        return (input_shape[0], length, input_shape[2])

    def get_config(self):
        config_ = super().get_config()
        del config_["data_format"]
        return config_


class Cropping2D(_Cropping):
    """Crops rows and columns of images.

    Args:
        cropping: Int, `(sym_rows, sym_cols)` or `((top, bottom), (left, right))`
            (default no cropping).
        data_format: `"channels_last"` (default) or `"channels_first"`.
    """

    _rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Crops the three spatial axes of volumes.

    Args:
        cropping: Int, 3 ints, or 3 `(before, after)` pairs (default 1 on every side).
        data_format: `"channels_last"` (default) or `"channels_first"`.
    """

    _rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


# ---------------------------------------------------------------------- ZeroPadding
class _ZeroPadding(Layer):
    _rank = None

    def __init__(self, padding, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format)
        self.padding = _pairs(padding, self._rank, "padding")
        # F.pad lists (before, after) from the LAST axis backwards; Keras lists spatial axes
        # first to last: ((top, bottom), (left, right)) -> (0, 0, left, right, top, bottom).
        flat = [0, 0] if self.data_format == "channels_last" else []
        for before, after in reversed(self.padding):
            flat += [before, after]
        self._torch_pad = tuple(flat)

    def build(self, input_shape):
        _check_ndim(self, input_shape, self._rank + 2)
        self.built = True

    def call(self, inputs):
        return F.pad(inputs, self._torch_pad)

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for axis, pad in zip(_spatial_axes(self._rank, self.data_format), self.padding):
            if out[axis] is not None:
                out[axis] += sum(pad)
        return tuple(out)

    def get_config(self):
        padding = self.padding[0] if self._rank == 1 else self.padding
        return {**super().get_config(), "padding": padding, "data_format": self.data_format}


class ZeroPadding1D(_ZeroPadding):
    """Pads the steps axis with zeros.

    Args:
        padding: Int or `(before, after)` (default 1).
        data_format: `"channels_last"` (default, `(batch, steps, features)`) or
            `"channels_first"`.
    """

    _rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding2D(_ZeroPadding):
    """Pads rows and columns of images with zeros; torch's `nn.ZeroPad2d` on NCHW.

    Args:
        padding: Int, `(sym_rows, sym_cols)` or `((top, bottom), (left, right))` (default 1).
            torch's `nn.ZeroPad2d` takes `(left, right, top, bottom)`.
        data_format: `"channels_last"` (default) or `"channels_first"`.
    """

    _rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """Pads the three spatial axes of volumes with zeros.

    Args:
        padding: Int, 3 ints, or 3 `(before, after)` pairs (default 1 on every side).
        data_format: `"channels_last"` (default) or `"channels_first"`.
    """

    _rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


# ---------------------------------------------------------------------- UpSampling
class UpSampling1D(Layer):
    """Repeats each step `size` times: `(batch, steps, features)` -> `(batch, steps * size,
    features)`.

    Args:
        size: Positive int (default 2).
    """

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(size, int) or isinstance(size, bool):
            raise TypeError(f"Expected an integer value for `size`, got {type(size)}. "
                            f"Received: size={size!r}")
        if size <= 0:
            raise ValueError(f"Argument `size` should be a positive integer. Received: "
                             f"size={size}")
        self.size = size

    def build(self, input_shape):
        _check_ndim(self, input_shape, 3)
        self.built = True

    def call(self, inputs):
        return _repeat_axes(inputs, (1,), (self.size,))

    def compute_output_shape(self, input_shape):
        steps = None if input_shape[1] is None else input_shape[1] * self.size
        return (input_shape[0], steps, input_shape[2])

    def get_config(self):
        return {**super().get_config(), "size": self.size}


class _UpSampling(Layer):
    _rank = None

    def __init__(self, size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format)
        self.size = normalize_tuple(size, self._rank, "size")

    def build(self, input_shape):
        _check_ndim(self, input_shape, self._rank + 2)
        self.built = True

    def call(self, inputs):
        return _repeat_axes(inputs, _spatial_axes(self._rank, self.data_format), self.size)

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for axis, s in zip(_spatial_axes(self._rank, self.data_format), self.size):
            if out[axis] is not None:
                out[axis] *= s
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format}


_INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic")


class UpSampling2D(_UpSampling):
    """Upsamples images by `size` (rows, cols).

    Args:
        size: Int or 2 ints (default `(2, 2)`).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        interpolation: `"nearest"` (default: each pixel repeated, as Keras and `nn.Upsample`),
            `"bilinear"`, `"bicubic"`, `"lanczos3"` or `"lanczos5"`, with Keras' (JAX's
            `image.resize`) conventions: half-pixel centres (`align_corners=False`), the
            Keys cubic kernel `a=-0.5` (torch's antialiased bicubic; its plain bicubic uses
            `a=-0.75`), kernel weights renormalised at the borders.
    """

    _rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(size, data_format, **kwargs)
        self.interpolation = str(interpolation).lower()
        if self.interpolation not in _INTERPOLATIONS:
            raise ValueError(f"Invalid value for argument `interpolation`. Expected one of "
                             f"{_INTERPOLATIONS}. Received: interpolation={interpolation!r}")

    def call(self, inputs):
        if self.interpolation == "nearest":
            return _repeat_axes(inputs, _spatial_axes(2, self.data_format), self.size)
        x = inputs.movedim(-1, 1) if self.data_format == "channels_last" else inputs  # NCHW
        out_size = (x.shape[2] * self.size[0], x.shape[3] * self.size[1])
        if self.interpolation == "bilinear":
            x = F.interpolate(x, size=out_size, mode="bilinear", align_corners=False)
        elif self.interpolation == "bicubic":
            x = F.interpolate(x, size=out_size, mode="bicubic", align_corners=False,
                              antialias=True)
        else:
            radius = 3 if self.interpolation == "lanczos3" else 5
            rows = _lanczos_matrix(x.shape[2], out_size[0], radius, x)
            cols = _lanczos_matrix(x.shape[3], out_size[1], radius, x)
            x = torch.einsum("nchw,hH,wW->ncHW", x, rows, cols)
        return x.movedim(1, -1) if self.data_format == "channels_last" else x

    def get_config(self):
        return {**super().get_config(), "interpolation": self.interpolation}


def _lanczos_matrix(n_in, n_out, radius, like):
    """JAX's `scale_and_translate` weights (n_in, n_out) for upsampling with a Lanczos kernel:
    half-pixel sample positions, weights renormalised to sum to 1 over the input."""
    sample = (torch.arange(n_out, dtype=torch.float64) + 0.5) * (n_in / n_out) - 0.5
    x = (sample[None, :] - torch.arange(n_in, dtype=torch.float64)[:, None]).abs()
    y = radius * torch.sin(math.pi * x) * torch.sin(math.pi * x / radius)
    w = torch.where(x > 1e-3, y / torch.where(x != 0, math.pi**2 * x**2, 1.0), 1.0)
    w = torch.where(x > radius, 0.0, w)
    total = w.sum(0, keepdim=True)
    w = torch.where(total.abs() > 1000 * torch.finfo(torch.float32).eps,
                    w / torch.where(total != 0, total, 1.0), 0.0)
    w = torch.where((sample >= -0.5) & (sample <= n_in - 0.5), w, 0.0)
    return w.to(device=like.device, dtype=like.dtype)


class UpSampling3D(_UpSampling):
    """Upsamples volumes by repeating each voxel `size` (d, h, w) times.

    Args:
        size: Int or 3 ints (default `(2, 2, 2)`).
        data_format: `"channels_last"` (default) or `"channels_first"`.
    """

    _rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size, data_format, **kwargs)
