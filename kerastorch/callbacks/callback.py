"""`Callback` (Keras' hooks, epochs counted from 0) and `CallbackList`."""

import torch


class Callback:
    """Base class: override only the hooks you need. `self.model` is the model being trained.

    Batch-level hooks cost a host sync per batch (their `logs` hold Python floats), so the
    trainer computes batch logs only when some callback overrides a batch hook.
    """

    def __init__(self):
        self.params, self._model = {}, None

    def set_params(self, params): self.params = params
    def set_model(self, model): self._model = model

    @property
    def model(self):
        """The model being trained (the Keras model inside a DDP wrapper)."""
        if isinstance(self._model, torch.nn.parallel.DistributedDataParallel):
            return self._model.module  # callbacks use the Keras model's API, not the wrapper's
        return self._model

    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_train_batch_begin(self, batch, logs=None): self.on_batch_begin(batch, logs)
    def on_train_batch_end(self, batch, logs=None): self.on_batch_end(batch, logs)
    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...
    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...


_BATCH_HOOKS = {
    "train": ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end"),
    "test": ("on_test_batch_begin", "on_test_batch_end"),
    "predict": ("on_predict_batch_begin", "on_predict_batch_end"),
}


def _overrides(cb, hook) -> bool:
    # An instance attribute counts too: `LambdaCallback`, and callbacks that add a batch hook
    # only when configured to act per batch (so `save_freq="epoch"` costs no per-batch sync).
    return hook in cb.__dict__ or \
        getattr(type(cb), hook, None) is not getattr(Callback, hook, None)


class CallbackList:
    """Calls each hook on every callback, in order."""

    def __init__(self, callbacks=None, model=None, **params):
        self.callbacks = list(callbacks or [])
        self._model, self._mode_at_start = None, None
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError("`callbacks` must hold `keras.callbacks.Callback` instances. "
                                f"Received: {cb!r}")
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def append(self, cb):
        self.callbacks.append(cb)

    def set_model(self, model):
        # The mode the model had when the run began: restored if a callback raises, so a
        # failed `fit` leaves the model usable as it found it.
        self._model = model
        self._mode_at_start = getattr(model, "training", None)
        for cb in self.callbacks:
            cb.set_model(model)

    def set_params(self, params):
        for cb in self.callbacks:
            cb.set_params(params)

    def wants_batch_logs(self, mode: str) -> bool:
        """Whether any callback overrides a batch hook of `mode` ('train'/'test'/'predict')."""
        return any(_overrides(cb, h) for cb in self.callbacks for h in _BATCH_HOOKS[mode])

    def _call(self, hook, *args):
        # Keras' hooks always receive a logs dict (`{}` when empty); batch hooks get it by
        # keyword (`on_train_batch_end(batch, logs=logs)`), the others by position.
        *args, logs = args
        logs = {} if logs is None else logs
        keyword = "batch" in hook
        try:
            for cb in self.callbacks:
                if keyword:
                    getattr(cb, hook)(*args, logs=logs)
                else:
                    getattr(cb, hook)(*args, logs)
        except BaseException:
            if self._mode_at_start is not None and hasattr(self._model, "train"):
                self._model.train(self._mode_at_start)
            raise

    def on_epoch_begin(self, epoch, logs=None): self._call("on_epoch_begin", epoch, logs)
    def on_epoch_end(self, epoch, logs=None): self._call("on_epoch_end", epoch, logs)
    def on_train_batch_begin(self, b, logs=None): self._call("on_train_batch_begin", b, logs)
    def on_train_batch_end(self, b, logs=None): self._call("on_train_batch_end", b, logs)
    def on_test_batch_begin(self, b, logs=None): self._call("on_test_batch_begin", b, logs)
    def on_test_batch_end(self, b, logs=None): self._call("on_test_batch_end", b, logs)
    def on_predict_batch_begin(self, b, logs=None): self._call("on_predict_batch_begin", b, logs)
    def on_predict_batch_end(self, b, logs=None): self._call("on_predict_batch_end", b, logs)
    def on_train_begin(self, logs=None): self._call("on_train_begin", logs)
    def on_train_end(self, logs=None): self._call("on_train_end", logs)
    def on_test_begin(self, logs=None): self._call("on_test_begin", logs)
    def on_test_end(self, logs=None): self._call("on_test_end", logs)
    def on_predict_begin(self, logs=None): self._call("on_predict_begin", logs)
    def on_predict_end(self, logs=None): self._call("on_predict_end", logs)
