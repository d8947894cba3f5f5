"""The Keras optimizers beyond SGD/Adam/RMSprop and the schedules: values worked out by hand."""

import copy
import math
import pickle

import pytest
import torch

from kerastorch import optimizers
from kerastorch.optimizers import schedules

G = [0.5, -2.0, 0.0]  # one gradient of each sign, and a zero


def _first_step(opt, w0, g=G):
    p = torch.nn.Parameter(torch.tensor(w0, dtype=torch.float32))
    opt.build([p])
    p.grad = torch.tensor(g, dtype=torch.float32)
    opt.step()
    return p.detach().tolist()


def _close(actual, expected, rel=1e-5, abs=1e-7):
    assert actual == pytest.approx(expected, rel=rel, abs=abs)


# ---------------------------------------------------------------------- first steps by hand
def test_adamax_first_step():
    lr, eps = 0.1, 1e-7
    w = _first_step(optimizers.Adamax(learning_rate=lr), [1.0, 1.0, 1.0])
    # m = 0.1 g, u = |g|, w -= lr * m / ((1 - 0.9) * (u + eps))
    _close(w, [1 - lr * 0.1 * g / (0.1 * (abs(g) + eps)) for g in G])


def test_adagrad_first_step_uses_initial_accumulator():
    lr, eps = 0.1, 1e-7
    for init in (0.1, 2.0):
        w = _first_step(optimizers.Adagrad(learning_rate=lr, initial_accumulator_value=init),
                        [1.0, 1.0, 1.0])
        _close(w, [1 - lr * g / math.sqrt(init + g * g + eps) for g in G])


def test_adagrad_accumulator_starts_at_initial_value():
    p = torch.nn.Parameter(torch.zeros(2))
    opt = optimizers.Adagrad(initial_accumulator_value=0.25)
    opt.build([p])
    assert opt.state[p]["accumulator"].tolist() == [0.25, 0.25]


def test_adadelta_first_step():
    lr, rho, eps = 1.0, 0.95, 1e-7
    w = _first_step(optimizers.Adadelta(learning_rate=lr), [1.0, 1.0, 1.0])
    # acc_grad = (1 - rho) g^2; delta = -sqrt(0 + eps) g / sqrt(acc_grad + eps)
    _close(w, [1 - lr * math.sqrt(eps) * g / math.sqrt((1 - rho) * g * g + eps) for g in G])


def test_nadam_first_two_steps_follow_the_momentum_schedule():
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-7
    opt = optimizers.Nadam(learning_rate=lr)
    p = torch.nn.Parameter(torch.zeros(1))
    opt.build([p])
    w, m, v, u_product = 0.0, 0.0, 0.0, 1.0
    for t, g in ((1, 0.5), (2, -1.5)):
        u_t = b1 * (1 - 0.5 * 0.96**t)
        u_t1 = b1 * (1 - 0.5 * 0.96 ** (t + 1))
        u_product *= u_t
        m += (g - m) * (1 - b1)
        v += (g * g - v) * (1 - b2)
        m_hat = u_t1 * m / (1 - u_product * u_t1) + (1 - u_t) * g / (1 - u_product)
        w -= lr * m_hat / (math.sqrt(v / (1 - b2**t)) + eps)
        p.grad = torch.tensor([g])
        opt.step()
        _close(p.item(), w)
    _close(float(opt.variables[-1]), u_product)  # u_product is Keras' last variable


def test_ftrl_first_step():
    lr, init = 0.1, 0.1
    w0 = [1.0, -0.5, 2.0]
    w = _first_step(optimizers.Ftrl(learning_rate=lr), w0)
    expected = []
    for wi, g in zip(w0, G):
        new = init + g * g
        linear = g - (math.sqrt(new) - math.sqrt(init)) / lr * wi
        expected.append(-linear / (math.sqrt(new) / lr))  # l1 = 0: clip(linear, 0, 0) = 0
    _close(w, expected)


def test_ftrl_l1_zeroes_small_linear_terms_and_l2_beta_shrink():
    lr, l1, l2, beta, shrink = 0.1, 0.6, 0.2, 0.3, 0.05
    w0 = [1.0, -0.5, 2.0]
    opt = optimizers.Ftrl(learning_rate=lr, learning_rate_power=-1.0,
                          initial_accumulator_value=0.5, l1_regularization_strength=l1,
                          l2_regularization_strength=l2, beta=beta,
                          l2_shrinkage_regularization_strength=shrink)
    w = _first_step(opt, w0)
    expected = []
    for wi, g in zip(w0, G):
        new = 0.5 + g * g  # power p = 1
        linear = (g + 2 * shrink * wi) - (new - 0.5) / lr * wi
        quadratic = new / lr + 2 * (l2 + beta / (2 * lr))
        expected.append((max(-l1, min(l1, linear)) - linear) / quadratic)
    _close(w, expected)
    assert 0.0 in w or any(abs(x) < 1e-7 for x in w)  # |linear| <= l1 gives exactly 0


def test_lion_first_step_moves_every_coordinate_by_lr():
    lr = 0.01
    opt = optimizers.Lion(learning_rate=lr)
    w = _first_step(opt, [1.0, 1.0, 1.0])
    _close(w, [1 - lr * (1 if g > 0 else -1 if g < 0 else 0) for g in G])
    p = opt._params[0]
    _close(opt.state[p]["momentum"].tolist(), [0.01 * g for g in G])  # (1 - beta_2) g


def test_lamb_first_step_scales_by_trust_ratio():
    lr, eps = 0.1, 1e-7
    w0 = [3.0, 4.0, 0.0]
    w = _first_step(optimizers.Lamb(learning_rate=lr), w0)
    update = [g / (abs(g) + eps) for g in G]  # bias-corrected m / (sqrt(v_hat) + eps)
    ratio = math.hypot(*w0) / math.sqrt(sum(u * u for u in update))
    _close(w, [wi - lr * ratio * u for wi, u in zip(w0, update)])


def test_lamb_ratio_is_one_for_zero_weights():
    w = _first_step(optimizers.Lamb(learning_rate=0.1), [0.0, 0.0, 0.0])
    _close(w, [-0.1 * g / (abs(g) + 1e-7) for g in G])


@pytest.mark.parametrize("name", ["adamax", "nadam", "adagrad", "adadelta", "ftrl", "lion",
                                  "lamb"])
def test_decoupled_weight_decay_comes_first(name):
    # With a zero gradient only the decay moves the weights (for all but Ftrl, whose update
    # then recomputes w from its `linear` slot, and Adadelta whose step is 0 anyway).
    opt = optimizers.get({"class_name": name, "config": {"learning_rate": 0.1,
                                                         "weight_decay": 0.5}})
    w = _first_step(opt, [2.0, 2.0, 2.0], g=[0.0, 0.0, 0.0])
    if name == "ftrl":  # linear = -(sqrt(0.1) - sqrt(0.1)) / lr * w = 0 -> w = 0
        _close(w, [0.0, 0.0, 0.0])
    else:
        _close(w, [2.0 - 2.0 * 0.5 * 0.1] * 3)


# ---------------------------------------------------------------------- arguments
@pytest.mark.parametrize("kwargs, message", [
    ({"initial_accumulator_value": -0.1}, "initial_accumulator_value"),
    ({"learning_rate_power": 0.5}, "learning_rate_power"),
    ({"l1_regularization_strength": -1.0}, "l1_regularization_strength"),
    ({"l2_regularization_strength": -1.0}, "l2_regularization_strength"),
    ({"l2_shrinkage_regularization_strength": -1.0}, "l2_shrinkage_regularization_strength"),
])
def test_ftrl_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optimizers.Ftrl(**kwargs)


@pytest.mark.parametrize("beta_1", [0.0, -0.1, 1.5])
def test_lion_rejects_beta_1_outside_0_1(beta_1):
    with pytest.raises(ValueError, match="beta_1"):
        optimizers.Lion(beta_1=beta_1)


@pytest.mark.parametrize("name, cls, defaults", [
    ("adamax", optimizers.Adamax, {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999,
                                   "epsilon": 1e-7}),
    ("nadam", optimizers.Nadam, {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999,
                                 "epsilon": 1e-7}),
    ("adagrad", optimizers.Adagrad, {"learning_rate": 0.001, "initial_accumulator_value": 0.1,
                                     "epsilon": 1e-7}),
    ("adadelta", optimizers.Adadelta, {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7}),
    ("ftrl", optimizers.Ftrl, {"learning_rate": 0.001, "learning_rate_power": -0.5,
                               "initial_accumulator_value": 0.1, "beta": 0.0}),
    ("lion", optimizers.Lion, {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.99}),
    ("lamb", optimizers.Lamb, {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999,
                               "epsilon": 1e-7}),
])
def test_get_by_keras_name_with_keras_defaults(name, cls, defaults):
    for identifier in (name, cls.__name__):
        opt = optimizers.get(identifier)
        assert type(opt) is cls
        config = opt.get_config()
        for key, value in defaults.items():
            assert config[key] == pytest.approx(value), key


@pytest.mark.parametrize("name", ["Adamax", "Nadam", "Adagrad", "Adadelta", "Ftrl", "Lion",
                                  "Lamb"])
def test_serialize_round_trip_with_schedule(name):
    schedule = schedules.CosineDecay(0.1, 100, alpha=0.1, warmup_target=0.2, warmup_steps=5)
    opt = getattr(optimizers, name)(learning_rate=schedule, clipnorm=1.0, use_ema=True)
    config = optimizers.serialize(opt)
    assert config["class_name"] == name
    assert config["config"]["learning_rate"]["class_name"] == "CosineDecay"
    restored = optimizers.deserialize(config)
    assert type(restored) is type(opt) and restored.get_config() == opt.get_config()


# ---------------------------------------------------------------------- state
def _nadam_run(opt, param, grads):
    for g in grads:
        param.grad = g
        opt.step()


def test_nadam_state_dict_and_pickle_keep_u_product():
    torch.manual_seed(0)
    grads = [torch.randn(3) for _ in range(6)]
    straight = torch.nn.Parameter(torch.ones(3))
    opt = optimizers.Nadam(learning_rate=0.1)
    opt.build([straight])
    _nadam_run(opt, straight, grads)

    resumed = torch.nn.Parameter(torch.ones(3))
    first = optimizers.Nadam(learning_rate=0.1)
    first.build([resumed])
    _nadam_run(first, resumed, grads[:3])
    second = optimizers.Nadam(learning_rate=0.1)
    second.build([resumed])
    second.load_state_dict(copy.deepcopy(first.state_dict()))
    assert second._u_product == first._u_product != 1.0
    _nadam_run(second, resumed, grads[3:])
    torch.testing.assert_close(resumed.detach(), straight.detach())

    clone = pickle.loads(pickle.dumps(opt))
    assert clone._u_product == opt._u_product and clone.iterations == 6


def test_nadam_u_product_advances_only_on_applied_updates():
    p = torch.nn.Parameter(torch.zeros(2))
    opt = optimizers.Nadam(gradient_accumulation_steps=3)
    opt.build([p])
    for _ in range(2):
        p.grad = torch.ones(2)
        opt.step()
    assert opt._u_product == 1.0 and opt.iterations == 0
    p.grad = torch.ones(2)
    opt.step()
    _close(opt._u_product, 0.9 * (1 - 0.5 * 0.96))
    assert opt.iterations == 1


@pytest.mark.parametrize("name", ["Adamax", "Nadam", "Adagrad", "Adadelta", "Ftrl", "Lion",
                                  "Lamb"])
def test_set_weights_round_trip(name):
    a, b = torch.nn.Parameter(torch.ones(2, 3)), torch.nn.Parameter(torch.ones(4))
    opt = getattr(optimizers, name)(learning_rate=0.05)
    opt.build([a, b])
    for _ in range(2):
        a.grad, b.grad = torch.full((2, 3), 0.3), torch.full((4,), -0.7)
        opt.step()
    saved = [v.value.clone() for v in opt.variables]
    other = getattr(optimizers, name)(learning_rate=0.5)
    other.build([torch.nn.Parameter(torch.ones(2, 3)), torch.nn.Parameter(torch.ones(4))])
    other.set_weights(saved)
    assert other.iterations == 2 and other.learning_rate == pytest.approx(0.05)
    for x, y in zip(other.variables, saved):
        torch.testing.assert_close(x.value, y.to(x.value.dtype))


@pytest.mark.parametrize("name", ["Adamax", "Nadam", "Adagrad", "Adadelta", "Ftrl", "Lion",
                                  "Lamb"])
def test_missing_gradient_leaves_variable_and_slots_alone(name):
    a, b = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(2))
    opt = getattr(optimizers, name)(learning_rate=0.1)
    opt.build([a, b])
    before = {n: s.clone() for n, s in opt.state[b].items()}
    a.grad, b.grad = torch.full((3,), 0.5), None
    opt.step()
    assert b.tolist() == [1.0, 1.0]
    for n, slot in opt.state[b].items():
        assert torch.equal(slot, before[n]), n
    assert a.tolist() != [1.0, 1.0, 1.0]


def test_learning_rate_can_be_set_between_steps_without_rebuilding():
    p = torch.nn.Parameter(torch.zeros(1))
    opt = optimizers.Lion(learning_rate=0.1)
    opt.build([p])
    state = opt.state[p]["momentum"]
    p.grad = torch.ones(1)
    opt.step()
    opt.learning_rate = 0.01  # as a callback does
    assert opt.param_groups[0]["lr"] == 0.01
    p.grad = torch.ones(1)
    opt.step()
    _close(p.item(), -0.11)
    assert opt.state[p]["momentum"] is state


# ---------------------------------------------------------------------- schedules by hand
@pytest.mark.parametrize("schedule, step, expected", [
    (schedules.InverseTimeDecay(0.1, 5, 0.5), 10, 0.1 / (1 + 0.5 * 2)),
    (schedules.InverseTimeDecay(0.1, 5, 0.5), 7, 0.1 / (1 + 0.5 * 1.4)),
    (schedules.InverseTimeDecay(0.1, 5, 0.5, staircase=True), 7, 0.1 / 1.5),
    (schedules.PiecewiseConstantDecay([5, 10], [1.0, 0.5, 0.1]), 0, 1.0),
    (schedules.PiecewiseConstantDecay([5, 10], [1.0, 0.5, 0.1]), 5, 1.0),
    (schedules.PiecewiseConstantDecay([5, 10], [1.0, 0.5, 0.1]), 6, 0.5),
    (schedules.PiecewiseConstantDecay([5, 10], [1.0, 0.5, 0.1]), 10, 0.5),
    (schedules.PiecewiseConstantDecay([5, 10], [1.0, 0.5, 0.1]), 11, 0.1),
    (schedules.PolynomialDecay(0.1, 10, end_learning_rate=0.0, power=2.0), 5, 0.1 * 0.25),
    (schedules.PolynomialDecay(0.1, 10, end_learning_rate=0.01), 20, 0.01),
    (schedules.PolynomialDecay(0.1, 10, end_learning_rate=0.0, power=2.0, cycle=True), 15,
     0.1 * 0.25**2),
    (schedules.PolynomialDecay(0.1, 10, end_learning_rate=0.0, cycle=True), 0, 0.1),
    (schedules.CosineDecay(1.0, 10), 5, 0.5),
    (schedules.CosineDecay(1.0, 10), 50, 0.0),
    (schedules.CosineDecay(1.0, 10, alpha=0.2), 5, 0.6),
    (schedules.CosineDecay(0.0, 10, warmup_target=1.0, warmup_steps=4), 2, 0.5),
    (schedules.CosineDecay(0.0, 10, warmup_target=1.0, warmup_steps=4), 4, 1.0),
    (schedules.CosineDecay(0.0, 10, warmup_target=1.0, warmup_steps=4), 9, 0.5),
    (schedules.CosineDecay(0.0, 10, warmup_target=1.0, warmup_steps=4, alpha=0.1), 99, 0.1),
    (schedules.CosineDecayRestarts(1.0, 10, t_mul=2.0, m_mul=0.5), 5, 0.5),
    (schedules.CosineDecayRestarts(1.0, 10, t_mul=2.0, m_mul=0.5), 10, 0.5),
    (schedules.CosineDecayRestarts(1.0, 10, t_mul=2.0, m_mul=0.5), 20, 0.25),
    (schedules.CosineDecayRestarts(1.0, 10, t_mul=2.0, m_mul=0.5), 30, 0.25),
    (schedules.CosineDecayRestarts(1.0, 10, t_mul=1.0, alpha=0.5), 25, 0.75),
])
def test_schedule_formulas(schedule, step, expected):
    assert schedule(step) == pytest.approx(expected, abs=1e-12)
    out = schedule(torch.tensor(step))  # a tensor step gives a tensor, same number
    assert isinstance(out, torch.Tensor)
    assert out.item() == pytest.approx(expected, rel=1e-6, abs=1e-7)


@pytest.mark.parametrize("make, message", [
    (lambda: schedules.InverseTimeDecay(0.1, 0, 0.5), "decay_steps"),
    (lambda: schedules.PolynomialDecay(0.1, -1), "decay_steps"),
    (lambda: schedules.CosineDecay(0.1, 0), "decay_steps"),
    (lambda: schedules.CosineDecayRestarts(0.1, 0), "first_decay_steps"),
    (lambda: schedules.PiecewiseConstantDecay([1, 2], [1.0, 0.5]), "boundaries"),
])
def test_schedule_argument_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_schedule_is_stepped_per_update_at_the_iteration_count():
    p = torch.nn.Parameter(torch.zeros(1))
    opt = optimizers.SGD(learning_rate=schedules.PiecewiseConstantDecay([1], [1.0, 0.1]))
    opt.build([p])
    seen = []
    for _ in range(3):
        seen.append(opt.learning_rate)  # evaluated at `iterations` before the update
        p.grad = torch.ones(1)
        opt.step()
    assert seen == [1.0, 1.0, 0.1]
    _close(p.item(), -2.1)
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.5


@pytest.mark.parametrize("name", ["InverseTimeDecay", "PiecewiseConstantDecay",
                                  "PolynomialDecay", "CosineDecay", "CosineDecayRestarts"])
def test_schedule_serialize_round_trip(name):
    args = {"PiecewiseConstantDecay": ([3, 9], [0.3, 0.2, 0.1])}.get(name, (0.1, 10))
    if name in ("InverseTimeDecay",):
        args = (0.1, 10, 0.5)
    schedule = getattr(schedules, name)(*args)
    config = schedules.serialize(schedule)
    assert config["module"] == "keras.optimizers.schedules" and config["class_name"] == name
    restored = schedules.deserialize(config)
    assert type(restored) is type(schedule) and restored.get_config() == schedule.get_config()
    for step in (0, 4, 10, 33):
        assert restored(step) == schedule(step)


def test_callable_learning_rate_is_read_at_each_update():
    current = {"lr": 0.1}
    p = torch.nn.Parameter(torch.zeros(1))
    opt = optimizers.Adagrad(learning_rate=lambda: current["lr"], initial_accumulator_value=0.0,
                             epsilon=0.0)
    opt.build([p])
    for lr in (0.1, 0.3):
        current["lr"] = lr
        p.grad = torch.ones(1)
        opt.step()
    # acc 1 then 2: w = -0.1 * 1 / 1 - 0.3 * 1 / sqrt(2)
    _close(p.item(), -0.1 - 0.3 / math.sqrt(2))
    assert len(opt.variables) == 2  # iterations and the slot: a callable is not a variable
