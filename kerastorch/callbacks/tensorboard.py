"""`TensorBoard`: Keras' scalar summaries, written with `torch.utils.tensorboard`."""

import importlib.util
import os
import time

from kerastorch.callbacks.callback import Callback
from kerastorch.callbacks.monitor_callback import keras_learning_rate


def _require_tensorboard():
    if importlib.util.find_spec("tensorboard") is None:
        raise ImportError("The TensorBoard callback requires the `tensorboard` package (it "
                          "writes through `torch.utils.tensorboard`). Install it with "
                          "`pip install tensorboard`.")


def _summary_writer(logdir):
    """A `torch.utils.tensorboard.SummaryWriter` for `logdir` (tests swap this function)."""
    from torch.utils.tensorboard import SummaryWriter
    return SummaryWriter(log_dir=logdir)


class TensorBoard(Callback):
    """Log to TensorBoard event files, under the names Keras uses.

    `log_dir/train` gets `epoch_<name>` for each training log plus `epoch_learning_rate` (step:
    the 0-based epoch); `log_dir/validation` gets `epoch_<name>` for each `val_<name>` log.
    With `update_freq="batch"` or an integer N, `batch_<name>` is written every N training
    batches (step: the 1-based global batch count). `model.evaluate(callbacks=[tb])` writes
    `evaluation_<name>_vs_iterations` (step: the optimizer's iterations) to `validation`.

    Needs the `tensorboard` package (kerastorch's `tensorboard` and `dev` extras bring it).

    Args:
        log_dir: Folder for the event files. Defaults to `"logs"`.
        histogram_freq: Every this many epochs, write a histogram of each weight of the
            model's layers (`<Keras weight path>/histogram`, Keras' layout); `0` never.
            Defaults to `0`.
        write_graph: Accepted for compatibility; no graph is written.
        write_images: Accepted for compatibility; no images are written.
        write_steps_per_second: Also log `epoch_steps_per_second` (and
            `batch_steps_per_second` with batch-level updates). Defaults to `False`.
        update_freq: `"epoch"`, `"batch"` or an integer. Defaults to `"epoch"`.
        profile_batch: Must be `0`: profiling is not available on this backend (as Keras'
            torch backend).
        embeddings_freq: Must be `0` (embedding projector not supported).
        embeddings_metadata: Accepted for compatibility.
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        _require_tensorboard()
        if profile_batch:
            raise ValueError("Profiling is not yet available with the torch backend. Received: "
                             f"profile_batch={profile_batch} (must be 0)")
        if embeddings_freq:
            raise ValueError("The embedding projector is not supported by kerastorch's "
                             f"TensorBoard callback. Received: embeddings_freq={embeddings_freq} "
                             "(must be 0)")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        if self.update_freq != "epoch" and not (isinstance(self.update_freq, int)
                                                and self.update_freq > 0):
            raise ValueError("`update_freq` must be 'epoch', 'batch' or a positive integer. "
                             f"Received: update_freq={update_freq!r}")
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._train_dir = os.path.join(self.log_dir, "train")
        self._val_dir = os.path.join(self.log_dir, "validation")
        self._writers = {}
        self._global_train_batch = 0
        self._previous_epoch_iterations = 0
        self._epoch_start_time = 0.0
        self._batch_start_time = 0.0
        if self.update_freq != "epoch":
            # Batch hooks only for batch-level summaries: batch logs cost a sync per step.
            self.on_train_batch_begin = self._on_train_batch_begin
            self.on_train_batch_end = self._on_train_batch_end

    def _writer(self, which):
        if which not in self._writers:
            self._writers[which] = _summary_writer(
                self._train_dir if which == "train" else self._val_dir)
        return self._writers[which]

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        self._previous_epoch_iterations = 0

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if logs and optimizer is not None and hasattr(optimizer, "iterations"):
            writer = self._writer("val")
            for name, value in logs.items():
                writer.add_scalar(f"evaluation_{name}_vs_iterations", value,
                                  global_step=int(optimizer.iterations))
            writer.flush()

    def _on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start_time = time.time()

    def _on_train_batch_end(self, batch, logs=None):
        step = self._global_train_batch
        if step % self.update_freq != 0:
            return
        writer = self._writer("train")
        if self.write_steps_per_second:
            elapsed = time.time() - self._batch_start_time
            writer.add_scalar("batch_steps_per_second", 1.0 / max(elapsed, 1e-12),
                              global_step=step)
        if isinstance(logs, dict):
            for name, value in logs.items():
                writer.add_scalar(f"batch_{name}", value, global_step=step)

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._previous_epoch_iterations = int(self.model.optimizer.iterations)
            self._epoch_start_time = time.time()

    def on_epoch_end(self, epoch, logs=None):
        self._log_epoch_metrics(epoch, logs)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)

    def _log_epoch_metrics(self, epoch, logs):
        if not logs:
            return
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k: v for k, v in logs.items() if k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        if hasattr(optimizer, "optimizers"):
            for opt in optimizer.optimizers:
                train_logs[f"learning_rate_{opt.name}"] = keras_learning_rate(opt)
        elif optimizer is not None and hasattr(optimizer, "learning_rate"):
            train_logs["learning_rate"] = keras_learning_rate(optimizer)
        if self.write_steps_per_second:
            elapsed = time.time() - self._epoch_start_time
            steps = int(self.model.optimizer.iterations) - self._previous_epoch_iterations
            train_logs["steps_per_second"] = steps / max(elapsed, 1e-12)
        for which, part, strip in (("train", train_logs, 0), ("val", val_logs, 4)):
            if part:
                writer = self._writer(which)
                for name, value in part.items():
                    writer.add_scalar(f"epoch_{name[strip:]}", value, global_step=epoch)
                writer.flush()

    def _log_weights(self, epoch):
        writer = self._writer("train")
        for path, value in keras_weight_paths(self.model):
            if value.is_floating_point():
                writer.add_histogram(f"{path}/histogram", value.float().cpu(),
                                     global_step=epoch)
        writer.flush()


def keras_weight_paths(model):
    """`(path, value)` of every weight of the model: the variable's Keras path
    (`sequential/dense/kernel`; layers of a functional model are made outside it, so theirs
    start at the layer: `dense/kernel`) and its value in Keras' layout."""
    return [(v.path, v._keras_detached()) for v in model.weights]
