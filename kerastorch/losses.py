"""Keras 3 losses on PyTorch: per-sample functions, the `Loss` base (weights, reduction), and
the classes wrapping the functions. The math is Keras' (checked against Keras 3 on JAX): clip
probabilities to `[1e-7, 1 - 1e-7]`, renormalise categorical `y_pred` by its class-axis sum,
average binary crossentropy over the last axis, divide by the number of loss elements.

This runs every training batch: no host-device sync (no `.item()`, no Python branches on tensor
values), and one fused torch op wherever it computes Keras' value.
"""

import functools
import warnings

import torch
import torch.nn.functional as F

from kerastorch import config
from kerastorch.utils.naming import to_snake_case, uniquify
from kerastorch.utils.registry import Registry
from kerastorch.utils.registry import serialize as _serialize

__all__ = ["LOSSES", "Loss", "LossFunctionWrapper", "BinaryCrossentropy",
           "CategoricalCrossentropy", "MeanAbsoluteError", "MeanSquaredError",
           "SparseCategoricalCrossentropy", "binary_crossentropy", "categorical_crossentropy",
           "mean_absolute_error", "mean_squared_error", "sparse_categorical_crossentropy", "get",
           "serialize", "deserialize", "resolve_crossentropy"]

LOSSES = Registry("loss")
_REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight")


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
        self._keeps_integer_labels = fn is sparse_categorical_crossentropy
        # With ignore_class the mean must skip masked entries: leave that to the general path.
        if kwargs.get("ignore_class") is None:
            batch_mean = next((m for f, m in _BATCH_MEAN if f is fn), None)
            if batch_mean is _cce and all(kwargs.get(k, d) == d for k, d in _CCE_DEFAULTS.items()):
                self._fast_mean = _cce_mean  # the default options: a leaner path
            elif batch_mean is not None:
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


# ------------------------------------------------------------------------ per-sample functions
# Each `_name(y_true, y_pred, batch_mean, **kwargs)` computes per-sample losses, or with
# `batch_mean=True` their mean in the same fused torch op: `Loss` uses that for the default
# reduction when there are no weights or masks (one kernel less, forward and backward).


def _pred_and_true(y_true, y_pred):
    y_pred = as_tensor(y_pred)
    return as_tensor(y_true, y_pred.dtype, y_pred.device), y_pred


def _classes_to_dim1(x, axis):
    # torch's cross-entropy ops take classes on dim 1 (or dim 0 when unbatched); Keras on `axis`.
    return x if x.ndim < 2 or axis % x.ndim == 1 else x.movedim(axis, 1)


def _clipped_log_probs(y_pred, axis):
    eps = config.epsilon()
    return (y_pred / y_pred.sum(axis, keepdim=True)).clamp(eps, 1.0 - eps).log()


def _elementwise_mean(loss_fn, y_true, y_pred, batch_mean):
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_pred_and_true(y_true, y_pred))
    if y_true.shape == y_pred.shape:  # a mean of equal-sized per-sample means is the mean
        return loss_fn(y_pred, y_true) if batch_mean else loss_fn(
            y_pred, y_true, reduction="none").mean(-1)
    # Keras broadcasts here; torch's losses warn on it unless broadcast first.
    per_sample = loss_fn(*torch.broadcast_tensors(y_pred, y_true), reduction="none").mean(-1)
    return per_sample.mean() if batch_mean else per_sample


_mse = functools.partial(_elementwise_mean, F.mse_loss)
_mae = functools.partial(_elementwise_mean, F.l1_loss)


def _cce(y_true, y_pred, batch_mean, from_logits=False, label_smoothing=0.0, axis=-1):
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis!r}")
    y_true, y_pred = _pred_and_true(y_true, y_pred)
    if y_pred.shape[-1] == 1:
        warnings.warn("In loss categorical_crossentropy, expected y_pred.shape to be "
                      f"(batch_size, num_classes) with num_classes > 1. Received: "
                      f"y_pred.shape={tuple(y_pred.shape)}. Consider using "
                      "'binary_crossentropy' if you only have 2 classes.", SyntaxWarning,
                      stacklevel=3)
    if y_true.shape != y_pred.shape:
        raise ValueError("Arguments `y_true` and `y_pred` must have the same shape. Received: "
                         f"y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}")
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    if from_logits:  # one op: -sum(target * log_softmax(logits)) over the class dim
        return F.cross_entropy(_classes_to_dim1(y_pred, axis), _classes_to_dim1(y_true, axis),
                               reduction="mean" if batch_mean else "none")
    log_probs = _clipped_log_probs(y_pred, axis)
    if batch_mean:  # -sum / number of samples; one dot product in place of multiply + sum
        return _dot_scaled(y_true, log_probs, -y_pred.shape[axis] / y_pred.numel())
    return -(y_true * log_probs).sum(axis)


_CCE_DEFAULTS = {"from_logits": False, "label_smoothing": 0.0, "axis": -1}


def _cce_mean(y_true, y_pred):
    """`_cce(y_true, y_pred, True)` with the default options, for tensors of one dtype."""
    shape = y_pred.shape
    if y_true.shape != shape or shape[-1] == 1 or y_true.device != y_pred.device:
        return _cce(y_true, y_pred, True)  # the general path warns or raises
    eps = config.epsilon()
    log_probs = (y_pred / y_pred.sum(-1, keepdim=True)).clamp(eps, 1.0 - eps).log()
    return _dot_scaled(y_true, log_probs, -shape[-1] / y_pred.numel())


_SCALES = {}


def _dot_scaled(a, b, scale):
    """`scale * sum(a * b)`: one dot product, times a cached 0-dim tensor (multiplying by a
    Python float costs a scalar-to-tensor conversion on every call)."""
    dot = torch.dot(a.reshape(-1), b.reshape(-1))
    if torch.compiler.is_compiling():
        return dot * scale
    key = (scale, dot.device, dot.dtype)
    factor = _SCALES.get(key)
    if factor is None:
        if len(_SCALES) > 64:
            _SCALES.clear()
        with torch.inference_mode(False):  # usable by autograd later, even if made in eval
            factor = torch.tensor(scale, dtype=dot.dtype, device=dot.device)
        _SCALES[key] = factor
    return dot * factor


def _sparse_cce(y_true, y_pred, batch_mean, from_logits=False, ignore_class=None, axis=-1):
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, device=y_pred.device)
    if y_true.ndim == y_pred.ndim and y_true.shape[axis] == 1:
        y_true = y_true.squeeze(axis)
    labels = y_true if y_true.dtype == torch.int64 else y_true.long()  # float labels truncate
    inputs = _classes_to_dim1(y_pred if from_logits else _clipped_log_probs(y_pred, axis), axis)
    ignore_index = -100 if ignore_class is None else int(ignore_class)
    # log_softmax + nll in one op for logits; nll alone on the clipped log-probabilities
    loss_fn = F.cross_entropy if from_logits else F.nll_loss
    res = loss_fn(inputs, labels, ignore_index=ignore_index,
                  reduction="mean" if batch_mean else "none")
    if ignore_class is not None and not batch_mean:
        res._keras_mask = labels != ignore_index
    return res


def _bce(y_true, y_pred, batch_mean, from_logits=False, label_smoothing=0.0, axis=-1):
    y_true, y_pred = _pred_and_true(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    reduction = "mean" if batch_mean else "none"
    if from_logits:
        bce = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction=reduction)
    else:
        # After the clip, torch's -100 floor on the log can no longer bind: Keras' formula.
        eps = config.epsilon()
        bce = F.binary_cross_entropy(y_pred.clamp(eps, 1.0 - eps), y_true, reduction=reduction)
    return bce if batch_mean else bce.mean(axis)


@LOSSES.register("mean_squared_error", "mse", "MSE")
def mean_squared_error(y_true, y_pred):
    """Per-sample `mean((y_true - y_pred) ** 2)` over the last axis."""
    return _mse(y_true, y_pred, False)


@LOSSES.register("mean_absolute_error", "mae", "MAE")
def mean_absolute_error(y_true, y_pred):
    """Per-sample `mean(abs(y_true - y_pred))` over the last axis."""
    return _mae(y_true, y_pred, False)


@LOSSES.register("categorical_crossentropy")
def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample `-sum(y_true * log(p))` over `axis`, for one-hot (or soft) `y_true`.

    With probabilities, `p = clip(y_pred / sum(y_pred, axis), eps, 1 - eps)`; with logits,
    `log p = log_softmax(y_pred)`. `label_smoothing` maps `y_true` to
    `y_true * (1 - ls) + ls / num_classes`, `num_classes = y_true.shape[-1]` (Keras' choice).
    """
    return _cce(y_true, y_pred, False, from_logits, label_smoothing, axis)


@LOSSES.register("sparse_categorical_crossentropy")
def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    """Per-sample categorical crossentropy for integer labels (int or float, shape `(n,)` or
    `(n, 1)`); same clipping and renormalisation as `categorical_crossentropy`.

    `ignore_class` entries get loss 0 and a mask (`_keras_mask`) that `Loss` turns into
    weights, so the default reduction averages over the valid entries only. Unlike Keras, a
    label outside `[0, num_classes)` is an error (torch's gather) rather than a loss of 0.
    """
    return _sparse_cce(y_true, y_pred, False, from_logits, ignore_class, axis)


@LOSSES.register("binary_crossentropy", "bce", "BCE")
def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample binary crossentropy, averaged over `axis`.

    Probabilities are clipped to `[eps, 1 - eps]` first (torch's `BCELoss` instead clamps the
    log at -100, i.e. up to 100 per element where Keras gives 16.12). `label_smoothing` maps
    `y_true` to `y_true * (1 - ls) + 0.5 * ls`.
    """
    return _bce(y_true, y_pred, False, from_logits, label_smoothing, axis)


_BATCH_MEAN = ((mean_squared_error, _mse), (mean_absolute_error, _mae),
               (categorical_crossentropy, _cce), (sparse_categorical_crossentropy, _sparse_cce),
               (binary_crossentropy, _bce))


# ------------------------------------------------------------------------------------ classes
@LOSSES.register("MeanSquaredError")
class MeanSquaredError(LossFunctionWrapper):
    """Class form of `mean_squared_error`; `reduction`, `name`, `dtype`: see `Loss`."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, reduction=reduction, name=name, dtype=dtype)

    get_config = Loss.get_config  # Keras' keys: name and reduction only


@LOSSES.register("MeanAbsoluteError")
class MeanAbsoluteError(LossFunctionWrapper):
    """Class form of `mean_absolute_error`; `reduction`, `name`, `dtype`: see `Loss`."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, reduction=reduction, name=name, dtype=dtype)

    get_config = Loss.get_config


class _Crossentropy(LossFunctionWrapper):
    def __init__(self, fn, from_logits, label_smoothing, axis, reduction, name, dtype):
        super().__init__(fn, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis

    def get_config(self):
        return {**Loss.get_config(self), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


@LOSSES.register("CategoricalCrossentropy")
class CategoricalCrossentropy(_Crossentropy):
    """Class form of `categorical_crossentropy` (one-hot targets); see it for the args and
    `Loss` for `reduction`, `name`, `dtype`. For logits pass `from_logits=True` rather than
    a softmax: the log-softmax path is the numerically stable one."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(categorical_crossentropy, from_logits, label_smoothing, axis,
                         reduction, name, dtype)


@LOSSES.register("BinaryCrossentropy")
class BinaryCrossentropy(_Crossentropy):
    """Class form of `binary_crossentropy`; see it for the args and `Loss` for the rest."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(binary_crossentropy, from_logits, label_smoothing, axis,
                         reduction, name, dtype)


@LOSSES.register("SparseCategoricalCrossentropy")
class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Class form of `sparse_categorical_crossentropy` (integer targets); see it for the args
    and `Loss` for `reduction`, `name`, `dtype`."""

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 axis=-1, name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name,
                         dtype=dtype, from_logits=from_logits, ignore_class=ignore_class,
                         axis=axis)
        self.from_logits, self.ignore_class, self.axis = from_logits, ignore_class, axis

    def get_config(self):
        config = {**Loss.get_config(self), "from_logits": self.from_logits,
                  "ignore_class": self.ignore_class}
        if self.axis != -1:  # Keras drops `axis` here; keep it when it matters to round-trip
            config["axis"] = self.axis
        return config


# -------------------------------------------------------------------------- public resolvers
def get(identifier):
    """A loss from a name (`"mse"` gives the function, `"MeanSquaredError"` an instance),
    a config dict, a callable or `None`; unknown names raise `ValueError` with close matches."""
    return LOSSES.get(identifier)


def serialize(loss):
    """A function's registered name, or a Keras config dict for a `Loss` instance."""
    return _serialize(loss)


def deserialize(config, custom_objects=None):
    """Inverse of `serialize`; `custom_objects` maps extra names to classes or functions."""
    return deserialize_from(LOSSES, config, custom_objects)


def deserialize_from(registry, config, custom_objects=None):
    """A name or Keras config dict -> object, trying `custom_objects` before `registry`.

    Also reads Keras' dict for a plain function, `{"class_name": "function", "config": name}`.
    """
    if isinstance(config, dict) and config.get("class_name") == "function":
        config = config["config"]
    name = config if isinstance(config, str) else config.get("class_name")
    found = (custom_objects or {}).get(name)
    if found is None:
        return registry.get(config)
    if not isinstance(found, type):
        return found
    return found() if isinstance(config, str) else found.from_config(config.get("config") or {})


def target_kind(y_true, y_pred):
    """Keras' shape rule behind `"accuracy"` and `"crossentropy"`: `"binary"` when `y_pred`'s
    last dim is 1; `"sparse"` when `y_true` has lower rank, or last dim 1 against `y_pred`'s
    larger one; else `"categorical"`. Takes tensors, arrays or shape tuples."""
    t_shape = tuple(getattr(y_true, "shape", y_true))
    p_shape = tuple(getattr(y_pred, "shape", y_pred))
    if p_shape[-1] == 1:
        return "binary"
    if len(t_shape) < len(p_shape) or (t_shape[-1] == 1 and p_shape[-1] > 1):
        return "sparse"
    return "categorical"


def resolve_crossentropy(name, y_true, y_pred):
    """Keras' rule for `loss="crossentropy"`/`"ce"` (any case): the binary, sparse or
    categorical crossentropy function, chosen by `target_kind`."""
    if str(name).lower() not in ("crossentropy", "ce"):
        raise ValueError(f"Expected 'crossentropy' or 'ce'. Received: name={name!r}")
    return {"binary": binary_crossentropy, "sparse": sparse_categorical_crossentropy,
            "categorical": categorical_crossentropy}[target_kind(y_true, y_pred)]
