"""Variables over torch state: they follow the tensors they are bound to (device moves, loaded
state dicts, copies, pickles), and the torch side stays what it was (state dict keys, hot path)."""

import copy
import io
import pickle
import re

import numpy as np
import pytest
import torch

import kerastorch
from kerastorch import layers


def _model():
    return kerastorch.Sequential([kerastorch.Input((4,)), layers.Dense(3, name="d"),
                                  layers.BatchNormalization(name="bn")])


class Scale(layers.Layer):
    def build(self, input_shape):
        self.gain = self.add_weight(shape=(input_shape[-1],), initializer="ones")

    def call(self, x):
        return x * self.gain


def test_state_dict_keys_are_unchanged_and_variables_follow_loads():
    model = _model()
    keys = list(model.state_dict())
    variables = model.weights
    assert list(model.state_dict()) == keys
    other = _model()
    other.load_state_dict(model.state_dict())
    for a, b in zip(other.weights, variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    moving_mean = variables[4]
    model.layers[1].running_mean = torch.full((3,), 2.0)  # a new buffer object
    assert moving_mean.numpy().tolist() == [2.0, 2.0, 2.0] and model.weights[4] is moving_mean


def test_buffers_stay_bound_after_to():
    model = _model()
    moving_var = model.weights[5]
    model.to(torch.float64)
    assert moving_var.dtype == "float64" and moving_var.value is model.layers[1].running_var
    moving_var.assign(np.full((3,), 0.5))
    assert model.layers[1].running_var.tolist() == [0.5, 0.5, 0.5]


def test_copies_and_pickles_keep_add_weight_variables():
    layer = Scale()
    layer(torch.ones(1, 3))
    _ = layer.weights
    for clone in (copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        assert clone.weights[0] is clone.gain and clone.gain.value is clone._parameters["gain"]
        clone.gain.assign(np.full((3,), 2.0, "float32"))
        assert layer.gain.numpy().tolist() == [1.0, 1.0, 1.0]
    model = _model()
    _ = model.weights
    buffer = io.BytesIO()
    torch.save(model, buffer)  # whole-module pickle: the views' functions are not kept
    buffer.seek(0)
    back = torch.load(buffer, weights_only=False)
    assert [v.path for v in back.weights] == [v.path for v in model.weights]


def test_regularized_add_weight_renamed_by_its_attribute():
    class Reg(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 2), initializer="ones",
                                     regularizer=kerastorch.regularizers.L2(0.5))

        def call(self, x):
            return x @ self.w

    layer = Reg()
    layer(torch.ones(1, 3))
    assert list(layer.state_dict()) == ["w"]
    assert float(sum(layer.losses).detach()) == pytest.approx(0.5 * 6)


def test_standalone_variable_assigned_in_init_is_a_parameter():
    class Holder(layers.Layer):
        def __init__(self):
            super().__init__()
            self.v = kerastorch.Variable(np.zeros(2, "float32"), name="v")
            self.frozen = kerastorch.Variable(np.ones(2, "float32"), trainable=False)

        def call(self, x):
            return x + self.v + self.frozen

    layer = Holder()
    assert [n for n, _ in layer.named_parameters()] == ["v"]
    assert [n for n, _ in layer.named_buffers()] == ["frozen"]
    assert [v.trainable for v in layer.weights] == [True, False]
    layer.frozen.trainable = True  # a buffer made trainable becomes a parameter, same key
    assert [n for n, _ in layer.named_parameters()] == ["v", "frozen"]
    assert list(layer.state_dict()) == ["v", "frozen"]


def test_optimizer_state_untouched_by_stateless_apply_and_variables_assignable():
    model = _model()
    opt = kerastorch.optimizers.Adam(0.1)
    opt.build(model.trainable_variables)
    before = [v.numpy() for v in model.weights]
    grads = [torch.ones_like(v.value) for v in model.trainable_variables]
    new_tv, new_ov = opt.stateless_apply([v.value for v in opt.variables], grads,
                                         [v.value for v in model.trainable_variables])
    assert opt.iterations == 0 and all(p.grad is None for p in model.parameters())
    for v, b in zip(model.weights, before):
        np.testing.assert_array_equal(v.numpy(), b)
    assert int(new_ov[0]) == 1
    for v, value in zip(opt.variables, new_ov):
        v.assign(value)
    assert opt.iterations == 1
    opt.apply(grads, model.trainable_variables)
    assert opt.iterations == 2
    names = [v.name for v in opt.variables]
    assert names[:2] == ["iteration", "learning_rate"]
    assert re.fullmatch(r"sequential(_\d+)?_d_kernel_momentum", names[2])


def test_loss_scale_optimizer_applies_to_variables():
    model = kerastorch.Sequential([kerastorch.Input((2,)), layers.Dense(1)])
    opt = kerastorch.mixed_precision.LossScaleOptimizer(kerastorch.optimizers.SGD(1.0),
                                                        initial_scale=1.0)
    before = model.weights[0].numpy()
    grads = [np.ones(v.shape, "float32") for v in model.trainable_variables]  # Keras layout
    opt.apply(grads, model.trainable_variables)
    np.testing.assert_allclose(model.weights[0].numpy(), before - 1.0)
    assert [v.name for v in opt.variables][:2] == ["step_counter", "dynamic_scale"]


def test_exclude_from_weight_decay_takes_variables():
    model = kerastorch.Sequential([kerastorch.Input((2,)), layers.Dense(1)])
    kernel, bias = model.weights
    kernel.assign(np.ones((2, 1), "float32"))
    bias.assign(np.ones((1,), "float32"))
    opt = kerastorch.optimizers.SGD(1.0, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_list=[bias])
    opt.apply([np.zeros((2, 1), "float32"), np.zeros((1,), "float32")],
              model.trainable_variables)
    assert kernel.numpy().ravel().tolist() == [0.5, 0.5] and bias.numpy().tolist() == [1.0]


def test_reassigning_the_tensor_of_an_add_weight_variable_keeps_the_variable():
    layer = Scale()
    layer(torch.ones(1, 3))
    gain = layer.gain
    layer.load_state_dict({"gain": torch.full((3,), 3.0)}, assign=True)
    assert layer.gain is gain and gain.numpy().tolist() == [3.0, 3.0, 3.0]
    assert layer.weights == [gain] and gain.value is layer._parameters["gain"]
    del layer.gain
    assert list(layer.state_dict()) == [] and layer.weights == []
