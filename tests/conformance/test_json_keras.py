"""Model JSON against Keras 3 on JAX: Keras' `to_json()` loads in kerastorch and kerastorch's
loads in Keras, with the same layer names, output shapes, parameter counts and (weights copied
with set_weights) predictions; layer configs have Keras' keys and values."""

import json

import numpy as np
import pytest

import kerastorch
from kerastorch import saving

pytestmark = pytest.mark.conformance


def mlp(lib):
    L = lib.layers
    return lib.Sequential([lib.Input(shape=(4, 5)), L.Flatten(), L.Dense(8, activation="relu"),
                           L.Dropout(0.3), L.Reshape((2, 4)), L.Activation("tanh"),
                           L.Flatten(), L.Dense(3, activation="softmax")], name="mlp")


def two_in_two_out(lib):
    L = lib.layers
    a, b = lib.Input(shape=(4,), name="in_a"), lib.Input(shape=(3,), name="in_b")
    shared = L.Dense(5, activation="tanh", name="shared")
    ha = shared(L.Dense(5, activation="relu", name="pre_a")(a))
    hb = shared(L.Dense(5, name="pre_b")(b))
    return lib.Model([a, b], [L.Dense(3, activation="softmax", name="out1")(ha),
                              L.Dense(1, name="out2")(hb)], name="two")


def nested(lib):
    L = lib.layers
    inner = lib.Sequential([lib.Input(shape=(6,)), L.Dense(5, activation="relu", name="i1"),
                            L.Dense(4, name="i2")], name="inner")
    x = lib.Input(shape=(6,), name="x")
    h = L.Dropout(0.2, name="drop")(inner(x))
    return lib.Model(x, L.Dense(2, activation="sigmoid", name="head")(h), name="outer")


def nested_functional(lib):
    L = lib.layers
    i = lib.Input(shape=(3,), name="ii")
    inner = lib.Model(i, L.Dense(2, name="d")(i), name="innerf")
    a = lib.Input(shape=(3,), name="a")
    h = inner(a)
    return lib.Model(a, [h, L.Dense(1, name="o")(h)], name="outerf")


from test_functional_keras import branches, resnet_block  # noqa: E402

BUILDERS = [mlp, two_in_two_out, nested, nested_functional, branches, resnet_block]


def _shape_list(shapes):
    if isinstance(shapes, list) or (shapes and isinstance(shapes[0], (tuple, list))):
        return [tuple(s) for s in shapes]
    return [tuple(shapes)]


def _inputs(model, rng, n=6):
    flat = [rng.normal(size=(n, *s[1:])).astype("float32")
            for s in _shape_list(model.input_shape)]
    return flat[0] if len(flat) == 1 else flat


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _shapes(model):
    return _shape_list(model.output_shape)


def _compare(source, loaded, rng):
    """`loaded` (the other library) matches `source`: names, shapes, counts, predictions."""
    assert [lyr.name for lyr in loaded.layers] == [lyr.name for lyr in source.layers]
    assert _shapes(loaded) == _shapes(source)
    assert loaded.count_params() == source.count_params()
    for a, b in zip(loaded.layers, source.layers):
        assert a.count_params() == b.count_params(), a.name
    weights = [w + rng.normal(scale=0.1, size=w.shape).astype(w.dtype)
               for w in source.get_weights()]
    source.set_weights(weights)
    loaded.set_weights(weights)
    x = _inputs(source, rng)
    for got, want in zip(_as_list(loaded.predict(x, verbose=0)),
                         _as_list(source.predict(x, verbose=0))):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("build", BUILDERS)
def test_keras_json_loads_in_kerastorch(keras3, build, rng):
    ref = build(keras3)
    ours = kerastorch.models.model_from_json(ref.to_json())
    assert type(ours).__name__ in ("Sequential", "Functional")
    _compare(ref, ours, rng)


def test_recorded_training_false_does_not_freeze_dropout(keras3):
    config = json.loads(nested(keras3).to_json())
    drop = next(e for e in config["config"]["layers"] if e["name"] == "drop")
    # Keras records `training: false` for such calls (what it records can depend on Keras'
    # global call context left by earlier tests, so set it here rather than assert it).
    drop["inbound_nodes"][0]["kwargs"] = {"training": False}
    ours = kerastorch.models.model_from_json(json.dumps(config))
    assert ours.get_config()["layers"][2]["inbound_nodes"][0]["kwargs"] == {}
    x = np.ones((64, 6), "float32")
    ours.get_layer("drop").rate = 0.9
    assert not np.allclose(ours(x, training=True).detach().numpy(),
                           ours(x, training=False).detach().numpy())


@pytest.mark.parametrize("build", BUILDERS)
def test_kerastorch_json_loads_in_keras(keras3, build, rng):
    ours = build(kerastorch)
    ref = keras3.models.model_from_json(ours.to_json())
    _compare(ours, ref, rng)


def _normalised(config):
    """Drop what legitimately differs: per-layer build_config of layers that kerastorch builds
    at construction (Keras writes one for Flatten), and the `mask: null` / `training: false`
    call kwargs Keras records for calls that did not pass them."""
    if isinstance(config, dict):
        out = {k: _normalised(v) for k, v in config.items()}
        if "inbound_nodes" in out or out.get("class_name") not in ("Sequential", "Functional"):
            out.pop("build_config", None)
        if isinstance(out.get("kwargs"), dict):
            out["kwargs"] = {k: v for k, v in out["kwargs"].items()
                             if k not in ("mask", "training") or v}
        return out
    if isinstance(config, list):
        return [_normalised(v) for v in config]
    return config


@pytest.mark.parametrize("build", BUILDERS)
def test_same_json_as_keras(keras3, build):
    ours, ref = json.loads(build(kerastorch).to_json()), json.loads(build(keras3).to_json())
    if build is mlp:  # auto names differ between the two processes' counters
        for layer in ours["config"]["layers"] + ref["config"]["layers"]:
            layer["config"]["name"] = layer["class_name"]
    if build is nested:
        for entry in (ours, ref):
            inner = entry["config"]["layers"][1]["config"]["layers"][0]
            inner["config"]["name"] = "input"
    assert _normalised(ours) == _normalised(ref)


LAYER_CASES = [
    ("Dense", (3,), {"activation": "relu", "use_bias": False}),
    ("Dense", (3,), {"kernel_initializer": "he_normal", "bias_initializer": "ones"}),
    ("Dropout", (0.25,), {"noise_shape": (None, 1), "seed": 3}),
    ("Flatten", (), {}),
    ("Flatten", (), {"data_format": "channels_first"}),
    ("Reshape", ((2, -1),), {}),
    ("Activation", ("softmax",), {}),
    ("InputLayer", (), {"shape": (3, 4)}),
]


@pytest.mark.parametrize("cls,args,kwargs", LAYER_CASES)
def test_layer_config_matches_keras(keras3, cls, args, kwargs):
    ref = getattr(keras3.layers, cls)(*args, name="x", **kwargs)
    ours = getattr(kerastorch.layers, cls)(*args, name="x", **kwargs)
    want = json.loads(json.dumps(keras3.saving.serialize_keras_object(ref)))
    got = json.loads(json.dumps(saving.serialize_keras_object(ours)))
    assert set(got["config"]) == set(want["config"])
    assert got == want
    # and each side's config builds the other's layer
    back = saving.deserialize_keras_object(want)
    assert type(back).__name__ == cls and back.get_config().keys() == ours.get_config().keys()
    assert type(keras3.saving.deserialize_keras_object(got)).__name__ == cls


def test_registered_custom_layer_between_libraries(keras3, rng):
    def scale_class(lib, register):
        @register(package="Conf", name="Scale")
        class Scale(lib.layers.Layer):
            def __init__(self, factor=2.0, **kwargs):
                super().__init__(**kwargs)
                self.factor = factor

            def call(self, x):
                return x * self.factor

            def compute_output_shape(self, input_shape):
                return input_shape

            def get_config(self):
                return {**super().get_config(), "factor": self.factor}
        return Scale

    ours_cls = scale_class(kerastorch, saving.register_keras_serializable)
    ref_cls = scale_class(keras3, keras3.saving.register_keras_serializable)

    def build(lib, cls):
        x = lib.Input(shape=(3,), name="x")
        return lib.Model(x, cls(3.0, name="scale")(lib.layers.Dense(2, name="d")(x)), name="m")

    ours = kerastorch.models.model_from_json(build(keras3, ref_cls).to_json())
    assert type(ours.get_layer("scale")) is ours_cls and ours.get_layer("scale").factor == 3.0
    _compare(build(keras3, ref_cls), ours, rng)
    ref = keras3.models.model_from_json(build(kerastorch, ours_cls).to_json())
    assert type(ref.get_layer("scale")) is ref_cls
    _compare(build(kerastorch, ours_cls), ref, rng)


def test_keras_lambda_layer_refused_in_safe_mode(keras3):
    model = keras3.Sequential([keras3.Input(shape=(3,)), keras3.layers.Lambda(lambda x: x + 1)])
    with pytest.raises(ValueError, match="safe_mode=False"):
        kerastorch.models.model_from_json(model.to_json())
