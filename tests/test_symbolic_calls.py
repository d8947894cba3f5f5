"""Symbolic calls that cannot run on fake tensors: the zero-tensor fallback, its error, and no
stand-in values left in a layer's state."""

import numpy as np
import pytest
import torch

import kerastorch as keras


class Counted(keras.layers.Layer):
    """Reads a value (`.item()`): impossible on fake tensors, fine on zeros."""

    def call(self, x):
        positive = int((x > 0).sum().item())
        return x[:, :2] + positive


def test_a_call_that_reads_values_falls_back_to_zero_tensors():
    inputs = keras.Input((3,))
    outputs = Counted()(inputs)
    assert tuple(outputs.shape) == (None, 2)
    model = keras.Model(inputs, outputs)
    got = model(torch.tensor([[1.0, -1.0, 2.0]]))
    np.testing.assert_array_equal(got.numpy(), [[3.0, 1.0]])  # 2 positive values added


class Penalized(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.inner = keras.layers.Dense(2, kernel_initializer="ones")

    def call(self, x):
        self.add_loss(keras.ops.sum(x))
        return self.inner(x)


def test_shape_inference_leaves_real_weights_and_no_losses():
    layer = Penalized()
    outputs = layer(keras.Input((3,)))
    assert tuple(outputs.shape) == (None, 2)
    assert layer._losses == [] and layer.inner._losses == []
    weight = layer.inner.weight
    assert type(weight) is torch.nn.Parameter and weight.device.type == "cpu"
    np.testing.assert_array_equal(weight.detach().numpy(), np.ones((2, 3)))


class Broken(keras.layers.Layer):
    def call(self, x):
        return x @ torch.ones(5, 5)


def test_a_call_that_fails_on_fakes_and_zeros_names_the_layer():
    with pytest.raises(ValueError, match=r"Layer 'broken_one' \(Broken\) could not infer the "
                                         r"shape of its output") as caught:
        Broken(name="broken_one")(keras.Input((3,)))
    assert "zero tensors of the input shapes" in str(caught.value)
