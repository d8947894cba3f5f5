"""Callbacks inside real `fit` runs: resuming, checkpoint files, logs, errors."""

import csv
import importlib.util
import http.server
import json
import math
import os
import threading
import urllib.parse

import numpy as np
import pytest
import torch

import kerastorch
from kerastorch import callbacks, config, layers
from kerastorch.callbacks import tensorboard as tb_module
from kerastorch.models import Sequential


def make_model(seed=0, dropout=0.0, optimizer="adam"):
    config.set_random_seed(seed)
    stack = [kerastorch.Input(shape=(4,)), layers.Dense(8, activation="relu")]
    if dropout:
        stack.append(layers.Dropout(dropout))
    model = Sequential(stack + [layers.Dense(1)])
    model.compile(optimizer=optimizer, loss="mse", metrics=["mae"])
    return model


def data(n=48, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, (x @ np.array([1.0, -2.0, 0.5, 3.0], "float32"))[:, None]


def weights(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def assert_same_weights(a, b):
    """Exact equality, tensor by tensor in order (layer names differ between models)."""
    assert len(a) == len(b)
    for (key, va), vb in zip(a.items(), b.values()):
        assert torch.equal(va, vb), key


class Killer(callbacks.Callback):
    """Raises at batch `batch` of epoch `epoch`, as a crash in the middle of an epoch."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self.epoch = (epoch, batch), None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise KeyboardInterrupt("killed")


# ---------------------------------------------------------------------- BackupAndRestore
@pytest.mark.parametrize("kill_epoch,kill_batch", [(1, 2), (2, 0), (0, 3)])
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_backup_and_restore_resumes_to_the_uninterrupted_weights(tmp_path, kill_epoch,
                                                                 kill_batch, optimizer):
    x, y = data()
    kw = dict(epochs=4, batch_size=8, shuffle=True, verbose=0)
    reference = make_model(dropout=0.3, optimizer=optimizer)
    ref_history = reference.fit(x, y, **kw)

    model = make_model(dropout=0.3, optimizer=optimizer)
    backup = callbacks.BackupAndRestore(tmp_path / "backup")
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, callbacks=[backup, Killer(kill_epoch, kill_batch)], **kw)
    assert model.training is False  # the mode fit found, restored
    saved = torch.load(tmp_path / "backup" / "latest.pt", weights_only=True)
    assert saved["epoch"] == kill_epoch  # epoch 0: the starting state, backed up at once
    history = model.fit(x, y, callbacks=[backup], **kw)

    assert history.epoch == list(range(kill_epoch, 4))
    assert history.history["loss"] == ref_history.history["loss"][kill_epoch:]
    assert_same_weights(weights(model), weights(reference))
    assert model.optimizer.iterations == reference.optimizer.iterations == 4 * 6
    assert not os.path.exists(tmp_path / "backup")  # delete_checkpoint=True after success


def test_backup_and_restore_keeps_the_backup_when_asked(tmp_path):
    x, y = data()
    model = make_model()
    backup = callbacks.BackupAndRestore(str(tmp_path / "b"), delete_checkpoint=False)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[backup])
    state = torch.load(tmp_path / "b" / "latest.pt", weights_only=True)
    assert state["epoch"] == 2 and state["optimizer"]["iterations"] == 4
    assert_same_weights(state["model"], weights(model))
    # A later fit with the same backup starts after the saved epoch: nothing left to run.
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[backup])
    assert history.epoch == [2]


def test_backup_and_restore_falls_back_to_the_previous_backup(tmp_path):
    x, y = data()
    model = make_model()
    backup = callbacks.BackupAndRestore(tmp_path, double_checkpoint=True,
                                        delete_checkpoint=False)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[backup])
    assert torch.load(tmp_path / "latest.pt.bkp", weights_only=True)["epoch"] == 1
    (tmp_path / "latest.pt").write_bytes(b"corrupted")
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[backup])
    assert history.epoch == [1, 2]


def test_backup_and_restore_batch_frequency_and_errors(tmp_path):
    x, y = data()
    model = make_model()
    seen = []
    backup = callbacks.BackupAndRestore(tmp_path / "b", save_freq=4, delete_checkpoint=False)

    def read(batch, logs):
        state = torch.load(tmp_path / "b" / "latest.pt", weights_only=True)
        seen.append((state["epoch"], state["batch"]))

    spy = callbacks.LambdaCallback(on_train_batch_end=read)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[backup, spy])
    # 6 batches an epoch; a backup every 4 batches, counted across epochs (as Keras counts)
    assert seen == [(0, 0)] * 3 + [(0, 3)] * 4 + [(1, 1)] * 4 + [(1, 5)]
    with pytest.raises(ValueError, match="save_freq"):
        callbacks.BackupAndRestore(tmp_path, save_freq="batch")
    with pytest.raises(ValueError, match="backup_dir"):
        callbacks.BackupAndRestore("")


def test_initial_epoch_is_reset_between_fits(tmp_path):
    x, y = data()
    model = make_model()
    model._initial_epoch = 5  # stale: fit must not use a value from an earlier run
    assert model.fit(x, y, epochs=2, verbose=0).epoch == [0, 1]
    assert model.fit(x, y, epochs=3, initial_epoch=1, verbose=0).epoch == [1, 2]


# ---------------------------------------------------------------------- errors in callbacks
def test_callback_error_propagates_and_leaves_model_usable(tmp_path):
    x, y = data()
    model = make_model(dropout=0.5)
    ckpt = callbacks.ModelCheckpoint(str(tmp_path / "w-{epoch}.pt"), save_weights_only=True)
    boom = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: (_ for _ in ()).throw(RuntimeError("boom"))
        if epoch == 1 else None)
    with pytest.raises(RuntimeError, match="boom"):
        model.fit(x, y, epochs=3, verbose=0, callbacks=[ckpt, boom])
    assert model.training is False
    out1, out2 = model.predict(x, verbose=0), model.predict(x, verbose=0)
    np.testing.assert_array_equal(out1, out2)  # inference mode: dropout off
    assert sorted(os.listdir(tmp_path)) == ["w-1.pt", "w-2.pt"]
    other = make_model(seed=3, dropout=0.5)
    other.load_weights(tmp_path / "w-2.pt")
    assert_same_weights(weights(other), weights(model))
    assert model.fit(x, y, epochs=1, verbose=0).epoch == [0]


def test_terminate_on_nan_stops_and_model_stays_usable(capsys):
    x, y = data()
    y[20] = np.nan  # third batch of 8
    model = make_model()
    history = model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0,
                        callbacks=[callbacks.TerminateOnNaN()])
    assert history.epoch == [0] and math.isnan(history.history["loss"][0])
    assert model.optimizer.iterations == 3  # stopped right after the NaN batch
    assert "Batch 2: Invalid loss, terminating training" in capsys.readouterr().out
    assert model.training is False
    assert model.predict(x[:2], verbose=0).shape == (2, 1)


def test_terminate_on_nan_raise_error_keeps_backup(tmp_path):
    x, y = data()
    y[9] = np.inf
    model = make_model()
    backup = callbacks.BackupAndRestore(tmp_path / "b", save_freq=1)
    with pytest.raises(RuntimeError, match="NaN or Inf"):
        model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0,
                  callbacks=[callbacks.TerminateOnNaN(raise_error=True), backup])
    saved = torch.load(tmp_path / "b" / "latest.pt", weights_only=True)  # not deleted:
    assert (saved["epoch"], saved["batch"]) == (0, 0)  # on_train_end skipped


# ---------------------------------------------------------------------- monitors in fit
def test_early_stopping_restores_best_epoch_weights():
    x, y = data()
    model = make_model(optimizer=kerastorch.optimizers.SGD(learning_rate=0.3))
    snapshots = []
    record = callbacks.LambdaCallback(on_epoch_end=lambda e, logs: snapshots.append(
        weights(model)))
    stop = callbacks.EarlyStopping(monitor="loss", patience=1, restore_best_weights=True)
    history = model.fit(x, y, epochs=30, batch_size=48, verbose=0, callbacks=[record, stop])
    losses = history.history["loss"]
    best = int(np.argmin(losses))
    assert len(losses) < 30 and stop.stopped_epoch == len(losses) - 1
    assert stop.best_epoch == best and stop.best == losses[best]
    assert_same_weights(weights(model), snapshots[best])


def test_early_stopping_warns_on_missing_monitor():
    x, y = data()
    model = make_model()
    with pytest.warns(UserWarning, match="val_loss.*not available"):
        history = model.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.EarlyStopping()])
    assert history.epoch == [0, 1]


def test_reduce_lr_on_plateau_changes_the_rate_used():
    x, y = data()
    model = make_model(optimizer=kerastorch.optimizers.SGD(learning_rate=1e-9))
    cb = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=1.0)
    history = model.fit(x, y, epochs=4, verbose=0, callbacks=[cb])
    # The loss never improves by 1.0: halved at the end of epochs 1, 2, 3; the logs hold the
    # rate the epoch ran with (read before the reduction, as Keras).
    lrs = history.history["learning_rate"]
    assert lrs == [float(np.float32(1e-9 * f)) for f in (1, 1, 0.5, 0.25)]
    assert model.optimizer.param_groups[0]["lr"] == pytest.approx(1e-9 / 8)


def test_learning_rate_scheduler_sets_each_epoch():
    x, y = data()
    model = make_model(optimizer=kerastorch.optimizers.SGD(learning_rate=0.1))
    seen = []
    spy = callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: seen.append(
        model.optimizer.param_groups[0]["lr"]))
    sched = callbacks.LearningRateScheduler(lambda epoch, lr: 0.01 * (epoch + 1))
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[sched, spy])
    assert seen == [0.01, 0.02, 0.03]
    assert history.history["learning_rate"] == [float(np.float32(v)) for v in seen]


@pytest.mark.parametrize("monitor", ["val_mae", "mae"])
def test_model_checkpoint_in_fit_names_and_best_only(tmp_path, monitor):
    x, y = data()
    model = make_model(optimizer=kerastorch.optimizers.SGD(learning_rate=0.05))
    every = callbacks.ModelCheckpoint(str(tmp_path / "all" / "{epoch:02d}-{val_loss:.4f}.pt"),
                                      save_weights_only=True)
    best_path = tmp_path / "best.pth"
    best = callbacks.ModelCheckpoint(best_path, monitor=monitor, save_best_only=True,
                                     save_weights_only=True)
    snapshots = []
    record = callbacks.LambdaCallback(on_epoch_end=lambda e, logs: snapshots.append(
        weights(model)))
    history = model.fit(x, y, epochs=3, validation_split=0.25, verbose=0,
                        callbacks=[record, every, best])
    names = [f"{e + 1:02d}-{v:.4f}.pt" for e, v in enumerate(history.history["val_loss"])]
    assert sorted(os.listdir(tmp_path / "all")) == names
    other = make_model(seed=5)
    other.load_weights(best_path)
    best_epoch = int(np.argmin(history.history[monitor]))
    assert_same_weights(weights(other), snapshots[best_epoch])


def test_model_checkpoint_failed_save_keeps_previous_file(tmp_path, monkeypatch):
    x, y = data()
    model = make_model()
    path = tmp_path / "w.pt"
    model.fit(x, y, epochs=1, verbose=0,
              callbacks=[callbacks.ModelCheckpoint(path, save_weights_only=True)])
    before = path.read_bytes()

    def broken_save(filepath, overwrite=True):
        with open(filepath, "wb") as f:
            f.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(model, "save_weights", broken_save)
    with pytest.raises(OSError, match="disk full"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[callbacks.ModelCheckpoint(path, save_weights_only=True)])
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["w.pt"]


def test_model_checkpoint_epoch_freq_does_not_request_batch_logs(tmp_path):
    per_epoch = callbacks.ModelCheckpoint(tmp_path / "a.pt", save_weights_only=True)
    per_batch = callbacks.ModelCheckpoint(tmp_path / "b.pt", save_weights_only=True,
                                          save_freq=3)
    assert not callbacks.CallbackList([per_epoch]).wants_batch_logs("train")
    assert callbacks.CallbackList([per_batch]).wants_batch_logs("train")


# ---------------------------------------------------------------------- loggers
def test_csv_logger_rows_match_history(tmp_path):
    x, y = data()
    model = make_model()
    path = tmp_path / "log.csv"
    history = model.fit(x, y, epochs=3, validation_split=0.25, verbose=0,
                        callbacks=[callbacks.CSVLogger(path)])
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["epoch", "loss", "mae", "val_loss", "val_mae"]
    assert [[float(v) for v in r] for r in rows[1:]] == [
        [e] + [history.history[k][e] for k in rows[0][1:]] for e in range(3)]
    assert path.read_bytes().count(b"\r\n") == 4


def test_lambda_callback_and_subclass_see_model_and_params():
    x, y = data()
    model = make_model()
    calls = []

    class Spy(callbacks.Callback):
        def on_train_begin(self, logs=None):
            calls.append(("params", dict(self.params), self.model is model))

    lam = callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: calls.append(("batch", batch, sorted(logs))),
        on_epoch_end=lambda epoch, logs: calls.append(("epoch", epoch)),
        on_train_end=lambda logs: calls.append(("end",)))
    model.fit(x, y, epochs=2, batch_size=24, verbose=0, callbacks=[Spy(), lam])
    assert calls == [("params", {"verbose": 0, "epochs": 2, "steps": 2}, True),
                     ("batch", 0, ["loss", "mae"]), ("batch", 1, ["loss", "mae"]),
                     ("epoch", 0),
                     ("batch", 0, ["loss", "mae"]), ("batch", 1, ["loss", "mae"]),
                     ("epoch", 1), ("end",)]


class FakeWriter:
    def __init__(self, logdir, log):
        self.logdir, self.log = logdir, log

    def add_scalar(self, tag, value, global_step=None):
        self.log.append((os.path.basename(self.logdir), tag, global_step, value))

    def add_histogram(self, tag, values, global_step=None):
        self.log.append((os.path.basename(self.logdir), tag, global_step, "hist"))

    def flush(self):
        pass

    def close(self):
        self.log.append((os.path.basename(self.logdir), "closed"))


@pytest.fixture
def fake_tensorboard(monkeypatch):
    log = []
    monkeypatch.setattr(tb_module, "_require_tensorboard", lambda: None)
    monkeypatch.setattr(tb_module, "_summary_writer", lambda d: FakeWriter(d, log))
    return log


def test_tensorboard_epoch_scalars_as_keras_names_them(tmp_path, fake_tensorboard):
    x, y = data()
    model = make_model()
    history = model.fit(x, y, epochs=2, validation_split=0.25, verbose=0,
                        callbacks=[callbacks.TensorBoard(tmp_path, histogram_freq=2)])
    h = history.history
    lr = float(np.float32(0.001))
    expected = []
    steps = 2  # 36 training rows (48, less 25% for validation) in batches of 32
    for e in range(2):
        # fit's validation runs the test hooks (Keras): scalars at the optimizer's iterations
        expected += [("validation", "evaluation_loss_vs_iterations", steps * (e + 1),
                      h["val_loss"][e]),
                     ("validation", "evaluation_mae_vs_iterations", steps * (e + 1),
                      h["val_mae"][e])]
        expected += [("train", "epoch_loss", e, h["loss"][e]),
                     ("train", "epoch_mae", e, h["mae"][e]),
                     ("train", "epoch_learning_rate", e, lr),
                     ("validation", "epoch_loss", e, h["val_loss"][e]),
                     ("validation", "epoch_mae", e, h["val_mae"][e])]
        if e == 0:
            expected += [("train", f"{model.name}/{layer.name}/{w}/histogram", 0, "hist")
                         for layer in model.layers for w in ("kernel", "bias")]
    assert fake_tensorboard[:-2] == expected
    assert sorted(fake_tensorboard[-2:]) == [("train", "closed"), ("validation", "closed")]


def test_tensorboard_batch_scalars_every_n(tmp_path, fake_tensorboard):
    x, y = data()
    model = make_model()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0,
              callbacks=[callbacks.TensorBoard(tmp_path, update_freq=4)])
    batch = [(tag, step) for _, tag, *rest in fake_tensorboard if tag.startswith("batch_")
             for step in rest[:1]]
    assert batch == [("batch_loss", 4), ("batch_mae", 4), ("batch_loss", 8), ("batch_mae", 8),
                     ("batch_loss", 12), ("batch_mae", 12)]


@pytest.mark.skipif(importlib.util.find_spec("tensorboard") is None,
                    reason="tensorboard is not installed (the dev extra brings it)")
def test_tensorboard_event_files_open_in_tensorboard(tmp_path):
    """The real writer: the event files open in tensorboard's EventAccumulator with Keras' tags
    (train/: epoch_* with the learning rate, batch_*, weight histograms under Keras' weight
    paths in Keras' layout; validation/: epoch_* and evaluation_*_vs_iterations), each value
    the one in the history at Keras' step."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    x, y = data()
    model = make_model()
    board = callbacks.TensorBoard(tmp_path / "logs", histogram_freq=1, update_freq=1)
    h = model.fit(x, y, epochs=2, batch_size=12, validation_split=0.25, verbose=0,
                  callbacks=[board]).history
    evaluated = model.evaluate(x, y, verbose=0, callbacks=[board], return_dict=True)
    train = EventAccumulator(str(tmp_path / "logs" / "train"), size_guidance={"scalars": 0})
    val = EventAccumulator(str(tmp_path / "logs" / "validation"), size_guidance={"scalars": 0})
    train.Reload()
    val.Reload()
    dense = model.layers[0]
    kernel = f"{model.name}/{dense.name}/kernel/histogram"
    assert set(train.Tags()["scalars"]) == {"epoch_loss", "epoch_mae", "epoch_learning_rate",
                                            "batch_loss", "batch_mae"}
    assert kernel in train.Tags()["histograms"]
    assert len(train.Tags()["histograms"]) == 4  # kernel and bias of both Dense layers
    assert set(val.Tags()["scalars"]) == {"epoch_loss", "epoch_mae",
                                          "evaluation_loss_vs_iterations",
                                          "evaluation_mae_vs_iterations"}

    def values(acc, tag):
        return [(e.step, e.value) for e in acc.Scalars(tag)]

    np.testing.assert_allclose([v for _, v in values(train, "epoch_loss")], h["loss"],
                               rtol=1e-6)
    assert [s for s, _ in values(train, "epoch_loss")] == [0, 1]
    np.testing.assert_allclose([v for _, v in values(val, "epoch_mae")], h["val_mae"],
                               rtol=1e-6)
    np.testing.assert_allclose([v for _, v in values(train, "epoch_learning_rate")],
                               [0.001, 0.001], rtol=1e-6)
    assert [s for s, _ in values(train, "batch_loss")] == [1, 2, 3, 4, 5, 6]  # 3 per epoch
    evals = values(val, "evaluation_loss_vs_iterations")
    assert [s for s, _ in evals] == [3, 6, 6]  # after each epoch's validation, then evaluate
    np.testing.assert_allclose(evals[-1][1], evaluated["loss"], rtol=1e-6)
    histogram = train.Histograms(kernel)[-1]  # after epoch 2: the final kernel, (in, out)
    assert histogram.step == 1
    kernel_now = dense.weight.detach().T.numpy()
    assert histogram.histogram_value.num == kernel_now.size == 4 * 8
    np.testing.assert_allclose(histogram.histogram_value.sum, kernel_now.sum(), rtol=1e-5)


def test_tensorboard_missing_package_and_bad_args(monkeypatch, tmp_path):
    monkeypatch.setattr(tb_module.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match="pip install tensorboard"):
        callbacks.TensorBoard(tmp_path)
    monkeypatch.setattr(tb_module, "_require_tensorboard", lambda: None)
    with pytest.raises(ValueError, match="profile_batch"):
        callbacks.TensorBoard(tmp_path, profile_batch=2)
    with pytest.raises(ValueError, match="update_freq"):
        callbacks.TensorBoard(tmp_path, update_freq="often")


def test_remote_monitor_posts_epoch_logs():
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Content-Type"], body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        root = f"http://127.0.0.1:{server.server_port}"
        form = callbacks.RemoteMonitor(root=root)
        form.on_epoch_end(0, {"loss": 0.5, "acc": np.float32(0.25)})
        as_json = callbacks.RemoteMonitor(root=root, path="/j", send_as_json=True)
        as_json.on_epoch_end(1, {"loss": 0.25})
    finally:
        server.shutdown()
        server.server_close()
    path, ctype, body = received[0]
    assert path == "/publish/epoch/end/" and ctype == "application/x-www-form-urlencoded"
    assert json.loads(urllib.parse.parse_qs(body.decode())["data"][0]) == {
        "epoch": 0, "loss": 0.5, "acc": 0.25}
    assert received[1] == ("/j", "application/json", b'{"epoch": 1, "loss": 0.25}')


def test_remote_monitor_unreachable_warns():
    cb = callbacks.RemoteMonitor(root="http://127.0.0.1:9", timeout=2)
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor"):
        cb.on_epoch_end(0, {"loss": 1.0})


def test_public_names_match_keras_list():
    names = {"BackupAndRestore", "CSVLogger", "Callback", "CallbackList", "EarlyStopping",
             "History", "LambdaCallback", "LearningRateScheduler", "ModelCheckpoint",
             "ProgbarLogger", "ReduceLROnPlateau", "RemoteMonitor", "TensorBoard",
             "TerminateOnNaN"}
    assert names <= set(dir(kerastorch.callbacks))


def test_model_checkpoint_full_model_goes_through_model_save(tmp_path, monkeypatch):
    x, y = data()
    model = make_model()
    written = []

    def fake_save(filepath, overwrite=True):  # stands in for the `.keras` writer
        written.append(os.path.basename(filepath))
        with open(filepath, "wb") as f:
            f.write(b"model")

    monkeypatch.setattr(model, "save", fake_save, raising=False)
    model.fit(x, y, epochs=2, verbose=0,
              callbacks=[callbacks.ModelCheckpoint(tmp_path / "m-{epoch}.keras")])
    assert sorted(os.listdir(tmp_path)) == ["m-1.keras", "m-2.keras"]
    assert all(name.startswith(".tmp-") and name.endswith(".keras") for name in written)
