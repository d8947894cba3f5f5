"""`TerminateOnNaN`: stop training on a NaN or infinite batch loss."""

import math

from kerastorch.callbacks.callback import Callback
from kerastorch.callbacks.monitor_callback import print_msg


class TerminateOnNaN(Callback):
    """Terminates training when a batch reports a NaN or infinite `loss`.

    Checking needs each batch's loss on the host, so while this callback is in use `fit` reads
    the logs of every batch (one device sync per step).

    Args:
        raise_error: If `False` (default), stop gracefully with `model.stop_training = True`
            (every callback's `on_train_end` still runs). If `True`, raise `RuntimeError` at
            once, skipping that cleanup (for example to keep a `BackupAndRestore` backup).
    """

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            if self.raise_error:
                raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. Loss value: "
                                   f"{loss}. Terminating training immediately.")
            print_msg(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True
