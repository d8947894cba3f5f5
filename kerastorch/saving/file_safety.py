"""Safe file handling for every saved format: atomic writes, checked archives, clear errors.

- `atomic_write(path)`: write to a temporary file in the same folder, then `os.replace` it over
  `path`, so an interrupted save (crash, SIGKILL, full disk) never leaves a half-written file where
  a good one was.
- `check_zip_members(zf, path)`: refuse archives with absolute or `..` member names.
- `SavedFileError`: a `ValueError` that names the file and what is wrong with it (the underlying
  h5py / zipfile / torch error is chained, never shown alone).
"""

import contextlib
import os
import posixpath
import tempfile


class SavedFileError(ValueError):
    """A saved file that cannot be read: truncated, corrupted, hostile, or not fitting the model."""


def file_error(path, what, err=None) -> SavedFileError:
    detail = f" ({type(err).__name__}: {err})" if err is not None else ""
    return SavedFileError(f"Cannot load '{os.fspath(path)}': {what}{detail}")


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
