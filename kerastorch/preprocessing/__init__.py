"""`keras.preprocessing`: Keras 3's names for the dataset and image/sequence helpers."""

from kerastorch.preprocessing import image as image
from kerastorch.preprocessing import sequence as sequence
from kerastorch.utils.dataset_utils import (
    image_dataset_from_directory as image_dataset_from_directory,
)
from kerastorch.utils.dataset_utils import (
    text_dataset_from_directory as text_dataset_from_directory,
)
from kerastorch.utils.dataset_utils import (
    timeseries_dataset_from_array as timeseries_dataset_from_array,
)
