"""Image preprocessing layers: `Resizing`, `CenterCrop` and the augmentations `RandomFlip`,
`RandomRotation`, `RandomZoom`, `RandomTranslation`, `RandomContrast`, `RandomBrightness`.

Images are `(H, W, C)` or `(batch, H, W, C)` (channels_last, the default) or the channels_first
equivalents. The numbers are those of Keras 3 on JAX:

- Resizing follows `jax.image.resize` (half-pixel centres, `antialias=False` by default).
  Plain bilinear is `F.interpolate(mode="bilinear", align_corners=False)` (same weights: jax
  renormalises the kernel at the edges, torch clamps the source index, both give the edge pixel).
  `nearest` is an index gather with jax's `floor((i + 0.5) * in / out)` (torch's "nearest" uses
  `floor(i * in / out)`). `bicubic` (jax: Keys a=-0.5, torch/torchvision: a=-0.75, edge handling
  differs too), `lanczos3/5` and `antialias=True` apply jax's separable weight matrices.
- Rotation, zoom and translation are Keras' `affine_transform` (output pixel -> input point,
  scipy `map_coordinates` fill modes) done with one `F.grid_sample`: `reflect` (d c b a | a b c
  d | d c b a) is grid_sample's reflection with align_corners=False; `nearest` is border padding;
  `constant` is zero padding of `image - fill_value`; `wrap` (torchvision has none) is a
  one-pixel circular pad. torchvision's `rotate`/`affine` only fill with a constant and use
  another centre convention, so they are not used.

The random layers draw one transformation per image from torch's RNG (`seed` -> a private
`torch.Generator` per device). Their training-mode numbers cannot match Keras' RNG; the
transformation itself is exposed as Keras does: `get_random_transformation(images)` returns a
dict with Keras' keys, and `transform_images(images, transformation)` applies it.
"""

import functools
import math

import numpy as np
import torch
import torch.nn.functional as F

from kerastorch import config
from kerastorch.layers.layer import Layer
from kerastorch.layers.preprocessing import _compute_dtype

__all__ = ["Resizing", "CenterCrop", "RandomFlip", "RandomRotation", "RandomZoom",
           "RandomTranslation", "RandomContrast", "RandomBrightness"]

RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic")
AFFINE_INTERPOLATIONS = ("nearest", "bilinear")
AFFINE_FILL_MODES = ("reflect", "wrap", "constant", "nearest")
_FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")


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


# ---------------------------------------------------------------------------- resizing
def _keys_cubic(x):
    out = ((1.5 * x - 2.5) * x) * x + 1.0
    out = torch.where(x >= 1.0, ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0, out)
    return torch.where(x >= 2.0, torch.zeros_like(x), out)


def _lanczos(radius, x):
    y = radius * torch.sin(math.pi * x) * torch.sin(math.pi * x / radius)
    safe = torch.where(x != 0, math.pi ** 2 * x ** 2, torch.ones_like(x))
    out = torch.where(x > 1e-3, y / safe, torch.ones_like(x))
    return torch.where(x > radius, torch.zeros_like(x), out)


_KERNELS = {
    "bilinear": lambda x: torch.clamp(1.0 - x, min=0.0),
    "bicubic": _keys_cubic,
    "lanczos3": functools.partial(_lanczos, 3.0),
    "lanczos5": functools.partial(_lanczos, 5.0),
}


@functools.lru_cache(maxsize=64)
def _resize_weights(in_size, out_size, method, antialias, device, dtype):
    """jax.image's `compute_weight_mat` (translation 0): an (in_size, out_size) matrix."""
    inv_scale = in_size / out_size
    kernel_scale = max(inv_scale, 1.0) if antialias else 1.0
    sample = (torch.arange(out_size, dtype=torch.float32) + 0.5) * inv_scale - 0.5
    dist = (sample[None, :] - torch.arange(in_size, dtype=torch.float32)[:, None]).abs()
    weights = _KERNELS[method](dist / kernel_scale)
    total = weights.sum(dim=0, keepdim=True)
    eps = 1000.0 * float(np.finfo(np.float32).eps)
    weights = torch.where(total.abs() > eps,
                          weights / torch.where(total != 0, total, torch.ones_like(total)),
                          torch.zeros_like(weights))
    inside = (sample >= -0.5) & (sample <= in_size - 0.5)
    weights = torch.where(inside[None, :], weights, torch.zeros_like(weights))
    return weights.to(device=device, dtype=dtype)


@functools.lru_cache(maxsize=64)
def _nearest_index(in_size, out_size, device):
    # jax: floor((arange(out) + 0.5) * in / out) in float32.
    idx = torch.floor((torch.arange(out_size, dtype=torch.float32) + 0.5) * in_size / out_size)
    return idx.long().clamp_(max=in_size - 1).to(device)


def _resize_nchw(x, height, width, interpolation, antialias):
    h, w = x.shape[-2:]
    if interpolation == "nearest":  # any dtype, exact gather
        if h != height:
            x = x.index_select(-2, _nearest_index(h, height, x.device))
        if w != width:
            x = x.index_select(-1, _nearest_index(w, width, x.device))
        return x
    dtype = x.dtype
    out = x if x.is_floating_point() else x.to(config.float_dtype())
    if (h, w) == (height, width):
        pass
    elif interpolation == "bilinear" and not antialias:
        out = F.interpolate(out, size=(height, width), mode="bilinear", align_corners=False)
    else:
        if w != width:
            out = out @ _resize_weights(w, width, interpolation, antialias, out.device, out.dtype)
        if h != height:
            out = _resize_weights(h, height, interpolation, antialias, out.device,
                                  out.dtype).T @ out
    if not dtype.is_floating_point:  # Keras rounds and saturates back to the integer dtype
        info = torch.iinfo(dtype)
        out = torch.round(out).clamp_(info.min, info.max).to(dtype)
    return out


def resize_images(images, size, interpolation="bilinear", antialias=False,
                  crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, fill_value=0.0,
                  data_format="channels_last"):
    """Keras' `ops.image.resize` (JAX backend numbers) on a 3-D or 4-D tensor."""
    target_h, target_w = size
    x = images if images.ndim == 4 else images.unsqueeze(0)
    if data_format == "channels_last":
        x = x.movedim(-1, 1)  # NCHW view of NHWC storage (channels_last memory format)
    h, w = x.shape[-2:]
    if crop_to_aspect_ratio:
        crop_h = max(min(h, int(float(w * target_h) / target_w)), 1)
        crop_w = max(min(w, int(float(h * target_w) / target_h)), 1)
        top, left = int(float(h - crop_h) / 2), int(float(w - crop_w) / 2)
        x = x[..., top:top + crop_h, left:left + crop_w]
    elif pad_to_aspect_ratio:
        pad_h = max(h, int(float(w * target_h) / target_w))
        pad_w = max(w, int(float(h * target_w) / target_h))
        top, left = int(float(pad_h - h) / 2), int(float(pad_w - w) / 2)
        # Keras pads `top` rows on both sides (or `left` columns), never both.
        if top > 0:
            x = F.pad(x, (0, 0, top, top), value=fill_value)
        elif left > 0:
            x = F.pad(x, (left, left, 0, 0), value=fill_value)
    out = _resize_nchw(x, target_h, target_w, interpolation, antialias)
    if data_format == "channels_last":
        out = out.movedim(1, -1)
    return out if images.ndim == 4 else out.squeeze(0)


# ---------------------------------------------------------------------------- affine warps
def _round_half_away_from_zero(x):
    trunc = torch.trunc(x)
    return torch.where((x - trunc).abs() == 0.5, trunc + torch.sign(x), torch.round(x))


def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant",
                     fill_value=0.0):
    """Keras' `ops.image.affine_transform` on NCHW images, with the JAX backend's numbers.

    `transform` is `(8,)` or `(batch, 8)`: `[a0, a1, a2, b0, b1, b2, c0, c1]` maps the output
    pixel `(x, y)` to the input point `(a0 x + a1 y + a2, b0 x + b1 y + b2)` (c0, c1 unused, as
    in Keras' JAX backend). Pixels are sampled as scipy's `map_coordinates` (order 0 or 1) with
    `fill_mode` in `reflect`, `wrap`, `constant` (`fill_value`), `nearest`.
    """
    n, _, h, w = images.shape
    t = torch.as_tensor(transform).to(device=images.device, dtype=torch.float32).reshape(-1, 8)
    if t.shape[0] == 1 and n != 1:
        t = t.expand(n, 8)
    xs = torch.arange(w, device=images.device, dtype=torch.float32).view(1, 1, w)
    ys = torch.arange(h, device=images.device, dtype=torch.float32).view(1, h, 1)
    a0, a1, a2, b0, b1, b2 = (t[:, i].view(-1, 1, 1) for i in range(6))
    x = a0 * xs + a1 * ys + a2  # (n, h, w) input column of each output pixel
    y = b0 * xs + b1 * ys + b2
    if interpolation == "nearest":  # scipy rounds half away from zero, grid_sample to even
        x, y = _round_half_away_from_zero(x), _round_half_away_from_zero(y)
    work = images if images.dtype in (torch.float32, torch.float64) else images.float()
    shift = fill_mode == "constant" and fill_value != 0
    if shift:  # bilinear weights sum to 1: sampling (img - v) with zeros, then + v, fills v
        work = work - fill_value
    if fill_mode == "wrap":
        # Corner indices wrap mod size: wrap the point, pad one wrapped row/column at the end.
        work = F.pad(work, (0, 1, 0, 1), mode="circular")
        x, y = torch.remainder(x, w), torch.remainder(y, h)
        gx, gy = x * (2.0 / w) - 1.0, y * (2.0 / h) - 1.0
        padding, align = "border", True
    elif fill_mode == "reflect":  # half-sample symmetric = reflection about the pixel edges
        gx, gy = (2.0 * x + 1.0) / w - 1.0, (2.0 * y + 1.0) / h - 1.0
        padding, align = "reflection", False
    else:
        gx, gy = x * (2.0 / max(w - 1, 1)) - 1.0, y * (2.0 / max(h - 1, 1)) - 1.0
        padding, align = ("zeros" if fill_mode == "constant" else "border"), True
    grid = torch.stack((gx, gy), dim=-1).to(work.dtype)
    out = F.grid_sample(work, grid, mode=interpolation, padding_mode=padding,
                        align_corners=align)
    if shift:
        out = out + fill_value
    return out.to(images.dtype) if images.is_floating_point() else out


def rotation_matrix(angle_degrees, height, width):
    """Keras' `_compute_affine_matrix` for a rotation about the image centre: `(batch, 8)`."""
    angle = angle_degrees.to(torch.float32) * (math.pi / 180.0)  # a scalar: no host copy
    cx, cy = 0.5 * (float(width) - 1.0), 0.5 * (float(height) - 1.0)
    cos, sin = torch.cos(angle), torch.sin(angle)
    a2 = cx - cx * cos - cy * -sin
    b2 = cy - cx * sin - cy * cos
    zeros = torch.zeros_like(angle)
    return torch.stack([cos, -sin, a2, sin, cos, b2, zeros, zeros], dim=1)


# ---------------------------------------------------------------------------- base classes
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


# ---------------------------------------------------------------------------- layers
class Resizing(_ImageLayer):
    """Resizes images to `(height, width)`, as `jax.image.resize` (Keras on JAX) does.

    Args:
        height, width: Output size.
        interpolation: `"bilinear"` (default), `"nearest"`, `"bicubic"` (Keys, a=-0.5; torch's
            bicubic uses a=-0.75), `"lanczos3"`, `"lanczos5"`.
        crop_to_aspect_ratio: Centre-crop to the target aspect ratio first (no distortion).
        pad_to_aspect_ratio: Pad with `fill_value` to the target aspect ratio first.
        fill_mode: Only `"constant"`.
        antialias: Low-pass filter when downsampling (jax's scaled kernel).
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Integer images come back in their dtype (rounded, saturated), as in Keras.
    """

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0,
                 antialias=False, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height = _check_size(height, "height")
        self.width = _check_size(width, "width")
        if interpolation not in RESIZE_INTERPOLATIONS:
            raise ValueError(f"Invalid value for argument `interpolation`: expected one of "
                             f"{RESIZE_INTERPOLATIONS}. Received: interpolation={interpolation!r}")
        if fill_mode != "constant":
            raise ValueError("Invalid value for argument `fill_mode`: only 'constant' is "
                             f"supported. Received: fill_mode={fill_mode!r}")
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError("Only one of `pad_to_aspect_ratio` and `crop_to_aspect_ratio` can "
                             "be True. Received: crop_to_aspect_ratio=True and "
                             "pad_to_aspect_ratio=True")
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.antialias = bool(antialias)

    def call(self, inputs):
        self._check_images(inputs)
        if inputs.is_floating_point():
            inputs = self._float(inputs)
        return resize_images(inputs, (self.height, self.width), self.interpolation,
                             self.antialias, self.crop_to_aspect_ratio, self.pad_to_aspect_ratio,
                             self.fill_value, self.data_format)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        h_axis = -3 if self.data_format == "channels_last" else -2
        shape[h_axis], shape[h_axis + 1] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "antialias": self.antialias}


class CenterCrop(_ImageLayer):
    """Crops the central `(height, width)` of images (a view, no copy). An image smaller than
    the target is cropped to the target aspect ratio and resized (bilinear), as Keras does."""

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height = _check_size(height, "height")
        self.width = _check_size(width, "width")

    def call(self, inputs):
        self._check_images(inputs)
        x = self._float(inputs)
        h, w = self._hw(x)
        if h >= self.height and w >= self.width:
            top, left = (h - self.height) // 2, (w - self.width) // 2
            h_axis = x.ndim - 3 if self.data_format == "channels_last" else x.ndim - 2
            return x.narrow(h_axis, top, self.height).narrow(h_axis + 1, left, self.width)
        return resize_images(x, (self.height, self.width), "bilinear",
                             crop_to_aspect_ratio=True, data_format=self.data_format)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        if len(shape) not in (3, 4):
            raise ValueError(f"Layer '{self.name}' (CenterCrop) expects an input shape of rank "
                             f"3 or 4. Received: input_shape={tuple(input_shape)}")
        h_axis = -3 if self.data_format == "channels_last" else -2
        shape[h_axis], shape[h_axis + 1] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


class RandomFlip(_RandomImageLayer):
    """Flips images at random in training: `mode` `"horizontal"`, `"vertical"` or
    `"horizontal_and_vertical"` (default; as in Keras, one coin per image flips both axes).

    Transformation: `{"flips": bool (batch, 1, 1, 1), "input_shape": ...}`."""

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


class RandomZoom(_RandomImageLayer):
    """Zooms images by a random factor in training, about the centre. A factor `z` samples
    the input at scale `1 + z`: positive = zoom out, negative = zoom in.

    Args:
        height_factor: Number or pair in (-1, 1]; `f` -> zoom in `[1 - f, 1 + f]`.
        width_factor: Same for the width; None (default) = keep the aspect ratio (same zoom).
        fill_mode, interpolation, seed, fill_value: As for `RandomRotation`.

    Transformation: `{"height_zoom" (batch, 1), "width_zoom" (batch, 1), "input_shape"}`.
    """

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height_factor = height_factor
        self.height_lower, self.height_upper = _range_factor(height_factor, "height_factor",
                                                             open_below=True)
        self.width_factor = width_factor
        if width_factor is not None:
            self.width_lower, self.width_upper = _range_factor(width_factor, "width_factor",
                                                               open_below=True)
        _check_affine_args(fill_mode, interpolation)
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.interpolation = interpolation

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

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor, "fill_mode": self.fill_mode,
                "interpolation": self.interpolation, "seed": self.seed,
                "fill_value": self.fill_value}


class RandomTranslation(_RandomImageLayer):
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
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height_factor = height_factor
        self.height_lower, self.height_upper = _range_factor(height_factor, "height_factor",
                                                             open_below=False)
        self.width_factor = width_factor
        self.width_lower, self.width_upper = _range_factor(width_factor, "width_factor",
                                                           open_below=False)
        _check_affine_args(fill_mode, interpolation)
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.interpolation = interpolation

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

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor, "fill_mode": self.fill_mode,
                "interpolation": self.interpolation, "seed": self.seed,
                "fill_value": self.fill_value}


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
