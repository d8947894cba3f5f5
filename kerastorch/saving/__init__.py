"""Saving and loading: torch state dicts now; Keras' `.keras`/`.h5` formats later."""

from kerastorch.saving.object_registration import CustomObjectScope as CustomObjectScope
from kerastorch.saving.object_registration import custom_object_scope as custom_object_scope
from kerastorch.saving.object_registration import get_custom_objects as get_custom_objects
from kerastorch.saving.object_registration import get_registered_name as get_registered_name
from kerastorch.saving.object_registration import (
    get_registered_object as get_registered_object,
)
from kerastorch.saving.object_registration import (
    register_keras_serializable as register_keras_serializable,
)
from kerastorch.saving.serialization import (
    deserialize_keras_object as deserialize_keras_object,
)
from kerastorch.saving.serialization import serialize_keras_object as serialize_keras_object
