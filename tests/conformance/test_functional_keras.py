"""Functional models against Keras 3 on JAX: same outputs with weights copied by set_weights,
same History after fit(shuffle=False) with per-output losses and loss_weights."""

import numpy as np
import pytest

import kerastorch

pytestmark = pytest.mark.conformance


def two_in_two_out(lib):
    L = lib.layers
    a = lib.Input(shape=(4,), name="in_a")
    b = lib.Input(shape=(3,), name="in_b")
    shared = L.Dense(5, activation="tanh", name="shared")
    ha = shared(L.Dense(5, activation="relu", name="pre_a")(a))
    hb = shared(L.Dense(5, name="pre_b")(b))
    out1 = L.Dense(3, activation="softmax", name="out1")(ha)
    out2 = L.Dense(1, name="out2")(hb)
    return lib.Model([a, b], [out1, out2], name="two")


def nested(lib):
    L = lib.layers
    inner = lib.Sequential([lib.Input(shape=(6,)), L.Dense(5, activation="relu"),
                            L.Dense(4)], name="inner")
    inp = lib.Input(shape=(6,))
    out = L.Dense(2, activation="sigmoid")(inner(inp))
    return lib.Model(inp, out)


def data(rng, n=32):
    xa = rng.normal(size=(n, 4)).astype("float32")
    xb = rng.normal(size=(n, 3)).astype("float32")
    y1 = np.eye(3, dtype="float32")[rng.integers(0, 3, n)]
    y2 = rng.normal(size=(n, 1)).astype("float32")
    return [xa, xb], [y1, y2]


def _copy(ref, ours, rng):
    weights = [w + rng.normal(scale=0.1, size=w.shape).astype(w.dtype)
               for w in ref.get_weights()]
    ref.set_weights(weights)
    ours.set_weights(weights)


def test_two_inputs_two_outputs_shared_layer(keras3, rng):
    ref, ours = two_in_two_out(keras3), two_in_two_out(kerastorch)
    _copy(ref, ours, rng)
    x, _ = data(rng)
    for got, want in zip(ours.predict(x, verbose=0), ref.predict(x, verbose=0)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert ours.count_params() == ref.count_params()


@pytest.mark.parametrize("loss_weights", [None, [1.0, 0.5], {"out1": 2.0, "out2": 0.25}])
def test_history_with_per_output_losses(keras3, rng, loss_weights):
    ref, ours = two_in_two_out(keras3), two_in_two_out(kerastorch)
    _copy(ref, ours, rng)
    x, y = data(rng)
    for model, lib in ((ref, keras3), (ours, kerastorch)):
        model.compile(optimizer=lib.optimizers.SGD(0.05),
                      loss={"out1": "categorical_crossentropy", "out2": "mse"},
                      loss_weights=loss_weights,
                      metrics={"out1": ["accuracy"], "out2": ["mae"]})
    h_ref = ref.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    h_ours = ours.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    assert sorted(h_ours.history) == sorted(h_ref.history)
    for key in h_ref.history:
        np.testing.assert_allclose(h_ours.history[key], h_ref.history[key], rtol=1e-4,
                                   atol=1e-5, err_msg=key)
    for a, b in zip(ours.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_nested_sequential(keras3, rng):
    ref, ours = nested(keras3), nested(kerastorch)
    _copy(ref, ours, rng)
    x = rng.normal(size=(10, 6)).astype("float32")
    np.testing.assert_allclose(ours.predict(x, verbose=0), ref.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-5)
    y = (rng.random((10, 2)) > 0.5).astype("float32")
    for model, lib in ((ref, keras3), (ours, kerastorch)):
        model.compile(optimizer=lib.optimizers.Adam(0.01), loss="binary_crossentropy",
                      metrics=["accuracy"])
    h_ref = ref.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    h_ours = ours.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    for key in h_ref.history:
        np.testing.assert_allclose(h_ours.history[key], h_ref.history[key], rtol=1e-4,
                                   atol=1e-5, err_msg=key)


def branches(lib):
    L = lib.layers
    inp = lib.Input(shape=(8,), name="x")
    a = L.Dense(6, activation="relu", name="branch_a")(inp)
    b = L.Dense(6, activation="tanh", name="branch_b")(inp)
    added = L.Add(name="sum")([a, b])
    joined = L.Concatenate(name="join")([added, a, inp])
    out = L.Dense(3, activation="softmax", name="head")(joined)
    return lib.Model(inp, out, name="branches")


def resnet_block(lib):
    L = lib.layers
    inp = lib.Input(shape=(8, 8, 3), name="image")
    stem = L.Conv2D(8, 3, padding="same", name="stem")(inp)
    h = L.Conv2D(8, 3, padding="same", name="conv_a")(stem)
    h = L.BatchNormalization(name="bn_a")(h)
    h = L.Activation("relu", name="relu_a")(h)
    h = L.Conv2D(8, 3, padding="same", name="conv_b")(h)
    h = L.BatchNormalization(name="bn_b")(h)
    h = L.Add(name="skip")([h, stem])
    h = L.Activation("relu", name="relu_out")(h)
    h = L.GlobalAveragePooling2D(name="gap")(h)
    out = L.Dense(2, activation="softmax", name="head")(h)
    return lib.Model(inp, out, name="resnet_block")


@pytest.mark.parametrize("build,shape,classes", [(branches, (8,), 3),
                                                 (resnet_block, (8, 8, 3), 2)],
                         ids=["concat_add_branches", "resnet_block"])
def test_branches_and_resnet_block(keras3, rng, build, shape, classes):
    ref, ours = build(keras3), build(kerastorch)
    assert [lyr.name for lyr in ours.layers] == [lyr.name for lyr in ref.layers]
    _copy(ref, ours, rng)
    x = rng.normal(size=(24, *shape)).astype("float32")
    y = np.eye(classes, dtype="float32")[rng.integers(0, classes, 24)]
    np.testing.assert_allclose(ours.predict(x, verbose=0), ref.predict(x, verbose=0),
                               rtol=1e-4, atol=1e-5)
    for model, lib in ((ref, keras3), (ours, kerastorch)):
        # SGD, not Adam: a conv bias followed by BatchNormalization has a zero gradient up to
        # float noise, which Adam would scale up to full steps in both frameworks differently.
        model.compile(optimizer=lib.optimizers.SGD(0.05, momentum=0.9),
                      loss="categorical_crossentropy", metrics=["accuracy"])
    h_ref = ref.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    h_ours = ours.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    assert list(h_ours.history) == list(h_ref.history)
    for key in h_ref.history:
        np.testing.assert_allclose(h_ours.history[key], h_ref.history[key], rtol=1e-4,
                                   atol=1e-4, err_msg=key)
    for a, b in zip(ours.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)
