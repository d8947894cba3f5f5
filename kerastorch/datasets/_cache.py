"""Where datasets come from: kerastorch's cache, Keras' cache, then a torchvision download.

Each `load_data()` looks, in order:

1. in `$KERASTORCH_HOME/datasets` (default `~/.kerastorch/datasets`), for a Keras-format `.npz`
   or the four IDX files (plain or `.gz`), directly there or where torchvision puts them
   (`MNIST/raw/`, `FashionMNIST/raw/`);
2. in Keras' cache, `$KERAS_HOME/datasets` (default `~/.keras/datasets`), where
   `keras.datasets.*.load_data()` leaves its downloads;
3. by downloading with torchvision into `$KERASTORCH_HOME/datasets` (torchvision checks the
   md5 sums), then reading the IDX files it wrote.

A file that is found but damaged raises at once, naming the file, rather than being skipped.
Nothing here depends on anything outside the package and the standard library, numpy and
(for the download only) torchvision.
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import zlib

import numpy as np

IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")

# IDX type codes (the magic number's third byte) -> big-endian numpy dtypes.
_IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class DatasetNotFoundError(FileNotFoundError):
    """No local copy of a dataset was found, and downloading it failed."""


class DatasetFormatError(ValueError):
    """A dataset file was found but is truncated, corrupt or of the wrong layout."""


def kerastorch_home() -> str:
    """`$KERASTORCH_HOME`, or `~/.kerastorch` when it is unset or empty."""
    return os.path.expanduser(os.environ.get("KERASTORCH_HOME") or "~/.kerastorch")


def keras_home() -> str:
    """Keras' cache folder: `$KERAS_HOME`, or `~/.keras` when it is unset."""
    return os.path.expanduser(os.environ.get("KERAS_HOME") or "~/.keras")


def datasets_dir() -> str:
    """The folder kerastorch reads datasets from first and downloads them into."""
    return os.path.join(kerastorch_home(), "datasets")


# --------------------------------------------------------------------------------------------
# Readers


def _open(path: str):
    """Opens `path` for binary reading, through gzip when it starts with gzip's magic bytes."""
    with open(path, "rb") as f:
        is_gzip = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if is_gzip else open(path, "rb")


def _read_exactly(f, buffer) -> int:
    """Reads into `buffer` until it is full or the stream ends; returns the bytes read."""
    view = memoryview(buffer).cast("B")
    filled = 0
    while filled < len(view):
        n = f.readinto(view[filled:])
        if not n:
            break
        filled += n
    return filled


def read_idx(path: str) -> np.ndarray:
    """Reads one IDX file (plain or gzip), as MNIST and Fashion-MNIST are distributed.

    The header is checked (magic number, type code, dimensions) and the data must be exactly
    as long as the dimensions say.

    Args:
        path: The file, e.g. `".../t10k-images-idx3-ubyte.gz"`.

    Returns:
        A writable numpy array with the file's dimensions, in native byte order
        (`uint8` for MNIST images and labels).

    Raises:
        DatasetFormatError: The file is truncated, too long, not IDX, or not valid gzip;
            the message names the file.
    """
    try:
        with _open(path) as f:
            header = f.read(4)
            if len(header) < 4 or header[:2] != b"\x00\x00" or header[2] not in _IDX_DTYPES:
                raise DatasetFormatError(
                    f"{path} is not an IDX file: expected a magic number 0x0000TTNN (TT a type "
                    f"code in {sorted(_IDX_DTYPES)}, NN the number of dimensions). "
                    f"Received: {header.hex() or 'an empty file'}"
                )
            dtype, ndim = _IDX_DTYPES[header[2]], header[3]
            dims_raw = f.read(4 * ndim)
            if len(dims_raw) < 4 * ndim:
                raise DatasetFormatError(
                    f"{path} is truncated: its header announces {ndim} dimensions but ends "
                    f"after {len(dims_raw) // 4}."
                )
            shape = tuple(int(d) for d in np.frombuffer(dims_raw, dtype=">u4"))
            out = np.empty(shape, dtype=dtype.newbyteorder("="))
            expected = out.nbytes
            got = _read_exactly(f, out)
            if got < expected:
                raise DatasetFormatError(
                    f"{path} is truncated: its header announces shape {shape} "
                    f"({expected} bytes of data) but the file has only {got}."
                )
            if f.read(1):
                raise DatasetFormatError(
                    f"{path} is longer than its header announces (shape {shape}, {expected} "
                    "bytes of data): the file is corrupt or not this dataset."
                )
    except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        if isinstance(e, FileNotFoundError):
            raise
        raise DatasetFormatError(f"{path} could not be read as (gzipped) IDX: {e}") from e
    if dtype.byteorder == ">" and dtype.itemsize > 1:
        # np.empty used native order; the bytes we read in are big-endian.
        out = out.view(dtype).astype(dtype.newbyteorder("="))
    return out


def read_npz(path: str):
    """Reads a Keras-format dataset `.npz` (arrays `x_train, y_train, x_test, y_test`).

    Returns:
        `(x_train, y_train), (x_test, y_test)` as stored.

    Raises:
        DatasetFormatError: The file is not a readable npz or lacks one of the arrays.
    """
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in NPZ_KEYS if k not in f.files]
            if missing:
                raise DatasetFormatError(
                    f"{path} lacks the arrays {missing}: a Keras dataset .npz holds "
                    f"{list(NPZ_KEYS)}. Received: {sorted(f.files)}"
                )
            x_train, y_train, x_test, y_test = (f[k] for k in NPZ_KEYS)
    except DatasetFormatError:
        raise
    except Exception as e:  # zipfile.BadZipFile, zlib.error, ValueError (not an npz), ...
        raise DatasetFormatError(f"{path} could not be read as a .npz file: {e}") from e
    return (x_train, y_train), (x_test, y_test)


def _find_idx_files(folder: str):
    """Maps each of `IDX_FILES` to its path in `folder` (plain name first, then `.gz`)."""
    found = {}
    for name in IDX_FILES:
        for candidate in (name, name + ".gz"):
            path = os.path.join(folder, candidate)
            if os.path.isfile(path):
                found[name] = path
                break
    return found


def read_idx_folder(folder: str, image_ndim: int = 3):
    """Reads the four MNIST-style IDX files in `folder` into Keras' tuples.

    Args:
        folder: Holds `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
            `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each plain or `.gz`.
        image_ndim: Dimensions expected of the image arrays (3: `(n, rows, cols)`).

    Returns:
        `(x_train, y_train), (x_test, y_test)`.

    Raises:
        FileNotFoundError: One of the four files is missing.
        DatasetFormatError: A file is damaged, or images and labels do not match.
    """
    found = _find_idx_files(folder)
    missing = [name for name in IDX_FILES if name not in found]
    if missing:
        raise FileNotFoundError(f"{folder} lacks {', '.join(missing)} (plain or .gz)")
    arrays = {}
    for name, path in found.items():
        array = read_idx(path)
        want = image_ndim if "images" in name else 1
        if array.ndim != want:
            raise DatasetFormatError(
                f"{path} should hold a {want}-dimensional array. Received: shape {array.shape}"
            )
        arrays[name] = array
    for split in ("train", "t10k"):
        images, labels = arrays[f"{split}-images-idx3-ubyte"], arrays[f"{split}-labels-idx1-ubyte"]
        if len(images) != len(labels):
            raise DatasetFormatError(
                f"In {folder}, {split}-images has {len(images)} images but {split}-labels has "
                f"{len(labels)} labels."
            )
    x_train = arrays["train-images-idx3-ubyte"]
    y_train = arrays["train-labels-idx1-ubyte"]
    x_test = arrays["t10k-images-idx3-ubyte"]
    y_test = arrays["t10k-labels-idx1-ubyte"]
    return (x_train, y_train), (x_test, y_test)


# --------------------------------------------------------------------------------------------
# The lookup


@dataclasses.dataclass(frozen=True)
class IDXDataset:
    """Where one MNIST-style dataset lives, for `load`.

    Attributes:
        title: Name used in messages, e.g. `"MNIST"`.
        npz_name: Keras-format `.npz` looked for in the kerastorch cache.
        idx_subdirs: Folders under the kerastorch cache that may hold the four IDX files.
        keras_npz: Path under Keras' `datasets/` folder of a cached `.npz`, or `None`.
        keras_idx_subdir: Folder under Keras' `datasets/` holding the IDX files, or `None`.
        torchvision_class: Name of the `torchvision.datasets` class that downloads it.
    """

    title: str
    npz_name: str | None
    idx_subdirs: tuple[str, ...]
    keras_npz: str | None
    keras_idx_subdir: str | None
    torchvision_class: str


def _download(spec: IDXDataset, root: str) -> str:
    """Downloads with torchvision into `root`; returns the folder holding the IDX files."""
    import torchvision.datasets  # Imported here: only a download needs it.

    cls = getattr(torchvision.datasets, spec.torchvision_class)
    # train=False: torchvision downloads all four files either way, then parses only the
    # (smaller) test split, which we do not use.
    dataset = cls(root=root, train=False, download=True)
    return getattr(dataset, "raw_folder", os.path.join(root, spec.torchvision_class, "raw"))


def load(spec: IDXDataset, npz_name: str | None = None):
    """Finds and reads `spec` from the caches, downloading it if there is no local copy.

    Args:
        spec: The dataset's locations.
        npz_name: Overrides `spec.npz_name` (Keras' `path=` argument): a bare file name is
            looked up in both caches; a path with a folder is read from there and nowhere else.

    Returns:
        `(x_train, y_train), (x_test, y_test)` as numpy arrays.

    Raises:
        DatasetNotFoundError: No local copy and the download failed; the message says which
            files are accepted and where to put them.
        DatasetFormatError: A local copy was found but is damaged; the message names the file.
    """
    npz_name = npz_name or spec.npz_name
    if npz_name is not None:
        npz_name = os.fspath(npz_name)
        if os.path.dirname(npz_name):  # An explicit path: no lookup.
            path = os.path.expanduser(npz_name)
            if not os.path.isfile(path):
                raise DatasetNotFoundError(
                    f"No {spec.title} .npz file at path={npz_name!r}. Pass a bare file name to "
                    f"look it up in {datasets_dir()} and {os.path.join(keras_home(), 'datasets')}"
                    ", or the path of an existing Keras-format .npz."
                )
            return read_npz(path)

    home = datasets_dir()
    keras_dir = os.path.join(keras_home(), "datasets")
    incomplete = []

    def try_idx(folder):
        found = _find_idx_files(folder)
        if len(found) == len(IDX_FILES):
            return read_idx_folder(folder)
        if found:
            missing = [name for name in IDX_FILES if name not in found]
            incomplete.append(f"{folder} has {len(found)} of the 4 files; missing: "
                              f"{', '.join(missing)}")
        return None

    if npz_name and os.path.isfile(os.path.join(home, npz_name)):
        return read_npz(os.path.join(home, npz_name))
    for sub in spec.idx_subdirs:
        data = try_idx(os.path.normpath(os.path.join(home, sub)))
        if data is not None:
            return data
    keras_npz = npz_name if npz_name != spec.npz_name else spec.keras_npz
    if keras_npz and os.path.isfile(os.path.join(keras_dir, keras_npz)):
        return read_npz(os.path.join(keras_dir, keras_npz))
    if spec.keras_idx_subdir is not None:
        data = try_idx(os.path.join(keras_dir, spec.keras_idx_subdir))
        if data is not None:
            return data

    try:
        raw = _download(spec, home)
        return read_idx_folder(raw)
    except DatasetFormatError:
        raise
    except Exception as e:
        raise DatasetNotFoundError(_not_found_message(spec, npz_name, home, keras_dir,
                                                      incomplete, e)) from e


def _not_found_message(spec, npz_name, home, keras_dir, incomplete, error) -> str:
    idx_where = " or ".join(os.path.normpath(os.path.join(home, sub)) for sub in spec.idx_subdirs)
    lines = [
        f"The {spec.title} dataset was not found locally, and downloading it failed.",
        "To use a copy you already have, put either",
    ]
    if npz_name:
        lines.append(f"  - {os.path.join(home, npz_name)}  (Keras format: arrays "
                     f"{', '.join(NPZ_KEYS)}), or")
    lines.append(f"  - the four IDX files {', '.join(IDX_FILES)} (each plain or .gz) in "
                 f"{idx_where}")
    keras_where = []
    if spec.keras_npz and npz_name:
        keras_where.append(os.path.join(keras_dir, npz_name))
    if spec.keras_idx_subdir is not None:
        folder = os.path.join(keras_dir, spec.keras_idx_subdir)
        keras_where.append(f"the four IDX files in {folder}")
    if keras_where:
        lines.append(f"or Keras' cached copy ({' or '.join(keras_where)}).")
    lines.append("Set KERASTORCH_HOME (now: "
                 f"{os.environ.get('KERASTORCH_HOME') or 'unset, so ~/.kerastorch'}) to use "
                 "another folder in place of ~/.kerastorch.")
    for note in incomplete:
        lines.append(f"Incomplete: {note}.")
    lines.append(f"Download error (torchvision.datasets.{spec.torchvision_class}): "
                 f"{type(error).__name__}: {str(error).strip()}")
    return "\n".join(lines)
