"""Multi-process data parallel training under `torchrun` (one process per device).

Run a script with `torchrun --nproc_per_node=N script.py` (or `python -m torch.distributed.run
...`). When the launcher's environment (`RANK`, `WORLD_SIZE`, `LOCAL_RANK`) says there is more
than one process, `fit`/`evaluate`:

- initialise the default process group if the script has not (`nccl` on CUDA, `gloo` on CPU;
  each process uses `cuda:LOCAL_RANK`);
- run the training forward pass through `torch.nn.parallel.DistributedDataParallel` around the
  model (kept off the model's module tree, so `state_dict()` keys do not change); DDP broadcasts
  rank 0's weights when it wraps the model and combines the gradients in backward, so every
  rank holds the same weights;
- treat `batch_size` as the global batch, as Keras' `DataParallel` does, for every data source
  (`kerastorch.distribute.data`): every rank draws the same global batches in the same order
  and takes a contiguous share of each (rows `[lo, hi)`, shares differing by at most one row,
  rank 0 first), so the ranks see disjoint rows and take the same number of steps. In-memory
  arrays are permuted with a seed shared from rank 0; a torch `Dataset` is batched by a
  sampler of global index batches (a shared seed plus `set_epoch`, as `DistributedSampler`)
  that loads only this rank's rows; a `DataLoader` whose sampler is a `DistributedSampler` is
  used as it is (`set_epoch` each epoch); any other `DataLoader`, a generator or a `PyDataset`
  is read whole on every rank and cut (it must yield the same batches on every rank: a
  shuffling sampler without a `generator`, and a shuffled `PyDataset`, get a shared seed);
- weigh each rank's gradient by its share of the global batch (`rows_r / rows`, a DDP
  communication hook) rather than DDP's `1 / world`, so a step's gradient is the global
  batch's mean gradient even when shares are uneven: unshuffled runs equal one process (for
  the mean loss reductions, Keras' default);
- skip, on every rank, a training batch with fewer rows than processes (a warning on rank 0;
  it still counts as a step); in evaluation a rank with no row of a batch skips it, and data
  whose batches are all smaller than the number of processes raises on every rank;
- sum the metric states (totals and counts) across ranks at the end of each epoch and of each
  evaluation, so the logs are those of the global data (batch-level progress shows rank-local
  values);
- print progress bars on rank 0 only; `save_weights` writes on rank 0 only (a no-op elsewhere).

`predict` runs on every rank over all the data (no split).
"""

from kerastorch.distribute.runtime import init as init
from kerastorch.distribute.runtime import is_chief as is_chief
from kerastorch.distribute.runtime import is_distributed as is_distributed
from kerastorch.distribute.runtime import local_rank as local_rank
from kerastorch.distribute.runtime import rank as rank
from kerastorch.distribute.runtime import world_size as world_size
from kerastorch.distribute.trainer_hooks import chief_verbose as chief_verbose
from kerastorch.distribute.trainer_hooks import reduce_metrics as reduce_metrics
from kerastorch.distribute.trainer_hooks import shard as shard
from kerastorch.distribute.trainer_hooks import wrap_model as wrap_model
