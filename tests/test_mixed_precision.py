"""Mixed precision: dtype policies, LossScaleOptimizer, autocast in fit/evaluate/predict.

Numbers are checked against Keras 3 on JAX (the `keras3` fixture) or worked out by hand.
"""

import numpy as np
import pytest
import torch

import kerastorch as kt
from kerastorch import mixed_precision as mp
from kerastorch.mixed_precision import step as mp_step


@pytest.fixture(autouse=True)
def _float32_policy():
    mp.set_global_policy("float32")
    yield
    mp.set_global_policy("float32")


@pytest.fixture
def keras_mp(keras3):
    keras3.mixed_precision.set_global_policy("float32")
    yield keras3
    keras3.mixed_precision.set_global_policy("float32")


# ---------------------------------------------------------------------------- policies
@pytest.mark.parametrize("name,compute,variable", [
    ("mixed_float16", "float16", "float32"),
    ("mixed_bfloat16", "bfloat16", "float32"),
    ("float32", "float32", "float32"),
    ("float16", "float16", "float16"),
    ("float64", "float64", "float64"),
])
def test_policy_dtypes_match_keras(keras_mp, name, compute, variable):
    ours, ref = mp.DTypePolicy(name), keras_mp.mixed_precision.DTypePolicy(name)
    assert (ours.name, ours.compute_dtype, ours.variable_dtype) == (name, compute, variable)
    assert (ref.compute_dtype, ref.variable_dtype) == (compute, variable)
    assert repr(ours) == repr(ref)
    assert ours.get_config() == ref.get_config()


@pytest.mark.parametrize("bad,error", [("mixed_float8", ValueError), ("foo", ValueError),
                                       (3, TypeError)])
def test_policy_rejects_bad_names(bad, error):
    with pytest.raises(error, match="name|mixed"):
        mp.DTypePolicy(bad)


def test_policy_aliases_and_global_state():
    assert mp.Policy is mp.DTypePolicy
    assert mp.set_global_policy is mp.set_dtype_policy
    assert mp.global_policy is mp.dtype_policy
    assert mp.global_policy() == mp.DTypePolicy("float32")
    mp.set_global_policy(mp.DTypePolicy("mixed_bfloat16"))
    assert mp.global_policy().name == "mixed_bfloat16"
    assert mp.DTypePolicy().name == "mixed_bfloat16"  # no name: the global one
    with pytest.raises(ValueError, match="policy"):
        mp.set_global_policy(3)


def test_layer_policy_properties_and_config_match_keras(keras_mp):
    for lib in (kt, keras_mp):
        lib.mixed_precision.set_global_policy("mixed_float16")
    ours = [kt.layers.Dense(2), kt.layers.Dense(2, dtype="float32")]
    refs = [keras_mp.layers.Dense(2), keras_mp.layers.Dense(2, dtype="float32")]
    for a, b in zip(ours, refs):
        assert repr(a.dtype_policy) == repr(b.dtype_policy)
        assert (a.dtype, a.compute_dtype, a.variable_dtype) == \
            (b.dtype, b.compute_dtype, b.variable_dtype)
        assert a.get_config()["dtype"] == b.get_config()["dtype"]
    ours[0].build((None, 3))
    assert ours[0].weight.dtype == torch.float32  # variables stay float32
    clone = kt.layers.Dense.from_config(ours[0].get_config())
    assert clone.dtype_policy.name == "mixed_float16"


# ---------------------------------------------------------------------------- loss scaling
def _built_lso(initial_scale=8.0, growth=3, inner=None):
    w = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    opt = mp.LossScaleOptimizer(inner or kt.optimizers.SGD(learning_rate=0.5),
                                initial_scale=initial_scale, dynamic_growth_steps=growth)
    opt.build([w])
    return w, opt


def test_loss_scale_rule_by_hand():
    w, opt = _built_lso()
    assert float(opt.scale_loss(torch.tensor(1.0))) == 8.0
    # finite: grad/scale applied, counter 1
    opt.apply([torch.tensor([8.0, 16.0])])
    np.testing.assert_allclose(w.detach().numpy(), [0.5, 1.0])
    assert (float(opt.dynamic_scale), int(opt.step_counter), opt.iterations) == (8.0, 1, 1)
    # non-finite: step skipped, scale halves, counter resets, iterations unchanged
    opt.apply([torch.tensor([float("inf"), 1.0])])
    np.testing.assert_allclose(w.detach().numpy(), [0.5, 1.0])
    assert (float(opt.dynamic_scale), int(opt.step_counter), opt.iterations) == (4.0, 0, 1)
    # three finite steps in a row: the scale doubles after the third
    for k in range(3):
        opt.apply([torch.tensor([0.0, 4.0])])
    assert (float(opt.dynamic_scale), int(opt.step_counter), opt.iterations) == (8.0, 0, 4)
    np.testing.assert_allclose(w.detach().numpy(), [0.5, 1.0 - 3 * 0.5])


def test_loss_scale_matches_keras(keras_mp):
    """Same scaled gradient sequence (with an inf and a NaN) into both: same weights, scale."""
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(3, 2)).astype("float32")
    grads = [rng.normal(size=(3, 2)).astype("float32") * 64 for _ in range(9)]
    grads[2][0, 0] = np.inf
    grads[5][1, 1] = np.nan
    ref = keras_mp.mixed_precision.LossScaleOptimizer(
        keras_mp.optimizers.Adam(learning_rate=0.01), initial_scale=64.0,
        dynamic_growth_steps=2)
    var = keras_mp.Variable(w0)
    ref.build([var])
    # Keras' eager `apply` leaks a JAX tracer when the scale grows; its training path is
    # `stateless_apply`, used here.
    names = [v.path.split("/")[-1] for v in ref.variables]
    opt_values, value = [v.value for v in ref.variables], var.value
    w = torch.nn.Parameter(torch.from_numpy(w0.copy()))
    ours = mp.LossScaleOptimizer(kt.optimizers.Adam(learning_rate=0.01), initial_scale=64.0,
                                 dynamic_growth_steps=2)
    ours.build([w])
    for g in grads:
        (value,), opt_values = ref.stateless_apply(opt_values, [g], [value])
        state = dict(zip(names, opt_values))
        ours.apply([torch.from_numpy(g)], [w])
        assert float(ours.dynamic_scale) == float(state["dynamic_scale"])
        assert int(ours.step_counter) == int(state["step_counter"])
        assert ours.iterations == int(state["iteration"])
    np.testing.assert_allclose(w.detach().numpy(), np.asarray(value), rtol=1e-6, atol=1e-6)


def test_loss_scale_optimizer_config_matches_keras(keras_mp):
    ours = mp.LossScaleOptimizer(kt.optimizers.SGD(), initial_scale=128.0,
                                 dynamic_growth_steps=10)
    ref = keras_mp.mixed_precision.LossScaleOptimizer(keras_mp.optimizers.SGD(),
                                                      initial_scale=128.0,
                                                      dynamic_growth_steps=10)
    a, b = ours.get_config(), ref.get_config()
    assert set(a) == set(b)
    assert (a["initial_scale"], a["dynamic_growth_steps"]) == (128.0, 10)
    assert a["inner_optimizer"]["class_name"] == b["inner_optimizer"]["class_name"] == "SGD"
    again = mp.LossScaleOptimizer.from_config(a)
    assert (again.initial_scale, again.dynamic_growth_steps) == (128.0, 10)
    assert type(again.inner_optimizer) is kt.optimizers.SGD


@pytest.mark.parametrize("kwargs,match", [({"dynamic": False}, "dynamic"),
                                          ({"clipnorm": 1.0}, "clipnorm"),
                                          ({"foo": 1}, "foo")])
def test_loss_scale_optimizer_rejects_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mp.LossScaleOptimizer(kt.optimizers.SGD(), **kwargs)


@pytest.mark.parametrize("policy,auto,wrapped", [("mixed_float16", True, True),
                                                 ("mixed_float16", False, False),
                                                 ("mixed_bfloat16", True, False),
                                                 ("float32", True, False)])
def test_compile_wraps_optimizer_as_keras(policy, auto, wrapped):
    mp.set_global_policy(policy)
    model = kt.Sequential([kt.Input((3,)), kt.layers.Dense(2)])
    model.compile("sgd", "mse", auto_scale_loss=auto)
    assert isinstance(model.optimizer, mp.LossScaleOptimizer) is wrapped
    if wrapped:
        assert model.optimizer.name == "loss_scale_optimizer"


def test_loss_scale_factor_is_applied_in_fit():
    """An optimizer's `loss_scale_factor` scales the loss before backward (Keras), so the
    weights are those of the unscaled run."""
    x = np.random.default_rng(1).normal(size=(8, 3)).astype("float32")
    y = x.sum(1, keepdims=True)
    weights = []
    for factor in (None, 1024.0):
        kt.utils.set_random_seed(0)
        model = kt.Sequential([kt.Input((3,)), kt.layers.Dense(1)])
        model.compile(kt.optimizers.SGD(0.1, loss_scale_factor=factor), "mse")
        model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------- autocast in loops
def _pair(lib, last_dtype=None):
    return lib.Sequential([lib.Input((4,)), lib.layers.Dense(8, activation="relu"),
                           lib.layers.Dense(3, activation="softmax", dtype=last_dtype)])


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("last_dtype", [None, "float32"])
def test_fit_and_predict_match_keras(keras_mp, policy, last_dtype):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 4)).astype("float32")
    y = rng.integers(0, 3, size=(16,))
    for lib in (kt, keras_mp):
        lib.mixed_precision.set_global_policy(policy)
    ref, ours = _pair(keras_mp, last_dtype), _pair(kt, last_dtype)
    ours.set_weights(ref.get_weights())
    p_ref, p_ours = ref.predict(x, verbose=0), ours.predict(x, verbose=0)
    assert str(p_ours.dtype) == str(p_ref.dtype)
    tol = 2e-3 if policy == "mixed_float16" else 2e-2
    np.testing.assert_allclose(p_ours.astype("float32"), p_ref.astype("float32"), atol=tol)
    for m, lib in ((ref, keras_mp), (ours, kt)):
        m.compile(lib.optimizers.SGD(0.5), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    assert type(ours.optimizer).__name__ == type(ref.optimizer).__name__
    h_ref = ref.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history
    h_ours = ours.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history
    for k in h_ref:
        np.testing.assert_allclose(h_ours[k], h_ref[k], atol=tol * 5)
    for a, b in zip(ours.get_weights(), ref.get_weights()):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, atol=tol * 5)
    e_ref = ref.evaluate(x, y, verbose=0)
    e_ours = ours.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(e_ours, e_ref, atol=tol * 5)


@pytest.mark.parametrize("policy,half", [("mixed_float16", torch.float16),
                                         ("mixed_bfloat16", torch.bfloat16)])
def test_fit_computes_in_half_with_float32_layer(policy, half):
    """Inside fit the mixed layers output the compute dtype; a `dtype="float32"` layer gets
    float32 inputs, computes in float32; the loss is float32; weights and grads float32."""
    mp.set_global_policy(policy)
    model = _pair(kt, last_dtype="float32")
    seen = {}

    def hook(mod, inp, out):
        seen[mod.name] = (inp[0].dtype, out.dtype)  # the latest call; returns None

    for layer in model.layers:
        layer.register_forward_hook(hook)
    model.compile(kt.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).normal(size=(8, 4)).astype("float32")
    seen.clear()
    model.fit(x, np.zeros(8, dtype="int64"), batch_size=8, verbose=0)
    first, last = model.layers
    assert seen[first.name][1] == half
    # its call casts the half output up (Keras casts a layer's floating inputs to its compute
    # dtype) and its forward runs with autocast off (an autocast linear would return half)
    assert seen[last.name] == (torch.float32, torch.float32)
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert np.isfinite(model.evaluate(x, np.zeros(8, dtype="int64"), verbose=0))


def test_float32_policy_keeps_plain_steps():
    model = kt.Sequential([kt.Input((3,)), kt.layers.Dense(2)])
    model.compile("sgd", "mse")
    model.fit(np.zeros((4, 3), "float32"), np.zeros((4, 2), "float32"), verbose=0)
    assert model._step_runner is None  # the default float32 path has no runner
    assert mp_step.autocast_dtype(model) is None


def test_inf_loss_skips_step_in_fit():
    """A float16 overflow (scale 2**40 makes the scaled grads inf) skips updates and halves."""
    mp.set_global_policy("mixed_float16")
    model = kt.Sequential([kt.Input((3,)), kt.layers.Dense(1)])
    opt = mp.LossScaleOptimizer(kt.optimizers.SGD(0.1), initial_scale=2.0**120)
    model.compile(opt, "mse")
    x = np.ones((4, 3), "float32")
    model.fit(x, np.zeros((4, 1), "float32"), batch_size=4, epochs=1, verbose=0)
    before = [w.copy() for w in model.get_weights()]
    model.fit(x, np.zeros((4, 1), "float32"), batch_size=4, epochs=1, verbose=0)
    assert opt.iterations == 0  # every step skipped so far (float16 grads overflow)
    assert float(opt.dynamic_scale) == 2.0**118
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_config_and_top_level_aliases():
    kt.config.set_dtype_policy("mixed_bfloat16")
    assert kt.config.dtype_policy() is mp.global_policy()
    assert kt.DTypePolicy is mp.DTypePolicy
    assert kt.layers.Dense(2).compute_dtype == "bfloat16"


def test_mixed_model_pickles_and_keeps_float32_layer():
    import io
    mp.set_global_policy("mixed_bfloat16")
    model = kt.Sequential([kt.Input((4,)), kt.layers.Dense(3),
                           kt.layers.Dense(2, dtype="float32")])
    model.compile("sgd", "mse")
    x = np.ones((2, 4), "float32")
    model.fit(x, np.zeros((2, 2), "float32"), verbose=0)
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    seen = []
    loaded.layers[1].register_forward_hook(lambda mod, inp, out: seen.append(out.dtype))
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert seen == [torch.float32]  # autocast off again in the float32 layer


def test_symbolic_outputs_carry_the_compute_dtype_as_keras(keras3):
    """Under "mixed_bfloat16" a Dense output KerasTensor is bfloat16; a `dtype="float32"` layer's
    is float32; the Input stays float32 (Keras 3)."""
    dtypes = []
    for ns in (keras3, kt):
        ns.mixed_precision.set_global_policy("mixed_bfloat16")
        try:
            inp = ns.Input((4,))
            h = ns.layers.Dense(3)(inp)
            out = ns.layers.Activation("softmax", dtype="float32")(h)
            dtypes.append([str(t.dtype) for t in (inp, h, out)])
        finally:
            ns.mixed_precision.set_global_policy("float32")
    assert dtypes[1] == dtypes[0] == ["float32", "bfloat16", "float32"]
