"""Finding, downloading and safely reading the non-IDX datasets (CIFAR, IMDB, Reuters, housing).

The lookup is the one `_cache` documents for MNIST: `$KERASTORCH_HOME/datasets` first, then
Keras' cache (`$KERAS_HOME/datasets`, under the exact names `keras.utils.get_file` gives them),
then a download into `$KERASTORCH_HOME/datasets` (torchvision for CIFAR, which checks md5 sums;
Keras' own URLs and sha256 sums for the `.npz` files). Offline with nothing local, the error
names the files and the folder to put them in.

Some of these files hold pickles (the CIFAR batches; the ragged `dtype=object` arrays of
`imdb.npz` / `reuters.npz`): that is the format Keras reads. As Keras 3 does, they are read
with an unpickler that only accepts the numpy globals needed to rebuild arrays, so a tampered
file cannot run code.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import urllib.request
import zipfile

import numpy as np

from kerastorch.datasets._cache import (
    DatasetFormatError,
    DatasetNotFoundError,
    datasets_dir,
    keras_home,
)

KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

_ALLOWED_PICKLE_GLOBALS = frozenset({
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
})


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays and plain Python values only (what the dataset files hold)."""

    def find_class(self, module, name):
        if (module, name) in _ALLOWED_PICKLE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"Refusing to deserialize `{module}.{name}` while loading a dataset: only numpy "
            "arrays are expected. The file may be corrupted or malicious."
        )


def keras_datasets_dir() -> str:
    """Keras' dataset cache, `$KERAS_HOME/datasets` (default `~/.keras/datasets`)."""
    return os.path.join(keras_home(), "datasets")


# --------------------------------------------------------------------------------------------
# Readers


_NPY_HEADER_READERS = {1: np.lib.format.read_array_header_1_0,
                       2: np.lib.format.read_array_header_2_0,
                       3: np.lib.format.read_array_header_2_0}


def _load_npy_member(fp):
    try:
        return np.lib.format.read_array(fp, allow_pickle=False)
    except ValueError:  # An object array: its data is a pickle stream after the header.
        pass
    fp.seek(0)
    major = np.lib.format.read_magic(fp)[0]
    if major not in _NPY_HEADER_READERS:
        raise ValueError(f"unsupported .npy format version {major}")
    _NPY_HEADER_READERS[major](fp)  # skip the header; the pickle follows
    return RestrictedUnpickler(fp).load()


def read_npz(path: str, keys: tuple[str, ...]) -> dict:
    """Reads `keys` from the `.npz` at `path`; object arrays through `RestrictedUnpickler`.

    Raises:
        DatasetFormatError: Not a readable `.npz`, a refused pickle, or a key is missing;
            the message names the file.
    """
    arrays = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if member.endswith(".npy") and member[:-4] in keys:
                    with archive.open(member) as raw:
                        arrays[member[:-4]] = _load_npy_member(io.BytesIO(raw.read()))
    except Exception as e:  # BadZipFile, UnpicklingError, ValueError, EOFError, ...
        raise DatasetFormatError(f"{path} could not be read as a .npz file: {e}") from e
    missing = [k for k in keys if k not in arrays]
    if missing:
        raise DatasetFormatError(
            f"{path} lacks the arrays {missing}: this dataset's .npz holds {list(keys)}."
        )
    return arrays


def read_pickle_dict(path: str) -> dict:
    """Reads one CIFAR batch (a pickled dict with bytes keys) into a dict with str keys.

    Raises:
        DatasetFormatError: The file is not such a pickle; the message names it.
    """
    try:
        with open(path, "rb") as f:
            d = RestrictedUnpickler(f, encoding="bytes").load()
        if not isinstance(d, dict):
            raise ValueError(f"expected a pickled dict, got {type(d).__name__}")
        return {(k.decode("utf8") if isinstance(k, bytes) else k): v for k, v in d.items()}
    except FileNotFoundError:
        raise
    except Exception as e:
        raise DatasetFormatError(f"{path} could not be read as a CIFAR batch: {e}") from e


# --------------------------------------------------------------------------------------------
# Lookup and download


def hash_file(path: str, algorithm: str) -> str:
    """The hex digest of `path` with `algorithm` (`"sha256"` or `"md5"`)."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _urlretrieve(url: str, dest: str) -> None:
    """Downloads `url` to `dest` (kept as a function so tests can stand in for the network)."""
    urllib.request.urlretrieve(url, dest)


def download(url: str, dest: str, file_hash: str) -> str:
    """Downloads `url` to `dest` through a temporary file, checking its hash (sha256 when
    `file_hash` has 64 hex digits, md5 when 32, as Keras' `get_file` decides)."""
    algorithm = "sha256" if len(file_hash) == 64 else "md5"
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    partial = dest + ".part"
    try:
        _urlretrieve(url, partial)
        got = hash_file(partial, algorithm)
        if got != file_hash:
            raise ValueError(f"{url} downloaded with {algorithm} {got}, expected {file_hash}")
        os.replace(partial, dest)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return dest


def _home_line() -> str:
    return ("Set KERASTORCH_HOME (now: "
            f"{os.environ.get('KERASTORCH_HOME') or 'unset, so ~/.kerastorch'}) to use another "
            "folder in place of ~/.kerastorch.")


def fetch_file(title: str, path: str, keras_name: str, url: str, file_hash: str) -> str:
    """Finds the single file of a dataset, or downloads it; returns its path.

    Args:
        title: Name used in messages, e.g. `"IMDB"`.
        path: Keras' `path=` argument: a bare file name is looked up in
            `$KERASTORCH_HOME/datasets`, then in Keras' cache; a path with a folder is read from
            there and nowhere else.
        keras_name: The file's name at `url` (the download is saved under `path`).
        url: Where to download it from.
        file_hash: The file's sha256 (64 hex digits) or md5 (32) sum, checked after a download
            (local copies are trusted).

    Raises:
        DatasetNotFoundError: No local copy and the download failed; the message names the file
            and the folders it is looked for in.
    """
    path = os.fspath(path)
    if os.path.dirname(path):
        full = os.path.expanduser(path)
        if not os.path.isfile(full):
            raise DatasetNotFoundError(
                f"No {title} file at path={path!r}. Pass a bare file name to look it up in "
                f"{datasets_dir()} and {keras_datasets_dir()}, or the path of an existing file."
            )
        return full
    home = os.path.join(datasets_dir(), path)
    keras = os.path.join(keras_datasets_dir(), path)
    for candidate in (home, keras):
        if os.path.isfile(candidate):
            return candidate
    try:
        return download(url, home, file_hash)
    except Exception as e:
        raise DatasetNotFoundError(
            f"The {title} dataset was not found locally, and downloading it failed.\n"
            f"To use a copy you already have, put {keras_name} (as Keras downloads it from "
            f"{url}) at {home}, or in Keras' cache at {keras}.\n{_home_line()}\n"
            f"Download error: {type(e).__name__}: {str(e).strip()}"
        ) from e


def fetch_folder(title: str, files: tuple[str, ...], folders: tuple[str, ...], download_fn):
    """Finds the folder holding all of `files`, or downloads it; returns its path.

    Args:
        title: Name used in messages, e.g. `"CIFAR-10"`.
        files: The file names that must all be in the folder.
        folders: Candidate folders in lookup order (the first is where a download lands).
        download_fn: Called with no argument to download; returns the folder it filled.

    Raises:
        DatasetNotFoundError: No complete folder and the download failed; the message names
            the files and the folders.
    """
    incomplete = []
    for folder in folders:
        present = [f for f in files if os.path.isfile(os.path.join(folder, f))]
        if len(present) == len(files):
            return folder
        if present:
            missing = [f for f in files if f not in present]
            incomplete.append(f"{folder} has {len(present)} of the {len(files)} files; "
                              f"missing: {', '.join(missing)}")
    try:
        return download_fn()
    except Exception as e:
        lines = [
            f"The {title} dataset was not found locally, and downloading it failed.",
            f"To use a copy you already have, put the files {', '.join(files)} in "
            f"{folders[0]}, or in Keras' cache at {' or '.join(folders[1:])}.",
            _home_line(),
        ]
        lines += [f"Incomplete: {note}." for note in incomplete]
        lines.append(f"Download error: {type(e).__name__}: {str(e).strip()}")
        raise DatasetNotFoundError("\n".join(lines)) from e
