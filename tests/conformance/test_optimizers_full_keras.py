"""Every Keras 3 optimizer and schedule against Keras 3 on JAX (issue 5, part C).

Optimizers: the same start weights and the same 10 gradient steps on both sides (Keras'
`optimizer.apply`, our `.grad` + `step()`), then the weights (and EMA averages, iteration
counts, optimizer variables) must agree. Schedules: the learning rate at a set of steps, and
through an optimizer the learning rate actually used per step.
"""

import numpy as np
import pytest
import torch

import kerastorch.optimizers as kt_optimizers
from kerastorch import config

pytestmark = pytest.mark.conformance

SHAPES = [(3, 4), (4,), (2, 3, 2), (1,)]
STEPS = 10

# Each case gets the namespace (`keras.optimizers` or `kerastorch.optimizers`): identical args.
CASES = {
    # Adamax
    "adamax": lambda o: o.Adamax(),
    "adamax_lr_betas": lambda o: o.Adamax(learning_rate=0.05, beta_1=0.8, beta_2=0.95,
                                          epsilon=1e-3),
    "adamax_tiny_grads": lambda o: o.Adamax(learning_rate=0.01),
    "adamax_clipnorm": lambda o: o.Adamax(learning_rate=0.02, clipnorm=0.5),
    # Nadam
    "nadam": lambda o: o.Nadam(),
    "nadam_lr_betas": lambda o: o.Nadam(learning_rate=0.05, beta_1=0.8, beta_2=0.99,
                                        epsilon=1e-4),
    "nadam_accumulation": lambda o: o.Nadam(learning_rate=0.01, gradient_accumulation_steps=3),
    "nadam_weight_decay": lambda o: o.Nadam(learning_rate=0.01, weight_decay=0.1),
    # Adagrad
    "adagrad": lambda o: o.Adagrad(),
    "adagrad_initial_accumulator": lambda o: o.Adagrad(learning_rate=0.1,
                                                       initial_accumulator_value=0.5),
    "adagrad_zero_accumulator": lambda o: o.Adagrad(learning_rate=0.05,
                                                    initial_accumulator_value=0.0,
                                                    epsilon=1e-3),
    "adagrad_global_clipnorm": lambda o: o.Adagrad(learning_rate=0.1, global_clipnorm=0.7),
    # Adadelta
    "adadelta": lambda o: o.Adadelta(),
    "adadelta_lr1_rho": lambda o: o.Adadelta(learning_rate=1.0, rho=0.8, epsilon=1e-6),
    "adadelta_clipvalue": lambda o: o.Adadelta(learning_rate=1.0, clipvalue=0.3),
    # Ftrl
    "ftrl": lambda o: o.Ftrl(),
    "ftrl_l1_l2": lambda o: o.Ftrl(learning_rate=0.1, l1_regularization_strength=0.05,
                                   l2_regularization_strength=0.1),
    "ftrl_all_args": lambda o: o.Ftrl(learning_rate=0.2, learning_rate_power=-0.7,
                                      initial_accumulator_value=0.3,
                                      l1_regularization_strength=0.01,
                                      l2_regularization_strength=0.02,
                                      l2_shrinkage_regularization_strength=0.05, beta=0.5),
    "ftrl_fixed_lr_power": lambda o: o.Ftrl(learning_rate=0.1, learning_rate_power=0.0),
    "ftrl_weight_decay": lambda o: o.Ftrl(learning_rate=0.1, weight_decay=0.2),
    # Lion
    "lion": lambda o: o.Lion(),
    "lion_betas": lambda o: o.Lion(learning_rate=0.01, beta_1=0.5, beta_2=0.9),
    "lion_weight_decay": lambda o: o.Lion(learning_rate=0.01, weight_decay=0.5),
    # Lamb
    "lamb": lambda o: o.Lamb(),
    "lamb_lr_betas": lambda o: o.Lamb(learning_rate=0.05, beta_1=0.8, beta_2=0.99,
                                      epsilon=1e-4),
    "lamb_weight_decay": lambda o: o.Lamb(learning_rate=0.01, weight_decay=0.3),
    # The common arguments, across optimizers.
    "adam_ema_every_step": lambda o: o.Adam(learning_rate=0.05, use_ema=True,
                                            ema_momentum=0.5, ema_overwrite_frequency=1),
    "nadam_ema": lambda o: o.Nadam(learning_rate=0.05, use_ema=True),
    "adagrad_ema_overwrite": lambda o: o.Adagrad(learning_rate=0.1, use_ema=True,
                                                 ema_momentum=0.8, ema_overwrite_frequency=4),
    "lamb_loss_scale": lambda o: o.Lamb(learning_rate=0.01, loss_scale_factor=128.0),
    "adadelta_loss_scale": lambda o: o.Adadelta(learning_rate=1.0, loss_scale_factor=0.5),
    "adamax_accumulation": lambda o: o.Adamax(learning_rate=0.05,
                                              gradient_accumulation_steps=2),
    "ftrl_accumulation_clipnorm": lambda o: o.Ftrl(learning_rate=0.1, clipnorm=0.3,
                                                   gradient_accumulation_steps=4),
    "lion_global_clipnorm": lambda o: o.Lion(learning_rate=0.01, global_clipnorm=0.2),
    "lamb_clipvalue": lambda o: o.Lamb(learning_rate=0.05, clipvalue=0.2),
    "rmsprop_ema_accumulation": lambda o: o.RMSprop(learning_rate=0.01, use_ema=True,
                                                    ema_overwrite_frequency=2,
                                                    gradient_accumulation_steps=2),
    "sgd_all_common": lambda o: o.SGD(learning_rate=0.1, momentum=0.9, weight_decay=0.05,
                                      clipnorm=1.0, use_ema=True, loss_scale_factor=8.0,
                                      gradient_accumulation_steps=2),
    "adamw_amsgrad_accumulation": lambda o: o.AdamW(learning_rate=0.01, amsgrad=True,
                                                    gradient_accumulation_steps=3,
                                                    weight_decay=0.1),
}


# Ftrl's `linear` slot adds `(sqrt(new_accum) - sqrt(accum)) / lr * w`: at Keras' default lr of
# 1e-3 one float32 ulp of a square root (XLA's and torch's differ by one ulp in ~15% of inputs)
# becomes ~1e-4 in the slot. The weights themselves still agree to 1e-5.
SLOT_ATOL = {"ftrl": 1e-3}


def _data(seed, scale=1.0):
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=s).astype("float32") for s in SHAPES]
    # The scale varies per step so clipping is active on some steps and not on others.
    grads = [[(rng.normal(size=s) * rng.uniform(0.05, 2.0) * scale).astype("float32")
              for s in SHAPES] for _ in range(STEPS)]
    return weights, grads


def _run_keras(keras, make, weights, grads):
    """Keras' weights and optimizer after `optimizer.apply` of each step's grads, run as Keras'
    JAX trainer runs it: a jitted `stateless_apply` (eager JAX re-traces every `ops.cond` of
    EMA, accumulation and schedules at each step, ~1 s a step)."""
    import jax

    opt = make(keras.optimizers)
    variables = [keras.Variable(w) for w in weights]
    opt.build(variables)
    apply = jax.jit(opt.stateless_apply)
    opt_values = [v.value for v in opt.variables]
    values = [v.value for v in variables]
    for step in grads:
        values, opt_values = apply(opt_values, step, values)
    for v, value in zip(variables, values):
        v.assign(value)
    for v, value in zip(opt.variables, opt_values):
        v.assign(value)
    return opt, [np.asarray(v) for v in variables]


def _run_ours(make, weights, grads):
    opt = make(kt_optimizers)
    device = config.device()
    params = [torch.nn.Parameter(torch.tensor(w, device=device)) for w in weights]
    opt.build(params)
    for step in grads:
        for p, g in zip(params, step):
            p.grad = None if g is None else torch.tensor(g, device=device)
        opt.step()
    return opt, [p.detach().cpu().numpy() for p in params]


def _keras_variable(v):
    return np.asarray(v.value if hasattr(v, "value") else v)


def _ours_variable(v):
    # Raw parameters (not layers) here, so torch and Keras shapes agree.
    return v.numpy()


def _assert_same(keras_run, our_run, rtol=1e-5, atol=1e-6, slot_atol=None):
    (kopt, kw), (oopt, ow) = keras_run, our_run
    assert int(kopt.iterations) == oopt.iterations
    for k, o in zip(kw, ow):
        np.testing.assert_allclose(o, k, rtol=rtol, atol=atol)
    # Every optimizer variable (iterations, learning rate, slots, EMA, Nadam's u_product).
    kvars, ovars = kopt.variables, oopt.variables
    assert [tuple(v.shape) for v in ovars] == [tuple(v.shape) for v in kvars]
    for k, o in zip(kvars, ovars):
        np.testing.assert_allclose(_ours_variable(o), _keras_variable(k), rtol=rtol,
                                   atol=slot_atol or atol)


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_keras(keras3, case):
    weights, grads = _data(sorted(CASES).index(case), 1e-5 if "tiny" in case else 1.0)
    _assert_same(_run_keras(keras3, CASES[case], weights, grads),
                 _run_ours(CASES[case], weights, grads), slot_atol=SLOT_ATOL.get(case))


# ---------------------------------------------------------------------- schedules
SCHEDULE_CASES = {
    "exponential": lambda s: s.ExponentialDecay(0.1, 7, 0.8),
    "exponential_staircase": lambda s: s.ExponentialDecay(0.1, 7, 0.8, staircase=True),
    "inverse_time": lambda s: s.InverseTimeDecay(0.1, 5, 0.5),
    "inverse_time_staircase": lambda s: s.InverseTimeDecay(0.2, 4, 1.5, staircase=True),
    "piecewise": lambda s: s.PiecewiseConstantDecay([5, 20, 50], [1.0, 0.5, 0.1, 0.01]),
    "piecewise_one_boundary": lambda s: s.PiecewiseConstantDecay([10], [0.3, 0.03]),
    "polynomial": lambda s: s.PolynomialDecay(0.1, 40),
    "polynomial_power": lambda s: s.PolynomialDecay(0.1, 40, end_learning_rate=0.01,
                                                    power=0.5),
    "polynomial_cycle": lambda s: s.PolynomialDecay(0.1, 15, end_learning_rate=0.001,
                                                    power=2.0, cycle=True),
    "cosine": lambda s: s.CosineDecay(0.1, 30),
    "cosine_alpha": lambda s: s.CosineDecay(0.1, 30, alpha=0.2),
    "cosine_warmup": lambda s: s.CosineDecay(0.0, 30, alpha=0.1, warmup_target=0.5,
                                             warmup_steps=10),
    "cosine_warmup_from_nonzero": lambda s: s.CosineDecay(0.05, 20, warmup_target=0.2,
                                                          warmup_steps=7),
    "cosine_restarts": lambda s: s.CosineDecayRestarts(0.1, 10),
    "cosine_restarts_t_mul_1": lambda s: s.CosineDecayRestarts(0.1, 8, t_mul=1.0, m_mul=0.7,
                                                              alpha=0.05),
    "cosine_restarts_all": lambda s: s.CosineDecayRestarts(0.2, 5, t_mul=3.0, m_mul=0.5,
                                                          alpha=0.1),
    "cosine_restarts_t_mul_1_5": lambda s: s.CosineDecayRestarts(0.1, 4, t_mul=1.5,
                                                                m_mul=0.9),
}
SCHEDULE_STEPS = [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 14, 15, 16, 19, 20, 21, 25, 29, 30, 31,
                  37, 39, 40, 41, 45, 50, 51, 64, 99, 100, 155, 1000, 12345]


@pytest.mark.parametrize("case", sorted(SCHEDULE_CASES))
def test_schedule_values_match_keras(keras3, case):
    ref = SCHEDULE_CASES[case](keras3.optimizers.schedules)
    ours = SCHEDULE_CASES[case](kt_optimizers.schedules)
    # Keras' schedule per step, compiled once: eager JAX re-traces `ops.cond` at every call
    # (~0.3 s). PolynomialDecay stays eager: XLA fuses its division and `pow` less exactly
    # (under `jit`, ceil(45 / 15) is 4 and 0**2 is 1e-5), and eager is Keras' arithmetic.
    import jax

    evaluate = ref if case.startswith("polynomial") else jax.jit(ref)
    expected = np.array([float(evaluate(np.int64(step))) for step in SCHEDULE_STEPS])
    python_path = np.array([float(ours(step)) for step in SCHEDULE_STEPS])
    # A tensor step (as Keras calls them) gives a tensor with the same numbers.
    tensor_path = np.array([float(ours(torch.tensor(step))) for step in SCHEDULE_STEPS])
    # Keras computes in float32 (1 + cos(pi * f) near f = 1 loses digits); ours in float64.
    np.testing.assert_allclose(python_path, expected, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(tensor_path, expected, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("case", sorted(SCHEDULE_CASES))
def test_schedule_config_and_serialization_match_keras(keras3, case):
    ref = SCHEDULE_CASES[case](keras3.optimizers.schedules)
    ours = SCHEDULE_CASES[case](kt_optimizers.schedules)
    assert ours.get_config() == ref.get_config()
    serialized = kt_optimizers.schedules.serialize(ours)
    assert serialized == keras3.optimizers.schedules.serialize(ref)
    # Both directions: Keras' serialized form builds ours, ours builds Keras'.
    restored = kt_optimizers.schedules.deserialize(keras3.optimizers.schedules.serialize(ref))
    assert type(restored) is type(ours) and restored.get_config() == ours.get_config()
    back = keras3.optimizers.schedules.deserialize(serialized)
    assert back.get_config() == ref.get_config()


@pytest.mark.parametrize("case", ["piecewise", "polynomial_cycle", "cosine_warmup",
                                  "cosine_restarts_all", "inverse_time"])
def test_schedule_drives_optimizer_per_batch_like_keras(keras3, case):
    # The schedule is evaluated at `iterations` before each update; with gradient accumulation
    # at the accumulated-update count. Long enough to cross boundaries and restarts.
    weights, grads = _data(7)
    grads = grads * 4  # 40 steps
    for make in (lambda o: o.SGD(learning_rate=SCHEDULE_CASES[case](o.schedules),
                                 momentum=0.5, weight_decay=0.01),
                 lambda o: o.Adam(learning_rate=SCHEDULE_CASES[case](o.schedules),
                                  gradient_accumulation_steps=2)):
        _assert_same(_run_keras(keras3, make, weights, grads),
                     _run_ours(make, weights, grads), rtol=2e-5, atol=2e-6)


# ---------------------------------------------------------------------- configs and names
NEW_OPTIMIZERS = ["Adamax", "Nadam", "Adagrad", "Adadelta", "Ftrl", "Lion", "Lamb"]


def _assert_same_config(ours, ref):
    assert list(ours) == list(ref)
    for key in ref:
        if key == "name":  # both made unique per instance: `adam`, `adam_1`
            assert ours[key].split("_")[0] == ref[key].split("_")[0]
        elif key == "learning_rate":  # Keras holds it in a float32 variable
            assert ours[key] == pytest.approx(ref[key], rel=1e-7)
        else:
            assert ours[key] == ref[key], key


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Keras' own np.array(Variable)
@pytest.mark.parametrize("name", NEW_OPTIMIZERS)
def test_config_and_names_match_keras(keras3, name):
    ref = getattr(keras3.optimizers, name)(learning_rate=0.02, clipvalue=0.5, use_ema=True)
    ours = getattr(kt_optimizers, name)(learning_rate=0.02, clipvalue=0.5, use_ema=True)
    _assert_same_config(ours.get_config(), ref.get_config())
    # Keras' serialized optimizer deserializes here (and by its lower-case name), and back.
    restored = kt_optimizers.deserialize(keras3.optimizers.serialize(ref))
    assert type(restored) is type(ours)
    _assert_same_config(restored.get_config(), ours.get_config())
    assert type(kt_optimizers.get(name.lower())) is type(ours)
    if name != "Lamb":  # Keras 3.15's `get`/`deserialize` do not list Lamb; ours do
        assert type(keras3.optimizers.get(name.lower())) is type(ref)
        back = keras3.optimizers.deserialize(kt_optimizers.serialize(ours))
        assert type(back) is type(ref)


@pytest.mark.parametrize("name", NEW_OPTIMIZERS)
def test_variables_order_matches_keras(keras3, name):
    weights, _ = _data(0)
    kwargs = {"use_ema": True, "gradient_accumulation_steps": 2}
    ref = getattr(keras3.optimizers, name)(**kwargs)
    ref.build([keras3.Variable(w) for w in weights])
    ours = getattr(kt_optimizers, name)(**kwargs)
    ours.build([torch.nn.Parameter(torch.tensor(w)) for w in weights])
    assert [tuple(v.shape) for v in ours.variables] == [tuple(v.shape) for v in ref.variables]
    for k, o in zip(ref.variables, ours.variables):  # initial values (Adagrad's 0.1, ...)
        np.testing.assert_allclose(_ours_variable(o), _keras_variable(k), rtol=1e-6)
    # Keras' optimizer state loads into ours with set_weights, and then steps identically.
    _, grads = _data(1)
    kopt, _ = _run_keras(keras3, lambda o: getattr(o, name)(learning_rate=0.01), weights,
                         grads[:4])
    fresh = getattr(kt_optimizers, name)(learning_rate=0.01)
    fresh.build([torch.nn.Parameter(torch.tensor(w)) for w in weights])
    fresh.set_weights([_keras_variable(v) for v in kopt.variables])
    assert fresh.iterations == 4
    for k, o in zip(kopt.variables, fresh.variables):
        np.testing.assert_allclose(_ours_variable(o), _keras_variable(k), rtol=1e-6)


# ---------------------------------------------------------------------- through `fit`
FIT_CASES = {
    "adamax": lambda o: o.Adamax(learning_rate=0.01),
    "nadam_weight_decay": lambda o: o.Nadam(learning_rate=0.01, weight_decay=0.05),
    "adagrad": lambda o: o.Adagrad(learning_rate=0.05),
    "adadelta": lambda o: o.Adadelta(learning_rate=1.0),
    "ftrl": lambda o: o.Ftrl(learning_rate=0.05, l1_regularization_strength=0.001),
    "lion_schedule": lambda o: o.Lion(
        learning_rate=o.schedules.CosineDecay(0.0, 10, warmup_target=0.003, warmup_steps=4)),
    "lamb_clipnorm": lambda o: o.Lamb(learning_rate=0.01, clipnorm=0.5),
    "sgd_polynomial_accumulation": lambda o: o.SGD(
        learning_rate=o.schedules.PolynomialDecay(0.1, 5, power=2.0),
        gradient_accumulation_steps=2),
}
# Keras' `fit` multiplies the loss by `optimizer.scale_loss` before the gradients and ends with
# `optimizer.finalize_variable_values` (EMA weights); the trainer must do both.
FIT_HOOKS = {
    "adam_loss_scale": lambda o: o.Adam(learning_rate=0.01, loss_scale_factor=16.0),
    "adam_ema": lambda o: o.Adam(learning_rate=0.01, use_ema=True, ema_momentum=0.5),
}


def _mlp(lib, optimizer):
    model = lib.Sequential([lib.Input(shape=(6,)), lib.layers.Dense(8, activation="relu"),
                            lib.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer, loss="categorical_crossentropy")
    return model


def _fit_both(keras, make, rng):
    x = rng.normal(size=(48, 6)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 48)]
    ref = _mlp(keras, make(keras.optimizers))
    ours = _mlp(__import__("kerastorch"), make(kt_optimizers))
    ours.set_weights(ref.get_weights())
    # 2 epochs of 6 batches: 12 updates (6 with accumulation).
    h_ref = ref.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    h_ours = ours.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(h_ours.history["loss"], h_ref.history["loss"], rtol=1e-4)
    assert ours.optimizer.iterations == int(ref.optimizer.iterations)


@pytest.mark.parametrize("case", sorted(FIT_CASES))
def test_fit_matches_keras(keras3, rng, case):
    _fit_both(keras3, FIT_CASES[case], rng)


@pytest.mark.parametrize("case", sorted(FIT_HOOKS))
def test_fit_loss_scale_and_ema_match_keras(keras3, rng, case):
    _fit_both(keras3, FIT_HOOKS[case], rng)
