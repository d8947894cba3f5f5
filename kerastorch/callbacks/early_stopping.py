"""`EarlyStopping`: stop `fit` when the monitored quantity stops improving."""

import warnings

from kerastorch.callbacks.monitor_callback import MonitorCallback, print_msg


class EarlyStopping(MonitorCallback):
    """Stop training when a monitored metric has stopped improving (Keras 3's rules).

    At the end of each epoch from `start_from_epoch` on, a value that improves on the best so
    far (by more than `min_delta`, and on `baseline` when one is given) resets the wait;
    otherwise, once `patience` epochs passed without one (and `epoch > 0`), training stops.

    Args:
        monitor: Quantity to be monitored. Defaults to `"val_loss"`.
        min_delta: Minimum absolute change that counts as an improvement. Defaults to `0`.
        patience: Epochs with no improvement after which training stops. Defaults to `0`.
        verbose: 0 (silent) or 1 (a message when the callback acts). Defaults to `0`.
        mode: `"auto"`, `"min"` or `"max"`; see `MonitorCallback`. Defaults to `"auto"`.
        baseline: If not `None`, training stops unless the model improves on it. Defaults to
            `None`.
        restore_best_weights: Whether to restore the weights of the best epoch at the end of
            training (even when it did not beat `baseline`). Defaults to `False`.
        start_from_epoch: Epochs to wait before monitoring. Defaults to `0`.

    Example:
        >>> callback = keras.callbacks.EarlyStopping(monitor="loss", patience=3)
        >>> history = model.fit(x, y, epochs=10, callbacks=[callback], verbose=0)
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta=min_delta)
        self.patience, self.verbose, self.baseline = patience, verbose, baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self._restart()

    def _restart(self):
        # Each `fit` starts afresh (an instance may serve several).
        self.wait = self.stopped_epoch = self.best_epoch = 0
        self.best = self.best_weights = None

    def on_train_begin(self, logs=None):
        self._restart()

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()  # delayed until the model's metrics are built
        value = self.get_monitor_value(logs)
        if value is None or epoch < self.start_from_epoch:
            return
        keep = self.restore_best_weights
        if keep and self.best_weights is None:  # the first watched epoch is the best so far
            self.best_weights, self.best_epoch = self._weights(), epoch
        self.wait += 1
        if not self._is_improvement(value, self.best):
            if self.wait >= self.patience and epoch > 0:
                self.stopped_epoch = epoch
                self.model.stop_training = True
            return
        self.best, self.best_epoch = value, epoch
        if keep:
            self.best_weights = self._weights()
        # The wait restarts only when both the baseline and the previous best are beaten.
        if self.baseline is None or self._is_improvement(value, self.baseline):
            self.wait = 0

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print_msg(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if not (self.restore_best_weights and self.best_weights is not None):
            return
        if self.verbose > 0:
            print_msg("Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
        self.model.load_state_dict(self.best_weights)

    def _weights(self):
        # A copy of the whole state (buffers such as BatchNorm statistics included, as Keras'
        # `get_weights` includes non-trainable variables), kept on the model's device.
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def get_monitor_value(self, logs):
        logs = logs or {}
        monitor_value = logs.get(self.monitor)
        if monitor_value is None:
            warnings.warn(f"Early stopping conditioned on metric `{self.monitor}` which is not "
                          f"available. Available metrics are: {','.join(list(logs.keys()))}",
                          stacklevel=2)
        return monitor_value
