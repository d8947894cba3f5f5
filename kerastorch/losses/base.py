"""The `Loss` base (weights, masks, reduction), `LossFunctionWrapper`, the `LOSSES` registry
and the helpers shared with the metrics (`as_tensor`, `squeeze_or_expand_to_same_rank`,
`apply_mask`, ...).

`Loss.__call__` runs every training batch: no host-device sync (no `.item()`, no Python
branches on tensor values). A loss function may register a fused "batch mean" form with
`register_fast_mean`; `LossFunctionWrapper` then uses it for the default reduction when there
are no weights or masks.
"""

import functools

import torch

from kerastorch import config
from kerastorch.utils.naming import to_snake_case, uniquify
from kerastorch.utils.registry import Registry
from kerastorch.utils.registry import serialize as _serialize

LOSSES = Registry("loss")
_REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight")

# fn -> (batch_mean, lean, lean_defaults); see `register_fast_mean`.
_FAST_MEANS = {}
# Functions that take integer labels as they come (casting to float and back costs 2 kernels).
_INTEGER_LABELS = []


def register_fast_mean(fn, batch_mean, lean=None, lean_defaults=None, integer_labels=False):
    """Declare fused forms of the per-sample loss function `fn` for `LossFunctionWrapper`.

    Args:
        fn: The public per-sample function, `fn(y_true, y_pred, **kwargs)`.
        batch_mean: `batch_mean(y_true, y_pred, batch_mean=True, **kwargs)` returns the mean
            of `fn`'s values in fused torch ops (used when no weights or masks apply).
        lean: Optional `lean(y_true, y_pred)`, the same mean for the options `lean_defaults`
            (a dict of keyword -> default) with less Python per call.
        integer_labels: Whether `fn` takes integer `y_true` as is (not cast to the dtype).
    """
    if batch_mean is not None:
        _FAST_MEANS[fn] = (batch_mean, lean, dict(lean_defaults or {}))
    if integer_labels:
        _INTEGER_LABELS.append(fn)


# ---------------------------------------------------------------- helpers (also used by metrics)
def as_tensor(x, dtype=None, device=None):
    """`x` as a tensor; non-tensors go through `config.to_tensor` (floats become floatx)."""
    if isinstance(x, torch.Tensor):
        if (dtype is None or x.dtype == dtype) and (device is None or x.device == device):
            return x  # cheaper than a no-op `.to()` on the per-batch path
        return x.to(device=device, dtype=dtype)
    return config.to_tensor(x, dtype=dtype, device_=device)


def standardize_dtype(dtype):
    """`None` -> floatx; `torch.float32` or `"float32"` -> `"float32"` (Keras' config form)."""
    if dtype is None:
        return config.floatx()
    if isinstance(dtype, torch.dtype):
        return str(dtype).replace("torch.", "")
    if not isinstance(dtype, str) or not isinstance(getattr(torch, dtype, None), torch.dtype):
        raise ValueError(f"`dtype` must be a torch dtype or its name. Received: dtype={dtype!r}")
    return dtype


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Keras' rule: when ranks differ by one and the longer one ends in 1, squeeze it (or
    expand a rank-1 partner), so `(n,)` labels meet `(n, 1)` predictions elementwise."""
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2.unsqueeze(-1)
        else:
            x1 = x1.squeeze(-1)
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1.unsqueeze(-1)
        else:
            x2 = x2.squeeze(-1)
    return x1, x2


def divide_no_nan(x, y):
    """`x / y`, and 0 where `y == 0`, with finite gradients there (hence the safe divisor)."""
    zero = y == 0
    return torch.where(zero, torch.zeros_like(x), x / torch.where(zero, torch.ones_like(y), y))


def apply_mask(sample_weight, mask, dtype, reduction):
    """Merge a boolean loss mask into the sample weights, as Keras does.

    For `mean`/`sum_over_batch_size`, valid entries get weight `total / valid` so that the
    final division by the element count turns into a division by the number of valid ones.
    """
    if mask is None:
        return sample_weight
    if reduction in ("mean", "sum_over_batch_size"):
        valid = mask.sum(dtype=dtype)
        total = torch.full_like(valid, mask.numel())  # a fill kernel, not a host-to-device copy
        float_mask = torch.where(mask.bool(), divide_no_nan(total, valid), 0.0).to(dtype)
    else:
        float_mask = mask.to(dtype)
    if sample_weight is None:
        return float_mask
    float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, sample_weight.to(dtype))
    return sample_weight * float_mask


def reduce_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Reduce already-weighted per-sample losses; see `Loss` for the reductions."""
    if reduction is None or reduction == "none" or values.ndim == 0 or values.shape == (0,):
        return values
    if reduction == "sum":
        return values.sum()
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        return divide_no_nan(values.sum(), sample_weight.sum().to(values.dtype))
    if values.numel() == 0:  # Keras' divide_no_nan(0, 0)
        return values.sum()
    return values.mean()  # = sum / number of elements, in one kernel


# ------------------------------------------------------------------------------- base classes
@LOSSES.register("Loss")
class Loss:
    """Base class of losses: per-sample values from `call`, then weights, then a reduction.

    Subclasses implement `call(y_true, y_pred)` returning per-sample losses.

    Args:
        name: Optional name; default the snake-cased class name.
        reduction: How `__call__` reduces the weighted per-sample losses:
            `"sum_over_batch_size"` (default) and `"mean"` divide their sum by the number of
            loss elements (so weights of 0 still count in the denominator, unlike torch's
            `CrossEntropyLoss(weight=...)`); `"sum"` sums; `"mean_with_sample_weight"` divides
            the sum by the sum of the sample weights; `"none"` or `None` return them unreduced.
        dtype: Compute dtype (name or torch dtype); default `config.floatx()`. `y_pred` and
            float `y_true` are cast to it.

    Example:
        >>> CategoricalCrossentropy()(torch.tensor([[0., 1.]]), torch.tensor([[0.2, 0.8]]))
        tensor(0.2231)
    """

    # Sparse labels stay integer: casting them to float and back would cost two kernels.
    _keeps_integer_labels = False
    # LossFunctionWrapper: `fast(y_true, y_pred)`, the function's fused per-batch mean, if any
    _fast_mean = None

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in _REDUCTIONS:
            raise ValueError(f"Invalid value for argument `reduction`. Expected one of "
                             f"{_REDUCTIONS}. Received: reduction={reduction!r}")
        self.name = name or uniquify(to_snake_case(type(self).__name__))
        self.reduction = reduction
        self._dtype = standardize_dtype(dtype)
        self._torch_dtype = getattr(torch, self._dtype)

    @property
    def dtype(self):
        return self._dtype

    def __call__(self, y_true, y_pred, sample_weight=None):
        dtype = self._torch_dtype
        fast = self._fast_mean
        if (fast is not None and sample_weight is None and type(y_pred) is torch.Tensor
                and type(y_true) is torch.Tensor and y_pred.dtype is dtype
                and (y_true.dtype is dtype or (self._keeps_integer_labels
                                               and not y_true.is_floating_point()))
                and "_keras_mask" not in y_pred.__dict__
                and self.reduction in ("sum_over_batch_size", "mean") and y_pred.numel()):
            # The per-batch hot path: unweighted, unmasked, already in the compute dtype.
            if y_true.ndim == y_pred.ndim:
                return fast(y_true, y_pred)
            return fast(*squeeze_or_expand_to_same_rank(y_true, y_pred))
        if not isinstance(y_pred, torch.Tensor):
            y_pred = config.to_tensor(y_pred, dtype=dtype)
        in_mask = getattr(y_pred, "_keras_mask", None)  # set by masking layers, as in Keras
        if y_pred.dtype != dtype:
            y_pred = y_pred.to(dtype)
        if not isinstance(y_true, torch.Tensor):
            y_true = config.to_tensor(y_true, device_=y_pred.device)
        if y_true.dtype != dtype and (y_true.is_floating_point() or not self._keeps_integer_labels):
            y_true = y_true.to(dtype)
        if (fast is not None and sample_weight is None and in_mask is None
                and self.reduction in ("sum_over_batch_size", "mean") and y_pred.numel()):
            return fast(*squeeze_or_expand_to_same_rank(y_true, y_pred))
        losses = self.call(y_true, y_pred)
        mask = getattr(losses, "_keras_mask", None)
        if in_mask is not None:
            mask = in_mask if mask is None else in_mask.bool() & mask.bool()
        if sample_weight is not None:
            sample_weight = as_tensor(sample_weight, losses.dtype, losses.device)
        sample_weight = apply_mask(sample_weight, mask, losses.dtype, self.reduction)
        if sample_weight is not None:  # broadcast like Keras, then weight
            losses, sample_weight = squeeze_or_expand_to_same_rank(losses, sample_weight)
            losses = losses * sample_weight
        return reduce_values(losses, sample_weight, self.reduction)

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred).")

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


@LOSSES.register("LossFunctionWrapper")
class LossFunctionWrapper(Loss):
    """A `Loss` from a per-sample function `fn(y_true, y_pred, **kwargs)`.

    Before calling `fn`, `y_true` and `y_pred` are squeezed or expanded to the same rank
    (Keras' rule), so `(n,)` targets work with `(n, 1)` outputs.
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs
        self._keeps_integer_labels = any(f is fn for f in _INTEGER_LABELS)
        # With ignore_class the mean must skip masked entries: leave that to the general path.
        entry = next((e for f, e in _FAST_MEANS.items() if f is fn), None)
        if entry is not None and kwargs.get("ignore_class") is None:
            batch_mean, lean, defaults = entry
            if lean is not None and all(kwargs.get(k, d) == d for k, d in defaults.items()):
                self._fast_mean = lean  # the default options: a leaner path
            else:
                self._fast_mean = functools.partial(batch_mean, batch_mean=True, **kwargs)

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        return {**super().get_config(), "fn": _serialize(self.fn), **self._fn_kwargs}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "fn" in config:
            config["fn"] = LOSSES.get(config["fn"])
        return cls(**config)

    def __repr__(self):
        return f"<LossFunctionWrapper({self.fn}, kwargs={self._fn_kwargs})>"



# ------------------------------------------------------------- helpers for the loss functions
def pred_and_true(y_true, y_pred):
    """`(y_true, y_pred)` as tensors, `y_true` in `y_pred`'s dtype and on its device."""
    y_pred = as_tensor(y_pred)
    return as_tensor(y_true, y_pred.dtype, y_pred.device), y_pred


def same_rank_pair(y_true, y_pred, name):
    """`pred_and_true`, then Keras' squeeze/expand to the same rank, then a check that the two
    shapes broadcast (a `ValueError` naming the loss `name` and both shapes if not)."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*pred_and_true(y_true, y_pred))
    if y_true.shape != y_pred.shape:
        check_broadcast(y_true, y_pred, name)
    return y_true, y_pred


def check_broadcast(y_true, y_pred, name):
    try:
        torch.broadcast_shapes(y_true.shape, y_pred.shape)
    except RuntimeError:
        raise ValueError(f"In loss {name}, `y_true` and `y_pred` must have broadcastable "
                         f"shapes. Received: y_true.shape={tuple(y_true.shape)}, "
                         f"y_pred.shape={tuple(y_pred.shape)}") from None


def check_int_axis(axis):
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis!r}")


class KerasLoss(LossFunctionWrapper):
    """Base of the built-in loss classes: `fn` with the keyword options named in `_options`,
    stored as attributes, and `get_config` = `name`, `reduction` and those options (Keras')."""

    _options = ()

    def __init__(self, fn, reduction, name, dtype, **options):
        super().__init__(fn, reduction=reduction, name=name, dtype=dtype, **options)
        for key in self._options:
            setattr(self, key, options[key])

    def get_config(self):
        return {**Loss.get_config(self), **{k: getattr(self, k) for k in self._options}}
