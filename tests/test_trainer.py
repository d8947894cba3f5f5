import math
import re

import numpy as np
import pytest
import torch

import kerastorch
from kerastorch import callbacks, layers
from kerastorch.models import Sequential


def small_model(loss="categorical_crossentropy", metrics=("accuracy",), optimizer="adam"):
    model = Sequential([kerastorch.Input(shape=(6,)), layers.Dense(8, activation="relu"),
                        layers.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer, loss=loss, metrics=list(metrics))
    return model


def data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    labels = rng.integers(0, 3, n)
    return x, labels, np.eye(3, dtype="float32")[labels]


def test_history_keys_values_and_params():
    x, _, y = data()
    model = small_model()
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0, validation_data=(x, y))
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert history.epoch == [0, 1, 2] and history.params == {"verbose": 0, "epochs": 3,
                                                             "steps": 3}
    assert all(isinstance(v, float) for vals in history.history.values() for v in vals)
    # val_loss of the last epoch is evaluate() on the same data with the final weights
    assert history.history["val_loss"][-1] == pytest.approx(model.evaluate(x, y, verbose=0)[0],
                                                            rel=1e-6)
    assert model.history is history


def test_epoch_loss_is_batch_size_weighted_mean():
    # SGD with lr 0 keeps weights fixed: epoch loss = evaluate loss, though batches are uneven.
    x, _, y = data(n=37)
    model = small_model(optimizer=kerastorch.optimizers.SGD(learning_rate=0.0))
    history = model.fit(x, y, epochs=1, batch_size=10, verbose=0, shuffle=False)
    assert history.history["loss"][0] == pytest.approx(model.evaluate(x, y, verbose=0)[0],
                                                       rel=1e-6)


def test_validation_split_takes_last_rows_before_shuffle():
    x, _, y = data(n=50)
    seen = []

    class Spy(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(logs["val_loss"])

    model = small_model(optimizer=kerastorch.optimizers.SGD(learning_rate=0.0))
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, validation_split=0.2, callbacks=[Spy()])
    expected = model.evaluate(x[40:], y[40:], verbose=0)[0]  # floor(50 * 0.8) = 40
    assert seen[0] == pytest.approx(expected, rel=1e-6)


def test_evaluate_return_forms():
    x, labels, y = data()
    model = small_model()
    loss, acc = model.evaluate(x, y, verbose=0)
    assert 0 <= acc <= 1 and loss > 0
    assert set(model.evaluate(x, y, verbose=0, return_dict=True)) == {"loss", "accuracy"}
    only_loss = small_model(metrics=())
    assert isinstance(only_loss.evaluate(x, y, verbose=0), float)
    sparse = small_model(loss="sparse_categorical_crossentropy")
    sparse.set_weights(model.get_weights())
    np.testing.assert_allclose(sparse.evaluate(x, labels, verbose=0), [loss, acc], rtol=1e-6)


def test_predict_returns_float32_numpy():
    x, _, _ = data(n=70)
    model = small_model()
    out = model.predict(x, verbose=0, batch_size=32)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32 and out.shape == (70, 3)
    np.testing.assert_allclose(out, model(torch.from_numpy(x)).detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(x[:5]), out[:5], rtol=1e-6)


def test_on_batch_methods():
    x, _, y = data()
    model = small_model(optimizer=kerastorch.optimizers.SGD(learning_rate=0.5))
    before = model.test_on_batch(x, y)
    model.reset_metrics()
    for _ in range(20):
        model.train_on_batch(x, y)
    model.reset_metrics()
    after = model.test_on_batch(x, y, return_dict=True)
    assert after["loss"] < before[0]


def test_torch_tensor_inputs_and_integer_labels():
    x, labels, _ = data()
    model = small_model(loss="sparse_categorical_crossentropy")
    history = model.fit(torch.from_numpy(x), torch.from_numpy(labels.astype("uint8")),
                        epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and math.isfinite(history.history["loss"][-1])


def test_fit_learns_a_separable_problem():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 6)).astype("float32")
    labels = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0)
    model = small_model(loss="sparse_categorical_crossentropy",
                        optimizer=kerastorch.optimizers.Adam(0.02))
    model.fit(x, labels, epochs=15, batch_size=32, verbose=0)
    assert model.evaluate(x, labels, verbose=0)[1] > 0.9


# ---------------------------------------------------------------- bad input changes nothing
def test_unknown_names_list_close_matches():
    model = small_model()
    with pytest.raises(ValueError, match="categorical_crossentropy"):
        model.compile(optimizer="adam", loss="categorical_crossentropyy")
    with pytest.raises(ValueError, match="'adam'"):
        model.compile(optimizer="adan", loss="mse")
    with pytest.raises(ValueError, match="accuracy"):
        model.compile(optimizer="adam", loss="mse", metrics=["acuracy"])
    assert model.loss == "categorical_crossentropy"  # the failed compiles changed nothing


def test_fit_before_compile():
    model = Sequential([layers.Dense(2)])
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)


def test_mismatched_lengths_change_nothing():
    x, _, y = data()
    model = small_model()
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"x sizes: \[40\].*y sizes: \[39\]"):
        model.fit(x, y[:-1], verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_wrong_input_width_names_layer_and_changes_nothing():
    model = Sequential([layers.Flatten(input_shape=(784,)), layers.Dense(4, name="hidden"),
                        layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"784.*\(1, 100\)|\(1, 100\).*784"):
        model.fit(np.ones((8, 100)), np.ones((8, 2)), verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_target_shape_mismatch_fails_before_training():
    x, _, y = data()
    model = small_model()
    before = model.get_weights()
    with pytest.raises((ValueError, RuntimeError)):
        model.fit(x, y[:, :2], verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- weights files
def test_save_and_load_weights_pt(tmp_path):
    x, _, y = data()
    model = small_model()
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "w.pt"
    model.save_weights(path)
    state = torch.load(path, weights_only=True)
    assert set(state) == set(model.state_dict())
    other = small_model()
    other.load_weights(path)
    np.testing.assert_allclose(other.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(ValueError, match="does not fit"):
        Sequential([kerastorch.Input(shape=(6,)), layers.Dense(5)]).load_weights(path)
    with pytest.raises(ValueError, match=r"\.pt"):
        model.save_weights(tmp_path / "w.bin")


def test_verbose_modes_print_keras_lines(capsys):
    x, _, y = data()
    model = small_model()
    model.fit(x, y, epochs=2, batch_size=16, verbose=2)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert re.search(r"^3/3 - \d+s - \d+(us|ms)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}$",
                     out, re.M), out
    model.fit(x, y, epochs=1, batch_size=16, verbose=1)
    out = capsys.readouterr().out + capsys.readouterr().err
    assert "Epoch" not in out and "3/3" in out and "━" in out


def test_penalties_join_the_reported_loss_and_do_not_pile_up():
    x, _, y = data(n=16)
    reg = Sequential([kerastorch.Input(shape=(6,)),
                      layers.Dense(3, activation="softmax", kernel_regularizer="l2",
                               activity_regularizer=kerastorch.regularizers.L2(0.1))])
    plain = Sequential([kerastorch.Input(shape=(6,)), layers.Dense(3, activation="softmax")])
    plain.set_weights(reg.get_weights())
    for m in (reg, plain):
        m.compile(optimizer="sgd", loss="categorical_crossentropy")
    out = reg(torch.from_numpy(x))
    kernel = torch.from_numpy(reg.get_weights()[0])
    # activity penalty: 0.1 * sum(out^2) / batch; kernel penalty: 0.01 * sum(w^2)
    expected = plain.evaluate(x, y, verbose=0, batch_size=16) + float(
        0.1 * (out ** 2).sum() / 16 + 0.01 * (kernel ** 2).sum())
    assert reg.evaluate(x, y, verbose=0, batch_size=16) == pytest.approx(expected, rel=1e-5)
    for _ in range(3):
        reg(torch.from_numpy(x))
    assert len(reg.losses) == 2  # this call's activity penalty + the kernel penalty


def test_fit_with_a_plain_torch_optimizer_equals_keras_sgd():
    """`compile(optimizer=torch.optim.SGD(model.parameters(), lr))` trains; plain SGD is the
    same update rule as Keras' SGD, so the weights match kerastorch's own SGD."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = rng.normal(size=(32, 2)).astype("float32")
    models, start = [], None
    for make in (lambda m: kerastorch.optimizers.SGD(0.1),
                 lambda m: torch.optim.SGD(m.parameters(), lr=0.1)):
        model = kerastorch.Sequential([kerastorch.Input((4,)), kerastorch.layers.Dense(2)])
        if start is None:
            start = model.get_weights()
        model.set_weights(start)
        model.compile(optimizer=make(model), loss="mse")
        model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        models.append(model)
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert not np.allclose(models[1].get_weights()[0], start[0], atol=1e-3)  # it trained
