"""Damaged model files never load silently: every load of a truncated, bit-flipped or partly
overwritten `.keras`, legacy `.h5`, `.pt` (model or state dict) or `.weights.h5` file either
returns exactly the saved weights or raises kerastorch's `SavedFileError` naming the file; files
written before checksums still load, and Keras 3 reads the checksummed files."""

import faulthandler
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import warnings
import zipfile

import h5py
import numpy as np
import pytest
import torch

import kerastorch as kt
from kerastorch.saving import keras_zip
from kerastorch.saving.file_safety import SavedFileError

COPIES_PER_KIND = 60  # per file format: a third truncated, a third flipped, a third overwritten
FORMATS = ("m.keras", "m.h5", "m.pt", "m.weights.h5", "m.state.pt")  # the last: save_weights
_WEIGHTS_ONLY = (".weights.h5", ".state.pt")
_METADATA = json.dumps({"keras_version": keras_zip.KERAS_VERSION, "kerastorch_version": "test",
                        "date_saved": "2024-01-01@00:00:00"})


def _architecture():
    """Named layers, so the saved bytes do not depend on what other tests created before."""
    return kt.Sequential([kt.Input((4,)), kt.layers.Dense(3, activation="relu", name="d1"),
                          kt.layers.BatchNormalization(name="bn"),
                          kt.layers.Dense(2, name="d2")], name="damage")


def _trained():
    """The architecture with seeded weights, fitted one step (optimizer state, moving stats)."""
    rng = np.random.default_rng(0)
    model = _architecture()
    model.set_weights([rng.normal(size=w.shape).astype(w.dtype) for w in model.get_weights()])
    model.compile(optimizer=kt.optimizers.Adam(0.01), loss="mse")
    x = rng.normal(size=(8, 4)).astype("float32")
    y = rng.normal(size=(8, 2)).astype("float32")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    return model


@pytest.fixture
def saved(tmp_path, monkeypatch):
    """{file name: bytes} of the fitted model in every format, and its weights."""
    monkeypatch.setattr(keras_zip, "metadata_json", lambda: _METADATA)  # no save date
    model = _trained()
    files = {}
    for name in FORMATS:
        path = tmp_path / "good" / name
        path.parent.mkdir(exist_ok=True)
        model.save_weights(path) if name.endswith(_WEIGHTS_ONLY) else model.save(path)
        files[name] = path.read_bytes()
    return files, model.get_weights()


def _damage(data: bytes, rng, how: str) -> bytes:
    """`data` truncated, with 1..8 bytes flipped, or with a 16..512-byte block overwritten."""
    out = bytearray(data)
    if how == "truncate":
        return bytes(out[: int(rng.integers(0, len(out)))])
    if how == "flip":
        for at in rng.integers(0, len(out), size=int(rng.integers(1, 9))):
            out[at] ^= int(rng.integers(1, 256))
        return bytes(out)
    size = int(rng.integers(16, 513))
    at = int(rng.integers(0, max(1, len(out) - size)))
    block = rng.integers(0, 256, size=size, dtype=np.uint8).tobytes() if rng.random() < 0.5 \
        else bytes(size)
    out[at: at + size] = block[: len(out) - at]
    return bytes(out)


def _load(path):
    """Load `path` as a user would; the loaded weights."""
    if path.name.endswith(_WEIGHTS_ONLY):
        model = _architecture()
        model.load_weights(path)
        return model.get_weights()
    return kt.models.load_model(path).get_weights()


def _outcome(path, expected) -> str:
    """'identical', 'refused', or what broke the rule."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            weights = _load(path)
    except SavedFileError as err:
        return "refused" if os.fspath(path) in str(err) else f"SavedFileError without path: {err}"
    except Exception as err:  # noqa: BLE001 (any other type breaks the rule)
        return f"{type(err).__name__}: {err}"
    same = len(weights) == len(expected) and all(
        a.shape == b.shape and np.array_equal(a, b) for a, b in zip(weights, expected))
    return "identical" if same else "loaded different weights"


def test_damaged_files_are_refused_or_load_exactly(saved, tmp_path):
    """300 damaged copies (60 per format, seeded: truncated, 1..8 bytes flipped, or a block of
    16..512 bytes overwritten with random bytes or zeros) are each loaded as a user would, and
    counted (`-s` prints the counts per format):

    - "refused": a SavedFileError naming the copy (the damage was found: zip CRC-32, sha256
      of a tensor or of the file, fletcher32, or the file's structure);
    - "identical": loaded with exactly the saved weights (the damage hit bytes no loader reads,
      such as the sha256 trailer alone after a truncation, or rewrote bytes with the values they
      held, such as zeros over zero padding);
    - anything else (another exception type, a SavedFileError not naming the file, different
      weights) breaks the rule and fails the test, listing each such copy.

    A load that hangs (libhdf5 loops forever on some damaged metadata) ends the run after two
    minutes with a traceback instead of blocking it."""
    files, expected = saved
    rng = np.random.default_rng(0)
    counts, broken = {}, []
    faulthandler.dump_traceback_later(120, exit=True)
    try:
        for name, data in files.items():
            for i in range(COPIES_PER_KIND):
                how = ("truncate", "flip", "overwrite")[i % 3]
                path = tmp_path / f"copy{i:02d}-{how}-{name}"
                path.write_bytes(_damage(data, rng, how))
                result = _outcome(path, expected)
                kind = result if result in ("identical", "refused") else "broke the rule"
                counts.setdefault(name, {}).setdefault(kind, 0)
                counts[name][kind] += 1
                if kind == "broke the rule":
                    broken.append(f"{path.name}: {result[:300]}")
                path.unlink()
    finally:
        faulthandler.cancel_dump_traceback_later()
    print("\ndamaged copies per format:", json.dumps(counts, sort_keys=True))
    assert not broken, f"{len(broken)} damaged copies broke the rule:\n" + "\n".join(broken)


# ---------------------------------------------------------------------- older files, checksums
def _unchecked_h5_copy(src, dst):
    """`src` rewritten by h5py as older writers (Keras 3, kerastorch before checksums) wrote it:
    the same groups, attributes and values, datasets unfiltered, no sha256 trailer."""
    with h5py.File(src, "r") as a, h5py.File(dst, "w") as b:
        b.attrs.update(dict(a.attrs))

        def copy(name, obj):
            if isinstance(obj, h5py.Group):
                b.require_group(name).attrs.update(dict(obj.attrs))
            else:
                b.create_dataset(name, data=obj[()])
        a.visititems(copy)


def _datasets(f):
    found = []
    f.visititems(lambda n, o: found.append(o) if isinstance(o, h5py.Dataset) else None)
    return found


def _same(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def test_files_without_checksums_still_load(saved, tmp_path):
    files, expected = saved
    for name in ("m.h5", "m.weights.h5"):
        (tmp_path / name).write_bytes(files[name])
        _unchecked_h5_copy(tmp_path / name, tmp_path / f"old-{name}")
        with h5py.File(tmp_path / f"old-{name}") as f:
            assert not any(ds.fletcher32 for ds in _datasets(f))
        assert _same(_load(tmp_path / f"old-{name}"), expected), name
    payload = torch.load(tmp_path / "good" / "m.pt", weights_only=True)
    assert set(payload["checksums"]["state_dict"]) == set(payload["state_dict"])
    del payload["checksums"]
    payload["version"] = 1  # the layout kerastorch wrote before checksums
    torch.save(payload, tmp_path / "old.pt")
    assert _same(kt.models.load_model(tmp_path / "old.pt").get_weights(), expected)
    state = torch.load(tmp_path / "good" / "m.state.pt", weights_only=True)
    torch.save(dict(state), tmp_path / "plain.pt")  # no `_metadata`: as torch.save writes it
    model = _architecture()
    model.load_weights(tmp_path / "plain.pt")
    assert _same(model.get_weights(), expected)


def test_written_files_carry_checksums(saved, tmp_path):
    files, _ = saved
    for name in ("m.h5", "m.weights.h5"):
        path = tmp_path / "good" / name
        assert files[name].endswith(b"KTSHA\x1a\n")  # the sha256 trailer
        with h5py.File(path) as f:
            assert all(ds.fletcher32 for ds in _datasets(f) if ds.ndim)
            assert any(ds.ndim == 0 for ds in _datasets(f))  # scalars: unchunked, unfiltered
    with zipfile.ZipFile(tmp_path / "good" / "m.keras") as zf:
        zf.extract("model.weights.h5", tmp_path)
    with h5py.File(tmp_path / "model.weights.h5") as f:
        assert all(ds.fletcher32 for ds in _datasets(f) if ds.ndim)
    state = torch.load(tmp_path / "good" / "m.pt", weights_only=True)["state_dict"]
    plain = torch.load(tmp_path / "good" / "m.state.pt", weights_only=True)
    assert set(plain._metadata["kerastorch.sha256"]["tensors"]) == set(plain) == set(state)
    torch.nn.Module.load_state_dict(_architecture(), plain)  # still a plain torch state dict


def test_pt_with_a_changed_tensor_is_refused_naming_it(saved, tmp_path):
    _, expected = saved
    payload = torch.load(tmp_path / "good" / "m.pt", weights_only=True)
    payload["state_dict"]["bn.running_var"][1] += 0.5  # old checksums kept, a valid zip
    torch.save(payload, tmp_path / "changed.pt")
    with pytest.raises(SavedFileError, match=r"changed\.pt.*tensor 'bn\.running_var'"):
        kt.models.load_model(tmp_path / "changed.pt")
    state = torch.load(tmp_path / "good" / "m.state.pt", weights_only=True)
    state["d2.weight"][0, 0] = 7.0
    torch.save(state, tmp_path / "changed.state.pt")
    with pytest.raises(SavedFileError, match=r"changed\.state\.pt.*tensor 'd2\.weight'"):
        _architecture().load_weights(tmp_path / "changed.state.pt")


def test_h5_rewritten_in_place_loses_its_trailer_and_fletcher32_still_checks(saved, tmp_path):
    """h5py opening a file for writing drops the sha256 trailer: an edited file loads, and a
    damaged dataset chunk is still found by its fletcher32 checksum."""
    files, expected = saved
    path = tmp_path / "m.weights.h5"
    path.write_bytes(files["m.weights.h5"])
    with h5py.File(path, "a") as f:
        f["layers/dense/vars"].attrs["edited"] = 1
    assert not path.read_bytes().endswith(b"KTSHA\x1a\n")
    assert _same(_load(path), expected)
    with h5py.File(path, "r") as f:
        at = f["layers/dense/vars/0"].id.get_chunk_info(0).byte_offset
    data = bytearray(path.read_bytes())
    data[at + 1] ^= 0x40
    path.write_bytes(bytes(data))
    with pytest.raises(SavedFileError, match=r"m\.weights\.h5.*(?i:checksum|fletcher)"):
        _load(path)


# ---------------------------------------------------------------------- Keras 3 reads them
_KERAS_READS = textwrap.dedent("""
    import json, sys
    import numpy as np
    import keras
    folder = sys.argv[1]
    x = np.load(folder + "/x.npy")
    out = {}
    for name in ("m.keras", "m.h5"):
        out[name] = keras.saving.load_model(f"{folder}/{name}").predict(x, verbose=0).tolist()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, "relu", name="d1"),
                              keras.layers.BatchNormalization(name="bn"),
                              keras.layers.Dense(2, name="d2")])
    model.load_weights(folder + "/m.weights.h5")
    out["m.weights.h5"] = model.predict(x, verbose=0).tolist()
    try:  # a flipped byte in a dataset chunk: fletcher32 makes h5py refuse it
        model.load_weights(folder + "/damaged.weights.h5")
        out["damaged"] = "loaded"
    except Exception as err:
        out["damaged"] = f"{type(err).__name__}: {err}"
    print("RESULT" + json.dumps(out))
""")


@pytest.mark.conformance
def test_keras3_reads_the_checksummed_files(saved, tmp_path):
    """Keras 3 (JAX, in a subprocess) loads kerastorch's fletcher32 + sha256-trailer `.keras`,
    `.h5` and `.weights.h5` files with the same predictions, and refuses a damaged chunk."""
    if importlib.util.find_spec("keras") is None or importlib.util.find_spec("jax") is None:
        pytest.skip("Keras 3 with JAX is not installed")
    files, _ = saved
    folder = tmp_path / "good"
    x = np.random.default_rng(1).normal(size=(5, 4)).astype("float32")
    np.save(folder / "x.npy", x)
    path = folder / "m.weights.h5"
    with h5py.File(path, "r") as f:
        at = f["layers/dense/vars/0"].id.get_chunk_info(0).byte_offset
    data = bytearray(files["m.weights.h5"][:-48])  # without the trailer: HDF5's own check
    data[at + 2] ^= 0x10
    (folder / "damaged.weights.h5").write_bytes(bytes(data))
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    run = subprocess.run([sys.executable, "-c", _KERAS_READS, str(folder)], env=env,
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    lines = [line for line in run.stdout.splitlines() if line.startswith("RESULT")]
    assert run.returncode == 0 and lines, run.stderr[-3000:]
    out = json.loads(lines[-1][len("RESULT"):])
    with torch.no_grad():
        ours = kt.models.load_model(folder / "m.keras")(torch.from_numpy(x)).numpy()
    for name in ("m.keras", "m.h5", "m.weights.h5"):
        np.testing.assert_allclose(np.array(out[name]), ours, rtol=1e-5, atol=1e-6,
                                   err_msg=name)
    assert "filter returned failure" in out["damaged"], out
