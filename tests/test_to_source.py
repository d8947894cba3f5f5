"""`kerastorch.export.to_source`: standalone torch source of the model and, for a compiled model,
of Keras' training loop (loss, optimizer, metrics, fit)."""

import copy

import numpy as np
import pytest
import torch

import kerastorch as keras
from kerastorch import layers as L
from kerastorch.export import Unsupported, to_source

from export_models import BUILDERS, build, inputs, predict, run_fresh


def _load(source):
    namespace = {"__name__": "generated"}
    exec(compile(source, "<generated>", "exec"), namespace)
    return namespace


def test_source_runs_without_kerastorch_and_reproduces_predictions(tmp_path):
    kinds = list(BUILDERS)
    for kind in kinds:
        model = build(kind)
        to_source(model, tmp_path / f"{kind}_model.py")
        torch.save(model.state_dict(), tmp_path / f"{kind}.pt")
        xs = inputs(kind)
        torch.save({"x": xs, "y": predict(model, xs)}, tmp_path / f"{kind}_io.pt")
    run_fresh(f"""
import importlib, torch
for kind in {kinds!r}:
    module = importlib.import_module(kind + "_model")
    net = module.Model()
    net.load_state_dict(torch.load(kind + ".pt", weights_only=True))
    net.eval()
    io = torch.load(kind + "_io.pt", weights_only=True)
    with torch.no_grad():
        torch.testing.assert_close(net(*io["x"]), io["y"], rtol=1e-5, atol=1e-6)
""", cwd=tmp_path)


def test_source_reads_one_line_per_layer():
    model = build("mlp")
    source = to_source(model)
    code = source.split('"""', 2)[2]  # after the module docstring
    assert "kerastorch" not in code.replace("kerastorch.export", "")
    forward = source.split("def forward")[1].split("return")[0].strip().splitlines()[1:]
    assert len(forward) == len(model.layers)
    for line, layer in zip(forward, model.layers):
        assert f"# {layer.name}" in line
    assert f"self.{model.layers[0].name} = nn.Linear(6, 8)" in source


def test_to_source_writes_the_file(tmp_path):
    model = build("lstm")
    path = tmp_path / "net.py"
    source = to_source(model, path)
    assert path.read_text() == source
    assert "requires_grad_(False)" in source  # Keras' LSTM has one bias


def _copy_and_fit(kind, compile_kwargs, shuffle, epochs=1, batch_size=4, n=10):
    model = build(kind)
    xs = inputs(kind, n=n, seed=1)
    out = predict(model, xs)
    g = torch.Generator().manual_seed(2)
    if compile_kwargs["loss"] in ("sparse_categorical_crossentropy",):
        y = torch.randint(0, out.shape[-1], (n,), generator=g)
    elif "categorical" in str(compile_kwargs["loss"]):
        y = torch.nn.functional.one_hot(torch.randint(0, out.shape[-1], (n,), generator=g),
                                        out.shape[-1]).float()
    elif "binary" in str(compile_kwargs["loss"]):
        y = torch.randint(0, 2, out.shape, generator=g).float()
    else:
        y = torch.randn(out.shape, generator=g)
    model.compile(**compile_kwargs)
    namespace = _load(to_source(model, include_training=True))
    net = namespace["Model"]()
    net.load_state_dict(copy.deepcopy(model.state_dict()))
    torch.manual_seed(5)
    history = model.fit(xs[0] if len(xs) == 1 else xs, y, epochs=epochs, batch_size=batch_size,
                        shuffle=shuffle, verbose=0).history
    torch.manual_seed(5)
    ours = namespace["fit"](net, xs if len(xs) > 1 else xs[0], y, epochs=epochs,
                            batch_size=batch_size, shuffle=shuffle)
    return model, net, history, ours


TRAINING = {  # builders: optimizers and losses are stateful, one per test
    "mlp-adam-cce": ("mlp", lambda: dict(optimizer="adam", loss="categorical_crossentropy",
                                         metrics=["accuracy"])),
    "mlp-sgd-nesterov-sparse": ("mlp", lambda: dict(
        optimizer=keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
        loss="sparse_categorical_crossentropy", metrics=["accuracy"])),
    "mlp-rmsprop-centered-smoothing": ("mlp", lambda: dict(
        optimizer=keras.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
        metrics=["categorical_accuracy"])),
    "mlp-adamw-clipnorm-mse": ("mlp", lambda: dict(
        optimizer=keras.optimizers.AdamW(0.01, weight_decay=0.1, clipnorm=0.5), loss="mse",
        metrics=["mae"])),
    "lstm-adam-mse": ("lstm", lambda: dict(optimizer="adam", loss="mse")),
    "functional-sgd-globalclip-bce": ("functional", lambda: dict(
        optimizer=keras.optimizers.SGD(0.05, global_clipnorm=1.0),
        loss=keras.losses.BinaryCrossentropy(), metrics=["accuracy"])),
    "convnet-rmsprop-cce": ("convnet", lambda: dict(optimizer="rmsprop",
                                                    loss="categorical_crossentropy",
                                                    metrics=["accuracy"])),
}


@pytest.mark.parametrize("case", list(TRAINING))
@pytest.mark.parametrize("shuffle", [False, True])
def test_generated_fit_matches_keras_fit(case, shuffle):
    """Two epochs from the same weights, with the same batches (torch.manual_seed before each
    fit: the same permutations, and the same Dropout masks): same history, same weights."""
    kind, make = TRAINING[case]
    model, net, history, ours = _copy_and_fit(kind, make(), shuffle, epochs=2)
    assert sorted(ours) == sorted(history)
    for key in history:
        np.testing.assert_allclose(ours[key], history[key], rtol=2e-5, atol=1e-6, err_msg=key)
    mine, theirs = net.state_dict(), model.state_dict()
    assert list(mine) == list(theirs)
    for key in theirs:
        if key.endswith("running_var"):
            continue  # torch updates it with the unbiased batch variance, Keras the biased one
        torch.testing.assert_close(mine[key].float(), theirs[key].float(), rtol=2e-5,
                                   atol=2e-6, msg=key)


def test_generated_loss_equals_keras3(keras3, rng):
    cases = [("categorical_crossentropy", {}), ("categorical_crossentropy",
                                               {"from_logits": True, "label_smoothing": 0.2}),
             ("sparse_categorical_crossentropy", {}),
             ("sparse_categorical_crossentropy", {"from_logits": True}),
             ("binary_crossentropy", {"label_smoothing": 0.1}),
             ("binary_crossentropy", {"from_logits": True}),
             ("mse", {}), ("mae", {})]
    classes = {"categorical_crossentropy": "CategoricalCrossentropy",
               "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
               "binary_crossentropy": "BinaryCrossentropy", "mse": "MeanSquaredError",
               "mae": "MeanAbsoluteError"}
    for name, kwargs in cases:
        model = keras.Sequential([keras.Input((3,)), L.Dense(4)])
        loss = getattr(keras.losses, classes[name])(**kwargs)
        model.compile(optimizer="sgd", loss=loss)
        loss_fn = _load(to_source(model))["loss_fn"]
        logits = rng.normal(size=(5, 4)).astype("float32")
        probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
        probs[0] = [1.0, 0.0, 0.0, 0.0]  # exercises Keras' clip to [1e-7, 1 - 1e-7]
        y_pred = logits if kwargs.get("from_logits") or name in ("mse", "mae") else probs
        if name.startswith("sparse"):
            y_true = rng.integers(0, 4, size=(5,))
            y_true[0] = 1
        elif name.startswith("binary"):
            y_true = rng.integers(0, 2, size=(5, 4)).astype("float32")
            if not kwargs.get("from_logits"):
                y_pred = 1 / (1 + np.exp(-logits))
                y_pred[0, 0] = 1.0
        else:
            y_true = np.eye(4, dtype="float32")[rng.integers(0, 4, size=5)]
        ref = getattr(keras3.losses, classes[name])(**kwargs)(y_true, y_pred)
        ours = loss_fn(torch.as_tensor(y_true), torch.as_tensor(y_pred))
        np.testing.assert_allclose(float(ours), float(ref), rtol=1e-5, err_msg=f"{name}{kwargs}")


def test_untranslated_training_pieces_are_named():
    model = build("mlp")
    model.compile(optimizer="adam", loss=keras.losses.MeanSquaredError(reduction="sum"))
    source = to_source(model)
    assert "# No training loop:" in source
    with pytest.raises(Unsupported, match="loss"):
        to_source(model, include_training=True)
    plain = build("mlp")
    assert "def fit" not in to_source(plain)
    with pytest.raises(Unsupported, match="not compiled"):
        to_source(plain, include_training=True)


def test_layer_names_that_are_not_python_names():
    a = keras.Input((3,), name="in-put")
    hidden = L.Dense(2, name="lambda")(a)
    model = keras.Model(a, L.Dense(1, name="2x")(hidden))
    source = to_source(model)
    assert "self.add_module('lambda', nn.Linear(3, 2))" in source
    net = _load(source)["Model"]()
    net.load_state_dict(model.state_dict())
    x = torch.randn(4, 3)
    torch.testing.assert_close(net(x), predict(model, [x]))
