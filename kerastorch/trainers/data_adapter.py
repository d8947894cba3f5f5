"""Turning `fit`/`evaluate`/`predict` inputs into device-resident batches.

In-memory arrays and tensors are moved to the device once; batches are slices of them there
(no DataLoader, no per-batch host work). Iterables (DataLoader, generators) are consumed as they
come, each batch moved to the device.
"""

import math

import numpy as np
import torch

from kerastorch import config


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
                                np.isscalar(t) for t in leaves)


def to_device(obj, device, name="x"):
    """numpy/tensors -> tensors on `device`; floats become floatx, integer labels int64."""
    def convert(a):
        if isinstance(a, list):
            a = np.asarray(a)
        if not isinstance(a, (np.ndarray, torch.Tensor)):
            raise TypeError(f"`{name}` must hold numpy arrays or torch tensors. "
                            f"Received an object of type {type(a).__name__}.")
        t = config.to_tensor(a, device_=device)
        if t.dtype in (torch.uint8, torch.int8, torch.int16, torch.int32, torch.bool) \
                and name != "x":
            t = t.long()
        return t
    return tree_map(convert, obj)


def num_samples(*trees) -> int:
    """Rows shared by every array in `trees`; a clear error when they disagree."""
    sizes = {}
    for name, tree in trees:
        for leaf in tree_leaves(tree):
            sizes.setdefault(name, set()).add(int(leaf.shape[0]) if leaf.dim() else 1)
    flat = {n for s in sizes.values() for n in s}
    if len(flat) > 1:
        detail = ", ".join(f"{name} sizes: {sorted(s)}" for name, s in sizes.items())
        raise ValueError("Data cardinality is ambiguous: make sure all arrays contain the same "
                         f"number of samples. Received: {detail}")
    if not flat:
        raise ValueError("No data provided: `x` is empty.")
    return flat.pop()


class ArrayBatches:
    """In-memory data on the device, cut into batches of `batch_size` rows."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False,
                 steps=None):
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.n = num_samples(("x", x), ("y", y), ("sample_weight", sample_weight))
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.steps = steps or math.ceil(self.n / batch_size)

    def __len__(self):
        return self.steps

    def __iter__(self):
        x, y, sw = self.x, self.y, self.sample_weight
        if self.shuffle == "batch":
            # Keras: shuffle in batch-sized chunks (order of chunks and rows within each).
            perm = self._batch_shuffle_perm(tree_leaves(x)[0].device)
        elif self.shuffle:
            perm = torch.randperm(self.n, device=tree_leaves(x)[0].device)
        else:
            perm = None
        if perm is not None:  # one gather per epoch, then views
            x, y, sw = (tree_map(lambda t: t[perm], a) for a in (x, y, sw))
        bs, n = self.batch_size, self.n
        plain = all(a is None or isinstance(a, torch.Tensor) for a in (x, y, sw))
        for step in range(self.steps):
            start = (step * bs) % n
            stop = min(start + bs, n)
            if plain:  # single arrays: plain slices, no tree walking
                yield pack_x_y_sample_weight(x[start:stop], None if y is None else y[start:stop],
                                             None if sw is None else sw[start:stop])
            else:
                yield pack_x_y_sample_weight(tree_map(lambda t: t[start:stop], x),
                                             tree_map(lambda t: t[start:stop], y),
                                             tree_map(lambda t: t[start:stop], sw))

    def _batch_shuffle_perm(self, device):
        bs = self.batch_size
        chunks = torch.arange(self.n, device=device).split(bs)
        order = torch.randperm(len(chunks)).tolist()
        return torch.cat([chunks[i][torch.randperm(len(chunks[i]), device=device)]
                          for i in order])


class IterableBatches:
    """Batches from a DataLoader, generator or other iterable of `(x, y[, sample_weight])`."""

    def __init__(self, data, device, steps=None):
        self.data, self.device, self.steps = data, device, steps
        if steps is None:
            try:
                self.steps = len(data)
            except TypeError:
                self.steps = None
        self._iterator = None

    def __len__(self):
        return self.steps

    def __iter__(self):
        source = iter(self.data) if self.steps is None or self._iterator is None else \
            self._iterator
        if not hasattr(self.data, "__len__"):  # a generator: keep consuming it across epochs
            self._iterator = source
        for i, batch in enumerate(source):
            yield pack_x_y_sample_weight(*unpack(batch, self.device))
            if self.steps is not None and i + 1 >= self.steps:
                break


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
    raise ValueError("Data is expected to be `(x,)`, `(x, y)` or `(x, y, sample_weight)`. "
                     f"Received a tuple of length {len(data)}.")


def unpack(batch, device):
    if isinstance(batch, dict) or not isinstance(batch, (list, tuple)):
        return to_device(batch, device), None, None
    if len(batch) not in (1, 2, 3):
        raise ValueError("Each batch must be `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)`. "
                         f"Received a sequence of length {len(batch)}.")
    parts = list(batch) + [None] * (3 - len(batch))
    return (to_device(parts[0], device, "x"), to_device(parts[1], device, "y"),
            to_device(parts[2], device, "sample_weight"))


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


def class_weights_to_sample_weights(y, class_weight, sample_weight):
    """Per-sample weights `class_weight[label]` (label = argmax for one-hot targets)."""
    if isinstance(y, (list, tuple, dict)):
        raise ValueError("`class_weight` is only supported for models with a single output.")
    labels = y.argmax(-1) if y.dim() > 1 and y.shape[-1] > 1 else y.reshape(y.shape[0]).long()
    # Keras: classes missing from `class_weight` weigh 1.
    table = torch.ones(max(int(labels.max()) + 1, max(class_weight) + 1), device=y.device)
    for cls, w in class_weight.items():
        table[int(cls)] = float(w)
    weights = table[labels]
    return weights if sample_weight is None else weights * sample_weight
