"""Batches from sources that are not in memory: DataLoaders and torch Datasets, Python
generators and iterators, `keras.utils.PyDataset`.

Each batch is checked as it comes (Keras' structure `x`, `(x,)`, `(x, y)` or `(x, y,
sample_weight)`; arrays or tensors; equal row counts), moved to the model's device, and given
`class_weight`s when asked.
"""

import collections
import concurrent.futures
import itertools
import random

import numpy as np
import torch

from kerastorch.trainers.data_adapters.base import Batches
from kerastorch.trainers.data_adapters.utils import (batch_to_device, describe, num_samples,
                                                     pack_x_y_sample_weight)


class SourceBatches(Batches):
    """Common part: standardize, check and move each batch (`kind` names the source)."""

    kind = "data source"
    # Set by `kerastorch.distribute`: `cut(x, y, sample_weight)` returns this process' rows
    # of a batch, before it moves to the device, or None to skip the batch (`_standardize`
    # then returns None).
    cut = None

    def __init__(self, device, steps=None, class_weight=None, steps_name="steps_per_epoch"):
        super().__init__(steps, steps_name)
        self.device = device
        self.class_weight = class_weight
        self._index = 0

    def _standardize(self, batch):
        where = f"Batch {self._index} from the {self.kind}"
        self._index += 1
        if isinstance(batch, list):
            batch = tuple(batch)
        if isinstance(batch, (dict, torch.Tensor, np.ndarray)):
            batch = (batch,)
        if not isinstance(batch, tuple) or not 1 <= len(batch) <= 3:
            raise ValueError(f"{where} must be `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)`"
                             f" (arrays or tensors, or dicts/lists of them). Received: "
                             f"{describe(batch)}.")
        x, y, sw = (tuple(batch) + (None, None))[:3]
        if self.cut is not None:
            parts = self.cut(x, y, sw)
            if parts is None:
                return None
            x, y, sw = parts
        x = batch_to_device(x, self.device, "x", where)
        y = batch_to_device(y, self.device, "y", where)
        sw = batch_to_device(sw, self.device, "sample_weight", where)
        num_samples(("x", x), ("y", y), ("sample_weight", sw), where=where)
        if self.class_weight is not None:
            sw = self.class_weight(y, sw, where)
        return pack_x_y_sample_weight(x, y, sw)


class LoaderBatches(SourceBatches):
    """A `DataLoader` (or any re-iterable of batches): a fresh pass each epoch."""

    kind = "DataLoader"

    def __init__(self, loader, device, steps=None, class_weight=None, kind=None, **kwargs):
        super().__init__(device, steps, class_weight, **kwargs)
        self.loader = loader
        if kind:
            self.kind = kind
        try:
            self.num_batches = len(loader)
        except TypeError:
            self.num_batches = None

    def _pass(self):
        self._index = 0
        for batch in self.loader:
            yield self._standardize(batch)


class GeneratorBatches(SourceBatches):
    """A Python generator or iterator: one pass, continued across epochs."""

    kind = "generator"
    one_shot = True

    def __init__(self, iterator, device, steps=None, class_weight=None, **kwargs):
        super().__init__(device, steps, class_weight, **kwargs)
        self.iterator = iterator

    def _pass(self):
        for batch in self.iterator:
            yield self._standardize(batch)


class PyDatasetBatches(SourceBatches):
    """A `keras.utils.PyDataset`: `dataset[i]` for each batch index (shuffled when asked),
    fetched ahead by `workers` threads when `workers > 1`; its epoch hooks are called."""

    kind = "PyDataset"

    def __init__(self, dataset, device, steps=None, class_weight=None, shuffle=False,
                 **kwargs):
        super().__init__(device, steps, class_weight, **kwargs)
        self.dataset = dataset
        self.shuffle = shuffle
        self.num_batches = dataset.num_batches
        self.workers = dataset.workers
        # Keras forks processes with `use_multiprocessing`; threads serve here (same results).
        if dataset.use_multiprocessing and self.workers > 0:
            self.workers = max(self.workers, 2)
        self.max_queue_size = max(1, dataset.max_queue_size or 1)
        self.rng = random  # what shuffles the batch order (`kerastorch.distribute` seeds one)

    def on_epoch_begin(self):
        self.dataset.on_epoch_begin()

    def on_epoch_end(self):
        self.dataset.on_epoch_end()

    def _indices(self):
        if self.num_batches is None:
            return itertools.count()
        indices = list(range(self.num_batches))
        if self.shuffle:
            self.rng.shuffle(indices)
        return indices

    def _pass(self):
        self._index = 0
        if self.workers <= 1:
            for i in self._indices():
                yield self._standardize(self.dataset[i])
            return
        pool = concurrent.futures.ThreadPoolExecutor(self.workers,
                                                     thread_name_prefix="PyDataset")
        try:
            pending = collections.deque()
            indices = iter(self._indices())
            for i in itertools.islice(indices, self.max_queue_size):
                pending.append(pool.submit(self.dataset.__getitem__, i))
            while pending:
                batch = pending.popleft().result()
                for i in itertools.islice(indices, 1):
                    pending.append(pool.submit(self.dataset.__getitem__, i))
                yield self._standardize(batch)
        finally:
            # the pass ends (done, stopped, or an error in the loop that drew from it): no
            # fetch is left queued and every worker thread is joined before it returns
            for future in pending:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
