"""The few `keras.backend` / `keras.config` functions the ported ops call, on kerastorch's
config (so the op bodies read as in Keras' torch backend)."""

import types

from kerastorch import config as _config
from kerastorch.ops._dtypes import result_type, standardize_dtype
from kerastorch.ops._utils import standardize_data_format

config = types.SimpleNamespace(
    floatx=_config.floatx, epsilon=_config.epsilon, backend=lambda: "torch",
    image_data_format=_config.image_data_format, device=_config.device)
backend = types.SimpleNamespace(
    floatx=_config.floatx, epsilon=_config.epsilon, result_type=result_type,
    standardize_dtype=standardize_dtype, standardize_data_format=standardize_data_format)
