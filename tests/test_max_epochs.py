"""`keras.config.set_max_epochs` / `set_max_steps_per_epoch`: real fits (and evaluate/predict)
in kerastorch and in Keras 3 on JAX, with the same weights and data, give the same number of
epochs, the same steps in every epoch, the same `params` and the same losses."""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import kerastorch

N = 100


@pytest.fixture(autouse=True)
def _no_caps():
    """Every test starts and ends without caps, in both libraries."""
    libs = [kerastorch]
    try:
        os.environ.setdefault("KERAS_BACKEND", "jax")
        import keras
        libs.append(keras)
    except ImportError:
        pass
    for lib in libs:
        lib.config.set_max_epochs(None)
        lib.config.set_max_steps_per_epoch(None)
    yield
    for lib in libs:
        lib.config.set_max_epochs(None)
        lib.config.set_max_steps_per_epoch(None)


def _data(seed=0, n=N):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 3.0], "float32") + 0.1)[:, None]
    return x, y


def _counter(lib):
    class StepCounter(lib.callbacks.Callback):
        """Train steps per epoch, test steps per test run, predict steps, and `params`."""

        def __init__(self):
            super().__init__()
            self.train, self.test, self.predict, self.params_seen = [], [], [], None

        def on_train_begin(self, logs=None):
            self.params_seen = {k: self.params[k] for k in ("epochs", "steps")}

        def on_epoch_begin(self, epoch, logs=None):
            self.train.append(0)

        def on_train_batch_end(self, batch, logs=None):
            self.train[-1] += 1

        def on_test_begin(self, logs=None):
            self.test.append(0)

        def on_test_batch_end(self, batch, logs=None):
            self.test[-1] += 1

        def on_predict_batch_end(self, batch, logs=None):
            self.predict.append(batch)

    return StepCounter()


def _model(lib, reference=None):
    model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(1)])
    model.compile(optimizer=lib.optimizers.SGD(learning_rate=0.05), loss="mse")
    if reference is not None:
        model.set_weights(reference.get_weights())
    return model


def _run(lib, caps, fit_kwargs, reference=None):
    epochs_cap, steps_cap = caps
    lib.config.set_max_epochs(epochs_cap)
    lib.config.set_max_steps_per_epoch(steps_cap)
    model = _model(lib, reference)
    counter = _counter(lib)
    x, y = _data()
    kwargs = dict(fit_kwargs)
    if kwargs.pop("validation", False):
        kwargs["validation_data"] = _data(seed=1, n=40)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, y, shuffle=False, verbose=0, callbacks=[counter], **kwargs)
    limits = sorted({str(w.message) for w in caught if str(w.message).startswith("Limiting")})
    return model, history, counter, limits


CASES = {  # name: ((max_epochs, max_steps_per_epoch), fit arguments)
    "epochs_capped": ((2, None), dict(epochs=5, batch_size=16)),
    "epochs_cap_above": ((10, None), dict(epochs=3, batch_size=16)),
    "epochs_cap_equal": ((3, None), dict(epochs=3, batch_size=16)),
    "epochs_cap_zero_is_none": ((0, None), dict(epochs=2, batch_size=50)),
    "epochs_cap_initial_epoch": ((3, None), dict(epochs=6, initial_epoch=1, batch_size=25)),
    # no batch_size: Keras cuts the arrays into `cap` batches (ceil(100 / 3) = 34 rows)
    "steps_cap_sets_batch_size": ((None, 3), dict(epochs=2)),
    # batch_size 10: 10 batches per pass, 3 per epoch, the pass continuing across epochs
    "steps_cap_continues_pass": ((None, 3), dict(epochs=5, batch_size=10)),
    "steps_cap_below_steps": ((None, 3), dict(epochs=2, batch_size=10, steps_per_epoch=5)),
    "steps_cap_above_steps": ((None, 4), dict(epochs=3, batch_size=10, steps_per_epoch=2)),
    "steps_cap_above_batches": ((None, 20), dict(epochs=2, batch_size=25)),
    "both_caps": ((2, 2), dict(epochs=4, batch_size=20)),
    "steps_cap_validation": ((None, 2), dict(epochs=3, batch_size=10, validation=True,
                                             validation_batch_size=8)),
    "steps_cap_validation_steps": ((None, 2), dict(epochs=2, batch_size=10, validation=True,
                                                   validation_steps=1)),
    # without caps too: each validation (Keras' evaluate) starts a new pass
    "validation_steps_restart": ((None, None), dict(epochs=3, batch_size=10, validation=True,
                                                    validation_steps=2,
                                                    validation_batch_size=8)),
}


@pytest.mark.conformance
@pytest.mark.parametrize("case", list(CASES))
def test_fit_is_capped_like_keras(keras3, case):
    caps, kwargs = CASES[case]
    _, expected, their_counter, their_limits = _run(keras3, caps, kwargs)
    _, got, our_counter, our_limits = _run(kerastorch, caps, kwargs)
    assert our_counter.train == their_counter.train
    assert our_counter.test == their_counter.test
    assert our_counter.params_seen == their_counter.params_seen
    assert got.params["epochs"] == expected.params["epochs"]
    assert got.epoch == expected.epoch
    assert sorted(got.history) == sorted(expected.history)
    assert our_limits == their_limits
    for key in expected.history:
        assert len(got.history[key]) == len(expected.history[key])


@pytest.mark.conformance
@pytest.mark.filterwarnings("ignore:Limiting")
@pytest.mark.parametrize("case", ["epochs_capped", "steps_cap_sets_batch_size",
                                  "steps_cap_continues_pass", "both_caps",
                                  "steps_cap_validation", "validation_steps_restart"])
def test_capped_fit_gives_keras_losses_and_weights(keras3, case):
    """Same starting weights, no shuffling: the capped fits train on the same batches."""
    caps, kwargs = CASES[case]
    start = _model(keras3)
    theirs, expected, _, _ = _run(keras3, caps, kwargs, reference=start)
    ours, got, _, _ = _run(kerastorch, caps, kwargs, reference=start)
    for key in expected.history:
        np.testing.assert_allclose(got.history[key], expected.history[key], rtol=1e-5,
                                   atol=1e-6, err_msg=key)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.conformance
@pytest.mark.parametrize("batch_size,steps", [(10, None), (None, None), (10, 5), (10, 2)])
def test_evaluate_and_predict_are_capped_like_keras(keras3, batch_size, steps):
    x, y = _data()
    results = []
    for lib in (keras3, kerastorch):
        lib.config.set_max_steps_per_epoch(3)
        model = _model(lib, results[0][0] if results else None)
        counter = _counter(lib)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loss = model.evaluate(x, y, batch_size=batch_size, steps=steps, verbose=0,
                                  callbacks=[counter])
            pred = model.predict(x, batch_size=batch_size, steps=steps, verbose=0,
                                 callbacks=[counter])
        limits = [str(w.message) for w in caught if str(w.message).startswith("Limiting")]
        results.append((model, loss, pred, counter.test, counter.predict, limits))
    (_, their_loss, their_pred, their_test, their_predict, their_limits), \
        (_, our_loss, our_pred, our_test, our_predict, our_limits) = results
    assert our_test == their_test
    assert our_predict == their_predict
    assert our_limits == their_limits
    assert our_pred.shape == their_pred.shape
    np.testing.assert_allclose(our_pred, their_pred, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(our_loss, their_loss, rtol=1e-5, atol=1e-6)


def test_getters_setters_and_defaults(keras3):
    for lib in (keras3, kerastorch):
        assert lib.config.max_epochs() is None
        assert lib.config.max_steps_per_epoch() is None
        lib.config.set_max_epochs(4)
        lib.config.set_max_steps_per_epoch(7)
        assert (lib.config.max_epochs(), lib.config.max_steps_per_epoch()) == (4, 7)
        lib.config.set_max_epochs(None)
        assert lib.config.max_epochs() is None


def test_history_length_without_keras():
    kerastorch.config.set_max_epochs(2)
    kerastorch.config.set_max_steps_per_epoch(3)
    model = _model(kerastorch)
    counter = _counter(kerastorch)
    x, y = _data()
    with pytest.warns(UserWarning, match="Limiting epochs to 2"):
        history = model.fit(x, y, epochs=10, batch_size=10, verbose=0, callbacks=[counter])
    assert len(history.history["loss"]) == 2 and history.epoch == [0, 1]
    assert counter.train == [3, 3]
    assert counter.params_seen == {"epochs": 2, "steps": 3}


@pytest.mark.parametrize("setter,name", [("set_max_epochs", "max_epochs"),
                                         ("set_max_steps_per_epoch", "max_steps_per_epoch")])
@pytest.mark.parametrize("bad", [-1, 2.5, "3", True])
def test_bad_caps_name_the_argument(setter, name, bad):
    with pytest.raises(ValueError, match=f"`{name}` must be a non-negative integer or None"):
        getattr(kerastorch.config, setter)(bad)
    assert getattr(kerastorch.config, name)() is None


def test_environment_variables_set_the_caps():
    code = ("import kerastorch; "
            "print(kerastorch.config.max_epochs(), kerastorch.config.max_steps_per_epoch())")
    env = dict(os.environ, KERAS_MAX_EPOCHS="3", KERAS_MAX_STEPS_PER_EPOCH="5")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert out.stdout.split() == ["3", "5"]
