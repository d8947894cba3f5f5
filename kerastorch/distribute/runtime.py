"""Process-group state: rank, world size, initialisation from the `torchrun` environment."""

import atexit
import os

import torch
import torch.distributed as dist

_STATE = {"checked": False, "active": False}


def _env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def launched() -> bool:
    """True when a launcher (torchrun) started more than one process."""
    return _env_int("WORLD_SIZE", 1) > 1 and "RANK" in os.environ


def is_distributed() -> bool:
    """True in a multi-process run: the process group is (or will be, at `fit`) initialised
    with more than one process. Initialises it from the environment on first call."""
    if not _STATE["checked"]:
        _STATE["checked"] = True
        if dist.is_available() and (launched() or (dist.is_initialized()
                                                    and dist.get_world_size() > 1)):
            init()
            _STATE["active"] = dist.get_world_size() > 1
    return _STATE["active"]


def init(backend=None) -> None:
    """Initialise the default process group from the environment if it is not yet.

    Args:
        backend: `"nccl"`, `"gloo"`, ...; default `nccl` when the device is CUDA, else `gloo`.
    """
    if not dist.is_available():
        raise RuntimeError("torch.distributed is not available in this build of torch.")
    from kerastorch import config
    cuda = config.device().type == "cuda"
    if cuda:
        torch.cuda.set_device(local_rank())  # "cuda" now means this process' device
    if not dist.is_initialized():
        dist.init_process_group(backend or ("nccl" if cuda else "gloo"))
        # A process that exits with its group alive can abort in interpreter teardown (gloo's
        # threads still hold tensors: "terminate called without an active exception", torch
        # issue 190489); the group kerastorch made, kerastorch destroys.
        atexit.register(_destroy)
    _STATE["checked"] = True
    _STATE["active"] = dist.get_world_size() > 1


def _destroy() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
    _STATE["checked"] = _STATE["active"] = False


def rank() -> int:
    """This process' global rank (0 when not distributed)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank()
    return _env_int("RANK", 0)


def local_rank() -> int:
    return _env_int("LOCAL_RANK", 0)


def world_size() -> int:
    """Number of processes (1 when not distributed)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return _env_int("WORLD_SIZE", 1)


def is_chief() -> bool:
    """True on rank 0 (and in a single process): the rank that prints and saves."""
    return rank() == 0
