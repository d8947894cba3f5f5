"""The `.keras` archive, the Keras weights layout and the file-name dispatch, checked by hand
(no Keras needed); conformance with real Keras is in conformance/test_saving_keras.py."""

import json
import os
import shutil
import zipfile

import h5py
import numpy as np
import pytest
import torch

import kerastorch as kt

X = np.random.default_rng(0).normal(size=(3, 5, 4)).astype("float32")


def _model():
    model = kt.Sequential([kt.Input((5, 4)), kt.layers.LSTM(3, return_sequences=True),
                           kt.layers.Bidirectional(kt.layers.GRU(2)),
                           kt.layers.Dense(2, name="head")])
    model.compile(optimizer=kt.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    return model


def _out(model):
    with torch.no_grad():
        return model(torch.from_numpy(X)).numpy()


def test_archive_members_config_and_metadata(tmp_path):
    model = _model()
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        assert sorted(zf.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
        config = json.loads(zf.read("config.json"))
        metadata = json.loads(zf.read("metadata.json"))
    assert set(metadata) >= {"keras_version", "date_saved"}
    assert metadata["keras_version"].startswith("3.")
    assert config["module"] == "keras" and config["class_name"] == "Sequential"
    assert config["registered_name"] is None
    assert config["build_config"] == {"input_shape": [None, 5, 4]}
    compile_config = config["compile_config"]
    assert compile_config["loss"] == "mse" and compile_config["metrics"] == ["mae"]
    assert compile_config["optimizer"]["class_name"] == "Adam"
    assert compile_config["optimizer"]["module"] == "keras.optimizers"
    assert compile_config["optimizer"]["config"]["learning_rate"] == pytest.approx(0.01)


def test_weights_layout_is_keras(tmp_path):
    model = _model()
    model.fit(X, np.zeros((3, 2), "float32"), epochs=1, verbose=0)
    model.save_weights(tmp_path / "m.weights.h5")
    shapes = {}
    with h5py.File(tmp_path / "m.weights.h5") as f:
        f.visititems(lambda n, o: shapes.update({n: o.shape})
                     if isinstance(o, h5py.Dataset) else None)
        assert f["layers/dense/vars"].attrs["name"] == "head"  # paths by class, not name
    expected = {
        "layers/lstm/cell/vars/0": (4, 12), "layers/lstm/cell/vars/1": (3, 12),
        "layers/lstm/cell/vars/2": (12,),
        "layers/bidirectional/forward_layer/cell/vars/0": (3, 6),
        "layers/bidirectional/forward_layer/cell/vars/1": (2, 6),
        "layers/bidirectional/forward_layer/cell/vars/2": (2, 6),
        "layers/bidirectional/backward_layer/cell/vars/0": (3, 6),
        "layers/bidirectional/backward_layer/cell/vars/1": (2, 6),
        "layers/bidirectional/backward_layer/cell/vars/2": (2, 6),
        "layers/dense/vars/0": (4, 2), "layers/dense/vars/1": (2,),
        "optimizer/vars/0": (), "optimizer/vars/1": (),
    }
    for path, shape in expected.items():
        assert shapes.pop(path) == shape, path
    # the rest: Adam's m and v per trainable variable, in Keras' order
    assert sorted(shapes) == [f"optimizer/vars/{i}" for i in sorted(range(2, 2 + 2 * 11), key=str)]
    with h5py.File(tmp_path / "m.weights.h5") as f:
        assert int(f["optimizer/vars/0"][()]) == 1
        np.testing.assert_allclose(f["layers/dense/vars/0"][()], model.layers[-1].get_weights()[0])


def test_keras_round_trip_restores_compile_and_optimizer(tmp_path):
    model = _model()
    y = np.random.default_rng(1).normal(size=(3, 2)).astype("float32")
    model.fit(X, y, epochs=2, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = kt.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(_out(loaded), _out(model), rtol=1e-6)
    assert loaded.compiled and loaded.optimizer.iterations == 2
    model.fit(X, y, epochs=1, verbose=0)
    loaded.fit(X, y, epochs=1, verbose=0)
    np.testing.assert_allclose(_out(loaded), _out(model), rtol=1e-5, atol=1e-6)
    plain = kt.saving.load_model(tmp_path / "m.keras", compile=False)
    assert not plain.compiled


@pytest.mark.parametrize("name", ["m.weights.h5", "m.keras", "m.h5", "m.pt"])
def test_load_weights_from_every_format(tmp_path, name):
    src = _model()
    if name.endswith(("weights.h5", ".pt")):
        src.save_weights(tmp_path / name)
    else:
        src.save(tmp_path / name)
    dst = _model()
    dst.load_weights(tmp_path / name)
    np.testing.assert_allclose(_out(dst), _out(src), rtol=1e-6)


@pytest.mark.parametrize("name", ["m.keras", "m.h5", "m.pt"])
def test_load_model_every_format_and_by_content(tmp_path, name):
    model = _model()
    model.save(tmp_path / name)
    np.testing.assert_allclose(_out(kt.models.load_model(tmp_path / name)), _out(model),
                               rtol=1e-6)
    shutil.copy(tmp_path / name, tmp_path / "no_suffix")
    np.testing.assert_allclose(_out(kt.saving.load_model(tmp_path / "no_suffix")), _out(model),
                               rtol=1e-6)
    os.remove(tmp_path / "no_suffix")


def test_bad_suffixes_are_explained(tmp_path):
    model = _model()
    with pytest.raises(ValueError, match=r"\.keras.*Received: filepath="):
        model.save(tmp_path / "m.txt")
    with pytest.raises(ValueError, match=r"must end in `\.weights\.h5`"):
        model.save_weights(tmp_path / "m.h5")
    with pytest.raises(FileNotFoundError, match="nope.keras"):
        kt.models.load_model(tmp_path / "nope.keras")


def test_subclassed_model_weights_by_attribute(tmp_path):
    class Net(kt.Model):
        def __init__(self):
            super().__init__()
            self.encoder = kt.layers.Dense(4)
            self.blocks = torch.nn.ModuleList([kt.layers.Dense(4), kt.layers.Dense(2)])

        def call(self, x):
            x = self.encoder(x)
            for block in self.blocks:
                x = block(x)
            return x

    net, other = Net(), Net()
    x = torch.ones(2, 3)
    net(x), other(x)
    net.save_weights(tmp_path / "n.weights.h5")
    with h5py.File(tmp_path / "n.weights.h5") as f:
        assert {"encoder", "blocks"} <= set(f)
        assert set(f["blocks"]) == {"dense", "dense_1"}
    other.load_weights(tmp_path / "n.weights.h5")
    np.testing.assert_allclose(other(x).detach().numpy(), net(x).detach().numpy())
