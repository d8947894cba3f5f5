"""Colour augmentations: `RandomGrayscale`, `RandomInvert`, `Solarization`,
`RandomPosterization`, `AutoContrast`, `RandomSharpness`.

Keras' formulas and transformation dicts (so a transformation drawn by Keras can be applied by
`transform_images` here and give Keras' numbers); the draws come from torch's RNG. As in
Keras 3 on JAX, the random layers return their input unchanged in inference (except where
noted: `Solarization` and `RandomSharpness` still cast to the layer's float dtype, and
`AutoContrast` is not random and always applies).
"""

import torch
import torch.nn.functional as F

from kerastorch.layers.preprocessing import _compute_dtype
from kerastorch.layers.preprocessing_image.base import (
    _as_tensors, _RandomImageLayer, _symmetric_factor)

_GRAY_WEIGHTS = (0.2989, 0.5870, 0.1140)  # tf.image.rgb_to_grayscale's, as Keras uses


def check_value_range(value_range):
    """Keras' `_set_value_range`: a list or tuple of two numbers, returned sorted."""
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
        raise ValueError("The `value_range` argument should be a list of two numbers. "
                         f"Received: value_range={value_range}")
    return sorted(value_range)


def transform_value_range(images, original_range, target_range):
    """Keras' `_transform_value_range`: map `original_range` linearly onto `target_range`."""
    if original_range[0] == target_range[0] and original_range[1] == target_range[1]:
        return images
    low, high = float(original_range[0]), float(original_range[1])
    images = (images - low) / (high - low)
    return images * (float(target_range[1]) - float(target_range[0])) + float(target_range[0])


def saturate_cast(values, dtype):
    """Keras' `_saturate_cast` of rounded floats to an integer `dtype`."""
    info = torch.iinfo(dtype)
    return values.round().clamp(info.min, info.max).to(dtype)


class _ColorLayer(_RandomImageLayer):
    """A colour augmentation: segmentation masks pass through; works on a batch (a single
    image is viewed as a batch of one)."""

    _GEOMETRIC = False

    def _batched(self, images):
        return images if images.ndim == 4 else images.unsqueeze(0)

    def _unbatched(self, out, like):
        return out if like.ndim == 4 else out.squeeze(0)

    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else -3

    def _spatial_axes(self):
        return (1, 2) if self.data_format == "channels_last" else (2, 3)

    def _tensors(self, images, transformation):
        """`transformation` (ours or Keras') as tensors on the images' device; one is drawn
        when it is None."""
        if transformation is None:
            transformation = self.get_random_transformation(images, training=True)
        return _as_tensors(transformation, images.device)


# ---------------------------------------------------------------------------- grayscale
class RandomGrayscale(_ColorLayer):
    """Turns each image to grayscale with probability `factor` in training (the grey value
    `0.2989 R + 0.5870 G + 0.1140 B` in all three channels; images keep their dtype).

    Args:
        factor: Probability in [0, 1] (default 0.5).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: Int seed of the layer's own generator.

    Transformation: a boolean tensor `(batch, 1, 1, 1)` (Keras' `should_apply`).
    """

    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or \
                factor < 0 or factor > 1:
            raise ValueError(f"`factor` should be between 0 and 1. Received: factor={factor}")
        self.factor = factor

    def get_random_transformation(self, data, training=True, seed=None):
        images = self._images_of(data)
        batch = self._batch_size(images)
        return (self._uniform((batch,), 0.0, 1.0, images.device) < self.factor).view(
            batch, 1, 1, 1)

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        axis = self._channel_axis()
        if images.shape[axis] not in (1, 3):
            raise ValueError("Invalid channel size: expected 3 (RGB) or 1 (Grayscale). "
                             f"Received input with shape: images.shape={tuple(images.shape)}")
        if images.shape[axis] == 1:
            return images
        should_apply = transformation
        if should_apply is None:
            should_apply = self.get_random_transformation(images)
        should_apply = _as_tensors({"s": should_apply}, images.device)["s"]
        x = self._batched(images)
        dtype = x.dtype if x.is_floating_point() else torch.float32
        weights = torch.tensor(_GRAY_WEIGHTS, dtype=dtype, device=x.device)
        gray = torch.tensordot(x.to(dtype), weights, dims=([axis], [0])).unsqueeze(axis)
        out = torch.where(should_apply.view(-1, 1, 1, 1), gray.to(x.dtype), x)
        return self._unbatched(out, images)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


# ---------------------------------------------------------------------------- invert
class RandomInvert(_ColorLayer):
    """Inverts images (`value_range[1] - x`) at random in training: per image, a probability
    `p` is drawn uniformly in `factor`'s range and the image is inverted when a uniform draw is
    below it (so `factor=(1, 1)` always inverts, `0` never).

    Args:
        factor: Number `f` (range `(0, f)`) or pair in [0, 1] (default 1.0).
        value_range: `(min, max)` of the images (default `(0, 255)`).
        seed: Int seed of the layer's own generator.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Transformation: `{"apply_inversion": bool (batch,)}`.
    """

    def __init__(self, factor=1.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _symmetric_factor(factor, (0, 1))
        self.value_range = value_range

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = self._images_of(data)
        batch = self._batch_size(images)
        probability = self._uniform((batch,), self.factor[0], self.factor[1], images.device)
        threshold = self._uniform((batch,), 0.0, 1.0, images.device)
        return {"apply_inversion": threshold < probability}

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        x = self._float(self._batched(images))
        apply = self._tensors(x, transformation)["apply_inversion"].view(-1, 1, 1, 1)
        out = torch.where(apply, self.value_range[1] - x, x)
        return self._unbatched(out, images)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range,
                "seed": self.seed}


# ---------------------------------------------------------------------------- solarization
def _solarization_factor(factor, name):
    msg = ("The `addition_factor` and `threshold_factor` arguments should be a number (or a "
           "list of two numbers) in the range [0, 1]. ")
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2:
            raise ValueError(msg + f"Received: {name}={factor}")
        values = list(factor)
    elif isinstance(factor, (int, float)) and not isinstance(factor, bool):
        values = [factor]
    else:
        raise ValueError(msg + f"Received: {name}={factor}")
    for v in values:
        if v > 1.0 or v < 0:
            raise ValueError(msg + f"Received: input_number={v}")
    return tuple(sorted(factor)) if len(values) == 2 else (0, factor)


class Solarization(_ColorLayer):
    """Solarizes images in training: on the image mapped to [0, 255], `y = clip(x + a, 0,
    255)`, then `y` where `y < t` else `255 - y`, mapped back to `value_range`. `a` is drawn in
    `[addition_factor[0], addition_factor[1] * 255]` and `t` in `[threshold_factor[0],
    threshold_factor[1] * 255]` (Keras' bounds: the lower one is not scaled).

    Args:
        addition_factor: Number `f` (range `(0, f)`) or pair in [0, 1] (default 0).
        threshold_factor: Number or pair in [0, 1] (default 0: every pixel is inverted).
        value_range: `(min, max)` of the images (default `(0, 255)`).
        seed: Int seed of the layer's own generator.

    Output: the layer's float dtype, in training and inference (as Keras).
    Transformation: `{"additions", "thresholds"}`, each `(batch, 1, 1, 1)`.
    """

    def __init__(self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255),
                 seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.addition_factor = _solarization_factor(addition_factor, "addition_factor")
        self.threshold_factor = _solarization_factor(threshold_factor, "threshold_factor")
        self.value_range = check_value_range(value_range)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = self._images_of(data)
        shape = (self._batch_size(images), 1, 1, 1) if images.ndim == 4 else (1, 1, 1)
        device = images.device
        return {"additions": self._uniform(shape, self.addition_factor[0],
                                           self.addition_factor[1] * 255, device),
                "thresholds": self._uniform(shape, self.threshold_factor[0],
                                            self.threshold_factor[1] * 255, device)}

    def transform_images(self, images, transformation, training=True):
        images = self._float(images)
        if not training or transformation is None:
            return images
        t = _as_tensors(transformation, images.device)
        x = transform_value_range(images, self.value_range, (0, 255))
        x = (x + t["additions"].to(x.dtype)).clamp(0, 255)
        x = torch.where(x < t["thresholds"].to(x.dtype), x, 255 - x)
        return transform_value_range(x, (0, 255), self.value_range)

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range,
                "addition_factor": self.addition_factor,
                "threshold_factor": self.threshold_factor, "seed": self.seed}


# ---------------------------------------------------------------------------- posterization
class RandomPosterization(_ColorLayer):
    """Keeps only the top `bits` bits of each 8-bit colour value in training: the image is
    mapped to [0, 255], truncated to uint8, shifted right then left by `8 - bits`, and mapped
    back. `bits` is drawn per image as an integer in `[factor[0], factor[1])` (Keras' randint;
    `factor[0]` when both are equal).

    Args:
        factor: Int `f` in [1, 8] (range `(1, f)`) or a pair.
        value_range: `(min, max)` of the images (default `(0, 255)`).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: Int seed of the layer's own generator.

    Transformation: `{"shift_factor": uint8 (batch,)}` (`8 - bits`).
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _symmetric_factor(factor, (1, 8))
        self.value_range = check_value_range(value_range)

    def get_random_transformation(self, data, training=True, seed=None):
        images = self._images_of(data)
        batch = self._batch_size(images)
        low, high = self.factor
        if low != high:
            bits = torch.floor(self._uniform((batch,), low, high, images.device))
        else:
            bits = torch.full((batch,), float(low), device=images.device)
        return {"shift_factor": (8 - bits).to(torch.uint8)}

    def transform_images(self, images, transformation=None, training=True):
        if not training:
            return images
        dtype = _compute_dtype(self)
        x = self._batched(images)
        shift = self._tensors(x, transformation)["shift_factor"].to(torch.uint8)
        shift = shift.view(-1, 1, 1, 1)
        x = transform_value_range(x.to(dtype), self.value_range, (0, 255)).to(torch.uint8)
        x = torch.bitwise_left_shift(torch.bitwise_right_shift(x, shift), shift).to(dtype)
        return self._unbatched(transform_value_range(x, (0, 255), self.value_range), images)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range,
                "seed": self.seed}


# ---------------------------------------------------------------------------- auto contrast
class AutoContrast(_ColorLayer):
    """Stretches each channel of each image to the full `value_range`: `(x - min) * 255 /
    (max - min)` over the image's pixels (on the image mapped to [0, 255]). Not random: applied
    in training and inference. A flat channel (`max == min`) is returned as given.

    Args:
        value_range: `(min, max)` of the images (default `(0, 255)`).

    Output: the layer's float dtype. With `channels_first` the minimum and maximum are taken
    over height and width (Keras 3.15 reduces axes 1 and 2 whatever the data format).
    """

    def __init__(self, value_range=(0, 255), **kwargs):
        super().__init__(**kwargs)
        self.value_range = check_value_range(value_range)

    def get_random_transformation(self, data, training=True, seed=None):
        return None

    def transform_images(self, images, transformation=None, training=True):
        original = self._batched(images)
        x = transform_value_range(self._float(original), self.value_range, (0, 255))
        axes = self._spatial_axes()
        low = x.amin(dim=axes, keepdim=True)
        high = x.amax(dim=axes, keepdim=True)
        scale = 255.0 / (high - low)
        out = (x * scale + (-low * scale)).clamp(0.0, 255.0)
        out = transform_value_range(out, (0, 255), self.value_range)
        out = torch.where(torch.isnan(out), original.to(out.dtype), out)
        return self._unbatched(out, images)

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range}


# ---------------------------------------------------------------------------- sharpness
class RandomSharpness(_ColorLayer):
    """Sharpens or blurs images at random in training: with `s = 2 * factor` drawn per image,
    `x + (1 - s) * (smooth(x) - x)` clipped to `value_range`, where `smooth` is the 3x3 kernel
    `[[1, 1, 1], [1, 5, 1], [1, 1, 1]] / 13` per channel with zero padding (`s = 1`: no
    change; below 1 blurs, above sharpens).

    Args:
        factor: Number `f` (range `(0, f)`) or pair in [0, 1].
        value_range: `(min, max)` of the images (default `(0, 255)`).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: Int seed of the layer's own generator.

    Output: the layer's float dtype, in training and inference (as Keras).
    Transformation: `{"factor": (batch,)}`.
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _symmetric_factor(factor, (0, 1))
        self.value_range = check_value_range(value_range)

    def get_random_transformation(self, data, training=True, seed=None):
        images = self._images_of(data)
        return {"factor": self._uniform((self._batch_size(images),), self.factor[0],
                                        self.factor[1], images.device)}

    def transform_images(self, images, transformation=None, training=True):
        images = self._float(images)
        if not training:
            return images
        x = self._to_nchw(images)
        channels = x.shape[1]
        sharp = (self._tensors(x, transformation)["factor"] * 2).to(x.dtype)
        a, b = 1.0 / 13.0, 5.0 / 13.0
        kernel = torch.tensor([[a, a, a], [a, b, a], [a, a, a]], dtype=x.dtype, device=x.device)
        kernel = kernel.expand(channels, 1, 3, 3)
        smooth = F.conv2d(x, kernel, padding=1, groups=channels)
        out = x + (1.0 - sharp.view(-1, 1, 1, 1)) * (smooth - x)
        out = out.clamp(self.value_range[0], self.value_range[1])
        return self._from_nchw(out, images)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range,
                "seed": self.seed}
