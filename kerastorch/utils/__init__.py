"""`keras.utils`: data helpers and process-wide utilities."""

from kerastorch.config import set_random_seed as set_random_seed
from kerastorch.utils.model_visualization import plot_model as plot_model
from kerastorch.utils.numerical_utils import normalize as normalize
from kerastorch.utils.numerical_utils import to_categorical as to_categorical
from kerastorch.utils.py_dataset import PyDataset as PyDataset, PyDataset as Sequence  # noqa
