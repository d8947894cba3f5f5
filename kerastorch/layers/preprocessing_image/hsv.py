"""HSV augmentations and the jitter that chains them: `RandomSaturation`, `RandomHue`,
`RandomColorJitter`; `rgb_to_hsv` / `hsv_to_rgb` with the formulas of Keras' JAX backend
(dm_pix). Identity in inference, as in Keras."""

import torch

from kerastorch import config
from kerastorch.layers.preprocessing_image.augmentation import RandomBrightness, RandomContrast
from kerastorch.layers.preprocessing_image.base import _symmetric_factor
from kerastorch.layers.preprocessing_image.color import (
    _ColorLayer, check_value_range, transform_value_range)


def rgb_to_hsv(images, channel_axis=-1):
    """Float RGB images -> HSV (hue in [0, 1)); Keras' `ops.image.rgb_to_hsv` on JAX."""
    eps = torch.finfo(images.dtype).eps
    images = torch.where(images.abs() < eps, torch.zeros_like(images), images)
    r, g, b = images.unbind(channel_axis)
    value = torch.maximum(torch.maximum(r, g), b)
    range_ = value - torch.minimum(torch.minimum(r, g), b)
    safe_value = torch.where(value > 0, value, torch.ones_like(value))
    safe_range = torch.where(range_ > 0, range_, torch.ones_like(range_))
    saturation = torch.where(value > 0, range_ / safe_value, torch.zeros_like(value))
    norm = 1.0 / (6.0 * safe_range)
    hue = torch.where(value == g, norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0)
    hue = torch.where(value == r, norm * (g - b), hue)
    hue = torch.where(range_ > 0, hue, torch.zeros_like(hue)) + (hue < 0.0).to(hue.dtype)
    return torch.stack([hue, saturation, value], dim=channel_axis)


def hsv_to_rgb(images, channel_axis=-1):
    """HSV -> RGB; Keras' `ops.image.hsv_to_rgb` on JAX."""
    hue, saturation, value = images.unbind(channel_axis)
    dh = torch.remainder(hue, 1.0) * 6.0
    dr = ((dh - 3.0).abs() - 1.0).clamp(0.0, 1.0)
    dg = (2.0 - (dh - 2.0).abs()).clamp(0.0, 1.0)
    db = (2.0 - (dh - 4.0).abs()).clamp(0.0, 1.0)
    one_minus_s = 1.0 - saturation
    return torch.stack([value * (one_minus_s + saturation * d) for d in (dr, dg, db)],
                       dim=channel_axis)


class RandomSaturation(_ColorLayer):
    """Scales each image's saturation in training: `f` drawn per image in the factor range
    becomes `f / (1 - f + epsilon)` (so 0.5 keeps the image, 0 makes it grey, 1 saturates it
    fully), the HSV saturation is multiplied by it and clipped to `value_range`.

    Args:
        factor: Number `f` (range `(-f, f)`, Keras' base factor) or pair.
        value_range: `(min, max)` of the images (default `(0, 255)`).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: Int seed of the layer's own generator.

    Transformation: `{"factor": (batch,)}` (already `f / (1 - f + epsilon)`).
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _symmetric_factor(factor, (-1, 1))
        self.value_range = check_value_range(value_range)

    def get_random_transformation(self, data, training=True, seed=None):
        images = self._images_of(data)
        f = self._uniform((self._batch_size(images),), self.factor[0], self.factor[1],
                          images.device)
        return {"factor": f / (1 - f + config.epsilon())}

    def transform_images(self, images, transformation=None, training=True):
        if not training:
            return images
        x = self._float(self._batched(images))
        axis = 3 if self.data_format == "channels_last" else 1
        factor = self._tensors(x, transformation)["factor"].to(x.dtype).view(-1, 1, 1)
        h, s, v = rgb_to_hsv(x, axis).unbind(axis)
        s = (s * factor).clamp(self.value_range[0], self.value_range[1])
        out = hsv_to_rgb(torch.stack([h, s, v], dim=axis), axis)
        return self._unbatched(out, images)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range,
                "seed": self.seed}


class RandomHue(_ColorLayer):
    """Shifts each image's hue in training by `+-f / 2` of a turn, `f` drawn in the factor
    range and the sign by a coin: on the image mapped to [0, 1], `h + shift` wrapped into
    [0, 1], back to RGB, clipped to [0, 1] and mapped back to `value_range`.

    Args:
        factor: Number `f` (range `(0, f)`) or pair in [0, 1].
        value_range: `(min, max)` of the images (default `(0, 255)`).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: Int seed of the layer's own generator.

    Transformation: `{"factor": (batch,)}` (the signed shift).
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _symmetric_factor(factor, (0, 1))
        self.value_range = value_range

    def get_random_transformation(self, data, training=True, seed=None):
        images = self._images_of(data)
        batch, device = self._batch_size(images), images.device
        invert = torch.where(self._uniform((batch,), 0.0, 1.0, device) > 0.5, -1.0, 1.0)
        factor = self._uniform((batch,), self.factor[0], self.factor[1], device)
        return {"factor": invert * factor * 0.5}

    def transform_images(self, images, transformation=None, training=True):
        if not training:
            return images
        x = self._float(self._batched(images))
        x = transform_value_range(x, self.value_range, (0, 1))
        axis = 3 if self.data_format == "channels_last" else 1
        shift = self._tensors(x, transformation)["factor"].to(x.dtype).view(-1, 1, 1)
        h, s, v = rgb_to_hsv(x, axis).unbind(axis)
        h = h + shift
        h = torch.where(h > 1.0, h - 1.0, h)
        h = torch.where(h < 0.0, h + 1.0, h)
        out = hsv_to_rgb(torch.stack([h, s, v], dim=axis), axis).clamp(0, 1)
        return self._unbatched(transform_value_range(out, (0, 1), self.value_range), images)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range,
                "seed": self.seed}


class RandomColorJitter(_ColorLayer):
    """`RandomBrightness`, `RandomContrast`, `RandomSaturation` and `RandomHue` in that order,
    each only when its factor is given, all with `value_range` and `seed` (training only;
    images are cast to the layer's float dtype first).

    Args:
        value_range: `(min, max)` of the images (default `(0, 255)`).
        brightness_factor, contrast_factor, saturation_factor, hue_factor: Each sub-layer's
            `factor`, or None (default) to skip it.
        seed: Int seed of the sub-layers' generators.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    The sub-layers are the attributes `random_brightness`, `random_contrast`,
    `random_saturation`, `random_hue` (None when skipped), as in Keras.
    """

    def __init__(self, value_range=(0, 255), brightness_factor=None, contrast_factor=None,
                 saturation_factor=None, hue_factor=None, seed=None, data_format=None,
                 **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = value_range
        self.brightness_factor = brightness_factor
        self.contrast_factor = contrast_factor
        self.saturation_factor = saturation_factor
        self.hue_factor = hue_factor
        common = {"value_range": value_range, "seed": seed, "data_format": self.data_format}
        self.random_brightness = None if brightness_factor is None else \
            RandomBrightness(brightness_factor, **common)
        self.random_contrast = None if contrast_factor is None else \
            RandomContrast(contrast_factor, **common)
        self.random_saturation = None if saturation_factor is None else \
            RandomSaturation(saturation_factor, **common)
        self.random_hue = None if hue_factor is None else RandomHue(hue_factor, **common)

    def get_random_transformation(self, data, training=True, seed=None):
        return None

    def transform_images(self, images, transformation=None, training=True):
        if not training:
            return images
        images = self._float(images)
        for layer in (self.random_brightness, self.random_contrast, self.random_saturation,
                      self.random_hue):
            if layer is not None:
                images = layer.transform_images(images, layer.get_random_transformation(images))
        return self._float(images)

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range,
                "brightness_factor": self.brightness_factor,
                "contrast_factor": self.contrast_factor,
                "saturation_factor": self.saturation_factor, "hue_factor": self.hue_factor,
                "seed": self.seed}
