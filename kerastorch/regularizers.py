"""Keras 3 weight regularizers: `reg(weight) -> 0-dim tensor` added to the training loss.

`L2(l2)` is `l2 * sum(w ** 2)`, with no 1/2 factor, so it equals torch's SGD `weight_decay=2*l2`
only for plain SGD; Keras adds it to the reported loss, torch's `weight_decay` does not.

A regularizer is called on the **Keras-layout** view of a weight (Dense kernel `(in, out)`,
Conv2D kernel `(kh, kw, in, out)`), never on torch's stored layout. Sums of squares or absolute
values do not depend on the layout, but `OrthogonalRegularizer`'s rows and columns do: layers
pass `kernel` (their Keras view), not `weight`.

Example:

    >>> from kerastorch import regularizers
    >>> regularizers.L2(0.01)(torch.ones(2, 2))
    tensor(0.0400)
"""

import math

import torch
import torch.nn.functional as F

from kerastorch import config
from kerastorch.utils.registry import Registry
from kerastorch.utils.registry import serialize as _serialize_object

REGULARIZERS = Registry("regularizer")


@REGULARIZERS.register("Regularizer", "regularizer")
class Regularizer:
    """Base class: subclasses implement `__call__(x) -> scalar tensor` and `get_config()`.

    Any function `fn(weight) -> scalar tensor` also works wherever a regularizer is expected.
    """

    def __call__(self, x):
        return x.new_zeros(())

    def get_config(self):
        raise NotImplementedError(f"{self} does not implement get_config()")

    @classmethod
    def from_config(cls, config_):
        return cls(**config_)

    def __repr__(self):
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


def _validate_float_arg(value, name):
    if (not isinstance(value, (float, int)) or isinstance(value, bool)
            or math.isinf(value) or math.isnan(value) or value < 0):
        raise ValueError(f"Invalid value for argument {name}: expected a non-negative float. "
                         f"Received: {name}={value!r}")
    return float(value)


@REGULARIZERS.register("L1L2", "l1l2", "l1_l2")
class L1L2(Regularizer):
    """`l1 * sum(abs(x)) + l2 * sum(x ** 2)`.

    Both factors default to 0 (Keras 3; tf.keras 2's `l1_l2()` function defaulted to 0.01 each).
    Keras 3.15 registers the name `"l1l2"` only; `"l1_l2"` (its public alias) works here too.

    Args:
        l1: Non-negative float.
        l2: Non-negative float.
    """

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _validate_float_arg(0.0 if l1 is None else l1, name="l1")
        self.l2 = _validate_float_arg(0.0 if l2 is None else l2, name="l2")

    def __call__(self, x):
        penalty = x.new_zeros(())
        if self.l1 != 0.0:
            penalty = penalty + self.l1 * torch.sum(torch.abs(x))
        if self.l2 != 0.0:
            penalty = penalty + self.l2 * torch.sum(torch.square(x))
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


@REGULARIZERS.register("L1", "l1")
class L1(Regularizer):
    """`l1 * sum(abs(x))`.

    Args:
        l1: Non-negative float (default 0.01, also for the name `"l1"`).
    """

    def __init__(self, l1=0.01):
        # Keras 3.15 keeps l1 as a float32 tensor, so its get_config() reports 0.009999999776...;
        # here it stays the Python float given.
        self.l1 = _validate_float_arg(0.01 if l1 is None else l1, name="l1")

    def __call__(self, x):
        return self.l1 * torch.sum(torch.abs(x))

    def get_config(self):
        return {"l1": self.l1}


@REGULARIZERS.register("L2", "l2")
class L2(Regularizer):
    """`l2 * sum(x ** 2)` (no 1/2 factor).

    Args:
        l2: Non-negative float (default 0.01, also for the name `"l2"`).
    """

    def __init__(self, l2=0.01):
        self.l2 = _validate_float_arg(0.01 if l2 is None else l2, name="l2")

    def __call__(self, x):
        return self.l2 * torch.sum(torch.square(x))

    def get_config(self):
        return {"l2": self.l2}


@REGULARIZERS.register("OrthogonalRegularizer", "orthogonal_regularizer")
class OrthogonalRegularizer(Regularizer):
    """Penalises non-orthogonality of the rows (or columns) of a 2D weight.

    `factor * mean(|<u_i, u_j>|)` over pairs `i < j` of L2-normalised rows (`mode="rows"`) or
    columns (`mode="columns"`) of the Keras-layout weight; for a Dense kernel `(in, units)`,
    `"rows"` compares the input features' weight vectors.

    Args:
        factor: Non-negative float.
        mode: `"rows"` or `"columns"`.
    """

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _validate_float_arg(factor, name="factor")
        if mode not in ("rows", "columns"):
            raise ValueError("Invalid value for argument `mode`. Expected one of "
                             f'{{"rows", "columns"}}. Received: mode={mode!r}')
        self.mode = mode

    def __call__(self, inputs):
        if inputs.dim() != 2:
            raise ValueError("Inputs to OrthogonalRegularizer must have rank 2. "
                             f"Received: inputs.shape={tuple(inputs.shape)}")
        # Keras multiplies by min(rsqrt(sum(x**2)), 1/epsilon); F.normalize divides by
        # max(norm, epsilon): the same values.
        if self.mode == "rows":
            unit = F.normalize(inputs, dim=1, eps=config.epsilon())
            product = unit @ unit.T
        else:
            unit = F.normalize(inputs, dim=0, eps=config.epsilon())
            product = unit.T @ unit
        size = product.shape[0]
        off_diagonal = product.masked_fill(
            torch.eye(size, dtype=torch.bool, device=product.device), 0.0)
        num_pairs = size * (size - 1.0) / 2.0
        return self.factor * 0.5 * torch.sum(torch.abs(off_diagonal)) / num_pairs

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


# Keras' lower-case public names are the classes themselves.
l1 = L1
l2 = L2
l1_l2 = L1L2
orthogonal_regularizer = OrthogonalRegularizer


def get(identifier):
    """Resolve a regularizer identifier.

    Args:
        identifier: `None`, a name (`"l1"`, `"l2"`, `"l1_l2"`, `"orthogonal_regularizer"`, or a
            class name; default arguments), a config dict, a class, or any callable.

    Raises:
        ValueError: for an unknown name, listing close matches.
    """
    if identifier is None or isinstance(identifier, (str, dict)) or callable(identifier):
        return REGULARIZERS.get(identifier)
    raise ValueError(f"Could not interpret regularizer identifier. Received: "
                     f"identifier={identifier!r}")


def serialize(regularizer):
    """Keras 3's config dict: `{"module": "keras.regularizers", "class_name": ..., ...}`."""
    return _serialize_object(regularizer)


def deserialize(config_, custom_objects=None):
    """Inverse of `serialize`; also accepts a plain name.

    Args:
        config_: A dict from `serialize` (or a Keras file), or a string name.
        custom_objects: Optional dict of extra name -> class, searched first.
    """
    return REGULARIZERS.deserialize(config_, custom_objects)
