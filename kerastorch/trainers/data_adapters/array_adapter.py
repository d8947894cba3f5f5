"""`ArrayBatches`: in-memory arrays on the device, cut into batches by slicing.

The data moves to the device once; an epoch is one gather when shuffling, then views. No
DataLoader and no per-batch host work: this is the path `fit` on arrays is benchmarked on.
"""

import math

import torch

from kerastorch.trainers.data_adapters.base import Batches
from kerastorch.trainers.data_adapters.utils import (num_samples, pack_x_y_sample_weight,
                                                     tree_leaves, tree_map)


class ArrayBatches(Batches):
    """Batches of `batch_size` rows of `x`, `y`, `sample_weight` (tensors on the device).

    Args:
        x, y, sample_weight: Tensors, or lists/tuples/dicts of them, with equal row counts.
        batch_size: Rows per batch. Keras' default: 32, or `ceil(rows / steps)` when only
            `steps` is given.
        shuffle: `True` (a new order each pass), `"batch"` (Keras: batch-sized chunks in a new
            order, rows shuffled within each) or `False`.
        steps: Batches per epoch (`steps_per_epoch`, or `steps` in evaluate/predict).
    """

    def __init__(self, x, y=None, sample_weight=None, batch_size=None, shuffle=False,
                 steps=None, steps_name="steps_per_epoch"):
        super().__init__(steps, steps_name)
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.n = num_samples(("x", x), ("y", y), ("sample_weight", sample_weight))
        if batch_size is not None and (isinstance(batch_size, bool) or
                                       not isinstance(batch_size, int) or batch_size < 1):
            raise ValueError("`batch_size` must be a positive integer or None. "
                             f"Received: batch_size={batch_size!r}")
        if not batch_size:
            batch_size = int(math.ceil(self.n / steps)) if steps else 32
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.num_batches = int(math.ceil(self.n / batch_size))

    def __len__(self):
        return self.num_steps

    def _pass(self):
        x, y, sw = self.x, self.y, self.sample_weight
        if self.shuffle == "batch":
            perm = self._batch_shuffle_perm(tree_leaves(x)[0].device)
        elif self.shuffle:
            perm = torch.randperm(self.n, device=tree_leaves(x)[0].device)
        else:
            perm = None
        if perm is not None:  # one gather per pass, then views
            x, y, sw = (tree_map(lambda t: t[perm], a) for a in (x, y, sw))
        bs, n = self.batch_size, self.n
        plain = all(a is None or isinstance(a, torch.Tensor) for a in (x, y, sw))
        for start in range(0, n, bs):
            stop = start + bs
            if plain:  # single arrays: plain slices, no tree walking
                yield pack_x_y_sample_weight(x[start:stop], None if y is None else y[start:stop],
                                             None if sw is None else sw[start:stop])
            else:
                yield pack_x_y_sample_weight(tree_map(lambda t: t[start:stop], x),
                                             tree_map(lambda t: t[start:stop], y),
                                             tree_map(lambda t: t[start:stop], sw))

    def __iter__(self):
        return self._pass() if self.steps is None else self._stepped()

    def _batch_shuffle_perm(self, device):
        chunks = torch.arange(self.n, device=device).split(self.batch_size)
        order = torch.randperm(len(chunks)).tolist()
        return torch.cat([chunks[i][torch.randperm(len(chunks[i]), device=device)]
                          for i in order])
