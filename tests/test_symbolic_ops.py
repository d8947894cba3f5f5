"""Ops on KerasTensors in kerastorch alone: shapes and dtypes, graph bookkeeping (not in
`model.layers`, no state dict keys), training through op nodes, errors, the general
`symbolic_call`, and export."""

import re

import numpy as np
import pytest
import torch

import kerastorch as keras
from kerastorch.export import to_source, to_torch
from kerastorch.export.steps import Unsupported
from kerastorch.layers.symbolic_ops import SymbolicOp, register_op, symbolic_call


def residual_model():
    inp = keras.Input((6,))
    x = inp / 255.0
    h = keras.layers.Dense(6, activation="tanh", name="h")(x)
    return keras.Model(inp, keras.layers.Dense(1, name="out")(h + x))


@pytest.mark.parametrize("expr, shape, dtype", [
    (lambda x: x[:, 1], (None, 5), "float32"),
    (lambda x: x[0], (4, 5), "float32"),
    (lambda x: x[..., None, 1:3], (None, 4, 1, 2), "float32"),
    (lambda x: x[:, ::2, -1], (None, 2), "float32"),
    (lambda x: x @ np.ones((5, 3), "float32"), (None, 4, 3), "float32"),
    (lambda x: x > 0, (None, 4, 5), "bool"),
    (lambda x: ~(x > 0) | (x < 1), (None, 4, 5), "bool"),
    (lambda x: x + np.ones((4, 1), "float32"), (None, 4, 5), "float32"),
])
def test_shapes_and_dtypes(expr, shape, dtype):
    out = expr(keras.Input((4, 5)))
    assert out.shape == shape and out.dtype == dtype


def test_unknown_dimensions_stay_unknown():
    a = keras.Input((None, 3))
    out = (a * 2)[:, :, 1:]
    assert out.shape == (None, None, 2)
    model = keras.Model(a, out)
    x = np.arange(24, dtype="float32").reshape(2, 4, 3)
    np.testing.assert_array_equal(model.predict(x, verbose=0), (x * 2)[:, :, 1:])


@pytest.mark.parametrize("expr, want", [
    (lambda i: i * 2, "int32"), (lambda i: i * 2.5, "float32"), (lambda i: i / 2, "float32"),
    (lambda i: i // 2, "int32"), (lambda i: -i, "int32"), (lambda i: i >= 1, "bool")])
def test_dtype_promotion_follows_keras(expr, want):
    inp = keras.Input((3,), dtype="int32")
    out = expr(inp)
    assert out.dtype == want
    got = keras.Model(inp, out)(torch.tensor([[1, 2, 3]], dtype=torch.int32))
    assert str(got.dtype) == f"torch.{want}"


def test_ops_are_not_layers_and_add_no_state():
    model = residual_model()
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "Dense", "Dense"]
    assert [type(op).__name__ for op in model.operations] == [
        "InputLayer", "TrueDivide", "Dense", "Add", "Dense"]
    assert list(model.state_dict()) == ["h.weight", "h.bias", "out.weight", "out.bias"]
    assert len(model.get_weights()) == 4
    assert not any(isinstance(m, SymbolicOp) for m in model.modules())


def test_forward_values():
    model = residual_model()
    x = np.random.default_rng(0).uniform(0, 255, size=(5, 6)).astype("float32")
    scaled = torch.tensor(x) / 255.0
    h = model.get_layer("h")
    out = model.get_layer("out")
    want = out(h(scaled) + scaled)
    torch.testing.assert_close(model(torch.tensor(x)), want)


def test_fit_through_op_nodes_trains_layers_before_and_after():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, size=(64, 6)).astype("float32")
    y = (x[:, :1] / 255.0 * 2 - 1).astype("float32")
    model = residual_model()
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="mse")
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, batch_size=16, epochs=5, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    assert all(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))


def test_equality_is_identity_and_misuse_errors():
    a = keras.Input((2,))
    assert a == a and not (a == keras.Input((2,)))
    assert a in [a] and len({a, a}) == 1
    with pytest.raises(TypeError, match="cannot be used as a boolean"):
        bool(a > 0)
    with pytest.raises(NotImplementedError, match="Iterating"):
        list(a)


def test_incompatible_shapes_name_the_op():
    with pytest.raises(ValueError, match="Op Add cannot be applied"):
        keras.Input((3,)) + keras.Input((4,))
    with pytest.raises(ValueError, match="Matmul"):
        keras.Input((3,)) @ keras.Input((4,))


def test_unknown_op_in_config_names_it():
    model = residual_model()
    config = model.get_config()
    entry = next(e for e in config["layers"] if e["class_name"] == "TrueDivide")
    entry["class_name"] = entry["registered_name"] = "NoSuchOp"
    with pytest.raises(ValueError, match="Unsupported Keras op 'NoSuchOp'"):
        keras.Model.from_config(config)


def test_config_round_trip_in_kerastorch(tmp_path):
    model = residual_model()
    x = np.random.default_rng(1).uniform(0, 255, size=(3, 6)).astype("float32")
    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0))
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [type(op).__name__ for op in loaded.operations] == \
        [type(op).__name__ for op in model.operations]


def test_general_symbolic_call_with_op_config():
    def expand_dims(x, axis):
        return torch.unsqueeze(x, axis)

    inp = keras.Input((3,))
    out = symbolic_call("ExpandDims", expand_dims, (inp * 2,), config={"axis": 1})
    assert out.shape == (None, 1, 3)
    model = keras.Model(inp, out)
    entry = model.get_config()["layers"][-1]
    assert entry["class_name"] == "ExpandDims" and entry["module"] == "keras.src.ops.numpy"
    assert entry["config"] == {"name": model.operations[-1].name, "axis": 1}
    x = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), 2 * x[:, None])
    clone = keras.Model.from_config(model.get_config())  # found again by its class name
    np.testing.assert_array_equal(clone.predict(x, verbose=0), 2 * x[:, None])


def test_ops_with_several_outputs():
    register_op("SplitHalves", lambda x: torch.chunk(x, 2, dim=-1))
    inp = keras.Input((4,))
    first, second = symbolic_call("SplitHalves", None, (inp,))
    assert first.shape == second.shape == (None, 2)
    model = keras.Model(inp, second - first)
    x = np.arange(8, dtype="float32").reshape(2, 4)
    np.testing.assert_array_equal(model.predict(x, verbose=0), x[:, 2:] - x[:, :2])


def test_summary_lists_ops_with_connections():
    lines = []
    residual_model().summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "(TrueDivide)" in text and "(Add)" in text and "Connected to" in text
    assert "Total params: 49" in text


def test_to_torch_and_source_translate_ops():
    inp = keras.Input((8, 8, 3))
    c = keras.layers.Conv2D(4, 3, padding="same", name="c")(inp / 255.0)
    y = (2 * c - 1) ** 2 // 0.5 % 3 + abs(-c)
    flat = keras.layers.Flatten()(y[:, :4, ..., None])
    model = keras.Model(inp, [flat @ np.ones((flat.shape[-1], 2), "float32"), c > 0.1])
    x = np.random.default_rng(0).uniform(0, 255, size=(2, 8, 8, 3)).astype("float32")
    module = to_torch(model)
    assert list(module.state_dict()) == list(model.state_dict())
    for got, want in zip(module(torch.tensor(x)), model.predict(x, verbose=0)):
        np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-5, atol=1e-5)
    source = to_source(model)
    assert re.search(r"true_divide\w* = input_layer\w* / 255\.0", source)
    assert ".permute(0, 2, 3, 1)[:, :4, ..., None]" in source


def test_export_refuses_an_untranslated_op_by_name():
    inp = keras.Input((3,))
    out = symbolic_call("Cumsum", lambda x, axis: torch.cumsum(x, axis), (inp,),
                        config={"axis": 1})
    model = keras.Model(inp, out)
    with pytest.raises(Unsupported, match=r"Op 'cumsum\w*' \(Cumsum\)"):
        to_torch(model)


def test_clone_deepcopy_pickle_and_fx_keep_op_nodes():
    import copy
    import io
    inp = keras.Input((6,))
    x = inp / 255.0
    h = keras.layers.Dense(6, name="h")(x)
    model = keras.Model(inp, (h + x)[:, :2] * np.array([1.0, -1.0], "float32"))
    data = np.random.default_rng(0).uniform(0, 255, size=(3, 6)).astype("float32")
    want = model.predict(data, verbose=0)
    np.testing.assert_allclose(want[:, 1], -(model.get_layer("h")(torch.tensor(data) / 255.0)
                                             + torch.tensor(data) / 255.0)[:, 1].detach(),
                               rtol=1e-6)
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    for other in (clone, copy.deepcopy(model), torch.load(buffer, weights_only=False)):
        assert [type(op).__name__ for op in other.operations] == \
            [type(op).__name__ for op in model.operations]
        np.testing.assert_allclose(other.predict(data, verbose=0), want, rtol=1e-6)
    traced = torch.fx.symbolic_trace(model)
    np.testing.assert_allclose(traced(torch.tensor(data)).detach().numpy(), want, rtol=1e-6)


def test_torch_tensor_constants_become_arrays():
    inp = keras.Input((3,))
    model = keras.Model(inp, inp * torch.tensor([1.0, 2.0, 3.0]))
    entry = model.get_config()["layers"][-1]["inbound_nodes"][0]["args"][1]
    assert entry == {"class_name": "__numpy__",
                     "config": {"value": [1.0, 2.0, 3.0], "dtype": "float32"}}
    np.testing.assert_array_equal(model.predict(np.ones((2, 3), "float32"), verbose=0),
                                  [[1.0, 2.0, 3.0]] * 2)


def test_operator_nodes_trace_after_ops_made_the_class_first():
    """`ops.add(kt, 1)` before `a + b`: both are Keras' `Add`, which must run the torch
    operator (torch.fx cannot trace through `keras.ops`' conversions). One class cache per
    process, so a fresh one."""
    import subprocess
    import sys
    code = ("import numpy as np, torch, kerastorch as k\n"
            "k.ops.add(k.Input((3,)), 1.0)\n"
            "inp = k.Input((3,))\n"
            "model = k.Model(inp, inp + inp)\n"
            "x = torch.ones(2, 3)\n"
            "print(torch.fx.symbolic_trace(model)(x).sum().item())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "12.0"
