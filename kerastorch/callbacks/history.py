"""`History`: every `fit` records its epoch logs here (Keras 3: keys sorted)."""

from kerastorch.callbacks.callback import Callback


class History(Callback):
    """`history.history` maps each metric name to a list of per-epoch Python floats;
    `history.epoch` lists the epoch indices; `history.params` the fit parameters."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        self.model.history = self
