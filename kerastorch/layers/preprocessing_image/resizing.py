"""`Resizing` and `CenterCrop`."""

from kerastorch.layers.preprocessing_image.base import _check_size, _ImageLayer
from kerastorch.layers.preprocessing_image.image_ops import resize_images

RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic")


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
