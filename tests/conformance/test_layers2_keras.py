"""RMSNormalization, adaptive pooling and the colour augmentation layers against Keras 3 on JAX:
same weights (perturbed, copied with set_weights), same outputs, input gradients, configs."""

import numpy as np
import pytest

import kerastorch
from layer_harness import compare_with_keras

pytestmark = pytest.mark.conformance


def _normal(*shape):
    return np.random.default_rng(0).normal(size=shape).astype("float32")


# id -> (make(layers), input, compare input gradients)
CASES = {
    "rms_default": (lambda L: L.RMSNormalization(), _normal(2, 3, 5), True),
    "rms_eps": (lambda L: L.RMSNormalization(epsilon=0.5), _normal(2, 5), True),
    "rms_two_trailing_axes": (lambda L: L.RMSNormalization(axis=[-1, -2]), _normal(2, 3, 4),
                              True),
    "rms_axis_1_of_2d": (lambda L: L.RMSNormalization(axis=1), _normal(3, 4), True),
    "rms_non_trailing": (lambda L: L.RMSNormalization(axis=1), _normal(2, 4, 4), True),
    "rms_positive_axes": (lambda L: L.RMSNormalization(axis=[1, 2]), _normal(2, 3, 4), True),
}
for _kind in ("Average", "Max"):
    for _rank, _shape, _size in ((1, (2, 7, 3), 3), (1, (2, 5, 2), 4), (1, (2, 3, 2), 5),
                                 (2, (2, 7, 5, 3), (3, 2)), (2, (2, 10, 6, 2), 4),
                                 (3, (1, 5, 7, 4, 2), (2, 3, 3))):
        for _fmt in ("channels_last", "channels_first"):
            CASES[f"adaptive_{_kind.lower()}{_rank}d_{_shape[1:-1]}_to_{_size}_{_fmt}"] = (
                lambda L, k=_kind, r=_rank, s=_size, f=_fmt:
                getattr(L, f"Adaptive{k}Pooling{r}D")(s, data_format=f),
                _normal(*_shape), _fmt == "channels_last")


def _same_config(ours, ref):
    """Equal configs; names aside (the automatic names count layers made by earlier tests)."""
    mine, theirs = dict(ours.get_config()), dict(ref.get_config())
    mine.pop("name"), theirs.pop("name")
    assert mine == theirs


@pytest.mark.parametrize("case", sorted(CASES))
def test_layer_matches_keras(keras3, case):
    make, x, grad = CASES[case]
    ref, ours = compare_with_keras(keras3, make, x, check_grad=grad, atol=1e-5, rtol=1e-5)
    _same_config(ours, ref)


def test_rms_normalization_config_before_build(keras3):
    ref, ours = keras3.layers.RMSNormalization(axis=[2, 1]), \
        kerastorch.layers.RMSNormalization(axis=[2, 1])
    mine, theirs = ours.get_config(), ref.get_config()
    assert mine["axis"] == theirs["axis"] and mine["epsilon"] == theirs["epsilon"]


# ---------------------------------------------------------------------- image augmentation
def _image(shape=(2, 5, 6, 3), high=255.0, seed=0):
    return np.random.default_rng(seed).uniform(0, high, size=shape).astype("float32")


def _np(x):
    return np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x)


def _torch_transformation(t):
    """A Keras (JAX) transformation as numpy values, which our layers take as they are."""
    if isinstance(t, dict):
        return {k: (np.asarray(v) if hasattr(v, "shape") else v) for k, v in t.items()}
    if isinstance(t, tuple):
        return tuple(int(np.asarray(v)) for v in t)
    return np.asarray(t)


# id -> (make(layers), images, value scale of the images)
AUGMENT = {
    "grayscale": (lambda L: L.RandomGrayscale(factor=0.5, seed=1), _image()),
    "grayscale_cf": (lambda L: L.RandomGrayscale(data_format="channels_first", seed=1),
                     _image((2, 3, 4, 5))),
    "invert": (lambda L: L.RandomInvert(factor=0.5, seed=1), _image()),
    "invert_unit": (lambda L: L.RandomInvert(factor=(0.2, 0.9), value_range=(0, 1), seed=1),
                    _image(high=1.0)),
    "solarization": (lambda L: L.Solarization(0.5, 0.5, seed=1), _image()),
    "solarization_unit": (lambda L: L.Solarization(addition_factor=(0.1, 0.3),
                                                   threshold_factor=0.6, value_range=(0, 1),
                                                   seed=1), _image(high=1.0)),
    "posterization": (lambda L: L.RandomPosterization(6, seed=1), _image()),
    "posterization_unit": (lambda L: L.RandomPosterization((2, 5), value_range=(0, 1), seed=1),
                           _image(high=1.0)),
    "auto_contrast": (lambda L: L.AutoContrast(), _image() * 0.5 + 20),
    "auto_contrast_unit": (lambda L: L.AutoContrast(value_range=(0, 1)), _image(high=0.7)),
    "sharpness": (lambda L: L.RandomSharpness(0.7, seed=1), _image()),
    "sharpness_cf": (lambda L: L.RandomSharpness((0.1, 0.9), data_format="channels_first",
                                                 seed=1), _image((2, 3, 5, 6))),
    "saturation": (lambda L: L.RandomSaturation(0.6, seed=1), _image()),
    "saturation_cf": (lambda L: L.RandomSaturation((0.2, 0.8), value_range=(0, 1),
                                                   data_format="channels_first", seed=1),
                      _image((2, 3, 4, 5), high=1.0)),
    "hue": (lambda L: L.RandomHue(0.8, seed=1), _image()),
    "hue_cf": (lambda L: L.RandomHue((0.3, 0.6), value_range=(0, 1),
                                     data_format="channels_first", seed=1),
               _image((2, 3, 4, 5), high=1.0)),
    "crop": (lambda L: L.RandomCrop(3, 4, seed=1), _image()),
    "crop_upscale": (lambda L: L.RandomCrop(6, 4, seed=1), _image()),
    "crop_cf": (lambda L: L.RandomCrop(2, 3, data_format="channels_first", seed=1),
                _image((2, 3, 5, 6))),
}


@pytest.mark.parametrize("case", sorted(AUGMENT))
def test_augmentation_matches_keras(keras3, case):
    """Same config; same inference output; the same output for a transformation Keras drew."""
    make, x = AUGMENT[case]
    ref, ours = make(keras3.layers), make(kerastorch.layers)
    _same_config(ours, ref)
    atol = 1e-4 * float(np.abs(x).max())
    expected = keras3.ops.convert_to_numpy(ref(x, training=False))
    got = _np(ours(x, training=False))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=atol)
    for seed in range(3):  # a few draws, so that each branch (e.g. apply or not) is seen
        t = ref.get_random_transformation(x, training=True,
                                          seed=keras3.random.SeedGenerator(seed))
        expected = keras3.ops.convert_to_numpy(ref.transform_images(x, t, training=True))
        got = _np(ours.transform_images(kerastorch.ops.convert_to_tensor(x),
                                        _torch_transformation(t), training=True))
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=atol)


# Factors that leave nothing to chance: the whole training call is compared.
DETERMINISTIC = {
    "grayscale_always": (lambda L: L.RandomGrayscale(factor=1.0), _image()),
    "grayscale_never": (lambda L: L.RandomGrayscale(factor=0.0), _image()),
    "invert_always": (lambda L: L.RandomInvert(factor=(1.0, 1.0)), _image()),
    "solarization_default": (lambda L: L.Solarization(), _image()),
    "posterization_4bits": (lambda L: L.RandomPosterization((4, 4)), _image()),
    "posterization_unit": (lambda L: L.RandomPosterization((3, 3), value_range=(0, 1)),
                           _image(high=1.0)),
    "auto_contrast_single": (lambda L: L.AutoContrast(), _image((5, 6, 3)) * 0.3 + 7),
    "sharpness_fixed": (lambda L: L.RandomSharpness((0.8, 0.8)), _image()),
    "sharpness_single": (lambda L: L.RandomSharpness((0.2, 0.2)), _image((5, 6, 3))),
    "saturation_zero": (lambda L: L.RandomSaturation((0.0, 0.0)), _image()),
    "hue_zero": (lambda L: L.RandomHue((0.0, 0.0)), _image()),
    "jitter_neutral": (lambda L: L.RandomColorJitter(
        brightness_factor=(0.0, 0.0), contrast_factor=(0.0, 0.0),
        saturation_factor=(0.5, 0.5), hue_factor=(0.0, 0.0)), _image()),
    "jitter_none": (lambda L: L.RandomColorJitter(), _image()),
    "crop_same_size": (lambda L: L.RandomCrop(5, 6, seed=3), _image()),
    "crop_resize_single": (lambda L: L.RandomCrop(4, 8, seed=3), _image((5, 6, 3))),
}


@pytest.mark.parametrize("case", sorted(DETERMINISTIC))
def test_deterministic_augmentation_matches_keras(keras3, case):
    make, x = DETERMINISTIC[case]
    ref, ours = make(keras3.layers), make(kerastorch.layers)
    expected = keras3.ops.convert_to_numpy(ref(x, training=True))
    got = _np(ours(x, training=True))
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4 * float(np.abs(x).max()))


def test_color_jitter_config(keras3):
    kwargs = dict(value_range=(0, 1), brightness_factor=0.2, contrast_factor=(0.1, 0.3),
                  saturation_factor=0.4, hue_factor=0.1, seed=5)
    ref = keras3.layers.RandomColorJitter(**kwargs)
    ours = kerastorch.layers.RandomColorJitter(**kwargs)
    _same_config(ours, ref)


@pytest.mark.parametrize("case", ["grayscale_always", "invert_always", "solarization_default",
                                  "posterization_4bits", "auto_contrast_single",
                                  "sharpness_fixed", "crop_same_size"])
def test_uint8_images_match_keras(keras3, case):
    """Integer images: the output dtype (uint8 kept by grayscale, float32 otherwise) and
    values."""
    make, x = DETERMINISTIC[case]
    x = x.astype("uint8")
    ref, ours = make(keras3.layers), make(kerastorch.layers)
    expected = keras3.ops.convert_to_numpy(ref(x, training=True))
    got = _np(ours(x, training=True))
    assert got.dtype == expected.dtype
    np.testing.assert_allclose(got.astype("float64"), expected.astype("float64"), atol=1e-3)


# ---------------------------------------------------------------------- SpectralNormalization
SPECTRAL = {
    "dense": (lambda L: L.SpectralNormalization(L.Dense(3)), _normal(2, 4)),
    "dense_3_iterations": (lambda L: L.SpectralNormalization(L.Dense(5, use_bias=False),
                                                             power_iterations=3),
                           _normal(2, 4)),
    "conv2d": (lambda L: L.SpectralNormalization(L.Conv2D(2, 3)), _normal(1, 5, 5, 3)),
    "conv1d": (lambda L: L.SpectralNormalization(L.Conv1D(4, 2)), _normal(2, 5, 3)),
}


@pytest.mark.parametrize("case", sorted(SPECTRAL))
@pytest.mark.parametrize("training", [False, True])
def test_spectral_normalization_matches_keras(keras3, case, training):
    make, x = SPECTRAL[case]
    ref, ours = compare_with_keras(keras3, make, x, training=training, atol=1e-5, rtol=1e-5)
    for a, b in zip(ours.get_weights(), ref.get_weights()):  # kernel and u updated alike
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for _ in range(2):  # the power method carries on from the kept u
        expected = keras3.ops.convert_to_numpy(ref(x, training=training))
        got = ours(kerastorch.ops.convert_to_tensor(x), training=training)
        np.testing.assert_allclose(_np(got), expected, rtol=1e-5, atol=1e-5)
    cfg = ours.get_config()
    ref_cfg = ref.get_config()
    assert cfg["power_iterations"] == ref_cfg["power_iterations"]
    assert cfg["layer"]["class_name"] == ref_cfg["layer"]["class_name"]


# ---------------------------------------------------------------------- StackedRNNCells
STACKED = {
    "lstm_gru": (lambda L: L.RNN([L.LSTMCell(3), L.GRUCell(4)]), _normal(2, 5, 6)),
    "simple_lstm_sequences": (lambda L: L.RNN(L.StackedRNNCells([L.SimpleRNNCell(4),
                                                                 L.LSTMCell(2)]),
                                              return_sequences=True), _normal(2, 4, 3)),
    "gru_backwards": (lambda L: L.RNN([L.GRUCell(3, reset_after=False), L.GRUCell(2)],
                                      go_backwards=True), _normal(2, 4, 3)),
}


@pytest.mark.parametrize("case", sorted(STACKED))
def test_stacked_rnn_cells_match_keras(keras3, case):
    make, x = STACKED[case]
    ref, ours = compare_with_keras(keras3, make, x, check_grad=True, atol=1e-5, rtol=1e-5)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in ref.weights]
    cfg, ref_cfg = ours.get_config()["cell"], ref.get_config()["cell"]
    assert cfg["class_name"] == ref_cfg["class_name"] == "StackedRNNCells"
    assert [c["class_name"] for c in cfg["config"]["cells"]] == \
        [c["class_name"] for c in ref_cfg["config"]["cells"]]


def test_stacked_rnn_cells_return_state_values_match_keras(keras3):
    x = _normal(2, 5, 6)
    make = STACKED["lstm_gru"][0]
    ref = keras3.layers.RNN(make(keras3.layers).cell, return_state=True)
    ours = kerastorch.layers.RNN(make(kerastorch.layers).cell, return_state=True)
    ref(x)
    ours(kerastorch.ops.convert_to_tensor(x))
    ours.set_weights(ref.get_weights())
    expected, got = ref(x), ours(kerastorch.ops.convert_to_tensor(x))
    assert len(expected) == 3 and len(got) == 4  # ours flat: output, h1, c1, h2
    np.testing.assert_allclose(_np(got[0]), np.asarray(expected[0]), rtol=1e-5, atol=1e-5)
    grouped = ours.cell.nest_states(list(got[1:]))
    for g, e in zip(grouped, expected[1:]):
        assert isinstance(g, list) and len(g) == len(e)
        for a, b in zip(g, e):
            np.testing.assert_allclose(_np(a), np.asarray(b), rtol=1e-5, atol=1e-5)


def test_stacked_rnn_cells_step_call_matches_keras(keras3):
    """The cell alone, one step, states nested per cell (Keras' form)."""
    x, h = _normal(2, 3), np.random.default_rng(1).normal(size=(2, 4)).astype("float32")
    c, g = h[:, :2] * 0.5, h[:, :3] * 2

    def make(L):
        return L.StackedRNNCells([L.LSTMCell(2), L.GRUCell(3)])

    ref, ours = make(keras3.layers), make(kerastorch.layers)
    ref.build((2, 3))
    ours.build((2, 3))
    ours.set_weights(ref.get_weights())
    states = [[h[:, :2], c], [g]]
    out, new = ref(x, states)
    t = kerastorch.ops.convert_to_tensor
    our_out, our_new = ours(t(x), [[t(h[:, :2]), t(c)], [t(g)]])
    np.testing.assert_allclose(_np(our_out), np.asarray(out), rtol=1e-5, atol=1e-5)
    assert len(our_new) == 2 and len(our_new[0]) == 2 and len(our_new[1]) == 1
    for a, b in zip([*our_new[0], *our_new[1]], [*new[0], *new[1]]):
        np.testing.assert_allclose(_np(a), np.asarray(b), rtol=1e-5, atol=1e-5)


_KERAS_TORCH_SCRIPT = """
import sys, numpy as np, torch, keras
from torch import nn
mode, path = sys.argv[1], sys.argv[2]
x = np.linspace(-1, 1, 12, dtype="float32").reshape(4, 3)
if mode == "write":
    torch.manual_seed(0)
    module = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    module[1].running_mean.fill_(0.3)
    model = keras.Sequential([keras.Input((3,)), keras.layers.TorchModuleWrapper(module)])
    model.save(path)
else:
    model = keras.models.load_model(path, safe_mode=False)
np.save(path + ".npy", keras.ops.convert_to_numpy(model.predict(x, verbose=0)))
"""


@pytest.mark.parametrize("writer", ["keras", "kerastorch"])
def test_torch_module_wrapper_files_with_keras_torch_backend(tmp_path, writer):
    """TorchModuleWrapper exists only on Keras' torch backend: that Keras runs in a
    subprocess, and `.keras` files go both ways with the same predictions."""
    import os
    import subprocess
    import sys

    import torch
    from torch import nn
    pytest.importorskip("keras")
    script = tmp_path / "k.py"
    script.write_text(_KERAS_TORCH_SCRIPT)
    path = str(tmp_path / "m.keras")
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    x = np.linspace(-1, 1, 12, dtype="float32").reshape(4, 3)

    def keras_torch(mode):
        done = subprocess.run([sys.executable, str(script), mode, path], env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        return np.load(path + ".npy")

    if writer == "keras":
        expected = keras_torch("write")
        model = kerastorch.models.load_model(path, safe_mode=False)
        np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-6)
        assert float(model.layers[0].module[1].running_mean[0]) == pytest.approx(0.3)
    else:
        torch.manual_seed(0)
        module = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
        module[1].running_mean.fill_(0.3)
        model = kerastorch.Sequential([kerastorch.Input((3,)),
                                       kerastorch.layers.TorchModuleWrapper(module)])
        model.save(path)
        np.testing.assert_allclose(keras_torch("read"), model.predict(x, verbose=0), rtol=1e-6)
