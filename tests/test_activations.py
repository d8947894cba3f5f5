import math

import pytest
import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from kerastorch import activations


def t(*values):
    return torch.tensor(values, dtype=torch.float32)


def close(a, b, tol=1e-6):
    torch.testing.assert_close(a, b, rtol=tol, atol=tol)


class _CountOps(TorchFunctionMode):
    def __init__(self):
        super().__init__()
        self.calls = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.calls.append(func)
        return func(*args, **(kwargs or {}))


def test_get_relu_is_one_fused_op():
    fn = activations.get("relu")
    x = torch.randn(8, 4)
    with _CountOps() as mode:
        fn(x)
    assert mode.calls == [torch.relu]


def test_relu_variants_hand_values():
    x = t(-10, -5, 0, 5, 10)
    close(activations.relu(x), t(0, 0, 0, 5, 10))
    close(activations.relu(x, negative_slope=0.5), t(-5, -2.5, 0, 5, 10))
    close(activations.relu(x, max_value=5.0), t(0, 0, 0, 5, 5))
    close(activations.relu(x, threshold=5.0), t(0, 0, 0, 0, 10))
    close(activations.relu(x, max_value=6), t(0, 0, 0, 5, 6))
    # Keras: x - slope * relu(threshold - x) below the threshold.
    close(activations.relu(x, negative_slope=0.1, threshold=1.0), t(-1.1, -0.6, -0.1, 5, 10))


def test_keras_defaults_that_differ_from_torch():
    close(activations.leaky_relu(t(-1.0)), t(-0.2))  # torch: 0.01
    close(activations.hard_sigmoid(t(1.0)), t(4 / 6))  # tf.keras 2: 0.7
    x = t(-1.5, 0.3, 2.0)
    close(activations.gelu(x), 0.5 * x * (1 + torch.erf(x / math.sqrt(2))))
    assert not torch.allclose(activations.gelu(x), activations.gelu(x, approximate=True))


def test_hand_values():
    x = t(-2, -0.5, 0, 0.5, 2)
    close(activations.sparse_plus(x), t(0, 0.0625, 0.25, 0.5625, 2))
    close(activations.sparse_sigmoid(x), t(0, 0.25, 0.5, 0.75, 1))
    close(activations.squareplus(t(0.0)), t(1.0))
    close(activations.hard_tanh(x), t(-1, -0.5, 0, 0.5, 1))
    close(activations.hard_shrink(x, 0.5), t(-2, 0, 0, 0, 2))
    close(activations.soft_shrink(x, 0.5), t(-1.5, 0, 0, 0, 1.5))
    close(activations.soft_shrink(x, -0.5), t(-2.5, -1, 0.5, 1, 2.5))  # torch refuses lambda < 0
    close(activations.threshold(x, 0.0, -9.0), t(-9, -9, -9, 0.5, 2))
    close(activations.hard_silu(t(-4, 1, 4)), t(0, 4 / 6, 4))
    close(activations.linear(x), x)
    close(activations.tanh_shrink(x), x - torch.tanh(x))
    close(activations.log_sigmoid(t(-100.0)), t(-100.0))
    close(activations.selu(t(1.0)), t(1.0507009873554805))
    close(activations.glu(t(1.0, 0.0)), t(0.5))


def test_softmax_axes():
    x = torch.randn(2, 3, 4)
    close(activations.softmax(x).sum(-1), torch.ones(2, 3))
    close(activations.softmax(x, axis=1).sum(1), torch.ones(2, 4))
    joint = activations.softmax(x, axis=(1, 2))
    close(joint.sum((1, 2)), torch.ones(2))
    close(joint, torch.exp(x - torch.logsumexp(x, dim=(1, 2), keepdim=True)))
    close(activations.log_softmax(x, axis=(0, 2)),
          x - torch.logsumexp(x, dim=(0, 2), keepdim=True), tol=1e-5)


def test_softmax_warns_on_size_one_axis():
    with pytest.warns(UserWarning, match="size 1"):
        activations.softmax(torch.randn(3, 1))


def test_sparsemax_is_a_sparse_distribution():
    close(activations.sparsemax(t(2.0, 1.0, -1.0)), t(1.0, 0.0, 0.0))
    # Two entries in the support: Keras 3.15 gets this one wrong (keras-team/keras#23425).
    close(activations.sparsemax(t(0.0, 0.5, 1.0)), t(0.0, 0.25, 0.75))
    close(activations.sparsemax(t(0.1, 0.2, 0.3, 0.4, 0.5)), t(0.0, 0.1, 0.2, 0.3, 0.4))
    y = activations.sparsemax(torch.randn(5, 7) * 0.3, axis=0)
    close(y.sum(0), torch.ones(7))
    assert (y >= 0).all()


def test_get_and_aliases():
    assert activations.get(None) is activations.linear
    assert activations.get("swish") is activations.silu
    assert activations.get("hard_swish") is activations.hard_silu
    fn = lambda x: x  # noqa: E731
    assert activations.get(fn) is fn


def test_unknown_name_suggests_close_matches():
    with pytest.raises(ValueError, match="'relu'"):
        activations.get("rellu")
    with pytest.raises(ValueError, match="identifier"):
        activations.get(3)


def test_serialize_round_trip():
    for name in activations.ACTIVATIONS.names():
        fn = activations.get(name)
        assert activations.deserialize(activations.serialize(fn)) is fn
    assert activations.serialize(activations.swish) == "silu"
    assert activations.serialize(torch.relu) == "relu"
    assert activations.serialize(F.gelu) == "gelu"


def test_serialize_custom_function_like_keras():
    def my_act(x):
        return x * 2

    config = activations.serialize(my_act)
    assert config == {"module": "builtins", "class_name": "function", "config": "my_act",
                      "registered_name": "function"}
    assert activations.deserialize(config, custom_objects={"my_act": my_act}) is my_act
    assert activations.deserialize({"class_name": "function", "config": "relu"}) is (
        activations.relu)


def test_activations_keep_dtype_and_grad():
    x = torch.randn(4, 6, dtype=torch.float64, requires_grad=True)
    for name in activations.ACTIVATIONS.names():
        fn = activations.get(name)
        out = fn(x, 0.0, 1.0) if name == "threshold" else fn(x)
        assert out.dtype == torch.float64 and out.shape == x.shape or name == "glu", name
        out.sum().backward()
