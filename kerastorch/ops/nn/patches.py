"""keras.ops.nn patch rearrangements: `depth_to_space` / `space_to_depth` (pixel shuffle and
its inverse; channels_first is torch's `pixel_shuffle` order, channels_last TensorFlow's, the
block offset outermost in the channel index) and `unfold` / `fold` (im2col and col2im on NCHW
images, torch's `F.unfold` / `F.fold`, channel-major patch layout). Integer inputs go through
strided views (unfold) or float64 (fold), since torch's im2col kernels are float-only.
"""

import torch.nn.functional as F

from kerastorch.ops._args import data_format_of, int_tuple
from kerastorch.ops.core import convert_to_tensor

__all__ = [
    "depth_to_space",
    "space_to_depth",
    "fold",
    "unfold",
]


def _block(block_size):
    if block_size < 2:
        raise ValueError(f"`block_size` must be at least 2. Received: block_size={block_size}")
    return int(block_size)


def _image(x, op):
    x = convert_to_tensor(x)
    if x.ndim != 4:
        raise ValueError(f"`{op}` expects a 4D input. Received: x.shape={tuple(x.shape)}")
    return x


def depth_to_space(x, block_size, data_format="channels_last"):
    """Moves channel blocks of `block_size**2` into `block_size x block_size` spatial tiles:
    (N, H, W, C) -> (N, H*b, W*b, C / b**2) (or the channels_first equivalent)."""
    b = _block(block_size)
    fmt = data_format_of(data_format)
    x = _image(x, "depth_to_space")
    channels = x.shape[-1] if fmt == "channels_last" else x.shape[1]
    if channels % (b * b):
        raise ValueError(f"The number of channels ({channels}) must be divisible by "
                         f"block_size**2 ({b * b}).")
    if fmt == "channels_first":
        return F.pixel_shuffle(x, b)
    n, h, w, c = x.shape
    # channel index (row offset, column offset, out channel): tile rows after image rows
    tiles = x.reshape(n, h, w, b, b, c // (b * b)).permute(0, 1, 3, 2, 4, 5)
    return tiles.reshape(n, h * b, w * b, c // (b * b))


def space_to_depth(x, block_size, data_format="channels_last"):
    """Inverse of `depth_to_space`: (N, H, W, C) -> (N, H/b, W/b, C*b**2)."""
    b = _block(block_size)
    fmt = data_format_of(data_format)
    x = _image(x, "space_to_depth")
    spatial = x.shape[1:3] if fmt == "channels_last" else x.shape[2:]
    if spatial[0] % b or spatial[1] % b:
        raise ValueError(f"The spatial dimensions {tuple(spatial)} must be divisible by "
                         f"block_size ({b}).")
    if fmt == "channels_first":
        return F.pixel_unshuffle(x, b)
    n, h, w, c = x.shape
    tiles = x.reshape(n, h // b, b, w // b, b, c).permute(0, 1, 3, 2, 4, 5)
    return tiles.reshape(n, h // b, w // b, b * b * c)


def _patch_args(kernel_size, dilation, padding, stride):
    return (int_tuple(kernel_size, 2, "kernel_size"), int_tuple(dilation, 2, "dilation"),
            int_tuple(padding, 2, "padding", allow_zero=True), int_tuple(stride, 2, "stride"))


def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding patches of an (N, C, H, W) image as (N, C*kh*kw, L), L the patch count,
    each column ordered channel first, then kernel row, then kernel column."""
    x = convert_to_tensor(x)
    if x.ndim != 4:
        raise ValueError(f"Input must be a 4D tensor. Received: input.shape={tuple(x.shape)}")
    k, d, p, s = _patch_args(kernel_size, dilation, padding, stride)
    if x.is_floating_point():
        return F.unfold(x, k, d, p, s)
    if p[0] or p[1]:
        x = F.pad(x, (p[1], p[1], p[0], p[0]))
    n, c = x.shape[:2]
    # windows as strided views over the dilated spans, then every d-th cell of each span
    win = x.unfold(2, (k[0] - 1) * d[0] + 1, s[0]).unfold(3, (k[1] - 1) * d[1] + 1, s[1])
    win = win[..., ::d[0], ::d[1]]  # (n, c, out_h, out_w, kh, kw)
    return win.permute(0, 1, 4, 5, 2, 3).reshape(n, c * k[0] * k[1], -1)


def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sums (N, C*kh*kw, L) patches back into an (N, C, *output_size) image (col2im):
    overlapping cells add up, cells no patch reaches are zero."""
    x = convert_to_tensor(x)
    if x.ndim != 3:
        raise ValueError(f"Input must be a 3D tensor. Received: input.shape={tuple(x.shape)}")
    size = int_tuple(output_size, 2, "output_size")
    k, d, p, s = _patch_args(kernel_size, dilation, padding, stride)
    if x.shape[1] % (k[0] * k[1]):
        raise ValueError(f"The second dimension of the input ({x.shape[1]}) must be "
                         f"divisible by kernel_size product ({k[0] * k[1]}).")
    if x.is_floating_point():
        return F.fold(x, size, k, d, p, s)
    return F.fold(x.double(), size, k, d, p, s).to(x.dtype)
