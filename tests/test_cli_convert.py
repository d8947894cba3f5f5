"""`python -m kerastorch convert IN OUT` and `summary FILE`."""

import os
import subprocess
import sys

import pytest
import torch

from kerastorch.__main__ import main

from export_models import ROOT, build, inputs, predict, run_fresh


def _trained(kind="convnet"):
    model = build(kind)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    xs = inputs(kind, n=8)
    y = torch.nn.functional.one_hot(torch.arange(8) % 3, 3).float()
    model.fit(xs[0], y, epochs=1, batch_size=4, verbose=0)
    return model


@pytest.mark.parametrize("saved", ["model.keras", "model.h5", "model.pt"])
def test_convert_to_state_dict_and_source_reproduces_predictions(tmp_path, saved):
    """Issue 6: a trained model saved by kerastorch converts to a torch state dict and to
    PyTorch source; in a fresh process that never imports kerastorch, the state dict loaded
    with `weights_only=True` into the generated module gives the model's predictions."""
    model = _trained()
    model.save(tmp_path / saved)
    assert main(["convert", str(tmp_path / saved), str(tmp_path / "weights.pt")]) == 0
    assert main(["convert", str(tmp_path / saved), str(tmp_path / "net.py")]) == 0
    x = inputs("convnet", seed=3)
    torch.save({"x": x, "y": predict(model, x)}, tmp_path / "io.pt")
    run_fresh("""
import sys, torch, net
module = net.Model()
module.load_state_dict(torch.load("weights.pt", weights_only=True))
module.eval()
io = torch.load("io.pt", weights_only=True)
with torch.no_grad():
    torch.testing.assert_close(module(*io["x"]), io["y"], rtol=1e-5, atol=1e-6)
assert "kerastorch" not in sys.modules
""", cwd=tmp_path)


def test_convert_keras_written_file_from_the_shell(keras3, tmp_path):
    """A model trained and saved by Keras 3 itself, converted by `python -m kerastorch`."""
    import numpy as np
    rng = np.random.default_rng(0)
    theirs = keras3.Sequential([keras3.Input((6,)), keras3.layers.Dense(5, activation="relu"),
                                keras3.layers.Dense(3, activation="softmax")])
    theirs.compile(optimizer="adam", loss="categorical_crossentropy")
    x = rng.normal(size=(16, 6)).astype("float32")
    theirs.fit(x, np.eye(3, dtype="float32")[rng.integers(0, 3, 16)], epochs=1, verbose=0)
    theirs.save(tmp_path / "model.keras")
    env = {**os.environ, "PYTHONPATH": ROOT}
    for out in ("model.pt", "net.py"):
        result = subprocess.run([sys.executable, "-m", "kerastorch", "convert",
                                 str(tmp_path / "model.keras"), str(tmp_path / out)],
                                capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
        assert result.returncode == 0, result.stderr
    torch.save({"x": torch.from_numpy(x), "y": torch.from_numpy(np.array(theirs(x)))},
               tmp_path / "io.pt")
    run_fresh("""
import torch, net
module = net.Model()
module.load_state_dict(torch.load("model.pt", weights_only=True))
module.eval()
io = torch.load("io.pt", weights_only=True)
with torch.no_grad():
    torch.testing.assert_close(module(io["x"]), io["y"], rtol=1e-5, atol=1e-6)
""", cwd=tmp_path)


def test_summary_prints_the_model(tmp_path, capsys):
    build("convnet").save(tmp_path / "model.keras")
    assert main(["summary", str(tmp_path / "model.keras")]) == 0
    out = capsys.readouterr().out
    assert "Total params" in out and "Conv2D" in out


@pytest.mark.parametrize("args, message", [
    (["convert", "{tmp}/missing.keras", "{tmp}/out.pt"], "no such file"),
    (["convert", "{tmp}/model.txt", "{tmp}/out.pt"], "must end in one of .keras, .h5, .pt"),
    (["convert", "{tmp}/model.pt", "{tmp}/out.onnx"], "must end in one of .pt, .keras, .py"),
    (["convert", "{tmp}/model.pt", "{tmp}/model.pt"], "is the input file"),
    (["convert", "{tmp}/model.pt", "{tmp}/nowhere/out.pt"], "does not exist"),
    (["summary", "{tmp}/missing.h5"], "no such file"),
])
def test_bad_arguments_exit_2_and_write_nothing(tmp_path, capsys, args, message):
    (tmp_path / "model.txt").write_text("x")
    build("mlp").save(tmp_path / "model.pt")
    before = sorted(os.listdir(tmp_path))
    assert main([a.format(tmp=tmp_path) for a in args]) == 2
    assert message in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == before


def test_exit_status_from_the_command_line(tmp_path):
    env = {**os.environ, "PYTHONPATH": ROOT}
    result = subprocess.run([sys.executable, "-m", "kerastorch", "convert",
                             str(tmp_path / "nope.keras"), str(tmp_path / "out.pt")],
                            capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert result.returncode == 2
    assert "no such file" in result.stderr
    assert os.listdir(tmp_path) == []
