"""Multi-process data parallel `fit` (kerastorch.distribute), on CPU with gloo.

The slow tests launch `examples/mnist_ddp.py` with `python -m torch.distributed.run
--nproc_per_node=2` on the real MNIST test set (8,000 train / 2,000 test rows).
"""

import json
import os
import runpy
import subprocess
import sys

import numpy as np
import pytest
import torch

import kerastorch as kt
from kerastorch import distribute
from kerastorch.distribute import data as ddp_data
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
        sharded = ddp_data.ShardedBatches(batches, r, world, seed=0, training=False)
        (x,), = list(sharded)
        got.append((int(x[0]), int(x[-1]) + 1))
        assert sharded._share(0, rows) == ddp_data.share(0, rows, r, world) == shares[r]
    assert got == shares


def _rank_batches(make, world, training, steps=None, epochs=1, seed=7):
    """`[rank][epoch]` -> list of the x rows (as lists) each rank gets, from `make()` (a fresh
    source per rank), sharded without a process group."""
    out = []
    for r in range(world):
        src, name = make(), "steps_per_epoch" if training else "steps"
        if not isinstance(src, da.Batches):
            src = da.get_data_adapter(src, steps=steps, device=torch.device("cpu"))
        src.steps_name = name  # what `fit` (training) or `evaluate` passes
        sharded = ddp_data.shard(src, r, world, seed=seed)
        out.append([[batch[0].tolist() for batch in sharded] for _ in range(epochs)])
    return out


def _rows(n):
    return np.arange(n, dtype="float32").reshape(n, 1)


class _Rows(torch.utils.data.Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return torch.tensor([float(i)]), torch.tensor([0.0])


class _PyBatches(kt.utils.PyDataset):
    def __init__(self, n, size, **kwargs):
        super().__init__(**kwargs)
        self.n, self.size = n, size

    @property
    def num_batches(self):
        return -(-self.n // self.size)

    def __getitem__(self, i):
        rows = _rows(self.n)[i * self.size:(i + 1) * self.size]
        return rows, np.zeros_like(rows)


def _gen(n, size):
    for s in range(0, n, size):
        yield _rows(n)[s:s + size], np.zeros((min(size, n - s), 1), "float32")


SOURCES = {
    "arrays": lambda n, b: da.ArrayBatches(torch.from_numpy(_rows(n)), torch.zeros(n, 1),
                                           None, b),
    "dataset": lambda n, b: da.get_data_adapter(_Rows(n), batch_size=b,
                                                device=torch.device("cpu")),
    "loader": lambda n, b: torch.utils.data.DataLoader(_Rows(n), batch_size=b),
    "generator": lambda n, b: _gen(n, b),
    "pydataset": lambda n, b: _PyBatches(n, b),
}


@pytest.mark.parametrize("kind", sorted(SOURCES))
@pytest.mark.parametrize("world", [2, 3])
def test_every_source_gives_each_rank_its_share_of_every_batch(kind, world):
    """Unshuffled, 10 rows in global batches of 4: batch j of rank r is rows [lo, hi) of
    global batch j; the ranks together see every row once, in order."""
    make = lambda: SOURCES[kind](10, 4)  # noqa: E731
    got = _rank_batches(make, world, training=False)
    for j, (start, stop) in enumerate([(0, 4), (4, 8), (8, 10)]):
        for r in range(world):
            lo, hi = ddp_data.share(start, stop, r, world)
            expected = [[float(i)] for i in range(lo, hi)]
            mine = [b for b in got[r][0] if b and start <= b[0][0] < stop]
            assert mine == ([expected] if expected else [])
    assert sorted(row for r in range(world) for b in got[r][0] for row in b) == \
        [[float(i)] for i in range(10)]


@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_training_skips_a_global_batch_smaller_than_the_ranks(kind):
    """11 rows, batches of 5, 2 ranks: the 1-row last batch is skipped on both ranks (rank 0
    warns), so both take 2 steps and the gradient weights are 3/5 and 2/5."""
    make = lambda: SOURCES[kind](11, 5)  # noqa: E731
    with pytest.warns(UserWarning, match="fewer rows than the 2 processes"):
        got = _rank_batches(make, 2, training=True)
    assert [len(g[0]) for g in got] == [2, 2]
    assert got[0][0] == [[[0.0], [1.0], [2.0]], [[5.0], [6.0], [7.0]]]
    assert got[1][0] == [[[3.0], [4.0]], [[8.0], [9.0]]]


@pytest.mark.parametrize("kind", ["arrays", "dataset", "loader"])
def test_step_weights_are_each_ranks_share_of_the_global_batch(kind):
    weights = []
    for r in range(2):
        src = SOURCES[kind](7, 5)
        if not isinstance(src, da.Batches):
            src = da.get_data_adapter(src, device=torch.device("cpu"))
        seen = []
        for _ in ddp_data.shard(src, r, 2, seed=0):
            seen.append(ddp_data.step_weight())
        weights.append(seen)
        assert ddp_data.step_weight() is None  # released after the pass
    assert weights == [[3 / 5, 1 / 2], [2 / 5, 1 / 2]]


def test_skipped_batches_still_count_as_steps():
    """A generator of batches of 2, 1, 2 rows, `steps=2`, 2 ranks: rank 1 has no row of the
    second batch; it skips it and stops after 2 global batches like rank 0 (no drift)."""
    def make():
        return iter([(_rows(5)[a:b], np.zeros((b - a, 1), "float32"))
                     for a, b in ((0, 2), (2, 3), (3, 5))])
    got = _rank_batches(make, 2, training=False, steps=2)
    assert got[0][0] == [[[0.0]], [[2.0]]] and got[1][0] == [[[1.0]]]


@pytest.mark.parametrize("kind", ["arrays", "dataset", "generator"])
def test_evaluation_smaller_than_the_ranks_raises_on_every_rank(kind):
    """One row on 2 ranks: rank 1 would evaluate nothing (and never reach the metric sum):
    every rank raises the same error instead of one waiting for the other."""
    for r in range(2):
        src = SOURCES[kind](1, 4)
        if not isinstance(src, da.Batches):
            src = da.get_data_adapter(src, device=torch.device("cpu"), steps_name="steps")
        else:
            src.steps_name = "steps"
        with pytest.raises(ValueError, match="at most 1 rows, fewer than the 2 processes"):
            list(ddp_data.shard(src, r, 2, seed=0))


def test_shuffled_dataset_sampler_shares_one_permutation_per_epoch():
    """`GlobalBatchShares`: the same seed gives every rank the same permutation; the ranks'
    shares partition each epoch; `set_epoch` changes the order."""
    shares = [ddp_data.GlobalBatchShares(10, 4, True, 123, r, 2) for r in range(2)]
    orders = []
    for epoch in range(2):
        for s in shares:
            s.set_epoch(epoch)
        batches = [list(s) for s in shares]
        glob = [i for b0, b1 in zip(*batches) for i in b0 + b1]
        assert sorted(glob) == list(range(10))
        assert [len(b) for b in batches[0]] == [2, 2, 1] == [len(b) for b in batches[1]]
        orders.append(glob)
    assert orders[0] != orders[1]
    assert [shares[0].rows(i) for i in range(3)] == [(2, 4), (2, 4), (1, 2)]


def test_empty_share_of_a_dataset_batch_is_a_placeholder_index():
    s = ddp_data.GlobalBatchShares(5, 4, False, 0, 2, 3)  # last batch: 1 row, rank 2 has none
    assert list(s) == [[3], [4]] and s.rows(1) == (0, 1)


def test_shuffled_loader_and_pydataset_draw_the_same_order_on_every_rank():
    """A DataLoader(shuffle=True) gets a generator seeded alike on every rank (and its own
    `None` back after each pass); a shuffled PyDataset an alike `random.Random`."""
    loaders = [torch.utils.data.DataLoader(_Rows(8), batch_size=4, shuffle=True)
               for _ in range(2)]
    got = _rank_batches(lambda: loaders.pop(0), 2, training=True, epochs=2)
    full = [[got[0][e][j] + got[1][e][j] for j in range(2)] for e in range(2)]
    assert sorted(r for b in full[0] for r in b) == [[float(i)] for i in range(8)]
    assert full[0] != full[1]  # a new order each epoch
    got = _rank_batches(lambda: da.get_data_adapter(_PyBatches(8, 2), shuffle=True,
                                                    device=torch.device("cpu")),
                        2, training=True, epochs=2)
    firsts = [[[b[0][0] for b in e] for e in got[r]] for r in range(2)]  # batch i: 2i, 2i+1
    assert firsts[0] == [[v - 1 for v in e] for e in firsts[1]]
    assert sorted(firsts[0][0]) == [0.0, 2.0, 4.0, 6.0] and firsts[0][0] != firsts[0][1]


def test_a_users_distributed_sampler_is_used_as_it_is():
    ds = _Rows(10)
    sampler = torch.utils.data.distributed.DistributedSampler(ds, num_replicas=2, rank=1,
                                                              shuffle=True, seed=5)
    loader = torch.utils.data.DataLoader(ds, batch_size=5, sampler=sampler)
    sharded = ddp_data.shard(da.get_data_adapter(loader, device=torch.device("cpu")), 1, 2,
                             seed=0)
    epochs = [[b[0].flatten().tolist() for b in sharded] for _ in range(2)]
    assert sampler.epoch == 1  # set_epoch(pass) before each pass
    for e, got in enumerate(epochs):
        sampler.set_epoch(e)
        assert got == [[float(i) for i in sampler]]


def _run(nproc, *script_args):
    """`python script ...` (nproc 1) or `torchrun --nproc_per_node nproc script ...` on CPU."""
    env = dict(os.environ, KERASTORCH_DEVICE="cpu", OMP_NUM_THREADS="1",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    cmd = [sys.executable, *script_args] if nproc == 1 else \
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc),
         "--standalone", *script_args]
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=150)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def _launch(prefix, nproc, *args):
    proc = _run(nproc, EXAMPLE, "--data-dir", MNIST_DIR, "--results", str(prefix), *args)
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


# The worker of `test_ddp_every_data_source_equals_one_process`: run by torchrun on 2 ranks,
# and in this process (`run(1)`) for the single-process reference over the same batches.
SOURCES_WORKER = '''"""Fits and evaluations from every data source; run by torchrun (2 ranks) and in-process."""
import json
import os
import sys
import warnings

import numpy as np
import torch

import kerastorch as kt

X = np.linspace(-1.0, 1.0, 33, dtype="float32").reshape(11, 3)
Y = (X @ np.array([[0.5], [-1.0], [2.0]], "float32") + 0.1).astype("float32")


class Rows(torch.utils.data.Dataset):
    """Row `i` of X, Y; remembers the indices it was asked for."""

    def __init__(self, n):
        self.n, self.seen = n, []

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        self.seen.append(int(i))
        return torch.from_numpy(X[i]), torch.from_numpy(Y[i])


class Batches(kt.utils.PyDataset):
    def __init__(self, n, size, **kwargs):
        super().__init__(**kwargs)
        self.n, self.size = n, size

    @property
    def num_batches(self):
        return -(-self.n // self.size)

    def __getitem__(self, i):
        s = i * self.size
        return X[s:s + self.size], Y[s:s + self.size]


def generator(n, size, epochs):
    for _ in range(epochs):
        for s in range(0, n, size):
            yield X[s:s + size], Y[s:s + size]


def model():
    kt.utils.set_random_seed(0)
    m = kt.Sequential([kt.Input((3,)), kt.layers.Dense(4, activation="tanh"),
                       kt.layers.Dense(1)])
    m.compile(kt.optimizers.SGD(0.1), "mse", metrics=["mae"])
    return m


def run(world):
    """{case: weights, history, seen, warnings}. `world` > 1: the data a 2-rank run gets;
    1: the single-process run over the same global batches."""
    out = {}
    n11 = 11 if world > 1 else 10  # 11 rows: the last global batch (1 row) is skipped
    fits = {
        "arrays": lambda: dict(x=X[:10], y=Y[:10], batch_size=5, shuffle=False),
        "arrays_tiny": lambda: dict(x=X[:n11], y=Y[:n11], batch_size=5, shuffle=False),
        "dataset": lambda: dict(x=Rows(10), batch_size=5, shuffle=False),
        "dataset_tiny": lambda: dict(x=Rows(n11), batch_size=5, shuffle=False),
        "loader": lambda: dict(x=torch.utils.data.DataLoader(Rows(10), batch_size=5)),
        "loader_tiny": lambda: dict(x=torch.utils.data.DataLoader(Rows(n11), batch_size=5)),
        "generator": lambda: dict(x=generator(10, 5, 2), steps_per_epoch=2),
        "generator_tiny": lambda: dict(x=generator(n11, 5, 2), steps_per_epoch=2 if n11 == 10
                                       else 3),
        "pydataset": lambda: dict(x=Batches(10, 5)),
        "dataset_shuffled": lambda: dict(x=Rows(10), batch_size=4, shuffle=True),
        "loader_shuffled": lambda: dict(x=torch.utils.data.DataLoader(
            Rows(10), batch_size=4, shuffle=True)),
        "pydataset_shuffled": lambda: dict(x=Batches(10, 2), shuffle=True),
    }
    if world > 1:
        kt.distribute.init()  # a DistributedSampler needs the process group
        ds = Rows(10)
        sampler = torch.utils.data.distributed.DistributedSampler(ds, shuffle=True, seed=3)
        fits["distributed_sampler"] = lambda: dict(
            x=torch.utils.data.DataLoader(ds, batch_size=5, sampler=sampler))
    for name, kwargs in fits.items():
        m, kw = model(), kwargs()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            history = m.fit(epochs=2 if "shuffled" not in name else 3, verbose=0, **kw)
        x = kw["x"]
        seen = getattr(x, "seen", None) or getattr(getattr(x, "dataset", None), "seen", None)
        out[name] = {"weights": [w.tolist() for w in m.get_weights()],
                     "history": history.history, "seen": seen,
                     "warnings": [str(w.message) for w in caught
                                  if "fewer rows than" in str(w.message)]}
    m = model()  # 3 rows in batches of 2: rank 1 has no row of the second batch
    out["eval_arrays"] = m.evaluate(X[:3], Y[:3], batch_size=2, verbose=0, return_dict=True)
    out["eval_dataset"] = m.evaluate(Rows(3), batch_size=2, verbose=0, return_dict=True)
    out["eval_generator"] = m.evaluate(generator(3, 2, 1), verbose=0, return_dict=True)
    # batches of 2, 1, 2 rows, steps=2: rank 1 skips its empty share of the second, which
    # still counts as a step (it does not go on to the third batch)
    sized = iter([(X[a:b], Y[a:b]) for a, b in ((0, 2), (2, 3), (3, 5))])
    out["eval_steps"] = m.evaluate(sized, steps=2, verbose=0, return_dict=True)
    try:
        out["eval_one_row"] = m.evaluate(X[:1], Y[:1], verbose=0, return_dict=True)
    except ValueError as e:  # every rank raises: 1 row cannot be split over 2 processes
        out["eval_one_row"] = str(e)
    return out


if __name__ == "__main__":
    from kerastorch import distribute
    results = run(int(os.environ.get("WORLD_SIZE", "1")))
    results["world_size"] = distribute.world_size()
    with open(f"{sys.argv[1]}.rank{distribute.rank()}.json", "w") as f:
        json.dump(results, f)
'''

UNSHUFFLED = ["arrays", "arrays_tiny", "dataset", "dataset_tiny", "loader", "loader_tiny",
              "generator", "generator_tiny", "pydataset"]


def _per_epoch(seen, epochs):
    k = len(seen) // epochs
    return [seen[e * k:(e + 1) * k] for e in range(epochs)]


@pytest.mark.slow
def test_ddp_every_data_source_equals_one_process(tmp_path):
    """2 ranks fit the same model from arrays, a torch Dataset, a DataLoader, a generator
    and a PyDataset (global batches of 5 rows: shares of 3 and 2, weighed 3/5 and 2/5): both
    ranks end with the same weights and logs, equal to one process over the same batches; an
    11th row (a 1-row last batch) is skipped with a warning on rank 0. Shuffled sources draw
    each epoch's order alike on every rank, a new one each epoch. Evaluation with a rank that
    has no row of a batch counts every row once."""
    script = tmp_path / "ddp_sources.py"
    script.write_text(SOURCES_WORKER)
    _run(2, str(script), str(tmp_path / "r"))
    ranks = []
    for r in range(2):
        with open(tmp_path / f"r.rank{r}.json") as f:
            ranks.append(json.load(f))
    ref = runpy.run_path(str(script))["run"](1)
    assert [r["world_size"] for r in ranks] == [2, 2]
    fits = [k for k in ranks[0] if isinstance(ranks[0][k], dict) and "weights" in ranks[0][k]]
    assert len(fits) == 13
    for case in fits:
        a, b = ranks[0][case], ranks[1][case]
        for wa, wb in zip(a["weights"], b["weights"]):
            np.testing.assert_array_equal(wa, wb, err_msg=case)  # DDP: one set of weights
        assert a["history"] == b["history"], case  # metric states summed over the ranks
        assert len(b["warnings"]) == 0
        assert len(a["warnings"]) == ("tiny" in case), case
    for case in UNSHUFFLED:
        for wa, wr in zip(ranks[0][case]["weights"], ref[case]["weights"]):
            np.testing.assert_allclose(wa, wr, rtol=1e-5, atol=1e-6, err_msg=case)
        for key, values in ref[case]["history"].items():
            np.testing.assert_allclose(ranks[0][case]["history"][key], values, rtol=1e-5,
                                       err_msg=case)
    # a Dataset: each rank loads only its rows of each global batch
    assert [r["dataset"]["seen"] for r in ranks] == [[0, 1, 2, 5, 6, 7] * 2, [3, 4, 8, 9] * 2]
    # shuffled Dataset (batches of 4: shares of 2): each epoch the ranks split a permutation
    epochs = [_per_epoch(r["dataset_shuffled"]["seen"], 3) for r in ranks]
    orders = [e0 + e1 for e0, e1 in zip(*epochs)]
    assert all(sorted(o) == list(range(10)) for o in orders) and orders[0] != orders[1]
    # shuffled DataLoader: every rank draws the same order (and keeps its share of it)
    seen = [r["loader_shuffled"]["seen"] for r in ranks]
    assert seen[0] == seen[1] and len(set(map(tuple, _per_epoch(seen[0], 3)))) == 3
    # the user's DistributedSampler: used as it is, with set_epoch each epoch
    epochs = [_per_epoch(r["distributed_sampler"]["seen"], 2) for r in ranks]
    assert all(sorted(e0 + e1) == list(range(10)) for e0, e1 in zip(*epochs))
    assert epochs[0][0] != epochs[0][1]
    for case in ("eval_arrays", "eval_dataset", "eval_generator", "eval_steps"):
        assert ranks[0][case] == ranks[1][case], case
        for key, value in ref[case].items():
            np.testing.assert_allclose(ranks[0][case][key], value, rtol=1e-5, err_msg=case)
    # one row cannot be split over 2 processes: every rank raises (none waits for the other)
    assert all("fewer than the 2 processes" in r["eval_one_row"] for r in ranks)
