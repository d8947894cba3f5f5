"""Jobs end cleanly: the threads a `fit`/`evaluate`/`predict` starts end with it (however it
ends), and a `torchrun` job's process group is gone before interpreter teardown, so a job that
trained exits 0."""

import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import kerastorch as kt

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


class SlowBatches(kt.utils.PyDataset):
    """8 batches of 4 rows, each fetch taking 50 ms: worker threads are busy when a step fails."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        rng = np.random.default_rng(0)
        self.x = rng.normal(size=(32, 3)).astype("float32")
        self.y = self.x.sum(axis=1, keepdims=True)

    def __len__(self):
        return 8

    def __getitem__(self, i):
        time.sleep(0.05)
        return self.x[4 * i:4 * i + 4], self.y[4 * i:4 * i + 4]


class Boom(kt.callbacks.Callback):
    def __init__(self, error, at=2):
        super().__init__()
        self.error, self.at = error, at

    def _maybe(self, batch):
        if batch == self.at:
            raise self.error("stop here")

    def on_train_batch_end(self, batch, logs=None):
        self._maybe(batch)

    def on_test_batch_end(self, batch, logs=None):
        self._maybe(batch)

    def on_predict_batch_end(self, batch, logs=None):
        self._maybe(batch)


def _pydataset_threads():
    return [t.name for t in threading.enumerate() if t.name.startswith("PyDataset")]


def _model():
    model = kt.Sequential([kt.Input((3,)), kt.layers.Dense(1)])
    model.compile("sgd", "mse")
    return model


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
@pytest.mark.parametrize("call", ["fit", "fit_steps", "evaluate", "predict"])
def test_an_error_in_a_callback_leaves_no_worker_thread(call, error):
    """A callback raises mid-epoch while 4 worker threads are fetching: the error reaches the
    caller and, by then, every worker thread has been joined (none left alive)."""
    model, data = _model(), SlowBatches(workers=4, max_queue_size=6)
    run = {
        "fit": lambda: model.fit(data, epochs=2, verbose=0, callbacks=[Boom(error)]),
        "fit_steps": lambda: model.fit(data, epochs=2, steps_per_epoch=3, verbose=0,
                                       callbacks=[Boom(error, at=1)]),
        "evaluate": lambda: model.evaluate(data, verbose=0, callbacks=[Boom(error)]),
        "predict": lambda: model.predict(data, verbose=0, callbacks=[Boom(error)]),
    }[call]
    with pytest.raises(error, match="stop here") as caught:
        run()
    assert _pydataset_threads() == []
    del caught


def test_steps_per_epoch_pass_is_closed_when_fit_ends():
    """`steps_per_epoch` keeps a pass open across epochs; when `fit` returns, its prefetching
    threads are joined (the pass does not wait for the garbage collector)."""
    model, data = _model(), SlowBatches(workers=3)
    history = model.fit(data, epochs=2, steps_per_epoch=3, verbose=0)
    assert len(history.history["loss"]) == 2
    assert _pydataset_threads() == []


def test_threaded_pydataset_gives_the_same_training_as_one_worker():
    """Worker threads change nothing but speed: the same weights as `workers=1`."""
    weights = []
    for workers in (1, 3):
        kt.utils.set_random_seed(0)
        model = _model()
        model.fit(SlowBatches(workers=workers), epochs=2, verbose=0, shuffle=False)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


# Run by torchrun on 2 ranks. Its first atexit handler (registered before kerastorch makes the
# process group, so it runs after kerastorch's teardown) records the native threads left.
JOB = '''import atexit, json, os, sys

def _threads_at_exit():
    names = []
    for tid in os.listdir("/proc/self/task") if os.path.isdir("/proc/self/task") else []:
        try:
            with open(f"/proc/self/task/{tid}/comm") as f:
                names.append(f.read().strip())
        except OSError:
            pass
    with open(f"{sys.argv[1]}.rank{os.environ['RANK']}.threads.json", "w") as f:
        json.dump(names, f)

atexit.register(_threads_at_exit)

import numpy as np
import torch
import kerastorch as kt

rng = np.random.default_rng(0)
X = rng.normal(size=(40, 3)).astype("float32")
Y = X @ np.array([[0.5], [-1.0], [2.0]], "float32")


class Batches(kt.utils.PyDataset):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def __len__(self):
        return 5

    def __getitem__(self, i):
        return X[8 * i:8 * i + 8], Y[8 * i:8 * i + 8]


def generator():
    while True:
        for s in range(0, 40, 8):
            yield X[s:s + 8], Y[s:s + 8]


kt.utils.set_random_seed(0)
model = kt.Sequential([kt.Input((3,)), kt.layers.Dense(4, activation="tanh"), kt.layers.Dense(1)])
model.compile(kt.optimizers.SGD(0.05), "mse", metrics=["mae"])
pairs = torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(Y))
model.fit(X, Y, batch_size=8, epochs=2, verbose=0)
model.fit(torch.utils.data.DataLoader(pairs, batch_size=8), epochs=2, verbose=0)
model.fit(Batches(workers=2), epochs=2, verbose=0)
model.fit(generator(), steps_per_epoch=5, epochs=2, verbose=0)
result = model.evaluate(X, Y, batch_size=8, verbose=0, return_dict=True)
with open(f"{sys.argv[1]}.rank{os.environ['RANK']}.json", "w") as f:
    json.dump({"result": result, "weights": [w.tolist() for w in model.get_weights()]}, f)
'''


@pytest.mark.slow
def test_torchrun_jobs_exit_cleanly(tmp_path):
    """5 two-process jobs (gloo, CPU) fit from arrays, a DataLoader, a PyDataset with 2 worker
    threads and a generator, then evaluate: every job exits 0, both ranks end with the same
    weights and results, and no gloo thread (nor any other but the main one) is left when the
    interpreter starts its teardown."""
    script = tmp_path / "job.py"
    script.write_text(JOB)
    env = dict(os.environ, KERASTORCH_DEVICE="cpu", OMP_NUM_THREADS="1",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    for job in range(5):
        prefix = tmp_path / f"job{job}"
        proc = subprocess.run(
            [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
             "--standalone", str(script), str(prefix)],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=180)
        assert proc.returncode == 0, (job, proc.stdout[-3000:] + proc.stderr[-3000:])
        ranks = [json.loads((tmp_path / f"job{job}.rank{r}.json").read_text()) for r in (0, 1)]
        assert ranks[0] == ranks[1]
        assert ranks[0]["result"]["loss"] < 1.0
        if sys.platform.startswith("linux"):
            for r in (0, 1):
                threads = json.loads((tmp_path / f"job{job}.rank{r}.threads.json").read_text())
                assert len(threads) == 1, (job, r, threads)  # the main thread alone
