"""TorchModuleWrapper, RMSNormalization, adaptive pooling and the colour augmentation layers:
state, config, training behaviour and hand-worked numbers (the Keras comparisons are in
tests/conformance/test_layers2_keras.py)."""

import numpy as np
import pytest
import torch
from torch import nn

import kerastorch as keras
from kerastorch import layers


# ---------------------------------------------------------------------- TorchModuleWrapper
def _wrapped():
    torch.manual_seed(0)
    return layers.TorchModuleWrapper(nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)))


def test_torch_module_wrapper_state_and_weights():
    w = _wrapped()
    assert w.built
    assert list(w.state_dict()) == [
        "module.0.weight", "module.0.bias", "module.1.weight", "module.1.bias",
        "module.1.running_mean", "module.1.running_var", "module.1.num_batches_tracked"]
    assert len(w.trainable_weights) == 4 and len(w.non_trainable_weights) == 3
    assert w.count_params() == 12 + 4 + 4 + 4 + 4 + 4 + 1
    plain = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    plain.load_state_dict({k[len("module."):]: v for k, v in w.state_dict().items()})
    x = torch.randn(5, 3)
    plain.eval()
    torch.testing.assert_close(w(x), plain(x))
    weights = w.get_weights()
    assert weights[0].shape == (4, 3)  # torch's layout, not transposed
    w.set_weights([np.full_like(a, 0.5) for a in weights])
    assert torch.all(w.module[0].weight == 0.5)


def test_torch_module_wrapper_training_flag():
    w = layers.TorchModuleWrapper(nn.Dropout(0.5))
    x = torch.ones(1000)
    assert torch.equal(w(x), x)  # inference outside fit
    out = w(x, training=True)
    assert w.module.training and set(out.unique().tolist()) <= {0.0, 2.0}
    assert (out == 0).sum() > 300
    assert torch.equal(w(x, training=False), x) and not w.module.training


def test_torch_module_wrapper_trainable_false_freezes_module():
    w = _wrapped()
    w.trainable = False
    assert w.trainable_weights == [] and not any(p.requires_grad for p in w.parameters())


def test_torch_module_wrapper_fit_updates_module():
    w = _wrapped()
    model = keras.Sequential([keras.Input((3,)), w, layers.Dense(2)])
    before = w.module[0].weight.detach().clone()
    model.compile("sgd", "mse")
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(8, 3)).astype("float32"), rng.normal(size=(8, 2)).astype(
        "float32"), epochs=1, batch_size=4, verbose=0)
    assert not torch.equal(before, w.module[0].weight.detach())
    assert torch.count_nonzero(w.module[1].running_mean) == 4
    assert int(w.module[1].num_batches_tracked) == 2


def test_torch_module_wrapper_output_shape_and_functional():
    w = layers.TorchModuleWrapper(nn.Linear(3, 5), output_shape=(None, 5))
    assert w.compute_output_shape((None, 3)) == (None, 5)
    inp = keras.Input((3,))
    out = layers.TorchModuleWrapper(nn.Linear(3, 2))(inp)
    assert tuple(out.shape) == (None, 2)


def test_torch_module_wrapper_config_and_safe_mode(tmp_path):
    w = _wrapped()
    cfg = w.get_config()
    assert set(cfg) >= {"name", "trainable", "dtype", "module", "output_shape"}
    assert isinstance(cfg["module"], str)
    with pytest.raises(ValueError, match="safe_mode=False"):
        layers.TorchModuleWrapper.from_config(cfg)
    model = keras.Sequential([keras.Input((3,)), w])
    x = torch.randn(4, 3)
    path = tmp_path / "m.keras"
    model.save(path)
    with pytest.raises(ValueError, match="torch.load"):
        keras.models.load_model(path)
    loaded = keras.models.load_model(path, safe_mode=False)
    torch.testing.assert_close(loaded(x), model(x))


def test_torch_module_wrapper_rejects_bad_modules():
    with pytest.raises(TypeError, match="torch.nn.Module"):
        layers.TorchModuleWrapper(lambda x: x)
    with pytest.raises(ValueError, match="LazyModule"):
        layers.TorchModuleWrapper(nn.LazyLinear(3))
    lazy = nn.LazyLinear(3)
    lazy(torch.ones(2, 4))
    assert layers.TorchModuleWrapper(lazy).count_params() == 15


# ---------------------------------------------------------------------- RMSNormalization
def test_rms_normalization_by_hand_and_state():
    layer = layers.RMSNormalization(epsilon=0.0)
    x = torch.tensor([[3.0, 4.0], [1.0, 1.0]])
    # rms of (3, 4) is sqrt(12.5); of (1, 1) is 1
    expected = torch.tensor([[3.0, 4.0]]) / 12.5 ** 0.5
    torch.testing.assert_close(layer(x)[:1], expected)
    torch.testing.assert_close(layer(x)[1], torch.ones(2))
    assert list(layer.state_dict()) == ["weight"] and layer.axis == [-1]
    assert [w.shape for w in layer.get_weights()] == [(2,)]
    plain = nn.RMSNorm(2, eps=0.0)
    plain.load_state_dict(layer.state_dict())
    torch.testing.assert_close(layer(x), plain(x))
    assert layer.scale is layer.weight


def test_rms_normalization_half_precision_computes_in_float32():
    # A float16 layer: the squares of 1e3 overflow float16, so the mean is taken in float32
    # (Keras gives [[0.6323, 1.265]] in float16).
    layer = layers.RMSNormalization(dtype="float16")
    x = torch.tensor([[1e3, 2e3]], dtype=torch.float16)
    out = layer(x)
    assert out.dtype == torch.float16 and torch.isfinite(out).all()
    torch.testing.assert_close(out, torch.tensor([[0.6323, 1.265]], dtype=torch.float16),
                               rtol=1e-3, atol=1e-3)
    # A float32 layer casts the float16 input up first, as Keras does.
    assert layers.RMSNormalization()(x).dtype == torch.float32


@pytest.mark.parametrize("axis", [3, -4, [0, 5]])
def test_rms_normalization_rejects_bad_axis(axis):
    with pytest.raises(ValueError, match="out of bounds"):
        layers.RMSNormalization(axis=axis)(torch.ones(2, 3, 4))


def test_rms_normalization_rejects_non_int_axis():
    with pytest.raises(TypeError, match="axis"):
        layers.RMSNormalization(axis="last")


# ---------------------------------------------------------------------- adaptive pooling
def test_adaptive_pooling_uneven_bins_by_hand():
    x = torch.arange(5.0).reshape(1, 5, 1)  # bins of 5 -> 3: [0, 2), [1, 4), [3, 5)
    avg = layers.AdaptiveAveragePooling1D(3)(x)
    torch.testing.assert_close(avg.flatten(), torch.tensor([0.5, 2.0, 3.5]))
    mx = layers.AdaptiveMaxPooling1D(3)(x)
    torch.testing.assert_close(mx.flatten(), torch.tensor([1.0, 3.0, 4.0]))


@pytest.mark.parametrize("cls,rank", [("AdaptiveAveragePooling2D", 2),
                                      ("AdaptiveMaxPooling3D", 3)])
def test_adaptive_pooling_shapes_and_config(cls, rank):
    layer = getattr(layers, cls)(2)
    assert layer.output_size == (2,) * rank and layer.data_format == "channels_last"
    x = torch.randn(1, *([5] * rank), 3)
    assert tuple(layer(x).shape) == (1, *([2] * rank), 3)
    assert layer.compute_output_shape((None, *([5] * rank), 3)) == (None, *([2] * rank), 3)
    again = getattr(layers, cls).from_config(layer.get_config())
    torch.testing.assert_close(again(x), layer(x))
    first = getattr(layers, cls)(2, data_format="channels_first")
    torch.testing.assert_close(first(x.movedim(-1, 1)), layer(x).movedim(-1, 1))


@pytest.mark.parametrize("size", [(2, 2), "3", 0])
def test_adaptive_pooling_rejects_bad_output_size(size):
    with pytest.raises((TypeError, ValueError), match="output_size"):
        layers.AdaptiveAveragePooling1D(size)


# ---------------------------------------------------------------------- colour augmentation
def _img(*shape, high=255.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=g) * high


COLOR_LAYERS = {
    "RandomGrayscale": dict(factor=0.5),
    "RandomInvert": dict(factor=0.5),
    "Solarization": dict(addition_factor=0.3, threshold_factor=0.5),
    "RandomPosterization": dict(factor=6),
    "RandomSharpness": dict(factor=0.6),
    "RandomSaturation": dict(factor=0.6),
    "RandomHue": dict(factor=0.6),
    "RandomColorJitter": dict(brightness_factor=0.2, contrast_factor=0.2, saturation_factor=0.3,
                              hue_factor=0.2),
    "RandomCrop": dict(height=3, width=4),
}


@pytest.mark.parametrize("name", sorted(COLOR_LAYERS))
def test_augmentation_seeded_training_is_reproducible_and_not_identity(name):
    x = _img(4, 5, 6, 3)
    a = getattr(layers, name)(**COLOR_LAYERS[name], seed=7)
    b = getattr(layers, name)(**COLOR_LAYERS[name], seed=7)
    out_a, out_b = a(x, training=True), b(x, training=True)
    torch.testing.assert_close(out_a, out_b)
    if name != "RandomCrop":
        assert out_a.shape == x.shape and not torch.allclose(out_a, x)
    again = getattr(layers, name).from_config(a.get_config())
    assert again.get_config() == a.get_config()


@pytest.mark.parametrize("name", sorted(COLOR_LAYERS))
def test_augmentation_inference_and_dicts(name):
    layer = getattr(layers, name)(**COLOR_LAYERS[name], seed=1)
    x = _img(2, 5, 6, 3)
    torch.testing.assert_close(layer(x), x)  # outside fit: inference, identity as in Keras
    single = layer(x[0], training=True)
    assert single.ndim == 3
    labels = torch.tensor([1, 0])
    out = layer({"images": x, "labels": labels}, training=True)
    assert out["labels"] is labels and out["images"].shape[0] == 2


def test_grayscale_and_invert_by_hand():
    x = torch.tensor([[[[10.0, 20.0, 30.0]]]])
    gray = layers.RandomGrayscale(factor=1.0)(x, training=True)
    torch.testing.assert_close(gray, torch.full((1, 1, 1, 3), 0.2989 * 10 + 0.5870 * 20 +
                                                0.1140 * 30))
    inverted = layers.RandomInvert(factor=(1.0, 1.0))(x, training=True)
    torch.testing.assert_close(inverted, 255.0 - x)
    u8 = layers.RandomGrayscale(factor=1.0)(x.to(torch.uint8), training=True)
    assert u8.dtype == torch.uint8 and u8.flatten().tolist() == [18] * 3  # 18.149 truncated


def test_solarization_posterization_by_hand():
    x = torch.tensor([[[[0.0, 100.0, 200.0]]]])
    solar = layers.Solarization()(x, training=True)  # threshold 0: every value inverted
    torch.testing.assert_close(solar, torch.tensor([[[[255.0, 155.0, 55.0]]]]))
    post = layers.RandomPosterization((2, 2))(x, training=True)  # keep the top 2 bits
    torch.testing.assert_close(post, torch.tensor([[[[0.0, 64.0, 192.0]]]]))
    t = {"shift_factor": torch.tensor([5], dtype=torch.uint8)}
    out = layers.RandomPosterization(3).transform_images(x, t)
    torch.testing.assert_close(out, torch.tensor([[[[0.0, 96.0, 192.0]]]]))


def test_auto_contrast_by_hand():
    x = torch.tensor([[[[10.0], [20.0]], [[30.0], [50.0]]]])  # one channel, range 10..50
    out = layers.AutoContrast()(x)
    torch.testing.assert_close(out.flatten(), torch.tensor([0.0, 63.75, 127.5, 255.0]))
    flat = torch.full((1, 2, 2, 1), 7.0)
    torch.testing.assert_close(layers.AutoContrast()(flat), flat)  # max == min: unchanged


def test_sharpness_neutral_factor_and_hue_full_turn():
    x = _img(1, 4, 5, 3)
    torch.testing.assert_close(layers.RandomSharpness((0.5, 0.5))(x, training=True), x)
    hue = layers.RandomHue(0.5)
    shifted = hue.transform_images(x, {"factor": torch.tensor([1.0])})  # a full turn
    torch.testing.assert_close(shifted, x, atol=1e-3, rtol=1e-4)


def test_random_crop_window_and_inference():
    x = torch.arange(2 * 5 * 6 * 1, dtype=torch.float32).reshape(2, 5, 6, 1)
    layer = layers.RandomCrop(3, 4, seed=0)
    out = layer.transform_images(x, (1, 2))
    torch.testing.assert_close(out, x[:, 1:4, 2:6])
    assert tuple(layer(x, training=True).shape) == (2, 3, 4, 1)
    assert tuple(layer(x).shape) == (2, 5, 6, 1)  # Keras 3.15: no crop in inference
    assert layer.compute_output_shape((None, 5, 6, 1)) == (None, 3, 4, 1)
    assert isinstance(layers.RandomCrop(2, 2).get_config()["seed"], int)


@pytest.mark.parametrize("make,match", [
    (lambda: layers.RandomGrayscale(factor=1.5), "factor"),
    (lambda: layers.RandomInvert(factor=2.0), "factor"),
    (lambda: layers.Solarization(addition_factor=1.5), "addition_factor"),
    (lambda: layers.RandomPosterization(9), "factor"),
    (lambda: layers.AutoContrast(value_range=5), "value_range"),
    (lambda: layers.RandomSharpness(0.5, value_range=(0, 1, 2)), "value_range"),
    (lambda: layers.RandomCrop(0, 3), "height"),
])
def test_augmentation_argument_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_grayscale_rejects_two_channels():
    with pytest.raises(ValueError, match="channel"):
        layers.RandomGrayscale(1.0)(torch.zeros(1, 2, 2, 2), training=True)


# ---------------------------------------------------------------------- SpectralNormalization
def test_spectral_normalization_converges_to_unit_norm_and_keeps_inference():
    torch.manual_seed(0)
    layer = layers.SpectralNormalization(layers.Dense(3))
    x = torch.randn(2, 4)
    layer(x)
    before = layer.layer.weight.detach().clone()
    layer(x)  # inference: the kernel is used as it is
    torch.testing.assert_close(layer.layer.weight, before)
    for _ in range(30):
        layer(x, training=True)
    assert abs(float(torch.linalg.matrix_norm(layer.layer.weight.detach(), 2)) - 1.0) < 1e-3
    assert list(layer.state_dict()) == ["vector_u", "layer.weight", "layer.bias"]
    assert [w.shape for w in layer.get_weights()] == [(4, 3), (1, 3), (3,)]
    assert len(layer.trainable_weights) == 2 and len(layer.non_trainable_weights) == 1


def test_spectral_normalization_by_hand_and_zero_kernel():
    layer = layers.SpectralNormalization(layers.Dense(2, use_bias=False), power_iterations=5)
    layer.build((None, 2))
    layer.set_weights([np.array([[3.0, 0.0], [0.0, 1.0]], "float32"),
                       np.array([[1.0, 0.1]], "float32")])
    layer(torch.ones(1, 2), training=True)  # sigma = 3
    torch.testing.assert_close(layer.layer.kernel, torch.tensor([[1.0, 0.0], [0.0, 1 / 3]]),
                               atol=1e-4, rtol=1e-4)
    zero = layers.SpectralNormalization(layers.Dense(2, use_bias=False))
    zero.build((None, 2))
    u = zero.vector_u.clone()
    zero.set_weights([np.zeros((2, 2), "float32"), u.numpy()])
    zero(torch.ones(1, 2), training=True)
    assert torch.equal(zero.layer.weight, torch.zeros(2, 2)) and torch.equal(zero.vector_u, u)


def test_spectral_normalization_errors_and_config():
    with pytest.raises(ValueError, match="power_iterations"):
        layers.SpectralNormalization(layers.Dense(2), power_iterations=0)
    with pytest.raises(ValueError, match="kernel"):
        layers.SpectralNormalization(layers.ReLU())(torch.ones(1, 2))
    with pytest.raises(ValueError, match="Wrapper"):
        layers.SpectralNormalization(nn.Linear(2, 2))
    layer = layers.SpectralNormalization(layers.Dense(2), power_iterations=2)
    again = layers.SpectralNormalization.from_config(layer.get_config())
    assert again.power_iterations == 2 and isinstance(again.layer, layers.Dense)


def test_spectral_normalization_trains_in_fit():
    model = keras.Sequential([keras.Input((4,)), layers.SpectralNormalization(layers.Dense(3))])
    model.compile("sgd", "mse")
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(8, 4)).astype("float32"), rng.normal(size=(8, 3)).astype(
        "float32"), epochs=2, batch_size=4, verbose=0)
    sigma = float(torch.linalg.matrix_norm(model.layers[0].layer.weight.detach(), 2))
    assert 0.8 < sigma < 1.2  # normalised before each step, then one small SGD step


# ---------------------------------------------------------------------- StackedRNNCells
def test_stacked_rnn_cells_state_and_shapes():
    cells = layers.StackedRNNCells([layers.LSTMCell(3), layers.GRUCell(4)])
    assert cells.state_size == [[3, 3], 4] and cells.output_size == 4
    rnn = layers.RNN(cells, return_state=True)
    out, h1, c1, h2 = rnn(torch.randn(2, 5, 6))  # flat, as the functional graph
    assert [tuple(t.shape) for t in (out, h1, c1, h2)] == [(2, 4), (2, 3), (2, 3), (2, 4)]
    torch.testing.assert_close(out, h2)
    assert [len(g) for g in cells.nest_states([h1, c1, h2])] == [2, 1]
    inp = keras.Input((5, 6))
    model = keras.Model(inp, list(layers.RNN(cells, return_state=True)(inp)))
    outs = model.predict(np.ones((2, 5, 6), "float32"), verbose=0)
    assert [o.shape for o in outs] == [(2, 4), (2, 3), (2, 3), (2, 4)]
    assert list(rnn.state_dict())[:2] == ["cell.cells.0.weight_ih", "cell.cells.0.weight_hh"]
    assert rnn.count_params() == (6 * 12 + 3 * 12 + 12) + (3 * 12 + 4 * 12 + 2 * 12)


def test_stacked_rnn_cells_equal_two_rnn_layers():
    torch.manual_seed(0)
    first, second = layers.SimpleRNNCell(3), layers.SimpleRNNCell(2)
    stacked = layers.RNN([first, second], return_sequences=True)
    x = torch.randn(2, 4, 5)
    out = stacked(x)
    one = layers.RNN(first, return_sequences=True)
    two = layers.RNN(second, return_sequences=True)
    torch.testing.assert_close(out, two(one(x)))


def test_stacked_rnn_cells_flat_and_nested_states_and_initial_state():
    cells = layers.StackedRNNCells([layers.LSTMCell(2), layers.LSTMCell(3)])
    cells.build((None, 4))
    x = torch.randn(2, 4)
    states = [torch.randn(2, 2), torch.randn(2, 2), torch.randn(2, 3), torch.randn(2, 3)]
    out_flat, new_flat = cells(x, states)
    out_nested, new_nested = cells(x, [states[:2], states[2:]])
    torch.testing.assert_close(out_flat, out_nested)
    assert len(new_flat) == 4 and len(new_nested) == 2
    torch.testing.assert_close(new_flat[2], new_nested[1][0])
    rnn = layers.RNN(cells)
    given = rnn(torch.randn(2, 3, 4), initial_state=[states[:2], states[2:]])
    assert tuple(given.shape) == (2, 3)


def test_stacked_rnn_cells_config_round_trip_and_errors():
    rnn = layers.RNN([layers.LSTMCell(3), layers.GRUCell(2)])
    rnn(torch.randn(1, 2, 3))
    again = layers.RNN.from_config(rnn.get_config())
    again(torch.randn(1, 2, 3))
    again.set_weights(rnn.get_weights())
    x = torch.randn(2, 4, 3)
    torch.testing.assert_close(again(x), rnn(x))
    with pytest.raises(ValueError, match="state_size"):
        layers.StackedRNNCells([layers.Dense(2)])


def test_stacked_rnn_cells_fit():
    model = keras.Sequential([keras.Input((4, 3)),
                              layers.RNN([layers.GRUCell(3), layers.LSTMCell(2)])])
    model.compile("adam", "mse")
    rng = np.random.default_rng(0)
    history = model.fit(rng.normal(size=(8, 4, 3)).astype("float32"),
                        rng.normal(size=(8, 2)).astype("float32"), epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_torch_module_wrapper_weights_file_uses_state_dict_keys(tmp_path):
    import io
    import zipfile

    import h5py
    model = keras.Sequential([keras.Input((3,)), _wrapped(), layers.Dense(2)])
    path = tmp_path / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as z:
        with h5py.File(io.BytesIO(z.read("model.weights.h5"))) as f:
            group = f["layers/torch_module_wrapper/vars"]
            assert sorted(group) == sorted(k[len("module."):]
                                           for k in model.layers[0].state_dict())
            assert sorted(f["layers/dense/vars"]) == ["0", "1"]


@pytest.mark.parametrize("name", ["RandomInvert", "RandomPosterization", "RandomSharpness",
                                  "RandomSaturation", "RandomHue"])
def test_transform_images_draws_when_no_transformation(name):
    layer = getattr(layers, name)(**COLOR_LAYERS[name], seed=3)
    x = _img(2, 4, 5, 3)
    out = layer.transform_images(x, None, training=True)
    assert out.shape == x.shape
    again = getattr(layers, name)(**COLOR_LAYERS[name], seed=3)
    torch.testing.assert_close(again(x, training=True), out)
