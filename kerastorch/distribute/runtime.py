"""Process-group state: rank, world size, initialisation from the `torchrun` environment, and
the teardown of the process group kerastorch made.

A gloo (or NCCL) process group runs native threads until its C++ object is destroyed, and that
happens only when the last reference to it goes. A group still alive when the interpreter tears
down is destroyed during (or after) finalization, with its threads running: the process can abort
there ("terminate called without an active exception") after a job that succeeded. So the group
kerastorch creates is destroyed once, at exit, while Python is whole, and with no reference left:

- `torch.distributed.nn` (imported by DDP) binds `group.WORLD` as a default argument of its
  functions when it is first imported; imported before the group exists, it binds `None`.
- every DDP wrapper kerastorch made is released first (`track_wrapper`), so its reducer lets go.
"""

import atexit
import gc
import os
import weakref

import torch
import torch.distributed as dist

_STATE = {"checked": False, "active": False, "created": False}
# Owners of a DDP wrapper (the trainer's step runners): `release_ddp()` drops it at teardown.
_WRAPPER_OWNERS = weakref.WeakSet()


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
        import torch.distributed.nn  # noqa: F401  (before the group: see the module docstring)
        dist.init_process_group(backend or ("nccl" if cuda else "gloo"))
        _STATE["created"] = True
        atexit.register(destroy)
    _STATE["checked"] = True
    _STATE["active"] = dist.get_world_size() > 1


def track_wrapper(owner) -> None:
    """Remember `owner` (it has `release_ddp()`): its DDP wrapper is released at teardown."""
    _WRAPPER_OWNERS.add(owner)


def destroy() -> None:
    """Destroy the process group kerastorch created, once (at exit: registered by `init`).

    The DDP wrappers are released first and the garbage collected, so the group's last
    reference goes here and its threads are joined now, not in interpreter teardown. A group
    the script created itself, or already destroyed, is left alone."""
    if not _STATE["created"]:
        return
    _STATE["created"] = False
    for owner in list(_WRAPPER_OWNERS):
        owner.release_ddp()
    _WRAPPER_OWNERS.clear()
    gc.collect()
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
    gc.collect()
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
