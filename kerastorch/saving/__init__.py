"""Saving and loading: Keras 3's `.keras` and `.weights.h5`, legacy `.h5`, torch files and
training checkpoints (`saving_api` dispatches by file name)."""

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
from kerastorch.saving.checkpoint import load_checkpoint as load_checkpoint
from kerastorch.saving.checkpoint import save_checkpoint as save_checkpoint
from kerastorch.saving.saving_api import load_model as load_model
from kerastorch.saving.saving_api import load_weights as load_weights
from kerastorch.saving.saving_api import save_model as save_model
from kerastorch.saving.saving_api import save_weights as save_weights
