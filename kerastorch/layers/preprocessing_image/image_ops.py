"""Keras' image ops with the JAX backend's numbers, on torch tensors: `resize_images`
(`ops.image.resize`), `affine_transform` (`ops.image.affine_transform`) and the rotation matrix
of `RandomRotation`. See the package docstring for how each maps onto torch."""

import functools
import math

import numpy as np
import torch
import torch.nn.functional as F

from kerastorch import config


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
