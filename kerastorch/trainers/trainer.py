"""`compile`, `fit`, `evaluate`, `predict` and the step functions, mixed into `Model`.

The hot loop is a plain PyTorch loop: in-memory data lives on the device and batches are slices
of it; metrics accumulate in device tensors; nothing reads a number back to the host per step
unless the progress bar is about to redraw or a callback asked for batch logs. Every input kind
(arrays, torch Datasets and DataLoaders, generators, PyDatasets) becomes an iterable of device
batches in `data_adapters`; device placement, the first-batch check and `*_on_batch` are in
`data_checks`.
"""


import inspect
import warnings

import torch

from kerastorch import config
from kerastorch import distribute  # multi-process hooks (one flag check when off)
from kerastorch import metrics as metrics_mod
from kerastorch import optimizers as optimizers_mod
from kerastorch.callbacks.callback import CallbackList
from kerastorch.callbacks.history import History
from kerastorch.callbacks.progbar_logger import ProgbarLogger
from kerastorch.layers import layer as layer_mod
from kerastorch.mixed_precision import step as mp_step
from kerastorch.trainers import data_adapters as da
from kerastorch.trainers.data_checks import DataChecks
from kerastorch.trainers.compile_utils import CompileLoss, CompileMetrics


def _pythonify(logs) -> dict:
    """Tensors -> Python floats, nested dicts merged, keys sorted (as Keras 3's logs)."""
    flat = {}
    for key, value in logs.items():
        if isinstance(value, dict):
            flat.update(value)
        else:
            flat[key] = value
    return {k: _to_python(v) for k, v in sorted(flat.items())}


def _to_python(value):
    # Keras: float() where it works; a vector result (e.g. F1Score(average=None)) stays an array.
    if isinstance(value, torch.Tensor) and value.numel() != 1:
        return value.detach().cpu().numpy()
    return float(value)


class Trainer(DataChecks):
    """Keras' training API. Mixed into `Model` (a `Layer`, so an `nn.Module`)."""

    def _init_trainer(self):
        self.compiled = False
        self.optimizer = None
        self.loss = None
        self.stop_training = False
        self.history = None
        self._compile_loss = None
        self._compile_metrics = None
        self._loss_tracker = None
        self._step_runner = None  # a mp_step.StepRunner when autocast/jit/DDP is on

    # ------------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True):
        """Configure training. Strings resolve through the registries; unknown names fail here,
        before anything on the model changes."""
        optimizer = optimizers_mod.get(optimizer)
        optimizer = mp_step.maybe_loss_scale(self, optimizer, auto_scale_loss)
        names = getattr(self, "output_names", None)
        compile_loss = CompileLoss(loss, loss_weights, names) if loss is not None else None
        compile_metrics = CompileMetrics(metrics, weighted_metrics, names)
        self.optimizer = optimizer
        self.loss = loss
        self._compile_loss = compile_loss
        self._compile_metrics = compile_metrics
        self._loss_tracker = metrics_mod.Mean(name="loss")
        self._jit_compile = jit_compile is True
        self.compiled = True
        self.stop_training = False

    def _assert_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(f"You must call `compile()` before using the model "
                               f"(`{what}` was called).")

    @property
    def metrics(self) -> list:
        """Keras 3's list: the loss tracker, per-output loss trackers, then the
        `compile_metrics` container (one metric whose `result()` is a dict)."""
        out = [self._loss_tracker] if self._loss_tracker is not None else []
        out += list(getattr(self, "_output_trackers", {}).values())
        if self._compile_metrics is not None and self._compile_metrics.built:
            out.append(self._compile_metrics)
        return out

    @property
    def metrics_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    def reset_metrics(self):
        for m in self.metrics:
            m.reset_state()

    # ------------------------------------------------------------------ steps
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Compiled loss plus regularization penalties and `add_loss` values."""
        loss = self._compile_loss(y, y_pred, sample_weight) if self._compile_loss else None
        if loss is not None and self._regularized == [] and layer_mod.ADD_LOSS_CALLS[0] == \
                self.__dict__.get("_loss_count_at_clear", 0):
            return loss  # the common case: no penalties
        penalties = self._penalties()
        if penalties:
            extra = torch.stack([torch.as_tensor(p).to(y_pred_device(y_pred)).float().sum()
                                 for p in penalties]).sum()
            loss = extra if loss is None else loss + extra
        if loss is None:
            raise ValueError("No loss to compute: pass `loss=` to `compile()` or call "
                             "`add_loss()` in the model.")
        return loss

    def _evaluation_loss(self, x, y, y_pred, sample_weight):
        """`compute_loss(..., training=False)`, or without `training` for an override that
        does not take it (Keras accepts both)."""
        cls = type(self)
        takes = cls.__dict__.get("_compute_loss_takes_training")
        if takes is None:
            params = inspect.signature(cls.compute_loss).parameters.values()
            takes = any(p.name == "training" or p.kind is p.VAR_KEYWORD for p in params)
            cls._compute_loss_takes_training = takes
        if takes:
            return self.compute_loss(x, y, y_pred, sample_weight, training=False)
        return self.compute_loss(x, y, y_pred, sample_weight)

    def _penalties(self) -> list:
        if self._regularized is None:  # computed once per fit/evaluate (layers are built)
            self._refresh_layer_lists()
        added = layer_mod.ADD_LOSS_CALLS[0] != self.__dict__.get("_loss_count_at_clear", 0)
        if not self._regularized and not added:
            return ()  # the common case: nothing to add, nothing allocated
        out = [reg(view(layer, attr)) for layer, reg, attr in self._regularized]
        if added:  # add_loss() ran during the latest call
            for layer in self._flatten_layers():
                out.extend(layer._losses)
        return out

    def _refresh_layer_lists(self):
        layers = self._flatten_layers()
        self._regularized = [(lyr, reg, attr) for lyr in layers
                             for reg, attr in lyr.__dict__.get("_regularizers", ())]
        self._constrained = [(lyr, c, attr) for lyr in layers
                             for c, attr in lyr.__dict__.get("_constraints", ())]

    def _forward(self, x):
        return self(x)  # Model.__call__ clears the previous call's add_loss values

    def _update_trackers(self, loss, y, y_pred, sample_weight, n):
        self._loss_tracker.update_state(loss, sample_weight=n)  # metrics detach if needed
        if self._compile_metrics is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Update the compiled metrics and return all results (Keras API)."""
        if self._compile_metrics is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self) -> dict:
        """`{name: result}` over `self.metrics` (dict results are merged), as Keras does."""
        logs = {}
        for metric in self.metrics:
            result = metric.result()
            if isinstance(result, dict):
                logs.update(result)
            else:
                logs[metric.name] = result
        return logs

    def train_step(self, data):
        """One optimizer step on a batch `(x, y, sample_weight)`.

        Returns `None`: the loop reads metric results only when it needs numbers. Overrides may
        return a dict of logs, as in Keras.
        """
        if self._step_runner is not None:  # autocast / loss scaling / jit / DDP
            return self._step_runner.train_step(self, data)
        x, y, sample_weight = da.unpack_x_y_sample_weight(data)
        y_pred = self._forward(x)
        loss = self.compute_loss(x, y, y_pred, sample_weight)
        if loss.requires_grad:
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
        else:  # nothing to train: the loss is still reported (Keras)
            warnings.warn("The model does not have any trainable weights.", stacklevel=2)
        if self._constrained:
            self._apply_constraints()
        n = _batch_len(x)
        self._update_trackers(loss, y, y_pred, sample_weight, n)
        if self._compile_loss is not None and self._compile_loss.per_output:
            self._track_output_losses(n)
        return None

    def test_step(self, data):
        if self._step_runner is not None:
            return self._step_runner.test_step(self, data)
        x, y, sample_weight = da.unpack_x_y_sample_weight(data)
        y_pred = self(x)
        loss = self._evaluation_loss(x, y, y_pred, sample_weight)
        n = x.shape[0] if type(x) is torch.Tensor else _batch_len(x)
        self._loss_tracker.update_state(loss, sample_weight=n)
        if self._compile_metrics is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        if self._compile_loss is not None and self._compile_loss.per_output:
            self._track_output_losses(n)
        return None

    def predict_step(self, data):
        if self._step_runner is not None:
            return self._step_runner.predict_step(self, data)
        x, _, _ = da.unpack_x_y_sample_weight(data)
        return self(x)

    def _track_output_losses(self, n):
        parts = self._compile_loss.per_output if self._compile_loss is not None else None
        if parts:
            for name, value in parts.items():
                if name not in self._output_trackers:
                    with torch.inference_mode(False):  # state must outlive evaluate()
                        self._output_trackers[name] = metrics_mod.Mean(name=name)
                self._output_trackers[name].update_state(value, sample_weight=n)

    @torch.no_grad()
    def _apply_constraints(self):
        for layer, constraint, attr in self._constrained:
            view(layer, attr, assign=constraint)

    # ------------------------------------------------------------------ fit
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Train for `epochs` epochs; returns a `History`. Arguments as in Keras 3.

        `x` may be arrays/tensors (or lists/dicts of them, keyed by input names), a torch
        `Dataset` or `DataLoader`, a generator yielding `(x, y[, sample_weight])` batches, or a
        `keras.utils.PyDataset`; `validation_data` likewise, or `(x_val, y_val[, sw_val])`.
        """
        dev = self._prepare("fit")
        epochs = _capped_epochs(epochs)
        steps_per_epoch = _capped_steps(steps_per_epoch)
        verbose = distribute.chief_verbose(1 if verbose == "auto" else verbose)
        _check_validation_freq(validation_freq)
        if validation_split and validation_data is None:
            if not da.is_array_like(x):
                raise ValueError("`validation_split` is only supported for Tensors or NumPy "
                                 "arrays. Found incompatible type in the input: "
                                 f"x={da.describe(x)}")
            (x, y, sample_weight), validation_data = da.split_validation(
                da.to_device(x, dev, "x"), da.to_device(y, dev, "y"),
                da.to_device(sample_weight, dev, "sample_weight"), validation_split)
        train = da.get_data_adapter(x, y, sample_weight, batch_size, steps_per_epoch, shuffle,
                                    class_weight, dev)
        train = distribute.shard(train)  # this rank's share of each global batch
        if isinstance(train, da.ArrayBatches):
            self._check_first_batch(train.x, train.y, train.sample_weight)
        val = None
        if validation_data is not None:
            val = distribute.shard(self._validation_batches(
                validation_data, validation_batch_size or batch_size, validation_steps, dev))
            if isinstance(val, da.ArrayBatches):  # bad validation targets fail before training
                self._check_first_batch(val.x, val.y, val.sample_weight)

        history = History()
        progbar = ProgbarLogger() if verbose else None
        # Keras' order: History after the user's callbacks, so it records what they add to the
        # epoch logs (`learning_rate` from ReduceLROnPlateau / LearningRateScheduler).
        cbs = CallbackList(list(callbacks or []) + [history] + ([progbar] if progbar else []),
                           model=self)
        cbs.set_params({"verbose": verbose, "epochs": epochs, "steps": train.num_steps})
        batch_logs = cbs.wants_batch_logs("train")
        self.stop_training = False
        self._first_batch_pending = not isinstance(train, da.ArrayBatches)
        was_training = self.training
        self._initial_epoch = None
        cbs.on_train_begin()
        initial_epoch = self._initial_epoch or initial_epoch  # BackupAndRestore sets it (Keras)
        epoch_logs = {}
        try:
            for epoch in range(initial_epoch, epochs):
                self.reset_metrics()
                cbs.on_epoch_begin(epoch)
                if progbar:
                    progbar.begin_epoch(epoch, epochs, verbose, train.num_steps)
                self.train()
                step = -1
                for step, data in enumerate(train):
                    if self._first_batch_pending:
                        self._check_first_batch(*da.unpack_x_y_sample_weight(data))
                        self.train()
                        self._first_batch_pending = False
                    if batch_logs:
                        cbs.on_train_batch_begin(step)
                    logs = self.train_step(data)
                    if batch_logs:
                        cbs.on_train_batch_end(step, _pythonify(logs or self.get_metrics_result()))
                    if progbar and progbar.due():
                        progbar.update(step + 1, lambda: _pythonify(
                            logs or self.get_metrics_result()))
                    if self.stop_training:
                        break
                if step < 0:
                    if train.exhausted and epoch > initial_epoch:
                        break  # a generator that is spent: training stops (Keras' warning)
                    raise ValueError("The training data produced no batches (an empty generator, "
                                     "Dataset, DataLoader or PyDataset?).")
                self.eval()
                distribute.reduce_metrics(self)  # sum metric states over ranks
                epoch_logs = _pythonify(logs or self.get_metrics_result())
                if val is not None and _should_validate(epoch, validation_freq):
                    # Keras' evaluate resets its iterator: with `validation_steps` (or a steps
                    # cap) every validation draws the first batches of a new pass
                    val.close()
                    val_logs = self._run_test_loop(val, verbose=0, callbacks=cbs)
                    if val_logs is not None:
                        epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
                        epoch_logs = dict(sorted(epoch_logs.items()))
                if progbar:
                    progbar.end_epoch(step + 1, epoch_logs)
                cbs.on_epoch_end(epoch, epoch_logs)
                if self.stop_training:
                    break
        finally:
            _close(train, val)  # worker threads joined, even after an error or an interrupt
            self.train(was_training)
            if epochs > 0 and isinstance(self.optimizer, optimizers_mod.Optimizer):
                # use_ema: the moving averages become the weights (Keras, even after an error)
                self.optimizer.finalize_variable_values(self.trainable_weights)
        cbs.on_train_end(epoch_logs)
        self.history = history
        return history

    def _validation_batches(self, validation_data, batch_size, steps, dev):
        """`(x_val, y_val[, sample_weight_val])` or a data source (Keras' unpacking rule)."""
        if isinstance(validation_data, (list, tuple)) and len(validation_data) not in (1, 2, 3):
            raise ValueError("`validation_data` must be `(x_val, y_val)` or "
                             "`(x_val, y_val, val_sample_weight)`, or a dataset. Received a "
                             f"{type(validation_data).__name__} of length "
                             f"{len(validation_data)}.")
        vx, vy, vsw = da.unpack_x_y_sample_weight(validation_data)
        return da.get_data_adapter(vx, vy, vsw, batch_size, _capped_steps(steps), False, None,
                                   dev,
                                   steps_name="validation_steps")

    # ------------------------------------------------------------------ evaluate
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False, **kwargs):
        """Loss and metrics on data: a scalar (loss only), a list `[loss, *metrics]`, or a dict.

        `x` takes every input kind `fit` takes; `steps` limits the batches drawn."""
        dev = self._prepare("evaluate")
        verbose = distribute.chief_verbose(1 if verbose == "auto" else verbose)
        steps = _capped_steps(steps)
        data = distribute.shard(da.get_data_adapter(x, y, sample_weight, batch_size, steps,
                                                    False, None, dev, steps_name="steps"))
        try:
            logs = self._run_test_loop(data, verbose, callbacks)
        finally:
            _close(data)
        if logs is None:
            raise ValueError("`evaluate` received no data: the data source produced no "
                             "batches.")
        if return_dict:
            return logs
        ordered = [logs[n] for n in self._ordered_metric_names() if n in logs]
        return ordered[0] if len(ordered) == 1 else ordered

    def _ordered_metric_names(self):
        names = ["loss"]
        if self._compile_loss is not None and self._compile_loss.per_output:
            names += list(self._compile_loss.per_output)
        names += self._compile_metrics.log_names if self._compile_metrics else []
        return names

    def _run_test_loop(self, data, verbose, callbacks):
        """Loss and metrics over `data` (None when it produced no batch)."""
        self.reset_metrics()
        was_training = self.training
        self.eval()
        # fit's validation passes its own CallbackList: the user's on_test_* hooks run (Keras)
        if isinstance(callbacks, CallbackList):
            cbs = callbacks
        else:
            cbs = CallbackList(callbacks, model=self)
            cbs.set_params({"verbose": verbose, "epochs": 1, "steps": data.num_steps})
        batch_logs = cbs.wants_batch_logs("test")
        progbar = None
        if verbose:
            from kerastorch.utils.progbar import Progbar
            progbar = Progbar(data.num_steps, verbose)
        cbs.on_test_begin()
        logs = None
        step = -1
        try:
            # inference_mode: cheaper per op than no_grad; metric state made outside it stays
            # ordinary (updated in place), and anything built here opts out of it.
            with torch.inference_mode():
                for step, batch in enumerate(data):
                    if step == 0:  # once per data signature; a no-op after that
                        self._check_first_batch(*da.unpack_x_y_sample_weight(batch))
                    if batch_logs:
                        cbs.on_test_batch_begin(step)
                    logs = self.test_step(batch)
                    if batch_logs:
                        cbs.on_test_batch_end(step, _pythonify(logs or
                                                               self.get_metrics_result()))
                    if progbar is not None and progbar.due():
                        progbar.update(step + 1, lambda: _pythonify(
                            logs or self.get_metrics_result()))
        finally:
            self.train(was_training)
        if step < 0:
            return None
        distribute.reduce_metrics(self)
        result = _pythonify(logs or self.get_metrics_result())
        if progbar is not None:
            progbar.update(step + 1, result, finalize=True)
        cbs.on_test_end(result)
        return result

    # ------------------------------------------------------------------ predict
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs for `x` as numpy arrays (float32), batch by batch in inference mode.

        `x` takes every input kind `fit` takes (targets in the batches are ignored)."""
        dev = self._to_device()
        verbose = distribute.chief_verbose(1 if verbose == "auto" else verbose)
        data = da.get_data_adapter(x, None, None, batch_size, _capped_steps(steps), False, None,
                                   dev,
                                   steps_name="steps")
        was_training = self.training
        self.eval()
        cbs = CallbackList(callbacks, model=self)
        cbs.set_params({"verbose": verbose, "epochs": 1, "steps": data.num_steps})
        batch_logs = cbs.wants_batch_logs("predict")
        progbar = None
        if verbose:
            from kerastorch.utils.progbar import Progbar
            progbar = Progbar(data.num_steps, verbose)
        outputs = []
        cbs.on_predict_begin()
        try:
            with torch.inference_mode():
                for step, batch in enumerate(data):
                    if batch_logs:
                        cbs.on_predict_batch_begin(step)
                    out = self.predict_step(batch)
                    outputs.append(out)
                    if batch_logs:
                        cbs.on_predict_batch_end(step, {"outputs": out})
                    if progbar is not None and progbar.due():
                        progbar.update(step + 1)
        finally:
            _close(data)
            self.train(was_training)
        if progbar is not None:
            progbar.update(len(outputs), finalize=True)
        cbs.on_predict_end()
        if not outputs:
            raise ValueError("`predict` received no data.")
        return da.concat_to_numpy(outputs)

    # ------------------------------------------------------------------ *_on_batch
    def _batch_result(self, logs, return_dict):
        logs = _pythonify(logs or self.get_metrics_result())
        if return_dict:
            return logs
        ordered = [logs[n] for n in self._ordered_metric_names() if n in logs]
        return ordered[0] if len(ordered) == 1 else ordered


def _capped_epochs(epochs):
    """`epochs`, or `keras.config.max_epochs()` when that is set and smaller (with Keras'
    warning)."""
    cap = config.max_epochs()
    if cap and cap < epochs:
        warnings.warn(f"Limiting epochs to {cap}", stacklevel=3)
        return cap
    return epochs


def _capped_steps(steps):
    """Steps of one epoch (of fit, its validation, evaluate or predict), capped by
    `keras.config.max_steps_per_epoch()` as Keras' EpochIterator caps them: a cap also sets the
    steps when none were given (so array data is cut into `cap` batches)."""
    cap = config.max_steps_per_epoch()
    if cap and (not steps or (isinstance(steps, int) and cap < steps)):
        warnings.warn(f"Limiting steps_per_epoch to {cap}", stacklevel=3)
        return cap
    return steps


def _close(*sources):
    """End every pass still open over `sources` (data adapters; None skipped)."""
    for source in sources:
        if source is not None:
            source.close()


def _check_validation_freq(freq):
    if isinstance(freq, bool) or not (isinstance(freq, int) or (
            isinstance(freq, list) and all(isinstance(f, int) for f in freq))):
        raise ValueError("Expected `validation_freq` to be a list or int. Received: "
                         f"validation_freq={freq!r} of the type {type(freq)}.")


def _should_validate(epoch, freq):
    if isinstance(freq, int):
        return (epoch + 1) % freq == 0
    return (epoch + 1) in freq


def _batch_len(x) -> int:
    if isinstance(x, torch.Tensor):
        return x.shape[0]
    return da.tree_leaves(x)[0].shape[0]


def y_pred_device(y_pred):
    return da.tree_leaves(y_pred)[0].device


def view(layer, attr, assign=None):
    """A weight in Keras' layout (what regularizers and constraints see); with `assign`,
    replace it by `assign(weight)`."""
    keras_view = layer.keras_view_of(attr)
    if assign is None:
        return keras_view
    tensor = layer._state_tensor(attr)
    spec = next((v for v in layer.keras_weight_views() if v.tensor is tensor), None)
    new = assign(keras_view)
    if spec is not None and spec.from_keras:
        new = spec.from_keras(new)
    tensor.copy_(new)
    return tensor
