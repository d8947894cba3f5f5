"""`compile`, `fit`, `evaluate`, `predict` and the step functions, mixed into `Model`.

The hot loop is a plain PyTorch loop: in-memory data lives on the device and batches are slices
of it; metrics accumulate in device tensors; nothing reads a number back to the host per step
unless the progress bar is about to redraw or a callback asked for batch logs.
"""

import math
import warnings

import numpy as np
import torch

from kerastorch import config
from kerastorch import distribute  # [mpdist] multi-process hooks (one flag check when off)
from kerastorch import metrics as metrics_mod
from kerastorch import optimizers as optimizers_mod
from kerastorch.callbacks.callback import CallbackList
from kerastorch.callbacks.history import History
from kerastorch.callbacks.progbar_logger import ProgbarLogger
from kerastorch.layers import layer as layer_mod
from kerastorch.mixed_precision import step as mp_step  # [mpdist] autocast/loss scale/jit/DDP
from kerastorch.trainers import data_adapter as da
from kerastorch.trainers.compile_utils import CompileLoss, CompileMetrics


def _pythonify(logs) -> dict:
    """Tensors -> Python floats, nested dicts merged, keys sorted (as Keras 3's logs)."""
    flat = {}
    for key, value in logs.items():
        if isinstance(value, dict):
            flat.update(value)
        else:
            flat[key] = value
    return {k: float(v) for k, v in sorted(flat.items())}


class Trainer:
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
        self._step_runner = None  # [mpdist] a mp_step.StepRunner when autocast/jit/DDP is on

    # ------------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True):
        """Configure training. Strings resolve through the registries; unknown names fail here,
        before anything on the model changes."""
        optimizer = optimizers_mod.get(optimizer)
        optimizer = mp_step.maybe_loss_scale(self, optimizer, auto_scale_loss)  # [mpdist]
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
        if self._step_runner is not None:  # [mpdist] autocast / loss scaling / jit / DDP
            return self._step_runner.train_step(self, data)
        x, y, sample_weight = da.unpack_x_y_sample_weight(data)
        y_pred = self._forward(x)
        loss = self.compute_loss(x, y, y_pred, sample_weight)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        if self._constrained:
            self._apply_constraints()
        n = _batch_len(x)
        self._update_trackers(loss, y, y_pred, sample_weight, n)
        if self._compile_loss is not None and self._compile_loss.per_output:
            self._track_output_losses(n)
        return None

    def test_step(self, data):
        if self._step_runner is not None:  # [mpdist]
            return self._step_runner.test_step(self, data)
        x, y, sample_weight = da.unpack_x_y_sample_weight(data)
        y_pred = self(x)
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=False)
        n = x.shape[0] if type(x) is torch.Tensor else _batch_len(x)
        self._loss_tracker.update_state(loss, sample_weight=n)
        if self._compile_metrics is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        if self._compile_loss is not None and self._compile_loss.per_output:
            self._track_output_losses(n)
        return None

    def predict_step(self, data):
        if self._step_runner is not None:  # [mpdist]
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

    # ------------------------------------------------------------------ data
    def _prepare(self, what):
        """Model and optimizer on the device; per-run caches reset."""
        self._assert_compiled(what)
        # [mpdist] the step runner (None: the plain steps). It may initialise the process group,
        # which selects this process' CUDA device, so it comes before the model moves.
        self._step_runner = mp_step.runner_for(self)
        dev = config.device()
        if getattr(self, "_on_device", None) != dev:
            self.to(dev)
            self._on_device = dev
        self._regularized = None
        self._constrained = []
        self._first_batch_pending = False
        if not hasattr(self, "_output_trackers"):
            self._output_trackers = {}
        return dev

    def _check_first_batch(self, x, y, sample_weight):
        """Build the model and run loss + metrics on one row before training, so shape errors
        surface with nothing changed. Skipped when data of the same trailing shapes and dtypes
        already passed it with this compile."""
        key = tuple((tuple(t.shape[1:]), t.dtype, t.device)
                    for t in da.tree_leaves((x, y, sample_weight)))
        key = (key, id(self._compile_loss), id(self._compile_metrics), len(self._stack)
               if hasattr(self, "_stack") else 0)
        if key == self.__dict__.get("_checked_key"):
            self._refresh_layer_lists()
            return
        was_training = self.training
        self.eval()
        try:
            with torch.inference_mode(False), torch.no_grad():
                first = da.tree_map(lambda t: t[:1], x)
                y_pred = self(first)
                if y is not None and self._compile_loss is not None:
                    yt = da.tree_map(lambda t: t[:1], y)
                    sw = da.tree_map(lambda t: t[:1], sample_weight)
                    self._compile_loss(yt, y_pred, sw)
                    if self._compile_metrics is not None and not self._compile_metrics.built:
                        self._compile_metrics.build(yt, y_pred)
        finally:
            self.train(was_training)
        self._refresh_layer_lists()
        if not self.optimizer.built:
            self.optimizer.build(list(self.parameters()))
        self.__dict__["_checked_key"] = key

    def _array_batches(self, x, y, sample_weight, batch_size, shuffle, steps, dev):
        x = da.to_device(x, dev, "x")
        y = da.to_device(y, dev, "y")
        sample_weight = da.to_device(sample_weight, dev, "sample_weight")
        return da.ArrayBatches(x, y, sample_weight, batch_size or 32, shuffle, steps)

    def _batches(self, x, y, sample_weight, batch_size, shuffle, steps, dev):
        if da.is_array_like(x):
            return self._array_batches(x, y, sample_weight, batch_size, shuffle, steps, dev)
        if y is not None:
            raise ValueError("When `x` is a dataset, generator or DataLoader, `y` must not be "
                             "given (the batches carry the targets). Received: y of type "
                             f"{type(y).__name__}")
        return da.IterableBatches(x, dev, steps)

    # ------------------------------------------------------------------ fit
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Train for `epochs` epochs; returns a `History`. Arguments as in Keras 3."""
        dev = self._prepare("fit")
        verbose = distribute.chief_verbose(1 if verbose == "auto" else verbose)  # [mpdist]
        if validation_split and validation_data is None:
            if not da.is_array_like(x):
                raise ValueError("`validation_split` is only supported for numpy arrays and "
                                 "tensors; pass `validation_data` instead.")
            (x, y, sample_weight), validation_data = da.split_validation(
                da.to_device(x, dev, "x"), da.to_device(y, dev, "y"),
                da.to_device(sample_weight, dev, "sample_weight"), validation_split)
        train = self._batches(x, y, sample_weight, batch_size, shuffle, steps_per_epoch, dev)
        if class_weight is not None:
            if not isinstance(train, da.ArrayBatches):
                raise ValueError("`class_weight` needs in-memory arrays in this version.")
            train.sample_weight = da.class_weights_to_sample_weights(
                train.y, class_weight, train.sample_weight)
        train = distribute.shard(train)  # [mpdist] this rank's share of each global batch
        if isinstance(train, da.ArrayBatches):
            self._check_first_batch(train.x, train.y, train.sample_weight)
        val = None
        if validation_data is not None:
            val = distribute.shard(self._validation_batches(  # [mpdist]
                validation_data, validation_batch_size or batch_size, validation_steps, dev))

        history = History()
        progbar = ProgbarLogger() if verbose else None
        cbs = CallbackList([history] + list(callbacks or []) + ([progbar] if progbar else []),
                           model=self)
        cbs.set_params({"verbose": verbose, "epochs": epochs, "steps": len(train)})
        batch_logs = cbs.wants_batch_logs("train")
        self.stop_training = False
        self._first_batch_pending = not isinstance(train, da.ArrayBatches)
        cbs.on_train_begin()
        epoch_logs = {}
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            cbs.on_epoch_begin(epoch)
            if progbar:
                progbar.begin_epoch(epoch, epochs, verbose, len(train))
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
                raise ValueError("The training data produced no batches.")
            self.eval()
            distribute.reduce_metrics(self)  # [mpdist] sum metric states over ranks
            epoch_logs = _pythonify(logs or self.get_metrics_result())
            if val is not None and _should_validate(epoch, validation_freq):
                val_logs = self._run_test_loop(val, verbose=0, callbacks=None)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
                epoch_logs = dict(sorted(epoch_logs.items()))
            if progbar:
                progbar.end_epoch(step + 1, epoch_logs)
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        cbs.on_train_end(epoch_logs)
        self.history = history
        return history

    def _validation_batches(self, validation_data, batch_size, steps, dev):
        if isinstance(validation_data, (list, tuple)) and len(validation_data) in (2, 3) \
                and da.is_array_like(validation_data[0]):
            vx, vy = validation_data[0], validation_data[1]
            vsw = validation_data[2] if len(validation_data) == 3 else None
            return self._array_batches(vx, vy, vsw, batch_size, False, steps, dev)
        if isinstance(validation_data, (list, tuple)):
            raise ValueError("`validation_data` must be `(x_val, y_val)` or "
                             "`(x_val, y_val, val_sample_weight)`, or a dataset. Received a "
                             f"sequence of length {len(validation_data)}.")
        return da.IterableBatches(validation_data, dev, steps)

    # ------------------------------------------------------------------ evaluate
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False, **kwargs):
        """Loss and metrics on data: a scalar (loss only), a list `[loss, *metrics]`, or a dict."""
        dev = self._prepare("evaluate")
        verbose = distribute.chief_verbose(1 if verbose == "auto" else verbose)  # [mpdist]
        data = distribute.shard(self._batches(x, y, sample_weight, batch_size, False, steps,
                                              dev))  # [mpdist]
        if isinstance(data, da.ArrayBatches):
            self._check_first_batch(data.x, data.y, data.sample_weight)
        else:
            self._first_batch_pending = True
        logs = self._run_test_loop(data, verbose, callbacks)
        if return_dict:
            return logs
        ordered = [logs[n] for n in self._ordered_metric_names() if n in logs]
        return ordered[0] if len(ordered) == 1 else ordered

    def _ordered_metric_names(self):
        names = ["loss"]
        if self._compile_loss is not None and self._compile_loss.per_output:
            names += list(self._compile_loss.per_output)
        names += [m.name for m, _, _ in (self._compile_metrics.metrics
                                         if self._compile_metrics else [])]
        return names

    def _run_test_loop(self, data, verbose, callbacks):
        self.reset_metrics()
        was_training = self.training
        self.eval()
        cbs = CallbackList(callbacks, model=self)
        batch_logs = cbs.wants_batch_logs("test")
        progbar = None
        if verbose:
            from kerastorch.utils.progbar import Progbar
            progbar = Progbar(len(data), verbose)
        cbs.on_test_begin()
        logs = None
        try:
            # inference_mode: cheaper per op than no_grad; metric state made outside it stays
            # ordinary (updated in place), and anything built here opts out of it.
            with torch.inference_mode():
                for step, batch in enumerate(data):
                    if self._first_batch_pending:
                        self._check_first_batch(*da.unpack_x_y_sample_weight(batch))
                        self._first_batch_pending = False
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
        distribute.reduce_metrics(self)  # [mpdist]
        result = _pythonify(logs or self.get_metrics_result())
        if progbar is not None:
            progbar.update(len(data) or step + 1, result, finalize=True)
        cbs.on_test_end(result)
        return result

    # ------------------------------------------------------------------ predict
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs for `x` as numpy arrays (float32), batch by batch in inference mode."""
        self._step_runner = mp_step.runner_for(self)  # [mpdist]
        dev = config.device()
        if getattr(self, "_on_device", None) != dev:
            self.to(dev)
            self._on_device = dev
        verbose = distribute.chief_verbose(1 if verbose == "auto" else verbose)  # [mpdist]
        if da.is_array_like(x):
            x = da.to_device(x, dev, "x")
            data = da.ArrayBatches(x, None, None, batch_size or 32, False, steps)
        else:
            data = da.IterableBatches(x, dev, steps)
        was_training = self.training
        self.eval()
        cbs = CallbackList(callbacks, model=self)
        batch_logs = cbs.wants_batch_logs("predict")
        progbar = None
        if verbose:
            from kerastorch.utils.progbar import Progbar
            progbar = Progbar(len(data), verbose)
        outputs = []
        cbs.on_predict_begin()
        try:
            with torch.inference_mode():
                for step, batch in enumerate(data):
                    out = self.predict_step(batch)
                    outputs.append(out)
                    if batch_logs:
                        cbs.on_predict_batch_end(step, {"outputs": out})
                    if progbar is not None and progbar.due():
                        progbar.update(step + 1)
        finally:
            self.train(was_training)
        if progbar is not None:
            progbar.update(len(outputs), finalize=True)
        cbs.on_predict_end()
        if not outputs:
            raise ValueError("`predict` received no data.")
        return _concat_to_numpy(outputs)

    # ------------------------------------------------------------------ on_batch
    def _one_batch(self, x, y, sample_weight, class_weight=None):
        dev = config.device()
        x, y = da.to_device(x, dev, "x"), da.to_device(y, dev, "y")
        sample_weight = da.to_device(sample_weight, dev, "sample_weight")
        if class_weight is not None:
            sample_weight = da.class_weights_to_sample_weights(y, class_weight, sample_weight)
        da.num_samples(("x", x), ("y", y), ("sample_weight", sample_weight))
        return x, y, sample_weight

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        """One step on one batch; metrics keep accumulating across calls, as in Keras 3."""
        dev = self._prepare("train_on_batch")
        x, y, sample_weight = self._one_batch(x, y, sample_weight, class_weight)
        self._check_first_batch(x, y, sample_weight)
        self.train()
        try:
            logs = self.train_step(da.pack_x_y_sample_weight(x, y, sample_weight))
        finally:
            self.eval()
        del dev
        return self._batch_result(logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._prepare("test_on_batch")
        x, y, sample_weight = self._one_batch(x, y, sample_weight)
        self._check_first_batch(x, y, sample_weight)
        self.eval()
        with torch.no_grad():
            logs = self.test_step(da.pack_x_y_sample_weight(x, y, sample_weight))
        return self._batch_result(logs, return_dict)

    def predict_on_batch(self, x):
        dev = config.device()
        if getattr(self, "_on_device", None) != dev:
            self.to(dev)
            self._on_device = dev
        self._step_runner = mp_step.runner_for(self)  # [mpdist]
        self.eval()
        with torch.inference_mode():
            return _concat_to_numpy([self.predict_step(da.to_device(x, dev, "x"))])

    def _batch_result(self, logs, return_dict):
        logs = _pythonify(logs or self.get_metrics_result())
        if return_dict:
            return logs
        ordered = [logs[n] for n in self._ordered_metric_names() if n in logs]
        return ordered[0] if len(ordered) == 1 else ordered


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
    tensor = getattr(layer, attr)
    spec = next((v for v in layer.keras_weight_views() if v.tensor is tensor), None)
    new = assign(keras_view)
    if spec is not None and spec.from_keras:
        new = spec.from_keras(new)
    tensor.copy_(new)
    return tensor


def _concat_to_numpy(outputs):
    first = outputs[0]
    if isinstance(first, torch.Tensor):
        if first.dtype in (torch.float16, torch.bfloat16):  # [mpdist] mixed policies, as Keras
            return _half_to_numpy(torch.cat(outputs).cpu())
        return torch.cat(outputs).float().cpu().numpy() if first.is_floating_point() else \
            torch.cat(outputs).cpu().numpy()
    if isinstance(first, (list, tuple)):
        return [_concat_to_numpy([o[i] for o in outputs]) for i in range(len(first))]
    if isinstance(first, dict):
        return {k: _concat_to_numpy([o[k] for o in outputs]) for k in first}
    warnings.warn("predict: outputs are not tensors; returning them as a list.", stacklevel=3)
    return outputs


def _half_to_numpy(t):
    """float16 -> numpy float16; bfloat16 -> ml_dtypes' bfloat16 (what Keras returns) when it
    is installed, else float32."""
    if t.dtype == torch.float16:
        return t.numpy()
    try:
        import ml_dtypes
    except ImportError:
        return t.float().numpy()
    return t.view(torch.int16).numpy().view(ml_dtypes.bfloat16)


del math, np
