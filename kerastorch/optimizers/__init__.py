"""Keras optimizers as `torch.optim.Optimizer` subclasses: `get`, `serialize`, `deserialize`.

Constructed Keras-style without parameters (`Adam(learning_rate=1e-3)`); `build(params)` or the
first `apply(grads, variables)` makes them torch optimizers.
"""

import torch

from kerastorch.optimizers import schedules as schedules
from kerastorch.optimizers.adadelta import Adadelta as Adadelta
from kerastorch.optimizers.adagrad import Adagrad as Adagrad
from kerastorch.optimizers.adam import Adam as Adam
from kerastorch.optimizers.adamax import Adamax as Adamax
from kerastorch.optimizers.adamw import AdamW as AdamW
from kerastorch.optimizers.base import OPTIMIZERS as OPTIMIZERS
from kerastorch.optimizers.base import Optimizer as Optimizer
from kerastorch.optimizers.ftrl import Ftrl as Ftrl
from kerastorch.optimizers.lamb import Lamb as Lamb
from kerastorch.optimizers.lion import Lion as Lion
from kerastorch.optimizers.nadam import Nadam as Nadam
from kerastorch.optimizers.rmsprop import RMSprop as RMSprop
from kerastorch.optimizers.sgd import SGD as SGD
from kerastorch.utils import registry as _registry


def get(identifier):
    """An optimizer from a name (`"adam"`, `"Adam"`), a Keras config dict, or an instance.

    Any `torch.optim.Optimizer` instance is returned as is. Unknown names raise `ValueError`
    naming close matches.
    """
    if isinstance(identifier, torch.optim.Optimizer):
        return identifier
    if identifier is None:
        raise ValueError("Could not interpret optimizer identifier: None")
    return OPTIMIZERS.get(identifier)


def serialize(optimizer) -> dict:
    """Keras' form: `{"module": "keras.optimizers", "class_name", "config", "registered_name"}`."""
    return _registry.serialize(optimizer)


def deserialize(config: dict, custom_objects=None):
    """Inverse of `serialize`; `class_name` may be any registered name (`"adam"`, `"Adam"`)."""
    return OPTIMIZERS.deserialize(config, custom_objects)


def __getattr__(name):
    # Keras 3 also exports it here; imported late (it wraps the optimizers defined above).
    if name == "LossScaleOptimizer":
        from kerastorch.mixed_precision import LossScaleOptimizer
        return LossScaleOptimizer
    raise AttributeError(f"module 'kerastorch.optimizers' has no attribute {name!r}")
