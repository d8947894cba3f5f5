"""Keras' object model around the numbers, as user programs meet it: input casting, unbuilt
layers, symbolic calls, model attributes. Each case runs the same lines in Keras 3 (JAX) and in
kerastorch and compares."""

import warnings

import numpy as np
import pytest
import torch

import kerastorch

pytestmark = pytest.mark.conformance


def _np(t):
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


INT_CASES = {
    "dense": (lambda L: L.Dense(4), (8, 100), "int64"),
    "conv2d_uint8_image": (lambda L: L.Conv2D(2, 3), (2, 8, 8, 3), "uint8"),
    "lstm": (lambda L: L.LSTM(3), (2, 5, 4), "int32"),
    "batchnorm": (lambda L: L.BatchNormalization(), (4, 3), "int64"),
    # (LayerNormalization is left out: Keras 3.15 on JAX computes its moments of an integer
    # input in integers, giving 1, 0, -1 where the float input gives 1.22, 0, -1.22.)
    "dense_bool": (lambda L: L.Dense(2), (3, 4), "bool"),
}


@pytest.mark.parametrize("case", list(INT_CASES))
def test_integer_inputs_are_promoted_where_the_layer_does_float_math(keras3, case):
    """`Dense(64)(np.random.randint(0, 2, (8, 100)))`: Keras promotes the integers to floats."""
    make, shape, dtype = INT_CASES[case]
    x = np.random.default_rng(0).integers(0, 5, shape).astype(dtype)
    ref, ours = make(keras3.layers), make(kerastorch.layers)
    ref(x)
    ours(x)
    ours.set_weights(ref.get_weights())
    expected = keras3.ops.convert_to_numpy(ref(x))
    got = _np(ours(x))
    assert str(got.dtype) == str(expected.dtype) == "float32"
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_embedding_keeps_integer_ids_and_functional_int_inputs(keras3):
    """An int Input feeding an Embedding then a Dense: ids stay integers, the Dense promotes."""
    ids = np.array([[1, 2, 3], [4, 0, 1]], "int32")

    def build(lib):
        inputs = lib.Input((3,), dtype="int32")
        counts = lib.Input((3,), dtype="int32")
        x = lib.layers.Embedding(5, 2)(inputs)
        y = lib.layers.Dense(2)(counts)
        out = lib.layers.Concatenate()([lib.layers.Flatten()(x), y])
        return lib.Model([inputs, counts], out)

    ref, ours = build(keras3), build(kerastorch)
    ours.set_weights(ref.get_weights())
    expected = ref.predict([ids, ids * 2], verbose=0)
    np.testing.assert_allclose(ours.predict([ids, ids * 2], verbose=0), expected, rtol=1e-5,
                               atol=1e-5)


def _recorder(lib):
    """A callback recording every hook with its logs' keys, and `params` at each run's start."""

    class Recorder(lib.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.log = []

    def hook(name, batch_hook):
        def record(self, *args, **kwargs):
            logs = kwargs["logs"] if "logs" in kwargs else args[-1]
            params = dict(self.params) if name.endswith("_begin") and not batch_hook else None
            self.log.append((name, None if logs is None else sorted(logs), params,
                             self.model is not None, "logs" in kwargs))
        return record

    for when in ("begin", "end"):
        for run in ("train", "test", "predict"):
            setattr(Recorder, f"on_{run}_{when}", hook(f"on_{run}_{when}", False))
            setattr(Recorder, f"on_{run}_batch_{when}", hook(f"on_{run}_batch_{when}", True))
        setattr(Recorder, f"on_epoch_{when}", hook(f"on_epoch_{when}", True))
    return Recorder()


def test_callbacks_get_logs_dicts_params_and_model_as_in_keras(keras3):
    """Every hook gets a dict (`{}` when empty, as `on_train_begin(logs={})`); `self.params`
    and `self.model` are set before the first hook, for fit, evaluate and predict."""
    x, y = np.ones((4, 3), "float32"), np.ones((4, 1), "float32")
    logs = []
    for lib in (keras3, kerastorch):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(1)])
        model.compile("sgd", "mse", metrics=["mae"])
        recorder = _recorder(lib)
        model.fit(x, y, batch_size=2, epochs=2, validation_data=(x, y), verbose=0,
                  callbacks=[recorder])
        model.evaluate(x, y, batch_size=4, verbose=0, callbacks=[recorder])
        model.predict(x, batch_size=4, verbose=0, callbacks=[recorder])
        logs.append(recorder.log)
    assert logs[1] == logs[0]
    assert logs[0][0] == ("on_train_begin", [], {"verbose": 0, "epochs": 2, "steps": 2}, True,
                          False)


def _custom_model_classes(lib):
    class CustomModel(lib.Model):
        """Keras' guide: a functional model whose `compute_loss` adds a penalty (no
        `training` argument) and whose `call` wraps the graph."""

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None):
            loss = super().compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
            return loss + 0.1 * lib.ops.mean(lib.ops.square(y_pred))

        def call(self, inputs, training=None):
            return super().call(inputs) * 0.5

    class BuiltInside(lib.Model):
        def __init__(self, **kwargs):
            inputs = lib.Input((3,), name="features")
            outputs = lib.layers.Dense(2, name="head")(inputs)
            super().__init__(inputs=inputs, outputs=outputs, **kwargs)

    return CustomModel, BuiltInside


def test_functional_subclass_keeps_its_overrides(keras3):
    """`CustomModel(inputs, outputs)` and `super().__init__(inputs=..., outputs=...)`: functional
    models that keep the subclass' `compute_loss` and `call`; the same History as Keras."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 3)).astype("float32"), rng.normal(size=(16, 2)).astype("float32")
    histories, predictions = [], []
    for lib in (keras3, kerastorch):
        CustomModel, BuiltInside = _custom_model_classes(lib)
        inputs = lib.Input((3,), name="x")
        outputs = lib.layers.Dense(2, name="dense_out")(inputs)
        model = CustomModel(inputs, outputs, name="custom")
        assert isinstance(model, CustomModel) and model.name == "custom"
        assert [layer.name for layer in model.layers] == ["x", "dense_out"]
        model.set_weights([np.full((3, 2), 0.1, "float32"), np.zeros(2, "float32")])
        model.compile(lib.optimizers.SGD(0.1), "mse")
        history = model.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0,
                            validation_data=(x, y))
        histories.append(history.history)
        predictions.append(np.asarray(model.predict(x, verbose=0)))
        inside = BuiltInside(name="inside")
        assert isinstance(inside, BuiltInside)
        assert [layer.name for layer in inside.layers] == ["features", "head"]
        assert inside.count_params() == 8
    for key, values in histories[0].items():
        np.testing.assert_allclose(histories[1][key], values, rtol=1e-5, err_msg=key)
    np.testing.assert_allclose(predictions[1], predictions[0], rtol=1e-5, atol=1e-6)


def test_sequential_inputs_outputs_make_a_feature_extractor(keras3):
    """Keras' Sequential guide: `keras.Model(inputs=initial_model.inputs, outputs=[layer.output
    for layer in initial_model.layers])` gives every layer's features."""
    x = np.random.default_rng(0).normal(size=(2, 20, 20, 3)).astype("float32")
    features = []
    for lib in (keras3, kerastorch):
        initial_model = lib.Sequential([
            lib.Input(shape=(20, 20, 3)),
            lib.layers.Conv2D(4, 5, strides=2, activation="relu", name="c1"),
            lib.layers.Conv2D(4, 3, activation="relu", name="c2"),
            lib.layers.Conv2D(4, 3, activation="relu", name="c3"),
        ], name="initial")
        if not features:
            weights = initial_model.get_weights()
        initial_model.set_weights(weights)
        assert len(initial_model.inputs) == len(initial_model.outputs) == 1
        assert tuple(initial_model.inputs[0].shape) == (None, 20, 20, 3)
        assert tuple(initial_model.outputs[0].shape) == (None, 4, 4, 4)
        extractor = lib.Model(inputs=initial_model.inputs,
                              outputs=[layer.output for layer in initial_model.layers])
        one = lib.Model(inputs=initial_model.inputs,
                        outputs=initial_model.get_layer(name="c2").output)
        features.append([lib.ops.convert_to_numpy(f) for f in extractor(x)] +
                        [lib.ops.convert_to_numpy(one(x))])
    assert [f.shape for f in features[1]] == [f.shape for f in features[0]]
    for a, b in zip(features[1], features[0]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_unbuilt_models_have_no_weights_and_say_so_in_summary(keras3, capsys):
    """An unbuilt Sequential or Dense: `weights == []` (all three lists), the summary marks the
    layer unbuilt, as Keras'."""
    printed = []
    for lib in (keras3, kerastorch):
        model = lib.Sequential([lib.layers.Dense(3, name="d")], name="unbuilt")
        dense = lib.layers.Dense(4)
        assert model.weights == model.trainable_weights == model.non_trainable_weights == []
        assert dense.weights == [] and not dense.built
        capsys.readouterr()
        model.summary()
        printed.append(capsys.readouterr().out)
    assert printed[1] == printed[0]


def test_endpoint_layer_with_two_positional_inputs(keras3):
    """Keras' functional guide: `LogisticEndpoint(name="predictions")(targets, logits)` adds its
    loss with `add_loss`; the model compiles without a loss and fits to Keras' losses."""
    histories = []
    rng = np.random.default_rng(0)
    data = {"inputs": rng.random((6, 3)), "targets": rng.random((6, 10))}
    for lib in (keras3, kerastorch):
        class LogisticEndpoint(lib.layers.Layer):
            def __init__(self, name=None):
                super().__init__(name=name)
                self.loss_fn = lib.losses.BinaryCrossentropy(from_logits=True)

            def call(self, targets, logits, sample_weights=None):
                self.add_loss(self.loss_fn(targets, logits, sample_weights))
                return lib.ops.sigmoid(logits)

        inputs = lib.Input(shape=(3,), name="inputs")
        targets = lib.Input(shape=(10,), name="targets")
        logits = lib.layers.Dense(10, kernel_initializer="ones")(inputs)
        predictions = LogisticEndpoint(name="predictions")(targets, logits)
        model = lib.Model(inputs=[inputs, targets], outputs=predictions)
        assert model.layers[-1]._losses == [] if lib is kerastorch else True  # none from
        model.compile(optimizer="adam")                                      # shape inference
        histories.append(model.fit(data, batch_size=3, epochs=3, shuffle=False,
                                   verbose=0).history)
    np.testing.assert_allclose(histories[1]["loss"], histories[0]["loss"], rtol=1e-5)


def test_symbolic_calls_with_nested_inputs_keywords_and_layers_made_in_call(keras3):
    """A dict of lists as the input, keyword arguments (a tensor, `None`, a float), a Dense
    built inside `call` by the first (symbolic) call: the models compute what Keras' compute."""
    rng = np.random.default_rng(1)
    a1, a2 = rng.normal(size=(4, 3)).astype("float32"), rng.normal(size=(4, 3)).astype("float32")
    b = rng.normal(size=(4, 1)).astype("float32")
    results = []
    for lib in (keras3, kerastorch):
        class Mix(lib.layers.Layer):
            def call(self, inputs):
                return inputs["a"][0] + inputs["a"][1] * inputs["b"]

        class Scale(lib.layers.Layer):
            def call(self, x, baz=None, scale=1.0):
                return x * scale if baz is None else x + baz

        class Lazy(lib.layers.Layer):
            def __init__(self):
                super().__init__()
                self.inner = lib.layers.Dense(2, kernel_initializer="ones", name="inner")

            def call(self, x):  # `inner` is built here, by the symbolic call
                return self.inner(x)

        i1, i2, ib = lib.Input((3,)), lib.Input((3,)), lib.Input((1,))
        mixed = Mix()({"a": [i1, i2], "b": ib})
        scaled = Scale()(mixed, baz=None, scale=3.0)
        shifted = Scale()(mixed, baz=scaled)
        lazy = Lazy()(shifted)
        model = lib.Model([i1, i2, ib], [scaled, shifted, lazy])
        assert tuple(lazy.shape) == (None, 2)
        assert len(model.weights) == 2  # the Dense made in `call` is the model's
        results.append([lib.ops.convert_to_numpy(t) for t in model([a1, a2, b])])
    for ours, ref in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)


def test_inputs_one_trailing_axis_off_are_adjusted_as_in_keras(keras3):
    """A functional model fed `(n, 3, 1)` for `(None, 3)` (or `(n, 3)` for `(None, 3, 1)`)
    drops (adds) the trailing axis of size 1, in calls, fit and predict."""
    x = np.arange(12, dtype="float32").reshape(4, 3)
    out = []
    for lib in (keras3, kerastorch):
        flat_in = lib.Input((3,))
        flat = lib.Model(flat_in, lib.layers.Dense(2, kernel_initializer="ones")(flat_in))
        column_in = lib.Input((3, 1))
        column = lib.Model(column_in, lib.layers.Flatten()(column_in))
        flat.compile(lib.optimizers.SGD(0.01), "mse")
        history = flat.fit(x[..., None], np.ones((4, 2), "float32"), batch_size=4, verbose=0)
        out.append([flat.predict(x[..., None], verbose=0), column.predict(x, verbose=0),
                    history.history["loss"]])
    for ours, ref in zip(out[1], out[0]):
        np.testing.assert_allclose(ours, ref, rtol=1e-6)


def test_a_model_without_trainable_weights_fits_and_reports_its_loss(keras3):
    """The loss is reported, nothing is updated, no optimizer error (Keras)."""
    out = []
    x, y = np.ones((4, 3), "float32"), np.zeros((4, 3), "float32")
    for lib in (keras3, kerastorch):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Flatten()])
        model.compile("adam", "mse")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            history = model.fit(x, y, epochs=2, verbose=0)
        out.append((history.history, model.evaluate(x, y, verbose=0)))
    assert out[1] == out[0]
    # as Keras' torch backend says (its JAX backend says nothing)
    assert any("does not have any trainable weights" in str(w.message) for w in caught)


def test_layer_losses_hold_the_latest_call(keras3):
    """`layer.losses` holds what the latest call added (reset at each call, as Keras), for a
    layer alone, a layer inside a layer, and a model calling a shared layer twice."""
    x = np.ones((2, 2), "float32")
    counts = []
    for lib in (keras3, kerastorch):
        class Penalty(lib.layers.Layer):
            def call(self, inputs):
                self.add_loss(lib.ops.sum(inputs))
                return inputs

        class Outer(lib.layers.Layer):
            def __init__(self):
                super().__init__()
                self.inner = Penalty()

            def call(self, inputs):
                return self.inner(inputs)

        alone, outer = Penalty(), Outer()
        shared = Penalty()
        inputs = lib.Input((2,))
        model = lib.Model(inputs, shared(shared(inputs)))
        seen = []
        for _ in range(3):
            alone(x)
            outer(x)
            model(x)
            seen.append((len(alone.losses), len(outer.losses), len(model.losses),
                         float(sum(lib.ops.convert_to_numpy(v) for v in model.losses))))
        counts.append(seen)
    assert counts[1] == counts[0] == [(1, 1, 2, 8.0)] * 3


def test_build_of_a_subclassed_model_is_keras_default(keras3, capsys):
    """`model.build(shape)` on a subclassed model without its own `build`: marked built, its
    layers still unbuilt (Keras' warning), the same summary; the first call builds them."""
    printed, counts = [], []
    for lib in (keras3, kerastorch):
        class MyModel(lib.Model):
            def __init__(self):
                super().__init__(name="my_model")
                self.d1 = lib.layers.Dense(8, activation="relu", name="d1")
                self.d2 = lib.layers.Dense(2, name="d2")

            def call(self, x):
                return self.d2(self.d1(x))

        model = MyModel()
        with pytest.warns(UserWarning, match="does not have a `build\\(\\)` method"):
            model.build((None, 4))
        capsys.readouterr()
        model.summary()
        printed.append(capsys.readouterr().out)
        before = len(model.weights)
        model(np.ones((1, 4), "float32"))
        counts.append((model.built, before, len(model.weights)))
    assert printed[1] == printed[0]
    assert counts[1] == counts[0] == (True, 0, 4)


FLOAT_CASES = {
    # (layer maker, input shape, input dtype, expected output dtype)
    "dense_float64_input": (lambda L: L.Dense(4), (3, 5), "float64", "float32"),
    "dense_float16_input": (lambda L: L.Dense(4), (3, 5), "float16", "float32"),
    "dense_float64_layer": (lambda L: L.Dense(4, dtype="float64"), (3, 5), "float32",
                            "float64"),
    "conv2d_float64_layer": (lambda L: L.Conv2D(2, 3, dtype="float64"), (2, 6, 6, 3),
                             "float32", "float64"),
    "lstm_float64_layer": (lambda L: L.LSTM(3, dtype="float64"), (2, 5, 4), "float32",
                           "float64"),
    "gru_float64_input": (lambda L: L.GRU(3), (2, 5, 4), "float64", "float32"),
    "batchnorm_float64_layer": (lambda L: L.BatchNormalization(dtype="float64"), (4, 3),
                                "float32", "float64"),
    "layernorm_float64_input": (lambda L: L.LayerNormalization(), (4, 3), "float64",
                                "float32"),
    "bidirectional_float64_layer": (
        lambda L: L.Bidirectional(L.LSTM(2, dtype="float64"), dtype="float64"),
        (2, 4, 3), "float32", "float64"),
}


@pytest.mark.parametrize("case", list(FLOAT_CASES))
def test_floating_inputs_are_cast_to_the_compute_dtype(keras3, case):
    """Keras casts every floating input of a layer to the layer's compute dtype, and a layer
    made with `dtype="float64"` holds float64 weights."""
    make, shape, dtype, out_dtype = FLOAT_CASES[case]
    x = np.random.default_rng(1).normal(size=shape).astype(dtype)
    jax = pytest.importorskip("jax")
    with jax.enable_x64(True):  # JAX keeps float64 only with x64 on
        ref = make(keras3.layers)
        ref(x)
        expected = keras3.ops.convert_to_numpy(ref(x))
        ref_weights = ref.get_weights()
        ref_dtypes = [str(v.dtype) for v in ref.weights]
    ours = make(kerastorch.layers)
    ours(torch.from_numpy(x))
    assert [str(v.dtype) for v in ours.weights] == ref_dtypes
    ours.set_weights(ref_weights)
    got = _np(ours(torch.from_numpy(x)))
    assert str(got.dtype) == str(expected.dtype) == out_dtype
    # (Keras' float64 LSTM and BatchNormalization round some steps through float32: ours
    # are nearer the float64 value, e.g. x / sqrt(1 + 1e-3), by about 1e-7.)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_every_floating_argument_is_cast_positional_and_keyword(keras3):
    """Several tensors, positionally and by keyword, in float64: all cast (query and value of
    MultiHeadAttention; a float64 `initial_state` of an LSTM)."""
    rng = np.random.default_rng(2)
    q, v = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4))  # float64
    h0, c0 = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    results = {}
    for lib in (keras3, kerastorch):
        mha, lstm = lib.layers.MultiHeadAttention(2, 2), lib.layers.LSTM(3)
        conv = (lambda a: a) if lib is keras3 else torch.from_numpy
        mha(conv(q), conv(v))
        lstm(conv(v), initial_state=[conv(h0), conv(c0)])
        results[lib] = (mha, lstm, conv)
    (kmha, klstm, _), (tmha, tlstm, conv) = results[keras3], results[kerastorch]
    tmha.set_weights(kmha.get_weights())
    tlstm.set_weights(klstm.get_weights())
    expected = [keras3.ops.convert_to_numpy(kmha(q, value=v)),
                keras3.ops.convert_to_numpy(klstm(v, initial_state=[h0, c0]))]
    got = [_np(tmha(conv(q), value=conv(v))),
           _np(tlstm(conv(v), initial_state=[conv(h0), conv(c0)]))]
    for g, e in zip(got, expected):
        assert str(g.dtype) == str(e.dtype) == "float32"
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-5)


def test_float64_arrays_through_sequential_and_functional_models(keras3):
    """`model(x)` and `model.predict(x)` on float64 data, as data loaded with numpy is."""
    x = np.random.default_rng(3).normal(size=(6, 5))

    def build(lib, functional):
        layers = [lib.layers.Dense(4, activation="relu"), lib.layers.Dense(2)]
        if not functional:
            return lib.Sequential([lib.Input((5,)), *layers])
        inputs = lib.Input((5,))
        return lib.Model(inputs, layers[1](layers[0](inputs)))

    for functional in (False, True):
        ref, ours = build(keras3, functional), build(kerastorch, functional)
        ours.set_weights(ref.get_weights())
        expected = keras3.ops.convert_to_numpy(ref(x))
        got = _np(ours(torch.from_numpy(x)))
        assert str(got.dtype) == str(expected.dtype) == "float32"
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(ours.predict(x, verbose=0), ref.predict(x, verbose=0),
                                   rtol=1e-5, atol=1e-5)
