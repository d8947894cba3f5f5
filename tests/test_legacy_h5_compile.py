"""Legacy `.h5` files in kerastorch alone: the `training_config` layout Keras 3 reads
(`keras/src/legacy/saving/saving_utils.py`), compile arguments and optimizer state round trips,
Keras' legacy weight order (trainable, then non-trainable) and chunked name attributes."""

import json

import h5py
import numpy as np
import pytest
import torch

import kerastorch as kt


def _two_outputs():
    i = kt.Input((3,))
    h = kt.layers.Dense(4, activation="tanh", name="h")(i)
    return kt.Model(i, [kt.layers.Dense(1, name="a")(h), kt.layers.Dense(2, name="b")(h)])


def _data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(8, 3)).astype("float32")
    return x, [rng.normal(size=(8, 1)).astype("float32"), rng.normal(size=(8, 2)).astype("float32")]


def _attrs(path):
    with h5py.File(path, "r") as f:
        training = f.attrs.get("training_config")
        names = (list(f["optimizer_weights"].attrs["weight_names"])
                 if "optimizer_weights" in f else None)
        return (json.loads(training) if training is not None else None), names


def _predict(model, x):
    with torch.no_grad():
        out = model(x)
    return [o.numpy() for o in out] if isinstance(out, (list, tuple)) else out.numpy()


def test_training_config_is_keras_layout(tmp_path):
    model = _two_outputs()
    model.compile(optimizer=kt.optimizers.SGD(0.05, momentum=0.9),
                  loss={"a": kt.losses.MeanSquaredError(), "b": "mse"},
                  loss_weights={"a": 1.0, "b": 0.5},
                  metrics={"a": ["mae"], "b": ["accuracy"]})
    model.save(tmp_path / "m.h5")
    training, names = _attrs(tmp_path / "m.h5")
    # Loss objects as {"class_name", "config"} (no module); aliases by their function's name,
    # which Keras 3 can read back ("mse" it cannot)
    assert training["loss"] == {"a": {"class_name": "MeanSquaredError",
                                      "config": {"name": "mean_squared_error",
                                                 "reduction": "sum_over_batch_size"}},
                                "b": "mean_squared_error"}
    assert training["loss_weights"] == {"a": 1.0, "b": 0.5}
    assert training["metrics"] == {"a": ["mae"], "b": ["accuracy"]}
    assert training["weighted_metrics"] is None
    assert training["optimizer_config"]["class_name"] == "SGD"
    assert training["optimizer_config"]["config"]["momentum"] == 0.9
    assert training["optimizer_config"]["config"]["learning_rate"] == 0.05
    assert "optimizer" not in training
    # not built yet: iterations and learning rate, as Keras' optimizer variables
    prefix = model.optimizer.name.encode()
    assert names == [prefix + b"/iteration", prefix + b"/learning_rate"]


@pytest.mark.parametrize("compiled,include", [(False, True), (True, False)])
def test_no_training_config(tmp_path, compiled, include):
    model = _two_outputs()
    if compiled:
        model.compile(optimizer="adam", loss="mse")
    model.save(tmp_path / "m.h5", include_optimizer=include)
    assert _attrs(tmp_path / "m.h5") == (None, None)
    back = kt.models.load_model(tmp_path / "m.h5")
    assert not back.compiled


def test_compiled_round_trip_continues_training(tmp_path):
    x, y = _data()
    model = _two_outputs()
    model.compile(optimizer=kt.optimizers.Adam(0.01, amsgrad=True), loss=["mse", "mae"],
                  loss_weights=[1.0, 0.25], metrics=[["mae"], ["mse"]])
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    model.save(tmp_path / "m.h5")
    _, names = _attrs(tmp_path / "m.h5")
    # iterations, learning rate, then per variable Adam's momentum, velocity, velocity_hat
    assert len(names) == 2 + 3 * len(model.trainable_weights)
    back = kt.models.load_model(tmp_path / "m.h5")
    assert type(back.optimizer) is kt.optimizers.Adam
    got, want = back.optimizer.get_config(), model.optimizer.get_config()
    assert got.pop("learning_rate") == pytest.approx(want.pop("learning_rate"))  # float32
    assert got == want
    assert back.optimizer.iterations == 2
    assert back._compile_loss.loss_weights == [1.0, 0.25]
    before = back.evaluate(x, y, verbose=0, return_dict=True)
    assert sorted(before) == ["a_loss", "a_mean_absolute_error", "b_loss",
                              "b_mean_squared_error", "loss"]  # as Keras reads "mae", "mse"
    expected = model.evaluate(x, y, verbose=0, return_dict=True)
    assert before["loss"] == pytest.approx(expected["loss"], rel=1e-6)
    assert before["a_mean_absolute_error"] == pytest.approx(expected["a_mae"], rel=1e-6)
    # the moments came along: one more epoch on each gives the same weights
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    back.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    for got, want in zip(back.get_weights(), model.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_compile_false_and_unreadable_training_config(tmp_path):
    model = _two_outputs()
    model.compile(optimizer="adam", loss="mse")
    model.save(tmp_path / "m.h5")
    assert not kt.models.load_model(tmp_path / "m.h5", compile=False).compiled
    with h5py.File(tmp_path / "m.h5", "a") as f:
        training = json.loads(f.attrs["training_config"])
        training["loss"] = "no_such_loss"
        f.attrs["training_config"] = json.dumps(training)
    with pytest.warns(UserWarning, match="compile\\(\\) was not called"):
        back = kt.models.load_model(tmp_path / "m.h5")
    assert not back.compiled
    np.testing.assert_allclose(back.get_weights()[0], model.get_weights()[0])


def _nested():
    inner = kt.Sequential([kt.Input((4,)), kt.layers.Dense(5), kt.layers.BatchNormalization(),
                           kt.layers.Dense(3)], name="inner")
    frozen = kt.layers.Dense(2, name="frozen")
    model = kt.Sequential([kt.Input((4,)), inner, frozen])
    frozen.trainable = False
    return model


def test_legacy_weight_order_trainable_then_non_trainable(tmp_path):
    model = _nested()
    rng = np.random.default_rng(1)
    model.set_weights([rng.uniform(0.2, 1.0, size=w.shape).astype(w.dtype)
                       for w in model.get_weights()])
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r") as f:
        group = f["model_weights/inner"]
        shapes = [group[n].shape for n in group.attrs["weight_names"]]
        saved = [group[n][()] for n in group.attrs["weight_names"]]
    # kernel, bias, gamma, beta, kernel, bias (trainable), then moving mean and variance
    assert shapes == [(4, 5), (5,), (5,), (5,), (5, 3), (3,), (5,), (5,)]
    inner = model.get_weights()[:8]  # get_weights(): the moving statistics come before Dense 2
    np.testing.assert_array_equal(saved[6], inner[4])
    np.testing.assert_array_equal(saved[4], inner[6])
    x = rng.normal(size=(2, 4)).astype("float32")
    back = kt.models.load_model(tmp_path / "m.h5")
    np.testing.assert_allclose(_predict(back, x), _predict(model, x), rtol=1e-6)
    fresh = _nested()
    fresh.load_weights(tmp_path / "m.h5")
    np.testing.assert_allclose(_predict(fresh, x), _predict(model, x), rtol=1e-6)


def test_chunked_name_attributes(tmp_path):
    """Keras splits `layer_names`/`weight_names` over `layer_names0`, `layer_names1`, ... when
    they pass the HDF5 header limit; both are read."""
    model = kt.Sequential([kt.Input((3,)), kt.layers.Dense(4), kt.layers.Dense(2)])
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "a") as f:
        group = f["model_weights"]
        names = list(group.attrs["layer_names"])
        del group.attrs["layer_names"]
        group.attrs["layer_names0"] = np.array(names[:1])
        group.attrs["layer_names1"] = np.array(names[1:])
    back = kt.models.load_model(tmp_path / "m.h5")
    for got, want in zip(back.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, want)


def test_optimizer_weights_of_another_layout_are_skipped(tmp_path):
    """A tf.keras optimizer layout (another variable count) warns and starts fresh, as Keras."""
    x, y = _data()
    model = _two_outputs()
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "a") as f:
        group = f["optimizer_weights"]
        group.attrs["weight_names"] = group.attrs["weight_names"][1:]
    with pytest.warns(UserWarning, match="Skipping variable loading for optimizer"):
        back = kt.models.load_model(tmp_path / "m.h5")
    assert back.compiled and back.optimizer.iterations == 0


def test_learning_rate_schedule(tmp_path):
    """With a schedule the learning rate is no optimizer variable (Keras): iterations, then
    the slots; the schedule's config travels in `optimizer_config`."""
    x, y = _data()
    model = kt.Sequential([kt.Input((3,)), kt.layers.Dense(1)])
    schedule = kt.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    model.compile(optimizer=kt.optimizers.Adam(schedule), loss="mse")
    model.fit(x, y[0], batch_size=4, epochs=1, shuffle=False, verbose=0)
    model.save(tmp_path / "m.h5")
    training, names = _attrs(tmp_path / "m.h5")
    assert training["optimizer_config"]["config"]["learning_rate"]["class_name"] == \
        "ExponentialDecay"
    prefix = model.optimizer.name.encode()
    assert names == [prefix + n for n in (b"/iteration", b"/0_kernel_momentum",
                                          b"/0_kernel_velocity", b"/1_bias_momentum",
                                          b"/1_bias_velocity")]
    back = kt.models.load_model(tmp_path / "m.h5")
    assert back.optimizer.get_config() == model.optimizer.get_config()
    assert back.optimizer.iterations == 2
    model.fit(x, y[0], batch_size=4, epochs=1, shuffle=False, verbose=0)
    back.fit(x, y[0], batch_size=4, epochs=1, shuffle=False, verbose=0)
    for got, want in zip(back.get_weights(), model.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


@kt.saving.register_keras_serializable(package="LegacyTest")
def scaled_mse(y_true, y_pred):
    return 2.0 * torch.mean(torch.square(y_true - y_pred), dim=-1)


@kt.saving.register_keras_serializable(package="LegacyTest")
class ScaledMAE(kt.losses.Loss):
    def __init__(self, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, y_true, y_pred):
        return self.scale * torch.mean(torch.abs(y_true - y_pred), dim=-1)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


def test_registered_custom_losses(tmp_path):
    """Custom objects by their registered names, as Keras writes them."""
    x, y = _data()
    model = _two_outputs()
    model.compile(optimizer="sgd", loss=[scaled_mse, ScaledMAE(scale=3.0)])
    model.save(tmp_path / "m.h5")
    training, _ = _attrs(tmp_path / "m.h5")
    assert training["loss"][0] == "LegacyTest>scaled_mse"
    assert training["loss"][1]["class_name"] == "LegacyTest>ScaledMAE"
    assert training["loss"][1]["config"]["scale"] == 3.0
    back = kt.models.load_model(tmp_path / "m.h5")
    got = back.evaluate(x, y, verbose=0, return_dict=True)
    want = model.evaluate(x, y, verbose=0, return_dict=True)
    assert got == pytest.approx(want, rel=1e-6)
    a, b = _predict(model, x)
    assert want["a_loss"] == pytest.approx(2.0 * np.mean((y[0] - a) ** 2), rel=1e-5)
    assert want["b_loss"] == pytest.approx(3.0 * np.mean(np.abs(y[1] - b)), rel=1e-5)
