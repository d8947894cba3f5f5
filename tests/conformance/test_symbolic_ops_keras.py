"""Operators on KerasTensors (`x / 255.0`, `a + b`, `x[:, :2]`...) against Keras 3 on JAX: the
same functional models give the same predictions, dtypes, summary rows, configs and History,
and `.keras` files with op nodes move both ways."""

import json
import re

import numpy as np
import pytest

import kerastorch
from kerastorch.utils.naming import reset_uids

pytestmark = pytest.mark.conformance


def scaled_residual(lib):
    L = lib.layers
    inp = lib.Input((6,))
    x = inp / 255.0
    h = L.Dense(6, activation="tanh", name="h")(2 * x - 1)
    y = h + x  # residual
    return lib.Model(inp, L.Dense(3, name="out")(-y[:, :4] ** 2 + 0.5))


def arithmetic(lib):
    inp = lib.Input((5,))
    d = lib.layers.Dense(5, name="d")(inp)
    return lib.Model(inp, [d * inp, 1 - d, 3.0 / (abs(d) + 1), d // 0.3, d % 0.7,
                           2 ** (d / 4), d @ np.arange(10, dtype="float32").reshape(5, 2)])


def slicing(lib):
    inp = lib.Input((4, 6))
    d = lib.layers.Dense(6, name="d")(inp)
    return lib.Model(inp, [d[:, 1], d[..., ::2], d[:, None, 1:3], d[:, -1, 2:5]])


def comparisons(lib):
    inp = lib.Input((4,))
    d = lib.layers.Dense(4, name="d")(inp)
    return lib.Model(inp, [d < 0, d <= 0.1, d > 0.2, d >= 0, (d > 0) & (d < 1),
                           (d < -1) | (d > 1), (d > 0) ^ (inp > 0), ~(d > 0), d != inp])


def int_input(lib):
    inp = lib.Input((3,), dtype="int32")
    return lib.Model(inp, [inp * 2, inp / 2, inp * 2.5, inp + inp, inp // 2])


def chain(lib):
    inp = lib.Input((4,))
    return lib.Model(inp, lib.layers.Dense(3, name="d")(inp / 255.0 * 2)[:, :2])


def ops_functions(lib):
    """`keras.ops` functions on symbolic tensors: constructor arguments in the op config."""
    ops, inp = lib.ops, lib.Input((3,))
    h = ops.concatenate([ops.add(ops.expand_dims(inp, 1), 2.0)] * 2, axis=1)
    h = ops.clip(ops.mean(ops.relu(h), axis=-1), 0.0, 1.5)
    g = ops.softmax(ops.matmul(ops.reshape(ops.transpose(ops.expand_dims(inp, -1), (0, 2, 1)),
                                           (-1, 3)), np.ones((3, 2), "float32")))
    return lib.Model(inp, [h, g, ops.cast(ops.square(inp) > 1.0, "float32")])


BUILDS = [chain, scaled_residual, arithmetic, slicing, comparisons, int_input, ops_functions]


def _as_list(out):
    return out if isinstance(out, list) else [out]


@pytest.mark.parametrize("build", BUILDS, ids=lambda b: b.__name__)
def test_predictions_and_dtypes_match_keras(keras3, rng, build):
    ref, ours = build(keras3), build(kerastorch)
    assert len(ours.get_weights()) == len(ref.get_weights())
    ours.set_weights(ref.get_weights())
    shape = (7, *ref.inputs[0].shape[1:])
    x = rng.normal(size=shape).astype("float32") * 3
    if ref.inputs[0].dtype == "int32":
        x = rng.integers(-9, 9, size=shape).astype("int32")
    want = _as_list(ref.predict(x, verbose=0))
    got = _as_list(ours.predict(x, verbose=0))
    assert len(got) == len(want)
    for g, w, t_ref, t_ours in zip(got, want, ref.outputs, ours.outputs):
        assert t_ours.shape == tuple(t_ref.shape)
        assert t_ours.dtype == t_ref.dtype
        assert g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


def _summary_rows(text):
    """Table rows with wrapped cells joined: [(layer (type), shape, params, connected)]."""
    rows, block = [], []
    for line in text.splitlines() + ["├"]:
        if line.startswith("│"):
            block.append([c.strip() for c in line.split("│")[1:-1]])
        elif line.startswith(("├", "└")) and block:
            rows.append(tuple(" ".join(p for p in parts if p) for parts in zip(*block)))
            block = []
    return rows


@pytest.mark.parametrize("build", BUILDS, ids=lambda b: b.__name__)
def test_summary_rows_match_keras(keras3, build):
    keras3.utils.clear_session()
    lines = []
    build(keras3).summary(print_fn=lambda line, *a, **k: lines.append(line))
    reset_uids()
    mine = []
    build(kerastorch).summary(print_fn=mine.append)
    want, got = _summary_rows("\n".join(lines)), _summary_rows("\n".join(mine))
    assert len(got) == len(want)
    for got_row, want_row in zip(got, want):  # rich cuts long words to the terminal: `ab…`
        assert len(got_row) == len(want_row)
        for g, w in zip(got_row, want_row):
            assert re.fullmatch(re.escape(w).replace("…", ".*"), g), (got_row, want_row)
    assert any("(Add)" in r[0] or "(GetItem)" in r[0] or "(Less)" in r[0] or "(Multiply)" in r[0]
               for r in got)
    totals = [line for line in "\n".join(lines).splitlines() if "params:" in line]
    assert [line for line in mine if "params:" in line] == totals


def _ops_config(config):
    return [entry for entry in json.loads(json.dumps(config))["layers"]
            if entry["module"].startswith("keras.src.ops")]


@pytest.mark.parametrize("build", BUILDS, ids=lambda b: b.__name__)
def test_config_entries_match_keras(keras3, build):
    keras3.utils.clear_session()
    ref = build(keras3)
    reset_uids()
    ours = build(kerastorch)
    ref_config, our_config = ref.get_config(), ours.get_config()
    assert [e["name"] for e in our_config["layers"]] == [e["name"] for e in ref_config["layers"]]
    assert _ops_config(our_config) == _ops_config(ref_config)
    assert json.loads(json.dumps(our_config["output_layers"])) == \
        json.loads(json.dumps(ref_config["output_layers"]))
    assert [layer.name for layer in ours.layers] == [layer.name for layer in ref.layers]


@pytest.mark.parametrize("build", BUILDS, ids=lambda b: b.__name__)
def test_keras_files_both_ways(keras3, rng, tmp_path, build):
    theirs = build(keras3)
    shape = (4, *theirs.inputs[0].shape[1:])
    x = rng.normal(size=shape).astype("float32")
    if theirs.inputs[0].dtype == "int32":
        x = rng.integers(-9, 9, size=shape).astype("int32")
    theirs.save(tmp_path / "k.keras")
    ours = kerastorch.models.load_model(tmp_path / "k.keras")
    want = _as_list(theirs.predict(x, verbose=0))
    for g, w in zip(_as_list(ours.predict(x, verbose=0)), want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)
    ours.save(tmp_path / "t.keras")
    back = keras3.saving.load_model(tmp_path / "t.keras")
    for g, w in zip(_as_list(back.predict(x, verbose=0)), want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)
    assert [type(op).__name__ for op in back.operations] == \
        [type(op).__name__ for op in theirs.operations]


def test_fit_history_through_ops_matches_keras(keras3, rng):
    x = rng.uniform(0, 255, size=(32, 6)).astype("float32")
    y = rng.normal(size=(32, 3)).astype("float32")
    ref, ours = scaled_residual(keras3), scaled_residual(kerastorch)
    ours.set_weights(ref.get_weights())
    for model in (ref, ours):
        model.compile(optimizer="adam", loss="mse")
    h_ref = ref.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    h_ours = ours.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    np.testing.assert_allclose(h_ours.history["loss"], h_ref.history["loss"], rtol=1e-4,
                               atol=1e-6)
    assert h_ref.history["loss"][-1] < h_ref.history["loss"][0]


def test_op_names_follow_keras_auto_naming(keras3):
    keras3.utils.clear_session()
    reset_uids()
    names = []
    for lib in (keras3, kerastorch):
        a = lib.Input((2,))
        out = ((a + 1) + (a + 2))[:, :1] * a[:, 1:]
        names.append([op.name for op in lib.Model(a, out).operations])
    assert names[1] == names[0]
    assert {"add", "add_1", "add_2", "get_item", "get_item_1", "multiply"} <= set(names[1])
