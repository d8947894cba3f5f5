"""Core layers and one epoch of `fit` against Keras 3 on JAX, with weights copied by set_weights."""

import re

import numpy as np
import pytest
import torch

import kerastorch
from kerastorch import layers

pytestmark = pytest.mark.conformance


def _np(t):
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def _perturbed(weights, rng):
    return [w + rng.normal(scale=0.1, size=w.shape).astype(w.dtype) for w in weights]


@pytest.mark.parametrize("make", [
    lambda L: L.Dense(4),
    lambda L: L.Dense(5, activation="tanh", use_bias=False),
    lambda L: L.Dense(3, activation="softmax"),
    lambda L: L.Flatten(),
    lambda L: L.Activation("relu"),
    lambda L: L.Activation("sigmoid"),
    lambda L: L.Reshape((6, 2)),
    lambda L: L.Reshape((-1, 3)),
], ids=["dense", "dense_tanh_nobias", "dense_softmax", "flatten", "relu", "sigmoid",
        "reshape", "reshape_minus1"])
def test_layer_outputs_match(keras3, rng, make):
    x = rng.normal(size=(5, 3, 4)).astype("float32")
    ref, ours = make(keras3.layers), make(layers)
    expected = keras3.ops.convert_to_numpy(ref(x))
    ours(torch.from_numpy(x))
    if ref.weights:
        weights = _perturbed(ref.get_weights(), rng)
        ref.set_weights(weights)
        ours.set_weights(weights)
        expected = keras3.ops.convert_to_numpy(ref(x))
        for a, b in zip(ours.get_weights(), ref.get_weights()):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(_np(ours(torch.from_numpy(x))), expected, rtol=1e-5, atol=1e-5)
    assert ours.count_params() == ref.count_params()


def _mlp(lib, optimizer, seed=1):
    model = lib.Sequential([lib.Input(shape=(20,)), lib.layers.Dense(16, activation="relu"),
                            lib.layers.Dense(4, activation="softmax")])
    model.compile(optimizer=optimizer, loss="categorical_crossentropy",
                  metrics=["accuracy"])
    return model


OPTIMIZERS = {
    "sgd": lambda o: o.SGD(learning_rate=0.05),
    "sgd_nesterov": lambda o: o.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
    "adam": lambda o: o.Adam(learning_rate=0.01),
    "adamw": lambda o: o.AdamW(learning_rate=0.01),
    "rmsprop": lambda o: o.RMSprop(learning_rate=0.01),
    "rmsprop_momentum_centered": lambda o: o.RMSprop(learning_rate=0.01, momentum=0.5,
                                                     centered=True),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_one_epoch_fit_matches_keras(keras3, rng, name):
    x = rng.normal(size=(100, 20)).astype("float32")
    y = np.eye(4, dtype="float32")[rng.integers(0, 4, 100)]
    ref = _mlp(keras3, OPTIMIZERS[name](keras3.optimizers))
    ours = _mlp(kerastorch, OPTIMIZERS[name](kerastorch.optimizers))
    ours.set_weights(ref.get_weights())
    h_ref = ref.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0,
                    validation_split=0.2)
    h_ours = ours.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0,
                      validation_split=0.2)
    for a, b in zip(ours.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert list(h_ours.history) == list(h_ref.history)
    for key in h_ref.history:
        np.testing.assert_allclose(h_ours.history[key], h_ref.history[key], rtol=1e-4,
                                   atol=1e-5, err_msg=key)
    assert h_ours.epoch == h_ref.epoch == [0]


def test_evaluate_and_predict_match_keras(keras3, rng):
    x = rng.normal(size=(50, 20)).astype("float32")
    labels = rng.integers(0, 4, 50)
    y = np.eye(4, dtype="float32")[labels]
    ref = _mlp(keras3, "adam")
    ours = _mlp(kerastorch, "adam")
    ours.set_weights(_perturbed(ref.get_weights(), rng))
    ref.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours.predict(x, verbose=0), ref.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.evaluate(x, y, verbose=0), ref.evaluate(x, y, verbose=0),
                               rtol=1e-5, atol=1e-6)
    assert ours.evaluate(x, y, verbose=0, return_dict=True).keys() == \
        ref.evaluate(x, y, verbose=0, return_dict=True).keys()


@pytest.mark.parametrize("loss,metric,sparse", [
    ("sparse_categorical_crossentropy", "accuracy", True),
    ("mse", "mae", False),
    ("mae", "categorical_accuracy", False),
])
def test_fit_history_other_losses(keras3, rng, loss, metric, sparse):
    x = rng.normal(size=(64, 20)).astype("float32")
    labels = rng.integers(0, 4, 64)
    y = labels if sparse else np.eye(4, dtype="float32")[labels]

    def build(lib):
        m = lib.Sequential([lib.Input(shape=(20,)), lib.layers.Dense(4, activation="softmax")])
        m.compile(optimizer=lib.optimizers.SGD(0.1), loss=loss, metrics=[metric])
        return m

    ref, ours = build(keras3), build(kerastorch)
    ours.set_weights(ref.get_weights())
    h_ref = ref.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    h_ours = ours.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    assert list(h_ours.history) == list(h_ref.history)
    for key in h_ref.history:
        np.testing.assert_allclose(h_ours.history[key], h_ref.history[key], rtol=1e-4,
                                   atol=1e-5, err_msg=key)


def test_summary_rows_and_totals_match_keras(keras3, capsys):
    def build(lib):
        m = lib.Sequential()
        m.add(lib.layers.Flatten(input_shape=(784,)))
        m.add(lib.layers.Dense(128, activation="relu"))
        m.add(lib.layers.Dense(10, activation="softmax"))
        return m

    build(keras3).summary()
    ref = capsys.readouterr().out
    build(kerastorch).summary()
    ours = capsys.readouterr().out
    assert _rows(ours) == _rows(ref)
    assert ours.splitlines()[-3:] == ref.splitlines()[-3:]  # totals, byte for byte


def _rows(text):
    """(type, shape, params) per table row; auto-numbered names differ between processes."""
    rows = []
    for line in text.splitlines():
        if line.startswith("│"):
            cells = [c.strip() for c in line.split("│")[1:-1]]
            rows.append(tuple(re.sub(r"^\w+ ", "", c) if i == 0 else c
                              for i, c in enumerate(cells)))
    return rows
