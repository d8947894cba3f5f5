"""keras.ops.nn normalization and statistics on torch tensors: `moments` (optionally over all
processes of a torch.distributed run), `batch_normalization` from given statistics,
`layer_normalization` and `rms_normalization` (torch's fused kernels when the axes are the
trailing ones), `normalize` by a p-norm, `polar` and `psnr`; Keras' formulas and dtypes, the
statistics of half-precision inputs taken in float32.
"""

import warnings

import torch
import torch.nn.functional as F

from kerastorch import config
from kerastorch.ops._args import axis_indices
from kerastorch.ops._dtypes import result_type, standardize_dtype, to_torch_dtype
from kerastorch.ops.core import cast, convert_to_tensor

_HALF = (torch.float16, torch.bfloat16)


def _trailing_axes(axis, ndim):
    """`axis` as sorted indices, and whether they are the last ones of an `ndim` tensor."""
    axes = tuple(sorted(axis_indices(axis, ndim)))
    return axes, axes == tuple(range(ndim - len(axes), ndim))


class _SumOverProcesses(torch.autograd.Function):
    """All-reduce (sum) over the default process group; the gradient is summed likewise."""

    @staticmethod
    def forward(ctx, x):
        import torch.distributed as dist
        x = x.clone()
        dist.all_reduce(x)
        return x

    @staticmethod
    def backward(ctx, grad):
        import torch.distributed as dist
        grad = grad.clone()
        dist.all_reduce(grad)
        return grad


def _world_size():
    import torch.distributed as dist
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def _synchronized_moments(x, dims):
    """Mean and variance over `dims` of the batch spread across all processes."""
    count = torch.ones((), dtype=x.dtype, device=x.device)
    for d in dims:
        count = count * x.shape[d]
    local = torch.cat([torch.sum(x, dim=dims, keepdim=True).reshape(-1),
                       torch.sum(torch.square(x), dim=dims, keepdim=True).reshape(-1),
                       count.reshape(1)])
    total = _SumOverProcesses.apply(local)
    n = (total.shape[0] - 1) // 2
    kept = [1 if d in dims else s for d, s in enumerate(x.shape)]
    mean = (total[:n] / total[-1]).reshape(kept)
    square_mean = (total[n:2 * n] / total[-1]).reshape(kept)
    return mean, torch.clamp(square_mean - torch.square(mean), min=0)


def moments(x, axes, keepdims=False, synchronized=False):
    """Mean and biased variance of `x` over `axes`; `synchronized=True` takes them over the
    batch of all processes of a torch.distributed run (Keras: TensorFlow only)."""
    # Keras reduces half precision in float32 and clips the results to float16's range, for
    # bfloat16 too; integers give floatx.
    x = convert_to_tensor(x)
    dtype = x.dtype
    if dtype in _HALF:
        x = x.to(torch.float32)
    elif not x.is_floating_point():
        x = x.to(to_torch_dtype(result_type(x.dtype, float)))
        dtype = x.dtype
    dims = tuple(range(x.ndim)) if axes is None else axis_indices(axes, x.ndim)
    if synchronized and _world_size() > 1:
        mean, variance = _synchronized_moments(x, dims)
        if not keepdims:
            mean, variance = mean.squeeze(dims), variance.squeeze(dims)
    else:
        # Keras' two passes (jnp.var): torch.var_mean is many times slower on CPU
        mean = torch.mean(x, dim=dims, keepdim=True)
        variance = torch.mean(torch.square(x - mean), dim=dims, keepdim=keepdims)
        if not keepdims:
            mean = mean.squeeze(dims)
    if dtype in _HALF:
        top = torch.finfo(torch.float16).max
        mean = torch.clamp(mean, -top, top).to(dtype)
        variance = torch.clamp(variance, -top, top).to(dtype)
    return mean, variance


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """`(x - mean) / sqrt(variance + epsilon) * scale + offset`, the 1-D statistics laid along
    `axis`; computed as Keras does, `x * inv + (offset - mean * inv)`."""
    x, mean, variance = convert_to_tensor(x), convert_to_tensor(mean), convert_to_tensor(variance)
    shape = [1] * x.ndim
    shape[axis] = mean.shape[0]
    inv = torch.rsqrt(variance.reshape(shape) + epsilon)
    if scale is not None:
        inv = inv * convert_to_tensor(scale).reshape(shape)
    shift = -mean.reshape(shape) * inv
    if offset is not None:
        shift = shift + convert_to_tensor(offset).reshape(shape)
    dtype = torch.promote_types(torch.promote_types(x.dtype, inv.dtype), shift.dtype)
    if not dtype.is_floating_point:
        dtype = to_torch_dtype(result_type(dtype, float))
    return torch.addcmul(shift.to(dtype), x.to(dtype), inv.to(dtype))


def _compute_dtype(x):
    """Keras' layer/RMS norms work in at least float32."""
    return to_torch_dtype(result_type(x.dtype, "float32"))


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    """`(x - mean) / sqrt(var + epsilon) * gamma + beta` over `axis`, in at least float32 and
    cast back; the deprecated `rms_scaling=True` divides by `sqrt(var + epsilon)` only."""
    rms_scaling = kwargs.pop("rms_scaling", False)
    if kwargs:
        raise TypeError(f"layer_normalization() got unexpected arguments {sorted(kwargs)}")
    if rms_scaling:
        warnings.warn("You passed `rms_scaling=True`, which is deprecated: use "
                      "`keras.ops.rms_normalization` instead.", stacklevel=2)
    epsilon = config.epsilon() if epsilon is None else epsilon
    x = convert_to_tensor(x)
    original = x.dtype
    x = x.to(_compute_dtype(x))
    gamma = None if gamma is None else convert_to_tensor(gamma, x.dtype)
    beta = None if beta is None else convert_to_tensor(beta, x.dtype)
    axes, trailing = _trailing_axes(axis, x.ndim)
    normalized = tuple(x.shape[a] for a in axes)
    broadcast = [x.shape[d] if d in axes else 1 for d in range(x.ndim)]

    def laid_out(v):  # a parameter over the normalized axes, shaped to broadcast against x
        if v is None or v.ndim == x.ndim or axes == (x.ndim - 1,):
            return v
        return v.reshape(broadcast)

    if rms_scaling:
        centred = x - torch.mean(x, dim=axes, keepdim=True)
        out = x * torch.rsqrt(torch.mean(torch.square(centred), dim=axes, keepdim=True) + epsilon)
        if gamma is not None:
            out = out * laid_out(gamma)
    elif trailing:
        out = F.layer_norm(x, normalized, None if gamma is None else gamma.reshape(normalized),
                           None if beta is None else beta.reshape(normalized), epsilon)
    else:
        mean = torch.mean(x, dim=axes, keepdim=True)
        inv = torch.rsqrt(torch.mean(torch.square(x - mean), dim=axes, keepdim=True) + epsilon)
        if gamma is not None:
            inv = inv * laid_out(gamma)
        shift = -mean * inv
        if beta is not None:
            shift = shift + laid_out(beta)
        out = x * inv + shift
    return out.to(original)


def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """`x * rsqrt(mean(x^2) + epsilon) * scale` over `axis`, in at least float32 and cast
    back to `x`'s dtype; `epsilon` defaults to `config.epsilon()`."""
    epsilon = config.epsilon() if epsilon is None else epsilon
    x = convert_to_tensor(x)
    original = x.dtype
    x = x.to(_compute_dtype(x))
    if x.ndim == 0:
        x = x.unsqueeze(0)
    scale = None if scale is None else convert_to_tensor(scale, x.dtype)
    axes, trailing = _trailing_axes(axis, x.ndim)
    normalized = tuple(x.shape[a] for a in axes)
    if trailing and (scale is None or tuple(scale.shape) == normalized):
        out = F.rms_norm(x, normalized, scale, epsilon)
    else:
        out = x * torch.rsqrt(torch.mean(torch.square(x), dim=axes, keepdim=True) + epsilon)
        if scale is not None:
            out = out * scale
    return out.to(original)


def normalize(x, axis=-1, order=2, epsilon=None):
    """`x / max(norm(x, order), epsilon)` over `axis` (two axes: a matrix norm, as
    `linalg.norm`); order 2 is Keras' `x * min(rsqrt(sum(x^2)), 1 / epsilon)`."""
    if not isinstance(order, int) or not order >= 1:
        raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order}")
    x = convert_to_tensor(x)
    if x.ndim == 0:
        x = x.unsqueeze(0)
    epsilon = config.epsilon() if epsilon is None else epsilon
    if not x.is_floating_point():
        x = x.to(to_torch_dtype(result_type(x.dtype, float)))
    axis = tuple(axis) if isinstance(axis, list) else axis
    if order != 2:
        norm = torch.linalg.norm(x, ord=order, dim=axis, keepdim=True)
        return x / torch.clamp(norm, min=epsilon)
    inv = torch.rsqrt(torch.sum(torch.square(x), dim=axis, keepdim=True))
    if 1.0 / epsilon < torch.finfo(x.dtype).max:  # else the bound is inf in x's dtype
        inv = torch.clamp(inv, max=1.0 / epsilon)
    return x * inv


def polar(abs_, angle):
    """The complex tensor `abs_ * (cos(angle) + i sin(angle))`; complex64 unless an input is
    float64 (half-precision and integer inputs are taken as float32)."""
    abs_, angle = convert_to_tensor(abs_), convert_to_tensor(angle)
    dtype = to_torch_dtype(result_type(abs_.dtype, angle.dtype, "float32"))
    return torch.polar(abs_.to(dtype), angle.to(dtype))


def psnr(x1, x2, max_val):
    """Peak signal-to-noise ratio `20 log10(max_val) - 10 log10(mean((x1 - x2)^2))`, a scalar
    over all elements; `max_val` is taken in `x2`'s dtype."""
    x1, x2 = convert_to_tensor(x1), convert_to_tensor(x2)
    if x1.shape != x2.shape:
        raise ValueError(f"Input shapes {tuple(x1.shape)} and {tuple(x2.shape)} must match "
                         "for PSNR calculation. ")
    max_val = convert_to_tensor(max_val, standardize_dtype(x2.dtype))
    error = torch.square(x1 - x2)
    if not error.is_floating_point():
        error = cast(error, result_type(error.dtype, float))
    return 20 * torch.log10(max_val) - 10 * torch.log10(torch.mean(error))


__all__ = [
    "batch_normalization",
    "moments",
    "layer_normalization",
    "rms_normalization",
    "normalize",
    "polar",
    "psnr",
]
