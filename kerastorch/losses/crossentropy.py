"""Crossentropy losses: binary, categorical, sparse categorical, their focal forms, and the
generalized crossentropy. Keras' math: probabilities are clipped to `[eps, 1 - eps]`,
categorical `y_pred` is renormalised by its class-axis sum, binary losses are averaged over
`axis`, categorical ones summed over it.

Each `_name(y_true, y_pred, batch_mean, **kwargs)` computes per-sample losses, or with
`batch_mean=True` their mean in the same fused torch op: `Loss` uses that for the default
reduction when there are no weights or masks (one kernel less, forward and backward).
"""

import warnings

import torch
import torch.nn.functional as F

from kerastorch import config
from kerastorch.losses.base import LOSSES, KerasLoss, Loss, LossFunctionWrapper, as_tensor
from kerastorch.losses.base import check_int_axis, pred_and_true, register_fast_mean


def _classes_to_dim1(x, axis):
    # torch's cross-entropy ops take classes on dim 1 (or dim 0 when unbatched); Keras on `axis`.
    return x if x.ndim < 2 or axis % x.ndim == 1 else x.movedim(axis, 1)


def _clipped_probs(y_pred, axis):
    """Keras' categorical probabilities: renormalised over `axis`, clipped to `[eps, 1 - eps]`."""
    eps = config.epsilon()
    return (y_pred / y_pred.sum(axis, keepdim=True)).clamp(eps, 1.0 - eps)


def _clipped_log_probs(y_pred, axis):
    return _clipped_probs(y_pred, axis).log()


def _warn_one_class(name, y_pred):
    if y_pred.shape[-1] == 1:
        warnings.warn(f"In loss {name}, expected y_pred.shape to be (batch_size, num_classes) "
                      f"with num_classes > 1. Received: y_pred.shape={tuple(y_pred.shape)}. "
                      "Consider using 'binary_crossentropy' if you only have 2 classes.",
                      SyntaxWarning, stacklevel=5)


def _check_same_shape(y_true, y_pred):
    if y_true.shape != y_pred.shape:
        raise ValueError("Arguments `y_true` and `y_pred` must have the same shape. Received: "
                         f"y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}")


def _categorical_targets(name, y_true, y_pred, label_smoothing, axis):
    """The categorical losses' checks, and `y_true` smoothed towards `1 / num_classes`."""
    check_int_axis(axis)
    y_true, y_pred = pred_and_true(y_true, y_pred)
    _warn_one_class(name, y_pred)
    _check_same_shape(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    return y_true, y_pred


def _binary_targets(y_true, y_pred, label_smoothing):
    """Tensors of `y_pred`'s dtype, and `y_true` smoothed towards 0.5."""
    y_true, y_pred = pred_and_true(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return y_true, y_pred


def _cce(y_true, y_pred, batch_mean, from_logits=False, label_smoothing=0.0, axis=-1):
    y_true, y_pred = _categorical_targets("categorical_crossentropy", y_true, y_pred,
                                          label_smoothing, axis)
    if from_logits:  # one op: -sum(target * log_softmax(logits)) over the class dim
        return F.cross_entropy(_classes_to_dim1(y_pred, axis), _classes_to_dim1(y_true, axis),
                               reduction="mean" if batch_mean else "none")
    log_probs = _clipped_log_probs(y_pred, axis)
    if batch_mean:  # -sum / number of samples, by one cached scale
        return _scaled_sum_product(y_true, log_probs, -y_pred.shape[axis] / y_pred.numel())
    return -(y_true * log_probs).sum(axis)


_CCE_DEFAULTS = {"from_logits": False, "label_smoothing": 0.0, "axis": -1}


def _cce_mean(y_true, y_pred):
    """`_cce(y_true, y_pred, True)` with the default options, for tensors of one dtype."""
    shape = y_pred.shape
    if y_true.shape != shape or shape[-1] == 1 or y_true.device != y_pred.device:
        return _cce(y_true, y_pred, True)  # the general path warns or raises
    eps = config.epsilon()
    log_probs = (y_pred / y_pred.sum(-1, keepdim=True)).clamp(eps, 1.0 - eps).log()
    return _scaled_sum_product(y_true, log_probs, -shape[-1] / y_pred.numel())


_SCALES = {}


def _scaled_sum_product(a, b, scale):
    """`scale * sum(a * b)`, times a cached 0-dim tensor (multiplying by a Python float costs
    a scalar-to-tensor conversion on every call). Not `torch.dot`: on CPU it is MKL's, whose
    rounding depends on the memory alignment of its inputs, so the same batch sliced from a
    different offset would give a different last bit; torch's own sum does not, and costs
    the same."""
    dot = (a * b).sum()
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
    try:
        res = loss_fn(inputs, labels, ignore_index=ignore_index,
                      reduction="mean" if batch_mean else "none")
    except RuntimeError:
        _check_sparse_shapes(labels, y_pred, axis)
        raise
    if ignore_class is not None and not batch_mean:
        res._keras_mask = labels != ignore_index
    return res


def _check_sparse_shapes(labels, y_pred, axis):
    expected = y_pred.shape[:axis % y_pred.ndim] + y_pred.shape[axis % y_pred.ndim + 1:]
    if labels.shape != expected:
        raise ValueError("Arguments `target` and `output` must have the same shape up until "
                         "the class axis: sparse_categorical_crossentropy expects one integer "
                         f"label per prediction. Received: y_true.shape={tuple(labels.shape)}, "
                         f"y_pred.shape={tuple(y_pred.shape)}") from None


def _bce(y_true, y_pred, batch_mean, from_logits=False, label_smoothing=0.0, axis=-1):
    y_true, y_pred = _binary_targets(y_true, y_pred, label_smoothing)
    reduction = "mean" if batch_mean else "none"
    if from_logits:
        bce = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction=reduction)
    else:
        # After the clip, torch's -100 floor on the log can no longer bind: Keras' formula.
        eps = config.epsilon()
        bce = F.binary_cross_entropy(y_pred.clamp(eps, 1.0 - eps), y_true, reduction=reduction)
    return bce if batch_mean else bce.mean(axis)


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


@LOSSES.register("binary_focal_crossentropy")
def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25,
                              gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample focal binary crossentropy (Lin et al., 2018), averaged over `axis`:
    `(1 - p_t) ** gamma * bce`, `p_t = y_true * p + (1 - y_true) * (1 - p)`, `p = y_pred`
    (its sigmoid with `from_logits`), `bce` on `p` clipped to `[eps, 1 - eps]`.

    Args:
        apply_class_balancing: Also weight by `alpha` for class 1 and `1 - alpha` for class 0.
        alpha: The class-1 weight when `apply_class_balancing` is set.
        gamma: The focusing parameter; 0 gives plain binary crossentropy.
        from_logits, label_smoothing, axis: As in `binary_crossentropy`.
    """
    y_true, y_pred = _binary_targets(y_true, y_pred, label_smoothing)
    if from_logits:
        y_pred = torch.sigmoid(y_pred)
    eps = config.epsilon()
    bce = F.binary_cross_entropy(y_pred.clamp(eps, 1.0 - eps), y_true, reduction="none")
    p_t = y_true * y_pred + (1 - y_true) * (1 - y_pred)
    focal_bce = (1.0 - p_t).pow(gamma) * bce
    if apply_class_balancing:
        focal_bce = (y_true * alpha + (1 - y_true) * (1 - alpha)) * focal_bce
    return focal_bce.mean(axis)


@LOSSES.register("categorical_focal_crossentropy")
def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    """Per-sample focal categorical crossentropy, summed over `axis`:
    `-sum(alpha * (1 - p) ** gamma * y_true * log(p))`, `p` = `y_pred` (softmax of it with
    `from_logits`) renormalised over `axis` and clipped to `[eps, 1 - eps]`.

    Args:
        alpha: Weight of every class: a float, or a list of one float per class (last axis).
        gamma: The focusing parameter; 0 gives `alpha` times categorical crossentropy.
        from_logits, label_smoothing, axis: As in `categorical_crossentropy`.
    """
    y_true, y_pred = _categorical_targets("categorical_focal_crossentropy", y_true, y_pred,
                                          label_smoothing, axis)
    if from_logits:
        y_pred = torch.softmax(y_pred, axis)
    output = _clipped_probs(y_pred, axis)
    if isinstance(alpha, (list, tuple)):
        alpha = torch.tensor(alpha, dtype=output.dtype, device=output.device)
    focal = (1.0 - output).pow(gamma) * alpha * (-y_true * output.log())
    return focal.sum(axis)


@LOSSES.register("categorical_generalized_cross_entropy")
def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """Per-sample generalized crossentropy (Zhang & Sabuncu, 2018): `(1 - p ** q) / q`, `p`
    the probability `y_pred` gives the integer label `y_true` (shape `(n,)` or `(n, 1)`).

    A label outside `[0, num_classes)` gives `p = 0` (Keras' one-hot of it is all zeros).
    Keras broadcasts `(n, 1)` labels against `(n, classes)` into an `(n, n)` result; here they
    are squeezed to `(n,)` first, which is what its docstring describes.
    """
    y_pred = as_tensor(y_pred)
    labels = as_tensor(y_true, device=y_pred.device)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels.squeeze(-1)
    labels = labels.long()
    num_classes = y_pred.shape[-1]
    valid = (labels >= 0) & (labels < num_classes)
    p = y_pred.gather(-1, labels.clamp(0, num_classes - 1).unsqueeze(-1)).squeeze(-1)
    p = torch.where(valid, p, torch.zeros_like(p))
    return (1 - p.pow(q)) / q


register_fast_mean(categorical_crossentropy, _cce, _cce_mean, _CCE_DEFAULTS)
register_fast_mean(sparse_categorical_crossentropy, _sparse_cce, integer_labels=True)
register_fast_mean(binary_crossentropy, _bce)
register_fast_mean(categorical_generalized_cross_entropy, None, integer_labels=True)


# ------------------------------------------------------------------------------------ classes
_CE_OPTIONS = ("from_logits", "label_smoothing", "axis")


@LOSSES.register("CategoricalCrossentropy")
class CategoricalCrossentropy(KerasLoss):
    """Class form of `categorical_crossentropy` (one-hot targets); see it for the args and
    `Loss` for `reduction`, `name`, `dtype`. For logits pass `from_logits=True` rather than
    a softmax: the log-softmax path is the numerically stable one."""

    _options = _CE_OPTIONS

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(categorical_crossentropy, reduction, name, dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


@LOSSES.register("BinaryCrossentropy")
class BinaryCrossentropy(KerasLoss):
    """Class form of `binary_crossentropy`; see it for the args and `Loss` for the rest."""

    _options = _CE_OPTIONS

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(binary_crossentropy, reduction, name, dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


@LOSSES.register("BinaryFocalCrossentropy")
class BinaryFocalCrossentropy(KerasLoss):
    """Class form of `binary_focal_crossentropy`; see it for the args (defaults
    `apply_class_balancing=False`, `alpha=0.25`, `gamma=2.0`) and `Loss` for the rest."""

    _options = _CE_OPTIONS + ("apply_class_balancing", "alpha", "gamma")

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_focal_crossentropy", dtype=None):
        super().__init__(binary_focal_crossentropy, reduction, name, dtype,
                         apply_class_balancing=apply_class_balancing, alpha=alpha,
                         gamma=gamma, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


@LOSSES.register("CategoricalFocalCrossentropy")
class CategoricalFocalCrossentropy(KerasLoss):
    """Class form of `categorical_focal_crossentropy`; see it for the args (defaults
    `alpha=0.25`, `gamma=2.0`) and `Loss` for the rest."""

    _options = _CE_OPTIONS + ("alpha", "gamma")

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0,
                 axis=-1, reduction="sum_over_batch_size",
                 name="categorical_focal_crossentropy", dtype=None):
        super().__init__(categorical_focal_crossentropy, reduction, name, dtype, alpha=alpha,
                         gamma=gamma, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


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


@LOSSES.register("CategoricalGeneralizedCrossEntropy")
class CategoricalGeneralizedCrossEntropy(KerasLoss):
    """Class form of `categorical_generalized_cross_entropy` (integer targets).

    Args:
        q: Float in `(0, 1)`: near 0 it behaves like crossentropy, near 1 like MAE.
        reduction, name, dtype: See `Loss`.
    """

    _options = ("q",)

    def __init__(self, q=0.5, reduction="sum_over_batch_size",
                 name="categorical_generalized_cross_entropy", dtype=None):
        if not 0 < q < 1:
            raise ValueError(f"q must be in the interval (0, 1). Received: q={q!r}")
        super().__init__(categorical_generalized_cross_entropy, reduction, name, dtype, q=q)
