"""Preprocessing layers against Keras 3 on JAX: outputs within 1e-4 on float32 inputs.

Random layers: inference (identity) is compared directly; training mode is compared through
Keras' deterministic core, either with the factor range pinned to one value (the whole call
path) or by applying one Keras transformation dict (`get_random_transformation`) with both
libraries' `transform_images`.
"""

import types

import numpy as np
import pytest
import torch
from layer_harness import compare_with_keras, to_numpy, torch_input_grad

import kerastorch
from kerastorch.layers import preprocessing, preprocessing_image

pytestmark = pytest.mark.conformance

OURS = types.SimpleNamespace(**{n: getattr(m, n) for m in (preprocessing, preprocessing_image)
                                for n in m.__all__})


def _ns(layers):
    """The namespace to build from: Keras' layers, or ours (whether or not exported yet)."""
    return OURS if layers is kerastorch.layers else layers


def _images(rng, shape=(2, 7, 9, 3)):
    return rng.random(shape).astype("float32")


def _grads_match(ref, ours, x):
    """d sum(layer(x)) / dx in both (the harness' check_grad passes `training`, which Keras'
    preprocessing layers without that argument refuse)."""
    import jax
    import jax.numpy as jnp

    expected = jax.grad(lambda inp: jnp.sum(ref(inp)))(jnp.asarray(x))
    _close(torch_input_grad(ours, x), np.asarray(expected))


def _close(got, expected, atol=1e-4):
    got, expected = to_numpy(got), np.asarray(expected)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=atol)


# ---------------------------------------------------------------------------- Rescaling
@pytest.mark.parametrize("kwargs", [
    {"scale": 1 / 255},
    {"scale": 1 / 127.5, "offset": -1},
    {"scale": np.array([0.5, 2.0, -1.0], "float32"), "offset": [0.1, 0.0, 0.2]},
], ids=["default", "offset", "per_channel"])
def test_rescaling(keras3, rng, kwargs):
    x = (rng.random((2, 4, 5, 3)) * 255).astype("float32")
    _grads_match(*compare_with_keras(keras3, lambda L: _ns(L).Rescaling(**kwargs), x), x)


def test_rescaling_integer_input(keras3, rng):
    x = rng.integers(0, 255, (2, 4, 5, 3)).astype("uint8")
    ref, ours = keras3.layers.Rescaling(1 / 255), OURS.Rescaling(1 / 255)
    got = ours(torch.from_numpy(x))
    assert got.dtype == torch.float32
    _close(got, ref(x))


# ---------------------------------------------------------------------------- Normalization
def _adapted(layers, data, **kwargs):
    layer = _ns(layers).Normalization(**kwargs)
    layer.adapt(data)
    return layer


@pytest.mark.parametrize("kwargs, shape", [
    ({}, (16, 5)),
    ({"axis": None}, (16, 5)),
    ({"axis": (1, 2)}, (6, 3, 4, 2)),
    ({"axis": -1, "invert": True}, (6, 3, 4, 2)),
], ids=["default", "axis_none", "axis_1_2", "invert"])
def test_normalization_adapt(keras3, rng, kwargs, shape):
    data = rng.normal(loc=3.0, scale=2.0, size=shape).astype("float32")
    ref, ours = _adapted(keras3.layers, data, **kwargs), _adapted(kerastorch.layers, data,
                                                                 **kwargs)
    for a, b in zip(ours.get_weights(), ref.get_weights()):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    x = rng.normal(size=shape).astype("float32")
    _close(ours(torch.from_numpy(x)), ref(x))
    _grads_match(ref, ours, x)
    # Keras' set_weights leaves the normalising constants stale until finalize_state();
    # ours uses the new weights at once.
    weights = [w + 0.1 if w.dtype == np.float32 else w for w in ref.get_weights()]
    ref.set_weights(weights)
    ref.finalize_state()
    ours.set_weights(weights)
    _close(ours(torch.from_numpy(x)), ref(x))


def test_normalization_adapt_batches_and_tensors(keras3, rng):
    # Keras' own adapt() on an iterable needs TensorFlow (an isinstance check on
    # tf.data.Dataset); its running merge equals the whole-array statistics, compared here.
    data = rng.normal(loc=-1.0, scale=3.0, size=(40, 3, 4)).astype("float32")
    whole = keras3.layers.Normalization(axis=-1)
    whole.adapt(data)
    batches = [data[i:i + 16] for i in range(0, 40, 16)]  # uneven last batch
    from_batches = OURS.Normalization(axis=-1)
    from_batches.adapt(iter([(torch.from_numpy(b), None) for b in batches]))  # (x, y) batches
    from_tensor = OURS.Normalization(axis=-1)
    from_tensor.adapt(torch.from_numpy(data))
    for ours in (from_batches, from_tensor):
        for a, b in zip(ours.get_weights(), whole.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kwargs", [
    {"mean": 3.0, "variance": 2.0},
    {"mean": [1.0, -2.0, 0.5], "variance": [4.0, 1e-16, 0.25]},  # variance under epsilon^2
    {"axis": (1, 3), "mean": [[1.0, 2.0, 3.0]] * 4, "variance": [[1.0, 2.0, 3.0]] * 4,
     "invert": True},
], ids=["scalar", "per_feature_tiny_var", "two_axes_invert"])
def test_normalization_fixed(keras3, rng, kwargs):
    x = rng.normal(size=(2, 4, 5, 3)).astype("float32")
    ref, ours = compare_with_keras(keras3, lambda L: _ns(L).Normalization(**kwargs), x)
    assert ours.get_weights() == [] == ref.get_weights()


# ---------------------------------------------------------------------------- Resizing
RESIZE_CASES = [
    {"height": 4, "width": 5},
    {"height": 12, "width": 14},
    {"height": 4, "width": 13},
    {"height": 4, "width": 5, "interpolation": "nearest"},
    {"height": 12, "width": 4, "interpolation": "nearest"},
    {"height": 4, "width": 5, "interpolation": "bicubic"},
    {"height": 12, "width": 14, "interpolation": "bicubic"},
    {"height": 4, "width": 5, "interpolation": "lanczos3"},
    {"height": 13, "width": 5, "interpolation": "lanczos5"},
    {"height": 4, "width": 5, "antialias": True},
    {"height": 3, "width": 3, "interpolation": "bicubic", "antialias": True},
    {"height": 5, "width": 5, "crop_to_aspect_ratio": True},
    {"height": 5, "width": 5, "pad_to_aspect_ratio": True, "fill_value": 0.3},
    {"height": 4, "width": 12, "pad_to_aspect_ratio": True},
    {"height": 4, "width": 5, "data_format": "channels_first"},
]


@pytest.mark.parametrize("kwargs", RESIZE_CASES, ids=lambda kw: "-".join(
    f"{k}={v}" for k, v in kw.items()))
def test_resizing(keras3, rng, kwargs):
    x = _images(rng)
    ref, ours = compare_with_keras(keras3, lambda L: _ns(L).Resizing(**kwargs), x)
    if kwargs.get("interpolation", "bilinear") != "nearest":
        _grads_match(ref, ours, x)


def test_resizing_unbatched_and_uint8(keras3, rng):
    x = _images(rng)
    _close(OURS.Resizing(4, 5)(torch.from_numpy(x[0])), keras3.layers.Resizing(4, 5)(x[0]))
    xi = (x * 255).astype("uint8")
    ref = keras3.ops.convert_to_numpy(keras3.layers.Resizing(4, 5)(xi))
    got = OURS.Resizing(4, 5)(torch.from_numpy(xi))
    assert got.dtype == torch.uint8 and ref.dtype == np.uint8
    np.testing.assert_array_equal(to_numpy(got), ref)


# ---------------------------------------------------------------------------- CenterCrop
@pytest.mark.parametrize("kwargs", [
    {"height": 3, "width": 4},
    {"height": 8, "width": 12},  # larger than the image: crop to aspect ratio, then resize
    {"height": 10, "width": 5},
    {"height": 2, "width": 3, "data_format": "channels_first"},
], ids=["crop", "upscale", "taller", "channels_first"])
def test_center_crop(keras3, rng, kwargs):
    x = _images(rng)
    _grads_match(*compare_with_keras(keras3, lambda L: _ns(L).CenterCrop(**kwargs), x), x)


def test_center_crop_unbatched(keras3, rng):
    x = _images(rng)[0]
    _close(OURS.CenterCrop(5, 6)(torch.from_numpy(x)), keras3.layers.CenterCrop(5, 6)(x))


# ---------------------------------------------------------------------------- random layers
RANDOM_LAYERS = {
    "flip": lambda L: L.RandomFlip(),
    "flip_vertical_cf": lambda L: L.RandomFlip("vertical", data_format="channels_first"),
    "rotation": lambda L: L.RandomRotation(0.2),
    "rotation_constant": lambda L: L.RandomRotation(0.2, fill_mode="constant",
                                                    interpolation="nearest"),
    "zoom": lambda L: L.RandomZoom(0.2),
    "zoom_wrap": lambda L: L.RandomZoom((-0.3, 0.1), (0.1, 0.2), fill_mode="wrap"),
    "translation": lambda L: L.RandomTranslation(0.2, 0.1),
    "translation_nearest": lambda L: L.RandomTranslation((0.1, 0.3), -0.2, fill_mode="nearest"),
    "contrast": lambda L: L.RandomContrast(0.5),
    "contrast_range": lambda L: L.RandomContrast((0.2, 0.4), value_range=(0, 1)),
    "brightness": lambda L: L.RandomBrightness(0.2),
    "brightness_range": lambda L: L.RandomBrightness((-0.1, 0.3), value_range=(0, 1)),
}


@pytest.mark.parametrize("name", list(RANDOM_LAYERS))
def test_random_layers_inference_is_identity(keras3, rng, name):
    x = _images(rng) * 255
    compare_with_keras(keras3, lambda L: RANDOM_LAYERS[name](_ns(L)), x, training=False)


AFFINE_OPTIONS = [(fill, interp, value) for fill in ("reflect", "wrap", "constant", "nearest")
                  for interp in ("bilinear", "nearest")
                  for value in ((0.0, 0.7) if fill == "constant" else (0.0,))]


@pytest.mark.parametrize("fill_mode, interpolation, fill_value", AFFINE_OPTIONS)
def test_pinned_affine_layers(keras3, rng, fill_mode, interpolation, fill_value):
    """Factor ranges of one value: the whole training call path must give Keras' numbers.
    Includes a translation by exactly -4.5 px (nearest rounding of ties)."""
    x = _images(rng)
    opts = {"fill_mode": fill_mode, "interpolation": interpolation, "fill_value": fill_value}
    for make in (lambda L: _ns(L).RandomRotation((0.1, 0.1), **opts),
                 lambda L: _ns(L).RandomRotation((-0.37, -0.37), **opts),  # far outside
                 lambda L: _ns(L).RandomZoom((0.3, 0.3), (-0.2, -0.2), **opts),
                 lambda L: _ns(L).RandomZoom((0.9, 0.9), **opts),
                 lambda L: _ns(L).RandomTranslation((0.25, 0.25), (-0.5, -0.5), **opts)):
        compare_with_keras(keras3, make, x, training=True)


@pytest.mark.parametrize("name, data_format", [
    *[(name, "channels_last") for name in ("flip", "rotation", "rotation_constant", "zoom",
                                           "zoom_wrap", "translation", "translation_nearest",
                                           "contrast", "brightness")],
    *[(name, "channels_first") for name in ("flip", "rotation", "zoom_wrap", "contrast")]])
def test_keras_transformation_dicts(keras3, rng, name, data_format):
    """One Keras random transformation applied by both `transform_images`."""
    x = _images(rng, (3, 8, 6, 3) if data_format == "channels_last" else (3, 3, 8, 6)) * 255
    make = RANDOM_LAYERS[name]
    ref = make(keras3.layers)
    ours = make(OURS)
    ref.data_format = ours.data_format = data_format
    transformation = ref.get_random_transformation(x, training=True)
    transformation = {k: keras3.ops.convert_to_numpy(v) if keras3.ops.is_tensor(v) else v
                      for k, v in transformation.items()}
    expected = ref.transform_images(x, transformation, training=True)
    _close(ours.transform_images(torch.from_numpy(x), transformation), expected, atol=1e-3)


def test_keras_transformation_unbatched(keras3, rng):
    x = _images(rng, (8, 6, 3))
    for make in (RANDOM_LAYERS["rotation"], RANDOM_LAYERS["flip"], RANDOM_LAYERS["zoom"]):
        ref, ours = make(keras3.layers), make(OURS)
        transformation = ref.get_random_transformation(x, training=True)
        expected = ref.transform_single_image(x, transformation, training=True)
        got = ours.transform_images(torch.from_numpy(x), transformation)
        _close(got, expected)


@pytest.mark.parametrize("make, scale", [
    (lambda L: L.RandomContrast((-0.3, 0.3)), 255),  # Keras' sorted range -> factor 1.3
    (lambda L: L.RandomContrast((-0.6, 0.6), value_range=(0, 1)), 1),  # clipped
    (lambda L: L.RandomBrightness((0.1, 0.1)), 255),
    (lambda L: L.RandomBrightness((-0.3, -0.3), value_range=(0, 1)), 1),
], ids=["contrast", "contrast_clip", "brightness", "brightness_clip"])
def test_pinned_color_layers(keras3, rng, make, scale):
    x = _images(rng) * scale
    compare_with_keras(keras3, lambda L: make(_ns(L)), x, training=True)


# ---------------------------------------------------------------------------- categorical
@pytest.mark.parametrize("output_mode", ["multi_hot", "one_hot", "count", "binary"])
@pytest.mark.parametrize("shape", [(6,), (4, 5), (4, 1)])
def test_category_encoding(keras3, rng, output_mode, shape):
    x = rng.integers(0, 6, size=shape).astype("int32")
    make = lambda L: _ns(L).CategoryEncoding(num_tokens=6, output_mode=output_mode)  # noqa
    compare_with_keras(keras3, make, x)


def test_category_encoding_count_weights_and_out_of_range(keras3, rng):
    x = np.array([[0, 1, 1, 5], [2, 2, 7, -1]], "int32")  # 7 and -1 encode as nothing
    w = rng.random(x.shape).astype("float32")
    for mode in ("multi_hot", "count", "one_hot"):
        ref = keras3.layers.CategoryEncoding(6, output_mode=mode)
        _close(OURS.CategoryEncoding(6, output_mode=mode)(torch.from_numpy(x)), ref(x))
    ref = keras3.layers.CategoryEncoding(6, output_mode="count")
    ours = OURS.CategoryEncoding(6, output_mode="count")
    _close(ours(torch.from_numpy(x), count_weights=torch.from_numpy(w)), ref(x, count_weights=w))


@pytest.mark.parametrize("kwargs", [
    {"bin_boundaries": [-1.0, 0.0, 0.5, 2.0]},
    {"bin_boundaries": [0.0, 1.0], "output_mode": "one_hot"},
    {"bin_boundaries": [0.0, 1.0, 3.0], "output_mode": "multi_hot"},
    {"bin_boundaries": [0.0, 1.0, 3.0], "output_mode": "count"},
], ids=["int", "one_hot", "multi_hot", "count"])
def test_discretization(keras3, rng, kwargs):
    x = rng.normal(scale=2.0, size=(4, 5)).astype("float32")
    x[0, :4] = [-1.0, 0.0, 1.0, 3.0]  # values on the boundaries
    ref, ours = compare_with_keras(keras3, lambda L: _ns(L).Discretization(**kwargs), x)
    got = ours(torch.from_numpy(x))
    assert str(got.dtype).split(".")[-1] == str(ref(x).dtype)


def _keras_adapt(layer, batches):
    """Keras' Discretization.adapt without its TensorFlow import (tf.data isinstance check):
    the same reset/update/finalize sequence."""
    layer.reset_state()
    for batch in batches:
        layer.update_state(batch)
    layer.finalize_state()
    return layer


@pytest.mark.parametrize("num_bins, epsilon, n", [(4, 0.01, 1000), (7, 0.05, 333),
                                                  (3, 0.01, 50)])
def test_discretization_adapt(keras3, rng, num_bins, epsilon, n):
    data = rng.normal(size=(n, 2)).astype("float32")
    ref = _keras_adapt(keras3.layers.Discretization(num_bins=num_bins, epsilon=epsilon), [data])
    for feed in (data, torch.from_numpy(data)):
        ours = OURS.Discretization(num_bins=num_bins, epsilon=epsilon)
        ours.adapt(feed)
        assert ours.bin_boundaries == ref.bin_boundaries
    x = rng.normal(size=(3, 4)).astype("float32")
    np.testing.assert_array_equal(to_numpy(ours(torch.from_numpy(x))),
                                  keras3.ops.convert_to_numpy(ref(x)))
    batches = [data[: n // 3], data[n // 3:]]  # merged quantile sketches
    _keras_adapt(ref, batches)
    ours.adapt(iter(batches))
    assert ours.bin_boundaries == ref.bin_boundaries


# ---------------------------------------------------------------------------- configs
CONFIG_CASES = {
    "Rescaling": {"scale": 0.5, "offset": 1.0},
    "Normalization": {"axis": -1, "mean": [1.0, 2.0], "variance": [1.0, 2.0]},
    "Resizing": {"height": 4, "width": 5, "interpolation": "bicubic"},
    "CenterCrop": {"height": 3, "width": 3},
    "RandomFlip": {"mode": "vertical", "seed": 3},
    "RandomRotation": {"factor": 0.1, "fill_mode": "constant"},
    "RandomZoom": {"height_factor": 0.1, "width_factor": (0.1, 0.2)},
    "RandomTranslation": {"height_factor": 0.1, "width_factor": 0.2},
    "RandomContrast": {"factor": 0.5},
    "RandomBrightness": {"factor": 0.2, "value_range": (1, 0)},
    "CategoryEncoding": {"num_tokens": 4, "output_mode": "count"},
    "Discretization": {"num_bins": 3},
}


@pytest.mark.parametrize("name", list(CONFIG_CASES))
def test_configs_match_keras(keras3, name):
    kwargs = CONFIG_CASES[name]
    ref = getattr(keras3.layers, name)(**kwargs).get_config()
    ours = getattr(OURS, name)(**kwargs).get_config()
    ref.pop("name"), ours.pop("name")
    assert ours == ref
