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

The modules: `image_ops` (the tensor ops), `base` (the layer bases), `resizing`
(`Resizing`, `CenterCrop`), `augmentation` (the random geometric layers, contrast,
brightness), `crop` (`RandomCrop`), `color` (grayscale, invert, solarization, posterization,
auto contrast, sharpness), `hsv` (saturation, hue, colour jitter).
"""

from kerastorch.layers.preprocessing_image.augmentation import RandomBrightness as RandomBrightness
from kerastorch.layers.preprocessing_image.augmentation import RandomContrast as RandomContrast
from kerastorch.layers.preprocessing_image.augmentation import RandomFlip as RandomFlip
from kerastorch.layers.preprocessing_image.augmentation import RandomRotation as RandomRotation
from kerastorch.layers.preprocessing_image.augmentation import (
    RandomTranslation as RandomTranslation)
from kerastorch.layers.preprocessing_image.augmentation import RandomZoom as RandomZoom
from kerastorch.layers.preprocessing_image.color import AutoContrast as AutoContrast
from kerastorch.layers.preprocessing_image.color import RandomGrayscale as RandomGrayscale
from kerastorch.layers.preprocessing_image.color import RandomInvert as RandomInvert
from kerastorch.layers.preprocessing_image.color import RandomPosterization as RandomPosterization
from kerastorch.layers.preprocessing_image.color import RandomSharpness as RandomSharpness
from kerastorch.layers.preprocessing_image.color import Solarization as Solarization
from kerastorch.layers.preprocessing_image.crop import RandomCrop as RandomCrop
from kerastorch.layers.preprocessing_image.hsv import RandomColorJitter as RandomColorJitter
from kerastorch.layers.preprocessing_image.hsv import RandomHue as RandomHue
from kerastorch.layers.preprocessing_image.hsv import RandomSaturation as RandomSaturation
from kerastorch.layers.preprocessing_image.resizing import CenterCrop as CenterCrop
from kerastorch.layers.preprocessing_image.resizing import Resizing as Resizing

__all__ = ["Resizing", "CenterCrop", "RandomFlip", "RandomRotation", "RandomZoom",
           "RandomTranslation", "RandomContrast", "RandomBrightness", "RandomCrop",
           "RandomGrayscale", "RandomInvert", "Solarization", "RandomPosterization",
           "AutoContrast", "RandomSharpness", "RandomSaturation", "RandomHue",
           "RandomColorJitter"]
