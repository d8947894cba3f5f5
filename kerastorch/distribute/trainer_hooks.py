"""What the trainer calls in a multi-process run: data shards, the DDP wrapper, metric sums.

Each function returns at once (one flag check) when the run is not distributed.
"""

import torch
import torch.distributed as dist

from kerastorch.distribute import runtime
from kerastorch.trainers import data_adapters as da


def chief_verbose(verbose):
    """`verbose` on rank 0, 0 on the other ranks."""
    if runtime.is_distributed() and not runtime.is_chief():
        return 0
    return verbose


def shard(batches):
    """This rank's share of every global batch (in-memory data); anything else unchanged."""
    if batches is None or not runtime.is_distributed() or isinstance(batches, ShardedBatches):
        return batches
    if isinstance(batches, da.ArrayBatches):
        return ShardedBatches(batches, runtime.rank(), runtime.world_size())
    return batches


def _shared_seed(device) -> int:
    """A random seed drawn on rank 0 and broadcast, so every rank shuffles alike."""
    seed = torch.randint(0, 2**62, (1,), dtype=torch.int64)
    if dist.get_backend() == "nccl":
        seed = seed.to(device)
    dist.broadcast(seed, src=0)
    return int(seed.item())


class ShardedBatches(da.ArrayBatches):
    """`ArrayBatches` cut into the same global batches on every rank; rank `r` of `w` yields
    rows `[lo, hi)` of each, the `r`-th of `w` contiguous parts whose sizes differ by at most one
    (as `torch.tensor_split`). The epoch's permutation comes from a seed shared by all ranks."""

    def __init__(self, batches, rank, world):
        super().__init__(batches.x, batches.y, batches.sample_weight, batches.batch_size,
                         batches.shuffle, batches.steps)
        self.rank, self.world = rank, world
        device = da.tree_leaves(self.x)[0].device
        self._generator = None
        if self.shuffle:
            self._generator = torch.Generator(device=device)
            self._generator.manual_seed(_shared_seed(device))

    def _share(self, start, stop):
        q, r = divmod(stop - start, self.world)
        lo = start + self.rank * q + min(self.rank, r)
        return lo, lo + q + (1 if self.rank < r else 0)

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
        bs, n = self.batch_size, self.n
        for start in range(0, n, bs):
            lo, hi = self._share(start, min(start + bs, n))
            cut = lambda t: t[lo:hi]  # noqa: E731
            yield da.pack_x_y_sample_weight(da.tree_map(cut, x), da.tree_map(cut, y),
                                            da.tree_map(cut, sw))


def wrap_model(model):
    """`DistributedDataParallel(model)`. The step runner keeps it, off the model's module tree,
    so the model's `state_dict()` keys do not change."""
    from torch.nn.parallel import DistributedDataParallel
    device = next(model.parameters()).device
    return DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)


def _all_metrics(model):
    out = []
    for metric in model.metrics:
        inner = getattr(metric, "metrics", None)
        if isinstance(inner, list) and inner and isinstance(inner[0], tuple):
            out.extend(entry[0] for entry in inner)  # the compile_metrics container
        else:
            out.append(metric)
    return out


def reduce_metrics(model) -> None:
    """Sum every metric state tensor (totals, counts, ...) over the ranks, in place: one
    all-reduce for all of them. All ranks must call it at the same point."""
    if not runtime.is_distributed():
        return
    states = [v for m in _all_metrics(model) for v in m.variables]
    if not states:
        return
    flat = torch.cat([v.detach().reshape(-1).to(torch.float64) for v in states])
    if dist.get_backend() == "nccl" and flat.device.type != "cuda":
        flat = flat.cuda()
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    offset = 0
    with torch.no_grad():
        for v in states:
            k = v.numel()
            v.copy_(flat[offset:offset + k].reshape(v.shape).to(v.dtype))
            offset += k
