"""Keras 3 weight constraints: `c(w) -> projected w`, applied after each optimizer step.

A constraint is called on the **Keras-layout** view of a weight (Dense kernel `(in, out)`,
Conv2D kernel `(kh, kw, in, out)`), so `axis` means what it means in Keras: the default
`axis=0` of `MaxNorm` / `UnitNorm` / `MinMaxNorm` constrains each Dense unit's incoming weight
vector; for a Conv2D kernel pass `axis=[0, 1, 2]`. The norms are divided with Keras' fudge term,
`w * desired / (epsilon() + norm)`, `epsilon() = 1e-7`.

Example:

    >>> from kerastorch import constraints
    >>> constraints.NonNeg()(torch.tensor([-1.0, 2.0]))
    tensor([0., 2.])
"""

import torch

from kerastorch import config
from kerastorch.utils.registry import Registry
from kerastorch.utils.registry import serialize as _serialize_object

CONSTRAINTS = Registry("constraint")


@CONSTRAINTS.register("Constraint", "constraint")
class Constraint:
    """Base class: subclasses implement `__call__(w) -> w` (the base returns `w` unchanged)."""

    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config_):
        return cls(**config_)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _dims(axis):
    # Keras accepts an int or a list of axes; torch reductions want an int or a tuple.
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


def _norms(w, axis):
    return torch.sqrt(torch.sum(torch.square(w), dim=_dims(axis), keepdim=True))


@CONSTRAINTS.register("MaxNorm", "max_norm")
class MaxNorm(Constraint):
    """Rescales each slice along `axis` to an L2 norm of at most `max_value`.

    Args:
        max_value: Maximum norm.
        axis: Int or list of ints, the axes the norm is taken over (Keras layout).
    """

    def __init__(self, max_value=2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = torch.clamp(norms, 0, self.max_value)
        return w * (desired / (config.epsilon() + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


@CONSTRAINTS.register("NonNeg", "non_neg")
class NonNeg(Constraint):
    """Sets negative weights to 0."""

    def __call__(self, w):
        return torch.clamp_min(w, 0)


@CONSTRAINTS.register("UnitNorm", "unit_norm")
class UnitNorm(Constraint):
    """Rescales each slice along `axis` to unit L2 norm: `w / (epsilon() + norm)`.

    Args:
        axis: Int or list of ints, the axes the norm is taken over (Keras layout).
    """

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        return w / (config.epsilon() + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


@CONSTRAINTS.register("MinMaxNorm", "min_max_norm")
class MinMaxNorm(Constraint):
    """Moves each slice's norm towards `[min_value, max_value]`.

    The new norm is `rate * clip(norm, min_value, max_value) + (1 - rate) * norm`; `rate=1`
    enforces the bounds at once.

    Args:
        min_value: Minimum norm.
        max_value: Maximum norm.
        rate: Fraction of the way to move per call.
        axis: Int or list of ints, the axes the norm is taken over (Keras layout).
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = (self.rate * torch.clamp(norms, self.min_value, self.max_value)
                   + (1 - self.rate) * norms)
        return w * (desired / (config.epsilon() + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


# Keras' lower-case public names are the classes themselves.
max_norm = MaxNorm
min_max_norm = MinMaxNorm
non_neg = NonNeg
unit_norm = UnitNorm


def get(identifier):
    """Resolve a constraint identifier.

    Args:
        identifier: `None`, a name (`"max_norm"`, `"min_max_norm"`, `"non_neg"`, `"unit_norm"`
            or a class name; default arguments), a config dict, a class, or any callable.

    Raises:
        ValueError: for an unknown name, listing close matches.
    """
    if identifier is None or isinstance(identifier, (str, dict)) or callable(identifier):
        return CONSTRAINTS.get(identifier)
    raise ValueError(f"Could not interpret constraint identifier. Received: "
                     f"identifier={identifier!r}")


def serialize(constraint):
    """Keras 3's config dict: `{"module": "keras.constraints", "class_name": ..., ...}`."""
    return _serialize_object(constraint)


def deserialize(config_, custom_objects=None):
    """Inverse of `serialize`; also accepts a plain name.

    Args:
        config_: A dict from `serialize` (or a Keras file), or a string name.
        custom_objects: Optional dict of extra name -> class, searched first.
    """
    return CONSTRAINTS.deserialize(config_, custom_objects)
