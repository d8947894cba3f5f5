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
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None):
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename) as f:
                    self.append_header = not bool(len(f.readline()))
            mode = "a"
        else:
            mode = "w"
        if self.csv_file and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = open(self.filename, mode)  # no newline="": Keras' exact bytes
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}

        def handle_value(k):
            is_zero_dim_ndarray = isinstance(k, np.ndarray) and k.ndim == 0
            if isinstance(k, str):
                return k
            if isinstance(k, collections.abc.Iterable) and not is_zero_dim_ndarray:
                return f'"[{", ".join(map(str, k))}]"'
            return k

        if self.keys is None:
            self.keys = sorted(logs.keys())
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys.extend([f"val_{k}" for k in self.keys])
        if not self.writer:
            class CustomDialect(csv.excel):
                delimiter = self.sep

            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys,
                                         dialect=CustomDialect)
            if self.append_header:
                self.writer.writeheader()
        row = collections.OrderedDict({"epoch": epoch})
        row.update((key, handle_value(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None
