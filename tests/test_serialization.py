import json

import numpy as np
import pytest
import torch

import kerastorch as keras
from kerastorch import layers, saving
from kerastorch.models import clone_model, model_from_json
from kerastorch.saving import serialization


def mlp():
    return keras.Sequential([keras.Input(shape=(4, 5)), layers.Flatten(),
                             layers.Dense(8, activation="relu"), layers.Dropout(0.3),
                             layers.Reshape((2, 4)), layers.Activation("tanh"), layers.Flatten(),
                             layers.Dense(3)], name="mlp")


def two_in_two_out():
    a, b = keras.Input(shape=(4,), name="in_a"), keras.Input(shape=(3,), name="in_b")
    shared = layers.Dense(5, activation="tanh", name="shared")
    ha = shared(layers.Dense(5, name="pre_a")(a))
    hb = shared(layers.Dense(5, name="pre_b")(b))
    return keras.Model([a, b], [layers.Dense(2, name="out1")(ha),
                                layers.Dense(1, name="out2")(hb)], name="two")


def nested():
    inner = keras.Sequential([keras.Input(shape=(6,)), layers.Dense(5, activation="relu"),
                              layers.Dense(4)], name="inner")
    x = keras.Input(shape=(6,), name="x")
    return keras.Model(x, layers.Dense(2, activation="sigmoid", name="head")(inner(x)),
                       name="outer")


def inputs_for(model, rng, n=3):
    flat = [rng.normal(size=(n, *t.shape[1:])).astype("float32") for t in model.inputs] \
        if hasattr(model, "inputs") else [rng.normal(size=(n, *model.input_shape[1:]))
                                          .astype("float32")]
    return flat[0] if len(flat) == 1 else flat


def assert_same_model(a, b, rng):
    assert [lyr.name for lyr in a.layers] == [lyr.name for lyr in b.layers]
    assert a.count_params() == b.count_params()
    assert a.output_shape == b.output_shape
    b.set_weights(a.get_weights())
    x = inputs_for(a, rng)
    got, want = b.predict(x, verbose=0), a.predict(x, verbose=0)
    for g, w in zip(got if isinstance(got, list) else [got],
                    want if isinstance(want, list) else [want]):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("build", [mlp, two_in_two_out, nested])
def test_json_round_trip(build, rng):
    model = build()
    text = model.to_json()
    loaded = model_from_json(text)
    assert type(loaded) is type(model)
    assert_same_model(model, loaded, rng)
    assert json.loads(loaded.to_json()) == json.loads(text)


def test_sequential_config_structure():
    config = json.loads(mlp().to_json())
    assert config["module"] == "keras" and config["class_name"] == "Sequential"
    assert config["registered_name"] is None and config["compile_config"] == {}
    assert config["build_config"] == {"input_shape": [None, 4, 5]}
    inner = config["config"]
    assert set(inner) == {"name", "trainable", "dtype", "layers", "build_input_shape"}
    first, dense = inner["layers"][0], inner["layers"][2]
    assert first["class_name"] == "InputLayer" and first["config"]["batch_shape"] == [None, 4, 5]
    assert dense["module"] == "keras.layers" and dense["build_config"] == {
        "input_shape": [None, 20]}


def test_sequential_input_shape_argument_and_unbuilt():
    model = keras.Sequential([layers.Dense(3, input_shape=(4,), name="d")])
    config = model.get_config()
    assert config["layers"][0]["config"]["batch_shape"] == (None, 4)
    assert "batch_input_shape" not in config["layers"][1]["config"]
    unbuilt = keras.Sequential([layers.Dense(3)])
    config = json.loads(unbuilt.to_json())
    assert [e["class_name"] for e in config["config"]["layers"]] == ["Dense"]
    assert "build_config" not in config and "build_input_shape" not in config["config"]
    loaded = model_from_json(unbuilt.to_json())
    assert not loaded.built
    assert loaded(torch.ones(2, 7)).shape == (2, 3)


def test_functional_config_structure():
    config = two_in_two_out().get_config()
    assert set(config) == {"name", "trainable", "layers", "input_layers", "output_layers"}
    assert config["input_layers"] == [["in_a", 0, 0], ["in_b", 0, 0]]
    assert config["output_layers"] == [["out1", 0, 0], ["out2", 0, 0]]
    shared = next(e for e in config["layers"] if e["name"] == "shared")
    histories = [n["args"][0]["config"]["keras_history"] for n in shared["inbound_nodes"]]
    assert histories == [["pre_a", 0, 0], ["pre_b", 0, 0]]
    assert shared["inbound_nodes"][0]["args"][0]["class_name"] == "__keras_tensor__"
    top = json.loads(two_in_two_out().to_json())
    assert (top["module"], top["registered_name"]) == ("keras.src.models.functional",
                                                       "Functional")


def test_dict_structures_and_layer_reused_in_sequence(rng):
    x = keras.Input(shape=(4,), name="x")
    twice = layers.Dense(4, name="twice")
    model = keras.Model({"x": x}, {"y": twice(twice(x)), "z": layers.Dense(1, name="z")(x)})
    config = model.get_config()
    assert config["input_layers"] == {"x": ["x", 0, 0]}
    assert config["output_layers"] == {"y": ["twice", 1, 0], "z": ["z", 0, 0]}
    loaded = model_from_json(model.to_json())
    loaded.set_weights(model.get_weights())
    data = {"x": torch.from_numpy(rng.normal(size=(2, 4)).astype("float32"))}
    for key in ("y", "z"):
        torch.testing.assert_close(loaded(data)[key], model(data)[key])


def test_shared_layer_called_outside_the_model_keeps_keras_node_numbering():
    shared = layers.Dense(3, name="sh")
    shared(keras.Input(shape=(3,)))  # node 0, not part of the model
    b = keras.Input(shape=(3,), name="b")
    model = keras.Model(b, layers.Dense(1, name="p")(shared(b)))
    config = model.get_config()
    assert config["layers"][2]["inbound_nodes"][0]["args"][0]["config"]["keras_history"] == \
        ["sh", 0, 0]
    assert len(config["layers"][1]["inbound_nodes"]) == 1
    assert model_from_json(model.to_json()).count_params() == model.count_params()


def test_nested_functional_output_index_quirk(rng):
    i = keras.Input(shape=(3,), name="ii")
    inner = keras.Model(i, layers.Dense(2, name="d")(i), name="innerf")
    a = keras.Input(shape=(3,), name="a")
    h = inner(a)
    model = keras.Model(a, [h, layers.Dense(1, name="o")(h)])
    config = model.get_config()
    assert config["output_layers"] == [["innerf", 1, 0], ["o", 0, 0]]
    assert config["layers"][2]["inbound_nodes"][0]["args"][0]["config"]["keras_history"] == \
        ["innerf", 0, 0]
    assert_same_model(model, model_from_json(model.to_json()), rng)


@saving.register_keras_serializable(package="TestPkg")
class Scale(layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")

    def call(self, x):
        return x * self.w * self.factor

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class Unregistered(Scale):
    pass


def test_registered_custom_layer_round_trips(rng):
    assert saving.get_registered_name(Scale) == "TestPkg>Scale"
    assert saving.get_registered_object("TestPkg>Scale") is Scale
    x = keras.Input(shape=(3,), name="x")
    model = keras.Model(x, Scale(3.0, name="scale")(layers.Dense(3, name="d")(x)))
    entry = model.get_config()["layers"][2]
    assert (entry["class_name"], entry["registered_name"]) == ("Scale", "TestPkg>Scale")
    assert entry["module"] == __name__
    loaded = model_from_json(model.to_json())
    assert isinstance(loaded.get_layer("scale"), Scale)
    assert loaded.get_layer("scale").factor == 3.0
    assert_same_model(model, loaded, rng)


def test_unregistered_class_needs_custom_objects():
    model = keras.Sequential([keras.Input(shape=(2,)), Unregistered(name="u")])
    text = model.to_json()
    with pytest.raises(TypeError, match="register_keras_serializable"):
        model_from_json(text)
    assert isinstance(model_from_json(text, {"Unregistered": Unregistered}).layers[0],
                      Unregistered)
    with saving.custom_object_scope({"Unregistered": Unregistered}):
        assert isinstance(model_from_json(text).layers[0], Unregistered)
    with pytest.raises(TypeError):
        model_from_json(text)


@saving.register_keras_serializable(package="TestPkg")
class Apply(layers.Layer):
    def __init__(self, function, **kwargs):
        super().__init__(**kwargs)
        self.function = function

    def call(self, x):
        return self.function(x)

    def get_config(self):
        return {**super().get_config(),
                "function": saving.serialize_keras_object(self.function)}


def test_lambda_refused_in_safe_mode():
    with pytest.warns(UserWarning, match="lambda"):
        config = saving.serialize_keras_object(Apply(lambda x: x * 2 + 1, name="f"))
    assert config["config"]["function"]["class_name"] == "__lambda__"
    with pytest.raises(ValueError, match="safe_mode=False"):
        saving.deserialize_keras_object(config)
    layer = saving.deserialize_keras_object(config, safe_mode=False)
    torch.testing.assert_close(layer(torch.ones(2)), torch.full((2,), 3.0))
    keras_lambda = {"module": "keras.layers", "class_name": "Lambda", "registered_name": None,
                    "config": {"name": "lambda", "function": {
                        "class_name": "__lambda__",
                        "config": {"code": serialization.func_dump(lambda x: x)[0],
                                   "defaults": None, "closure": None}}}}
    with pytest.raises(ValueError, match="lambda"):
        saving.deserialize_keras_object(keras_lambda)


def test_func_dump_load_closure_and_defaults():
    k = 3

    def f(x, y=2):
        return x * y + k

    g = serialization.func_load(*json.loads(json.dumps(serialization.func_dump(f))))
    assert g(1) == 5 and g(1, 4) == 7


def test_plain_values_tensors_and_functions():
    value = {"a": (1, 2), "t": torch.arange(3.0), "n": np.ones(2), "s": slice(1, None),
             "b": b"hi", "e": ...}
    back = saving.deserialize_keras_object(
        json.loads(json.dumps(saving.serialize_keras_object(value))))
    assert back["a"] == [1, 2] and back["s"] == slice(1, None) and back["b"] == b"hi"
    torch.testing.assert_close(back["t"], torch.arange(3.0))
    np.testing.assert_array_equal(back["n"], np.ones(2))
    assert back["e"] is Ellipsis
    relu = saving.serialize_keras_object(keras.activations.relu)
    assert relu["module"] == "keras.activations" and relu["config"] == "relu"
    assert saving.deserialize_keras_object(relu) is keras.activations.relu
    init = saving.deserialize_keras_object(
        saving.serialize_keras_object(keras.initializers.GlorotUniform(seed=1)))
    assert isinstance(init, keras.initializers.GlorotUniform)


def test_unknown_class_message():
    with pytest.raises(TypeError, match="Could not locate class 'NoSuchLayer'"):
        saving.deserialize_keras_object({"module": "keras.layers", "class_name": "NoSuchLayer",
                                         "config": {}, "registered_name": None})


@pytest.mark.parametrize("build", [mlp, two_in_two_out, nested])
def test_clone_model_new_weights_same_structure(build, rng):
    model = build()
    clone = clone_model(model)
    assert type(clone) is type(model) and clone is not model
    assert [lyr.name for lyr in clone.layers] == [lyr.name for lyr in model.layers]
    assert clone.get_config() == model.get_config()
    assert clone.count_params() == model.count_params()
    assert all(a is not b for a, b in zip(clone.weights, model.weights))
    kernels = [(a, b) for a, b in zip(clone.get_weights(), model.get_weights()) if a.ndim == 2]
    assert kernels and not any(np.array_equal(a, b) for a, b in kernels)
    assert_same_model(model, clone, rng)  # copies the weights: then the same outputs


def test_clone_model_shares_a_shared_layer_once_and_takes_options():
    model = two_in_two_out()
    clone = clone_model(model)
    assert len(clone.get_layer("shared").__dict__["_inbound_nodes"]) == 2
    seen = []

    def clone_function(layer):
        seen.append(layer.name)
        return layer.__class__.from_config(layer.get_config())

    inputs = [keras.Input(shape=(4,), name="new_a"), keras.Input(shape=(3,), name="new_b")]
    other = clone_model(model, input_tensors=inputs, clone_function=clone_function)
    assert [t._keras_history[0].name for t in other.inputs] == ["new_a", "new_b"]
    assert sorted(seen) == ["out1", "out2", "pre_a", "pre_b", "shared"]
    same = clone_model(mlp(), clone_function=lambda layer: layer)
    assert same.layers[1].weight is not None


def test_clone_subclassed_model_through_config():
    @saving.register_keras_serializable(package="TestPkg")
    class Tiny(keras.Model):
        def __init__(self, units=2, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.dense = layers.Dense(units)

        def call(self, x):
            return self.dense(x)

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    clone = clone_model(Tiny(units=3, name="tiny"))
    assert isinstance(clone, Tiny) and clone.units == 3
    with pytest.raises(ValueError, match="only supported"):
        clone_model(Tiny(), clone_function=lambda layer: layer)


def test_plot_model(tmp_path, monkeypatch):
    from kerastorch.utils import model_visualization
    model = two_in_two_out()
    source = model_visualization.model_to_dot_source(model, show_shapes=True,
                                                     show_layer_names=True)
    assert source.count("->") == 6 and "shared (Dense)" in source and "(None, 5)" in source
    keras.utils.plot_model(model, to_file=tmp_path / "m.dot")
    assert (tmp_path / "m.dot").read_text().startswith("digraph")
    monkeypatch.setattr(model_visualization, "_pydot", lambda: None)
    with pytest.raises(ImportError, match="pip install pydot"):
        keras.utils.plot_model(model, to_file=tmp_path / "m.png")
    with pytest.raises(ValueError, match="not yet been built"):
        keras.utils.plot_model(keras.Sequential([layers.Dense(2)]))
