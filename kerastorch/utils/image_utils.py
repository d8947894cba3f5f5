"""Image files <-> arrays, as `keras.utils.load_img` / `img_to_array` / `array_to_img` /
`save_img` and `keras.preprocessing.image.smart_resize` (PIL; numpy channels_last float32)."""

import io
import pathlib
import warnings

import numpy as np

from kerastorch import config

try:
    from PIL import Image as pil_image

    _RESAMPLING = getattr(pil_image, "Resampling", pil_image)
    PIL_INTERPOLATION_METHODS = {
        "nearest": _RESAMPLING.NEAREST, "bilinear": _RESAMPLING.BILINEAR,
        "bicubic": _RESAMPLING.BICUBIC, "hamming": _RESAMPLING.HAMMING,
        "box": _RESAMPLING.BOX, "lanczos": _RESAMPLING.LANCZOS,
    }
except ImportError:  # pragma: no cover - torchvision brings PIL
    pil_image = None
    PIL_INTERPOLATION_METHODS = {}


def _data_format(data_format):
    data_format = data_format or config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError("`data_format` must be 'channels_last' or 'channels_first'. "
                         f"Received: data_format={data_format!r}")
    return data_format


def _need_pil(name):
    if pil_image is None:
        raise ImportError(f"Could not import PIL.Image. The use of `{name}` requires PIL.")


# color_mode -> (the PIL mode to convert to, the modes kept as they are)
_COLOR_MODES = {"grayscale": ("L", ("L", "I;16", "I")), "rgba": ("RGBA", ("RGBA",)),
                "rgb": ("RGB", ("RGB",))}


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """A 3-D array -> a PIL image (`scale`: rescale min..max to 0..255)."""
    data_format = _data_format(data_format)
    _need_pil("array_to_img")
    x = np.asarray(x, dtype=dtype or config.floatx())
    if x.ndim != 3:
        raise ValueError("Expected image array to have rank 3 (single image). "
                         f"Got array with shape: {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:  # min..max -> 0..255 (a constant image becomes 0)
        x = x - np.min(x)
        top = np.max(x)
        x = (x / top if top != 0 else x) * 255
    channels = x.shape[2]
    if channels == 4:
        return pil_image.fromarray(x.astype("uint8"), "RGBA")
    if channels == 3:
        return pil_image.fromarray(x.astype("uint8"), "RGB")
    if channels == 1:
        if np.max(x) > 255:  # 32-bit signed integer grayscale
            return pil_image.fromarray(x[:, :, 0].astype("int32"), "I")
        return pil_image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Unsupported channel number: {channels}")


def img_to_array(img, data_format=None, dtype=None):
    """A PIL image -> a 3-D numpy array (`floatx` by default; `(h, w, c)` channels_last)."""
    data_format = _data_format(data_format)
    x = np.asarray(img, dtype=dtype or config.floatx())
    if x.ndim == 3:
        if data_format == "channels_first":
            x = x.transpose(2, 0, 1)
    elif x.ndim == 2:
        shape = (1, *x.shape) if data_format == "channels_first" else (*x.shape, 1)
        x = x.reshape(shape)
    else:
        raise ValueError(f"Unsupported image shape: {x.shape}")
    return x


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Save an image array to `path` (format from the file extension unless `file_format`)."""
    data_format = _data_format(data_format)
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix.lstrip(".").lower()
    file_format = "jpeg" if file_format and file_format.lower() == "jpg" else file_format
    img = array_to_img(x, data_format=data_format, scale=scale)
    if file_format == "jpeg" and img.mode == "RGBA":
        warnings.warn("The JPEG format does not support RGBA images, converting to RGB.")
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest",
             keep_aspect_ratio=False):
    """Load an image file into a PIL image.

    Args:
        path: Path to the image file (or an `io.BytesIO`).
        color_mode: `"grayscale"`, `"rgb"` or `"rgba"`.
        target_size: `None` (original size) or `(img_height, img_width)`.
        interpolation: `"nearest"`, `"bilinear"`, `"bicubic"`, `"hamming"`, `"box"` or
            `"lanczos"`.
        keep_aspect_ratio: Crop the center to the target aspect ratio before resizing.
    """
    _need_pil("load_img")
    if not isinstance(path, (io.BytesIO, pathlib.Path, bytes, str)):
        raise TypeError(f"path should be path-like or io.BytesIO, not {type(path)}")
    if color_mode not in _COLOR_MODES:
        raise ValueError('color_mode must be "grayscale", "rgb", or "rgba"')
    if isinstance(path, io.BytesIO):
        img = pil_image.open(path)
    else:  # read the whole file first, so no file handle stays open behind the image
        with open(path.resolve() if isinstance(path, pathlib.Path) else path, "rb") as f:
            img = pil_image.open(io.BytesIO(f.read()))
    target_mode, kept_modes = _COLOR_MODES[color_mode]
    if img.mode not in kept_modes:
        img = img.convert(target_mode)
    if target_size is not None:
        wh = (target_size[1], target_size[0])
        if img.size != wh:
            if interpolation not in PIL_INTERPOLATION_METHODS:
                raise ValueError(f"Invalid interpolation method {interpolation} specified. "
                                 "Supported methods are "
                                 f"{', '.join(PIL_INTERPOLATION_METHODS)}")
            resample = PIL_INTERPOLATION_METHODS[interpolation]
            if keep_aspect_ratio:
                width, height = img.size
                crop_h = min(height, width * wh[1] // wh[0])
                crop_w = min(width, height * wh[0] // wh[1])
                top, left = (height - crop_h) // 2, (width - crop_w) // 2
                img = img.resize(wh, resample, box=[left, top, left + crop_w, top + crop_h])
            else:
                img = img.resize(wh, resample)
    return img


def smart_resize(x, size, interpolation="bilinear", data_format="channels_last"):
    """Resize to `size` without distorting: crop the largest centered window of the target
    aspect ratio, then resize it. A numpy input gives a numpy output, a tensor a tensor."""
    import torch

    from kerastorch.layers.preprocessing_image.image_ops import resize_images

    if len(size) != 2:
        raise ValueError(f"Expected `size` to be a tuple of 2 integers, but got: {size}.")
    img = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
    if img.ndim not in (3, 4):
        raise ValueError("Expected an image array with shape `(height, width, channels)`, or "
                         "`(batch_size, height, width, channels)`, but got input with incorrect "
                         f"rank, of shape {tuple(img.shape)}.")
    out = resize_images(img, size, interpolation=interpolation, crop_to_aspect_ratio=True,
                        data_format=data_format)
    return out.numpy() if isinstance(x, np.ndarray) else out
