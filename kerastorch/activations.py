"""Keras 3 activation functions, as plain functions on torch tensors.

Every name of `keras.activations` is here with Keras' arguments and defaults, computed with
torch's fused ops (`torch.relu`, `torch.softmax`, `F.gelu`, ...) wherever they give the same
values. Where Keras and torch differ in defaults, Keras wins: `leaky_relu` slopes by 0.2
(torch: 0.01), `hard_sigmoid` is Keras 3's `relu6(x + 3) / 6` (tf.keras 2 used
`clip(0.2 * x + 0.5, 0, 1)`), `gelu` is exact unless `approximate=True`, `softmax` works on the
last axis unless told otherwise (torch needs `dim`).

The functions take `torch.Tensor`s (not lists or numpy arrays) and return tensors of the same
shape and dtype.

Example:

    >>> from kerastorch import activations
    >>> activations.get("relu")(torch.tensor([-1.0, 2.0]))
    tensor([0., 2.])
"""

import warnings

import torch
import torch.nn.functional as F

from kerastorch.utils.registry import Registry
from kerastorch.utils.registry import serialize as _serialize_object

ACTIVATIONS = Registry("activation")


@ACTIVATIONS.register()
def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit: `max(x, 0)` with the defaults.

    Args:
        x: Input tensor.
        negative_slope: Slope for values below `threshold`.
        max_value: Optional saturation value (the largest value returned).
        threshold: Values at or below it are damped (times `negative_slope`) or zeroed.

    Example: `relu(torch.tensor([-10., -5., 0., 5., 10.]), threshold=5.)` gives
    `[0., 0., 0., 0., 10.]`.
    """
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return torch.relu(x)  # the hot path: one fused op
    return _general_relu(x, negative_slope, max_value, threshold)


def _general_relu(x, negative_slope, max_value, threshold):
    # Same steps, in the same order, as Keras' `ReLU.static_call`, so edge cases agree (e.g. a
    # negative `threshold` with `max_value` set still clips at 0 from below).
    if negative_slope != 0.0:
        if max_value is None and threshold == 0:
            return F.leaky_relu(x, negative_slope)
        negative_part = torch.relu(threshold - x) if threshold != 0 else torch.relu(-x)
    clip_max = max_value is not None
    if threshold != 0:
        x = torch.where(x > threshold, x, torch.zeros((), dtype=x.dtype, device=x.device))
    elif max_value == 6:
        x = F.relu6(x)
        clip_max = False
    else:
        x = torch.relu(x)
    if clip_max:
        x = torch.clamp(x, 0.0, max_value)
    if negative_slope != 0.0:
        x = x - negative_slope * negative_part
    return x


@ACTIVATIONS.register()
def leaky_relu(x, negative_slope=0.2):
    """Leaky ReLU: `x` if `x >= 0` else `negative_slope * x`.

    Keras' function defaults to a slope of 0.2 (its `LeakyReLU` layer: 0.3; torch: 0.01).
    """
    return F.leaky_relu(x, negative_slope)


@ACTIVATIONS.register()
def relu6(x):
    """ReLU capped at 6: `min(max(x, 0), 6)`."""
    return F.relu6(x)


@ACTIVATIONS.register()
def softmax(x, axis=-1):
    """Softmax along `axis` (default: the last): `exp(x) / sum(exp(x))`.

    Args:
        x: Input tensor.
        axis: Int or tuple of ints; a tuple normalises over those axes jointly, as in Keras.
    """
    if isinstance(axis, int):
        if -x.dim() <= axis < x.dim() and x.shape[axis] == 1:
            _warn_size_one_axis(x, axis)
        return torch.softmax(x, dim=axis)
    return _over_axes(torch.softmax, x, axis)


@ACTIVATIONS.register()
def log_softmax(x, axis=-1):
    """Log-softmax along `axis`: `x - logsumexp(x)`; `axis` as in `softmax`."""
    if isinstance(axis, int):
        return torch.log_softmax(x, dim=axis)
    return _over_axes(torch.log_softmax, x, axis)


def _warn_size_one_axis(x, axis):
    warnings.warn(
        f"You are using a softmax over axis {axis} of a tensor of shape {tuple(x.shape)}. "
        "This axis has size 1. The softmax operation will always return the value 1, which is "
        "likely not what you intended. Did you mean to use a sigmoid instead?",
        stacklevel=3,
    )


def _over_axes(fn, x, axis):
    # torch's softmax takes one dim; Keras accepts a tuple and treats those axes as one, so move
    # them last, flatten them, apply, and undo.
    axes = sorted(a % x.dim() for a in axis)
    keep = [a for a in range(x.dim()) if a not in axes]
    moved = x.permute(*keep, *axes)
    out = fn(moved.reshape(*moved.shape[: len(keep)], -1), dim=-1).reshape(moved.shape)
    return out.permute(*sorted(range(x.dim()), key=(keep + axes).__getitem__))


@ACTIVATIONS.register()
def elu(x, alpha=1.0):
    """Exponential linear unit: `x` if `x > 0` else `alpha * (exp(x) - 1)`."""
    return F.elu(x, alpha)


@ACTIVATIONS.register()
def selu(x):
    """Scaled ELU: `scale * elu(x, alpha)`, alpha=1.67326324, scale=1.05070098 (as torch)."""
    return F.selu(x)


@ACTIVATIONS.register()
def celu(x, alpha=1.0):
    """Continuously differentiable ELU: `x` if `x >= 0` else `alpha * (exp(x / alpha) - 1)`."""
    return F.celu(x, alpha)


@ACTIVATIONS.register()
def softplus(x):
    """`log(exp(x) + 1)`.

    torch returns `x` itself above 20; the difference to Keras there is below float32's
    resolution.
    """
    return F.softplus(x)


@ACTIVATIONS.register()
def softsign(x):
    """`x / (abs(x) + 1)`."""
    return F.softsign(x)


@ACTIVATIONS.register()
def squareplus(x, b=4):
    """`(x + sqrt(x**2 + b)) / 2`, a smooth ReLU; `b` sets the smoothness."""
    return (x + torch.sqrt(torch.square(x) + b)) / 2


@ACTIVATIONS.register()
def soft_shrink(x, threshold=0.5):
    """`x - threshold` above `threshold`, `x + threshold` below `-threshold`, else 0."""
    if threshold >= 0:
        return F.softshrink(x, threshold)
    # torch refuses a negative lambda; Keras' `where` formula still defines it.
    inner = torch.where(x < -threshold, x + threshold, 0.0)
    return torch.where(x > threshold, x - threshold, inner)


@ACTIVATIONS.register()
def sparse_plus(x):
    """0 for `x <= -1`, `(x + 1)**2 / 4` for `-1 < x < 1`, `x` for `x >= 1`."""
    return torch.where(x <= -1, 0.0, torch.where(x >= 1, x, torch.square(x + 1) / 4))


@ACTIVATIONS.register("silu", "swish")
def silu(x):
    """Swish / SiLU: `x * sigmoid(x)`. `"swish"` is the same function (it serializes as `silu`)."""
    return F.silu(x)


@ACTIVATIONS.register()
def gelu(x, approximate=False):
    """Gaussian error linear unit: `0.5 * x * (1 + erf(x / sqrt(2)))`.

    Args:
        x: Input tensor.
        approximate: Use the tanh approximation (torch's `approximate="tanh"`).
    """
    return F.gelu(x, approximate="tanh" if approximate else "none")


@ACTIVATIONS.register()
def glu(x, axis=-1):
    """Gated linear unit: `a * sigmoid(b)`, with `x` split into halves `a`, `b` along `axis`."""
    return F.glu(x, dim=axis)


@ACTIVATIONS.register()
def tanh(x):
    """Hyperbolic tangent."""
    return torch.tanh(x)


@ACTIVATIONS.register()
def tanh_shrink(x):
    """`x - tanh(x)`."""
    return F.tanhshrink(x)


@ACTIVATIONS.register()
def hard_tanh(x):
    """`clip(x, -1, 1)`."""
    return F.hardtanh(x)


@ACTIVATIONS.register()
def hard_shrink(x, threshold=0.5):
    """`x` where `abs(x) > threshold`, else 0."""
    return F.hardshrink(x, threshold)


@ACTIVATIONS.register()
def threshold(x, threshold, default_value):
    """`x` where `x > threshold`, else `default_value` (both required, as in Keras)."""
    return F.threshold(x, threshold, default_value)


@ACTIVATIONS.register()
def sigmoid(x):
    """`1 / (1 + exp(-x))`."""
    return torch.sigmoid(x)


@ACTIVATIONS.register()
def sparse_sigmoid(x):
    """0 for `x <= -1`, `(x + 1) / 2` for `-1 < x < 1`, 1 for `x >= 1`."""
    return torch.clamp(x + 1.0, 0.0, 2.0) * 0.5


@ACTIVATIONS.register()
def exponential(x):
    """`exp(x)`."""
    return torch.exp(x)


@ACTIVATIONS.register()
def hard_sigmoid(x):
    """Keras 3's hard sigmoid: `relu6(x + 3) / 6` (0.667 at 1), torch's `hardsigmoid`.

    tf.keras 2 used `clip(0.2 * x + 0.5, 0, 1)` (0.7 at 1); models trained with it need that
    formula passed as a custom function.
    """
    return F.hardsigmoid(x)


@ACTIVATIONS.register("hard_silu", "hard_swish")
def hard_silu(x):
    """Hard SiLU / hard swish: `x * relu6(x + 3) / 6`, torch's `hardswish`."""
    return F.hardswish(x)


swish = silu
hard_swish = hard_silu


@ACTIVATIONS.register()
def linear(x):
    """The identity: returns `x` unchanged (what `None` resolves to)."""
    return x


@ACTIVATIONS.register()
def mish(x):
    """`x * tanh(softplus(x))`."""
    return F.mish(x)


@ACTIVATIONS.register()
def log_sigmoid(x):
    """`log(sigmoid(x))`, computed stably as `-softplus(-x)`."""
    return F.logsigmoid(x)


@ACTIVATIONS.register()
def sparsemax(x, axis=-1):
    """Sparsemax along `axis`: `max(x - tau, 0)`, with `tau` chosen so the outputs sum to 1.

    torch has no sparsemax; this is Keras' sort-and-cumsum algorithm as fixed upstream
    (keras-team/keras#23425, PR #23469). Keras 3.15 sums every cumulative sum in the support
    into `tau`, which is wrong (outputs not summing to 1) whenever more than one entry survives.
    """
    x_sorted = torch.sort(x, dim=axis, descending=True).values
    cumsum = torch.cumsum(x_sorted, dim=axis)
    shape = [1] * x.dim()
    shape[axis] = -1
    r = torch.arange(1, x.shape[axis] + 1, dtype=x.dtype, device=x.device).reshape(shape)
    support = x_sorted - (cumsum - 1) / r > 0
    k = torch.sum(support, dim=axis, keepdim=True).to(x.dtype)
    # The sum of the supported sorted logits is the cumulative sum at the k-th entry.
    tau = (torch.sum(torch.where(support, x_sorted, 0.0), dim=axis, keepdim=True) - 1) / k
    return torch.clamp_min(x - tau, 0.0)


# torch callables that compute exactly a Keras activation with its defaults: they serialize
# under the Keras name, so `Dense(4, activation=torch.relu)` saves as `"relu"`.
_TORCH_EQUIVALENTS = {
    torch.relu: relu, F.relu: relu, torch.tanh: tanh, F.tanh: tanh, torch.sigmoid: sigmoid,
    F.sigmoid: sigmoid, F.silu: silu, F.gelu: gelu, F.elu: elu, F.selu: selu, F.celu: celu,
    F.softplus: softplus, F.softsign: softsign, F.mish: mish, F.relu6: relu6,
    F.hardswish: hard_silu, F.hardsigmoid: hard_sigmoid, F.hardtanh: hard_tanh,
    F.logsigmoid: log_sigmoid, F.tanhshrink: tanh_shrink, torch.exp: exponential,
}


def get(identifier):
    """Resolve an activation identifier to a function.

    Args:
        identifier: `None` (-> `linear`), a name such as `"relu"`, a config dict as Keras saves
            custom functions, or any callable (returned as is).

    Returns:
        A callable `fn(x) -> tensor`.

    Raises:
        ValueError: for an unknown name, listing close matches.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        return ACTIVATIONS.lookup(identifier)
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(
        "Could not interpret activation function identifier: expected None, a string, a dict "
        f"or a callable. Received: identifier={identifier!r}"
    )


def serialize(activation):
    """Keras 3's serialized form: the name for a built-in (`"relu"`; `swish` -> `"silu"`).

    Other functions become Keras' function dict,
    `{"module": ..., "class_name": "function", "config": name, "registered_name": "function"}`;
    objects with `get_config` become a class dict.
    """
    if _hashable(activation):
        activation = _TORCH_EQUIVALENTS.get(activation, activation)
    name = getattr(activation, "__name__", None)
    if name in ACTIVATIONS and ACTIVATIONS.lookup(name) is activation:
        return name
    if hasattr(activation, "get_config"):
        return _serialize_object(activation)
    if callable(activation) and name is not None and name != "<lambda>":
        # Keras names the class of the object (`function`, from `builtins`), not the function;
        # a registered function goes by its registered name ("package>name").
        from kerastorch.saving.object_registration import get_registered_name
        return {"module": "builtins", "class_name": "function",
                "config": get_registered_name(activation), "registered_name": "function"}
    raise ValueError(
        "Cannot serialize an activation that is not a named function or an object with "
        f"get_config(). Received: activation={activation!r}"
    )


def deserialize(config, custom_objects=None):
    """Inverse of `serialize`: a name or a config dict -> the activation.

    Args:
        config: A string name, or a dict as Keras writes it (`class_name: "function"` with the
            function's name as `config`, or a class config).
        custom_objects: Optional dict of extra name -> function, searched first.
    """
    custom_objects = custom_objects or {}
    if isinstance(config, str):
        return custom_objects[config] if config in custom_objects else ACTIVATIONS.lookup(config)
    if isinstance(config, dict):
        if config.get("class_name") == "function":
            name = config.get("config")
            if name in custom_objects:
                return custom_objects[name]
            return ACTIVATIONS.lookup(name)
        name = config.get("registered_name") or config.get("class_name")
        if name in custom_objects:
            cls = custom_objects[name]
            return cls.from_config(config.get("config") or {})
        return ACTIVATIONS.deserialize(config)
    raise ValueError(
        f"Could not deserialize an activation: expected a string or a dict. Received: "
        f"config={config!r}"
    )


def _hashable(obj):
    try:
        hash(obj)
    except TypeError:
        return False
    return True


__all__ = sorted(ACTIVATIONS.names()) + ["ACTIVATIONS", "deserialize", "get", "serialize"]
