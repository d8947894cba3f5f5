"""`keras.callbacks.SwapEMAWeights` against Keras 3 on JAX: real fits with `use_ema=True`, the
same starting weights and data, compared on validation logs, the weights seen by later
callbacks at each epoch's end, the weights after `evaluate`/`predict`, and the final weights."""

import numpy as np
import pytest

import kerastorch

pytestmark = [pytest.mark.conformance,
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]

RTOL, ATOL = 1e-5, 1e-6


def _data(seed=0, n=24):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (np.tanh(x @ rng.normal(size=(4, 2))) + 0.1).astype("float32")
    return x, y


def _optimizer(lib, kind):
    if kind == "sgd":
        return lib.optimizers.SGD(learning_rate=0.1, use_ema=True, ema_momentum=0.8)
    if kind == "adam":
        return lib.optimizers.Adam(learning_rate=0.02, use_ema=True, ema_momentum=0.7)
    if kind == "loss_scale":
        return lib.optimizers.LossScaleOptimizer(
            lib.optimizers.SGD(learning_rate=0.1, use_ema=True, ema_momentum=0.8))
    if kind == "no_ema":
        return lib.optimizers.SGD(learning_rate=0.1)
    raise ValueError(kind)


def _pair(keras3, kind="sgd", weights=None):
    """The same model in Keras and in kerastorch, with the same starting weights (`weights`,
    or Keras' initial ones)."""
    models = []
    for lib in (keras3, kerastorch):
        model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(5, activation="tanh"),
                                lib.layers.Dense(2)])
        model.compile(optimizer=_optimizer(lib, kind), loss="mse", metrics=["mae"])
        models.append(model)
    if weights is not None:
        models[0].set_weights(weights)
    models[1].set_weights(models[0].get_weights())
    return models


def _weight_recorder(lib):
    class Recorder(lib.callbacks.Callback):
        """The model's weights at every epoch end (as a checkpoint after the swap sees them)."""

        def __init__(self):
            super().__init__()
            self.seen = []

        def on_epoch_end(self, epoch, logs=None):
            self.seen.append([np.array(w) for w in self.model.get_weights()])

    return Recorder()


def _close(got, expected):
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


def _assert_history(got, expected):
    assert sorted(got.history) == sorted(expected.history)
    for key in expected.history:
        np.testing.assert_allclose(got.history[key], expected.history[key], rtol=RTOL,
                                   atol=ATOL, err_msg=key)


@pytest.mark.parametrize("kind", ["sgd", "adam", "loss_scale"])
@pytest.mark.parametrize("swap_on_epoch", [False, True])
def test_fit_with_validation_matches_keras(keras3, kind, swap_on_epoch):
    x, y = _data()
    validation = _data(seed=1, n=10)
    theirs, ours = _pair(keras3, kind)
    runs = []
    for lib, model in ((keras3, theirs), (kerastorch, ours)):
        recorder = _weight_recorder(lib)
        history = model.fit(x, y, batch_size=6, epochs=3, shuffle=False, verbose=0,
                            validation_data=validation,
                            callbacks=[lib.callbacks.SwapEMAWeights(swap_on_epoch=swap_on_epoch),
                                       recorder])
        runs.append((history, recorder.seen, model.get_weights()))
    (their_history, their_seen, their_final), (our_history, our_seen, our_final) = runs
    _assert_history(our_history, their_history)
    for got, expected in zip(our_seen, their_seen):
        _close(got, expected)
    _close(our_final, their_final)


def test_validation_sees_the_ema_weights(keras3):
    """With the callback the validation loss is the EMA weights' loss: it differs from a run
    without the callback, in both libraries alike; the training itself is unchanged."""
    x, y = _data()
    validation = _data(seed=1, n=10)
    results = {}
    start = _pair(keras3)[0].get_weights()
    for use_callback in (False, True):
        theirs, ours = _pair(keras3, weights=start)
        for name, lib, model in (("keras", keras3, theirs), ("ours", kerastorch, ours)):
            callbacks = [lib.callbacks.SwapEMAWeights()] if use_callback else []
            results[name, use_callback] = model.fit(
                x, y, batch_size=6, epochs=2, shuffle=False, verbose=0,
                validation_data=validation, callbacks=callbacks).history
    for use_callback in (False, True):
        for key, values in results["keras", use_callback].items():
            np.testing.assert_allclose(results["ours", use_callback][key], values, rtol=RTOL,
                                       atol=ATOL, err_msg=key)
    np.testing.assert_allclose(results["ours", True]["loss"], results["ours", False]["loss"],
                               rtol=RTOL)
    assert not np.allclose(results["ours", True]["val_loss"], results["ours", False]["val_loss"])


def _train_some(pair, x, y, steps=5):
    """`train_on_batch` steps: the optimizer's averages move, nothing copies them back."""
    for model in pair:
        for i in range(steps):
            lo = (i * 6) % len(x)
            model.train_on_batch(x[lo:lo + 6], y[lo:lo + 6])


def test_evaluate_uses_ema_weights_and_restores(keras3):
    x, y = _data()
    pair = _pair(keras3)
    _train_some(pair, x, y)
    theirs, ours = pair
    raw = ours.get_weights()
    _close(raw, theirs.get_weights())
    expected = theirs.evaluate(x, y, verbose=0, callbacks=[keras3.callbacks.SwapEMAWeights()])
    got = ours.evaluate(x, y, verbose=0, callbacks=[kerastorch.callbacks.SwapEMAWeights()])
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)
    plain = ours.evaluate(x, y, verbose=0)
    assert not np.allclose(plain, got)
    _close(ours.get_weights(), theirs.get_weights())
    _close(ours.get_weights(), raw)


def test_predict_swaps_in_and_leaves_ema_weights_like_keras(keras3):
    """Keras 3's `on_predict_end` does not swap back: after `predict` the model holds the EMA
    weights; the callback's next evaluation end swaps the raw ones back."""
    x, y = _data()
    pair = _pair(keras3)
    _train_some(pair, x, y)
    theirs, ours = pair
    raw = ours.get_weights()
    their_cb, our_cb = keras3.callbacks.SwapEMAWeights(), kerastorch.callbacks.SwapEMAWeights()
    expected = theirs.predict(x, verbose=0, callbacks=[their_cb])
    got = ours.predict(x, verbose=0, callbacks=[our_cb])
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)
    _close(ours.get_weights(), theirs.get_weights())
    assert not all(np.allclose(a, b) for a, b in zip(ours.get_weights(), raw))
    np.testing.assert_allclose(ours.evaluate(x, y, verbose=0, callbacks=[our_cb]),
                               theirs.evaluate(x, y, verbose=0, callbacks=[their_cb]),
                               rtol=RTOL, atol=ATOL)
    _close(ours.get_weights(), theirs.get_weights())
    _close(ours.get_weights(), raw)


def test_evaluate_before_training_matches_keras(keras3):
    """Keras builds the optimizer first: its averages start at zero and are swapped in."""
    x, y = _data()
    theirs, ours = _pair(keras3)
    start = ours.get_weights()
    expected = theirs.evaluate(x, y, verbose=0, callbacks=[keras3.callbacks.SwapEMAWeights()])
    got = ours.evaluate(x, y, verbose=0, callbacks=[kerastorch.callbacks.SwapEMAWeights()])
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)
    _close(ours.get_weights(), start)


def test_without_use_ema_raises_keras_error(keras3):
    x, y = _data()
    theirs, ours = _pair(keras3, "no_ema")
    errors = []
    for lib, model in ((keras3, theirs), (kerastorch, ours)):
        with pytest.raises(ValueError) as info:
            model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y),
                      callbacks=[lib.callbacks.SwapEMAWeights()])
        errors.append(str(info.value))
    assert errors[1] == errors[0]
    assert "Received: use_ema=False" in errors[1]


def test_checkpoint_after_swap_saves_ema_weights(tmp_path):
    """`swap_on_epoch=True` before `ModelCheckpoint`: the saved weights are the averages."""
    x, y = _data()
    model = kerastorch.Sequential([kerastorch.Input((4,)), kerastorch.layers.Dense(2)])
    optimizer = kerastorch.optimizers.SGD(learning_rate=0.1, use_ema=True, ema_momentum=0.8)
    model.compile(optimizer=optimizer, loss="mse")
    path = str(tmp_path / "ema.weights.h5")
    recorder = _weight_recorder(kerastorch)
    averages = []

    class Averages(kerastorch.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            averages.append([a.detach().clone() for a in optimizer._slots["average"]])

    model.fit(x, y, batch_size=6, epochs=2, verbose=0, shuffle=False,
              callbacks=[Averages(), kerastorch.callbacks.SwapEMAWeights(swap_on_epoch=True),
                         recorder, kerastorch.callbacks.ModelCheckpoint(
                             path, save_weights_only=True)])
    restored = kerastorch.Sequential([kerastorch.Input((4,)), kerastorch.layers.Dense(2)])
    restored.load_weights(path)
    _close(restored.get_weights(), recorder.seen[-1])
    _close(restored.get_weights(), model.get_weights())
    # what the model held at the last epoch end: the averages as they were before the swap
    torch_params = [p.detach() for p in model.parameters()]
    _close([p.numpy() for p in torch_params], [a.numpy() for a in averages[-1]])
