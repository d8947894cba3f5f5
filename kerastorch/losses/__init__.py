"""Keras 3 losses on PyTorch (`kerastorch.losses`, also `keras.losses` under the alias).

Every Keras loss as a per-sample function and as a `Loss` class with Keras' arguments,
defaults, numbers and configs; `get("mse")`, `get("Huber")`, `compile(loss="kld")` resolve
Keras' names and aliases. The modules: `base` (the `Loss` base, reductions, registry),
`crossentropy`, `regression` (also KL divergence and Poisson), `hinge`, `segmentation`
(Dice, Tversky), `sequence` (CTC), `similarity` (Circle).
"""

from kerastorch.losses.base import LOSSES as LOSSES
from kerastorch.losses.base import Loss as Loss
from kerastorch.losses.base import LossFunctionWrapper as LossFunctionWrapper
from kerastorch.losses.base import apply_mask as apply_mask
from kerastorch.losses.base import as_tensor as as_tensor
from kerastorch.losses.base import divide_no_nan as divide_no_nan
from kerastorch.losses.base import reduce_values as reduce_values
from kerastorch.losses.base import register_fast_mean as register_fast_mean
from kerastorch.losses.base import squeeze_or_expand_to_same_rank as squeeze_or_expand_to_same_rank
from kerastorch.losses.base import standardize_dtype as standardize_dtype
from kerastorch.losses.crossentropy import BinaryCrossentropy as BinaryCrossentropy
from kerastorch.losses.crossentropy import BinaryFocalCrossentropy as BinaryFocalCrossentropy
from kerastorch.losses.crossentropy import CategoricalCrossentropy as CategoricalCrossentropy
from kerastorch.losses.crossentropy import (
    CategoricalFocalCrossentropy as CategoricalFocalCrossentropy,
)
from kerastorch.losses.crossentropy import (
    CategoricalGeneralizedCrossEntropy as CategoricalGeneralizedCrossEntropy,
)
from kerastorch.losses.crossentropy import (
    SparseCategoricalCrossentropy as SparseCategoricalCrossentropy,
)
from kerastorch.losses.crossentropy import binary_crossentropy as binary_crossentropy
from kerastorch.losses.crossentropy import binary_focal_crossentropy as binary_focal_crossentropy
from kerastorch.losses.crossentropy import categorical_crossentropy as categorical_crossentropy
from kerastorch.losses.crossentropy import (
    categorical_focal_crossentropy as categorical_focal_crossentropy,
)
from kerastorch.losses.crossentropy import (
    categorical_generalized_cross_entropy as categorical_generalized_cross_entropy,
)
from kerastorch.losses.crossentropy import (
    sparse_categorical_crossentropy as sparse_categorical_crossentropy,
)
from kerastorch.losses.hinge import CategoricalHinge as CategoricalHinge
from kerastorch.losses.hinge import Hinge as Hinge
from kerastorch.losses.hinge import SquaredHinge as SquaredHinge
from kerastorch.losses.hinge import categorical_hinge as categorical_hinge
from kerastorch.losses.hinge import hinge as hinge
from kerastorch.losses.hinge import squared_hinge as squared_hinge
from kerastorch.losses.regression import CosineSimilarity as CosineSimilarity
from kerastorch.losses.regression import Huber as Huber
from kerastorch.losses.regression import KLDivergence as KLDivergence
from kerastorch.losses.regression import LogCosh as LogCosh
from kerastorch.losses.regression import MeanAbsoluteError as MeanAbsoluteError
from kerastorch.losses.regression import MeanAbsolutePercentageError as MeanAbsolutePercentageError
from kerastorch.losses.regression import MeanSquaredError as MeanSquaredError
from kerastorch.losses.regression import MeanSquaredLogarithmicError as MeanSquaredLogarithmicError
from kerastorch.losses.regression import Poisson as Poisson
from kerastorch.losses.regression import cosine_similarity as cosine_similarity
from kerastorch.losses.regression import huber as huber
from kerastorch.losses.regression import kl_divergence as kl_divergence
from kerastorch.losses.regression import log_cosh as log_cosh
from kerastorch.losses.regression import mean_absolute_error as mean_absolute_error
from kerastorch.losses.regression import (
    mean_absolute_percentage_error as mean_absolute_percentage_error,
)
from kerastorch.losses.regression import mean_squared_error as mean_squared_error
from kerastorch.losses.regression import (
    mean_squared_logarithmic_error as mean_squared_logarithmic_error,
)
from kerastorch.losses.regression import poisson as poisson
from kerastorch.losses.segmentation import Dice as Dice
from kerastorch.losses.segmentation import Tversky as Tversky
from kerastorch.losses.segmentation import dice as dice
from kerastorch.losses.segmentation import tversky as tversky
from kerastorch.losses.sequence import CTC as CTC
from kerastorch.losses.sequence import ctc as ctc
from kerastorch.losses.similarity import Circle as Circle
from kerastorch.losses.similarity import circle as circle

from kerastorch.utils.registry import serialize as _serialize

# The public functions report this package as their module (as Keras' do `keras.losses`), so
# `fn.__module__ == kerastorch.losses.__name__` tells a loss function from any other.
for _fn in (binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
            categorical_focal_crossentropy, categorical_generalized_cross_entropy,
            sparse_categorical_crossentropy, categorical_hinge, hinge, squared_hinge,
            cosine_similarity, huber, kl_divergence, log_cosh, mean_absolute_error,
            mean_absolute_percentage_error, mean_squared_error, mean_squared_logarithmic_error,
            poisson, dice, tversky, ctc, circle):
    _fn.__module__ = __name__
del _fn


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
