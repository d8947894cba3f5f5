"""Keras' saving hooks on user classes, both ways through `.keras` files: `save_own_variables`/
`load_own_variables`, `save_assets`/`load_assets`, `get_build_config`/`build_from_config`,
`get_compile_config`/`compile_from_config`, a subclassed model reloaded built and compiled, and
registered custom objects."""

import os

import numpy as np
import pytest

import kerastorch

pytestmark = pytest.mark.conformance


def _classes(lib, package):
    register = lib.saving.register_keras_serializable

    @register(package=package)
    def shifted_relu(x):
        return lib.ops.relu(x - 0.5)

    @register(package=package)
    class Scaler(lib.layers.Layer):
        """A weight, an extra array saved beside it, a vocabulary asset, a custom build
        config."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.extra = None
            self.vocabulary = []

        def build(self, input_shape):
            self.features = input_shape[-1]
            self.scale = self.add_weight(shape=(self.features,), initializer="ones",
                                         name="scale")

        def call(self, inputs):
            return inputs * self.scale

        def get_build_config(self):
            return {"features": self.features}

        def build_from_config(self, config):
            self.build((None, config["features"]))

        def save_own_variables(self, store):
            store["0"] = np.asarray(lib.ops.convert_to_numpy(self.scale))
            store["extra"] = np.asarray(self.extra)

        def load_own_variables(self, store):
            self.set_weights([store["0"]])
            self.extra = np.asarray(store["extra"])

        def save_assets(self, dir_path):
            with open(os.path.join(dir_path, "vocabulary.txt"), "w") as f:
                f.write("\n".join(self.vocabulary))

        def load_assets(self, dir_path):
            with open(os.path.join(dir_path, "vocabulary.txt")) as f:
                self.vocabulary = f.read().split("\n")

    @register(package=package)
    class Tiny(lib.Model):
        def __init__(self, units=2, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.dense = lib.layers.Dense(units, activation=shifted_relu)

        def call(self, inputs):
            return self.dense(inputs)

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    return Scaler, Tiny


def _functional(lib, Scaler):
    inputs = lib.Input((4,), name="x")
    scaled = Scaler(name="scaler")(inputs)
    model = lib.Model(inputs, lib.layers.Dense(2, name="head")(scaled))
    model.compile(optimizer=lib.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    return model


@pytest.mark.parametrize("direction", ["keras_to_kerastorch", "kerastorch_to_keras"])
def test_saving_hooks_both_ways(keras3, tmp_path, direction):
    writer, reader = (keras3, kerastorch) if direction == "keras_to_kerastorch" else \
        (kerastorch, keras3)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 4)).astype("float32")
    y = rng.normal(size=(8, 2)).astype("float32")
    package = f"hooks_{direction}"
    scaler_w, tiny_w = _classes(writer, package)
    scaler_r, tiny_r = _classes(reader, package)

    model = _functional(writer, scaler_w)
    model.set_weights([w + 0.25 for w in model.get_weights()])
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    layer = model.get_layer("scaler")
    layer.extra = np.array([3.0, 1.0, 4.0], "float32")
    layer.vocabulary = ["a", "b", "[UNK]"]
    model.save(tmp_path / "functional.keras")

    tiny = tiny_w(units=3, name="tiny")
    tiny.compile(optimizer="sgd", loss="mae")
    tiny.fit(x, rng.normal(size=(8, 3)).astype("float32"), batch_size=4, verbose=0)
    tiny.save(tmp_path / "tiny.keras")

    custom = {"Scaler": scaler_r, "Tiny": tiny_r}
    loaded = reader.saving.load_model(tmp_path / "functional.keras", custom_objects=custom)
    got = loaded.get_layer("scaler")
    assert isinstance(got, scaler_r) and got.built and got.features == 4
    np.testing.assert_array_equal(got.extra, [3.0, 1.0, 4.0])
    assert got.vocabulary == ["a", "b", "[UNK]"]
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-6)
    assert loaded.get_compile_config()["loss"] == "mse"
    assert loaded.optimizer.__class__.__name__ == "Adam"
    # the optimizer state came along: one more step moves both alike
    loaded.fit(x, y, batch_size=8, verbose=0, shuffle=False)
    model.fit(x, y, batch_size=8, verbose=0, shuffle=False)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)

    back = reader.saving.load_model(tmp_path / "tiny.keras", custom_objects=custom)
    assert isinstance(back, tiny_r) and back.built and back.units == 3
    np.testing.assert_allclose(back.predict(x, verbose=0), tiny.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-6)
    assert back.compiled if reader is kerastorch else back.optimizer is not None
    assert back.get_compile_config()["loss"] == "mae"


def test_registered_objects_resolve_in_every_loader(keras3, tmp_path):
    """`register_keras_serializable(package=..., name=...)` on a layer, an activation and a
    loss: written as Keras writes them, and found by `model_from_json`, `clone_model`,
    `Model.from_config` and `load_model` (a file from the other library too)."""
    x = np.ones((2, 3), "float32")
    configs, outputs = [], []
    for lib in (keras3, kerastorch):
        register = lib.saving.register_keras_serializable

        @register(package="reg", name="Twice")
        class Twice(lib.layers.Layer):
            def call(self, inputs):
                return 2 * inputs

        @register(package="reg")
        def reg_act(v):
            return lib.ops.tanh(v) * 2

        @register(package="reg")
        def reg_loss(y_true, y_pred):
            return lib.ops.mean(lib.ops.abs(y_true - y_pred))

        inputs = lib.Input((3,))
        dense = lib.layers.Dense(2, activation=reg_act, kernel_initializer="ones", name="d")
        model = lib.Model(inputs, dense(Twice(name="twice")(inputs)))
        model.compile("sgd", reg_loss)
        configs.append((dense.get_config()["activation"],
                        lib.saving.serialize_keras_object(reg_loss),
                        lib.saving.get_registered_name(Twice)))
        copies = [lib.models.model_from_json(model.to_json()), lib.models.clone_model(model),
                  lib.Model.from_config(model.get_config())]
        model.save(tmp_path / f"{lib.__name__}.keras")
        other = "kerastorch" if lib is keras3 else "keras"
        if lib is kerastorch:  # both files exist now: each library reads the other's
            copies.append(lib.saving.load_model(tmp_path / f"{other}.keras"))
            copies.append(keras3.saving.load_model(tmp_path / "kerastorch.keras"))
        outputs.append([(keras3 if isinstance(m, keras3.Model) else kerastorch).ops
                        .convert_to_numpy(m(x)) for m in copies])
        assert [type(m.get_layer("twice")).__name__ for m in copies] == ["Twice"] * len(copies)
    assert configs[1] == configs[0]
    expected = np.full((2, 2), 2 * np.tanh(6.0), "float32")
    for got in outputs[0] + outputs[1]:
        np.testing.assert_allclose(got, expected, rtol=1e-6)
