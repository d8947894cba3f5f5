"""What the trainer calls in a multi-process run: data shards, the DDP wrapper, metric sums.

Each function returns at once (one flag check) when the run is not distributed.
"""

import torch
import torch.distributed as dist

from kerastorch.distribute import data, runtime
from kerastorch.distribute.data import ShardedBatches as ShardedBatches  # noqa: F401


def chief_verbose(verbose):
    """`verbose` on rank 0, 0 on the other ranks."""
    if runtime.is_distributed() and not runtime.is_chief():
        return 0
    return verbose


def shard(batches):
    """This rank's share of every global batch, for every data source (see
    `kerastorch.distribute.data`); `batches` unchanged in one process."""
    if batches is None or not runtime.is_distributed():
        return batches
    return data.shard(batches, runtime.rank(), runtime.world_size())


def _weighted_allreduce(process_group, bucket):
    """DDP's all-reduce with this rank's gradient weighed by its share of the global batch
    (`data.step_weight`, default `1 / world`): the sum is the global batch's mean gradient."""
    weight = data.step_weight()
    tensor = bucket.buffer()
    tensor.mul_(1.0 / dist.get_world_size(process_group) if weight is None else weight)
    return (dist.all_reduce(tensor, group=process_group, async_op=True).get_future()
            .then(lambda fut: fut.value()[0]))


def wrap_model(model):
    """`DistributedDataParallel(model)`. The step runner keeps it, off the model's module tree,
    so the model's `state_dict()` keys do not change."""
    from torch.nn.parallel import DistributedDataParallel
    device = next(model.parameters()).device
    ddp = DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)
    ddp.register_comm_hook(None, _weighted_allreduce)
    return ddp


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
    states = [t for m in _all_metrics(model) for t in m._state_tensors()]
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
