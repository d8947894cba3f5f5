"""Process-wide settings: device, floatx, epsilon, image data format, seeds.

Device choice: `KERASTORCH_DEVICE` if set, else CUDA, else MPS, else CPU.
"""

import os
import random

import numpy as np
import torch

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"
_DEVICE: torch.device | None = None


def device() -> torch.device:
    """The device models and in-memory data go to."""
    global _DEVICE
    if _DEVICE is None:
        name = os.environ.get("KERASTORCH_DEVICE")
        if name:
            _DEVICE = torch.device(name)
        elif torch.cuda.is_available():
            _DEVICE = torch.device("cuda")
        elif getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            _DEVICE = torch.device("mps")
        else:
            _DEVICE = torch.device("cpu")
    return _DEVICE


def set_device(name) -> None:
    """Override the device choice for this process (`None` re-reads the environment)."""
    global _DEVICE
    _DEVICE = None if name is None else torch.device(name)


def floatx() -> str:
    return _FLOATX


def set_floatx(value: str) -> None:
    global _FLOATX
    if value not in ("float16", "bfloat16", "float32", "float64"):
        raise ValueError(f"Unknown floatx: expected float16/bfloat16/float32/float64. "
                         f"Received: value={value!r}")
    _FLOATX = value


def float_dtype() -> torch.dtype:
    return getattr(torch, _FLOATX)


def epsilon() -> float:
    return _EPSILON


def set_epsilon(value: float) -> None:
    global _EPSILON
    _EPSILON = float(value)


def image_data_format() -> str:
    return _IMAGE_DATA_FORMAT


def set_image_data_format(value: str) -> None:
    global _IMAGE_DATA_FORMAT
    if value not in ("channels_last", "channels_first"):
        raise ValueError("`data_format` must be 'channels_last' or 'channels_first'. "
                         f"Received: value={value!r}")
    _IMAGE_DATA_FORMAT = value


def dtype_policy():
    """The global `DTypePolicy` (Keras' `keras.config.dtype_policy`)."""
    from kerastorch.mixed_precision import policy  # lazy: policy -> optimizers -> config
    return policy.dtype_policy()


def set_dtype_policy(policy) -> None:
    """Set the global dtype policy, e.g. `"mixed_float16"` (`keras.config.set_dtype_policy`)."""
    from kerastorch.mixed_precision import policy as policy_mod
    policy_mod.set_dtype_policy(policy)


def set_random_seed(seed: int) -> None:
    """Seed Python, numpy and torch (Keras: `keras.utils.set_random_seed`)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def to_tensor(x, dtype=None, device_=None) -> torch.Tensor:
    """numpy/list/tensor -> tensor; floating inputs become floatx, as Keras casts them."""
    if isinstance(x, torch.Tensor):
        t = x
    else:
        t = torch.as_tensor(np.asarray(x))
    if dtype is not None:
        t = t.to(dtype)
    elif t.is_floating_point() and t.dtype != float_dtype():
        t = t.to(float_dtype())
    if device_ is not None and t.device != torch.device(device_):
        t = t.to(device_)
    return t


# ---------------------------------------------------------------------- Keras' other settings
def backend() -> str:
    """The backend's name: `"torch"` (`keras.config.backend`)."""
    return "torch"


def enable_interactive_logging():
    """Progress bars and messages go to stdout (the default)."""
    from kerastorch.utils import io_utils
    io_utils.enable_interactive_logging()


def disable_interactive_logging():
    """Progress bars and messages go to Python `logging` instead of stdout."""
    from kerastorch.utils import io_utils
    io_utils.disable_interactive_logging()


def is_interactive_logging_enabled() -> bool:
    from kerastorch.utils import io_utils
    return io_utils.is_interactive_logging_enabled()


def enable_unsafe_deserialization():
    """Allow deserializing Python lambdas from now on, in this process (`safe_mode=False`
    everywhere)."""
    from kerastorch.saving.serialization import enable_unsafe_deserialization as enable
    enable()


_TRACEBACK_FILTERING = [True]


def enable_traceback_filtering():
    """Recorded only: kerastorch does not filter tracebacks."""
    _TRACEBACK_FILTERING[0] = True


def disable_traceback_filtering():
    """Recorded only: kerastorch does not filter tracebacks."""
    _TRACEBACK_FILTERING[0] = False


def is_traceback_filtering_enabled() -> bool:
    return _TRACEBACK_FILTERING[0]


_FLASH_ATTENTION = [None]


def enable_flash_attention():
    """Recorded (`is_flash_attention_enabled()` -> True); torch's attention kernels choose the
    flash kernel themselves where the device supports it."""
    _FLASH_ATTENTION[0] = True


def disable_flash_attention():
    """Recorded (`is_flash_attention_enabled()` -> False)."""
    _FLASH_ATTENTION[0] = False


def is_flash_attention_enabled():
    """None (automatic, the default), or what `enable/disable_flash_attention` set."""
    return _FLASH_ATTENTION[0]


def is_nnx_enabled() -> bool:
    """Always False: Flax NNX is a JAX-backend feature."""
    return False


def set_backend(backend):
    """Only `"torch"` is available in kerastorch (Keras reloads itself on another backend)."""
    if backend != "torch":
        raise ValueError(f"kerastorch runs on the torch backend only. Received: "
                         f"backend={backend!r}")


# ---------------------------------------------------------------------- debugging caps on fit
def _limit_from_env(name):
    value = os.environ.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"The environment variable {name} must be an integer. "
                         f"Received: {name}={value!r}") from None


_MAX_EPOCHS = _limit_from_env("KERAS_MAX_EPOCHS")
_MAX_STEPS_PER_EPOCH = _limit_from_env("KERAS_MAX_STEPS_PER_EPOCH")


def _check_limit(name, value):
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value < 0):
        raise ValueError(f"`{name}` must be a non-negative integer or None (no limit). "
                         f"Received: {name}={value!r}")
    return value


def set_max_epochs(max_epochs):
    """Cap the epochs of every `fit` (a debugging aid; also `KERAS_MAX_EPOCHS`). `None` or 0:
    no cap."""
    global _MAX_EPOCHS
    _MAX_EPOCHS = _check_limit("max_epochs", max_epochs)


def max_epochs():
    """The cap `set_max_epochs` (or `KERAS_MAX_EPOCHS`) set, or None."""
    return _MAX_EPOCHS


def set_max_steps_per_epoch(max_steps_per_epoch):
    """Cap the steps of each epoch of `fit`, and of `evaluate` and `predict` (a debugging aid;
    also `KERAS_MAX_STEPS_PER_EPOCH`). `None` or 0: no cap."""
    global _MAX_STEPS_PER_EPOCH
    _MAX_STEPS_PER_EPOCH = _check_limit("max_steps_per_epoch", max_steps_per_epoch)


def max_steps_per_epoch():
    """The cap `set_max_steps_per_epoch` (or `KERAS_MAX_STEPS_PER_EPOCH`) set, or None."""
    return _MAX_STEPS_PER_EPOCH
