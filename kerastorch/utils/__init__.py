"""`keras.utils`: data helpers and process-wide utilities.

The helpers added for Keras scripts (datasets, images, files, registration re-exports) load on
first use, so importing a layer (which imports `kerastorch.utils.naming`) stays cheap.
"""

import importlib

from kerastorch.config import set_random_seed as set_random_seed
from kerastorch.utils.model_visualization import model_to_dot as model_to_dot
from kerastorch.utils.model_visualization import plot_model as plot_model
from kerastorch.utils.numerical_utils import normalize as normalize
from kerastorch.utils.numerical_utils import to_categorical as to_categorical
from kerastorch.utils.py_dataset import PyDataset as PyDataset, PyDataset as Sequence  # noqa

_LAZY = {
    "kerastorch.saving": (
        "CustomObjectScope", "custom_object_scope", "deserialize_keras_object",
        "get_custom_objects", "get_registered_name", "get_registered_object",
        "register_keras_serializable", "serialize_keras_object"),
    "kerastorch.utils.dataset_utils": (
        "image_dataset_from_directory", "split_dataset", "text_dataset_from_directory",
        "timeseries_dataset_from_array"),
    "kerastorch.utils.config_dict": ("Config",),
    "kerastorch.utils.file_utils": ("get_file",),
    "kerastorch.utils.general_utils": (
        "clear_session", "get_source_inputs", "is_keras_tensor", "pack_x_y_sample_weight",
        "standardize_dtype", "unpack_x_y_sample_weight"),
    "kerastorch.utils.image_utils": ("array_to_img", "img_to_array", "load_img", "save_img"),
    "kerastorch.utils.io_utils": (
        "disable_interactive_logging", "enable_interactive_logging",
        "is_interactive_logging_enabled"),
    "kerastorch.utils.keras_progbar": ("Progbar",),
    "kerastorch.utils.sequence_utils": ("pad_sequences",),
}
_WHERE = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name):
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kerastorch.utils' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_WHERE))
