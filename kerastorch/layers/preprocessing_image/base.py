"""Bases of the image preprocessing layers: `_ImageLayer` (stateless, rank 3 or 4 images) and
`_RandomImageLayer` (an augmentation with Keras' transformation API), and the argument checks
they share."""

import numpy as np
import torch

from kerastorch import config
from kerastorch.layers.layer import Layer
from kerastorch.layers.preprocessing import _compute_dtype
from kerastorch.layers.preprocessing_image.image_ops import affine_transform

AFFINE_INTERPOLATIONS = ("nearest", "bilinear")
AFFINE_FILL_MODES = ("reflect", "wrap", "constant", "nearest")


def _standardize_data_format(data_format):
    if data_format is None:
        return config.image_data_format()
    value = str(data_format).lower()
    if value not in ("channels_first", "channels_last"):
        raise ValueError("`data_format` must be 'channels_first' or 'channels_last'. "
                         f"Received: data_format={data_format!r}")
    return value


def _check_size(value, arg):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"`{arg}` must be a positive integer. Received: {arg}={value!r}")
    return int(value)


class _ImageLayer(Layer):
    """Stateless layer on images of rank 3 or 4, channels_last by default."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _standardize_data_format(data_format)
        self.built = True  # no weights; any image size is accepted

    def _check_images(self, images):
        if not isinstance(images, torch.Tensor) or images.ndim not in (3, 4):
            shape = tuple(getattr(images, "shape", ()))
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) expects images of "
                             "rank 3 (single image) or 4 (batch of images). "
                             f"Received: inputs.shape={shape}")

    def _hw(self, images):
        if self.data_format == "channels_last":
            return images.shape[-3], images.shape[-2]
        return images.shape[-2], images.shape[-1]

    def _to_nchw(self, images):
        x = images if images.ndim == 4 else images.unsqueeze(0)
        return x.movedim(-1, 1) if self.data_format == "channels_last" else x

    def _from_nchw(self, x, like):
        if self.data_format == "channels_last":
            x = x.movedim(1, -1)
        return x if like.ndim == 4 else x.squeeze(0)

    def _float(self, images):
        return images.to(_compute_dtype(self))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


def _as_tensors(transformation, device):
    """A transformation dict with array values (numpy, JAX) as tensors on `device`."""
    if transformation is None:
        return None
    out = {}
    for key, value in transformation.items():
        if isinstance(value, torch.Tensor):
            value = value.to(device)
        elif isinstance(value, np.ndarray) or (hasattr(value, "__array__")
                                               and not np.isscalar(value)):
            value = torch.as_tensor(np.asarray(value), device=device)
        out[key] = value
    return out


class _RandomImageLayer(_ImageLayer):
    """An augmentation: identity in inference, one random transformation per image in training.

    `call(images, training=None)`; images may also be a dict with `"images"` (and `"labels"`,
    passed through, and `"segmentation_masks"`, transformed with nearest sampling).
    """

    interpolation = "bilinear"
    _GEOMETRIC = True

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int,
                                                                                  np.integer))):
            raise ValueError(f"`seed` must be an integer or None. Received: seed={seed!r}")
        self.seed = seed
        self._generators = {}

    def _uniform(self, shape, low, high, device):
        generator = None
        if self.seed is not None:
            generator = self._generators.get(device)
            if generator is None:
                generator = torch.Generator(device=device)
                generator.manual_seed(int(self.seed))
                self._generators[device] = generator
        u = torch.rand(shape, generator=generator, device=device)
        return low + (high - low) * u

    def call(self, inputs, training=None):
        training = self.resolve_training(training)
        if isinstance(inputs, dict):
            return self._call_dict(inputs, training)
        self._check_images(inputs)
        transformation = self.get_random_transformation(inputs, training=training)
        return self.transform_images(inputs, transformation, training=training)

    def _call_dict(self, data, training):
        if "images" not in data:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) takes a dict with an "
                             f"'images' key. Received keys: {sorted(data)}")
        if "bounding_boxes" in data:
            raise NotImplementedError(f"Layer '{self.name}': kerastorch's augmentation layers "
                                      "do not transform bounding boxes.")
        self._check_images(data["images"])
        transformation = self.get_random_transformation(data, training=training)
        out = dict(data)
        out["images"] = self.transform_images(data["images"], transformation, training)
        if "segmentation_masks" in data:
            out["segmentation_masks"] = self.transform_segmentation_masks(
                data["segmentation_masks"], transformation, training)
        return out

    @staticmethod
    def _images_of(data):
        return data["images"] if isinstance(data, dict) else data

    def _batch_size(self, images):
        return images.shape[0] if images.ndim == 4 else 1

    def get_random_transformation(self, data, training=True, seed=None):
        """The random parameters for `data` (Keras' dict), or None in inference."""
        raise NotImplementedError

    def transform_images(self, images, transformation, training=True):
        """Apply `transformation` (from `get_random_transformation`, ours or Keras') to
        `images` (cast to the layer's float dtype)."""
        images = self._float(images)
        if training and transformation is not None:
            images = self._transform_images(images, _as_tensors(transformation, images.device),
                                            self.interpolation)
        return images

    def transform_labels(self, labels, transformation, training=True):
        return labels

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        if not self._GEOMETRIC:
            return segmentation_masks
        if training and transformation is not None:
            return self._transform_images(
                segmentation_masks, _as_tensors(transformation, segmentation_masks.device),
                "nearest")
        return segmentation_masks

    def _transform_images(self, images, transformation, interpolation):
        raise NotImplementedError

    def _affine(self, images, transform, interpolation):
        out = affine_transform(self._to_nchw(images), transform, interpolation, self.fill_mode,
                               self.fill_value)
        return self._from_nchw(out, images)


def _symmetric_factor(factor, bounds, arg="factor"):
    """Keras' base `_set_factor`: a number f -> (max(-|f|, low), |f|); a pair -> sorted."""
    low, high = bounds
    msg = (f"The `{arg}` argument should be a number (or a list of two numbers) in the range "
           f"[{low}, {high}]. Received: {arg}={factor}")
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or factor[0] > high or factor[1] < low:
            raise ValueError(msg)
        lower, upper = sorted(factor)
    elif isinstance(factor, (int, float)) and not isinstance(factor, bool):
        if factor < low or factor > high:
            raise ValueError(msg)
        factor = abs(factor)
        lower, upper = max(-factor, low), factor
    else:
        raise ValueError(msg)
    return lower, upper


def _range_factor(factor, arg, open_below):
    """RandomZoom (range (-1, 1]) and RandomTranslation ([-1, 1]) factors -> (lower, upper)."""
    interval = "(-1.0, 1.0]" if open_below else "[-1.0, 1.0]"
    msg = (f"The `{arg}` argument should be a number (or a list of two numbers) in the range "
           f"{interval}. Received: {arg}={factor}")

    def check(v):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v > 1.0 or \
                (v <= -1.0 if open_below else v < -1.0):
            raise ValueError(msg)

    if isinstance(factor, (tuple, list)):
        if len(factor) != 2:
            raise ValueError(msg)
        check(factor[0])
        check(factor[1])
        return tuple(sorted(factor))
    check(factor)
    return -abs(factor), abs(factor)


def _check_affine_args(fill_mode, interpolation):
    if fill_mode not in AFFINE_FILL_MODES:
        raise NotImplementedError(f"Unknown `fill_mode`: expected one of {AFFINE_FILL_MODES}. "
                                  f"Received: fill_mode={fill_mode!r}")
    if interpolation not in AFFINE_INTERPOLATIONS:
        raise NotImplementedError("Unknown `interpolation`: expected one of "
                                  f"{AFFINE_INTERPOLATIONS}. Received: "
                                  f"interpolation={interpolation!r}")
