"""`keras.ops` normalization ops defined at Keras' ops level: normalize, layer_normalization,
rms_normalization, polar (formulas as in `keras/src/ops/nn.py`)."""

import warnings

import torch
import torch.nn.functional as F

from kerastorch import config
from kerastorch.ops._dtypes import result_type, standardize_dtype
from kerastorch.ops.core import cast, convert_to_tensor


def _is_continuous_axis(axis, ndim):
    if isinstance(axis, int):
        return True
    axis = sorted(a % ndim for a in axis)
    return all(b - a == 1 for a, b in zip(axis, axis[1:]))


def _trailing(axis, ndim):
    axes = [axis] if isinstance(axis, int) else list(axis)
    axes = sorted(a % ndim for a in axes)
    return axes == list(range(ndim - len(axes), ndim)), axes


def normalize(x, axis=-1, order=2, epsilon=None):
    """`x / max(norm(x, order), epsilon)` over `axis` (order 2: `x * min(rsqrt(sum(x^2)),
    1/epsilon)`); `epsilon` defaults to `config.epsilon()`."""
    if not isinstance(order, int) or not order >= 1:
        raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order}")
    x = convert_to_tensor(x)
    if x.ndim == 0:
        x = x.unsqueeze(0)
    if epsilon is None:
        epsilon = config.epsilon()
    if not x.is_floating_point():
        x = x.to(config.float_dtype())
    if order == 2:
        inv = torch.rsqrt(torch.sum(torch.square(x), dim=axis, keepdim=True))
        return x * torch.clamp(inv, max=1.0 / epsilon)
    norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
    return x / torch.clamp(norm, min=epsilon)


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    """`(x - mean) / sqrt(var + epsilon) * gamma + beta` over `axis` (biased variance),
    computed in at least float32; `epsilon` defaults to `config.epsilon()`."""
    rms_scaling = kwargs.pop("rms_scaling", False)
    if kwargs:
        raise TypeError(f"layer_normalization() got unexpected arguments {sorted(kwargs)}")
    if rms_scaling:
        warnings.warn("You passed `rms_scaling=True`, which is deprecated: use "
                      "`keras.ops.rms_normalization` instead.", stacklevel=2)
    if epsilon is None:
        epsilon = config.epsilon()
    x = convert_to_tensor(x)
    original = standardize_dtype(x.dtype)
    x = cast(x, result_type(x.dtype, "float32"))
    gamma = None if gamma is None else convert_to_tensor(gamma, x.dtype)
    beta = None if beta is None else convert_to_tensor(beta, x.dtype)
    trailing, axes = _trailing(axis, x.ndim)
    shape = [1] * x.ndim
    for a in axes:
        shape[a] = x.shape[a]

    def _bcast(v):
        return v if v is None or v.ndim == x.ndim or axes == [x.ndim - 1] else v.reshape(shape)

    if rms_scaling:
        outputs = x * torch.rsqrt(torch.var(x, dim=axes, keepdim=True, unbiased=False) + epsilon)
        if gamma is not None:
            outputs = outputs * _bcast(gamma)
    elif trailing:
        normalized = tuple(x.shape[a] for a in axes)
        outputs = F.layer_norm(x, normalized, None if gamma is None else gamma.reshape(normalized),
                               None if beta is None else beta.reshape(normalized), epsilon)
    else:
        mean = torch.mean(x, dim=axes, keepdim=True)
        var = torch.var(x, dim=axes, keepdim=True, unbiased=False)
        inv = torch.rsqrt(var + epsilon)
        if gamma is not None:
            inv = inv * _bcast(gamma)
        res = -mean * inv
        if beta is not None:
            res = res + _bcast(beta)
        outputs = x * inv + res
    return cast(outputs, original)


def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """`x * rsqrt(mean(square(x), axis) + epsilon) * scale`, computed in at least float32."""
    if epsilon is None:
        epsilon = config.epsilon()
    x = convert_to_tensor(x)
    original = standardize_dtype(x.dtype)
    x = cast(x, result_type(x.dtype, "float32"))
    if x.ndim == 0:
        x = x.unsqueeze(0)
    scale = None if scale is None else convert_to_tensor(scale, x.dtype)
    axes = [axis] if isinstance(axis, int) else list(axis)
    outputs = x * torch.rsqrt(torch.mean(torch.square(x), dim=axes, keepdim=True) + epsilon)
    if scale is not None:
        outputs = outputs * scale
    return cast(outputs, original)


def polar(abs_, angle):
    """The complex tensor `abs_ * (cos(angle) + i sin(angle))`."""
    abs_, angle = convert_to_tensor(abs_), convert_to_tensor(angle)
    return torch.polar(abs_, angle)
