"""`ProgbarLogger`: the `Epoch i/n` header and Keras 3's bar for each epoch."""

from kerastorch.callbacks.callback import Callback
from kerastorch.utils.progbar import Progbar


class ProgbarLogger(Callback):
    """Added by `fit` when `verbose` is 1 or 2. The trainer drives it directly (`due`,
    `update`) so that batch numbers are read only when the bar redraws."""

    def __init__(self):
        super().__init__()
        self._bar = None

    def begin_epoch(self, epoch, epochs, verbose, steps):
        if epochs > 1:
            print(f"Epoch {epoch + 1}/{epochs}", flush=True)
        self._bar = Progbar(steps, verbose)

    def due(self) -> bool:
        return self._bar is not None and self._bar.due()

    def update(self, step, logs_fn):
        self._bar.update(step, logs_fn)

    def end_epoch(self, steps_done, logs):
        if self._bar is not None:
            self._bar.update(steps_done, logs, finalize=True)
            self._bar = None
