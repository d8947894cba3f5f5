"""keras.utils / keras.preprocessing helpers against Keras 3 (JAX backend).

Keras' dataset builders need TensorFlow (not installed); their file ordering
(`index_directory`, pure numpy) is compared here, the batches in tests/test_utils_api.py.
"""

import io
import os
import time
from contextlib import redirect_stdout

import numpy as np
import pytest

import kerastorch as kt


SEQS = [[1, 2, 3, 4, 5], [6, 7], [], [8, 9, 10]]


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
@pytest.mark.parametrize("maxlen", [None, 2, 4, 7])
@pytest.mark.parametrize("value", [0.0, -1])
def test_pad_sequences_matches_keras(keras3, padding, truncating, maxlen, value):
    want = keras3.utils.pad_sequences(SEQS, maxlen=maxlen, padding=padding,
                                      truncating=truncating, value=value)
    got = kt.utils.pad_sequences(SEQS, maxlen=maxlen, padding=padding, truncating=truncating,
                                 value=value)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_pad_sequences_float_and_vector_items_match_keras(keras3):
    seqs = [np.ones((3, 2)), np.arange(4).reshape(2, 2) * 0.5]
    kw = dict(maxlen=3, dtype="float32", padding="post", value=9.0)
    np.testing.assert_array_equal(kt.preprocessing.sequence.pad_sequences(seqs, **kw),
                                  keras3.utils.pad_sequences(seqs, **kw))
    text = [["a", "b"], ["c"]]
    np.testing.assert_array_equal(
        kt.utils.pad_sequences(text, dtype=object, value="<pad>"),
        keras3.utils.pad_sequences(text, dtype=object, value="<pad>"))


def _progbar_output(module, monkeypatch, target, calls, **kwargs):
    clock = [100.0]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    buf = io.StringIO()
    with redirect_stdout(buf):
        bar = module.utils.Progbar(target, **kwargs)
        for step, values, dt in calls:
            clock[0] += dt
            if step is None:
                bar.add(1, values)
            else:
                bar.update(step, values)
    return buf.getvalue()


@pytest.mark.parametrize("verbose", [1, 2])
@pytest.mark.parametrize("stateful", [None, ["acc"]])
def test_progbar_output_matches_keras(keras3, monkeypatch, verbose, stateful):
    calls = [(1, [("loss", 0.5), ("acc", 0.25)], 0.2), (2, [("loss", 0.3), ("acc", 0.5)], 0.3),
             (None, [("loss", 0.0001), ("acc", 0.75)], 1.5), (5, [("loss", 0.1)], 0.4)]
    kw = dict(verbose=verbose, stateful_metrics=stateful, interval=0.0)
    want = _progbar_output(keras3, monkeypatch, 5, calls, **kw)
    got = _progbar_output(kt, monkeypatch, 5, calls, **kw)
    assert want  # something was drawn
    assert got == want


def test_progbar_unknown_target_matches_keras(keras3, monkeypatch):
    calls = [(3, [("loss", 2.0)], 0.01), (None, [("loss", 1.0)], 0.002)]
    want = _progbar_output(keras3, monkeypatch, None, calls, unit_name="sample")
    got = _progbar_output(kt, monkeypatch, None, calls, unit_name="sample")
    assert got == want


def test_progbar_state_matches_keras(keras3):
    for mod in (keras3, kt):
        bar = mod.utils.Progbar(10, verbose=0, stateful_metrics=["s"])
        bar.update(2, [("m", 1.0), ("s", 5.0)])
        bar.add(3, [("m", 2.0), ("s", 7.0)])
        assert bar._seen_so_far == 5 and bar.target == 10 and bar.verbose == 0
        assert bar._values == {"m": [8.0, 5], "s": [7.0, 1]}


@pytest.fixture
def image_tree(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for cls, n in (("cats", 3), ("dogs", 4), ("zebra", 2)):
        (tmp_path / cls / "sub").mkdir(parents=True)
        for i in range(n):
            folder = tmp_path / cls / ("sub" if i == 0 else "")
            arr = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
            Image.fromarray(arr).save(folder / f"img{i}.png")
    (tmp_path / "cats" / "notes.txt").write_text("not an image")
    (tmp_path / ".hidden").mkdir()
    return tmp_path


@pytest.mark.parametrize("shuffle,seed", [(False, None), (True, 7), (True, 123)])
@pytest.mark.parametrize("class_names", [None, ["zebra", "cats"]])
def test_index_directory_matches_keras(keras3, image_tree, shuffle, seed, class_names):
    from keras.src.utils import dataset_utils as kdu

    from kerastorch.utils import dataset_utils as du

    formats = du.IMAGE_FORMATS
    want = kdu.index_directory(str(image_tree), "inferred", formats, class_names=class_names,
                               shuffle=shuffle, seed=seed, verbose=False)
    got = du.index_directory(str(image_tree), "inferred", formats, class_names=class_names,
                             shuffle=shuffle, seed=seed, verbose=False)
    assert got[0] == want[0]
    np.testing.assert_array_equal(got[1], want[1])
    assert got[2] == want[2]


@pytest.mark.parametrize("color_mode", ["rgb", "grayscale", "rgba"])
@pytest.mark.parametrize("target_size,interp,keep", [
    (None, "nearest", False), ((3, 4), "bilinear", False), ((4, 4), "nearest", True),
    ((8, 3), "bicubic", True)])
def test_load_img_img_to_array_match_keras(keras3, image_tree, color_mode, target_size, interp,
                                           keep):
    path = str(image_tree / "dogs" / "img1.png")
    kw = dict(color_mode=color_mode, target_size=target_size, interpolation=interp,
              keep_aspect_ratio=keep)
    want = keras3.utils.img_to_array(keras3.utils.load_img(path, **kw))
    got = kt.utils.img_to_array(kt.utils.load_img(path, **kw))
    assert got.dtype == want.dtype == np.float32
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(kt.utils.img_to_array(kt.utils.load_img(path, **kw),
                                                        data_format="channels_first"),
                                  keras3.utils.img_to_array(keras3.utils.load_img(path, **kw),
                                                            data_format="channels_first"))


@pytest.mark.parametrize("shape,scale", [((4, 5, 3), True), ((4, 5, 1), False), ((4, 5, 4), True),
                                         ((4, 5, 1), True)])
def test_array_to_img_and_save_img_match_keras(keras3, tmp_path, shape, scale):
    x = np.random.default_rng(1).uniform(-2, 300 if not scale else 2, shape).astype("float32")
    if not scale:
        x = np.clip(x, 0, 255)
    want = np.asarray(keras3.utils.array_to_img(x, scale=scale))
    got = np.asarray(kt.utils.array_to_img(x, scale=scale))
    np.testing.assert_array_equal(got, want)
    kt.utils.save_img(tmp_path / "a.png", x, scale=scale)
    keras3.utils.save_img(tmp_path / "b.png", x, scale=scale)
    np.testing.assert_array_equal(np.asarray(kt.utils.load_img(tmp_path / "a.png")),
                                  np.asarray(keras3.utils.load_img(tmp_path / "b.png")))


@pytest.mark.parametrize("size", [(4, 4), (3, 8), (10, 2)])
def test_smart_resize_matches_keras(keras3, size):
    x = np.random.default_rng(2).uniform(0, 1, (2, 7, 5, 3)).astype("float32")
    want = np.asarray(keras3.preprocessing.image.smart_resize(x, size))
    got = kt.preprocessing.image.smart_resize(x, size)
    assert isinstance(got, np.ndarray)
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_get_file_matches_keras_paths(keras3, tmp_path):
    src = tmp_path / "src" / "data.csv"
    src.parent.mkdir()
    src.write_text("a,b\n1,2\n")
    import hashlib
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    origin = src.as_uri()
    (tmp_path / "k").mkdir()
    (tmp_path / "t").mkdir()
    want = keras3.utils.get_file("data.csv", origin, file_hash=digest,
                                 cache_dir=str(tmp_path / "k"))
    got = kt.utils.get_file("data.csv", origin, file_hash=digest, cache_dir=str(tmp_path / "t"))
    assert got == str(tmp_path / "t" / "datasets" / "data.csv")
    assert os.path.relpath(got, tmp_path / "t") == os.path.relpath(want, tmp_path / "k")
    assert open(got).read() == open(want).read()


@pytest.mark.parametrize("left,right", [(0.6, None), (None, 3), (4, 0.25), (0.3, 0.5)])
def test_split_dataset_sizes_match_keras(keras3, left, right):
    from keras.src.utils.dataset_utils import _rescale_dataset_split_sizes

    from kerastorch.utils.dataset_utils import _rescale_split_sizes

    assert _rescale_split_sizes(left, right, 10) == _rescale_dataset_split_sizes(left, right, 10)


def test_backend_and_config_names_match_keras(keras3):
    for ns in ("backend", "config"):
        theirs = {n for n in dir(getattr(keras3, ns)) if not n.startswith("_")}
        ours = set(dir(getattr(kt, ns)))
        missing = theirs - ours - {"max_epochs", "set_max_epochs", "max_steps_per_epoch",
                                   "set_max_steps_per_epoch"}
        assert not missing, (ns, missing)
    for name in ("float32", "int64", "bfloat16", "bool"):
        assert kt.backend.standardize_dtype(name) == keras3.backend.standardize_dtype(name)
    assert kt.backend.result_type("int32", "float16") == \
        keras3.backend.result_type("int32", "float16")
    assert kt.backend.is_float_dtype("bfloat16") and kt.backend.is_int_dtype("uint8")
    assert kt.config.is_flash_attention_enabled() == keras3.config.is_flash_attention_enabled()
    assert kt.config.is_nnx_enabled() is False


def test_layer_alias_names_match_keras(keras3):
    aliases = ["AvgPool1D", "AvgPool2D", "AvgPool3D", "MaxPool1D", "MaxPool2D", "MaxPool3D",
               "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D", "GlobalMaxPool1D",
               "GlobalMaxPool2D", "GlobalMaxPool3D", "Convolution1D", "Convolution2D",
               "Convolution3D", "Convolution1DTranspose", "Convolution2DTranspose",
               "Convolution3DTranspose", "SeparableConvolution1D", "SeparableConvolution2D"]
    for name in aliases:
        k_target = getattr(keras3.layers, name).__name__
        assert getattr(kt.layers, name).__name__ == k_target, name


def test_config_behaves_as_keras(keras3):
    for mod in (keras3, kt):
        c = mod.utils.Config(lr=0.1, name="x")
        c.batch = 4
        c["epochs"] = 2
        assert list(c) == ["batch", "epochs", "lr", "name"] and c.lr == 0.1 and len(c) == 4
        assert c.to_json() == '{"lr": 0.1, "name": "x", "batch": 4, "epochs": 2}'
        c.freeze()
        with pytest.raises(ValueError, match="frozen"):
            c.lr = 1
        with pytest.raises(AttributeError, match="Did you mean 'batch'"):
            c.bacth


@pytest.mark.parametrize("args", [("x",), (["x", "z"],), (("x",),), ("x", "y"), ("x", "y", "w"),
                                  ("x", None, "w")])
def test_pack_unpack_match_keras(keras3, args):
    want = keras3.utils.pack_x_y_sample_weight(*args)
    got = kt.utils.pack_x_y_sample_weight(*args)
    assert got == want and type(got) is type(want)
    assert kt.utils.unpack_x_y_sample_weight(got) == keras3.utils.unpack_x_y_sample_weight(want)
