"""Recurrent layers against Keras 3 on JAX: SimpleRNN, LSTM, GRU, RNN(cell), the cells,
Bidirectional and TimeDistributed, with weights copied by set_weights (perturbed)."""

import types

import numpy as np
import pytest
import torch
from layer_harness import compare_with_keras, to_numpy

import kerastorch.layers as kt_layers
from kerastorch.layers import recurrent, rnn_base, rnn_cells, rnn_wrappers

pytestmark = pytest.mark.conformance

_names = {n: getattr(kt_layers, n) for n in dir(kt_layers) if not n.startswith("_")}
for _module in (recurrent, rnn_base, rnn_cells, rnn_wrappers):
    _names.update({n: getattr(_module, n) for n in _module.__dict__ if n[:1].isupper()})
try:
    from kerastorch.layers.convolutional import Conv2D
    _names["Conv2D"] = Conv2D
except ImportError:  # pragma: no cover - written by another engineer
    pass
OURS = types.SimpleNamespace(**_names)


def ns(L):
    """The layer namespace to build from: Keras' own, or kerastorch's plus this PR's classes."""
    return OURS if L is kt_layers else L


B, T, F, U = 3, 6, 4, 5


@pytest.fixture
def x(rng):
    return rng.normal(size=(B, T, F)).astype("float32")


def right_padded():
    m = np.ones((B, T), bool)
    m[0, 4:] = False
    m[1, 2:] = False
    return m


def ragged():
    m = right_padded()
    m[2, 0] = m[2, 3] = False  # a left gap and an inner gap: not right-padded
    return m


def with_empty_row():
    m = right_padded()
    m[1] = False
    return m


KINDS = ["SimpleRNN", "LSTM", "GRU"]
# Keras on JAX compiles a `lax.scan` per call (~0.5 s on 2 cores); `unroll=True` runs the same
# math as a Python loop (kerastorch accepts and ignores `unroll`). Without a mask, or with a zero
# initial state and `zero_output_for_mask=False`, both Keras paths give the same numbers, so most
# tests unroll; the tests marked SCAN keep Keras' default path.
FAST = dict(unroll=True)

CONFIGS = {
    "default_SCAN": {},
    "seq_state_backwards": dict(return_sequences=True, return_state=True, go_backwards=True,
                                **FAST),
    "no_bias": dict(use_bias=False, return_sequences=True, **FAST),
    "relu": dict(activation="relu", return_state=True, **FAST),
}


@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("kind", KINDS)
def test_rnn_layers(keras3, rng, x, kind, config):
    kwargs = CONFIGS[config]
    compare_with_keras(keras3, lambda L: getattr(ns(L), kind)(U, **kwargs), x, rng=rng,
                       check_grad=config in ("seq_state_backwards", "relu"))


@pytest.mark.parametrize("kind", KINDS)
def test_rnn_layers_training_mode(keras3, rng, x, kind):
    compare_with_keras(keras3, lambda L: getattr(ns(L), kind)(U, return_sequences=True, **FAST),
                       x, rng=rng, training=True, check_grad=True)


@pytest.mark.parametrize("mask_fn", [right_padded, ragged, with_empty_row])
@pytest.mark.parametrize("flags", [dict(return_sequences=True),
                                   dict(return_sequences=True, go_backwards=True,
                                        return_state=True)], ids=["seq", "back_state"])
@pytest.mark.parametrize("kind", KINDS)
def test_masks(keras3, rng, x, kind, flags, mask_fn):
    compare_with_keras(keras3, lambda L: getattr(ns(L), kind)(U, **flags, **FAST), x, rng=rng,
                       call_kwargs={"mask": mask_fn()},
                       check_grad=kind != "SimpleRNN" and mask_fn is not with_empty_row)


@pytest.mark.parametrize("mask_fn", [right_padded, ragged])
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_masks_SCAN(keras3, rng, x, kind, mask_fn):
    compare_with_keras(keras3, lambda L: getattr(ns(L), kind)(U, go_backwards=True), x,
                       rng=rng, call_kwargs={"mask": mask_fn()})


@pytest.mark.parametrize("kind", KINDS)
def test_mask_carried_by_the_input_tensor(keras3, rng, x, kind):
    ref, ours = (getattr(L, kind)(U, return_sequences=True, **FAST) for L in (keras3.layers, OURS))
    mask = ragged()
    ref(x)
    xt = torch.from_numpy(x)
    ours(xt)
    ours.set_weights(ref.get_weights())
    xt._keras_mask = torch.from_numpy(mask)
    out = ours(xt)
    expected = keras3.ops.convert_to_numpy(ref(x, mask=mask))
    np.testing.assert_allclose(to_numpy(out), expected, atol=1e-4, rtol=1e-4)
    assert torch.equal(out._keras_mask, xt._keras_mask)


@pytest.mark.parametrize("kind", KINDS)
def test_initial_state(keras3, rng, x, kind):
    states = [rng.normal(size=(B, U)).astype("float32") for _ in range(2 if kind == "LSTM" else 1)]
    compare_with_keras(keras3, lambda L: getattr(ns(L), kind)(
        U, return_sequences=True, return_state=True, **FAST), x, rng=rng,
        call_kwargs={"initial_state": states}, check_grad=True)


@pytest.mark.parametrize("mask_fn", [right_padded, ragged])
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_initial_state_with_mask_SCAN(keras3, rng, x, kind, mask_fn):
    # Masked steps processed first (go_backwards over right padding) output the initial state.
    states = [rng.normal(size=(B, U)).astype("float32") for _ in range(2 if kind == "LSTM" else 1)]
    compare_with_keras(keras3, lambda L: getattr(ns(L), kind)(
        U, return_sequences=True, go_backwards=True), x, rng=rng,
        call_kwargs={"initial_state": states, "mask": mask_fn()})


@pytest.mark.parametrize("kwargs", [dict(reset_after=False),
                                    dict(reset_after=False, return_sequences=True,
                                         return_state=True, go_backwards=True),
                                    dict(reset_after=False, use_bias=False,
                                         return_sequences=True),
                                    dict(activation="relu", recurrent_activation="hard_sigmoid",
                                         return_sequences=True)])
def test_gru_variants(keras3, rng, x, kwargs):
    compare_with_keras(keras3, lambda L: ns(L).GRU(U, **kwargs, **FAST), x, rng=rng,
                       check_grad=True)
    compare_with_keras(keras3, lambda L: ns(L).GRU(U, **kwargs, **FAST), x, rng=rng,
                       call_kwargs={"mask": ragged()})


@pytest.mark.parametrize("kwargs", [dict(unit_forget_bias=False, return_sequences=True),
                                    dict(activation="relu", recurrent_activation="hard_sigmoid",
                                         return_sequences=True),
                                    dict(use_bias=False, return_state=True)])
def test_lstm_variants(keras3, rng, x, kwargs):
    compare_with_keras(keras3, lambda L: ns(L).LSTM(U, **kwargs, **FAST), x, rng=rng,
                       check_grad=True)


@pytest.mark.parametrize("kind", KINDS)
def test_dropout_is_off_in_inference(keras3, rng, x, kind):
    compare_with_keras(keras3, lambda L: getattr(ns(L), kind)(
        U, dropout=0.5, recurrent_dropout=0.3, return_sequences=True, **FAST), x, rng=rng)


@pytest.mark.parametrize("kind", KINDS)
def test_generic_rnn_with_cells(keras3, rng, x, kind):
    compare_with_keras(keras3, lambda L: ns(L).RNN(getattr(ns(L), kind + "Cell")(U),
                                                   return_sequences=True, **FAST), x, rng=rng,
                       check_grad=True)


def test_generic_rnn_zero_output_for_mask_SCAN(keras3, rng, x):
    compare_with_keras(keras3, lambda L: ns(L).RNN(
        ns(L).GRUCell(U), return_sequences=True, return_state=True, go_backwards=True,
        zero_output_for_mask=True), x, rng=rng, call_kwargs={"mask": ragged()})


@pytest.mark.parametrize("kind", KINDS)
def test_cells_one_step(keras3, rng, kind):
    xt = rng.normal(size=(B, F)).astype("float32")
    states = [rng.normal(size=(B, U)).astype("float32") for _ in range(2 if kind == "LSTM" else 1)]
    compare_with_keras(keras3, lambda L: getattr(ns(L), kind + "Cell")(U), xt, rng=rng,
                       call_kwargs={"states": states})


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_merge_modes(keras3, rng, x, merge_mode):
    compare_with_keras(keras3, lambda L: ns(L).Bidirectional(
        ns(L).LSTM(U, return_sequences=True, **FAST), merge_mode=merge_mode), x, rng=rng,
        check_grad=merge_mode == "concat")


@pytest.mark.parametrize("kind", KINDS)
def test_bidirectional_states(keras3, rng, x, kind):
    n_states = 4 if kind == "LSTM" else 2
    states = [rng.normal(size=(B, U)).astype("float32") for _ in range(n_states)]
    compare_with_keras(keras3, lambda L: ns(L).Bidirectional(getattr(ns(L), kind)(
        U, return_sequences=True, return_state=True, **FAST)), x, rng=rng,
        call_kwargs={"initial_state": states})


@pytest.mark.parametrize("mask_fn", [right_padded, ragged])
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_bidirectional_masks_SCAN(keras3, rng, x, kind, mask_fn):
    # Bidirectional sets zero_output_for_mask on its sequence-returning layers (scan path only).
    compare_with_keras(keras3, lambda L: ns(L).Bidirectional(getattr(ns(L), kind)(
        U, return_sequences=True, return_state=True), merge_mode="sum"), x, rng=rng,
        call_kwargs={"mask": mask_fn()})


def test_bidirectional_backward_layer(keras3, rng, x):
    def make(L):
        L = ns(L)
        return L.Bidirectional(L.LSTM(U, **FAST),
                               backward_layer=L.GRU(U + 1, go_backwards=True, **FAST))
    compare_with_keras(keras3, make, x, rng=rng)
    compare_with_keras(keras3, make, x, rng=rng, call_kwargs={"mask": right_padded()})


def test_time_distributed_dense(keras3, rng, x):
    compare_with_keras(keras3, lambda L: ns(L).TimeDistributed(ns(L).Dense(3, activation="tanh")),
                       x, rng=rng, check_grad=True)
    x4 = rng.normal(size=(2, 3, 4, 5)).astype("float32")
    compare_with_keras(keras3, lambda L: ns(L).TimeDistributed(ns(L).Dense(2, use_bias=False)),
                       x4, rng=rng)


def test_time_distributed_conv2d(keras3, rng):
    if not hasattr(OURS, "Conv2D"):
        pytest.skip("Conv2D not available")
    x5 = rng.normal(size=(2, 3, 6, 6, 2)).astype("float32")
    compare_with_keras(keras3, lambda L: ns(L).TimeDistributed(ns(L).Conv2D(4, 3)), x5, rng=rng)
    compare_with_keras(keras3, lambda L: ns(L).TimeDistributed(
        ns(L).Conv2D(3, 3, strides=2, padding="same", activation="relu")), x5, rng=rng)


def test_time_distributed_over_an_rnn(keras3, rng):
    x4 = rng.normal(size=(2, 3, 4, F)).astype("float32")
    compare_with_keras(keras3, lambda L: ns(L).TimeDistributed(ns(L).GRU(U, **FAST)), x4,
                       rng=rng)


@pytest.mark.parametrize("kind", KINDS)
def test_get_config_keys_match_keras(keras3, kind):
    for make in (lambda L: getattr(L, kind)(U), lambda L: getattr(L, kind + "Cell")(U),
                 lambda L: L.RNN(getattr(L, kind + "Cell")(U)),
                 lambda L: L.Bidirectional(getattr(L, kind)(U)),
                 lambda L: L.TimeDistributed(L.Dense(U))):
        ref, ours = make(keras3.layers).get_config(), make(OURS).get_config()
        assert set(ours) == set(ref)
        for key, value in ref.items():
            if key != "name" and not isinstance(value, dict):
                assert ours[key] == value, key


@pytest.mark.parametrize("kind", KINDS)
def test_from_keras_config(keras3, x, kind):
    ref = keras3.layers.Bidirectional(getattr(keras3.layers, kind)(U, return_sequences=True,
                                                                   **FAST))
    ref(x)
    ours = rnn_wrappers.Bidirectional.from_config(ref.get_config())
    ours(torch.from_numpy(x))
    ours.set_weights(ref.get_weights())
    np.testing.assert_allclose(to_numpy(ours(torch.from_numpy(x))),
                               keras3.ops.convert_to_numpy(ref(x)), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("kind", KINDS)
def test_regularization_losses_match(keras3, rng, x, kind):
    import kerastorch

    def make(L, regularizers):
        return getattr(L, kind)(U, kernel_regularizer=regularizers.L2(0.1),
                                recurrent_regularizer="l1", bias_regularizer="l2", **FAST)

    ref, ours = make(keras3.layers, keras3.regularizers), make(OURS, kerastorch.regularizers)
    ref(x)
    ours(torch.from_numpy(x))
    weights = [w + rng.normal(scale=0.1, size=w.shape).astype("float32")
               for w in ref.get_weights()]
    ref.set_weights(weights)
    ours.set_weights(weights)
    np.testing.assert_allclose([float(v.detach()) for v in ours.losses],
                               [float(v) for v in ref.losses], rtol=1e-5)
