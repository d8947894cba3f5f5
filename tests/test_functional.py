import numpy as np
import pytest
import torch

import kerastorch as keras
from kerastorch import layers


def two_in_two_out():
    a = keras.Input(shape=(4,), name="in_a")
    b = keras.Input(shape=(3,), name="in_b")
    shared = layers.Dense(5, name="shared")
    ha = shared(layers.Dense(5, activation="relu", name="pre_a")(a))
    hb = shared(layers.Dense(5, name="pre_b")(b))
    out1 = layers.Dense(2, name="out1")(ha)
    out2 = layers.Dense(1, name="out2")(hb)
    return keras.Model([a, b], [out1, out2], name="two")


def test_symbolic_shapes_and_layers():
    inp = keras.Input(shape=(6,))
    assert inp.shape == (None, 6)
    h = layers.Dense(3)(inp)
    assert h.shape == (None, 3)
    assert layers.Reshape((3, 1))(h).shape == (None, 3, 1)
    model = two_in_two_out()
    assert [lyr.name for lyr in model.layers] == ["in_a", "in_b", "pre_a", "shared", "out1",
                                                   "pre_b", "out2"] or \
        {lyr.name for lyr in model.layers} == {"in_a", "in_b", "pre_a", "shared", "out1",
                                               "pre_b", "out2"}
    assert model.output_names == ["out1", "out2"]
    assert model.input_shape == [(None, 4), (None, 3)]
    assert model.get_layer("shared").count_params() == 30


def test_runs_with_lists_dicts_and_numpy():
    model = two_in_two_out()
    xa, xb = np.ones((2, 4), "float32"), np.ones((2, 3), "float32")
    o1, o2 = model([xa, xb])
    assert o1.shape == (2, 2) and o2.shape == (2, 1)
    d1, d2 = model({"in_a": torch.from_numpy(xa), "in_b": torch.from_numpy(xb)})
    torch.testing.assert_close(d1, o1)
    shared = model.get_layer("shared")
    pre_b = model.get_layer("pre_b")
    expected = model.get_layer("out2")(shared(pre_b(torch.from_numpy(xb))))
    torch.testing.assert_close(o2, expected)


def test_multi_output_fit_history_keys():
    model = two_in_two_out()
    model.compile(optimizer="sgd", loss=["mse", "mae"], loss_weights=[1.0, 0.5])
    x = [np.ones((8, 4), "float32"), np.ones((8, 3), "float32")]
    y = [np.zeros((8, 2), "float32"), np.zeros((8, 1), "float32")]
    history = model.fit(x, y, epochs=2, verbose=0)
    assert list(history.history) == ["loss", "out1_loss", "out2_loss"]
    h = history.history
    # total = out1 + 0.5 * out2 (per-output values are unweighted, as in Keras)
    model2 = two_in_two_out()
    model2.set_weights(model.get_weights())
    model2.compile(optimizer="sgd", loss=["mse", "mae"], loss_weights=[1.0, 0.5])
    loss, l1, l2 = model2.evaluate(x, y, verbose=0)
    assert loss == pytest.approx(l1 + 0.5 * l2, rel=1e-6)
    assert len(h["loss"]) == 2


def test_nested_sequential_and_feature_extraction():
    base = keras.Sequential([keras.Input(shape=(5,)), layers.Dense(4, name="feat"),
                             layers.Dense(3, name="head")], name="base")
    inp = keras.Input(shape=(5,))
    out = layers.Dense(2)(base(inp))
    model = keras.Model(inp, out)
    x = torch.rand(3, 5)
    torch.testing.assert_close(model(x), model.layers[-1](base(x)))
    assert model.count_params() == base.count_params() + 3 * 2 + 2
    inp2 = keras.Input(shape=(6,))
    h = layers.Dense(4, name="h")(inp2)
    full = keras.Model(inp2, layers.Dense(2)(h))
    extractor = keras.Model(full.input, full.get_layer("h").output)
    torch.testing.assert_close(extractor(torch.ones(2, 6)), full.get_layer("h")(torch.ones(2, 6)))


def test_unreachable_output_is_named():
    a = keras.Input(shape=(3,), name="a")
    b = keras.Input(shape=(3,), name="orphan")
    out = layers.Dense(2)(b)
    with pytest.raises(ValueError, match="orphan"):
        keras.Model(a, out)


def test_incompatible_symbolic_input_names_layer_and_shapes():
    inp = keras.Input(shape=(6,))
    with pytest.raises(ValueError, match=r"reshape.*\(None, 6\)|\(None, 6\).*reshape"):
        layers.Reshape((4,), name="reshape_bad")(inp)


def test_fx_and_compile_give_same_outputs():
    inp = keras.Input(shape=(8,))
    out = layers.Dense(2)(layers.Dense(4, activation="relu")(inp))
    model = keras.Model(inp, out)
    x = torch.rand(5, 8)
    traced = torch.fx.symbolic_trace(model)
    torch.testing.assert_close(traced(x), model(x))
    two = two_in_two_out()
    xs = [torch.rand(3, 4), torch.rand(3, 3)]
    for got, want in zip(torch.fx.symbolic_trace(two)(xs), two(xs)):
        torch.testing.assert_close(got, want)


@pytest.mark.slow
def test_torch_compile_gives_same_outputs():
    inp = keras.Input(shape=(8,))
    out = layers.Dense(2)(layers.Dense(4, activation="relu")(inp))
    model = keras.Model(inp, out)
    x = torch.rand(5, 8)
    torch.testing.assert_close(torch.compile(model)(x), model(x))


def test_subclassed_model_trains():
    class MLP(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(8, activation="relu")
            self.drop = layers.Dropout(0.5)
            self.out = layers.Dense(3, activation="softmax")

        def call(self, inputs, training=None):
            return self.out(self.drop(self.hidden(inputs), training=training))

    keras.utils.set_random_seed(0)
    model = MLP()
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0)
    model.fit(x, y, epochs=20, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] > 0.85
    assert len(model.get_weights()) == 4


def test_built_layer_on_incompatible_symbolic_input():
    dense = layers.Dense(3, name="proj")
    dense(keras.Input(shape=(4,)))
    with pytest.raises(ValueError, match=r"'proj'.*value 4.*\(None, 6\)"):
        dense(keras.Input(shape=(6,)))
