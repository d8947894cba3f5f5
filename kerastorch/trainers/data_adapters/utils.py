"""Batch structure helpers shared by the data adapters: nested structures, `(x, y,
sample_weight)` packing, moving data to the device, cardinality checks, class weights, and
`predict`'s outputs back to numpy."""

import math
import warnings

import numpy as np
import torch

from kerastorch import config

_SMALL_INTS = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.bool)


def tree_map(fn, obj):
    if isinstance(obj, (list, tuple)):
        return type(obj)(tree_map(fn, o) for o in obj)
    if isinstance(obj, dict):
        return {k: tree_map(fn, v) for k, v in obj.items()}
    return None if obj is None else fn(obj)


def tree_leaves(obj) -> list:
    if isinstance(obj, (list, tuple)):
        return [leaf for o in obj for leaf in tree_leaves(o)]
    if isinstance(obj, dict):
        return [leaf for v in obj.values() for leaf in tree_leaves(v)]
    return [] if obj is None else [obj]


def is_array_like(x) -> bool:
    leaves = tree_leaves(x)
    return bool(leaves) and all(isinstance(t, (np.ndarray, torch.Tensor, list)) or
                                (np.isscalar(t) and not isinstance(t, (str, bytes)))
                                for t in leaves)


def to_device(obj, device, name="x"):
    """numpy/tensors -> tensors on `device`; floats become floatx, integer labels int64."""
    def convert(a):
        if isinstance(a, list):
            a = np.asarray(a)
        if not isinstance(a, (np.ndarray, torch.Tensor)):
            raise TypeError(f"`{name}` must hold numpy arrays or torch tensors. "
                            f"Received an object of type {type(a).__name__}.")
        t = config.to_tensor(a, device_=device)
        if t.dtype in _SMALL_INTS and name != "x":
            t = t.long()
        return t
    return tree_map(convert, obj)


def batch_to_device(obj, device, name, where):
    """One batch from an iterable source -> tensors on `device` (non_blocking from pinned
    memory); a leaf that is not an array names `where` it came from and what it is."""
    float_dtype = config.float_dtype()

    def convert(a):
        if isinstance(a, torch.Tensor):
            t = a
        else:
            if isinstance(a, (list, float, int, np.number, np.bool_)):
                a = np.asarray(a)
            if not isinstance(a, np.ndarray) or a.dtype.kind not in "biuf":
                raise TypeError(f"{where}: `{name}` must hold numpy arrays or torch tensors. "
                                f"Received: {describe(a)}.")
            t = torch.from_numpy(np.ascontiguousarray(a))
        if t.device != device:
            t = t.to(device, non_blocking=t.device.type == "cpu" and t.is_pinned())
        if t.is_floating_point():
            if t.dtype != float_dtype:
                t = t.to(float_dtype)
        elif name != "x" and t.dtype in _SMALL_INTS:
            t = t.long()
        return t
    return tree_map(convert, obj)


def describe(obj) -> str:
    """A short description of a batch (types and shapes), for error messages."""
    if isinstance(obj, (torch.Tensor, np.ndarray)):
        return f"{type(obj).__name__} of shape {tuple(obj.shape)}"
    if isinstance(obj, (list, tuple)):
        inner = ", ".join(describe(o) for o in obj[:5]) + (", ..." if len(obj) > 5 else "")
        return f"a {type(obj).__name__} of length {len(obj)} ({inner})"
    if isinstance(obj, dict):
        return "a dict {" + ", ".join(f"{k!r}: {describe(v)}" for k, v in obj.items()) + "}"
    text = repr(obj)
    return f"an object of type {type(obj).__name__} ({text[:60]})"


def num_samples(*trees, where=None) -> int:
    """Rows shared by every array in `trees`; a clear error when they disagree."""
    sizes = {}
    for name, tree in trees:
        for leaf in tree_leaves(tree):
            sizes.setdefault(name, set()).add(int(leaf.shape[0]) if leaf.dim() else 1)
    flat = {n for s in sizes.values() for n in s}
    if len(flat) > 1:
        detail = ", ".join(f"{name} sizes: {sorted(s)}" for name, s in sizes.items())
        raise ValueError(f"{where + ': ' if where else ''}Data cardinality is ambiguous: make "
                         "sure all arrays contain the same number of samples. Received: "
                         f"{detail}")
    if not flat:
        raise ValueError(f"{where + ': ' if where else ''}No data provided: `x` is empty.")
    return flat.pop()


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """Keras' batch form: `(x,)`, `(x, y)` or `(x, y, sample_weight)`."""
    if y is None and sample_weight is None:
        return (x,)
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def unpack_x_y_sample_weight(data):
    """Inverse of `pack_x_y_sample_weight` (Keras' `keras.utils.unpack_x_y_sample_weight`)."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError("Data is expected to be in format `x`, `(x,)`, `(x, y)`, or "
                     f"`(x, y, sample_weight)`. Received a tuple of length {len(data)}.")


def split_validation(x, y, sample_weight, validation_split):
    """Keras' rule: the last `validation_split` fraction of rows, taken before any shuffle."""
    if not 0 < validation_split < 1:
        raise ValueError("`validation_split` must be in (0, 1). "
                         f"Received: validation_split={validation_split}")
    n = num_samples(("x", x), ("y", y), ("sample_weight", sample_weight))
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(f"Training data contains {n} samples, which is not sufficient to "
                         f"split it into a validation and training set as specified by "
                         f"`validation_split={validation_split}`. Either provide more data, "
                         "or a different value for the `validation_split` argument.")
    head = lambda a: tree_map(lambda t: t[:split_at], a)  # noqa: E731
    tail = lambda a: tree_map(lambda t: t[split_at:], a)  # noqa: E731
    return (head(x), head(y), head(sample_weight)), (tail(x), tail(y), tail(sample_weight))


class ClassWeights:
    """`class_weight` as a lookup table on the device: per-sample weights from targets.

    Keras' rule: the label is `argmax(y)` for one-hot targets (last dim > 1), else `y` squeezed
    and rounded; classes missing from `class_weight` weigh 1.
    """

    def __init__(self, class_weight):
        if not isinstance(class_weight, dict):
            raise ValueError("`class_weight` must be a dict mapping class indices to weights. "
                             f"Received: class_weight={class_weight!r}")
        try:
            keys = [int(k) for k in class_weight]
        except (TypeError, ValueError):
            raise ValueError("`class_weight` keys must be integer class indices. "
                             f"Received: class_weight={class_weight!r}") from None
        table = np.ones(max(keys, default=-1) + 2, dtype="float32")  # last slot: unknown
        for key, weight in zip(keys, class_weight.values()):
            if key >= 0:
                table[key] = float(weight)
        self._table = torch.from_numpy(table)
        self.class_weight = class_weight

    def __call__(self, y, sample_weight=None, where="fit"):
        if isinstance(y, (list, tuple, dict)):
            raise ValueError("`class_weight` is only supported for Models with a single output.")
        if y is None:
            raise ValueError(f"{where}: `class_weight` needs targets, but the data has no `y`.")
        if sample_weight is not None:
            raise ValueError("You cannot specify `class_weight` and `sample_weight` at the "
                             "same time.")
        if y.dim() > 1 and y.shape[-1] != 1:
            labels = y.argmax(-1)
        else:
            labels = y.squeeze(-1) if y.dim() > 1 else y
            labels = labels.round().long() if labels.is_floating_point() else labels.long()
        if self._table.device != y.device:
            self._table = self._table.to(y.device)
        unknown = self._table.shape[0] - 1
        labels = torch.where((labels >= 0) & (labels < unknown), labels, unknown)
        return self._table[labels].to(config.float_dtype())


def concat_to_numpy(outputs):
    """`predict`'s per-batch outputs (tensors, or lists/dicts of them) as numpy arrays:
    float32, or float16/bfloat16 under a mixed policy (as Keras)."""
    first = outputs[0]
    if isinstance(first, torch.Tensor):
        if first.dtype in (torch.float16, torch.bfloat16):  # mixed policies, as Keras
            return _half_to_numpy(torch.cat(outputs).cpu())
        return torch.cat(outputs).float().cpu().numpy() if first.is_floating_point() else \
            torch.cat(outputs).cpu().numpy()
    if isinstance(first, (list, tuple)):
        return [concat_to_numpy([o[i] for o in outputs]) for i in range(len(first))]
    if isinstance(first, dict):
        return {k: concat_to_numpy([o[k] for o in outputs]) for k in first}
    warnings.warn("predict: outputs are not tensors; returning them as a list.", stacklevel=3)
    return outputs


def _half_to_numpy(t):
    """float16 -> numpy float16; bfloat16 -> ml_dtypes' bfloat16 (what Keras returns) when it
    is installed, else float32."""
    if t.dtype == torch.float16:
        return t.numpy()
    try:
        import ml_dtypes
    except ImportError:
        return t.float().numpy()
    return t.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
