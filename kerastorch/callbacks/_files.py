"""Atomic file writes for checkpointing callbacks: write beside the target, then rename."""

import os
import uuid


def atomic_write(path, write) -> None:
    """Call `write(tmp_path)` on a temporary path in `path`'s folder (same name ending, so
    savers that check suffixes accept it), then `os.replace` it onto `path`: readers never see
    a half-written file, and an interrupted save leaves the previous file intact."""
    path = os.fspath(path)
    folder, base = os.path.split(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(f"Please specify a non-directory filepath for checkpoints. "
                                f"Filepath used is an existing directory: {path}")
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".tmp-{uuid.uuid4().hex[:12]}-{base}")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise
