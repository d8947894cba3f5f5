"""Callbacks against Keras 3 (JAX): both driven by the same scripted logs, epoch by epoch.

Each case runs Keras' callback on a small Keras model and ours on the same kerastorch model;
the model's weights are set to a per-epoch marker before each `on_epoch_end`, so a restored or
saved state tells which epoch it came from.
"""

import math
import os
import warnings

import numpy as np
import pytest

import kerastorch
from kerastorch.callbacks.monitor_callback import keras_learning_rate

pytestmark = pytest.mark.conformance

LOSSES = [1.0, 0.9, 0.95, 0.85, 0.86, 0.87, 0.849, 0.80, 0.9, 0.91, 0.92, 0.93]
ACCS = [0.5, 0.6, 0.58, 0.7, 0.69, 0.7, 0.71, 0.65, 0.64, 0.63, 0.62, 0.61]


def _logs(n=len(LOSSES)):
    return [{"accuracy": ACCS[i] - 0.05, "loss": LOSSES[i] + 0.1,
             "val_accuracy": ACCS[i], "val_loss": LOSSES[i]} for i in range(n)]


_MODELS = {}


def _models(ns):
    """A compiled Dense(1) model on 2 inputs, with its compiled metrics built (as they are by
    the time `on_epoch_end` runs in `fit`), so `mode="auto"` can find `accuracy`. Built once
    per namespace (Keras' evaluate compiles), then reset: learning rate 0.1, not stopping."""
    model = _MODELS.get(ns.__name__)
    if model is None:
        model = ns.Sequential([ns.Input((2,)), ns.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer=ns.optimizers.SGD(learning_rate=0.1),
                      loss="binary_crossentropy", metrics=["accuracy"])
        x = np.zeros((2, 2), "float32")
        model.evaluate(x, np.ones((2, 1), "float32"), verbose=0)
        _MODELS[ns.__name__] = model
    model.optimizer.learning_rate = 0.1
    model.stop_training = False
    _mark(model, -1)
    return model


def _mark(model, epoch):
    model.set_weights([np.full((2, 1), epoch, "float32"), np.full((1,), epoch, "float32")])


def _marker(model):
    return float(np.asarray(model.get_weights()[1])[0])


def _drive(cb, model, logs_seq, steps=0, batch_logs=None):
    """Run the hooks as `fit` does; returns the epochs run and the lr after each epoch."""
    cb.set_model(model)
    cb.set_params({"epochs": len(logs_seq), "steps": steps, "verbose": 0})
    cb.on_train_begin()
    ran, lrs = [], []
    for epoch, logs in enumerate(logs_seq):
        cb.on_epoch_begin(epoch)
        for step in range(steps):
            cb.on_train_batch_begin(step)
            cb.on_train_batch_end(step, dict(batch_logs[epoch][step]))
        _mark(model, epoch)
        cb.on_epoch_end(epoch, dict(logs))
        ran.append(epoch)
        lrs.append(float(np.float32(np.asarray(model.optimizer.learning_rate))))
        if model.stop_training:
            break
    cb.on_train_end()
    return ran, lrs


def _both(keras3, make, logs_seq=None):
    logs_seq = logs_seq if logs_seq is not None else _logs()
    out = []
    for ns in (keras3, kerastorch):
        model = _models(ns)
        cb = make(ns.callbacks)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ran, lrs = _drive(cb, model, logs_seq)
        out.append((ran, lrs, _marker(model), cb))
    return out


EARLY_STOPPING = {
    "default_val_loss": dict(),
    "patience2": dict(patience=2),
    "patience3_restore": dict(patience=3, restore_best_weights=True),
    "min_delta": dict(patience=1, min_delta=0.06, restore_best_weights=True),
    "loss_min": dict(monitor="loss", mode="min", patience=1),
    "val_accuracy_auto": dict(monitor="val_accuracy", patience=2, restore_best_weights=True),
    "accuracy_max_delta": dict(monitor="accuracy", mode="max", patience=1, min_delta=0.02),
    "baseline_never_beaten": dict(patience=3, baseline=0.5, restore_best_weights=True),
    "baseline_beaten": dict(patience=2, baseline=0.9, restore_best_weights=True),
    "start_from_epoch": dict(patience=1, start_from_epoch=4, restore_best_weights=True),
    "unknown_mode_is_auto": dict(patience=1, mode="sideways"),
    "missing_monitor": dict(monitor="val_auc", mode="max", patience=0),
}


@pytest.mark.parametrize("kwargs", EARLY_STOPPING.values(), ids=EARLY_STOPPING.keys())
def test_early_stopping_matches_keras(keras3, kwargs):
    (k_ran, _, k_marker, k_cb), (t_ran, _, t_marker, t_cb) = _both(
        keras3, lambda c: c.EarlyStopping(**kwargs))
    assert t_ran == k_ran
    assert t_cb.stopped_epoch == k_cb.stopped_epoch
    assert t_cb.best == k_cb.best and t_cb.best_epoch == k_cb.best_epoch
    assert t_marker == k_marker  # weights restored from the same epoch (or the last one)


@pytest.mark.parametrize("kwargs,ran,marker", [
    (dict(), [0, 1, 2], 2.0),  # val_loss 1.0, 0.9, 0.95: no improvement at epoch 2
    (dict(patience=3, restore_best_weights=True), list(range(11)), 7.0),
    (dict(monitor="val_accuracy", patience=2, restore_best_weights=True), list(range(6)), 3.0),
])
def test_early_stopping_hand_worked(keras3, kwargs, ran, marker):
    for result in _both(keras3, lambda c: c.EarlyStopping(**kwargs)):
        assert (result[0], result[2]) == (ran, marker)


def test_early_stopping_unknown_metric_auto_raises_like_keras(keras3):
    for ns in (keras3, kerastorch):
        cb = ns.callbacks.EarlyStopping(monitor="val_custom")
        cb.set_model(_models(ns))
        cb.on_train_begin()
        with pytest.raises(ValueError, match="maximized or minimized"):
            cb.on_epoch_end(0, {"val_custom": 1.0})


REDUCE_LR = {
    "factor_half_patience1": dict(factor=0.5, patience=1),
    "patience2_cooldown1": dict(factor=0.5, patience=2, cooldown=1),
    "min_lr_float32_edge": dict(factor=0.1, patience=1, min_lr=0.01),
    "min_lr_floor": dict(factor=0.3, patience=1, min_lr=0.005),
    "min_delta": dict(factor=0.5, patience=1, min_delta=0.06),
    "accuracy_auto": dict(monitor="val_accuracy", factor=0.2, patience=1, cooldown=2),
    "loss_max_mode": dict(monitor="loss", mode="max", factor=0.5, patience=1),
    "patience0": dict(factor=0.7, patience=0),
}


@pytest.mark.parametrize("kwargs", REDUCE_LR.values(), ids=REDUCE_LR.keys())
def test_reduce_lr_on_plateau_matches_keras(keras3, kwargs):
    (_, k_lrs, _, k_cb), (_, t_lrs, _, t_cb) = _both(
        keras3, lambda c: c.ReduceLROnPlateau(**kwargs))
    assert t_lrs == k_lrs  # float32 values, bit for bit
    assert len(set(k_lrs)) > 1  # the rate did change
    assert (t_cb.wait, t_cb.cooldown_counter, t_cb.best) == \
        (k_cb.wait, k_cb.cooldown_counter, k_cb.best)


def test_reduce_lr_logs_learning_rate_like_keras(keras3):
    out = []
    for ns in (keras3, kerastorch):
        cb = ns.callbacks.ReduceLROnPlateau(factor=0.5, patience=0)
        cb.set_model(_models(ns))
        cb.on_train_begin()
        seen = []
        for epoch, logs in enumerate(_logs(4)):
            cb.on_epoch_end(epoch, logs)
            seen.append(logs["learning_rate"])
        out.append(seen)
    assert out[0] == out[1]


def test_reduce_lr_rejects_factor_like_keras(keras3):
    for ns in (keras3, kerastorch):
        with pytest.raises(ValueError, match="factor >= 1.0"):
            ns.callbacks.ReduceLROnPlateau(factor=1.0)


SCHEDULES = {
    "halve_after_1": lambda epoch, lr: lr if epoch < 2 else lr * 0.5,
    "exp_decay": lambda epoch, lr: lr * math.exp(-0.1),
    "one_argument": lambda epoch: 0.05 / (epoch + 1),
    "numpy_float32": lambda epoch, lr: np.float32(0.3) ** epoch,
}


@pytest.mark.parametrize("schedule", SCHEDULES.values(), ids=SCHEDULES.keys())
def test_learning_rate_scheduler_matches_keras(keras3, schedule):
    (_, k_lrs, _, _), (_, t_lrs, _, _) = _both(
        keras3, lambda c: c.LearningRateScheduler(schedule), logs_seq=_logs(5))
    np.testing.assert_allclose(t_lrs, k_lrs, rtol=1e-7)
    assert len(set(k_lrs)) > 1


def test_learning_rate_scheduler_rejects_ints_like_keras(keras3):
    for ns in (keras3, kerastorch):
        cb = ns.callbacks.LearningRateScheduler(lambda epoch, lr: 1)
        cb.set_model(_models(ns))
        with pytest.raises(ValueError, match="should be a float"):
            cb.on_epoch_begin(0)


CHECKPOINTS = {
    "every_epoch": dict(filepath="ckpt-{epoch:02d}-{val_loss:.2f}"),
    "best_val_loss": dict(filepath="best-{epoch:02d}-{val_loss:.3f}", save_best_only=True),
    "best_val_accuracy": dict(filepath="acc-{epoch}-{val_accuracy:.2f}",
                              monitor="val_accuracy", save_best_only=True),
    "best_loss_max": dict(filepath="e{epoch:03d}", monitor="loss", mode="max",
                          save_best_only=True),
    "threshold": dict(filepath="t{epoch:02d}", save_best_only=True,
                      initial_value_threshold=0.86),
    "missing_monitor_saves": dict(filepath="m{epoch:02d}", monitor="val_auc", mode="max",
                                  save_best_only=True),
}


def _checkpoint_files(folder):
    return sorted(f.removesuffix(".weights.h5").removesuffix(".pt")
                  for f in os.listdir(folder) if not f.startswith("."))


@pytest.mark.parametrize("kwargs", CHECKPOINTS.values(), ids=CHECKPOINTS.keys())
def test_model_checkpoint_writes_the_files_keras_writes(keras3, tmp_path, kwargs):
    kwargs = dict(kwargs)
    name = kwargs.pop("filepath")
    folders = []
    for ns, suffix in ((keras3, ".weights.h5"), (kerastorch, ".pt")):
        folder = tmp_path / ns.__name__
        folder.mkdir()
        path = str(folder / (name + suffix))
        _both_one(ns, lambda c: c.ModelCheckpoint(path, save_weights_only=True, **kwargs))
        folders.append(folder)
    keras_files, ours = _checkpoint_files(folders[0]), _checkpoint_files(folders[1])
    assert ours == keras_files and keras_files


def _both_one(ns, make, logs_seq=None, steps=0, batch_logs=None):
    model = _models(ns)
    cb = make(ns.callbacks)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _drive(cb, model, logs_seq or _logs(), steps, batch_logs)
    return model, cb


@pytest.mark.parametrize("monitor,mode", [("val_loss", "auto"), ("val_accuracy", "max"),
                                          ("loss", "min")])
def test_model_checkpoint_fixed_path_holds_the_best_epoch(keras3, tmp_path, monitor, mode):
    markers = []
    for ns, suffix in ((keras3, ".weights.h5"), (kerastorch, ".pt")):
        path = str(tmp_path / f"best{suffix}")
        model, _ = _both_one(ns, lambda c: c.ModelCheckpoint(
            path, monitor=monitor, mode=mode, save_best_only=True, save_weights_only=True))
        model.load_weights(path)
        markers.append(_marker(model))
    assert markers[0] == markers[1]
    assert not [f for f in os.listdir(tmp_path) if f.startswith(".tmp")]  # no temp files left


@pytest.mark.parametrize("save_freq,name", [(2, "b-{epoch:02d}-{batch:02d}"),
                                            (3, "c-{epoch}-{batch}-{loss:.3f}"),
                                            (5, "d-{epoch}-{batch}")])
def test_model_checkpoint_save_freq_batches_like_keras(keras3, tmp_path, save_freq, name):
    steps = 4
    batch_logs = [[{"loss": 1.0 / (1 + e * steps + s)} for s in range(steps)] for e in range(3)]
    found = []
    for ns, suffix in ((keras3, ".weights.h5"), (kerastorch, ".pt")):
        folder = tmp_path / ns.__name__
        folder.mkdir()
        path = str(folder / (name + suffix))
        _both_one(ns, lambda c: c.ModelCheckpoint(path, save_weights_only=True,
                                                  save_freq=save_freq),
                  logs_seq=_logs(3), steps=steps, batch_logs=batch_logs)
        found.append(_checkpoint_files(folder))
    assert found[0] == found[1] and found[0]


@pytest.mark.parametrize("kwargs,match", [
    (dict(filepath="w.h5", save_weights_only=True), "weights.h5"),
    (dict(filepath="model.pt"), ".keras"),
    (dict(filepath="m.keras", save_freq="batch"), "save_freq"),
])
def test_model_checkpoint_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        kerastorch.callbacks.ModelCheckpoint(**kwargs)


CSV_CASES = {
    "with_val": dict(logs=_logs(3)),
    "no_val_adds_NA_columns": dict(logs=[{"loss": 0.5, "mae": 0.25}, {"loss": 0.4, "mae": 0.2}]),
    "semicolon": dict(logs=_logs(2), separator=";"),
    "float32_values": dict(logs=[{"loss": float(np.float32(1 / 3)), "val_loss": 0.1}]),
    "list_value_and_missing_key": dict(logs=[{"loss": 1.0, "val_loss": 2.0, "x": [1, 2]},
                                             {"loss": 0.5, "x": [3, 4]}]),
}


@pytest.mark.parametrize("case", CSV_CASES.values(), ids=CSV_CASES.keys())
@pytest.mark.parametrize("append", [False, True])
def test_csv_logger_writes_keras_file(keras3, tmp_path, case, append):
    contents = []
    for ns in (keras3, kerastorch):
        path = str(tmp_path / f"{ns.__name__}.csv")
        for _ in range(2 if append else 1):  # append: a second run adds rows, not a header
            cb = ns.callbacks.CSVLogger(path, separator=case.get("separator", ","),
                                        append=append)
            _drive(cb, _models(ns), case["logs"])
        with open(path, "rb") as f:
            contents.append(f.read())
    assert contents[0] == contents[1]
    assert contents[0].count(b"epoch") == 1


def test_terminate_on_nan_matches_keras(keras3):
    for ns in (keras3, kerastorch):
        model = _models(ns)
        cb = ns.callbacks.TerminateOnNaN()
        cb.set_model(model)
        cb.on_train_batch_end(0, {"loss": 1.0})
        assert not model.stop_training
        cb.on_train_batch_end(1, {"loss": float("inf")})
        assert model.stop_training
        with pytest.raises(RuntimeError, match="NaN or Inf loss"):
            ns.callbacks.TerminateOnNaN(raise_error=True).on_batch_end(3, {"loss": math.nan})


def test_our_lr_reads_like_keras_float32(keras3):
    opt = kerastorch.optimizers.SGD(learning_rate=0.1)
    k_opt = keras3.optimizers.SGD(learning_rate=0.1)
    assert keras_learning_rate(opt) == float(np.asarray(k_opt.learning_rate)) != 0.1


def _hook_recorder(ns):
    """A Callback subclass of `ns` recording every hook it gets (batch hooks included)."""
    calls = []
    hooks = ["on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
             "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
             "on_test_batch_begin", "on_test_batch_end"]
    body = {h: (lambda h: lambda self, *a, **k: calls.append((h,) + tuple(
        x for x in a if isinstance(x, int))))(h) for h in hooks}
    return type("Recorder", (ns.callbacks.Callback,), body)(), calls


@pytest.mark.parametrize("validation_freq", [1, 2])
def test_fit_validation_calls_test_hooks_like_keras(keras3, validation_freq):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 2)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    seqs = []
    for ns in (keras3, kerastorch):
        model = ns.Sequential([ns.Input((2,)), ns.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="sgd", loss="binary_crossentropy")
        recorder, calls = _hook_recorder(ns)
        model.fit(x, y, batch_size=4, epochs=3, verbose=0, callbacks=[recorder],
                  validation_data=(x[:6], y[:6]), validation_batch_size=4,
                  validation_freq=validation_freq)
        seqs.append(calls)
    assert seqs[1] == seqs[0]
    assert ("on_test_batch_end", 1) in seqs[0]  # two validation batches per validated epoch
