"""Optimizers: hand-computed steps, Keras conventions, the registry, torch interop."""

import copy
import math

import pytest
import torch

from kerastorch import optimizers
from kerastorch.optimizers import schedules


def _param(*values):
    return torch.nn.Parameter(torch.tensor(values, dtype=torch.float32))


def _step(opt, params, *grads):
    """Set `.grad` of each param (None skips it) and run one `step()`; builds on first use."""
    if not opt.built:
        opt.build(params)
    for p, g in zip(params, grads):
        p.grad = None if g is None else torch.tensor(g, dtype=torch.float32)
    opt.step()


def _values(p):
    return p.detach().tolist()


# ---------------------------------------------------------------------- update rules
def test_adam_first_step_matches_semantics_table():
    p = _param(0.0)
    _step(optimizers.Adam(learning_rate=1e-3), [p], [1e-4])
    # m = 1e-5, v = 1e-11, alpha = lr * sqrt(1 - 0.999) / (1 - 0.9); eps outside sqrt(v).
    alpha = 1e-3 * math.sqrt(1 - 0.999) / (1 - 0.9)
    expected = -alpha * 1e-5 / (math.sqrt(1e-11) + 1e-7)
    assert _values(p)[0] == pytest.approx(expected, rel=1e-5)
    assert _values(p)[0] == pytest.approx(-9.69e-4, rel=1e-3)  # torch's Adam: -9.99e-4


def test_adam_amsgrad_keeps_max_velocity():
    p = _param(0.0)
    opt = optimizers.Adam(learning_rate=0.1, amsgrad=True)
    _step(opt, [p], [1.0])
    _step(opt, [p], [0.0])
    assert opt.state[p]["velocity_hat"].item() == pytest.approx(1e-3, rel=1e-5)
    assert opt.state[p]["velocity"].item() == pytest.approx(0.999e-3, rel=1e-5)


def test_sgd_plain_and_momentum_keep_lr_inside_velocity():
    plain, mom, nest = _param(1.0), _param(1.0), _param(1.0)
    opts = [optimizers.SGD(0.1), optimizers.SGD(0.1, momentum=0.9),
            optimizers.SGD(0.1, momentum=0.9, nesterov=True)]
    for g in (1.0, 2.0):
        for opt, p in zip(opts, (plain, mom, nest)):
            _step(opt, [p], [g])
    assert _values(plain)[0] == pytest.approx(1 - 0.1 - 0.2)
    v1, v2 = -0.1, 0.9 * -0.1 - 0.2  # v = m * v - lr * g
    assert _values(mom)[0] == pytest.approx(1 + v1 + v2)
    assert _values(nest)[0] == pytest.approx(1 + (0.9 * v1 - 0.1) + (0.9 * v2 - 0.2))


def test_rmsprop_epsilon_inside_sqrt():
    p, c = _param(0.0), _param(0.0)
    _step(optimizers.RMSprop(learning_rate=0.01, epsilon=1e-2), [p], [0.5])
    assert _values(p)[0] == pytest.approx(-0.01 * 0.5 / math.sqrt(0.1 * 0.25 + 1e-2), rel=1e-6)
    _step(optimizers.RMSprop(learning_rate=0.01, centered=True), [c], [0.5])
    denom = 0.1 * 0.25 - (0.1 * 0.5) ** 2 + 1e-7
    assert _values(c)[0] == pytest.approx(-0.01 * 0.5 / math.sqrt(denom), rel=1e-5)


def test_rmsprop_momentum_accumulates_increment():
    p = _param(0.0)
    opt = optimizers.RMSprop(learning_rate=0.01, momentum=0.5, epsilon=0.0)
    _step(opt, [p], [1.0])
    _step(opt, [p], [1.0])
    inc1 = 0.01 / math.sqrt(0.1)
    inc2 = 0.01 / math.sqrt(0.9 * 0.1 + 0.1)
    assert _values(p)[0] == pytest.approx(-(inc1 + 0.5 * inc1 + inc2), rel=1e-5)


# ---------------------------------------------------------------------- weight decay, clipping
def test_weight_decay_is_decoupled_and_uses_current_lr():
    p = _param(2.0, -4.0)
    _step(optimizers.SGD(learning_rate=0.1, weight_decay=0.5), [p], [0.0, 0.0])
    assert _values(p) == pytest.approx([2.0 * 0.95, -4.0 * 0.95])


def test_adamw_defaults_and_requires_weight_decay():
    assert optimizers.AdamW().weight_decay == 0.004
    with pytest.raises(ValueError, match="weight_decay=None"):
        optimizers.AdamW(weight_decay=None)


def test_exclude_from_weight_decay_by_name_and_identity():
    model = torch.nn.Linear(2, 1)
    opt = optimizers.SGD(learning_rate=1.0, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    opt.build(model.named_parameters())
    before = [p.detach().clone() for p in model.parameters()]
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    opt.step()
    torch.testing.assert_close(model.weight.detach(), before[0] * 0.5)
    torch.testing.assert_close(model.bias.detach(), before[1])
    with pytest.raises(ValueError, match="before the optimizer is built"):
        opt.exclude_from_weight_decay(var_list=[model.weight])


def test_clipnorm_is_per_variable():
    a, b = _param(0.0, 0.0), _param(0.0)
    grads = ([3.0, 4.0], [0.5])
    _step(optimizers.SGD(learning_rate=1.0, clipnorm=1.0), [a, b], *grads)
    assert _values(a) == pytest.approx([-0.6, -0.8])
    assert _values(b) == pytest.approx([-0.5])  # under the norm: unchanged


def test_global_clipnorm_scales_all_together():
    a, b = _param(0.0), _param(0.0)
    _step(optimizers.SGD(learning_rate=1.0, global_clipnorm=1.0), [a, b], [3.0], [4.0])
    assert _values(a) + _values(b) == pytest.approx([-0.6, -0.8])


def test_clipvalue_is_elementwise_and_leaves_grad_alone():
    p = _param(0.0, 0.0, 0.0)
    _step(optimizers.SGD(learning_rate=1.0, clipvalue=0.5), [p], [2.0, -3.0, 0.25])
    assert _values(p) == pytest.approx([-0.5, 0.5, -0.25])
    assert p.grad.tolist() == [2.0, -3.0, 0.25]


def test_only_one_clipping_argument():
    with pytest.raises(ValueError, match="Only one of"):
        optimizers.Adam(clipnorm=1.0, clipvalue=1.0)


# ---------------------------------------------------------------------- building, skipping
def test_builds_lazily_once():
    opt = optimizers.Adam()
    assert not opt.built
    with pytest.raises(RuntimeError, match="not built"):
        opt.step()
    params = [_param(1.0), _param(2.0)]
    opt.build(iter(params))
    assert opt.built and isinstance(opt, torch.optim.Optimizer)
    assert opt.param_groups[0]["params"] == params
    opt.build(params)  # same parameters: no-op
    assert len(opt.param_groups) == 1
    with pytest.raises(ValueError, match="already built"):
        opt.build([_param(3.0)])


def test_param_without_grad_is_skipped():
    a, b = _param(1.0), _param(1.0)
    opt = optimizers.Adam(learning_rate=0.1)
    _step(opt, [a, b], [1.0], None)
    assert _values(b) == [1.0] and _values(a) != [1.0]
    assert opt.state[b]["momentum"].item() == 0.0
    assert opt.iterations == 1
    _step(opt, [a, b], None, None)  # nothing to update: nothing happens
    assert opt.iterations == 1


def test_apply_and_apply_gradients_update_only_given_variables():
    a, b = _param(1.0), _param(1.0)
    opt = optimizers.SGD(learning_rate=0.5)
    opt.apply([torch.tensor([1.0]), torch.tensor([2.0])], [a, b])  # builds
    assert opt.built and _values(a) == [0.5] and _values(b) == [0.0]
    assert opt.apply_gradients([(torch.tensor([1.0]), b)]) == 2
    assert _values(a) == [0.5] and _values(b) == [-0.5]
    opt.apply([[2.0], None])  # built: variables default to the built ones
    assert _values(a) == [-0.5] and _values(b) == [-0.5]
    with pytest.raises(ValueError, match="No gradients"):
        opt.apply([None, None])
    with pytest.raises(ValueError, match="other parameters"):
        opt.apply([[1.0]], [_param(0.0)])


def test_step_hooks_and_zero_grad_behave_like_torch():
    p = _param(1.0)
    opt = optimizers.SGD(learning_rate=0.1)
    calls = []
    opt.build([p])
    handle = opt.register_step_post_hook(lambda *args: calls.append("post"))
    _step(opt, [p], [1.0])
    handle.remove()
    _step(opt, [p], [1.0])
    assert calls == ["post"] and opt.iterations == 2
    opt.zero_grad()
    assert p.grad is None


# ---------------------------------------------------------------------- learning rate, schedules
def test_learning_rate_is_a_settable_property():
    p = _param(0.0)
    opt = optimizers.SGD(learning_rate=0.1)
    opt.learning_rate = 0.5
    _step(opt, [p], [1.0])
    assert _values(p) == [-0.5]
    assert opt.param_groups[0]["lr"] == 0.5
    with pytest.raises(ValueError, match="learning_rate"):
        optimizers.SGD(learning_rate="fast")


def test_exponential_decay_formula_and_per_batch_stepping():
    schedule = schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)
    assert schedule(3) == pytest.approx(0.1 * 0.5**1.5)
    stairs = schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5, staircase=True)
    assert [stairs(s) for s in range(4)] == pytest.approx([0.1, 0.1, 0.05, 0.05])
    p = _param(0.0)
    opt = optimizers.SGD(learning_rate=stairs)
    for _ in range(3):
        _step(opt, [p], [1.0])
    assert _values(p)[0] == pytest.approx(-(0.1 + 0.1 + 0.05))  # evaluated at 0, 1, 2
    assert opt.learning_rate == pytest.approx(0.05)
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.1
    with pytest.raises(ValueError, match="decay_steps=0"):
        schedules.ExponentialDecay(0.1, decay_steps=0, decay_rate=0.5)


# ---------------------------------------------------------------------- EMA, accumulation, scaling
def test_gradient_accumulation_applies_the_mean():
    p = _param(0.0)
    opt = optimizers.SGD(learning_rate=1.0, gradient_accumulation_steps=2)
    _step(opt, [p], [1.0])
    assert _values(p) == [0.0] and opt.iterations == 0
    _step(opt, [p], [3.0])
    assert _values(p) == [-2.0] and opt.iterations == 1
    with pytest.raises(ValueError, match="gradient_accumulation_steps=1"):
        optimizers.SGD(gradient_accumulation_steps=1)


def test_ema_and_finalize():
    p = _param(0.0)
    opt = optimizers.SGD(learning_rate=1.0, use_ema=True, ema_momentum=0.5)
    _step(opt, [p], [1.0])  # first step: average = weight
    _step(opt, [p], [1.0])
    assert _values(p) == [-2.0]
    opt.finalize_variable_values()
    assert _values(p) == [0.5 * -1.0 + 0.5 * -2.0]


def test_loss_scale_factor_divides_gradients():
    p = _param(0.0)
    opt = optimizers.SGD(learning_rate=1.0, loss_scale_factor=4.0)
    assert opt.scale_loss(torch.tensor(2.0)).item() == 8.0
    _step(opt, [p], [8.0])
    assert _values(p) == [-2.0]


# ---------------------------------------------------------------------- registry, config, state
@pytest.mark.parametrize("name, cls", [
    ("sgd", optimizers.SGD), ("SGD", optimizers.SGD), ("adam", optimizers.Adam),
    ("Adam", optimizers.Adam), ("adamw", optimizers.AdamW), ("AdamW", optimizers.AdamW),
    ("rmsprop", optimizers.RMSprop), ("RMSprop", optimizers.RMSprop)])
def test_get_by_name(name, cls):
    assert type(optimizers.get(name)) is cls


def test_get_passes_instances_and_reads_configs():
    opt = optimizers.Adam()
    assert optimizers.get(opt) is opt
    torch_opt = torch.optim.SGD([_param(0.0)], lr=0.1)
    assert optimizers.get(torch_opt) is torch_opt
    restored = optimizers.get({"class_name": "RMSprop", "config": {"rho": 0.8}})
    assert isinstance(restored, optimizers.RMSprop) and restored.rho == 0.8


def test_unknown_name_lists_close_matches():
    with pytest.raises(ValueError, match="Unknown optimizer identifier: 'adma'.*'adam'"):
        optimizers.get("adma")


def test_unknown_argument_is_rejected():
    with pytest.raises(ValueError, match="not recognized"):
        optimizers.Adam(betas=(0.9, 0.99))


def test_serialize_round_trip_with_schedule():
    schedule = schedules.ExponentialDecay(0.1, 10, 0.9)
    opt = optimizers.SGD(learning_rate=schedule, momentum=0.9, nesterov=True, clipnorm=1.0)
    config = optimizers.serialize(opt)
    assert config["module"] == "keras.optimizers" and config["class_name"] == "SGD"
    assert config["config"]["learning_rate"]["class_name"] == "ExponentialDecay"
    restored = optimizers.deserialize(config)
    assert restored.get_config() == opt.get_config()


def test_state_dict_round_trip_resumes_exactly():
    torch.manual_seed(0)
    grads = [torch.randn(3) for _ in range(6)]
    straight = torch.nn.Parameter(torch.ones(3))
    opt = optimizers.Adam(learning_rate=0.1)
    opt.build([straight])
    for g in grads:
        straight.grad = g
        opt.step()
    first = optimizers.Adam(learning_rate=0.1)
    resumed = torch.nn.Parameter(torch.ones(3))
    first.build([resumed])
    for g in grads[:3]:
        resumed.grad = g
        first.step()
    second = optimizers.Adam(learning_rate=0.1)
    second.build([resumed])
    second.load_state_dict(copy.deepcopy(first.state_dict()))
    assert second.iterations == 3
    for g in grads[3:]:
        resumed.grad = g
        second.step()
    torch.testing.assert_close(resumed.detach(), straight.detach())


def test_variables_follow_keras_order():
    a, b = _param(1.0, 2.0), _param(3.0)
    opt = optimizers.Adam(learning_rate=0.1)
    opt.build([a, b])
    shapes = [tuple(v.shape) for v in opt.variables]
    assert shapes == [(), (), (2,), (2,), (1,), (1,)]  # iterations, lr, m0, v0, m1, v1
    weights = [5, 0.25] + [torch.full_like(v, 0.5) for v in opt.variables[2:]]
    opt.set_weights(weights)
    assert opt.iterations == 5 and opt.learning_rate == 0.25
    assert opt.state[a]["velocity"].tolist() == [0.5, 0.5]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_step_does_not_sync_the_device():
    params = [torch.nn.Parameter(torch.ones(5, 3, device="cuda")) for _ in range(3)]
    opt = optimizers.Adam(learning_rate=schedules.ExponentialDecay(0.1, 2, 0.5),
                          weight_decay=0.1, global_clipnorm=1.0, use_ema=True)
    opt.build(params)
    for p in params:
        p.grad = torch.ones_like(p)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for _ in range(3):
            opt.step()
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert opt.iterations == 3


def test_building_an_optimizer_does_not_import_dynamo():
    """torch's `add_param_group` imports torch._dynamo on its first call (about 2 s of the
    first `fit`); kerastorch's optimizers call the plain function outside torch.compile."""
    import subprocess
    import sys
    code = ("import sys, torch, kerastorch as k\n"
            "m = k.Sequential([k.Input((3,)), k.layers.Dense(2)])\n"
            "m.compile(optimizer='adam', loss='mse')\n"
            "m.fit(torch.ones(4, 3), torch.ones(4, 2), verbose=0)\n"
            "assert m.optimizer.built\n"
            "print('torch._dynamo' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert out.strip() == "False"
