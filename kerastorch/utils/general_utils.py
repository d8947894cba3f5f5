"""Small process-wide helpers of `keras.utils` / `keras.backend`: `clear_session`, `get_uid`,
`is_keras_tensor`, `get_source_inputs`, dtype predicates."""

import gc

from kerastorch.ops._dtypes import result_type as result_type  # noqa: F401 (re-export)
from kerastorch.ops._dtypes import standardize_dtype as standardize_dtype
from kerastorch.utils import naming


def clear_session(free_memory=True):
    """Reset Keras' global state: automatic layer names start again (`dense`, `dense_1`, ...).

    Args:
        free_memory: Whether to run Python's garbage collection (and release cached CUDA
            memory when CUDA is in use).
    """
    naming.reset_uids()
    if free_memory:
        gc.collect()
        import torch

        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.empty_cache()


def get_uid(prefix=""):
    """1, 2, 3, ... on successive calls with the same `prefix` (reset by `clear_session`)."""
    naming._counts[prefix] += 1
    return naming._counts[prefix]


def is_keras_tensor(x):
    """Whether `x` is a symbolic `KerasTensor` (e.g. the output of `keras.Input`)."""
    from kerastorch.layers.input_layer import KerasTensor

    return isinstance(x, KerasTensor)


def is_float_dtype(dtype):
    dtype = standardize_dtype(dtype)
    return dtype.startswith("float") or dtype.startswith("bfloat")


def is_int_dtype(dtype):
    dtype = standardize_dtype(dtype)
    return dtype.startswith("int") or dtype.startswith("uint")


def _flatten(structure):
    if isinstance(structure, dict):
        return [x for v in structure.values() for x in _flatten(v)]
    if isinstance(structure, (list, tuple)):
        return [x for v in structure for x in _flatten(v)]
    return [structure]


def get_source_inputs(tensor):
    """The list of `Input` tensors that `tensor` was computed from (Keras' order).

    Args:
        tensor: A `KerasTensor` (a non-symbolic value is returned as `[tensor]`).
    """
    from kerastorch.layers.input_layer import InputLayer

    history = getattr(tensor, "_keras_history", None)
    if history is None:
        return [tensor]
    layer, node_index, _ = history
    nodes = layer.__dict__.get("_inbound_nodes") or []
    if isinstance(layer, InputLayer) or not nodes:
        return [tensor]
    node = nodes[node_index]
    sources = []
    for parent in _flatten((node.args, node.kwargs)):
        if not is_keras_tensor(parent):
            continue
        for x in get_source_inputs(parent):
            if all(x is not s for s in sources):
                sources.append(x)
    return sources


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """Keras' `keras.utils.pack_x_y_sample_weight`: `x` alone (or `(x,)` when `x` is a
    tuple/list), `(x, y)`, or `(x, y, sample_weight)`. As Keras, `sample_weight` without `y`
    is dropped."""
    if y is None:
        return (x,) if isinstance(x, (tuple, list)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def unpack_x_y_sample_weight(data):
    """`(x, y, sample_weight)` from `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)` (missing
    parts are None)."""
    from kerastorch.trainers.data_adapters.utils import unpack_x_y_sample_weight as unpack

    x, y, sample_weight = unpack(data)
    return x, y, sample_weight
