"""`keras.utils.get_file`: a cached download, offline-first.

With `cache_dir=None` the file is looked for in `$KERASTORCH_HOME/<cache_subdir>` (default
`~/.kerastorch/datasets`), then in Keras' cache `$KERAS_HOME/<cache_subdir>` (default
`~/.keras/datasets`); only when neither has it (or its hash does not match) is it downloaded
(urllib), into the first folder. A failed download raises an error naming the file, the URL and
the folders searched.
"""

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile

from kerastorch.utils.io_utils import print_msg


def resolve_hasher(algorithm, file_hash=None):
    """sha256 when asked for, or for "auto" given a 64-character hash; md5 otherwise."""
    auto_sha = algorithm == "auto" and file_hash is not None and len(file_hash) == 64
    return hashlib.sha256() if algorithm == "sha256" or auto_sha else hashlib.md5()


def hash_file(fpath, algorithm="sha256", chunk_size=65535):
    hasher = resolve_hasher(algorithm) if isinstance(algorithm, str) else algorithm
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath, file_hash, algorithm="auto", chunk_size=65535):
    """Whether the file's hash (sha256 or md5, by `algorithm`/the hash length) is `file_hash`."""
    return str(hash_file(fpath, resolve_hasher(algorithm, file_hash), chunk_size)) == \
        str(file_hash)


def _inside(base, target):
    base = os.path.realpath(base)
    return os.path.commonpath([base, os.path.realpath(os.path.join(base, target))]) == base


def extract_archive(file_path, path=".", archive_format="auto"):
    """Extract a tar or zip archive into `path` (members escaping `path` are skipped)."""
    if archive_format is None:
        return False
    formats = ["tar", "zip"] if archive_format == "auto" else (
        [archive_format] if isinstance(archive_format, str) else archive_format)
    for kind in formats:
        if kind == "tar":
            opener, matches = tarfile.open, tarfile.is_tarfile
        elif kind == "zip":
            opener, matches = zipfile.ZipFile, zipfile.is_zipfile
        else:
            raise NotImplementedError(kind)
        if not matches(file_path):
            continue
        with opener(file_path) as archive:
            try:
                if kind == "zip":
                    archive.extractall(path, members=[m for m in archive.infolist()
                                                      if _inside(path, m.filename)])
                else:
                    members = [m for m in archive if _inside(path, m.name)
                               and not ((m.issym() or m.islnk())
                                        and not _inside(path, os.path.join(
                                            os.path.dirname(m.name), m.linkname)))]
                    archive.extractall(path, members=members, filter="data")
            except (tarfile.TarError, RuntimeError, KeyboardInterrupt):
                if os.path.isfile(path):
                    os.remove(path)
                elif os.path.exists(path):
                    shutil.rmtree(path)
                raise
        return True
    return False


def _targets(datadir, fname, provided_fname, extract):
    """(download_target, extraction_dir) inside `datadir`, by Keras' naming rules."""
    if not extract:
        return os.path.join(datadir, fname), None
    if provided_fname and "." in fname:
        stem = fname[:fname.find(".")]
        return os.path.join(datadir, fname), os.path.join(datadir, f"{stem}_extracted")
    return os.path.join(datadir, f"{fname}_archive"), os.path.join(datadir, fname)


def _cache_dirs(cache_dir, cache_subdir):
    if cache_dir is not None:
        base = os.path.expanduser(cache_dir)
        if not os.access(base, os.W_OK):  # as Keras: unwritable (or missing) -> /tmp/.keras
            base = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(),
                                ".keras")
        return [os.path.join(base, cache_subdir)]
    from kerastorch.datasets._cache import keras_home, kerastorch_home
    return [os.path.join(kerastorch_home(), cache_subdir), os.path.join(keras_home(),
                                                                       cache_subdir)]


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None,
             cache_subdir="datasets", hash_algorithm="auto", extract=False,
             archive_format="auto", cache_dir=None, force_download=False):
    """The local path of a file, downloaded from `origin` unless already cached.

    Args:
        fname: File name (default: the last part of `origin`'s path).
        origin: The URL of the file.
        untar: Deprecated: `extract=True` with `archive_format="tar"`.
        md5_hash: Deprecated: `file_hash` with `hash_algorithm="md5"`.
        file_hash: Expected sha256 or md5 hash of the file (checked when given).
        cache_subdir: Subfolder of the cache folder to use.
        hash_algorithm: `"md5"`, `"sha256"` or `"auto"` (from the hash's length).
        extract: Extract the archive (tar or zip) and return the extraction folder.
        archive_format: `"auto"`, `"tar"`, `"zip"`, a list of them, or None.
        cache_dir: Cache folder (default: `$KERASTORCH_HOME`, then Keras' `~/.keras`).
        force_download: Download even when a cached copy exists.
    """
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    provided_fname = fname
    fname = os.fspath(fname) if fname is not None else None
    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(f"Can't parse the file name from the origin provided: '{origin}'."
                             "Please specify the `fname` argument.")
    elif os.sep in fname:
        raise ValueError("Paths are no longer accepted as the `fname` argument. To specify the "
                         "file's parent directory, use the `cache_dir` argument. "
                         f"Received: fname={fname}")
    extract = extract or untar
    if untar:
        archive_format = "tar"
    dirs = _cache_dirs(cache_dir, cache_subdir)
    found = None
    if not force_download:
        for datadir in dirs:
            target, extraction_dir = _targets(datadir, fname, provided_fname, extract)
            if extract and extraction_dir and os.path.isdir(extraction_dir) and \
                    not os.path.exists(target):
                return extraction_dir  # extracted earlier, archive removed
            if os.path.exists(target):
                if file_hash is None or validate_file(target, file_hash, hash_algorithm):
                    found = (target, extraction_dir)
                    break
                print_msg(f"A local file was found, but it seems to be incomplete or outdated "
                          f"because the {hash_algorithm} file hash does not match the original "
                          f"value of {file_hash} so we will re-download the data.")
    if found is None:
        datadir = dirs[0]
        os.makedirs(datadir, exist_ok=True)
        target, extraction_dir = _targets(datadir, fname, provided_fname, extract)
        _download(origin, target, fname, dirs)
        if file_hash is not None and not validate_file(target, file_hash, hash_algorithm):
            raise ValueError(f"Incomplete or corrupted file detected. The {hash_algorithm} file "
                             f"hash does not match the provided value of {file_hash}.")
        found = (target, extraction_dir)
    target, extraction_dir = found
    if extract:
        if not (os.path.isdir(extraction_dir) and os.listdir(extraction_dir)):
            if not extract_archive(target, extraction_dir, archive_format):
                warnings.warn("Could not extract archive.", stacklevel=2)
        return extraction_dir
    return target


def _download(origin, target, fname, dirs):
    print_msg(f"Downloading data from {origin}")
    partial = target + ".part"
    try:
        urllib.request.urlretrieve(origin, partial)
        os.replace(partial, target)
    except (Exception, KeyboardInterrupt) as e:
        if os.path.exists(partial):
            os.remove(partial)
        if isinstance(e, (urllib.error.URLError, OSError)):
            raise FileNotFoundError(
                f"get_file: {fname!r} is not in the cache ({', '.join(dirs)}) and downloading "
                f"it from {origin} failed ({e}). On an offline machine, copy the file into "
                f"{dirs[0]}.") from e
        raise
