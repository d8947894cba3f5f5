"""Multi-process data parallel training under `torchrun` (one process per device).

Run a script with `torchrun --nproc_per_node=N script.py` (or `python -m torch.distributed.run
...`). When the launcher's environment (`RANK`, `WORLD_SIZE`, `LOCAL_RANK`) says there is more
than one process, `fit`/`evaluate`:

- initialise the default process group if the script has not (`nccl` on CUDA, `gloo` on CPU;
  each process uses `cuda:LOCAL_RANK`);
- run the training forward pass through `torch.nn.parallel.DistributedDataParallel` around the
  model (kept off the model's module tree, so `state_dict()` keys do not change); DDP broadcasts
  rank 0's weights when it wraps the model and averages gradients in backward, so every rank
  holds the same weights;
- treat `batch_size` as the global batch, as Keras' `DataParallel` does: every rank draws the same
  permutation of the in-memory data each epoch (a seed shared from rank 0) and takes a
  contiguous share of each global batch (rows `[lo, hi)` of it, shares differing by at most one
  row, rank 0 first). Evaluation data is split the same way, unshuffled. Iterables (DataLoader,
  generators) are passed through as they are: give them a `DistributedSampler`;
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
