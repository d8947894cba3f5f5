"""`keras.utils`: data helpers and process-wide utilities."""

from kerastorch.config import set_random_seed as set_random_seed
from kerastorch.saving import CustomObjectScope as CustomObjectScope
from kerastorch.saving import custom_object_scope as custom_object_scope
from kerastorch.saving import deserialize_keras_object as deserialize_keras_object
from kerastorch.saving import get_custom_objects as get_custom_objects
from kerastorch.saving import get_registered_name as get_registered_name
from kerastorch.saving import get_registered_object as get_registered_object
from kerastorch.saving import register_keras_serializable as register_keras_serializable
from kerastorch.saving import serialize_keras_object as serialize_keras_object
from kerastorch.trainers.data_adapters.utils import (
    pack_x_y_sample_weight as pack_x_y_sample_weight,
)
from kerastorch.trainers.data_adapters.utils import (
    unpack_x_y_sample_weight as unpack_x_y_sample_weight,
)
from kerastorch.utils.dataset_utils import image_dataset_from_directory as image_dataset_from_directory  # noqa: E501
from kerastorch.utils.dataset_utils import split_dataset as split_dataset
from kerastorch.utils.dataset_utils import text_dataset_from_directory as text_dataset_from_directory  # noqa: E501
from kerastorch.utils.dataset_utils import (
    timeseries_dataset_from_array as timeseries_dataset_from_array,
)
from kerastorch.utils.file_utils import get_file as get_file
from kerastorch.utils.general_utils import clear_session as clear_session
from kerastorch.utils.general_utils import get_source_inputs as get_source_inputs
from kerastorch.utils.general_utils import is_keras_tensor as is_keras_tensor
from kerastorch.utils.general_utils import standardize_dtype as standardize_dtype
from kerastorch.utils.image_utils import array_to_img as array_to_img
from kerastorch.utils.image_utils import img_to_array as img_to_array
from kerastorch.utils.image_utils import load_img as load_img
from kerastorch.utils.image_utils import save_img as save_img
from kerastorch.utils.io_utils import disable_interactive_logging as disable_interactive_logging
from kerastorch.utils.io_utils import enable_interactive_logging as enable_interactive_logging
from kerastorch.utils.io_utils import (
    is_interactive_logging_enabled as is_interactive_logging_enabled,
)
from kerastorch.utils.keras_progbar import Progbar as Progbar
from kerastorch.utils.model_visualization import plot_model as plot_model
from kerastorch.utils.numerical_utils import normalize as normalize
from kerastorch.utils.numerical_utils import to_categorical as to_categorical
from kerastorch.utils.py_dataset import PyDataset as PyDataset, PyDataset as Sequence  # noqa
from kerastorch.utils.sequence_utils import pad_sequences as pad_sequences
