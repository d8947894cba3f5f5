"""`keras.backend`: the backend name and the global numeric settings.

kerastorch's backend is always `"torch"`.
"""

from kerastorch.config import epsilon as epsilon
from kerastorch.config import floatx as floatx
from kerastorch.config import image_data_format as image_data_format
from kerastorch.config import set_epsilon as set_epsilon
from kerastorch.config import set_floatx as set_floatx
from kerastorch.config import set_image_data_format as set_image_data_format
from kerastorch.utils.general_utils import clear_session as clear_session
from kerastorch.utils.general_utils import get_uid as get_uid
from kerastorch.utils.general_utils import is_float_dtype as is_float_dtype
from kerastorch.utils.general_utils import is_int_dtype as is_int_dtype
from kerastorch.utils.general_utils import is_keras_tensor as is_keras_tensor
from kerastorch.utils.general_utils import result_type as result_type
from kerastorch.utils.general_utils import standardize_dtype as standardize_dtype
from kerastorch.variables import Variable as Variable
from kerastorch.variables import name_scope as name_scope


def backend():
    """The backend's name: `"torch"`."""
    return "torch"
