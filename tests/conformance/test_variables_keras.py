"""Keras variables as user programs meet them: `model.weights`, `add_weight`, `keras.Variable`,
metric and optimizer variables, custom training loops (torch-style and stateless). Each case
runs the same lines in Keras 3 (JAX) and in kerastorch and compares."""

import re

import numpy as np
import pytest
import torch

import kerastorch

pytestmark = pytest.mark.conformance


def _np(t):
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy()
    return np.asarray(t)


def _base(name):  # auto names carry a per-process counter: `variable_3` -> `variable`
    return re.sub(r"_\d+$", "", name)


LAYERS = {
    "dense": (lambda L: L.Dense(3, name="d"), (None, 4)),
    "conv2d": (lambda L: L.Conv2D(2, 3, name="c"), (None, 6, 6, 3)),
    "lstm": (lambda L: L.LSTM(2, name="r"), (None, 5, 3)),
    "gru": (lambda L: L.GRU(2, name="g"), (None, 5, 3)),
    "batchnorm": (lambda L: L.BatchNormalization(name="bn"), (None, 4)),
}


def _in_sequential(lib, make, shape):
    layer = make(lib.layers)
    model = lib.Sequential([lib.Input(shape[1:]), layer], name="seq")
    return model, layer


@pytest.mark.parametrize("case", list(LAYERS))
def test_layer_weights_are_keras_variables(keras3, rng, case):
    make, shape = LAYERS[case]
    ref_model, ref = _in_sequential(keras3, make, shape)
    model, ours = _in_sequential(kerastorch, make, shape)
    values = [rng.normal(size=w.shape).astype("float32") for w in ref.get_weights()]
    ref.set_weights(values)
    ours.set_weights(values)
    assert len(model.weights) == len(ref_model.weights)
    for v, k in zip(model.weights, ref_model.weights):
        assert (v.name, v.path, v.shape, v.dtype, v.trainable, v.ndim) == \
            (k.name, k.path, k.shape, k.dtype, k.trainable, k.ndim)
        np.testing.assert_array_equal(v.numpy(), keras3.ops.convert_to_numpy(k.value))
        np.testing.assert_array_equal(np.asarray(v), np.asarray(k))
    assert [v.path for v in model.trainable_weights] == \
        [v.path for v in ref_model.trainable_weights]
    assert [v.path for v in model.non_trainable_weights] == \
        [v.path for v in ref_model.non_trainable_weights]
    assert model.weights[0] is model.weights[0] and ours.weights[0] is model.weights[0]
    # assign / assign_add / assign_sub take Keras' layout
    for i, (v, k) in enumerate(zip(model.weights, ref_model.weights)):
        new = rng.normal(size=k.shape).astype("float32")
        step = rng.normal(size=k.shape).astype("float32")
        for var in (v, k):
            var.assign(new)
            var.assign_add(step)
            var.assign_sub(step * 0.5)
        np.testing.assert_allclose(v.numpy(), np.asarray(k), rtol=1e-6, atol=1e-6)
    for a, b in zip(ours.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    x = rng.normal(size=(2, *shape[1:])).astype("float32")
    np.testing.assert_allclose(_np(model(x)), keras3.ops.convert_to_numpy(ref_model(x)),
                               rtol=1e-4, atol=1e-5)


def test_value_is_the_torch_parameter_and_keras_layout_is_a_view():
    model = kerastorch.Sequential([kerastorch.Input((4,)), kerastorch.layers.Dense(3, name="d")],
                                  name="seq")
    kernel, bias = model.weights
    dense = model.layers[0]
    assert kernel.value is dense.weight and bias.value is dense.bias
    assert kernel.shape == (4, 3) and tuple(kernel.value.shape) == (3, 4)
    assert list(model.state_dict()) == ["d.weight", "d.bias"]  # torch's keys, as before
    x = torch.ones(2, 4)
    model(x).sum().backward()
    assert kernel.value.grad is not None and kernel.value.grad.shape == (3, 4)
    before = kernel.value.clone()
    kernel.assign(np.ones((4, 3), "float32"))
    assert kernel.value is dense.weight and torch.equal(dense.weight, torch.ones(3, 4))
    assert not torch.equal(before, dense.weight)
    with pytest.raises(ValueError, match=r"'seq/d/kernel'.*\(4, 3\).*\(3, 4\)"):
        kernel.assign(np.ones((3, 4), "float32"))


@pytest.mark.parametrize("which", ["functional", "nested", "standalone"])
def test_paths_follow_where_layers_were_built(keras3, which):
    def build(lib):
        L = lib.layers
        if which == "functional":
            inputs = lib.Input((4,))
            return lib.Model(inputs, L.Dense(2, name="head")(L.Dense(3, name="body")(inputs)),
                             name="func")

        if which == "standalone":  # built alone, then put in a Sequential
            layer = L.Dense(2, name="alone")
            layer.build((None, 4))
            return lib.Sequential([layer], name="stack")

        class Block(L.Layer):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.inner = L.Dense(2, name="inner")

            def call(self, x):
                return self.inner(x)

        class Net(lib.Model):
            def __init__(self):
                super().__init__(name="net")
                self.block = Block(name="block")
                self.out = L.Dense(1, name="out")

            def call(self, x):
                return self.out(self.block(x))

        net = Net()
        net(np.ones((1, 4), "float32"))
        return net

    ref, ours = build(keras3), build(kerastorch)
    assert [(v.name, v.path, v.shape) for v in ours.weights] == \
        [(v.name, v.path, v.shape) for v in ref.weights]


def make_user_layer(lib):
    class Linear(lib.layers.Layer):
        def __init__(self, units=3, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                     initializer="ones", name="w")
            self.b = self.add_weight(shape=(self.units,), initializer="zeros")
            self.seen = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                        name="seen")

        def call(self, inputs):
            self.seen.assign_add(lib.ops.cast(lib.ops.shape(inputs)[0], "float32"))
            return lib.ops.matmul(inputs, self.w) + self.b

    return Linear


def test_user_layer_add_weight(keras3, rng):
    ref, ours = make_user_layer(keras3)(name="lin"), make_user_layer(kerastorch)(name="lin")
    x = rng.normal(size=(5, 4)).astype("float32")
    ref(x)
    ours(x)
    got = [(v.name, v.path, v.shape, v.dtype, v.trainable) for v in ours.weights]
    want = [(v.name, v.path, v.shape, v.dtype, v.trainable) for v in ref.weights]
    assert [(_base(n), _base(p.split("/")[-1]), *rest) for n, p, *rest in got] == \
        [(_base(n), _base(p.split("/")[-1]), *rest) for n, p, *rest in want]
    assert [p.rsplit("/", 1)[0] for _, p, *_ in got] == ["lin"] * 3
    assert list(ours.state_dict()) == ["w", "b", "seen"]  # the attributes' names
    assert isinstance(ours.w, kerastorch.Variable) and ours.w.value is ours._parameters["w"]
    assert ours.seen.value is ours._buffers["seen"]
    for v in (ours.w, ref.w):
        v.assign(np.arange(12, dtype="float32").reshape(4, 3) / 10)
    x = rng.normal(size=(2, 4)).astype("float32")
    np.testing.assert_allclose(_np(ours(x)), keras3.ops.convert_to_numpy(ref(x)), rtol=1e-5,
                               atol=1e-6)
    assert float(ours.seen) == float(ref.seen) == 7.0
    # trainable toggling moves a variable between the lists, in both
    for layer in (ours, ref):
        layer.w.trainable = False
    assert [_base(v.name) for v in ours.trainable_weights] == \
        [_base(v.name) for v in ref.trainable_weights]
    assert len(ours.non_trainable_weights) == len(ref.non_trainable_weights) == 2
    assert not ours.w.value.requires_grad
    ours.trainable = False
    ours.trainable = True  # the layer's switch keeps the variable's own choice
    assert not ours.w.trainable and ours.b.trainable
    ours.w.trainable = True
    assert ours.w.value.requires_grad and len(ours.trainable_weights) == 2


def make_compute_sum(lib):
    class ComputeSum(lib.layers.Layer):  # Keras' "making new layers" guide
        def __init__(self, input_dim):
            super().__init__()
            self.total = self.add_weight(initializer="zeros", shape=(input_dim,),
                                         trainable=False)

        def call(self, inputs):
            self.total.assign_add(lib.ops.sum(inputs, axis=0))
            return self.total

    return ComputeSum


def test_stateful_layer_compute_sum(keras3):
    ref, ours = make_compute_sum(keras3)(2), make_compute_sum(kerastorch)(2)
    x = np.ones((2, 2), "float32")
    for _ in range(3):
        np.testing.assert_array_equal(np.asarray(ours(x)), np.asarray(ref(x)))
    np.testing.assert_array_equal(ours.total.numpy(), [6.0, 6.0])
    assert ours.weights == [ours.total] and ours.non_trainable_weights == [ours.total]
    assert ours.trainable_weights == ref.trainable_weights == []
    assert _base(ours.total.name) == _base(ref.total.name) == "variable"
    assert list(ours.state_dict()) == ["total"]
    assert torch.equal(ours.state_dict()["total"], torch.tensor([6.0, 6.0]))


def make_true_positives(lib, tensor_result=False):
    ops = lib.ops

    class BinaryTruePositives(lib.metrics.Metric):  # Keras' custom metric guide
        def __init__(self, name="binary_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_variable(shape=(), initializer="zeros", name="tp")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_true = ops.cast(y_true, "bool")
            y_pred = ops.cast(ops.greater(y_pred, 0.5), "bool")
            values = ops.cast(ops.logical_and(y_true, y_pred), self.dtype)
            if sample_weight is not None:
                values = ops.multiply(values, ops.cast(sample_weight, self.dtype))
            self.true_positives.assign_add(ops.sum(values))

        def result(self):
            if tensor_result:
                return ops.convert_to_tensor(self.true_positives)
            return self.true_positives

        def reset_state(self):
            self.true_positives.assign(0.0)

    return BinaryTruePositives


def test_user_metric_with_add_variable(keras3, rng):
    ref, ours = make_true_positives(keras3)(), make_true_positives(kerastorch)()
    y_true = rng.integers(0, 2, (16, 1)).astype("float32")
    y_pred = rng.random((16, 1)).astype("float32")
    w = rng.random((16, 1)).astype("float32")
    for m in (ref, ours):
        m.update_state(y_true[:8], y_pred[:8])
        m.update_state(y_true[8:], y_pred[8:], sample_weight=w[8:])
    np.testing.assert_allclose(float(ours.result()), float(ref.result()), rtol=1e-6)
    assert [(v.name, v.path) for v in ours.variables] == [(v.name, v.path) for v in ref.variables]
    # stateless: new values come back, the metric's own state stays
    state = [v.value for v in ours.variables]
    kstate = [v.value for v in ref.variables]
    new = ours.stateless_update_state(state, y_true, y_pred)
    knew = ref.stateless_update_state(kstate, y_true, y_pred)
    np.testing.assert_allclose(_np(new[0]), np.asarray(knew[0]), rtol=1e-6)
    np.testing.assert_allclose(float(ours.result()), float(ref.result()), rtol=1e-6)
    # (Keras 3.15 returns the variable itself from `stateless_result` of a metric whose
    # `result` returns it, which then reads the metric's real state; the value meant is the
    # given state's.)
    np.testing.assert_allclose(_np(ours.stateless_result(new)), np.asarray(knew[0]),
                               rtol=1e-6)
    np.testing.assert_array_equal(_np(ours.stateless_reset_state()[0]),
                                  np.asarray(ref.stateless_reset_state()[0]))
    ours.reset_state()
    assert float(ours.result()) == 0.0
    # in compile/evaluate: the result (a Variable) reaches the logs (Keras on JAX cannot trace
    # a result that is a variable: its side returns the tensor)
    x = rng.normal(size=(32, 3)).astype("float32")
    y = rng.integers(0, 2, (32, 1)).astype("float32")
    results = []
    for lib in (keras3, kerastorch):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(1, activation="sigmoid")])
        results.append(model)
    results[1].set_weights(results[0].get_weights())
    logs = []
    for lib, model in zip((keras3, kerastorch), results):
        model.compile(optimizer="sgd", loss="binary_crossentropy",
                      metrics=[make_true_positives(lib, tensor_result=lib is keras3)()])
        logs.append(model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True))
    np.testing.assert_allclose(logs[1]["binary_true_positives"],
                               logs[0]["binary_true_positives"], rtol=1e-6)


def test_builtin_metric_variables(keras3, rng):
    values = rng.random(10).astype("float32")
    ref, ours = keras3.metrics.Mean(name="m"), kerastorch.metrics.Mean(name="m")
    for m in (ref, ours):
        m.update_state(values[:4])
        m.update_state(values[4:])
    assert [(v.name, v.path, v.shape) for v in ours.variables] == \
        [(v.name, v.path, v.shape) for v in ref.variables]
    for v, k in zip(ours.variables, ref.variables):
        np.testing.assert_allclose(v.numpy(), np.asarray(k), rtol=1e-6)
    assert ours.variables[0] is ours.variables[0]
    assert isinstance(ours.total, torch.Tensor)  # kerastorch's own state stays raw tensors
    state = [v.value for v in ours.variables]
    new = ours.stateless_update_state(state, values[:3])
    knew = ref.stateless_update_state([v.value for v in ref.variables], values[:3])
    for a, b in zip(new, knew):
        np.testing.assert_allclose(_np(a), np.asarray(b), rtol=1e-6)
    np.testing.assert_allclose(_np(ours.stateless_result(new)),
                               np.asarray(ref.stateless_result(knew)), rtol=1e-6)
    np.testing.assert_allclose(float(ours.result()), float(ref.result()), rtol=1e-6)


def test_keras_variable(keras3):
    ops = kerastorch.ops
    for lib in (keras3, kerastorch):
        assert lib.Variable(np.ones((2,)), name="v").path == "v"
    v = kerastorch.Variable(np.arange(6, dtype="float64").reshape(2, 3), name="v")
    k = keras3.Variable(np.arange(6, dtype="float64").reshape(2, 3), name="v")
    assert (v.shape, v.dtype, v.name, v.path, v.trainable) == \
        (k.shape, k.dtype, k.name, k.path, k.trainable)
    assert repr(v) == repr(k)
    w = np.linspace(-1, 1, 12, dtype="float32").reshape(3, 4)
    x = np.linspace(0, 1, 6, dtype="float32").reshape(3, 2)
    cases = [
        lambda lib, v: v + 1, lambda lib, v: 2.0 * v, lambda lib, v: v - v, lambda lib, v: -v,
        lambda lib, v: v / 2.0, lambda lib, v: v ** 2, lambda lib, v: v @ w,
        lambda lib, v: lib.ops.matmul(x, v), lambda lib, v: lib.ops.sum(v, axis=0),
        lambda lib, v: lib.ops.exp(v), lambda lib, v: v > 2, lambda lib, v: v == 3,
        lambda lib, v: v[1], lambda lib, v: abs(v - 3),
        lambda lib, v: lib.ops.concatenate([v, v], axis=0),
    ]
    for fn in cases:
        np.testing.assert_allclose(_np(fn(kerastorch, v)), np.asarray(fn(keras3, k)),
                                   rtol=1e-6)
    for init in (3.0, 2, np.arange(3), np.ones((2,), "float64"), [1.0, 2.0]):
        assert kerastorch.Variable(init).dtype == keras3.Variable(init).dtype
    ones = kerastorch.Variable(kerastorch.initializers.Ones(), shape=(2, 2), dtype="float16")
    assert ones.dtype == "float16" and ones.numpy().tolist() == [[1, 1], [1, 1]]
    assert kerastorch.Variable("zeros", shape=(3,)).numpy().tolist() == [0, 0, 0]
    assert float(kerastorch.Variable(2.5)) == 2.5 and int(kerastorch.Variable(4)) == 4
    # differentiable through ops and torch functions; `.value.grad` is the gradient
    t = torch.from_numpy(x)
    (ops.sum(ops.matmul(t, v)) + torch.sum(v * v)).backward()
    np.testing.assert_allclose(_np(v.value.grad), x.sum(0)[:, None] + 2 * v.numpy(), rtol=1e-6)
    v.assign_add(np.ones((2, 3)))
    v.assign_sub(np.full((2, 3), 0.5))
    k.assign_add(np.ones((2, 3)))
    k.assign_sub(np.full((2, 3), 0.5))
    np.testing.assert_allclose(v.numpy(), np.asarray(k))
    with pytest.raises(ValueError, match=r"'v'.*\(2, 3\).*\(3, 2\)"):
        v.assign(np.ones((3, 2)))
    with pytest.raises(ValueError, match="shape"):
        kerastorch.Variable(kerastorch.initializers.Ones())


def test_variable_attribute_of_a_layer_is_tracked(keras3):
    def make(lib):
        class Scale(lib.layers.Layer):
            def build(self, input_shape):
                self.w = lib.Variable(np.full((input_shape[-1],), 2.0, "float32"), name="w")

            def call(self, x):
                return x * self.w

        return Scale(name="scale")

    ref, ours = make(keras3), make(kerastorch)
    x = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(_np(ours(x)), np.asarray(ref(x)))
    assert [(v.name, v.path, v.trainable) for v in ours.weights] == \
        [(v.name, v.path, v.trainable) for v in ref.weights]
    assert list(ours.state_dict()) == ["w"] and ours.weights[0] is ours.w


def _mlp(lib, bn=False):
    layers = [lib.Input((4,)), lib.layers.Dense(8, activation="relu", name="h")]
    if bn:
        layers.append(lib.layers.BatchNormalization(name="bn"))
    layers.append(lib.layers.Dense(3, activation="softmax", name="o"))
    return lib.Sequential(layers, name="mlp")


def _data(rng, n=80):
    x = rng.normal(size=(n, 4)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, n)]
    return x, y


def test_torch_style_training_loop_matches_keras_fit(keras3, rng):
    x, y = _data(rng)
    ref, model = _mlp(keras3, bn=True), _mlp(kerastorch, bn=True)
    model.set_weights(ref.get_weights())
    ref.compile(optimizer=keras3.optimizers.Adam(0.01), loss="categorical_crossentropy")
    ref.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)

    optimizer = kerastorch.optimizers.Adam(0.01)
    loss_fn = kerastorch.losses.CategoricalCrossentropy()
    for start in range(0, len(x), 16):  # the loop of Keras' torch-backend guide
        xb, yb = torch.from_numpy(x[start:start + 16]), torch.from_numpy(y[start:start + 16])
        loss = loss_fn(yb, model(xb, training=True))
        loss.backward()
        trainable_weights = [v for v in model.trainable_weights]
        gradients = [v.value.grad for v in trainable_weights]
        with torch.no_grad():
            optimizer.apply(gradients, trainable_weights)
        model.zero_grad()
    for a, b in zip(model.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert int(optimizer.iterations) == int(ref.optimizer.iterations) == 5
    kvars = ref.optimizer.variables
    assert [(v.name, v.shape) for v in optimizer.variables[2:]] == \
        [(v.name, v.shape) for v in kvars[2:]]
    assert [_base(v.path.split("/")[0]) for v in optimizer.variables] == ["adam"] * len(kvars)
    for v, k in zip(optimizer.variables[2:], kvars[2:]):  # slots, in Keras' layout
        np.testing.assert_allclose(v.numpy(), np.asarray(k), rtol=1e-4, atol=1e-6)


def test_stateless_training_loop_matches_keras(keras3, rng):
    import jax

    x, y = _data(rng, 48)
    ref, model = _mlp(keras3, bn=True), _mlp(kerastorch, bn=True)
    model.set_weights(ref.get_weights())
    initial = model.get_weights()
    kloss, loss_fn = keras3.losses.CategoricalCrossentropy(), \
        kerastorch.losses.CategoricalCrossentropy()
    kopt, opt = keras3.optimizers.SGD(0.1, momentum=0.9), \
        kerastorch.optimizers.SGD(0.1, momentum=0.9)
    kopt.build(ref.trainable_variables)
    opt.build(model.trainable_variables)

    def kstep(tv, ntv, ov, xb, yb):
        def loss_of(tv, ntv):
            y_pred, ntv = ref.stateless_call(tv, ntv, xb, training=True)
            return kloss(yb, y_pred), ntv

        (loss, ntv), grads = jax.value_and_grad(loss_of, has_aux=True)(tv, ntv)
        tv, ov = kopt.stateless_apply(ov, grads, tv)
        return loss, tv, ntv, ov

    def step(tv, ntv, ov, xb, yb):
        tv = [t.detach().requires_grad_() for t in tv]
        y_pred, ntv = model.stateless_call(tv, ntv, torch.from_numpy(xb), training=True)
        loss = loss_fn(torch.from_numpy(yb), y_pred)
        grads = torch.autograd.grad(loss, tv)
        tv, ov = opt.stateless_apply(ov, grads, tv)
        return loss, tv, ntv, ov

    kstate = ([v.value for v in ref.trainable_variables],
              [v.value for v in ref.non_trainable_variables],
              [v.value for v in kopt.variables])
    state = ([v.value for v in model.trainable_variables],
             [v.value for v in model.non_trainable_variables],
             [v.value for v in opt.variables])
    for start in range(0, len(x), 16):
        xb, yb = x[start:start + 16], y[start:start + 16]
        kloss_value, *kstate = kstep(*kstate, xb, yb)
        loss_value, *state = step(*state, xb, yb)
        np.testing.assert_allclose(float(loss_value.detach()), float(kloss_value), rtol=1e-5)
    # nothing changed yet: the model and the optimizer are as they were
    for a, b in zip(model.get_weights(), initial):
        np.testing.assert_array_equal(a, b)
    assert opt.iterations == 0
    # write the state back, as Keras' guides do
    for lib_model, lib_opt, (tv, ntv, ov) in ((ref, kopt, kstate), (model, opt, state)):
        for variable, value in zip(lib_model.trainable_variables, tv):
            variable.assign(value)
        for variable, value in zip(lib_model.non_trainable_variables, ntv):
            variable.assign(value)
        for variable, value in zip(lib_opt.variables, ov):
            variable.assign(value)
    for a, b in zip(model.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert int(opt.iterations) == int(kopt.iterations) == 3
    for v, k in zip(opt.variables[2:], kopt.variables[2:]):
        np.testing.assert_allclose(v.numpy(), np.asarray(k), rtol=1e-5, atol=1e-6)


def test_stateless_call_returns_losses_and_leaves_state(keras3, rng):
    def build(lib):
        inputs = lib.Input((4,))
        h = lib.layers.Dense(3, kernel_regularizer=lib.regularizers.L2(0.1), name="r")(inputs)
        return lib.Model(inputs, lib.layers.BatchNormalization(name="n")(h))

    ref, model = build(keras3), build(kerastorch)
    model.set_weights(ref.get_weights())
    x = rng.normal(size=(6, 4)).astype("float32")
    kout, kntv, klosses = ref.stateless_call(
        [v.value for v in ref.trainable_variables], [v.value for v in ref.non_trainable_variables],
        x, training=True, return_losses=True)
    before = [v.numpy() for v in model.non_trainable_variables]
    out, ntv, losses = model.stateless_call(model.trainable_variables,
                                            model.non_trainable_variables, x, training=True,
                                            return_losses=True)
    np.testing.assert_allclose(_np(out), np.asarray(kout), rtol=1e-5, atol=1e-6)
    for a, b in zip(ntv, kntv):
        np.testing.assert_allclose(_np(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(sum(float(v) for v in losses), sum(float(v) for v in klosses),
                               rtol=1e-5)
    for v, b in zip(model.non_trainable_variables, before):
        np.testing.assert_array_equal(v.numpy(), b)
    # Keras-layout arrays are accepted too (the kernel's shapes tell the layouts apart)
    out2, _ = model.stateless_call([v.numpy() for v in model.trainable_variables],
                                   [v.numpy() for v in model.non_trainable_variables], x)
    kout2, _ = ref.stateless_call([v.value for v in ref.trainable_variables],
                                  [v.value for v in ref.non_trainable_variables], x)
    np.testing.assert_allclose(_np(out2), np.asarray(kout2), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="trainable_variables"):
        model.stateless_call([], [], x)


def test_optimizer_apply_refuses_another_models_variable():
    model, other = _mlp(kerastorch), _mlp(kerastorch)
    optimizer = kerastorch.optimizers.SGD(0.1)
    optimizer.build(model.trainable_variables)
    stranger = other.trainable_weights[0]
    grads = [torch.zeros(stranger.value.shape)]
    with pytest.raises(ValueError, match=re.escape(stranger.path)):
        optimizer.apply(grads, [stranger])
    # Keras-layout gradients are accepted where the shapes differ
    kernel = model.trainable_weights[0]
    optimizer.apply([np.ones(kernel.shape, "float32")], [kernel])
    with pytest.raises(ValueError, match=re.escape(kernel.path)):
        optimizer.apply([np.ones((7, 7), "float32")], [kernel])
