"""Forward+backward time of two small models at batch 64: kerastorch vs the same model written
in plain PyTorch (the floor) vs Keras 3 on its torch backend (when installed), in one process.

    python benchmarks/layers.py [--repeats 7] [--steps 20] [--no-keras]

- convnet: (Conv2D 32 3x3 - BatchNormalization - ReLU - MaxPooling 2) x2, Flatten, Dense 10, on
  28x28x1 images. kerastorch and Keras take channels_last input; the floor takes NCHW, as plain
  PyTorch code does.
- lstm: Embedding(10000, 64), LSTM(64), Dense(1) on sequences of 80 token ids.

Each timed run is `steps` forward+backward passes in training mode (sum of outputs as the loss);
runs alternate between implementations and the table prints medians and ratios.
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "torch")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import torch  # noqa: E402
from torch import nn  # noqa: E402

import kerastorch  # noqa: E402
from kerastorch import config  # noqa: E402

BATCH, SEQ, VOCAB = 64, 80, 10000


def convnet(lib):
    L = lib.layers
    return lib.Sequential([
        lib.Input(shape=(28, 28, 1)),
        L.Conv2D(32, 3), L.BatchNormalization(), L.ReLU(), L.MaxPooling2D(2),
        L.Conv2D(32, 3), L.BatchNormalization(), L.ReLU(), L.MaxPooling2D(2),
        L.Flatten(), L.Dense(10)])


def lstm_model(lib):
    L = lib.layers
    return lib.Sequential([lib.Input(shape=(SEQ,), dtype="int64"), L.Embedding(VOCAB, 64),
                           L.LSTM(64), L.Dense(1)])


def convnet_floor():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.BatchNorm2d(32, eps=1e-3, momentum=0.01), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 32, 3), nn.BatchNorm2d(32, eps=1e-3, momentum=0.01), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 5 * 5, 10))


class LSTMFloor(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, 64)
        self.lstm = nn.LSTM(64, 64, batch_first=True)
        self.dense = nn.Linear(64, 1)

    def forward(self, x):
        out, _ = self.lstm(self.embedding(x))
        return self.dense(out[:, -1])


def run_torch(model, x, steps):
    for _ in range(steps):
        model.zero_grad(set_to_none=True)
        model(x).sum().backward()


def run_ours(model, x, steps):
    model.train()
    for _ in range(steps):
        model.zero_grad(set_to_none=True)
        model(x).sum().backward()


def run_keras(model, x, steps):
    for _ in range(steps):
        model.zero_grad()
        model(x, training=True).sum().backward()


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--no-keras", action="store_true")
    args = parser.parse_args()
    dev = config.device()
    keras = None
    if not args.no_keras:
        try:
            import keras
            if keras.backend.backend() != "torch":
                keras = None
        except ImportError:
            keras = None
    print(f"device={dev} torch={torch.__version__} threads={torch.get_num_threads()} "
          f"batch={BATCH} keras={keras.__version__ + ' (torch backend)' if keras else 'no'}")

    torch.manual_seed(0)
    images = torch.rand(BATCH, 28, 28, 1, device=dev)
    tokens = torch.randint(1, VOCAB, (BATCH, SEQ), device=dev)
    cases = {
        "convnet": (convnet(kerastorch).to(dev), convnet_floor().to(dev),
                    convnet(keras) if keras else None,
                    images, images.movedim(-1, 1).contiguous()),
        "lstm": (lstm_model(kerastorch).to(dev), LSTMFloor().to(dev),
                 lstm_model(keras) if keras else None, tokens, tokens),
    }
    print(f"{'model':<10}{'floor s':>10}{'kerastorch s':>14}{'keras s':>10}{'kt/floor':>10}"
          f"{'keras/floor':>13}")
    for name, (ours, floor, ref, x, x_floor) in cases.items():
        floor.train()
        run_torch(floor, x_floor, 2)
        run_ours(ours, x, 2)
        if ref is not None:
            run_keras(ref, x, 2)
        times = {"floor": [], "ours": [], "keras": []}
        for _ in range(args.repeats):
            times["floor"].append(timed(lambda: run_torch(floor, x_floor, args.steps)))
            times["ours"].append(timed(lambda: run_ours(ours, x, args.steps)))
            if ref is not None:
                times["keras"].append(timed(lambda: run_keras(ref, x, args.steps)))
        med = {k: statistics.median(v) / args.steps for k, v in times.items() if v}
        kr = med.get("keras")
        keras_s = f"{kr:.4f}" if kr else "-"
        keras_ratio = f"{kr / med['floor']:.3f}" if kr else "-"
        print(f"{name:<10}{med['floor']:>10.4f}{med['ours']:>14.4f}{keras_s:>10}"
              f"{med['ours'] / med['floor']:>10.3f}{keras_ratio:>13}")


if __name__ == "__main__":
    main()
