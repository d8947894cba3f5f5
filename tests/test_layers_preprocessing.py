"""Preprocessing layers: torch equivalents, state, errors, training flag, random statistics."""

import math
import types

import numpy as np
import pytest
import torch
from layer_harness import check_torch_equivalent, nchw_to_nhwc, nhwc_to_nchw

import kerastorch
from kerastorch.layers import preprocessing, preprocessing_image
from kerastorch.layers.layer import InputShapeError

L = types.SimpleNamespace(**{n: getattr(m, n) for m in (preprocessing, preprocessing_image)
                             for n in m.__all__})


@pytest.fixture
def images(rng):
    return torch.from_numpy(rng.random((2, 7, 9, 3)).astype("float32"))


# ---------------------------------------------------------------------------- torch equivalents
def test_center_crop_is_torchvision_center_crop(images):
    v2 = pytest.importorskip("torchvision.transforms.v2")
    # Even margins: for odd ones torchvision rounds the offset half to even, Keras floors it.
    check_torch_equivalent(L.CenterCrop(3, 5), v2.CenterCrop((3, 5)), images,
                           to_torch_input=nhwc_to_nchw, from_torch_output=nchw_to_nhwc)


@pytest.mark.parametrize("size", [(4, 5), (12, 14), (3, 17)])
def test_bilinear_resizing_is_torchvision_resize(images, size):
    v2 = pytest.importorskip("torchvision.transforms.v2")
    check_torch_equivalent(L.Resizing(*size), v2.Resize(size, antialias=False), images,
                           to_torch_input=nhwc_to_nchw, from_torch_output=nchw_to_nhwc)


def test_nearest_resizing_is_torchvision_nearest_exact(images):
    v2 = pytest.importorskip("torchvision.transforms.v2")
    mode = v2.InterpolationMode.NEAREST_EXACT
    check_torch_equivalent(L.Resizing(5, 13, interpolation="nearest"),
                           v2.Resize((5, 13), interpolation=mode), images,
                           to_torch_input=nhwc_to_nchw, from_torch_output=nchw_to_nhwc, atol=0)


def test_channel_normalization_is_torchvision_normalize(images):
    v2 = pytest.importorskip("torchvision.transforms.v2")
    mean, std = [0.2, 0.5, 0.7], [0.5, 2.0, 0.1]
    layer = L.Normalization(axis=1, mean=mean, variance=[s * s for s in std])
    check_torch_equivalent(layer, v2.Normalize(mean, std), nhwc_to_nchw(images), strict=False)


def test_flips_are_torch_flips(images):
    v2 = pytest.importorskip("torchvision.transforms.v2")
    everything = {"flips": torch.ones(2, 1, 1, 1, dtype=torch.bool)}
    got = L.RandomFlip("horizontal").transform_images(images, everything)
    torch.testing.assert_close(got, nchw_to_nhwc(v2.RandomHorizontalFlip(p=1.0)(
        nhwc_to_nchw(images))))
    got = L.RandomFlip().transform_images(images, {"flips": torch.tensor([True, False]).view(
        2, 1, 1, 1)})
    torch.testing.assert_close(got[0], images[0].flip(0).flip(1))  # both axes, one coin
    torch.testing.assert_close(got[1], images[1])


def test_integer_wrap_translation_is_roll(images):
    layer = L.RandomTranslation(0.5, 0.5, fill_mode="wrap", interpolation="nearest")
    got = layer.transform_images(images, {"translations": torch.tensor([[2.0, 1.0], [-3.0,
                                                                                     4.0]])})
    torch.testing.assert_close(got[0], images[0].roll((1, 2), dims=(0, 1)))
    torch.testing.assert_close(got[1], images[1].roll((4, -3), dims=(0, 1)))


def test_quarter_turn_is_rot90(rng):
    x = torch.from_numpy(rng.random((2, 6, 6, 1)).astype("float32"))
    layer = L.RandomRotation((0.25, 0.25), fill_mode="constant")
    got = layer(x, training=True)
    torch.testing.assert_close(got, x.rot90(1, dims=(1, 2)), atol=1e-5, rtol=0)


# ---------------------------------------------------------------------------- state
def test_normalization_state_dict(rng):
    data = rng.normal(2.0, 3.0, size=(50, 4)).astype("float32")
    layer = L.Normalization()
    layer.adapt(data)
    state = layer.state_dict()
    assert list(state) == ["mean", "variance", "count"]
    assert state["mean"].shape == (4,) and state["count"].dtype == torch.int32
    np.testing.assert_allclose(state["mean"].numpy(), data.mean(0), rtol=1e-5)
    np.testing.assert_allclose(state["variance"].numpy(), data.var(0), rtol=1e-5)
    other = L.Normalization()
    other.build((None, 4))
    other.load_state_dict(state)
    x = torch.from_numpy(data[:5])
    torch.testing.assert_close(other(x), layer(x))
    out = layer(torch.from_numpy(data)).numpy()
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(0), 1, atol=1e-4)
    assert layer.count_params() == 9 and not layer.trainable_weights


def test_normalization_weights_roundtrip_and_invert(rng):
    layer = L.Normalization(axis=(1, 2))
    layer.adapt(rng.normal(size=(10, 3, 4)).astype("float32"))
    assert [w.shape for w in layer.get_weights()] == [(3, 4), (3, 4), ()]
    inverse = L.Normalization(axis=(1, 2), invert=True)
    inverse.build((None, 3, 4))
    inverse.set_weights(layer.get_weights())
    x = torch.randn(5, 3, 4)
    torch.testing.assert_close(inverse(layer(x)), x, atol=1e-5, rtol=1e-5)


def test_stateless_layers_have_no_weights(images):
    for layer in (L.Rescaling(0.5), L.Resizing(3, 3), L.CenterCrop(3, 3), L.RandomFlip(),
                  L.RandomRotation(0.1), L.RandomContrast(0.1), L.CategoryEncoding(3),
                  L.Discretization([0.5]), L.Normalization(mean=0.0, variance=1.0)):
        layer(images if not isinstance(layer, L.CategoryEncoding) else torch.tensor([1, 2]))
        assert layer.get_weights() == [] and layer.count_params() == 0


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize("make, exc, arg", [
    (lambda: L.Rescaling("x"), ValueError, "scale"),
    (lambda: L.Normalization(mean=1.0), ValueError, "variance"),
    (lambda: L.Normalization(axis="a"), ValueError, "axis"),
    (lambda: L.Normalization(mean=[1.0, 2.0], variance=[1.0]), ValueError, "variance"),
    (lambda: L.Resizing(0, 3), ValueError, "height"),
    (lambda: L.Resizing(3, 2.5), ValueError, "width"),
    (lambda: L.Resizing(3, 3, interpolation="area"), ValueError, "interpolation"),
    (lambda: L.Resizing(3, 3, fill_mode="reflect"), ValueError, "fill_mode"),
    (lambda: L.Resizing(3, 3, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True),
     ValueError, "pad_to_aspect_ratio"),
    (lambda: L.CenterCrop(-1, 3), ValueError, "height"),
    (lambda: L.Resizing(3, 3, data_format="nhwc"), ValueError, "data_format"),
    (lambda: L.RandomFlip("diagonal"), ValueError, "mode"),
    (lambda: L.RandomFlip(seed="x"), ValueError, "seed"),
    (lambda: L.RandomRotation(1.5), ValueError, "factor"),
    (lambda: L.RandomRotation(0.1, fill_mode="mirror"), NotImplementedError, "fill_mode"),
    (lambda: L.RandomRotation(0.1, interpolation="bicubic"), NotImplementedError,
     "interpolation"),
    (lambda: L.RandomZoom(-1.0), ValueError, "height_factor"),
    (lambda: L.RandomZoom(0.1, (0.1, 0.2, 0.3)), ValueError, "width_factor"),
    (lambda: L.RandomTranslation(0.1, 2.0), ValueError, "width_factor"),
    (lambda: L.RandomContrast(1.5), ValueError, "factor"),
    (lambda: L.RandomBrightness(0.1, value_range=5), ValueError, "value_range"),
    (lambda: L.CategoryEncoding(), ValueError, "num_tokens"),
    (lambda: L.CategoryEncoding(0), ValueError, "num_tokens"),
    (lambda: L.CategoryEncoding(3, output_mode="tf_idf"), ValueError, "output_mode"),
    (lambda: L.CategoryEncoding(3, sparse=True), ValueError, "sparse"),
    (lambda: L.Discretization(), ValueError, "bin_boundaries"),
    (lambda: L.Discretization([0.0], num_bins=2), ValueError, "num_bins"),
    (lambda: L.Discretization([0.0], output_mode="binary"), ValueError, "output_mode"),
])
def test_bad_arguments(make, exc, arg):
    with pytest.raises(exc, match=arg):
        make()


@pytest.mark.parametrize("layer", [L.Resizing(3, 3, name="resize_me"),
                                   L.CenterCrop(2, 2, name="resize_me"),
                                   L.RandomFlip(name="resize_me"),
                                   L.RandomRotation(0.1, name="resize_me")])
def test_image_layers_refuse_other_ranks(layer):
    with pytest.raises(ValueError, match=r"resize_me.*rank 3.*\(2, 5\)"):
        layer(torch.ones(2, 5), training=True)


def test_normalization_input_mismatch_names_layer(rng):
    layer = L.Normalization(name="norm")
    layer.adapt(rng.random((8, 3)))
    with pytest.raises(InputShapeError, match="norm"):
        layer(torch.ones(2, 4))
    with pytest.raises(ValueError, match="incompatible shape"):
        layer.adapt(rng.random((8, 5)))
    with pytest.raises(ValueError, match="norm.*axis"):
        L.Normalization(axis=3, name="norm")(torch.ones(2, 3))


def test_runtime_errors_name_the_layer():
    with pytest.raises(ValueError, match="count_weights"):
        L.CategoryEncoding(3)(torch.tensor([1]), count_weights=torch.tensor([1.0]))
    with pytest.raises(ValueError, match="my_disc"):
        L.Discretization(num_bins=3, name="my_disc")(torch.ones(2))
    with pytest.raises(ValueError, match="bin_boundaries"):
        L.Discretization([0.0]).adapt(np.ones(3))
    with pytest.raises(NotImplementedError, match="bounding boxes"):
        L.RandomFlip()({"images": torch.ones(1, 2, 2, 1), "bounding_boxes": {}}, training=True)


# ---------------------------------------------------------------------------- training flag
AUGMENTATIONS = [lambda **kw: L.RandomFlip(**kw), lambda **kw: L.RandomRotation(0.2, **kw),
                 lambda **kw: L.RandomZoom(0.3, **kw), lambda **kw: L.RandomTranslation(
                     0.2, 0.2, **kw), lambda **kw: L.RandomContrast(0.5, value_range=(0, 1),
                                                                   **kw),
                 lambda **kw: L.RandomBrightness(0.3, value_range=(0, 1), **kw)]


@pytest.mark.parametrize("make", AUGMENTATIONS)
def test_augmentation_follows_training_flag_and_seed(images, make):
    images = images.repeat(4, 1, 1, 1)  # 8 images: some are always transformed
    layer = make(seed=7)
    assert torch.equal(layer(images), images)  # inference by default, as outside Keras' fit
    assert torch.equal(layer(images, training=False), images)
    first = layer(images, training=True)
    assert not torch.equal(first, images)
    assert first.shape == images.shape and first.dtype == torch.float32
    layer.train()  # what fit() does
    assert not torch.equal(layer(images), images)
    again = make(seed=7)(images, training=True)
    torch.testing.assert_close(again, first)  # same seed, same draws
    unbatched = layer(images[0], training=True)
    assert unbatched.shape == images[0].shape


def test_one_draw_per_image():
    layer = L.RandomBrightness(0.5, value_range=(0, 1), seed=1)
    x = torch.full((64, 2, 2, 1), 0.5)
    out = layer(x, training=True)
    per_image = out.flatten(1)
    assert torch.equal(per_image, per_image[:, :1].expand_as(per_image))  # constant in an image
    assert per_image[:, 0].unique().numel() > 50  # different across images


def test_flip_statistics():
    x = torch.arange(2.0).view(1, 1, 2, 1).expand(4000, 1, 2, 1)
    out = L.RandomFlip("horizontal", seed=0)(x, training=True)
    flipped = (out[:, 0, 0, 0] == 1).float().mean().item()
    assert abs(flipped - 0.5) < 0.04
    y = torch.arange(4.0).view(1, 2, 2, 1).expand(4000, 2, 2, 1)
    both = L.RandomFlip(seed=0)(y, training=True)
    assert set(both[:, 0, 0, 0].tolist()) == {0.0, 3.0}  # never one axis alone


@pytest.mark.parametrize("make, key, low, high", [
    (lambda: L.RandomRotation(0.25, seed=1), "angle", -90.0, 90.0),
    (lambda: L.RandomRotation((-0.1, 0.3), seed=1), "angle", -36.0, 108.0),
    (lambda: L.RandomZoom(0.3, seed=1), "height_zoom", 0.7, 1.3),
    (lambda: L.RandomZoom((-0.5, 0.2), (0.1, 0.4), seed=1), "width_zoom", 1.1, 1.4),
    (lambda: L.RandomTranslation(0.2, 0.5, seed=1), "translations", -4.5, 4.5),
    (lambda: L.RandomContrast(0.5, seed=1), "contrast_factor", 1.0, 1.5),  # Keras: (0, 0.5)
    (lambda: L.RandomContrast((0.2, 0.4), seed=1), "contrast_factor", 0.8, 1.4),
    (lambda: L.RandomBrightness(0.2, seed=1), "rgb_delta", -51.0, 51.0),
])
def test_random_parameters_are_uniform_in_range(make, key, low, high):
    x = torch.zeros(20000, 9, 9, 1)
    values = make().get_random_transformation(x, training=True)[key]
    if key == "translations":
        values = values[:, 0]  # dx, a fraction of the width 9
    values = values.flatten()
    assert values.min() >= low - 1e-4 and values.max() <= high + 1e-4
    assert abs(values.mean().item() - (low + high) / 2) < 0.02 * (high - low)
    expected_std = (high - low) / math.sqrt(12)
    assert abs(values.std().item() - expected_std) < 0.03 * expected_std


def test_zoom_width_follows_height_by_default():
    t = L.RandomZoom(0.3, seed=2).get_random_transformation(torch.zeros(50, 4, 4, 1))
    assert torch.equal(t["height_zoom"], t["width_zoom"])


def test_dict_inputs(images, rng):
    masks = torch.from_numpy(rng.integers(0, 3, (2, 7, 9, 1)).astype("float32"))
    data = {"images": images, "labels": torch.tensor([0, 1]), "segmentation_masks": masks}
    out = L.RandomRotation(0.2, seed=3)(data, training=True)
    assert out["labels"] is data["labels"] and out["images"].shape == images.shape
    assert set(out["segmentation_masks"].unique().tolist()) <= {0.0, 1.0, 2.0}  # nearest
    unchanged = L.RandomContrast(0.5, seed=3)(data, training=True)
    assert unchanged["segmentation_masks"] is masks
    assert L.RandomFlip()(data)["images"] is not None


# ---------------------------------------------------------------------------- dtypes and shapes
def test_dtypes(rng):
    xi = torch.from_numpy(rng.integers(0, 256, (2, 6, 8, 3)).astype("uint8"))
    assert L.Resizing(3, 4)(xi).dtype == torch.uint8
    assert L.Resizing(3, 4, interpolation="nearest")(xi).dtype == torch.uint8
    assert L.CenterCrop(3, 4)(xi).dtype == torch.float32
    assert L.Rescaling(1 / 255)(xi).dtype == torch.float32
    assert L.RandomFlip()(xi).dtype == torch.float32
    assert L.RandomContrast(0.2)(xi).dtype == torch.uint8  # inference: returned as given
    bright = L.RandomBrightness((0.9, 0.9), seed=0)(xi, training=True)
    assert bright.dtype == torch.uint8 and bright.min() >= 229  # 0.9 * 255 = 229.5, saturated
    assert L.Discretization([0.0])(torch.tensor([-1.0, 1.0])).dtype == torch.int32
    assert L.CategoryEncoding(3)(torch.tensor([[1, 2]])).dtype == torch.float32


def test_center_crop_is_a_view(images):
    out = L.CenterCrop(3, 5)(images)
    assert out.data_ptr() != 0 and out._base is images
    torch.testing.assert_close(out, images[:, 2:5, 2:7])


@pytest.mark.parametrize("layer, shape, expected", [
    (L.Resizing(4, 5), (None, 8, 8, 3), (None, 4, 5, 3)),
    (L.Resizing(4, 5, data_format="channels_first"), (None, 3, 8, 8), (None, 3, 4, 5)),
    (L.CenterCrop(2, 3), (8, 8, 3), (2, 3, 3)),
    (L.RandomZoom(0.1), (None, 8, 8, 3), (None, 8, 8, 3)),
    (L.CategoryEncoding(5), (None, 3), (None, 5)),
    (L.CategoryEncoding(5, output_mode="one_hot"), (None, 3), (None, 3, 5)),
    (L.CategoryEncoding(5, output_mode="one_hot"), (None, 1), (None, 5)),
    (L.Discretization([0.0, 1.0]), (None, 3), (None, 3)),
    (L.Discretization([0.0, 1.0], output_mode="multi_hot"), (None, 3), (None, 3)),
])
def test_compute_output_shape(layer, shape, expected):
    assert layer.compute_output_shape(shape) == expected


def test_functional_model(rng):
    inputs = kerastorch.Input(shape=(8, 10, 3))
    x = L.Rescaling(1 / 255)(inputs)
    x = L.Resizing(6, 6)(x)
    x = L.RandomFlip()(x)
    outputs = L.CenterCrop(4, 4)(x)
    assert outputs.shape == (None, 4, 4, 3)
    model = kerastorch.Model(inputs, outputs)
    assert model(rng.random((2, 8, 10, 3)).astype("float32")).shape == (2, 4, 4, 3)


def test_augmentation_inside_fit(rng):
    norm = L.Normalization()
    x = rng.random((32, 6, 6, 1)).astype("float32")
    norm.adapt(x)
    model = kerastorch.models.Sequential([
        kerastorch.Input(shape=(6, 6, 1)), norm, L.RandomFlip(seed=1),
        L.RandomRotation(0.1, seed=1), kerastorch.layers.Flatten(), kerastorch.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(x, rng.random((32, 2)).astype("float32"), epochs=1, batch_size=8,
                        verbose=0)
    assert np.isfinite(history.history["loss"][0])
    # After fit, prediction runs the augmentations in inference mode: deterministic.
    np.testing.assert_allclose(model.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("layer", [
    L.Rescaling(np.array([0.5, 2.0]), offset=1.0), L.Normalization(axis=(1, 2)),
    L.Resizing(4, 5, interpolation="lanczos3", antialias=True), L.CenterCrop(3, 3),
    L.RandomFlip("vertical", seed=1), L.RandomRotation((-0.1, 0.2), fill_mode="wrap"),
    L.RandomZoom(0.1, 0.2), L.RandomTranslation(0.1, (0.1, 0.2), fill_value=1.0),
    L.RandomContrast(0.3), L.RandomBrightness(0.2, value_range=(0, 1)),
    L.CategoryEncoding(4, output_mode="one_hot"), L.Discretization(num_bins=4, epsilon=0.1),
])
def test_config_roundtrip(layer):
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert _plain(clone.get_config()) == _plain(config)


def _plain(config):
    return {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in config.items()
            if k != "name"}


def test_discretization_adapted_config_roundtrip(rng):
    layer = L.Discretization(num_bins=4)
    layer.adapt(rng.normal(size=(200,)))
    clone = L.Discretization.from_config(layer.get_config())
    assert clone.bin_boundaries == layer.bin_boundaries and len(layer.bin_boundaries) == 3
    x = torch.linspace(-3, 3, 50)
    assert torch.equal(clone(x), layer(x))
    assert set(layer(x).tolist()) == {0, 1, 2, 3}


def test_category_encoding_modes():
    x = torch.tensor([[0, 1, 1, 9], [2, -1, 2, 2]])
    torch.testing.assert_close(L.CategoryEncoding(3, output_mode="count")(x),
                               torch.tensor([[1.0, 2.0, 0.0], [0.0, 0.0, 3.0]]))
    torch.testing.assert_close(L.CategoryEncoding(3)(x),
                               torch.tensor([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))
    one_hot = L.CategoryEncoding(3, output_mode="one_hot")(x)
    assert one_hot.shape == (2, 4, 3) and one_hot[0, 3].sum() == 0
    w = torch.tensor([[0.5, 1.0, 2.0, 4.0], [1.0, 1.0, 1.0, 1.0]])
    torch.testing.assert_close(L.CategoryEncoding(3, output_mode="count")(x, count_weights=w),
                               torch.tensor([[0.5, 3.0, 0.0], [0.0, 0.0, 3.0]]))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu(rng):
    x = torch.from_numpy(rng.random((4, 16, 20, 3)).astype("float32"))
    layers = [L.Resizing(9, 11), L.Resizing(9, 31, interpolation="bicubic"),
              L.Resizing(7, 7, interpolation="nearest"), L.CenterCrop(8, 8), L.Rescaling(2.0)]
    layers += [L.RandomRotation((0.1, 0.1), fill_mode=m) for m in ("reflect", "wrap",
                                                                  "constant", "nearest")]
    layers += [L.RandomZoom((0.2, 0.2)), L.RandomTranslation((0.1, 0.1), (0.2, 0.2)),
               L.RandomContrast((-0.2, 0.2), value_range=(0, 1))]
    for layer in layers:
        expected = layer(x, training=True)
        got = layer.to("cuda")(x.cuda(), training=True).cpu()
        torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)
    norm = L.Normalization()
    norm.adapt(x.cuda())
    seeded = L.RandomFlip(seed=3)
    assert seeded(x.cuda(), training=True).device.type == "cuda"
