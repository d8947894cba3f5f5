"""keras.utils / keras.backend / keras.preprocessing / keras.config additions, by hand-worked
values (Keras' dataset builders need TensorFlow, so their batches are worked out here)."""

import logging
import os
import random
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import kerastorch as keras

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---------------------------------------------------------------------------- timeseries
def test_timeseries_windows_targets_and_batches():
    data = np.arange(20)
    ds = keras.utils.timeseries_dataset_from_array(
        data, targets=data * 10, sequence_length=3, sequence_stride=2, sampling_rate=2,
        batch_size=3, start_index=1, end_index=15)
    # rows 1..14; windows start at 1,3,5,7,9 (last start 9: 9,11,13 fits in 14 rows)
    batches = list(ds)
    assert len(ds) == 2 and [b[0].shape for b in batches] == [(3, 3), (2, 3)]
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]),
                                  [[1, 3, 5], [3, 5, 7], [5, 7, 9], [7, 9, 11], [9, 11, 13]])
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), [10, 30, 50, 70, 90])


def test_timeseries_shuffle_is_keras_seeded_permutation_and_no_batch():
    data = np.arange(12).reshape(6, 2).astype("float32")
    ds = keras.preprocessing.timeseries_dataset_from_array(data, None, 2, batch_size=None,
                                                           shuffle=True, seed=3)
    starts = np.arange(5)
    np.random.RandomState(3).shuffle(starts)
    got = [x for x in ds]
    assert len(got) == 5 and got[0].shape == (2, 2)
    np.testing.assert_array_equal(np.stack(got)[:, 0, 0], data[starts, 0])


@pytest.mark.parametrize("kwargs,match", [
    (dict(sampling_rate=0), "sampling_rate"), (dict(sequence_stride=10), "sequence_stride"),
    (dict(start_index=-1), "start_index"), (dict(start_index=4, end_index=3), "end_index")])
def test_timeseries_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        keras.utils.timeseries_dataset_from_array(np.arange(10), None, 2, **kwargs)


def test_timeseries_dataset_trains_with_fit():
    x = np.random.default_rng(0).normal(size=(40, 2)).astype("float32")
    ds = keras.utils.timeseries_dataset_from_array(x, x[:, 0], 4, batch_size=8)
    model = keras.Sequential([keras.Input((4, 2)), keras.layers.Flatten(),
                              keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    hist = model.fit(ds, epochs=2, verbose=0)
    assert len(hist.history["loss"]) == 2 and np.isfinite(hist.history["loss"]).all()


# ---------------------------------------------------------------------------- directories
@pytest.fixture
def png_tree(tmp_path):
    from PIL import Image

    pixels = {}
    for c, cls in enumerate(("a", "b")):
        (tmp_path / cls).mkdir()
        for i in range(3 + c):
            arr = np.full((4, 6, 3), 10 * c + i, dtype=np.uint8)
            arr[0, 0] = (1, 2, 3)
            path = tmp_path / cls / f"{i}.png"
            Image.fromarray(arr).save(path)
            pixels[str(path)] = arr
    return tmp_path, pixels


@pytest.mark.parametrize("label_mode", ["int", "categorical", "binary", None])
def test_image_dataset_labels_and_pixels(png_tree, label_mode):
    root, pixels = png_tree
    ds = keras.utils.image_dataset_from_directory(root, label_mode=label_mode, batch_size=4,
                                                  image_size=(4, 6), shuffle=False,
                                                  verbose=False)
    # Keras: no labels -> the whole tree is one unlabeled folder, no class names
    assert ds.class_names == (["a", "b"] if label_mode else None) and len(ds) == 2
    batches = list(ds)
    xs = np.concatenate([b[0] if label_mode else b for b in batches])
    assert xs.dtype == np.float32 and xs.shape == (7, 4, 6, 3)
    np.testing.assert_array_equal(xs, np.stack([pixels[p] for p in ds.file_paths]))
    assert [os.path.basename(os.path.dirname(p)) for p in ds.file_paths] == ["a"] * 3 + ["b"] * 4
    if label_mode is None:
        return
    ys = np.concatenate([b[1] for b in batches])
    want = np.array([0, 0, 0, 1, 1, 1, 1])
    if label_mode == "int":
        assert ys.dtype == np.int32
        np.testing.assert_array_equal(ys, want)
    elif label_mode == "categorical":
        np.testing.assert_array_equal(ys, np.eye(2, dtype="float32")[want])
    else:
        assert ys.shape == (7, 1) and ys.dtype == np.float32
        np.testing.assert_array_equal(ys[:, 0], want)


def test_image_dataset_shuffle_split_resize_and_fit(png_tree):
    root, pixels = png_tree
    train, val = keras.utils.image_dataset_from_directory(
        root, batch_size=2, image_size=(2, 3), seed=5, validation_split=0.3, subset="both",
        verbose=False, color_mode="grayscale")
    # Keras: the sorted file list shuffled by RandomState(5), the last int(0.3 * 7) validate
    files = sorted(str(p) for p in pixels)
    np.random.RandomState(5).shuffle(files)
    assert train.file_paths == files[:-2] and val.file_paths == files[-2:]
    x, y = train[0]
    assert x.shape == (2, 2, 3, 1)
    gray = [float(np.asarray(keras.utils.load_img(f, color_mode="grayscale"))[1:, :].mean())
            for f in files[:2]]
    np.testing.assert_allclose(x[:, 1, 1, 0], gray, atol=1e-4)  # a flat region stays flat
    np.testing.assert_array_equal(y, [0 if "/a/" in f else 1 for f in files[:2]])
    model = keras.Sequential([keras.Input((2, 3, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(2)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    hist = model.fit(train, validation_data=val, epochs=2, verbose=0)
    assert len(hist.history["val_loss"]) == 2


def test_image_dataset_argument_errors(png_tree):
    root, _ = png_tree
    with pytest.raises(ValueError, match="seed"):
        keras.utils.image_dataset_from_directory(root, validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="color_mode"):
        keras.utils.image_dataset_from_directory(root, color_mode="cmyk")
    with pytest.raises(ValueError, match="class_names"):
        keras.utils.image_dataset_from_directory(root, class_names=["a", "zz"], verbose=False)


def test_text_dataset_from_directory(tmp_path):
    for cls, texts in (("neg", ["bad movie", "awful"]), ("pos", ["great film!"])):
        (tmp_path / cls).mkdir()
        for i, t in enumerate(texts):
            (tmp_path / cls / f"{i}.txt").write_text(t)
    ds = keras.utils.text_dataset_from_directory(tmp_path, batch_size=2, shuffle=False,
                                                 max_length=5, verbose=False)
    (x0, y0), (x1, y1) = list(ds)
    assert list(x0) == ["bad m", "awful"] and list(x1) == ["great"]
    np.testing.assert_array_equal(np.concatenate([y0, y1]), [0, 0, 1])
    assert ds.class_names == ["neg", "pos"]


# ---------------------------------------------------------------------------- split_dataset
def test_split_dataset_shuffled_as_keras():
    x, y = np.arange(10) * 2, np.arange(10)
    left, right = keras.utils.split_dataset((x, y), left_size=0.7, shuffle=True, seed=11)
    order = list(range(10))
    random.seed(11)
    random.shuffle(order)
    assert [int(s[1]) for s in left] == order[:7] and [int(s[1]) for s in right] == order[7:]
    assert len(left) == 7 and int(left[0][0]) == 2 * order[0]
    plain_l, plain_r = keras.utils.split_dataset(np.arange(5), right_size=2)
    assert [int(v) for v in plain_l] == [0, 1, 2] and [int(v) for v in plain_r] == [3, 4]
    with pytest.raises(ValueError, match="left_size"):
        keras.utils.split_dataset(np.arange(5), left_size=5)


# ---------------------------------------------------------------------------- names, tensors
def test_clear_session_restarts_layer_names():
    keras.utils.clear_session()
    a, b = keras.layers.Dense(1), keras.layers.Dense(1)
    assert (a.name, b.name) == ("dense", "dense_1")
    keras.backend.clear_session(free_memory=False)
    assert keras.layers.Dense(1).name == "dense"
    assert keras.backend.get_uid("x") == 1 and keras.backend.get_uid("x") == 2


def test_is_keras_tensor_and_get_source_inputs():
    a, b = keras.Input((3,)), keras.Input((3,))
    h = keras.layers.Dense(2)(a)
    out = keras.layers.Add()([h, keras.layers.Dense(2)(b)])
    assert keras.utils.is_keras_tensor(out) and keras.backend.is_keras_tensor(a)
    assert not keras.utils.is_keras_tensor(torch.zeros(2))
    sources = keras.utils.get_source_inputs(out)
    assert len(sources) == 2 and sources[0] is a and sources[1] is b
    assert keras.utils.get_source_inputs(a)[0] is a


def test_pack_unpack_and_registration_reexports():
    x = np.ones(2)
    assert keras.utils.unpack_x_y_sample_weight((x, 1)) == (x, 1, None)

    @keras.utils.register_keras_serializable(package="utilsapi_test")
    class Scale(keras.layers.Layer):
        def call(self, inputs):
            return inputs * 2

    assert keras.utils.get_registered_name(Scale) == "utilsapi_test>Scale"
    assert keras.utils.get_registered_object("utilsapi_test>Scale") is Scale
    assert keras.utils.get_custom_objects()["utilsapi_test>Scale"] is Scale
    with keras.utils.custom_object_scope({"Thing": Scale}):
        assert keras.utils.get_registered_object("Thing") is Scale
    assert keras.utils.CustomObjectScope is keras.saving.CustomObjectScope


def test_layers_serialize_deserialize_and_aliases():
    layer = keras.layers.Convolution2D(4, 3, padding="same", name="c")
    config = keras.layers.serialize(layer)
    assert config["class_name"] == "Conv2D" and config["config"]["filters"] == 4
    clone = keras.layers.deserialize(config)
    assert type(clone) is keras.layers.Conv2D and clone.padding == "same"
    assert keras.layers.MaxPool2D is keras.layers.MaxPooling2D
    assert keras.layers.GlobalAvgPool1D is keras.layers.GlobalAveragePooling1D


# ---------------------------------------------------------------------------- config, backend
def test_backend_and_config_functions():
    assert keras.backend.backend() == "torch" == keras.config.backend()
    assert keras.backend.floatx() == "float32" and keras.backend.epsilon() == 1e-7
    keras.backend.set_epsilon(1e-5)
    try:
        assert keras.config.epsilon() == 1e-5
    finally:
        keras.backend.set_epsilon(1e-7)
    assert keras.backend.image_data_format() == "channels_last"
    assert keras.utils.standardize_dtype(torch.int64) == "int64"
    keras.config.disable_traceback_filtering()
    assert not keras.config.is_traceback_filtering_enabled()
    keras.config.enable_traceback_filtering()
    assert keras.config.is_traceback_filtering_enabled()


def test_interactive_logging_switch(capsys, caplog):
    keras.config.disable_interactive_logging()
    try:
        assert not keras.utils.is_interactive_logging_enabled()
        with caplog.at_level(logging.INFO):
            bar = keras.utils.Progbar(2, interval=0)
            bar.update(2, [("loss", 1.0)])
        assert capsys.readouterr().out == "" and "loss: 1.0000" in caplog.text
    finally:
        keras.utils.enable_interactive_logging()
    assert keras.config.is_interactive_logging_enabled()
    keras.utils.Progbar(1).update(1)
    assert "1/1" in capsys.readouterr().out


def test_enable_unsafe_deserialization_allows_lambda():
    from kerastorch.saving import serialization

    saved = serialization._UNSAFE_EVERYWHERE[0]
    try:
        serialization._UNSAFE_EVERYWHERE[0] = False
        assert serialization.in_safe_mode() is None
        keras.config.enable_unsafe_deserialization()
        assert serialization.in_safe_mode() is False
    finally:
        serialization._UNSAFE_EVERYWHERE[0] = saved


# ---------------------------------------------------------------------------- get_file
def test_get_file_cache_order_download_hash_and_offline_error(tmp_path, monkeypatch):
    home, keras_home = tmp_path / "kt", tmp_path / "keras"
    monkeypatch.setenv("KERASTORCH_HOME", str(home))
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    (keras_home / "datasets").mkdir(parents=True)
    (keras_home / "datasets" / "cached.txt").write_text("from keras")
    offline = "http://127.0.0.1:9/nothing/cached.txt"
    assert keras.utils.get_file(origin=offline) == str(keras_home / "datasets" / "cached.txt")
    with pytest.raises(FileNotFoundError, match=r"'missing\.txt'.*kt"):
        keras.utils.get_file("missing.txt", origin="http://127.0.0.1:9/missing.txt")
    src = tmp_path / "archive.tar.gz"
    import tarfile
    inner = tmp_path / "inner.txt"
    inner.write_text("hello")
    with tarfile.open(src, "w:gz") as tar:
        tar.add(inner, arcname="pkg/inner.txt")
    with pytest.raises(ValueError, match="hash"):
        keras.utils.get_file("archive.tar.gz", src.as_uri(), file_hash="0" * 64)
    out = keras.utils.get_file("archive.tar.gz", src.as_uri(), extract=True)
    assert out == str(home / "datasets" / "archive_extracted")
    assert open(os.path.join(out, "pkg", "inner.txt")).read() == "hello"


# ---------------------------------------------------------------------------- a Keras script
def test_keras_script_runs_under_kerastorch_run(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent("""
        import numpy as np
        import keras
        from keras.preprocessing.sequence import pad_sequences

        keras.backend.clear_session()
        x = pad_sequences([[1, 2], [3], [4, 5, 6]], maxlen=3, padding="post")
        assert keras.backend.backend() == "torch"
        model = keras.Sequential([keras.Input((3,)), keras.layers.Embedding(8, 2),
                                  keras.layers.GlobalAvgPool1D(), keras.layers.Dense(1)])
        assert model.layers[-1].name == "dense", model.layers[-1].name
        model.compile("adam", "mse")
        ds = keras.utils.timeseries_dataset_from_array(np.arange(20.0), np.arange(20.0), 3,
                                                       batch_size=4)
        bar = keras.utils.Progbar(2)
        bar.update(1, [("loss", 0.5)])
        bar.update(2, [("loss", 0.25)])
        model.fit(x, np.ones((3, 1)), epochs=1, verbose=0)
        print("OK", keras.utils.is_keras_tensor(keras.Input((2,))), len(ds))
    """))
    env = dict(os.environ, PYTHONPATH=ROOT, KERASTORCH_DEVICE="cpu")
    result = subprocess.run([sys.executable, "-m", "kerastorch", "run", str(script)], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK True 5" in result.stdout and "2/2" in result.stdout


def test_trainer_bar_number_format_is_keras():
    from kerastorch.utils.progbar import format_logs

    # Keras' bar: fixed when abs(v) > 1e-3 (verbose=1) or v > 1e-3 (verbose=2), else scientific
    logs = {"loss": 0.0, "a": 0.25, "b": -0.5, "c": 0.001}
    assert format_logs(logs) == " - loss: 0.0000e+00 - a: 0.2500 - b: -0.5000 - c: 1.0000e-03"
    assert format_logs(logs, 2) == (" - loss: 0.0000e+00 - a: 0.2500 - b: -5.0000e-01"
                                    " - c: 1.0000e-03")


def test_dataset_map_take_prefetch_and_format(png_tree):
    root, _ = png_tree
    ds = keras.utils.image_dataset_from_directory(root, batch_size=3, image_size=(4, 6),
                                                  shuffle=False, verbose=False, format="grain")
    mapped = ds.map(lambda x, y: (x / 255.0, y + 1)).prefetch(2).cache()
    assert len(mapped) == 3 and mapped.class_names == ["a", "b"]
    x, y = mapped[0]
    np.testing.assert_allclose(x, ds[0][0] / 255.0)
    np.testing.assert_array_equal(y, [1, 1, 1])
    first = list(ds.take(1))
    assert len(first) == 1 and first[0][0].shape == (3, 4, 6, 3)
    with pytest.raises(ValueError, match="format"):
        keras.utils.text_dataset_from_directory(root, format="torch")


def test_progbar_accepts_torch_tensors(capsys):
    bar = keras.utils.Progbar(2, interval=0, stateful_metrics=["acc"])
    bar.update(1, [("loss", torch.tensor(0.5, requires_grad=True)), ("acc", torch.tensor(0.25))])
    bar.update(2, [("loss", torch.tensor([0.1, 0.3])), ("acc", torch.tensor(0.75))])
    out = capsys.readouterr().out
    # step 1 shows the values; the final update (Keras) shows the last value, mean(0.1, 0.3)
    assert "loss: 0.5000 - acc: 0.2500" in out
    assert out.rstrip().endswith("loss: 0.2000 - acc: 0.7500")


@pytest.mark.parametrize("interpolation", ["area", "nearest", "bilinear"])
def test_image_dataset_resize_of_a_flat_image_keeps_values(png_tree, interpolation):
    root, pixels = png_tree
    ds = keras.utils.image_dataset_from_directory(root, batch_size=7, image_size=(2, 2),
                                                  shuffle=False, verbose=False,
                                                  interpolation=interpolation,
                                                  data_format="channels_first")
    x, _ = ds[0]
    assert x.shape == (7, 3, 2, 2)
    # each image is flat (10 * class + i) apart from pixel (0, 0); the bottom-right cell of a
    # 2x2 resize of a 4x6 image only sees the flat region
    flat = [pixels[p][3, 5, 0] for p in ds.file_paths]
    np.testing.assert_allclose(x[:, 0, 1, 1], flat)


def test_batches_are_cpu_tensors_like_tf_tensors(png_tree, tmp_path):
    root, _ = png_tree
    x, y = keras.utils.image_dataset_from_directory(root, batch_size=2, image_size=(4, 6),
                                                    shuffle=False, verbose=False)[0]
    assert isinstance(x, torch.Tensor) and x.dtype == torch.float32 and x.device.type == "cpu"
    assert y.dtype == torch.int32 and x[0].numpy().astype("uint8").shape == (4, 6, 3)
    xs, ys = keras.utils.timeseries_dataset_from_array(np.arange(6.0), np.arange(6), 2,
                                                       batch_size=None)[1]
    assert xs.dtype == torch.float64 and xs.tolist() == [1.0, 2.0] and int(ys) == 1
    (tmp_path / "t" / "c").mkdir(parents=True)
    (tmp_path / "t" / "c" / "a.txt").write_text("hi")
    texts, labels = keras.utils.text_dataset_from_directory(tmp_path / "t", verbose=False)[0]
    assert isinstance(texts, np.ndarray) and texts.tolist() == ["hi"]
    assert isinstance(labels, torch.Tensor) and labels.tolist() == [0]


def test_split_dataset_of_a_batched_dataset_rebatches():
    ds = keras.utils.timeseries_dataset_from_array(np.arange(10), np.arange(10) * 3, 2,
                                                   batch_size=3)  # 9 windows
    left, right = keras.utils.split_dataset(ds, left_size=5)
    assert (len(left), len(right)) == (2, 2)  # 5 -> 3 + 2, 4 -> 3 + 1
    np.testing.assert_array_equal(np.concatenate([b[1] for b in right]), [15, 18, 21, 24])
    np.testing.assert_array_equal(left[1][0], [[3, 4], [4, 5]])
