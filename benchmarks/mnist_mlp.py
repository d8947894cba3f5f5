"""Seconds per epoch of the seed's MNIST MLP: kerastorch `fit` vs a hand-written PyTorch loop
(the floor) vs Keras 3 on its torch backend (when installed), measured in one process.

    python benchmarks/mnist_mlp.py [--repeats 5] [--batch-sizes 32 128] [--no-keras]

The floor loop: the same model as `nn.Sequential`, the data on the device, a `randperm` shuffle
per epoch, batches sliced from the shuffled tensors, torch's default Adam (eps=1e-7), Keras'
crossentropy formula written in plain torch, the loss and accuracy summed on the device and read
once per epoch; evaluate and predict are plain `torch.no_grad()` loops. Runs alternate (floor, kerastorch, Keras)
and the table prints medians and ratios.
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "torch")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import kerastorch  # noqa: E402
from kerastorch import config  # noqa: E402

EPOCHS_PER_FIT = 3


def load_data(n=10000):
    here = os.path.dirname(os.path.abspath(__file__))
    folder = os.path.join(here, "..", "..", "shared", "data", "mnist")
    try:
        from kerastorch.datasets._cache import read_idx
        x = read_idx(os.path.join(folder, "t10k-images-idx3-ubyte.gz"))
        y = read_idx(os.path.join(folder, "t10k-labels-idx1-ubyte.gz"))
        x = x.reshape(-1, 784).astype("float32") / 255.0
    except Exception:  # no local MNIST: same shapes, random values
        rng = np.random.default_rng(0)
        x = rng.random((n, 784), dtype=np.float32)
        y = rng.integers(0, 10, n)
    return x, np.eye(10, dtype="float32")[y]


def floor_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10),
                         nn.Softmax(dim=-1))


def floor_loss(p, y):
    """Keras' categorical crossentropy in plain torch: renormalise, clip, -sum(y log p)."""
    p = (p / p.sum(-1, keepdim=True)).clamp(1e-7, 1 - 1e-7)
    return -(y * torch.log(p)).sum(-1)


def floor_fit_epoch(model, opt, x, y, bs):
    n = x.shape[0]
    perm = torch.randperm(n, device=x.device)
    xs, ys = x[perm], y[perm]
    loss_sum = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device)
    model.train()
    for i in range(0, n, bs):
        xb, yb = xs[i:i + bs], ys[i:i + bs]
        p = model(xb)
        loss = floor_loss(p, yb).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        loss_sum += loss.detach() * xb.shape[0]
        correct += (p.argmax(-1) == yb.argmax(-1)).sum()
    return (loss_sum / n).item(), (correct / n).item()


@torch.no_grad()
def floor_evaluate(model, x, y, bs):
    model.eval()
    loss_sum = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device)
    for i in range(0, x.shape[0], bs):
        p = model(x[i:i + bs])
        yb = y[i:i + bs]
        loss_sum += floor_loss(p, yb).sum()
        correct += (p.argmax(-1) == yb.argmax(-1)).sum()
    return (loss_sum / x.shape[0]).item(), (correct / x.shape[0]).item()


@torch.no_grad()
def floor_predict(model, x, bs):
    model.eval()
    return torch.cat([model(x[i:i + bs]) for i in range(0, x.shape[0], bs)]).cpu().numpy()


def kt_model():
    from kerastorch.layers import Dense, Flatten
    model = kerastorch.Sequential([Flatten(input_shape=(784,)), Dense(128, activation="relu"),
                                   Dense(10, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def keras_model():
    import keras
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--no-keras", action="store_true", help="skip Keras 3 even if installed")
    args = parser.parse_args()

    dev = config.device()
    x_np, y_np = load_data()
    x, y = torch.from_numpy(x_np).to(dev), torch.from_numpy(y_np).to(dev)
    keras = None
    if not args.no_keras:
        try:
            import keras
            if keras.backend.backend() != "torch":
                keras = None
        except ImportError:
            keras = None
    print(f"device={dev} torch={torch.__version__} threads={torch.get_num_threads()} "
          f"samples={x.shape[0]} keras={'%s (torch backend)' % keras.__version__ if keras else 'no'}")

    rows = []
    for bs in args.batch_sizes:
        torch.manual_seed(0)
        fm = floor_model().to(dev)
        fopt = torch.optim.Adam(fm.parameters(), lr=1e-3, eps=1e-7)
        km = kt_model()
        ke = keras_model() if keras else None
        # warm-up: one epoch each
        floor_fit_epoch(fm, fopt, x, y, bs)
        km.fit(x, y, batch_size=bs, epochs=1, verbose=0)
        if ke:
            ke.fit(x_np, y_np, batch_size=bs, epochs=1, verbose=0)
        times = {"floor": [], "kerastorch": [], "keras": []}
        for _ in range(args.repeats):
            times["floor"].append(timed(lambda: [floor_fit_epoch(fm, fopt, x, y, bs)
                                                 for _ in range(EPOCHS_PER_FIT)]))
            times["kerastorch"].append(timed(lambda: km.fit(
                x, y, batch_size=bs, epochs=EPOCHS_PER_FIT, verbose=0)))
            if ke:
                times["keras"].append(timed(lambda: ke.fit(
                    x_np, y_np, batch_size=bs, epochs=EPOCHS_PER_FIT, verbose=0)))
        med = {k: statistics.median(v) / EPOCHS_PER_FIT for k, v in times.items() if v}
        rows.append((f"fit bs={bs}", med))

    # evaluate / predict at Keras' default batch size
    bs = 32
    fm = floor_model().to(dev)
    km = kt_model()
    km.fit(x[:64], y[:64], epochs=1, verbose=0)
    ke = keras_model() if keras else None
    times = {"floor": [], "kerastorch": [], "keras": []}
    ptimes = {"floor": [], "kerastorch": [], "keras": []}
    # These runs are short (tens of ms): take more of them, alternating which goes first.
    for i in range(4 * args.repeats + 1):
        t, p = {}, {}
        for who in (("floor", "kerastorch") if i % 2 else ("kerastorch", "floor")):
            if who == "floor":
                t[who] = timed(lambda: floor_evaluate(fm, x, y, bs))
                p[who] = timed(lambda: floor_predict(fm, x, bs))
            else:
                t[who] = timed(lambda: km.evaluate(x, y, batch_size=bs, verbose=0))
                p[who] = timed(lambda: km.predict(x, batch_size=bs, verbose=0))
        if ke:
            t["keras"] = timed(lambda: ke.evaluate(x_np, y_np, batch_size=bs, verbose=0))
            p["keras"] = timed(lambda: ke.predict(x_np, batch_size=bs, verbose=0))
        if i:  # first round is warm-up
            for k in t:
                times[k].append(t[k])
                ptimes[k].append(p[k])
    rows.append(("evaluate bs=32", {k: statistics.median(v) for k, v in times.items() if v}))
    rows.append(("predict bs=32", {k: statistics.median(v) for k, v in ptimes.items() if v}))

    print(f"{'case':<16}{'floor s':>10}{'kerastorch s':>14}{'keras s':>10}"
          f"{'kt/floor':>10}{'keras/floor':>13}")
    for name, med in rows:
        kr = med.get("keras")
        keras_s = f"{kr:.4f}" if kr else "-"
        keras_ratio = f"{kr / med['floor']:.3f}" if kr else "-"
        print(f"{name:<16}{med['floor']:>10.4f}{med['kerastorch']:>14.4f}{keras_s:>10}"
              f"{med['kerastorch'] / med['floor']:>10.3f}{keras_ratio:>13}")

if __name__ == "__main__":
    main()
