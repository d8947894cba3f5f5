"""Random image augmentations: `RandomFlip`, `RandomRotation`, `RandomZoom`,
`RandomTranslation`, `RandomContrast`, `RandomBrightness`."""

import torch

from kerastorch.layers.preprocessing_image.base import (
    _as_tensors, _check_affine_args, _range_factor, _RandomImageLayer, _symmetric_factor)
from kerastorch.layers.preprocessing_image.image_ops import rotation_matrix

_FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")


class RandomFlip(_RandomImageLayer):
    """Flips images at random in training: `mode` `"horizontal"`, `"vertical"` or
    `"horizontal_and_vertical"` (default; as in Keras, one coin per image flips both axes).

    Transformation: `{"flips": bool (batch, 1, 1, 1), "input_shape": ...}`."""

    _convert_input_args = False  # as in Keras

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if mode not in _FLIP_MODES:
            raise ValueError(f"RandomFlip layer {self.name} received an unknown mode: expected "
                             f"one of {_FLIP_MODES}. Received: mode={mode!r}")
        self.mode = mode

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = self._images_of(data)
        shape = (1, 1, 1) if images.ndim == 3 else (images.shape[0], 1, 1, 1)
        flips = self._uniform(shape, 0.0, 1.0, images.device) <= 0.5
        return {"flips": flips, "input_shape": tuple(images.shape)}

    def _transform_images(self, images, transformation, interpolation):
        flips = transformation["flips"]
        h_axis, w_axis = (-3, -2) if self.data_format == "channels_last" else (-2, -1)
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            images = torch.where(flips, images.flip(w_axis), images)
        if self.mode in ("vertical", "horizontal_and_vertical"):
            images = torch.where(flips, images.flip(h_axis), images)
        return images

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return self.transform_images(segmentation_masks, transformation, training)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed, "mode": self.mode}


class RandomRotation(_RandomImageLayer):
    """Rotates images by a random angle in training: `factor` is a fraction of a full turn,
    `f` -> angles in `[-f * 360, f * 360]` degrees, `(lo, hi)` -> `[lo * 360, hi * 360]`;
    positive = counter-clockwise.

    Args:
        factor: Number or pair in [-1, 1].
        fill_mode: `"reflect"` (default), `"wrap"`, `"constant"`, `"nearest"`.
        interpolation: `"bilinear"` (default) or `"nearest"`.
        seed: Int seed of the layer's own generator.
        fill_value: Value outside the image for `fill_mode="constant"`.

    Transformation: `{"angle", "rotation_matrix" (batch, 8), "image_height", "image_width",
    "batch_size"}`.
    """

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _symmetric_factor(factor, (-1, 1))
        _check_affine_args(fill_mode, interpolation)
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = fill_value

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = self._images_of(data)
        batch_size = self._batch_size(images)
        height, width = self._hw(images)
        angle = self._uniform((batch_size,), self.factor[0] * 360.0, self.factor[1] * 360.0,
                              images.device)
        matrix = rotation_matrix(angle, height, width)
        if images.ndim == 3:
            matrix = matrix.squeeze(0)
        return {"angle": angle, "rotation_matrix": matrix, "image_height": height,
                "image_width": width, "batch_size": batch_size}

    def _transform_images(self, images, transformation, interpolation):
        return self._affine(images, transformation["rotation_matrix"], interpolation)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "interpolation": self.interpolation,
                "seed": self.seed}


class _HeightWidthAffine(_RandomImageLayer):
    """RandomZoom and RandomTranslation: a height and a width factor (`_range_factor`; the
    range is open below where `_OPEN_BELOW`), then an affine warp. `width_factor=None` is
    accepted where `_WIDTH_OPTIONAL` (zoom: the height's zoom is used)."""

    _OPEN_BELOW, _WIDTH_OPTIONAL = False, False

    def __init__(self, height_factor, width_factor, fill_mode, interpolation, seed, fill_value,
                 data_format, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height_factor = height_factor
        self.height_lower, self.height_upper = _range_factor(height_factor, "height_factor",
                                                             open_below=self._OPEN_BELOW)
        self.width_factor = width_factor
        if width_factor is not None or not self._WIDTH_OPTIONAL:
            self.width_lower, self.width_upper = _range_factor(width_factor, "width_factor",
                                                               open_below=self._OPEN_BELOW)
        _check_affine_args(fill_mode, interpolation)
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.interpolation = interpolation

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor, "fill_mode": self.fill_mode,
                "interpolation": self.interpolation, "seed": self.seed,
                "fill_value": self.fill_value}


class RandomZoom(_HeightWidthAffine):
    """Zooms images by a random factor in training, about the centre. A factor `z` samples
    the input at scale `1 + z`: positive = zoom out, negative = zoom in.

    Args:
        height_factor: Number or pair in (-1, 1]; `f` -> zoom in `[1 - f, 1 + f]`.
        width_factor: Same for the width; None (default) = keep the aspect ratio (same zoom).
        fill_mode, interpolation, seed, fill_value: As for `RandomRotation`.

    Transformation: `{"height_zoom" (batch, 1), "width_zoom" (batch, 1), "input_shape"}`.
    """

    _OPEN_BELOW, _WIDTH_OPTIONAL = True, True

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(height_factor, width_factor, fill_mode, interpolation, seed, fill_value,
                         data_format, **kwargs)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = self._images_of(data)
        shape = (self._batch_size(images), 1)
        height_zoom = self._uniform(shape, 1.0 + self.height_lower, 1.0 + self.height_upper,
                                    images.device)
        width_zoom = height_zoom if self.width_factor is None else self._uniform(
            shape, 1.0 + self.width_lower, 1.0 + self.width_upper, images.device)
        return {"height_zoom": height_zoom, "width_zoom": width_zoom,
                "input_shape": tuple(images.shape)}

    def _transform_images(self, images, transformation, interpolation):
        zx = transformation["width_zoom"].to(torch.float32).reshape(-1, 1)
        zy = transformation["height_zoom"].to(torch.float32).reshape(-1, 1)
        height, width = self._hw(images)
        zeros = torch.zeros_like(zx)
        matrix = torch.cat([zx, zeros, (width - 1.0) / 2.0 * (1.0 - zx), zeros, zy,
                            (height - 1.0) / 2.0 * (1.0 - zy), zeros, zeros], dim=1)
        return self._affine(images, matrix, interpolation)


class RandomTranslation(_HeightWidthAffine):
    """Shifts images by a random fraction of their size in training.

    Args:
        height_factor: Number or pair in [-1, 1], fraction of the height; `f` -> shifts in
            `[-f * H, f * H]` (positive = down).
        width_factor: Same for the width (positive = right).
        fill_mode, interpolation, seed, fill_value: As for `RandomRotation`.

    Transformation: `{"translations" (batch, 2) = (dx, dy) in pixels, "input_shape"}`.
    """

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(height_factor, width_factor, fill_mode, interpolation, seed, fill_value,
                         data_format, **kwargs)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = self._images_of(data)
        shape = (self._batch_size(images), 1)
        height, width = self._hw(images)
        dy = self._uniform(shape, self.height_lower, self.height_upper, images.device) * height
        dx = self._uniform(shape, self.width_lower, self.width_upper, images.device) * width
        return {"translations": torch.cat([dx, dy], dim=1).to(torch.float32),
                "input_shape": tuple(images.shape)}

    def _transform_images(self, images, transformation, interpolation):
        t = transformation["translations"].to(torch.float32).reshape(-1, 2)
        ones, zeros = torch.ones_like(t[:, :1]), torch.zeros_like(t[:, :1])
        matrix = torch.cat([ones, zeros, -t[:, :1], zeros, ones, -t[:, 1:], zeros, zeros], dim=1)
        return self._affine(images, matrix, interpolation)


class RandomContrast(_RandomImageLayer):
    """Scales each image's deviation from its per-channel mean by a random factor in training,
    then clips to `value_range`: `clip((x - mean) * c + mean)`.

    Args:
        factor: Number or pair in [0, 1]; `(lo, hi)` -> `c` in `[1 - lo, 1 + hi]`. A single
            number `f` gives Keras 3's range `[1, 1 + f]` (its factor becomes `(0, f)`).
        value_range: `(min, max)` of the images, default `(0, 255)`.
        seed: Int seed of the layer's own generator.

    Transformation: `{"contrast_factor" (batch, 1, 1, 1)}`. In inference the images are
    returned as given (not cast), as in Keras.
    """

    _GEOMETRIC = False

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = _symmetric_factor(factor, (0, 1))
        if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
            raise ValueError("The `value_range` argument should be a list of two numbers. "
                             f"Received: value_range={value_range}")
        self.value_range = value_range

    def get_random_transformation(self, data, training=True, seed=None):
        images = self._images_of(data)
        shape = (1, 1, 1) if images.ndim == 3 else (images.shape[0], 1, 1, 1)
        if not training:
            return {"contrast_factor": torch.zeros(shape, device=images.device)}
        factor = self._uniform(shape, 1.0 - self.factor[0], 1.0 + self.factor[1],
                               images.device)
        return {"contrast_factor": factor}

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        images = self._float(images)
        factor = _as_tensors(transformation, images.device)["contrast_factor"].to(images.dtype)
        h_axis, w_axis = (-3, -2) if self.data_format == "channels_last" else (-2, -1)
        mean = images.mean(dim=(h_axis, w_axis), keepdim=True)
        out = (images - mean) * factor + mean
        return out.clamp(self.value_range[0], self.value_range[1])

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}


class RandomBrightness(_RandomImageLayer):
    """Adds a random offset to each image in training, then clips to `value_range`:
    `clip(x + delta * (max - min))`, `delta` uniform in the factor range.

    Args:
        factor: Number or pair in [-1, 1]; `f` -> `delta` in `[-f, f]`.
        value_range: `(min, max)` of the images, default `(0, 255)`.
        seed: Int seed of the layer's own generator.

    Transformation: `{"rgb_delta" (batch, 1, 1, 1)}` (already multiplied by `max - min`).
    Images keep their dtype.
    """

    _GEOMETRIC = False

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = _symmetric_factor(factor, (-1, 1))
        if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
            raise ValueError("The `value_range` argument should be a list of two numbers. "
                             f"Received: value_range={value_range}")
        self.value_range = sorted(value_range)

    def get_random_transformation(self, data, training=True, seed=None):
        images = self._images_of(data)
        shape = (1, 1, 1) if images.ndim == 3 else (images.shape[0], 1, 1, 1)
        if not training:
            return {"rgb_delta": torch.zeros(shape, device=images.device)}
        delta = self._uniform(shape, self.factor[0], self.factor[1], images.device)
        return {"rgb_delta": delta * (self.value_range[1] - self.value_range[0])}

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        delta = _as_tensors(transformation, images.device)["rgb_delta"]
        low, high = self.value_range
        if images.is_floating_point():
            return (images + delta.to(images.dtype)).clamp(low, high)
        # Integer images: Keras adds the delta cast to the image dtype, which wraps around for
        # unsigned types; here the sum is taken in floats and saturated instead.
        out = (images.to(torch.float32) + torch.trunc(delta)).clamp(low, high)
        info = torch.iinfo(images.dtype)
        return out.clamp(info.min, info.max).to(images.dtype)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}
