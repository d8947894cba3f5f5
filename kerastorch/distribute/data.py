"""Each rank's share of every global batch, for every data source `fit`/`evaluate` take.

The rule (Keras' `DataParallel`: `batch_size` is the global batch): every rank draws the same
global batches, in the same order, and rank `r` of `w` keeps rows `[lo, hi)` of each, the
`r`-th of `w` contiguous parts whose sizes differ by at most one (`share`). So the ranks see
disjoint rows, every rank takes the same number of steps (DDP needs that, or it hangs), and the
gradient of a step is the gradient of the global batch: the DDP gradient hook
(`trainer_hooks.wrap_model`) weighs rank `r`'s gradient by `rows_r / rows` (`step_weight`)
instead of DDP's `1 / w`, so uneven shares (a global batch of 5 rows on 2 ranks: 3 and 2) add
up to the single-process mean exactly (for the mean reductions, Keras' default).

A global batch with fewer rows than ranks leaves some ranks without a row:

- in training it is skipped on every rank (a warning on rank 0 says so): a rank cannot take
  part in DDP's gradient all-reduce without a loss to differentiate, and an empty batch has
  none (Keras' loss of no rows is an empty tensor). Data of `n` rows trains on every row when
  `n % batch_size` is 0 or at least the number of ranks.
- in evaluation a rank skips its empty share: every row still counts once after the metric
  states are summed. If an epoch's batches are all smaller than the number of ranks, some rank
  would evaluate nothing and never reach that sum: every rank raises a `ValueError` instead
  (every rank sees the same global batches, so none is left waiting).

A skipped batch still counts as a step (`steps_per_epoch`, `steps`, `validation_steps`), on
every rank alike, so the ranks stay on the same global batches.

Per source:

- arrays/tensors (`ShardedBatches`): permuted on the device with a seed shared by all ranks;
- a torch `Dataset` (`GlobalBatchShares`): a batch sampler draws the global batches of indices
  (shuffled with a shared seed and `set_epoch(pass)`, as `DistributedSampler` does) and gives
  the DataLoader only this rank's indices, so each rank loads only its rows;
- a `DataLoader` whose sampler is a `DistributedSampler`: used as it is (the user chose the
  split; its per-rank batches must be of one size for the gradient mean to be exact, which
  `drop_last=False` padding gives); `set_epoch(epoch + pass)` is called before every pass;
- any other `DataLoader`, a generator/iterator, a `PyDataset`: every rank iterates the same
  source and keeps its share of each batch, sliced before the batch moves to the device. The
  source must yield the same batches on every rank: a `RandomSampler` (or any sampler with a
  `generator` attribute left `None`, as `DataLoader(shuffle=True)` makes) is given a generator
  seeded alike on every rank for the run, and a shuffled `PyDataset` an alike `random.Random`;
  a generator must be seeded alike by the script.
"""

import random
import warnings

import torch
import torch.distributed as dist

from kerastorch.trainers import data_adapters as da

# This rank's part of the current global batch's gradient (rows_r / rows), or None: DDP's 1/w;
# "owner": the sharded batches that set it (a finished pass resets only its own weight: an
# abandoned pass may be finalized by the garbage collector during a later run).
_STEP = {"weight": None, "owner": None}

SKIPPED = ("A global batch of {rows} rows has fewer rows than the {world} processes, so some "
           "processes would have no row to train on: it is skipped on every process (it still "
           "counts as a step). To train on every row, make the last batch (data size modulo "
           "`batch_size`) empty or at least {world} rows.")
TOO_SMALL = ("The evaluation data gives batches of at most {rows} rows, fewer than the {world} "
             "processes: some processes would evaluate nothing. Use a `batch_size` of at least "
             "{world} and at least {world} rows.")


def step_weight():
    """The weight of this rank's gradient in the current step (None: 1 / world size)."""
    return _STEP["weight"]


def _set_weight(owner, weight):
    _STEP["weight"], _STEP["owner"] = weight, owner


def _release(owner):
    if _STEP["owner"] is owner:
        _STEP["weight"] = _STEP["owner"] = None


def share(start, stop, rank, world):
    """Rows `[lo, hi)` of the global batch `[start, stop)` that rank `rank` of `world` takes:
    contiguous parts in rank order, sizes differing by at most one (as `torch.tensor_split`)."""
    q, r = divmod(stop - start, world)
    lo = start + rank * q + min(rank, r)
    return lo, lo + q + (1 if rank < r else 0)


def shared_seed(device=None) -> int:
    """A random seed drawn on rank 0 and broadcast, so every rank shuffles alike."""
    seed = torch.randint(0, 2**62, (1,), dtype=torch.int64)
    if dist.get_backend() == "nccl":
        seed = seed.to(device if device is not None and device.type == "cuda" else "cuda")
    dist.broadcast(seed, src=0)
    return int(seed.item())


class _Shares:
    """Mixed into the sharded `Batches`: `_pass` yields None for a global batch this rank does
    not run (so `steps` counts global batches alike on every rank); iterating drops them.
    Subclasses set `rank`, `world`, `training` and record `_largest` (rows of the epoch's
    largest global batch) and `_warned`."""

    def _skip(self, rows, lo, hi):
        """True when this rank does not run its share `[lo, hi)` of a global batch of `rows`
        rows: in training every rank skips a batch with fewer rows than ranks (DDP needs a
        batch on each); in evaluation a rank skips an empty share."""
        self._largest = max(self._largest, rows)
        if self.training and rows < self.world:
            if not self._warned and self.rank == 0:
                warnings.warn(SKIPPED.format(rows=rows, world=self.world), stacklevel=4)
            self._warned = True
            return True
        return hi == lo

    def __iter__(self):
        self._largest = 0
        for batch in super().__iter__():
            if batch is not None:
                yield batch
        if not self.training and 0 < self._largest < self.world:
            # every rank sees the same global batches, so every rank raises (no rank waits)
            raise ValueError(TOO_SMALL.format(rows=self._largest, world=self.world))


class ShardedBatches(_Shares, da.ArrayBatches):
    """`ArrayBatches` cut into the same global batches on every rank; rank `rank` of `world`
    yields its `share` of each. The epoch's permutation comes from `seed` (shared by all
    ranks; None: drawn on rank 0 and broadcast). `training`: set `step_weight` for each batch;
    skip a global batch with fewer rows than ranks. Otherwise skip empty shares."""

    def __init__(self, batches, rank, world, seed=None, training=True):
        super().__init__(batches.x, batches.y, batches.sample_weight, batches.batch_size,
                         batches.shuffle, batches.steps, batches.steps_name)
        self.rank, self.world, self.training = rank, world, training
        self._largest, self._warned = 0, False
        self._generator = None
        if self.shuffle:
            device = da.tree_leaves(self.x)[0].device
            self._generator = torch.Generator(device=device)
            self._generator.manual_seed(shared_seed(device) if seed is None else seed)

    def _share(self, start, stop):
        return share(start, stop, self.rank, self.world)

    def _pass(self):
        """One pass over the data (the base class applies `steps`), this rank's rows only."""
        x, y, sw = self.x, self.y, self.sample_weight
        device = da.tree_leaves(x)[0].device
        if self.shuffle == "batch":
            chunks = torch.arange(self.n, device=device).split(self.batch_size)
            order = torch.randperm(len(chunks), generator=self._generator, device=device)
            perm = torch.cat([chunks[i][torch.randperm(len(chunks[i]), device=device,
                                                       generator=self._generator)]
                              for i in order.tolist()])
        elif self.shuffle:
            perm = torch.randperm(self.n, device=device, generator=self._generator)
        else:
            perm = None
        if perm is not None:
            x, y, sw = (da.tree_map(lambda t: t[perm], a) for a in (x, y, sw))
        try:
            for start in range(0, self.n, self.batch_size):
                stop = min(start + self.batch_size, self.n)
                lo, hi = self._share(start, stop)
                if self._skip(stop - start, lo, hi):
                    yield None
                    continue
                if self.training:
                    _set_weight(self, (hi - lo) / (stop - start))
                cut = lambda t: t[lo:hi]  # noqa: E731
                yield da.pack_x_y_sample_weight(da.tree_map(cut, x), da.tree_map(cut, y),
                                                da.tree_map(cut, sw))
        finally:
            _release(self)


class GlobalBatchShares(torch.utils.data.Sampler):
    """A DataLoader `batch_sampler` for a map-style torch `Dataset` of `num_rows` rows: the
    global batches of `batch_size` indices (a permutation from `seed + epoch` when `shuffle`,
    as `DistributedSampler`; call `set_epoch` before each pass), this rank's share of each.

    A rank with no row in a global batch gets one index as a placeholder (`ShardedSource`
    skips that batch). `rows(i)` is `(this rank's rows, global rows)` of the `i`-th batch.
    """

    def __init__(self, num_rows, batch_size, shuffle, seed, rank, world):
        self.num_rows, self.batch_size = num_rows, batch_size
        self.shuffle, self.seed = shuffle, seed
        self.rank, self.world = rank, world
        self.epoch = 0
        self._bounds = [(start, min(start + batch_size, num_rows))
                        for start in range(0, num_rows, batch_size)]

    def set_epoch(self, epoch):
        self.epoch = epoch

    def rows(self, i):
        start, stop = self._bounds[i]
        lo, hi = share(start, stop, self.rank, self.world)
        return hi - lo, stop - start

    def __len__(self):
        return len(self._bounds)

    def __iter__(self):
        if self.shuffle:
            generator = torch.Generator()
            generator.manual_seed(self.seed + self.epoch)
            order = torch.randperm(self.num_rows, generator=generator).tolist()
        else:
            order = range(self.num_rows)
        for start, stop in self._bounds:
            lo, hi = share(start, stop, self.rank, self.world)
            yield list(order[lo:hi] if hi > lo else order[start:start + 1])


def _leaf_rows(leaf):
    return len(leaf) if hasattr(leaf, "__len__") and getattr(leaf, "ndim", 1) else None


def _slice(tree, lo, hi):
    return da.tree_map(lambda t: t[lo:hi] if _leaf_rows(t) is not None else t, tree)


def _distributed_sampler(loader):
    for sampler in (getattr(loader, "sampler", None),
                    getattr(getattr(loader, "batch_sampler", None), "sampler", None)):
        if isinstance(sampler, torch.utils.data.distributed.DistributedSampler):
            return sampler
    return None


class ShardedSource(_Shares, da.Batches):
    """A data source (`LoaderBatches`, `GeneratorBatches`, `PyDatasetBatches`) giving this
    rank's share of every global batch (see the module docstring for each kind)."""

    def __init__(self, inner, rank, world, seed, training=True):
        super().__init__(inner.steps, inner.steps_name)
        self.inner, self.rank, self.world, self.training = inner, rank, world, training
        self.one_shot = inner.one_shot
        self.num_batches = inner.num_batches
        self._largest, self._warned = 0, False
        self._sampler = None  # set_epoch before each pass
        self._epoch0 = 0
        self._passes = 0
        self._random_sampler = self._generator = None
        self._weight = None  # None: the user's DistributedSampler, DDP's own 1 / world
        self._index = 0
        loader = getattr(inner, "loader", None)
        dataset = getattr(loader, "dataset", None)
        if (inner.kind == "torch Dataset" and
                not isinstance(dataset, torch.utils.data.IterableDataset)):
            shuffle = isinstance(loader.sampler, torch.utils.data.RandomSampler)
            self._sampler = GlobalBatchShares(len(dataset), loader.batch_size, shuffle, seed,
                                              rank, world)
            inner.loader = torch.utils.data.DataLoader(dataset, batch_sampler=self._sampler)
            inner.cut = self._cut_indexed
        elif loader is not None and _distributed_sampler(loader) is not None:
            self._sampler = _distributed_sampler(loader)  # the user's split, as it is
            self._epoch0 = self._sampler.epoch
        else:
            inner.cut = self._cut
            sampler = getattr(loader, "sampler", None)
            if loader is not None and getattr(sampler, "generator", False) is None:
                self._random_sampler = sampler
                self._generator = torch.Generator()
                self._generator.manual_seed(seed)
            if isinstance(inner, da.PyDatasetBatches) and inner.shuffle:  # its batch order
                inner.rng = random.Random(seed)

    def on_epoch_begin(self):
        self.inner.on_epoch_begin()

    def on_epoch_end(self):
        self.inner.on_epoch_end()

    def close(self):
        super().close()
        self.inner.close()

    def _cut(self, x, y, sw):
        """This rank's rows of a batch, before it moves to the device (None: skip it)."""
        rows = next((n for n in map(_leaf_rows, da.tree_leaves((x, y, sw))) if n is not None),
                    None)
        if rows is None:
            return x, y, sw
        lo, hi = share(0, rows, self.rank, self.world)
        if self._skip(rows, lo, hi):
            return None
        self._weight = (hi - lo) / rows
        return _slice(x, lo, hi), _slice(y, lo, hi), _slice(sw, lo, hi)

    def _cut_indexed(self, x, y, sw):
        """A batch of this rank's indices (`GlobalBatchShares`), None when skipped."""
        mine, rows = self._sampler.rows(self._index)
        self._index += 1
        if self._skip(rows, 0, mine):
            return None
        self._weight = mine / rows
        return x, y, sw

    def _pass(self):
        if self._sampler is not None:
            self._sampler.set_epoch(self._epoch0 + self._passes)
        self._passes += 1
        self._index = 0
        if self._random_sampler is not None:
            self._random_sampler.generator = self._generator
        try:
            for batch in self.inner._pass():
                if batch is not None and self.training:
                    _set_weight(self, self._weight)
                yield batch  # None: a skipped global batch (still a step)
        finally:
            if self._random_sampler is not None:
                self._random_sampler.generator = None
            _release(self)


def shard(batches, rank, world, seed=None):
    """This rank's share of every global batch of `batches` (`ShardedBatches` for arrays,
    `ShardedSource` for the other sources). `seed` (shared by all ranks) orders shuffles;
    None draws one on rank 0 and broadcasts it (a collective: every rank must call)."""
    if isinstance(batches, (ShardedBatches, ShardedSource)):
        return batches
    training = batches.steps_name == "steps_per_epoch"
    if isinstance(batches, da.ArrayBatches):
        return ShardedBatches(batches, rank, world, seed, training)
    if seed is None:
        seed = shared_seed()
    return ShardedSource(batches, rank, world, seed, training)
