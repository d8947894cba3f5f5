"""Multi-process data parallel `fit` (kerastorch.distribute), on CPU with gloo.

The slow tests launch `examples/mnist_ddp.py` with `python -m torch.distributed.run
--nproc_per_node=2` on the real MNIST test set (8,000 train / 2,000 test rows).
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import kerastorch as kt
from kerastorch import distribute
from kerastorch.distribute import trainer_hooks
from kerastorch.trainers import data_adapters as da

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
EXAMPLE = os.path.join(ROOT, "examples", "mnist_ddp.py")
MNIST_DIR = os.path.abspath(os.path.join(ROOT, "..", "shared", "data", "mnist"))


def test_single_process_defaults():
    assert not distribute.is_distributed()
    assert (distribute.rank(), distribute.world_size(), distribute.is_chief()) == (0, 1, True)
    batches = da.ArrayBatches(torch.arange(10.0), None, None, 4)
    assert distribute.shard(batches) is batches
    assert distribute.chief_verbose(2) == 2


@pytest.mark.parametrize("rows,world,shares", [
    (10, 2, [(0, 5), (5, 10)]),
    (7, 2, [(0, 4), (4, 7)]),
    (5, 3, [(0, 2), (2, 4), (4, 5)]),
])
def test_shares_of_a_global_batch(rows, world, shares):
    """Rank r takes the r-th of `world` contiguous parts (sizes differ by at most one)."""
    batches = da.ArrayBatches(torch.arange(float(rows)), None, None, rows)
    got = []
    for r in range(world):
        sharded = trainer_hooks.ShardedBatches.__new__(trainer_hooks.ShardedBatches)
        da.ArrayBatches.__init__(sharded, batches.x, None, None, rows, False, None)
        sharded.rank, sharded.world, sharded._generator = r, world, None
        (x,), = list(sharded)
        got.append((int(x[0]), int(x[-1]) + 1))
        assert sharded._share(0, rows) == shares[r]
    assert got == shares


def _launch(prefix, nproc, *args):
    env = dict(os.environ, KERASTORCH_DEVICE="cpu", OMP_NUM_THREADS="1",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    common = [EXAMPLE, "--data-dir", MNIST_DIR, "--results", str(prefix), *args]
    cmd = [sys.executable, *common] if nproc == 1 else \
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc),
         "--standalone", *common]
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=150)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    runs = []
    for r in range(nproc):
        with open(f"{prefix}.rank{r}.json") as f:
            runs.append(json.load(f))
        runs[-1]["weights"] = list(np.load(f"{prefix}.rank{r}.npz").values())
    return runs, proc.stdout


needs_mnist = pytest.mark.skipif(not os.path.isdir(MNIST_DIR), reason="no MNIST test set")


@pytest.mark.slow
@needs_mnist
def test_ddp_mnist_matches_single_process(tmp_path):
    """Acceptance: 2 processes, shuffled: identical weights on both ranks, rank-0-only output,
    state_dict keys unchanged, accuracy within 1 point of one process with the same global
    batch size and epochs."""
    single, _ = _launch(tmp_path / "single", 1, "--epochs", "2")
    ddp, out = _launch(tmp_path / "ddp", 2, "--epochs", "2", "--save",
                       str(tmp_path / "w.pt"))
    assert [r["world_size"] for r in ddp] == [2, 2]
    assert ddp[0]["weights_sha256"] == ddp[1]["weights_sha256"]
    assert ddp[0]["keys"] == single[0]["keys"] == ["dense.weight", "dense.bias",
                                                   "dense_1.weight", "dense_1.bias"]
    assert ddp[0]["history"] == ddp[1]["history"]  # metrics summed over ranks: same logs
    assert abs(ddp[0]["accuracy"] - single[0]["accuracy"]) <= 0.01
    assert single[0]["accuracy"] > 0.9
    assert out.count("Epoch 2/2") == 1 and out.count("world size 2") == 1  # rank 0 prints
    state = torch.load(tmp_path / "w.pt", weights_only=True)
    np.testing.assert_array_equal(state["dense.weight"].numpy().T, ddp[0]["weights"][0])


@pytest.mark.slow
@needs_mnist
def test_ddp_unshuffled_equals_single_process(tmp_path):
    """Without shuffling, 2 ranks x 32 rows is the single-process batch of 64: the same
    updates (to float tolerance), the same training and validation logs."""
    args = ("--epochs", "1", "--no-shuffle", "--limit", "2048", "--validate")
    single, _ = _launch(tmp_path / "single", 1, *args)
    ddp, _ = _launch(tmp_path / "ddp", 2, *args)
    for a, b in zip(ddp[0]["weights"], single[0]["weights"]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-5)
    for key, values in single[0]["history"].items():
        np.testing.assert_allclose(ddp[0]["history"][key], values, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ddp[0]["loss"], single[0]["loss"], rtol=1e-4)


def test_reduce_metrics_is_a_no_op_in_one_process():
    model = kt.Sequential([kt.Input((2,)), kt.layers.Dense(1)])
    model.compile("sgd", "mse", metrics=["mae"])
    model.fit(np.ones((4, 2), "float32"), np.zeros((4, 1), "float32"), verbose=0)
    before = model.get_metrics_result()
    distribute.reduce_metrics(model)
    assert model.get_metrics_result() == before
