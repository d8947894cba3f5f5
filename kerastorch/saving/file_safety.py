"""Safe file handling for every saved format: atomic writes, checked archives, clear errors.

- `atomic_write(path)`: write to a temporary file in the same folder, then `os.replace` it over
  `path`, so an interrupted save (crash, SIGKILL, full disk) never leaves a half-written file where
  a good one was.
- `check_zip_members(zf, path)`: refuse archives with absolute or `..` member names.
- `SavedFileError`: a `ValueError` that names the file and what is wrong with it (the underlying
  h5py / zipfile / torch error is chained, never shown alone).
- `read_errors(path, what)`: within the block, the low-level errors a damaged file causes
  (h5py, zipfile, json, unicode, struct, numpy, torch) become `SavedFileError`s naming `path`.
- `config_errors(path)`: within the block, a damaged or unusable model config raises a
  `SavedFileError` that is still the original error's kind (`except TypeError` keeps catching
  an unknown class).
- `seal(path)` / `check_seal(path)`: a 48-byte sha256 trailer kerastorch appends to the HDF5 files
  it writes, checked before HDF5 parses a byte: HDF5 files in the widely readable layout carry
  no metadata checksums (fletcher32 covers dataset chunks only), and some damaged metadata makes
  libhdf5 loop forever. HDF5 ignores bytes past its end of file, so Keras and h5py read sealed
  files as usual; h5py opening a file for writing drops the trailer.
"""

import contextlib
import hashlib
import json
import os
import posixpath
import struct
import tempfile
import zipfile
import zlib


class SavedFileError(ValueError):
    """A saved file that cannot be read: truncated, corrupted, hostile, or not fitting the model."""

    __str__ = BaseException.__str__  # the message as is, also in the KeyError kind


# What reading a damaged file raises from h5py, zipfile, json, struct, numpy and torch.
LOW_LEVEL_ERRORS = (OSError, EOFError, RuntimeError, LookupError, ValueError, TypeError,
                    AttributeError, ArithmeticError, struct.error, zlib.error,
                    zipfile.BadZipFile, zipfile.LargeZipFile, json.JSONDecodeError)


def file_error(path, what, err=None) -> SavedFileError:
    detail = f" ({type(err).__name__}: {err})" if err is not None else ""
    return SavedFileError(f"Cannot load '{os.fspath(path)}': {what}{detail}")


@contextlib.contextmanager
def read_errors(path, what):
    """Within the block, `LOW_LEVEL_ERRORS` become `file_error(path, what, err)`; a
    `SavedFileError` (already naming the file) passes unchanged."""
    try:
        yield
    except SavedFileError:
        raise
    except LOW_LEVEL_ERRORS as err:
        if isinstance(err, OSError) and "filter returned failure" in str(err):  # h5py
            what = ("a dataset failed HDF5's fletcher32 checksum (or decompression) check: the "
                    "file is corrupted")
        raise file_error(path, what, err) from err


# A config error keeps its kind: `SavedFileError` (a ValueError) mixed with the first of these
# (`SavedTypeError`, `SavedKeyError`, ...: module attributes, so they pickle).
_CONFIG_ERROR_KINDS = (TypeError, KeyError, IndexError, AttributeError, RuntimeError,
                       ArithmeticError, AssertionError)
_MIXED = {kind: type(f"Saved{kind.__name__}", (SavedFileError, kind),
                     {"__module__": __name__, "__qualname__": f"Saved{kind.__name__}"})
          for kind in _CONFIG_ERROR_KINDS}
globals().update({cls.__name__: cls for cls in _MIXED.values()})


def config_error(path, err, what="the model config could not be turned into a model"):
    """`SavedFileError` for an error raised while building the model from the file's config
    (damaged, or naming a class that is not available); it is also a TypeError / KeyError / ...
    when `err` is one, so code catching the original kind still catches it."""
    kind = next((k for k in _CONFIG_ERROR_KINDS if isinstance(err, k)), None)
    message = str(file_error(path, what, err))
    return _MIXED[kind](message) if kind is not None else SavedFileError(message)


@contextlib.contextmanager
def config_errors(path, what="the model config could not be turned into a model"):
    """Within the block (deserializing a config read from `path`), the errors a damaged or
    unusable config raises become `config_error`s naming `path`."""
    try:
        yield
    except SavedFileError:
        raise
    except (ValueError, *_CONFIG_ERROR_KINDS) as err:
        raise config_error(path, err, what) from err


# ---------------------------------------------------------------------- sha256 trailer
_SEAL_HEAD = b"\x89KTSHA\r\n"
_SEAL_TAIL = b"\nKTSHA\x1a\n"
_SEAL_SIZE = len(_SEAL_HEAD) + 32 + len(_SEAL_TAIL)


def _sha256(path, size) -> bytes:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while size > 0:
            block = f.read(min(size, 1 << 20))
            if not block:
                break
            digest.update(block)
            size -= len(block)
    return digest.digest()


def seal(path) -> None:
    """Append the sha256 of `path`'s bytes as a 48-byte trailer (marker, digest, marker)."""
    digest = _sha256(path, os.path.getsize(path))
    with open(path, "ab") as f:
        f.write(_SEAL_HEAD + digest + _SEAL_TAIL)


def check_seal(path) -> bool:
    """True when `path` ends in a trailer from `seal` and its bytes match it; False when it has
    none (written before, by another program, or rewritten by h5py). A trailer whose digest or
    one of whose markers does not match means the file is damaged: refused."""
    size = os.path.getsize(path)
    if size < _SEAL_SIZE:
        return False
    with open(path, "rb") as f:
        f.seek(size - _SEAL_SIZE)
        trailer = f.read(_SEAL_SIZE)
    head, digest, tail = trailer[:8], trailer[8:40], trailer[40:]
    if head != _SEAL_HEAD and tail != _SEAL_TAIL:
        return False
    if head != _SEAL_HEAD or tail != _SEAL_TAIL:
        raise file_error(path, "the sha256 trailer kerastorch wrote at its end is damaged "
                               "(the file is corrupted)")
    if _sha256(path, size - _SEAL_SIZE) != digest:
        raise file_error(path, "its bytes do not match the sha256 checksum kerastorch wrote at "
                               "its end (the file is corrupted, or was changed in place)")
    return True


@contextlib.contextmanager
def atomic_write(path):
    """Yield a temporary path in `path`'s folder; on success it replaces `path` atomically.

    On any error (or a crash) the previous file at `path` is left untouched.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"Cannot save to '{path}': the folder '{folder}' does not exist.")
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix="-" + os.path.basename(path), dir=folder)
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb+") as f:  # data on disk before the rename makes it visible
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def check_overwrite(path, overwrite) -> None:
    if not overwrite and os.path.exists(os.fspath(path)):
        raise FileExistsError(f"'{os.fspath(path)}' exists and overwrite=False.")


def require_file(path) -> str:
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No file or directory found at '{path}'.")
    if os.path.isdir(path):
        raise IsADirectoryError(f"'{path}' is a directory, expected a file.")
    return path


def check_zip_members(zf, path) -> None:
    """Refuse member names that would land outside an extraction folder."""
    for name in zf.namelist():
        normal = posixpath.normpath(name.replace("\\", "/"))
        if (name.startswith(("/", "\\")) or normal.startswith("../") or normal == ".."
                or (len(name) > 1 and name[1] == ":")):
            raise file_error(path, f"the archive holds a member with an unsafe path {name!r} "
                                   "(absolute or with '..'); refusing to read it.")


def sniff(path) -> str:
    """'zip', 'hdf5' or 'unknown' from the first bytes of the file."""
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(b"PK"):
        return "zip"
    if head == b"\x89HDF\r\n\x1a\n":
        return "hdf5"
    return "unknown"
