"""`RandomCrop`."""

import torch

from kerastorch.layers.preprocessing_image.base import _check_size, _RandomImageLayer
from kerastorch.layers.preprocessing_image.image_ops import resize_images


class RandomCrop(_RandomImageLayer):
    """Crops a random `(height, width)` window in training, the same window for the whole
    batch (Keras' rule). An image not larger than the target on both axes is instead
    centre-cropped to the target's aspect ratio and resized (bilinear) to `(height, width)`.

    Keras 3.15 returns the images unchanged in inference (no crop: the output keeps the input
    size), and so does this layer.

    Args:
        height, width: Output size.
        seed: Int seed of the layer's own generator; as in Keras, None draws one (from torch's
            global RNG, so `keras.utils.set_random_seed` makes it reproducible) and the config
            records it.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Transformation: `(h_start, w_start)`. Segmentation masks are cropped as the images.
    """

    _convert_input_args = False  # as in Keras

    def __init__(self, height, width, seed=None, data_format=None, name=None, **kwargs):
        if seed is None:
            seed = int(torch.randint(0, 2**30, ()))
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        self.height = _check_size(height, "height")
        self.width = _check_size(width, "width")
        self._h_axis, self._w_axis = (-3, -2) if self.data_format == "channels_last" \
            else (-2, -1)

    def get_random_transformation(self, data, training=True, seed=None):
        images = self._images_of(data)
        in_h, in_w = images.shape[self._h_axis], images.shape[self._w_axis]
        if training and in_h > self.height and in_w > self.width:
            starts = self._uniform((2,), 0.0, 1.0, images.device)
            h_start = int(starts[0] * float(in_h - self.height + 1))
            w_start = int(starts[1] * float(in_w - self.width + 1))
            return (h_start, w_start)
        crop_h = max(min(in_h, int(float(in_w * self.height) / self.width)), 1)
        crop_w = max(min(in_w, int(float(in_h * self.width) / self.height)), 1)
        return (int(float(in_h - crop_h) / 2), int(float(in_w - crop_w) / 2))

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        images = self._float(images)
        h_start, w_start = (int(v) for v in transformation)
        h_index = slice(h_start, h_start + self.height)
        w_index = slice(w_start, w_start + self.width)
        index = [slice(None)] * images.ndim
        index[self._h_axis], index[self._w_axis] = h_index, w_index
        images = images[tuple(index)]
        if images.shape[self._h_axis] != self.height or images.shape[self._w_axis] != self.width:
            images = resize_images(images, (self.height, self.width),
                                   data_format=self.data_format)
        return images

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return self.transform_images(segmentation_masks, transformation, training)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        shape[self._h_axis], shape[self._w_axis] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "seed": self.seed, "data_format": self.data_format}
