"""`keras.ops.math` on torch: segment reductions, `top_k`/`in_top_k`, `logsumexp`, the error
function family, `rsqrt`, `logdet`, `cdist` and the complex views; the spectral ops (`fft`,
`rfft`, `stft`, `extract_sequences`, ...) live in `kerastorch.ops.signal` and are re-exported
here. Numbers and dtypes follow Keras 3 on JAX: integer and boolean inputs of the float ops
compute in `floatx()`, half-precision inputs keep their dtype.
"""

import torch

from kerastorch.ops import _dtypes
from kerastorch.ops._args import axis_indices as _axis_indices
from kerastorch.ops.core import convert_to_tensor as _tensor
from kerastorch.ops.signal import (  # noqa: F401 (the spectral half of keras.ops.math)
    extract_sequences as extract_sequences,
    fft as fft,
    fft2 as fft2,
    ifft2 as ifft2,
    irfft as irfft,
    istft as istft,
    rfft as rfft,
    stft as stft,
)

__all__ = [
    "cdist", "erf", "erfc", "erfinv", "extract_sequences", "fft", "fft2", "ifft2", "in_top_k",
    "irfft", "istft", "logdet", "logsumexp", "rfft", "rsqrt", "segment_max", "segment_min",
    "segment_prod", "segment_sum", "stft", "top_k", "view_as_complex", "view_as_real",
]

_HALF = (torch.float16, torch.bfloat16)


def _float_dtype(*dtypes):
    """The floating dtype ops of several inputs compute in: the inputs' common type when one of
    them is floating or complex (float64 tensors stay float64), else Keras' promotion of
    integers and booleans with a float, `floatx()`."""
    inexact = [d for d in dtypes if d.is_floating_point or d.is_complex]
    if not inexact:
        return _dtypes.to_torch_dtype(_dtypes.result_type(*dtypes, float))
    out = dtypes[0]
    for d in dtypes[1:]:
        out = torch.promote_types(out, d)
    return out


def _float_tensor(x):
    """`x` as a tensor of a floating (or complex) dtype (see `_float_dtype`)."""
    x = _tensor(x)
    if x.is_floating_point() or x.is_complex():
        return x
    return x.to(_float_dtype(x.dtype))


# ------------------------------------------------------------------ segment reductions

def _lowest(dtype):
    if dtype.is_floating_point:
        return float("-inf")
    return torch.iinfo(dtype).min


def _highest(dtype):
    if dtype.is_floating_point:
        return float("inf")
    return torch.iinfo(dtype).max


def _segment_reduce(data, segment_ids, num_segments, how):
    data, ids = _tensor(data), _tensor(segment_ids)
    if ids.ndim > 1:
        raise ValueError(
            "Argument `segment_ids` should be an 1-D vector, got shape: "
            f"{ids.ndim}. Consider either flatten input with "
            "segment_ids.reshape((-1)) and "
            "data.reshape((-1, ) + data.shape[len(segment_ids.shape):]) or "
            "vectorize with vmap.")
    if data.ndim == 0 or ids.shape[0] != data.shape[0]:
        raise ValueError(
            "Argument `segment_ids` and `data` should have same leading "
            f"dimension. Got {tuple(ids.shape)} v.s. {tuple(data.shape)}.")
    if num_segments is None:  # Keras infers it from the ids (one host read)
        num_segments = int(ids.max()) + 1 if ids.numel() else 0
    num_segments = int(num_segments)
    ids = ids.long()
    # Ids outside [0, num_segments) are dropped, as JAX does: they land in one extra row.
    ids = torch.where((ids >= 0) & (ids < num_segments), ids, num_segments)
    dtype = data.dtype
    if dtype == torch.bool and how in ("amax", "amin"):
        data = data.to(torch.uint8)  # torch reduces no booleans; max/min are any/all
    rows = (num_segments + 1,) + tuple(data.shape[1:])
    if how == "sum":
        out = torch.zeros(rows, dtype=data.dtype, device=data.device).index_add(0, ids, data)
    else:
        start = {"prod": 1, "amax": _lowest(data.dtype), "amin": _highest(data.dtype)}[how]
        out = torch.full(rows, start, dtype=data.dtype, device=data.device)
        index = ids.view((-1,) + (1,) * (data.ndim - 1)).expand(data.shape)  # a view
        out = out.scatter_reduce(0, index, data, how, include_self=True)
    return out[:num_segments].to(dtype)


def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """Sum of the rows of `data` in each segment (empty segments give 0); data's dtype."""
    return _segment_reduce(data, segment_ids, num_segments, "sum")


def segment_max(data, segment_ids, num_segments=None, sorted=False):
    """Maximum of the rows of `data` in each segment (empty ones: the dtype's lowest value)."""
    return _segment_reduce(data, segment_ids, num_segments, "amax")


def segment_min(data, segment_ids, num_segments=None, sorted=False):
    """Minimum of the rows of `data` in each segment (empty ones: the dtype's highest value)."""
    return _segment_reduce(data, segment_ids, num_segments, "amin")


def segment_prod(data, segment_ids, num_segments=None, sorted=False):
    """Product of the rows of `data` in each segment (empty segments give 1)."""
    return _segment_reduce(data, segment_ids, num_segments, "prod")


# ------------------------------------------------------------------ ranking

def _top_k_keys(x):
    """int64 keys whose order is jax.lax.top_k's: the value (floats in IEEE total order, so
    +NaN first, -NaN last and 0.0 above -0.0) in the high 32 bits, ties to the lower index in
    the low 32. None for the 64-bit dtypes, whose values need all 64 bits."""
    if x.dtype in (torch.float64, torch.int64):
        return None
    if x.dtype.is_floating_point:  # the bits themselves: a cast may change a NaN's payload
        bits = x.view(torch.int32 if x.dtype == torch.float32 else torch.int16)
        # sign-magnitude to two's complement order: flip the magnitude bits of negatives
        value = bits ^ ((bits >> (bits.element_size() * 8 - 1)) & torch.iinfo(bits.dtype).max)
    else:
        value = x
    keys = value.to(torch.int64)
    reverse = torch.arange(x.shape[-1] - 1, -1, -1, device=x.device)
    return keys.bitwise_left_shift_(32).bitwise_or_(reverse)


def top_k(x, k, sorted=True):
    """The `k` largest entries along the last axis, largest first, and their int32 indices;
    ties go to the lower index (Keras on JAX always sorts, whatever `sorted` says)."""
    x = _tensor(x)
    if x.ndim == 0:
        raise ValueError("axis -1 is out of bounds for array of dimension 0")
    if k > x.shape[-1]:
        raise ValueError("k argument to top_k must be no larger than size along axis; got "
                         f"k={k} with shape={list(x.shape)} and axis={x.ndim - 1}")
    # torch.topk's order among equal values is unspecified: rank unique keys instead (a
    # stable sort would be exact for ties too, but is many times slower on long rows and puts
    # every NaN first). 64-bit values, which fill a key on their own, keep torch's tie order.
    keys = _top_k_keys(x)
    indices = torch.topk(x if keys is None else keys, k, dim=-1).indices
    return torch.take_along_dim(x, indices, dim=-1), indices.to(torch.int32)


def in_top_k(targets, predictions, k):
    """Whether each target's prediction ranks among the `k` largest of its row (bool).

    Ties count as inside; a NaN prediction at the target ranks last, as in Keras on JAX.
    """
    targets, predictions = _tensor(targets).long(), _tensor(predictions)
    n = predictions.shape[-1]
    targets = torch.where(targets < 0, targets + n, targets)  # negative ids wrap, as numpy's
    valid = (targets >= 0) & (targets < n)
    picked = torch.take_along_dim(predictions, targets.clamp(0, max(n - 1, 0))[..., None],
                                  dim=-1)[..., 0]
    dtype = predictions.dtype
    if dtype == torch.bool:
        floor = False
    else:
        floor = _lowest(dtype)
        if dtype.is_floating_point:
            valid = valid & ~torch.isnan(picked)
    picked = torch.where(valid, picked, floor)
    rank = 1 + (predictions > picked[..., None]).sum(-1)
    return rank <= k


# ------------------------------------------------------------------ elementwise and reductions

def logsumexp(x, axis=None, keepdims=False):
    """`log(sum(exp(x)))` over `axis` (all axes when None), computed stably; ints -> floatx."""
    x = _float_tensor(x)
    dims = tuple(range(x.ndim)) if axis is None else _axis_indices(axis, x.ndim)
    if not dims:
        return x.clone()
    return torch.logsumexp(x, dim=dims, keepdim=keepdims)


def rsqrt(x):
    """`1 / sqrt(x)`, elementwise."""
    return torch.rsqrt(_float_tensor(x))


def erf(x):
    """The Gauss error function, elementwise."""
    return torch.erf(_float_tensor(x))


def erfc(x):
    """The complementary error function `1 - erf(x)`, elementwise (accurate for large x)."""
    return torch.erfc(_float_tensor(x))


def erfinv(x):
    """The inverse error function, elementwise (`inf` at 1, NaN outside [-1, 1])."""
    return torch.erfinv(_float_tensor(x))


def logdet(x):
    """`log(|det(x)|)` of square matrices `(..., M, M)`.

    Keras takes the log-magnitude from `slogdet`, so a negative determinant gives a finite
    value where `torch.logdet` would give NaN.
    """
    x = _float_tensor(x)
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"Argument to slogdet() must have shape [..., n, n], got "
                         f"{tuple(x.shape)}")
    if x.dtype in _HALF:  # torch's LU has no half-precision kernels
        return torch.linalg.slogdet(x.float()).logabsdet.to(x.dtype)
    return torch.linalg.slogdet(x).logabsdet


def cdist(x, y):
    """Euclidean distances `(..., m, n)` between the rows of `x` `(..., m, d)` and of `y`
    `(..., n, d)`; batch axes broadcast; ints compute in floatx()."""
    x, y = _tensor(x), _tensor(y)
    if x.ndim < 2 or y.ndim < 2:
        raise ValueError("`cdist` inputs must have rank >= 2")
    if x.shape[-1] != y.shape[-1]:
        raise ValueError("Last dimension of inputs to `cdist` must match")
    dtype = _float_dtype(x.dtype, y.dtype)
    work = torch.float32 if dtype in _HALF else dtype  # torch.cdist has no half kernels on CPU
    # The direct difference formula, as Keras computes it: the matmul expansion torch picks
    # for large inputs loses digits to cancellation.
    out = torch.cdist(x.to(work), y.to(work), compute_mode="donot_use_mm_for_euclid_dist")
    return out.to(dtype)


# ------------------------------------------------------------------ complex views

def view_as_complex(x):
    """A real tensor whose last axis holds (real, imaginary) as a complex64 tensor."""
    x = _tensor(x)
    if x.ndim == 0 or x.shape[-1] != 2:
        raise ValueError("Last dimension of input must be size 2 (real and imaginary). "
                         f"Received shape: {tuple(x.shape)}")
    # Keras always builds complex64, float64 input included.
    return torch.view_as_complex(x.to(torch.float32).contiguous())


def view_as_real(x):
    """A complex tensor as a real one with a trailing (real, imaginary) axis of size 2; a real
    input gets a zero imaginary part of its own dtype."""
    x = _tensor(x)
    if x.is_complex():
        return torch.view_as_real(x)
    return torch.stack((x, torch.zeros_like(x)), dim=-1)
