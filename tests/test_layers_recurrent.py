"""Recurrent layers without the Keras oracle: torch-module equivalence (state dicts load into
nn.LSTM / nn.GRU / nn.RNN and the cells), fused-kernel dispatch, dropout, stateful, errors."""

import numpy as np
import pytest
import torch
from layer_harness import check_torch_equivalent
from torch import nn

import kerastorch
from kerastorch.layers import recurrent
from kerastorch.layers.core import Dense
from kerastorch.layers.recurrent import GRU, LSTM, SimpleRNN
from kerastorch.layers.regularization import Dropout
from kerastorch.layers.rnn_base import RNN
from kerastorch.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell
from kerastorch.layers.rnn_wrappers import Bidirectional, TimeDistributed

B, T, F, U = 3, 7, 4, 5


@pytest.fixture
def x(rng):
    return torch.from_numpy(rng.normal(size=(B, T, F)).astype("float32"))


def randomize(layer, rng):
    layer.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32")
                       for w in layer.get_weights()])
    return layer


def built(layer, x, rng):
    layer(x)
    return randomize(layer, rng)


def right_padded_mask():
    mask = torch.ones(B, T, dtype=torch.bool)
    mask[0, 5:] = False
    mask[1, 2:] = False
    return mask


# ---------------------------------------------------------------------- torch equivalence
@pytest.mark.parametrize("make, module", [
    (lambda: LSTM(U, return_sequences=True), lambda: nn.LSTM(F, U, batch_first=True)),
    (lambda: LSTM(U, use_bias=False, return_sequences=True),
     lambda: nn.LSTM(F, U, bias=False, batch_first=True)),
    (lambda: GRU(U, return_sequences=True), lambda: nn.GRU(F, U, batch_first=True)),
    (lambda: GRU(U, use_bias=False, return_sequences=True),
     lambda: nn.GRU(F, U, bias=False, batch_first=True)),
    (lambda: SimpleRNN(U, return_sequences=True), lambda: nn.RNN(F, U, batch_first=True)),
    (lambda: SimpleRNN(U, activation="relu", return_sequences=True),
     lambda: nn.RNN(F, U, nonlinearity="relu", batch_first=True)),
], ids=["lstm", "lstm_nobias", "gru", "gru_nobias", "simple_rnn", "simple_rnn_relu"])
def test_state_dict_loads_into_torch_module(rng, x, make, module):
    layer = built(make(), x, rng)
    check_torch_equivalent(layer, module(), x)


@pytest.mark.parametrize("make, module", [
    (lambda: LSTM(U, return_sequences=True), lambda: nn.LSTM(F, U, batch_first=True)),
    (lambda: GRU(U, return_sequences=True), lambda: nn.GRU(F, U, batch_first=True)),
    (lambda: SimpleRNN(U, return_sequences=True), lambda: nn.RNN(F, U, batch_first=True)),
], ids=["lstm", "gru", "simple_rnn"])
def test_torch_weights_load_into_the_layer(x, make, module):
    torch_module = module()  # torch's init: bias_hh is not zero
    layer = make()
    layer(x)
    layer.load_state_dict(torch_module.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(layer(x), torch_module(x)[0])
        # Keras' view folds bias_hh in, so the weights move to Keras (and back) unchanged.
        clone = make()
        clone(x)
        clone.set_weights(layer.get_weights())
        torch.testing.assert_close(clone(x), torch_module(x)[0], atol=1e-6, rtol=1e-5)
    if isinstance(layer, (LSTM, SimpleRNN)):
        np.testing.assert_allclose(
            layer.get_weights()[2],
            (torch_module.bias_ih_l0 + torch_module.bias_hh_l0).detach().numpy(), rtol=1e-6)
        assert not clone.bias_hh_l0.any()  # set_weights puts Keras' one bias in bias_ih


@pytest.mark.parametrize("cell, module", [
    (lambda: LSTMCell(U), lambda: nn.LSTMCell(F, U)),
    (lambda: GRUCell(U), lambda: nn.GRUCell(F, U)),
    (lambda: SimpleRNNCell(U), lambda: nn.RNNCell(F, U)),
], ids=["lstm", "gru", "simple_rnn"])
def test_cell_state_dict_loads_into_torch_cell(rng, cell, module):
    x_t = torch.from_numpy(rng.normal(size=(B, F)).astype("float32"))
    h = torch.from_numpy(rng.normal(size=(B, U)).astype("float32"))
    layer = cell()
    states = [h, torch.zeros(B, U)] if isinstance(layer, LSTMCell) else [h]
    layer(x_t, states)
    randomize(layer, rng)
    out, new_states = layer(x_t, states)
    torch_cell = module()
    torch_cell.load_state_dict(layer.state_dict())
    expected = torch_cell(x_t, tuple(states) if len(states) == 2 else h)
    expected = expected[0] if isinstance(expected, tuple) else expected
    torch.testing.assert_close(out.detach(), expected.detach())


def test_bidirectional_equals_torch_bidirectional_lstm(rng, x):
    layer = built(Bidirectional(LSTM(U, return_sequences=True)), x, rng)
    torch_lstm = nn.LSTM(F, U, batch_first=True, bidirectional=True)
    state = {}
    for key, value in layer.state_dict().items():
        direction, name = key.split(".", 1)
        state[name + ("_reverse" if direction == "backward_layer" else "")] = value
    torch_lstm.load_state_dict(state)
    with torch.no_grad():
        torch.testing.assert_close(layer(x), torch_lstm(x)[0])
    assert [v.name for v in layer._all_weight_views()] == ["kernel", "recurrent_kernel",
                                                           "bias"] * 2


def test_state_dict_names_are_torch_names(x):
    layer = LSTM(U)
    layer(x)
    assert list(layer.state_dict()) == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0",
                                        "bias_hh_l0"]
    # bias_hh is a zero buffer: Keras has one bias, and training two would double its steps.
    assert [n for n, _ in layer.named_parameters()] == ["weight_ih_l0", "weight_hh_l0",
                                                        "bias_ih_l0"]
    gru = GRU(U)
    gru(x)
    assert [n for n, _ in gru.named_parameters()] == ["weight_ih_l0", "weight_hh_l0",
                                                      "bias_ih_l0", "bias_hh_l0"]
    assert gru.count_params() == 3 * U * (F + U) + 6 * U
    assert [w.shape for w in gru.get_weights()] == [(F, 3 * U), (U, 3 * U), (2, 3 * U)]
    assert len(gru.trainable_weights) == 3


def test_keras_initialization(x):
    layer = LSTM(U)
    layer(x)
    kernel, recurrent_kernel, bias = layer.get_weights()
    np.testing.assert_array_equal(bias, np.r_[np.zeros(U), np.ones(U), np.zeros(2 * U)])
    np.testing.assert_allclose(recurrent_kernel @ recurrent_kernel.T, np.eye(U), atol=1e-5)
    limit = np.sqrt(6 / (F + 4 * U))  # glorot_uniform on Keras' (in, 4u) kernel
    assert np.abs(kernel).max() <= limit
    no_forget = LSTM(U, unit_forget_bias=False)
    no_forget(x)
    assert not no_forget.get_weights()[2].any()


# ---------------------------------------------------------------------- fused kernels
@pytest.fixture
def no_step_loop(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("the Python step loop ran")
    monkeypatch.setattr(recurrent, "time_loop", fail)


@pytest.mark.parametrize("make", [
    lambda: LSTM(U), lambda: GRU(U, return_sequences=True, go_backwards=True),
    lambda: SimpleRNN(U, return_state=True), lambda: SimpleRNN(U, activation="relu"),
    lambda: LSTM(U, dropout=0.3), lambda: Bidirectional(GRU(U, return_sequences=True))])
@pytest.mark.parametrize("masked", [False, True])
def test_default_configurations_use_fused_kernels(no_step_loop, x, make, masked):
    layer = make()
    layer(x, mask=right_padded_mask() if masked else None, training=True)
    layer(x, mask=torch.ones(B, T, dtype=torch.bool) if masked else None)


@pytest.mark.parametrize("make", [
    lambda: GRU(U, reset_after=False), lambda: LSTM(U, activation="relu"),
    lambda: SimpleRNN(U, recurrent_dropout=0.2)])
def test_other_configurations_loop(no_step_loop, x, make):
    with pytest.raises(AssertionError, match="step loop"):
        make()(x, training=True)


def test_packed_path_equals_step_loop(rng, x):
    mask = right_padded_mask()
    for kind in (LSTM, GRU, SimpleRNN):
        for flags in (dict(return_sequences=True), dict(return_sequences=True, go_backwards=True),
                      dict(return_sequences=True, go_backwards=True, zero_output_for_mask=True)):
            layer = built(kind(U, return_state=True, **flags), x, rng)
            h0 = torch.from_numpy(rng.normal(size=(B, U)).astype("float32"))
            states = [h0, h0] if kind is LSTM else [h0]
            fused = layer(x, mask=mask, initial_state=states)
            # The step loop, forced by making the right-padding test fail:
            original = recurrent.right_padded_lengths
            recurrent.right_padded_lengths = lambda m: None
            try:
                loop = layer(x, mask=mask, initial_state=states)
            finally:
                recurrent.right_padded_lengths = original
            for a, b in zip(fused, loop):
                torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


def test_fully_masked_sample_keeps_the_initial_state(x):
    mask = right_padded_mask()
    mask[1] = False
    out, h, c = LSTM(U, return_sequences=True, return_state=True)(x, mask=mask)
    assert not out[1].any() and not h[1].any() and not c[1].any()
    assert out[0].abs().sum() > 0


def test_output_mask(x):
    mask = right_padded_mask()
    assert LSTM(U, return_sequences=True)(x, mask=mask)._keras_mask is mask
    assert getattr(LSTM(U)(x, mask=mask), "_keras_mask", None) is None
    out, _ = GRU(U, return_sequences=True, return_state=True)(x, mask=mask)
    assert out._keras_mask is mask


# ---------------------------------------------------------------------- training behaviour
@pytest.mark.parametrize("make", [lambda: LSTM(U, dropout=0.5, return_sequences=True),
                                  lambda: GRU(U, recurrent_dropout=0.5, dropout=0.2),
                                  lambda: SimpleRNN(U, dropout=0.5, recurrent_dropout=0.5),
                                  lambda: GRU(U, reset_after=False, recurrent_dropout=0.5)])
def test_dropout_only_in_training(x, make):
    layer = make()
    inference = layer(x)
    torch.testing.assert_close(layer(x), inference)
    first, second = layer(x, training=True), layer(x, training=True)
    assert first.shape == inference.shape
    assert not torch.allclose(first, inference) and not torch.allclose(first, second)
    first.sum().backward()
    assert layer.weight_ih_l0.grad is not None


def test_input_dropout_is_unbiased():
    # A linear SimpleRNN is linear in the dropped inputs: the mean over many sequences of the
    # training output is the inference output.
    torch.manual_seed(0)
    layer = SimpleRNN(2, activation="linear", dropout=0.3, return_sequences=True)
    x = torch.randn(1, 3, 4).expand(20000, 3, 4)
    inference = layer(x)[0]
    with torch.no_grad():
        training = layer(x, training=True)
    torch.testing.assert_close(training.mean(0), inference.detach(), atol=0.03, rtol=0)
    assert (training != inference).any(-1).all()


def test_bias_hh_is_not_trained(x):
    layer = LSTM(U)
    layer(x)
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.1)
    layer(x, training=True).sum().backward()
    optimizer.step()
    assert not layer.bias_hh_l0.any() and layer.bias_ih_l0.grad is not None
    layer.trainable = False
    assert not any(p.requires_grad for p in layer.parameters())
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 3


def test_bias_penalty_sees_the_whole_keras_bias(rng, x):
    gru = built(GRU(U, bias_regularizer="l2"), x, rng)
    (penalty,) = gru.losses
    keras_bias = gru.get_weights()[2]
    torch.testing.assert_close(penalty, torch.tensor(0.01 * (keras_bias ** 2).sum()))
    penalty.backward()
    assert gru.bias_hh_l0.grad is not None and gru.bias_ih_l0.grad is not None
    lstm = LSTM(U, bias_regularizer="l1")
    lstm(x)
    with torch.no_grad():
        lstm.bias_hh_l0.fill_(0.5)  # as after loading an nn.LSTM state dict
    (penalty,) = lstm.losses
    torch.testing.assert_close(penalty, torch.tensor(0.01 * abs(lstm.get_weights()[2]).sum()))


def test_stateful_carries_states(rng, x):
    stateful = built(LSTM(U, stateful=True, return_state=True), x, rng)
    plain = LSTM(U, return_state=True)
    plain(x)
    plain.set_weights(stateful.get_weights())
    first, second = x[:, :3], x[:, 3:]
    stateful.reset_states()
    stateful(first)
    out, h, c = stateful(second)
    expected = plain(x)
    for a, b in zip((out, h, c), expected):
        torch.testing.assert_close(a, b)
    stateful.reset_states()
    assert not any(s.any() for s in stateful.states)
    with pytest.raises(ValueError, match="stateful"):
        stateful(x[:2])


def test_fit_in_a_sequential_model(rng):
    x = rng.normal(size=(32, T, F)).astype("float32")
    y = rng.normal(size=(32, 1)).astype("float32")
    model = kerastorch.Sequential([kerastorch.Input(shape=(T, F)),
                                   Bidirectional(GRU(U, return_sequences=True)),
                                   LSTM(U), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.predict(x, verbose=0).shape == (32, 1)


def test_device_dtype_moves_keep_the_cell_in_sync(x):
    layer = GRU(U)
    layer(x)
    layer.to(torch.float64)
    assert layer.cell.weight_ih is layer.weight_ih_l0
    assert layer(x.double()).dtype == torch.float64


def test_time_distributed_passes_training(x):
    layer = TimeDistributed(Dropout(0.5))
    torch.testing.assert_close(layer(x), x)
    assert (layer(x, training=True) == 0).any()
    dense = TimeDistributed(Dense(3))
    assert dense(x).shape == (B, T, 3)
    assert dense.compute_output_shape((None, T, F)) == (None, T, 3)


# ---------------------------------------------------------------------- shapes and configs
def test_compute_output_shape():
    assert LSTM(U, return_sequences=True, return_state=True).compute_output_shape(
        (None, T, F)) == ((None, T, U), (None, U), (None, U))
    assert GRU(U).compute_output_shape((None, T, F)) == (None, U)
    assert Bidirectional(LSTM(U, return_sequences=True)).compute_output_shape(
        (None, T, F)) == (None, T, 2 * U)
    assert Bidirectional(GRU(U, return_state=True), merge_mode=None).compute_output_shape(
        (None, T, F)) == ((None, U), (None, U), (None, U), (None, U))


@pytest.mark.parametrize("make", [
    lambda: LSTM(U, return_sequences=True, dropout=0.1, kernel_regularizer="l2"),
    lambda: GRU(U, reset_after=False, go_backwards=True),
    lambda: SimpleRNN(U, activation="relu", use_bias=False),
    lambda: RNN(LSTMCell(U), return_state=True), lambda: RNN(GRUCell(U)),
    lambda: Bidirectional(LSTM(U), merge_mode="mul"),
    lambda: Bidirectional(LSTM(U), backward_layer=GRU(U, go_backwards=True)),
    lambda: TimeDistributed(Dense(3, activation="relu"))])
def test_config_round_trip(x, make):
    layer = make()
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert {**clone.get_config(), "name": None} == {**config, "name": None}
    layer(x)
    clone(x)
    clone.set_weights(layer.get_weights())
    out, expected = clone(x), layer(x)
    for a, b in zip(out if isinstance(out, tuple) else [out],
                    expected if isinstance(expected, tuple) else [expected]):
        torch.testing.assert_close(a, b)


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize("cls", [LSTM, GRU, SimpleRNN, LSTMCell, GRUCell, SimpleRNNCell])
@pytest.mark.parametrize("units", [0, -2, 2.5, True])
def test_bad_units(cls, units):
    with pytest.raises(ValueError, match=f"units={units!r}"):
        cls(units)


@pytest.mark.parametrize("make", [lambda: LSTM(U, name="my_lstm"),
                                  lambda: GRU(U, name="my_lstm"),
                                  lambda: RNN(SimpleRNNCell(U), name="my_lstm")])
def test_bad_input_rank_names_the_layer(make):
    with pytest.raises(ValueError, match="'my_lstm'.*ndim"):
        make()(torch.ones(B, F))


def test_input_feature_mismatch_names_the_layer(x):
    layer = LSTM(U, name="feature_check")
    layer(x)
    with pytest.raises(ValueError, match="'feature_check'.*value 4"):
        layer(torch.ones(B, T, F + 1))


def test_bad_initial_state_and_mask(x):
    layer = LSTM(U, name="state_check")
    with pytest.raises(ValueError, match="'state_check'.*2 initial state"):
        layer(x, initial_state=[torch.zeros(B, U)])
    with pytest.raises(ValueError, match="'state_check'.*shape"):
        layer(x, initial_state=[torch.zeros(B, U + 1)] * 2)
    with pytest.raises(ValueError, match="'state_check'.*mask"):
        layer(x, mask=torch.ones(B, T + 1, dtype=torch.bool))


def test_wrapper_errors(x):
    with pytest.raises(ValueError, match="merge_mode='avg'"):
        Bidirectional(LSTM(U), merge_mode="avg")
    with pytest.raises(ValueError, match="Bidirectional"):
        Bidirectional("lstm")
    with pytest.raises(ValueError, match="go_backwards"):
        Bidirectional(LSTM(U), backward_layer=LSTM(U))
    with pytest.raises(ValueError, match="return_sequences"):
        Bidirectional(LSTM(U), backward_layer=LSTM(U, go_backwards=True, return_sequences=True))
    with pytest.raises(ValueError, match="TimeDistributed"):
        TimeDistributed(nn.Linear(2, 3))
    with pytest.raises(ValueError, match="'td'.*3 dimensions"):
        TimeDistributed(Dense(2), name="td")(torch.ones(B, F))
    with pytest.raises(ValueError, match="use_cudnn"):
        LSTM(U, use_cudnn="yes")
    assert type(RNN([LSTMCell(U), LSTMCell(U)]).cell).__name__ == "StackedRNNCells"  # Keras
