"""`CSVLogger`: one CSV row per epoch, in Keras 3's file format."""

import collections
import csv
import os

import numpy as np

from kerastorch.callbacks.callback import Callback


class CSVLogger(Callback):
    """Stream epoch results to a CSV file.

    Columns: `epoch` (0-based), then the log keys sorted; when the first epoch has no `val_*`
    keys, a `val_<key>` column per key is added and filled with `NA`. Rows use the `csv`
    module's excel dialect (so `\\r\\n` line ends), values written as Python prints them.

    Args:
        filename: Path of the CSV file (str or `PathLike`).
        separator: String used to separate elements. Defaults to `","`.
        append: Append to an existing file (the header only if the file is empty), or
            overwrite it. Defaults to `False`.

    Example:
        >>> csv_logger = CSVLogger("training.log")
        >>> model.fit(x_train, y_train, callbacks=[csv_logger])
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self.csv_file = self.writer = self.keys = None
        self.append_header = True

    def on_train_begin(self, logs=None):
        # Appending to a file that already has a first line: no second header.
        self.append_header = True
        if self.append and os.path.exists(self.filename):
            with open(self.filename) as f:
                self.append_header = not f.readline()
        self._close()
        # no newline="": the csv module's "\r\n" row ends, written as Keras writes them
        self.csv_file = open(self.filename, "a" if self.append else "w")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            keys = sorted(logs)
            if keys and not any(k.startswith("val_") for k in keys):
                keys += [f"val_{k}" for k in keys]  # columns for later validation results
            self.keys = keys
        if self.writer is None:
            dialect = type("_Dialect", (csv.excel,), {"delimiter": self.sep})
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch", *self.keys],
                                         dialect=dialect)
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        for key in self.keys:
            row[key] = _cell(logs.get(key, "NA"))
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        self._close()

    def _close(self):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = self.keys = None


def _cell(value):
    """A log value as Keras writes it: strings and scalars as they are, sequences (not 0-d
    arrays) as a quoted `"[a, b]"`."""
    if isinstance(value, str) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return value
    if isinstance(value, collections.abc.Iterable):
        return f'"[{", ".join(str(v) for v in value)}]"'
    return value
