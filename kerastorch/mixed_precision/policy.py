"""`DTypePolicy` and the global policy (Keras 3's `keras.mixed_precision` / `keras.config`).

A policy names a layer's compute dtype and variable dtype. `"mixed_float16"` and
`"mixed_bfloat16"` keep float32 variables and compute in float16/bfloat16; any float dtype name
(`"float32"`, `"float64"`, ...) uses that dtype for both.

kerastorch computes the mixed policies the PyTorch way: the weights stay float32 `Parameter`s and
the train/test/predict steps run the forward pass under `torch.autocast` with the compute dtype
(see `kerastorch.mixed_precision.step`). Layers whose own policy is not mixed run with autocast
off and float32 inputs, as a Keras layer with `dtype="float32"` does in a mixed model.
"""

import torch

_FLOAT_NAMES = ("float16", "bfloat16", "float32", "float64")
_MIXED = {"mixed_float16": ("float16", "float32"), "mixed_bfloat16": ("bfloat16", "float32")}
_GLOBAL = [None]  # the global policy; None until first read or set (then floatx)


def _standardize_dtype(name) -> str:
    if isinstance(name, torch.dtype):
        name = str(name).replace("torch.", "")
    if name in ("half",):
        return "float16"
    if name in ("float", "double"):
        return "float32" if name == "float" else "float64"
    if isinstance(name, str) and name in _FLOAT_NAMES + ("int8", "int16", "int32", "int64",
                                                          "uint8", "bool"):
        return name
    raise ValueError(f"Invalid dtype: {name!r}")


class DTypePolicy:
    """A dtype policy for a layer: its compute dtype and variable dtype.

    Args:
        name: `"mixed_float16"`, `"mixed_bfloat16"` (float16/bfloat16 compute, float32
            variables), or a dtype name such as `"float32"` (both dtypes). Default: the global
            policy's name.

    Example:

    ```python
    keras.mixed_precision.set_global_policy("mixed_float16")
    layer = keras.layers.Dense(10)
    layer.dtype_policy        # <DTypePolicy "mixed_float16">
    layer.compute_dtype, layer.variable_dtype   # ('float16', 'float32')
    keras.mixed_precision.set_global_policy("float32")
    ```
    """

    def __init__(self, name=None):
        self._name = dtype_policy().name if name is None else name
        self._compute_dtype, self._variable_dtype = self._parse_name(self._name)
        self._quantization_mode = None

    @staticmethod
    def _parse_name(name):
        if not isinstance(name, str):
            raise TypeError("'name' must be a string, such as 'mixed_float16'. "
                            f"Received: name={name} (of type {type(name)})")
        if name in _MIXED:
            return _MIXED[name]
        try:
            dtype = _standardize_dtype(name)
        except ValueError:
            dtype = None
        if dtype is None:
            raise ValueError(f"Cannot convert '{name}' to a mixed precision DTypePolicy. Valid "
                             "policies include 'mixed_float16', 'mixed_bfloat16', and the name "
                             "of any float dtype such as 'float32'.")
        return dtype, dtype

    @property
    def name(self) -> str:
        return self._name

    @property
    def compute_dtype(self) -> str:
        """The dtype of the layer's computations (and typically of its outputs)."""
        return self._compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype of the layer's weights."""
        return self._variable_dtype

    @property
    def quantization_mode(self):
        return self._quantization_mode

    @property
    def is_mixed(self) -> bool:
        """True when the compute dtype differs from the variable dtype (kerastorch helper)."""
        return self._compute_dtype != self._variable_dtype

    def get_config(self) -> dict:
        return {"name": self._name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f'<DTypePolicy "{self._name}">'

    def __eq__(self, other):
        return isinstance(other, DTypePolicy) and self._name == other._name

    def __hash__(self):
        return hash(self._name)


FloatDTypePolicy = DTypePolicy  # Keras' alias
Policy = DTypePolicy  # Keras 2's name, kept by Keras 3 under keras.mixed_precision


def set_dtype_policy(policy) -> None:
    """Set the global dtype policy: a policy name (`"mixed_float16"`) or a `DTypePolicy`.

    Layers created afterwards (without their own `dtype`) take it.
    """
    if not isinstance(policy, DTypePolicy):
        if isinstance(policy, str):
            policy = DTypePolicy(policy)
        else:
            raise ValueError("Invalid `policy` argument. Expected the string name of a policy "
                             "(such as 'mixed_float16') or a `DTypePolicy` instance. "
                             f"Received: policy={policy} (of type {type(policy)})")
    _GLOBAL[0] = policy


def dtype_policy() -> DTypePolicy:
    """The current global dtype policy (`DTypePolicy(floatx())` unless set)."""
    policy = _GLOBAL[0]
    if policy is None:
        from kerastorch import config
        policy = _GLOBAL[0] = DTypePolicy(config.floatx())
    return policy


set_global_policy = set_dtype_policy  # Keras' legacy names
global_policy = dtype_policy


def get(identifier) -> DTypePolicy:
    """A policy from `None` (the global one), a name, a config dict, a torch dtype or a policy."""
    if identifier is None:
        return dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        config = identifier.get("config", identifier)
        return DTypePolicy(config.get("name"))
    if isinstance(identifier, str):
        return DTypePolicy(identifier)
    try:
        return DTypePolicy(_standardize_dtype(identifier))
    except (ValueError, TypeError):
        raise ValueError("Cannot interpret `dtype` argument. Expected a string or an instance "
                         f"of DTypePolicy. Received: dtype={identifier}") from None


def serialize(policy) -> dict:
    """Keras' form: `{"module": "keras", "class_name": "DTypePolicy", "config": {...}}`."""
    return {"module": "keras", "class_name": "DTypePolicy", "config": policy.get_config(),
            "registered_name": None}
