"""Small models shared by the PyTorch-out tests (to_torch, to_source, the convert CLI)."""

import os
import subprocess
import sys

import torch

import kerastorch as keras
from kerastorch import layers as L

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def mlp():
    return keras.Sequential([keras.Input((6,)), L.Dense(8, activation="relu"), L.Dropout(0.3),
                             L.Dense(4, activation="softmax")], name="mlp")


def convnet():
    return keras.Sequential([
        keras.Input((9, 9, 3)),
        L.Conv2D(4, 3, strides=2, padding="same", activation="relu"),  # asymmetric same pad
        L.BatchNormalization(),
        L.MaxPooling2D(2, padding="same"),
        L.Conv2D(5, 2),
        L.AveragePooling2D(2, strides=1),
        L.Dropout(0.2),
        L.Flatten(),
        L.Dense(3, activation="softmax"),
    ], name="convnet")


def lstm():
    return keras.Sequential([keras.Input((5, 4)), L.LSTM(6, return_sequences=True), L.GRU(3),
                             L.Dense(2)], name="recurrent")


def functional():
    a = keras.Input((4,), name="numbers")
    b = keras.Input((6, 6, 2), name="image")
    h = L.Dense(5, activation="tanh")(a)
    g = L.Conv2D(3, 3, padding="same", activation="relu")(b)
    g = L.GlobalAveragePooling2D()(g)
    c = L.Concatenate()([h, g])
    o = L.Dense(2, activation="sigmoid", name="prob")(c)
    return keras.Model([a, b], o, name="two_inputs")


BUILDERS = {"mlp": mlp, "convnet": convnet, "lstm": lstm, "functional": functional}


def inputs(kind, n=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    if kind == "mlp":
        return [torch.randn(n, 6, generator=g)]
    if kind == "convnet":
        return [torch.randn(n, 9, 9, 3, generator=g)]
    if kind == "lstm":
        return [torch.randn(n, 5, 4, generator=g)]
    return [torch.randn(n, 4, generator=g), torch.randn(n, 6, 6, 2, generator=g)]


def build(kind):
    """The model with non-trivial BatchNorm statistics (so inference mode matters)."""
    keras.utils.set_random_seed(0)
    model = BUILDERS[kind]()
    with torch.no_grad():
        for module in model.modules():
            if getattr(module, "running_var", None) is not None:
                module.running_var.uniform_(0.5, 2.0)
                module.running_mean.normal_()
    return model


def predict(model, xs):
    with torch.no_grad():
        return model(xs[0] if len(xs) == 1 else xs)


def run_fresh(script, cwd):
    """Run `script` in a new interpreter that must not import kerastorch (asserted at exit)."""
    code = script + "\nimport sys\nassert not any(m == 'kerastorch' or m.startswith(" \
                    "'kerastorch.') for m in sys.modules), 'kerastorch was imported'\n"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout
