"""`keras.dtype_policies`: the dtype policies (`DTypePolicy`, its alias `FloatDTypePolicy`) and
their `get`/`serialize`/`deserialize`, as in Keras 3 (they live in `kerastorch.mixed_precision`)."""

from kerastorch.mixed_precision.policy import DTypePolicy as DTypePolicy
from kerastorch.mixed_precision.policy import FloatDTypePolicy as FloatDTypePolicy
from kerastorch.mixed_precision.policy import get as get
from kerastorch.mixed_precision.policy import serialize as serialize


def deserialize(config, custom_objects=None):
    """The policy of a `serialize()` dict (or of a policy name)."""
    return get(config)
