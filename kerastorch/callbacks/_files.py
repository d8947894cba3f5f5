"""Atomic file writes for checkpointing callbacks: write beside the target, then rename."""

import os

from kerastorch.saving.file_safety import atomic_write as _atomic_path


def atomic_write(path, write) -> None:
    """Call `write(tmp_path)` on a temporary path in `path`'s folder (same name ending, so
    savers that check suffixes accept it), then `os.replace` it onto `path`: readers never see
    a half-written file, and an interrupted save leaves the previous file intact. Unlike
    `model.save`, checkpoint folders are created as needed (Keras does the same)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"Please specify a non-directory filepath for checkpoints. "
                                f"Filepath used is an existing directory: {path}")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with _atomic_path(path) as tmp:
        write(tmp)


class BatchSaveCounter:
    """Keras' count of batches seen since the last save, for `save_freq=<int>` callbacks."""

    def __init__(self):
        self._seen, self._last = 0, -1  # batches since the last save; the last batch index

    def due(self, batch, save_freq) -> bool:
        # Batch indices restart at 0 each epoch: a smaller index means a new epoch began.
        self._seen += batch + 1 if batch <= self._last else batch - self._last
        self._last = batch
        if self._seen < save_freq:
            return False
        self._seen = 0
        return True
