"""keras.ops.nn activations on torch tensors: each op converts its input, calls torch's fused
kernel where torch has one with Keras' formula, and follows Keras-on-JAX dtypes: float inputs
keep their dtype, integer and bool inputs give `floatx()` (Keras' `int + float` promotion),
except `relu` and `hard_tanh`, which keep integers (bool becomes int32), as `jax.nn` does.
"""

import warnings

import torch
import torch.nn.functional as F

from kerastorch.ops._args import axis_index, axis_indices
from kerastorch.ops._dtypes import result_type, to_torch_dtype
from kerastorch.ops.core import convert_to_tensor

def _floating(x):
    """`x` as a tensor; integer and bool tensors promoted as Keras promotes `int + float`."""
    x = convert_to_tensor(x)
    if not (x.is_floating_point() or x.is_complex()):
        x = x.to(to_torch_dtype(result_type(x.dtype, float)))
    return x


def _weak_dtype(value):
    """Keras' dtype of an argument: the Python type of a scalar (weak), else the tensor's."""
    if isinstance(value, (bool, int, float)):
        return type(value)
    return convert_to_tensor(value).dtype


def relu(x):
    """`max(x, 0)`; integers stay integers, bool gives int32."""
    x = convert_to_tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    return torch.relu(x)


def relu6(x):
    """`min(max(x, 0), 6)`; integers give floatx (JAX clips against the float `6.`)."""
    return F.relu6(_floating(x))


def sigmoid(x):
    """`1 / (1 + exp(-x))`."""
    return torch.sigmoid(_floating(x))


def sparse_sigmoid(x):
    """0 below -1, 1 above 1, `(x + 1) / 2` in between."""
    return torch.clamp((_floating(x) + 1) * 0.5, 0, 1)


def tanh_shrink(x):
    """`x - tanh(x)`."""
    return F.tanhshrink(_floating(x))


def softplus(x):
    """`log(1 + exp(x))`."""
    # torch returns x itself above x = 20; the gap to log1p(exp(x)) is below float32's ulp.
    return F.softplus(_floating(x))


def softsign(x):
    """`x / (1 + |x|)`."""
    return F.softsign(_floating(x))


def _nan_to_zero(x):
    return torch.nan_to_num(x, nan=0.0, posinf=float("inf"), neginf=float("-inf"))


def soft_shrink(x, threshold=0.5):
    """`x - threshold` above `threshold`, `x + threshold` below `-threshold`, else 0."""
    x = _floating(x)
    # Keras compares, so nan gives 0 where torch's kernel keeps nan; torch refuses a negative
    # threshold, which Keras' formula takes.
    if isinstance(threshold, (int, float)) and threshold >= 0:
        return _nan_to_zero(F.softshrink(x, lambd=threshold))
    return torch.where(x > threshold, x - threshold,
                       torch.where(x < -threshold, x + threshold, 0))


def sparse_plus(x):
    """0 at or below -1, `x` at or above 1, `(x + 1)^2 / 4` in between."""
    x = _floating(x)
    # (x + 1)^2 / 4 >= x everywhere, and is 0 / 1 at the clipped ends: no mask needed
    return torch.maximum(x, 0.25 * torch.square(torch.clamp(x, -1.0, 1.0) + 1))


def silu(x):
    """`x * sigmoid(x)` (`swish`)."""
    return F.silu(_floating(x))


def squareplus(x, b=4):
    """`(x + sqrt(x^2 + b)) / 2`."""
    x = _floating(x)
    if not isinstance(b, (int, float)):
        b = convert_to_tensor(b)
    return (x + torch.sqrt(torch.square(x) + b)) / 2


def log_sigmoid(x):
    """`log(sigmoid(x))`, computed stably as `-softplus(-x)`."""
    return F.logsigmoid(_floating(x))


def leaky_relu(x, negative_slope=0.2):
    """`x` where `x >= 0`, else `negative_slope * x` (Keras' slope 0.2, not torch's 0.01)."""
    return F.leaky_relu(_floating(x), negative_slope=negative_slope)


def hard_sigmoid(x):
    """`relu6(x + 3) / 6`."""
    return F.hardsigmoid(_floating(x))


def hard_silu(x):
    """`x * relu6(x + 3) / 6` (`hard_swish`)."""
    return F.hardswish(_floating(x))


def elu(x, alpha=1.0):
    """`x` where `x > 0`, else `alpha * (exp(x) - 1)`."""
    return F.elu(_floating(x), alpha=alpha)


def selu(x):
    """Scaled ELU with the self-normalizing constants (scale ~1.0507, alpha ~1.6733)."""
    return F.selu(_floating(x))


def gelu(x, approximate=True):
    """Gaussian error linear unit; Keras' default is the tanh approximation (torch's is exact)."""
    return F.gelu(_floating(x), approximate="tanh" if approximate else "none")


def celu(x, alpha=1.0):
    """`x` where `x > 0`, else `alpha * (exp(x / alpha) - 1)`."""
    return F.celu(_floating(x), alpha=alpha)


def glu(x, axis=-1):
    """Halves `a, b` of `x` along `axis` give `a * sigmoid(b)`."""
    x = _floating(x)
    return F.glu(x, dim=axis_index(axis, x.ndim))


def hard_tanh(x):
    """`x` clipped to `[-1, 1]`; integers stay integers, bool gives int32."""
    x = convert_to_tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    if x.dtype == torch.uint8:  # -1 is not a uint8
        return torch.clamp(x, max=1)
    if x.is_floating_point():
        return F.hardtanh(x)
    return torch.clamp(x, -1, 1)


def hard_shrink(x, threshold=0.5):
    """`x` where `|x| > threshold`, else 0 (nan too: Keras compares, torch's kernel keeps it)."""
    x = _floating(x)
    if isinstance(threshold, (int, float)):
        return _nan_to_zero(F.hardshrink(x, lambd=threshold))
    return torch.where(torch.abs(x) > threshold, x, 0)


def threshold(x, threshold, default_value):
    """`x` where `x > threshold`, else `default_value`; the dtype is Keras' promotion of `x`
    with `default_value` (an int tensor with a float default gives floatx)."""
    x = convert_to_tensor(x)
    dtype = to_torch_dtype(result_type(x.dtype, _weak_dtype(default_value)))
    scalars = isinstance(threshold, (int, float)) and isinstance(default_value, (int, float))
    if scalars and x.is_floating_point() and x.dtype == dtype:
        return F.threshold(x, threshold, default_value)
    if not isinstance(threshold, (int, float)):
        threshold = convert_to_tensor(threshold)
    if not isinstance(default_value, (int, float)):
        default_value = convert_to_tensor(default_value, dtype)
    return torch.where(x > threshold, x.to(dtype), default_value)


def _over_axes(fn, x, axis):
    """`fn` (a last-axis op) applied jointly over the axes `axis` (a tuple or list)."""
    axes = axis_indices(axis, x.ndim)
    if axes == tuple(range(x.ndim - len(axes), x.ndim)):  # trailing axes: one reshape
        return fn(x.reshape(*x.shape[:x.ndim - len(axes)], -1)).reshape(x.shape)
    kept = [d for d in range(x.ndim) if d not in axes]
    moved = x.permute(*kept, *axes)
    out = fn(moved.reshape(*moved.shape[:len(kept)], -1)).reshape(moved.shape)
    order = [*kept, *axes]
    return out.permute(*sorted(range(x.ndim), key=order.__getitem__))


def _softmax_family(torch_fn, x, axis):
    x = _floating(x)
    if axis is None:
        return torch_fn(x.reshape(-1), 0).reshape(x.shape)
    if isinstance(axis, (tuple, list)):
        return _over_axes(lambda v: torch_fn(v, -1), x, axis)
    return torch_fn(x, axis)


def _warn_size_one(x, axis):
    shape = getattr(x, "shape", None)
    if isinstance(axis, int) and shape is not None and -len(shape) <= axis < len(shape) \
            and shape[axis] == 1:
        warnings.warn(f"You are using a softmax over axis {axis} of a tensor of shape "
                      f"{tuple(shape)}. This axis has size 1. The softmax operation will always "
                      "return the value 1, which is likely not what you intended. Did you mean "
                      "to use a sigmoid instead?", stacklevel=3)


def softmax(x, axis=-1):
    """`exp(x) / sum(exp(x))` over `axis` (an int, a tuple of axes taken jointly, or None for
    all); warns, as Keras does, when the axis has size 1."""
    _warn_size_one(x, axis)
    return _softmax_family(torch.softmax, x, axis)


def log_softmax(x, axis=-1):
    """`x - logsumexp(x)` over `axis` (an int, a tuple of axes taken jointly, or None)."""
    return _softmax_family(torch.log_softmax, x, axis)


def sparsemax(x, axis=-1):
    """Sparsemax over `axis`: `max(x - tau, 0)`, with Keras' threshold `tau`."""
    # Keras takes tau = (sum of the running sums over the support - 1) / k, not Martins &
    # Astudillo's (running sum at k - 1) / k: from a support of two on, the outputs need not
    # sum to 1. Keras' numbers are kept.
    x = _floating(x)
    axis = axis_index(axis, x.ndim)
    ordered = torch.sort(x, dim=axis, descending=True).values
    running = torch.cumsum(ordered, dim=axis)
    shape = [1] * x.ndim
    shape[axis] = -1
    rank = torch.arange(1, x.shape[axis] + 1, dtype=x.dtype, device=x.device).view(shape)
    support = ordered - (running - 1) / rank > 0
    k = support.sum(dim=axis, keepdim=True)
    tau = (torch.where(support, running, 0).sum(dim=axis, keepdim=True) - 1) / k
    return torch.clamp(x - tau, min=0)


swish = silu
hard_swish = hard_silu

__all__ = [
    "celu",
    "elu",
    "gelu",
    "glu",
    "hard_shrink",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "hard_tanh",
    "leaky_relu",
    "log_sigmoid",
    "log_softmax",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "silu",
    "soft_shrink",
    "softmax",
    "softplus",
    "softsign",
    "sparse_plus",
    "sparse_sigmoid",
    "sparsemax",
    "squareplus",
    "swish",
    "tanh_shrink",
    "threshold",
]
