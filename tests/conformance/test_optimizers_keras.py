"""Optimizers against Keras 3 on JAX: same start weights, same gradients, same weights after.

Each case builds the Keras optimizer and ours from one function of the namespace
(`keras.optimizers` or `kerastorch.optimizers`), so both get identical arguments. Ours runs on
`kerastorch.config.device()` (`KERASTORCH_DEVICE=cuda` checks the CUDA foreach kernels).
"""

import numpy as np
import pytest
import torch

import kerastorch.optimizers as kt_optimizers
from kerastorch import config

pytestmark = pytest.mark.conformance

SHAPES = [(3, 4), (4,), (2, 3, 2), (1,)]
STEPS = 10

CASES = {
    "sgd": lambda o: o.SGD(learning_rate=0.1),
    "sgd_momentum": lambda o: o.SGD(learning_rate=0.05, momentum=0.9),
    "sgd_nesterov": lambda o: o.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
    "sgd_weight_decay": lambda o: o.SGD(learning_rate=0.1, momentum=0.5, weight_decay=0.2),
    "sgd_global_clipnorm": lambda o: o.SGD(learning_rate=0.1, global_clipnorm=1.0),
    "sgd_schedule_staircase": lambda o: o.SGD(
        learning_rate=o.schedules.ExponentialDecay(0.1, 2, 0.7, staircase=True),
        momentum=0.9, weight_decay=0.1),
    "sgd_accumulation": lambda o: o.SGD(learning_rate=0.1, momentum=0.9,
                                        gradient_accumulation_steps=3),
    "adam": lambda o: o.Adam(),
    # Gradients near epsilon: where Keras' epsilon placement differs from torch's.
    "adam_tiny_grads": lambda o: o.Adam(learning_rate=0.01),
    "adam_lr": lambda o: o.Adam(learning_rate=0.05, beta_1=0.8, beta_2=0.99, epsilon=1e-3),
    "adam_amsgrad": lambda o: o.Adam(learning_rate=0.01, amsgrad=True),
    "adam_clipnorm": lambda o: o.Adam(learning_rate=0.01, clipnorm=0.5),
    "adam_clipvalue": lambda o: o.Adam(learning_rate=0.01, clipvalue=0.1),
    "adam_schedule": lambda o: o.Adam(
        learning_rate=o.schedules.ExponentialDecay(0.01, 3, 0.5), weight_decay=0.05),
    "adam_ema": lambda o: o.Adam(learning_rate=0.01, use_ema=True, ema_momentum=0.9,
                                 ema_overwrite_frequency=3),
    "adam_loss_scale": lambda o: o.Adam(learning_rate=0.01, loss_scale_factor=64.0),
    "adam_accumulation": lambda o: o.Adam(learning_rate=0.01, gradient_accumulation_steps=2),
    "adamw": lambda o: o.AdamW(),
    "adamw_strong": lambda o: o.AdamW(learning_rate=0.01, weight_decay=0.5, amsgrad=True),
    "adamw_global_clipnorm": lambda o: o.AdamW(learning_rate=0.01, global_clipnorm=0.3),
    "rmsprop": lambda o: o.RMSprop(),
    "rmsprop_tiny_grads": lambda o: o.RMSprop(learning_rate=0.01, momentum=0.5),
    "rmsprop_centered": lambda o: o.RMSprop(learning_rate=0.01, centered=True),
    "rmsprop_momentum": lambda o: o.RMSprop(learning_rate=0.01, momentum=0.9),
    "rmsprop_centered_momentum": lambda o: o.RMSprop(learning_rate=0.01, rho=0.8,
                                                     momentum=0.5, centered=True),
    "rmsprop_clipvalue_decay": lambda o: o.RMSprop(learning_rate=0.01, clipvalue=0.2,
                                                   weight_decay=0.1),
}


def _data(seed, scale=1.0):
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=s).astype("float32") for s in SHAPES]
    # Scale varies per step so clipping is active on some steps and not on others.
    grads = [[(rng.normal(size=s) * rng.uniform(0.05, 2.0) * scale).astype("float32")
              for s in SHAPES] for _ in range(STEPS)]
    return weights, grads


def _run_keras(keras, make, weights, grads):
    opt = make(keras.optimizers)
    variables = [keras.Variable(w) for w in weights]
    for step in grads:
        # Keras on JAX filters `None` grads exactly as torch skips params without `.grad`.
        present = [(g, v) for g, v in zip(step, variables) if g is not None]
        opt.apply([g for g, _ in present], [v for _, v in present])
    if getattr(opt, "use_ema", False):
        averages = [np.asarray(v) for v in opt._model_variables_moving_average]
    else:
        averages = None
    return [np.asarray(v) for v in variables], averages, int(opt.iterations)


def _run_ours(make, weights, grads):
    opt = make(kt_optimizers)
    device = config.device()
    params = [torch.nn.Parameter(torch.tensor(w, device=device)) for w in weights]
    opt.build(params)
    for step in grads:
        for p, g in zip(params, step):
            p.grad = None if g is None else torch.tensor(g, device=device)
        opt.step()
    averages = [a.cpu().numpy() for a in opt._slots["average"]] if opt.use_ema else None
    return [p.detach().cpu().numpy() for p in params], averages, opt.iterations


def _assert_same(keras_result, our_result):
    (kw, ka, kit), (ow, oa, oit) = keras_result, our_result
    assert kit == oit
    for k, o in zip(kw, ow):
        np.testing.assert_allclose(o, k, rtol=1e-5, atol=1e-6)
    if ka is not None:
        for k, o in zip(ka, oa):
            np.testing.assert_allclose(o, k, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_keras(keras3, case):
    weights, grads = _data(sorted(CASES).index(case), 1e-5 if "tiny" in case else 1.0)
    _assert_same(_run_keras(keras3, CASES[case], weights, grads),
                 _run_ours(CASES[case], weights, grads))


@pytest.mark.parametrize("case", ["adam", "sgd_momentum", "rmsprop_centered_momentum"])
def test_missing_gradients_match_keras(keras3, case):
    # A variable without a gradient keeps its weights and slots for that step, in both.
    weights, grads = _data(100)
    grads[2][1] = None
    grads[3][0] = None
    grads[3][3] = None
    _assert_same(_run_keras(keras3, CASES[case], weights, grads),
                 _run_ours(CASES[case], weights, grads))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Keras' own np.array(Variable)
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop"])
def test_config_matches_keras(keras3, name):
    ref = getattr(keras3.optimizers, name)().get_config()
    ours = getattr(kt_optimizers, name)().get_config()
    assert list(ours) == list(ref)
    for key in ref:
        if key == "name":
            assert ours[key].split("_")[0] == ref[key].split("_")[0]
        elif key == "learning_rate":  # Keras holds it in a float32 variable
            assert ours[key] == pytest.approx(ref[key], rel=1e-7)
        else:
            assert ours[key] == ref[key], key


def test_schedule_config_matches_keras(keras3):
    ref = keras3.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9, staircase=True)
    ours = kt_optimizers.schedules.ExponentialDecay(0.1, 10, 0.9, staircase=True)
    assert ours.get_config() == ref.get_config()
    assert kt_optimizers.schedules.serialize(ours) == keras3.optimizers.schedules.serialize(ref)
    for step in (0, 7, 10, 25):
        assert ours(step) == pytest.approx(float(ref(step)), rel=1e-6)
    # A serialized Keras optimizer deserializes here, schedule included.
    config = keras3.optimizers.serialize(keras3.optimizers.SGD(learning_rate=ref, momentum=0.5))
    opt = kt_optimizers.deserialize(config)
    assert isinstance(opt, kt_optimizers.SGD) and opt.momentum == 0.5
    assert opt.learning_rate == pytest.approx(0.1)


def test_variables_order_matches_keras(keras3):
    weights, _ = _data(0)
    for make in (lambda o: o.Adam(amsgrad=True, use_ema=True, gradient_accumulation_steps=2),
                 lambda o: o.RMSprop(momentum=0.5, centered=True),
                 lambda o: o.SGD(momentum=0.9)):
        ref = make(keras3.optimizers)
        ref.build([keras3.Variable(w) for w in weights])
        ours = make(kt_optimizers)
        ours.build([torch.nn.Parameter(torch.tensor(w)) for w in weights])
        assert [tuple(v.shape) for v in ours.variables] == [tuple(v.shape) for v in ref.variables]
