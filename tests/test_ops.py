"""kerastorch.ops beyond the Keras comparison: errors, device, autograd, the `keras.ops` alias."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import kerastorch as keras
from kerastorch import config, ops

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
    env.setdefault("KERASTORCH_DEVICE", "cpu")
    return env


def test_namespaces_are_flat_and_nested():
    assert ops.relu is ops.nn.relu
    assert ops.sum is ops.numpy.sum
    assert ops.norm is ops.linalg.norm
    assert ops.logsumexp is ops.math.logsumexp
    assert keras.ops is ops
    assert keras.random.normal is __import__("kerastorch.random").random.normal


@pytest.mark.parametrize("call,shape,dtype", [
    (lambda x: ops.relu(x), (None, 3), "float32"),
    (lambda x: ops.add(x, 1.0), (None, 3), "float32"),
    (lambda x: ops.numpy.sum(x, axis=1), (None,), "float32"),
    (lambda x: ops.matmul(x, np.ones((3, 2), "float32")), (None, 2), "float32"),
    (lambda x: ops.softmax(x), (None, 3), "float32"),
    (lambda x: ops.cast(x, "int32"), (None, 3), "int32"),
    (lambda x: ops.expand_dims(x, 1), (None, 1, 3), "float32"),
])
def test_ops_on_a_keras_tensor_record_a_node(call, shape, dtype):
    """As Keras 3: an op given a symbolic tensor returns one (a node of the functional graph)."""
    out = call(keras.Input(shape=(3,)))
    assert type(out).__name__ == "KerasTensor"
    assert out.shape == shape and str(out.dtype) == dtype


def test_random_ops_on_a_keras_tensor_raise_a_clear_type_error():
    with pytest.raises(TypeError, match=r"keras\.random\.dropout received a symbolic "
                                        r"KerasTensor.*Layer.*Lambda"):
        keras.random.dropout(keras.Input(shape=(3,)), 0.5)


def test_shape_of_a_keras_tensor_is_its_static_shape():
    assert ops.shape(keras.Input(shape=(3, 4))) == (None, 3, 4)


def test_functional_model_with_ops_trains_and_predicts():
    inp = keras.Input(shape=(4,))
    h = keras.layers.Dense(3)(ops.expand_dims(inp, 1) / 2.0)
    out = ops.mean(ops.relu(h), axis=1)
    model = keras.Model(inp, out)
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((8, 4), "float32")
    model.fit(x, np.ones((8, 3), "float32"), verbose=0)
    w, b = model.layers[1].get_weights()
    expected = np.maximum(x[:, None, :] / 2.0 @ w + b, 0).mean(1)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("value,dtype", [
    (np.zeros((2,), "float64"), torch.float32), (np.zeros((2,), "int64"), torch.int32),
    ([1, 2], torch.int32), ([1.0, 2], torch.float32), (1.5, torch.float32), (3, torch.int32),
    (True, torch.bool), (np.zeros((2,), "float16"), torch.float16),
    (torch.zeros(2, dtype=torch.float64), torch.float64),  # torch tensors keep their dtype
])
def test_convert_to_tensor_dtypes_and_device(value, dtype):
    t = ops.convert_to_tensor(value)
    assert t.dtype == dtype
    assert t.device == config.device()


def test_explicit_float64_is_honoured():
    assert ops.convert_to_tensor(np.zeros(2), dtype="float64").dtype == torch.float64
    assert ops.ones((2,), dtype="float64").dtype == torch.float64


def test_outputs_follow_floatx():
    config.set_floatx("float16")
    try:
        assert ops.convert_to_tensor(1.5).dtype == torch.float16
        assert ops.zeros((2,)).dtype == torch.float16
        assert ops.add(np.arange(3, dtype="int32"), 0.5).dtype == torch.float16
    finally:
        config.set_floatx("float32")


def test_results_live_on_the_configured_device():
    out = ops.matmul(np.ones((2, 3), "float32"), [[1.0], [2.0], [3.0]])
    assert out.device == config.device()
    np.testing.assert_allclose(ops.convert_to_numpy(out), [[6.0], [6.0]])


@pytest.mark.parametrize("bad,match", [
    (lambda: ops.cast([1, 2], "float128"), "Invalid dtype"),
    (lambda: ops.pad(np.zeros((2, 2)), 1, mode="nearest"), "mode"),
    (lambda: ops.pad(np.zeros((2, 2)), 1, mode="reflect", constant_values=1), "constant_values"),
    (lambda: ops.scatter_update(np.zeros(3), [[0]], [1.0], reduction="avg"), "reduction"),
    (lambda: ops.normalize(np.ones(3), order=0), "order"),
    (lambda: ops.multi_hot([1, 2]), "num_classes"),
    (lambda: ops.view_as_complex(np.ones((2, 3))), "size 2"),
    (lambda: ops.unstack(np.ones((2, 3)), num=3), "unstack"),
    (lambda: ops.convert_to_tensor([1], sparse=True), "sparse"),
])
def test_bad_arguments_raise_value_errors(bad, match):
    with pytest.raises(ValueError, match=match):
        bad()


def test_result_type_matches_keras_rules():
    from kerastorch.ops._dtypes import result_type
    assert result_type("int32", float) == "float32"
    assert result_type("bfloat16", int) == "bfloat16"
    assert result_type("uint8", "int8") == "int16"
    assert result_type("int8", "float16") == "float16"
    assert result_type("float64", "float32") == "float32"  # 64-bit narrowed, as on JAX
    assert result_type() == "float32"


def test_gradients_flow_through_ops():
    x = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.1, -0.3]], requires_grad=True)
    loss = ops.sum(ops.softmax(ops.matmul(x, ops.transpose(x))) * ops.relu(ops.tanh(x[:, :2]))) \
        + ops.mean(ops.square(ops.linalg.norm(x, axis=-1))) + ops.logsumexp(x)
    loss.backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    # a hand-checked gradient: d/dx mean(x**2) = 2x/n
    y = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    ops.mean(ops.square(y)).backward()
    np.testing.assert_allclose(y.grad.numpy(), [2 / 3, -4 / 3, 2.0], rtol=1e-6)


def test_stop_gradient_blocks_gradients():
    y = torch.tensor([1.0, 2.0], requires_grad=True)
    out = ops.sum(ops.stop_gradient(y) * y)
    out.backward()
    np.testing.assert_allclose(y.grad.numpy(), [1.0, 2.0])


def test_custom_gradient():
    @ops.custom_gradient
    def log1pexp(x):
        e = ops.exp(x)

        def grad(*args, upstream=None):
            return ops.multiply(upstream, 1.0 - 1.0 / ops.add(1, e))
        return ops.log(1 + e), grad

    x = torch.tensor([0.0, 100.0], requires_grad=True)
    log1pexp(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 1.0])


def test_control_flow():
    assert int(ops.fori_loop(0, 5, lambda i, v: v + i, 0)) == 10
    i, s = ops.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, s + i), (0, 0))
    assert int(i) == 4 and int(s) == 6
    assert int(ops.while_loop(lambda i: i < 10, lambda i: i + 1, 0, maximum_iterations=3)) == 3
    assert int(ops.cond(ops.convert_to_tensor(True), lambda: 1, lambda: 2)) == 1
    assert ops.switch(5, [lambda x: x + 1, lambda x: x * 10], 2) == 20  # index clamped
    carry, ys = ops.scan(lambda c, x: (c + x, c * x), 0.0, np.arange(1.0, 4.0))
    assert float(carry) == 6.0
    np.testing.assert_allclose(ops.convert_to_numpy(ys), [0.0, 2.0, 9.0])
    np.testing.assert_allclose(
        ops.convert_to_numpy(ops.map(lambda x: x * 2, np.arange(3.0))), [0.0, 2.0, 4.0])
    np.testing.assert_allclose(ops.convert_to_numpy(
        ops.associative_scan(lambda a, b: a + b, np.arange(1.0, 5.0))), [1.0, 3.0, 6.0, 10.0])
    np.testing.assert_allclose(ops.convert_to_numpy(
        ops.vectorized_map(lambda r: r.sum(), torch.ones(3, 2))), [2.0, 2.0, 2.0])


def test_scatter_accumulates_duplicates():
    out = ops.scatter([[0], [2], [0]], [1.0, 2.0, 3.0], (4,))
    np.testing.assert_allclose(ops.convert_to_numpy(out), [4.0, 0.0, 2.0, 0.0])


def test_keras_ops_alias_under_kerastorch_run(tmp_path):
    script = tmp_path / "uses_ops.py"
    script.write_text(textwrap.dedent("""
        import numpy as np
        import keras
        import keras.ops
        import keras.random
        from keras import ops, random
        from keras.ops import numpy as knp
        import kerastorch
        assert ops is kerastorch.ops and keras.ops is ops and knp is kerastorch.ops.numpy
        assert random is kerastorch.random
        x = ops.softmax(np.array([[1.0, 2.0, 3.0]], "float32"))
        print("sum", round(float(ops.sum(x)), 5), ops.dtype(x))
        print("rand", tuple(random.normal((2, 3), seed=1).shape))
    """))
    result = subprocess.run([sys.executable, "-m", "kerastorch", "run", str(script)],
                            cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sum 1.0 float32" in result.stdout
    assert "rand (2, 3)" in result.stdout
