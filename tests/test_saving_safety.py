"""Hostile and broken files are refused with errors naming the file and the problem; nothing
from them runs; an interrupted save leaves the previous file intact."""

import io
import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import pytest
import torch

import kerastorch as kt
from kerastorch.saving.file_safety import SavedFileError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _model():
    return kt.Sequential([kt.Input((4,)), kt.layers.Dense(3), kt.layers.Dense(2)])


def _x():
    return torch.from_numpy(np.random.default_rng(0).normal(size=(3, 4)).astype("float32"))


class _Evil:
    """Unpickling this would create `path` (a stand-in for arbitrary code)."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.parametrize("kind", ["model", "state_dict", "checkpoint"])
def test_pickle_payload_in_pt_is_refused_and_not_run(tmp_path, kind):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    payload = {"format": "kerastorch.model", "config": "{}", "state_dict": {},
               "x": _Evil(str(marker))}
    torch.save(payload if kind != "state_dict" else {"w": _Evil(str(marker))}, path)
    model = _model()
    with pytest.raises(SavedFileError, match=r"evil\.pt.*(refused|weights_only)"):
        if kind == "model":
            kt.models.load_model(path)
        elif kind == "state_dict":
            model.load_weights(path)
        else:
            kt.saving.load_checkpoint(path)
    assert not marker.exists()


def test_keras_file_with_lambda_needs_safe_mode_off(tmp_path):
    model = kt.Sequential([kt.Input((4,)), kt.layers.Lambda(lambda t: t * 2.0)])
    model.save(tmp_path / "lam.keras")
    with pytest.raises(ValueError, match="safe_mode=False"):
        kt.models.load_model(tmp_path / "lam.keras")
    loaded = kt.models.load_model(tmp_path / "lam.keras", safe_mode=False)
    np.testing.assert_allclose(loaded(_x()).numpy(), _x().numpy() * 2.0)


def test_keras_file_with_unregistered_custom_layer_is_refused(tmp_path):
    class Scale(kt.layers.Layer):
        def call(self, x):
            return x * 3.0

    model = kt.Sequential([kt.Input((4,)), Scale()])
    model.save(tmp_path / "custom.keras")
    with pytest.raises(TypeError, match="Could not locate class 'Scale'"):
        kt.models.load_model(tmp_path / "custom.keras")
    loaded = kt.models.load_model(tmp_path / "custom.keras", custom_objects={"Scale": Scale})
    np.testing.assert_allclose(loaded(_x()).numpy(), _x().numpy() * 3.0)


@pytest.mark.parametrize("member", ["../escape.txt", "/etc/absolute.txt", "a/../../up.txt"])
def test_zip_with_unsafe_member_paths_is_refused(tmp_path, member):
    path = tmp_path / "bad.keras"
    _model().save(path)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr(member, "x")
    with pytest.raises(SavedFileError, match="unsafe path"):
        kt.models.load_model(path)
    with pytest.raises(SavedFileError, match="unsafe path"):
        _model().load_weights(path)
    assert not (tmp_path.parent / "escape.txt").exists()


@pytest.mark.parametrize("name,writer", [
    ("m.keras", lambda m, p: m.save(p)),
    ("m.h5", lambda m, p: m.save(p)),
    ("m.weights.h5", lambda m, p: m.save_weights(p)),
    ("m.pt", lambda m, p: m.save(p)),
])
def test_truncated_files_name_the_file(tmp_path, name, writer):
    path = tmp_path / name
    writer(_model(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(SavedFileError, match=name.replace(".", r"\.")):
        if name.endswith("weights.h5"):
            _model().load_weights(path)
        else:
            kt.models.load_model(path)


def test_garbage_bytes_name_the_file(tmp_path):
    for name in ("junk.keras", "junk.h5", "junk.pt", "junk.weights.h5"):
        path = tmp_path / name
        path.write_bytes(b"not a model at all" * 10)
        with pytest.raises(SavedFileError, match=name.replace(".", r"\.")):
            if name.endswith("weights.h5"):
                _model().load_weights(path)
            else:
                kt.models.load_model(path)


def _rewrite_weights(path, edit):
    """Copy the .keras archive at `path` with `edit(h5py.File)` applied to its weights."""
    import h5py
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    buf = io.BytesIO(members["model.weights.h5"])
    with h5py.File(buf, "a") as f:
        edit(f)
    members["model.weights.h5"] = buf.getvalue()
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)


@pytest.mark.parametrize("edit,message", [
    (lambda f: (f["layers/dense/vars"].__delitem__("0"),
                f["layers/dense/vars"].move("1", "0")),
     r"Layer 'dense\w*' expected 2 variables, but received 1"),
    (lambda f: (f["layers/dense_1/vars"].__delitem__("0"),
                f["layers/dense_1/vars"].create_dataset("0", data=np.zeros((5, 2)))),
     r"variable 'kernel' has shape \(5, 2\) in the file but \(3, 2\)"),
    (lambda f: f["layers"].__delitem__("dense_1"),
     r"Layer 'dense\w*' expected 2 variables, but received 0"),
])
def test_keras_file_whose_weights_do_not_fit_is_refused(tmp_path, edit, message):
    path = tmp_path / "m.keras"
    model = _model()
    model.save(path)
    _rewrite_weights(path, edit)
    with pytest.raises(SavedFileError, match=message):
        kt.models.load_model(path)
    # nothing changed in a model that fails to load weights
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(SavedFileError, match=message):
        model.load_weights(path)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_skip_mismatch_loads_what_fits(tmp_path):
    path = tmp_path / "m.weights.h5"
    src = kt.Sequential([kt.Input((4,)), kt.layers.Dense(3), kt.layers.Dense(5)])
    src.save_weights(path)
    dst = _model()
    with pytest.warns(UserWarning, match="could not be loaded"):
        dst.load_weights(path, skip_mismatch=True)
    np.testing.assert_array_equal(dst.layers[0].get_weights()[0], src.layers[0].get_weights()[0])


_KILLED_SAVE = textwrap.dedent("""
    import sys, time, zipfile
    sys.path.insert(0, {root!r})
    import kerastorch as kt
    model = kt.Sequential([kt.Input((4,)), kt.layers.Dense(64), kt.layers.Dense(2)])
    path = {path!r}
    real = zipfile.ZipFile.writestr
    def slow(self, name, data, *a, **k):  # a huge save: stuck mid-write
        real(self, name, data, *a, **k)
        self.fp.flush()
        print("WRITING", flush=True)
        time.sleep(60)
    zipfile.ZipFile.writestr = slow
    model.save(path)
""")


def test_killed_save_leaves_previous_file_intact(tmp_path):
    path = tmp_path / "m.keras"
    good = _model()
    good.save(path)
    expected = good(_x()).detach().numpy()
    script = _KILLED_SAVE.format(root=ROOT, path=str(path))
    env = {**os.environ, "KERASTORCH_DEVICE": "cpu"}
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=env)
    try:
        line = proc.stdout.readline()
        assert b"WRITING" in line
        time.sleep(0.1)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    loaded = kt.models.load_model(path)
    np.testing.assert_allclose(loaded(_x()).detach().numpy(), expected, rtol=1e-6)


def test_failed_save_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "m.pt"
    model = _model()
    model.save(path)
    before = path.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.pt"]


def test_overwrite_false_refuses(tmp_path):
    path = tmp_path / "m.keras"
    _model().save(path)
    with pytest.raises(FileExistsError):
        _model().save(path, overwrite=False)


def test_config_json_not_json_is_named(tmp_path):
    path = tmp_path / "m.keras"
    _model().save(path)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["config.json"] = b"{not json"
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    with pytest.raises(SavedFileError, match=r"m\.keras.*config\.json.*not valid JSON"):
        kt.models.load_model(path)
