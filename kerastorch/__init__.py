"""kerastorch: the Keras 3 API on PyTorch. `import kerastorch as keras`.

Every model and layer is a `torch.nn.Module` whose `state_dict()` uses the names and layouts of
the equivalent torch modules. Namespaces load on first use.
"""

import importlib

__version__ = "0.1.0"

_NAMESPACES = (
    "activations", "backend", "callbacks", "config", "constraints", "datasets", "distribute",
    "dtype_policies", "export", "initializers", "layers", "losses", "metrics", "mixed_precision",
    "models", "ops", "optimizers", "preprocessing", "random", "regularizers", "saving", "tree",
    "utils",
)
_NAMES = {
    "Sequential": "kerastorch.models",
    "Model": "kerastorch.models",
    "Input": "kerastorch.layers",
    "DTypePolicy": "kerastorch.mixed_precision",
    "FloatDTypePolicy": "kerastorch.mixed_precision",
    "Layer": "kerastorch.layers",
    "KerasTensor": "kerastorch.layers.input_layer",
    "Loss": "kerastorch.losses",
    "Metric": "kerastorch.metrics",
    "Optimizer": "kerastorch.optimizers",
    "Initializer": "kerastorch.initializers",
    "Regularizer": "kerastorch.regularizers",
    "install_keras_alias": "kerastorch.compat",
    "Variable": "kerastorch.variables",
    "name_scope": "kerastorch.variables",
}


def version() -> str:
    """kerastorch's version (`keras.version()`)."""
    return __version__


def __getattr__(name):
    if name in _NAMESPACES:
        return importlib.import_module(f"kerastorch.{name}")
    if name in _NAMES:
        value = getattr(importlib.import_module(_NAMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kerastorch' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_NAMESPACES) + list(_NAMES))
