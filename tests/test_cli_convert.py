"""`python -m kerastorch convert IN OUT` and `summary FILE`."""

import os
import subprocess
import sys

import pytest
import torch

import kerastorch
from kerastorch.__main__ import main

from export_models import ROOT, build, inputs, predict, run_fresh


def _trained(kind="convnet"):
    model = build(kind)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    xs = inputs(kind, n=8)
    y = torch.nn.functional.one_hot(torch.arange(8) % 3, 3).float()
    model.fit(xs[0], y, epochs=1, batch_size=4, verbose=0)
    return model


@pytest.fixture
def fake_load_model(monkeypatch):
    """Stands in for `kerastorch.saving.load_model` (another branch): rebuilds the architecture
    and reads the weights file written by `save_weights`."""
    calls = []
    model = build("convnet")  # one architecture: layer names as the saved file would keep them

    def load_model(path):
        calls.append(path)
        model.load_weights(path)
        return model

    monkeypatch.setattr(kerastorch.saving, "load_model", load_model, raising=False)
    return calls


def test_convert_to_state_dict_and_source_reproduces_predictions(tmp_path, fake_load_model):
    model = _trained()
    model.save_weights(tmp_path / "model.pt")
    assert main(["convert", str(tmp_path / "model.pt"), str(tmp_path / "weights.pt")]) == 0
    assert main(["convert", str(tmp_path / "model.pt"), str(tmp_path / "net.py")]) == 0
    assert fake_load_model == [str(tmp_path / "model.pt")] * 2
    x = inputs("convnet", seed=3)
    torch.save({"x": x, "y": predict(model, x)}, tmp_path / "io.pt")
    run_fresh("""
import torch, net
module = net.Model()
module.load_state_dict(torch.load("weights.pt", weights_only=True))
module.eval()
io = torch.load("io.pt", weights_only=True)
with torch.no_grad():
    torch.testing.assert_close(module(*io["x"]), io["y"], rtol=1e-5, atol=1e-6)
""", cwd=tmp_path)


def test_summary_prints_the_model(tmp_path, fake_load_model, capsys):
    build("convnet").save_weights(tmp_path / "model.pt")
    assert main(["summary", str(tmp_path / "model.pt")]) == 0
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
def test_bad_arguments_exit_2_and_write_nothing(tmp_path, capsys, fake_load_model, args,
                                                 message):
    (tmp_path / "model.txt").write_text("x")
    build("mlp").save_weights(tmp_path / "model.pt")
    before = sorted(os.listdir(tmp_path))
    assert main([a.format(tmp=tmp_path) for a in args]) == 2
    assert message in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == before
    assert fake_load_model == []


def test_exit_status_from_the_command_line(tmp_path):
    env = {**os.environ, "PYTHONPATH": ROOT}
    result = subprocess.run([sys.executable, "-m", "kerastorch", "convert",
                             str(tmp_path / "nope.keras"), str(tmp_path / "out.pt")],
                            capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert result.returncode == 2
    assert "no such file" in result.stderr
    assert os.listdir(tmp_path) == []


def test_convert_a_keras_file(tmp_path):
    model = _trained()
    model.save(tmp_path / "model.keras")
    assert main(["convert", str(tmp_path / "model.keras"), str(tmp_path / "w.pt")]) == 0
    state = torch.load(tmp_path / "w.pt", weights_only=True)
    assert list(state) == list(model.state_dict())
