"""Core-extra, activation, regularization, reshaping and merging layers: torch-module
equivalence, state layout, training-mode statistics of the random layers, masks, shapes,
configs and errors. (Numbers against Keras: tests/conformance/test_misc_layers_keras.py.)"""

import numpy as np
import pytest
import torch
from torch import nn

import kerastorch
from kerastorch.layers import activation_layers as act
from kerastorch.layers import core_extra as core
from kerastorch.layers import merging, reshaping
from kerastorch.layers import regularization as reg
from layer_harness import check_torch_equivalent, nchw_to_nhwc, nhwc_to_nchw


def _randn(*shape, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).normal(size=shape).astype("float32"))


# ---------------------------------------------------------------------- torch equivalence
def test_embedding_state_dict_loads_into_nn_embedding():
    layer = core.Embedding(10, 4)
    ids = torch.tensor([[1, 0, 9], [3, 3, 2]])
    layer(ids)
    assert set(layer.state_dict()) == {"weight"} and layer.weight.shape == (10, 4)
    check_torch_equivalent(layer, nn.Embedding(10, 4), ids)
    np.testing.assert_array_equal(layer.get_weights()[0], layer.weight.detach().numpy())


@pytest.mark.parametrize("shape,shared_axes,module", [
    ((2, 5, 6, 3), [1, 2], nn.PReLU(3)),  # one alpha per channel, channels_last
    ((2, 5, 6, 3), [1, 2, 3], nn.PReLU()),  # one alpha for everything
    ((4, 3), None, nn.PReLU(3)),
])
def test_prelu_state_dict_loads_into_nn_prelu(shape, shared_axes, module):
    layer = act.PReLU(shared_axes=shared_axes, alpha_initializer="random_normal")
    x = _randn(*shape)
    layer(x)
    assert set(layer.state_dict()) == {"weight"} and layer.weight.dim() == 1
    four_d = len(shape) == 4
    check_torch_equivalent(layer, module, x, to_torch_input=nhwc_to_nchw if four_d else None,
                           from_torch_output=nchw_to_nhwc if four_d else None)


def test_prelu_keras_view_and_general_alpha():
    layer = act.PReLU(shared_axes=[1, 2])
    layer(_randn(2, 5, 6, 3))
    assert [w.shape for w in layer.get_weights()] == [(1, 1, 3)]
    layer.set_weights([np.arange(3, dtype="float32").reshape(1, 1, 3)])
    np.testing.assert_array_equal(layer.weight.detach().numpy(), [0, 1, 2])
    general = act.PReLU()  # alpha varies along two axes: no torch module, Keras' shape kept
    x = _randn(2, 5, 3)
    general(x)
    assert general.weight.shape == (5, 3)
    general.set_weights([np.full((5, 3), 0.5, "float32")])
    torch.testing.assert_close(general(x), torch.where(x >= 0, x, 0.5 * x))


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_zero_padding2d_matches_nn_zeropad2d(data_format):
    layer = reshaping.ZeroPadding2D(((1, 0), (2, 3)), data_format=data_format)
    x = _randn(2, 4, 5, 3) if data_format == "channels_last" else _randn(2, 3, 4, 5)
    conv = data_format == "channels_last"
    check_torch_equivalent(layer, nn.ZeroPad2d((2, 3, 1, 0)), x,
                           to_torch_input=nhwc_to_nchw if conv else None,
                           from_torch_output=nchw_to_nhwc if conv else None)


@pytest.mark.parametrize("size", [(2, 2), (3, 2), (1, 4)])
def test_upsampling2d_nearest_matches_nn_upsample(size):
    layer = reshaping.UpSampling2D(size)
    check_torch_equivalent(layer, nn.Upsample(scale_factor=size, mode="nearest"),
                           _randn(2, 4, 5, 3), to_torch_input=nhwc_to_nchw,
                           from_torch_output=nchw_to_nhwc)
    channels_first = reshaping.UpSampling2D(size, data_format="channels_first")
    check_torch_equivalent(channels_first, nn.Upsample(scale_factor=size), _randn(2, 3, 4, 5))


def test_upsampling2d_bilinear_matches_nn_upsample():
    check_torch_equivalent(reshaping.UpSampling2D((2, 3), interpolation="bilinear"),
                           nn.Upsample(scale_factor=(2, 3), mode="bilinear"),
                           _randn(2, 4, 5, 3), to_torch_input=nhwc_to_nchw,
                           from_torch_output=nchw_to_nhwc)


def test_spatial_dropout2d_inference_matches_nn_dropout2d():
    check_torch_equivalent(reg.SpatialDropout2D(0.5), nn.Dropout2d(0.5), _randn(2, 4, 5, 3))


# ---------------------------------------------------------------------- state and shapes
def test_einsum_dense_keeps_keras_layout():
    layer = core.EinsumDense("abc,cde->abde", (5, 2, 3), bias_axes="de")
    x = _randn(2, 5, 4)
    out = layer(x)
    assert out.shape == (2, 5, 2, 3)
    assert set(layer.state_dict()) == {"kernel", "bias"}
    assert [w.shape for w in layer.get_weights()] == [(4, 2, 3), (2, 3)]
    torch.testing.assert_close(out, torch.einsum("abc,cde->abde", x, layer.kernel) + layer.bias)
    assert layer.compute_output_shape((None, 5, 4)) == (None, 5, 2, 3)
    assert core.EinsumDense("...b,bc->...c", 6).compute_output_shape((None, 2, 3, 4)) == \
        (None, 2, 3, 6)
    assert core.EinsumDense("ab...,bc->ac...", 7, bias_axes="c").compute_output_shape(
        (None, 4, 9)) == (None, 7, 9)


def test_einsum_dense_as_dense_equals_dense():
    dense = kerastorch.layers.Dense(3)
    einsum = core.EinsumDense("ab,bc->ac", 3, bias_axes="c")
    x = _randn(4, 5)
    dense(x), einsum(x)
    einsum.set_weights(dense.get_weights())
    torch.testing.assert_close(einsum(x), dense(x))


def test_embedding_details():
    layer = core.Embedding(5, 2, weights=np.arange(10, dtype="float32").reshape(5, 2))
    assert layer.built
    out = layer(torch.tensor([[1.0, 4.0]]))  # floats are cast to indices
    np.testing.assert_array_equal(out.detach().numpy(), [[[2, 3], [8, 9]]])
    assert out.dtype == torch.float32
    assert layer.compute_output_shape((None, 7)) == (None, 7, 2)
    default = core.Embedding(100, 8)
    default.build(None)
    assert default.weight.abs().max() <= 0.05
    with pytest.raises(ValueError, match="input_dim"):
        core.Embedding(0, 3)
    with pytest.raises(ValueError, match="output_dim"):
        core.Embedding(3, 2.5)
    with pytest.raises(ValueError, match=r"'bad_ids'.*input_dim=5"):
        core.Embedding(5, 2, name="bad_ids")(torch.tensor([[7]]))


def test_embedding_mask_flows_through_masking_aware_layers():
    ids = torch.tensor([[3, 1, 0, 0], [2, 0, 0, 0]])
    emb = core.Embedding(4, 3, mask_zero=True)(ids)
    expected = ids != 0
    torch.testing.assert_close(emb._keras_mask, expected)
    assert torch.equal(act.ReLU()(emb)._keras_mask, expected)
    assert torch.equal(reg.GaussianNoise(0.1)(emb)._keras_mask, expected)
    assert reshaping.Permute((2, 1))(emb).__dict__.get("_keras_mask") is None


def test_masking_zeroes_and_masks():
    x = torch.tensor([[[1.0, 2.0], [0.0, 0.0], [0.0, 3.0]]])
    out = core.Masking()(x)
    assert out._keras_mask.tolist() == [[True, False, True]]
    torch.testing.assert_close(out, x)
    out = core.Masking(mask_value=3.0)(torch.tensor([[[3.0, 3.0], [3.0, 1.0]]]))
    assert out.tolist() == [[[0.0, 0.0], [3.0, 1.0]]]
    assert out._keras_mask.tolist() == [[False, True]]


def test_views_not_copies():
    x = _randn(2, 5, 4)
    assert reshaping.Permute((2, 1))(x).data_ptr() == x.data_ptr()
    assert reshaping.Cropping1D((0, 1))(x).data_ptr() == x.data_ptr()
    v = x[:, 0]
    assert reshaping.RepeatVector(3)(v).data_ptr() == v.data_ptr()


def test_upsampling_repeats_exactly():
    x = _randn(2, 3, 4, 2)
    expected = np.repeat(np.repeat(x.numpy(), 3, axis=1), 5, axis=2)
    np.testing.assert_array_equal(reshaping.UpSampling2D((3, 5))(x).numpy(), expected)
    v = _randn(1, 2, 3, 4, 2)
    expected = np.repeat(np.repeat(np.repeat(v.numpy(), 2, 1), 1, 2), 3, 3)
    np.testing.assert_array_equal(reshaping.UpSampling3D((2, 1, 3))(v).numpy(), expected)
    np.testing.assert_array_equal(reshaping.UpSampling1D(4)(x[:, 0]).numpy(),
                                  np.repeat(x[:, 0].numpy(), 4, axis=1))


@pytest.mark.parametrize("layer,shape,expected", [
    (reshaping.Cropping2D(((1, 0), (2, 1))), (None, 6, None, 3), (None, 5, None, 3)),
    (reshaping.Cropping3D(1, data_format="channels_first"), (None, 2, 4, 5, 6),
     (None, 2, 2, 3, 4)),
    (reshaping.ZeroPadding1D((1, 2)), (None, None, 4), (None, None, 4)),
    (reshaping.ZeroPadding3D(1), (None, 2, 3, 4, 5), (None, 4, 5, 6, 5)),
    (reshaping.UpSampling2D((2, 3), data_format="channels_first"), (None, 3, 4, 5),
     (None, 3, 8, 15)),
    (reshaping.Permute((2, 1)), (None, 3, 4), (None, 4, 3)),
    (reshaping.RepeatVector(5), (None, 7), (None, 5, 7)),
    (merging.Dot(1), [(None, 4), (None, 4)], (None, 1)),
    (merging.Dot((2, 1)), [(None, 3, 4), (None, 4, 6)], (None, 3, 6)),
    (merging.Concatenate(axis=1), [(None, 3, 4), (None, 2, 4)], (None, 5, 4)),
    (merging.Add(), [(None, 3, 4), (None, 1, 4)], (None, 3, 4)),
])
def test_compute_output_shape(layer, shape, expected):
    assert tuple(layer.compute_output_shape(shape)) == expected


def test_functional_api_with_merging():
    a, b = kerastorch.Input((5,)), kerastorch.Input((5,))
    merged = merging.concatenate([merging.add([a, b]), merging.multiply([a, b]),
                                  merging.dot([a, b], axes=1)])
    assert merged.shape == (None, 11)
    model = kerastorch.Model([a, b], merged)
    x, y = _randn(3, 5), _randn(3, 5, seed=1)
    out = model([x, y])
    torch.testing.assert_close(out, torch.cat([x + y, x * y, (x * y).sum(1, keepdim=True)], 1))
    for fn, expected in ((merging.subtract, x - y), (merging.average, (x + y) / 2),
                         (merging.maximum, torch.maximum(x, y)),
                         (merging.minimum, torch.minimum(x, y))):
        torch.testing.assert_close(fn([x, y]), expected)


def test_lambda_layer():
    layer = core.Lambda(lambda x, scale: x * scale, arguments={"scale": 2.0})
    x = _randn(2, 3)
    torch.testing.assert_close(layer(x), 2 * x)
    inp = kerastorch.Input((4,))
    assert core.Lambda(lambda t: t[:, :2])(inp).shape == (None, 2)  # inferred shape
    assert core.Lambda(lambda t: t, output_shape=(9,))(inp).shape == (None, 9)

    def takes_training(x, training=None):
        return x + float(training)

    train_aware = core.Lambda(takes_training)
    assert train_aware(torch.zeros(1), training=True).item() == 1.0
    assert train_aware(torch.zeros(1)).item() == 0.0
    masked = core.Lambda(lambda x: x, mask=lambda inputs, mask: inputs > 0)
    assert masked(torch.tensor([[1.0, -1.0]]))._keras_mask.tolist() == [[True, False]]


def test_lambda_config_round_trip():
    layer = core.Lambda(lambda x: x * 3.0 + 1.0, output_shape=(4,))
    config = layer.get_config()
    assert config["function"]["class_name"] == "__lambda__"
    assert config["output_shape"] == (4,) and config["arguments"] == {}
    with pytest.raises(ValueError, match="safe_mode"):
        core.Lambda.from_config(config)
    clone = core.Lambda.from_config(config, safe_mode=False)
    torch.testing.assert_close(clone(torch.ones(2)), torch.full((2,), 4.0))

    def double(x):
        return 2 * x

    named = core.Lambda(double).get_config()
    assert named["function"]["config"] == "double"
    clone = core.Lambda.from_config(named, custom_objects={"double": double})
    assert clone.function is double
    relu = core.Lambda.from_config(core.Lambda(kerastorch.activations.relu).get_config())
    assert relu.function is kerastorch.activations.relu


@pytest.mark.parametrize("make", [
    lambda: core.EinsumDense("ab,bc->ac", 4, bias_axes="c", activation="relu"),
    lambda: core.Embedding(5, 3, mask_zero=True), lambda: core.Masking(-1.0),
    lambda: act.ReLU(max_value=2.0), lambda: act.LeakyReLU(0.1),
    lambda: act.PReLU(shared_axes=[1]), lambda: act.ELU(0.5), lambda: act.Softmax((1, 2)),
    lambda: reg.SpatialDropout1D(0.1), lambda: reg.SpatialDropout2D(0.2, "channels_first"),
    lambda: reg.SpatialDropout3D(0.3, seed=1), lambda: reg.GaussianNoise(0.1),
    lambda: reg.GaussianDropout(0.2), lambda: reg.AlphaDropout(0.1, (None, 1)),
    lambda: reg.ActivityRegularization(0.1, 0.2), lambda: reshaping.Permute((2, 1)),
    lambda: reshaping.RepeatVector(2), lambda: reshaping.Cropping1D(2),
    lambda: reshaping.Cropping2D(((1, 0), (0, 2))), lambda: reshaping.Cropping3D(0),
    lambda: reshaping.ZeroPadding1D(3), lambda: reshaping.ZeroPadding2D((1, 2)),
    lambda: reshaping.ZeroPadding3D(2), lambda: reshaping.UpSampling1D(3),
    lambda: reshaping.UpSampling2D(2, interpolation="bilinear"),
    lambda: reshaping.UpSampling3D((1, 2, 3)), lambda: merging.Concatenate(1),
    lambda: merging.Add(), lambda: merging.Subtract(), lambda: merging.Multiply(),
    lambda: merging.Average(), lambda: merging.Maximum(), lambda: merging.Minimum(),
    lambda: merging.Dot((1, 2), normalize=True),
])
def test_config_round_trip(make):
    layer = make()
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config


# ---------------------------------------------------------------------- random layers
@pytest.mark.parametrize("cls,shape,data_format", [
    (reg.SpatialDropout1D, (64, 7, 16), None),
    (reg.SpatialDropout2D, (64, 5, 6, 16), "channels_last"),
    (reg.SpatialDropout2D, (64, 16, 5, 6), "channels_first"),
    (reg.SpatialDropout3D, (32, 3, 4, 5, 16), "channels_last"),
    (reg.SpatialDropout3D, (32, 16, 3, 4, 5), "channels_first"),
])
def test_spatial_dropout_drops_whole_channels(cls, shape, data_format):
    kwargs = {} if data_format is None else {"data_format": data_format}
    layer = cls(0.4, **kwargs)
    x = torch.rand(shape) + 0.5  # no zeros in the input
    assert layer(x) is x  # inference: identity
    out = layer(x, training=True)
    channel_axis = 1 if data_format == "channels_first" else -1
    per_channel = out.movedim(channel_axis, 1).reshape(shape[0], 16, -1)
    scaled = x.movedim(channel_axis, 1).reshape(shape[0], 16, -1) / 0.6
    dropped = (per_channel == 0).all(-1)
    kept = torch.isclose(per_channel, scaled).all(-1)
    assert bool((dropped | kept).all())  # each channel entirely dropped or entirely kept
    assert 0.3 < dropped.float().mean().item() < 0.5


def test_seeded_noise_is_reproducible_and_train_mode_counts():
    x = torch.ones(8, 4, 6)
    a = reg.SpatialDropout1D(0.5, seed=7)(x, training=True)
    b = reg.SpatialDropout1D(0.5, seed=7)(x, training=True)
    torch.testing.assert_close(a, b)
    layer = reg.GaussianNoise(0.5, seed=3)
    torch.testing.assert_close(layer(x), x)
    layer.train()  # what fit() does
    assert not torch.equal(layer(x), x)


def test_gaussian_noise_and_dropout_statistics():
    x = torch.full((200, 100), 2.0)
    noise = reg.GaussianNoise(0.3)(x, training=True) - x
    assert abs(noise.mean().item()) < 0.01 and abs(noise.std().item() - 0.3) < 0.01
    factor = reg.GaussianDropout(0.2)(x, training=True) / x
    assert abs(factor.mean().item() - 1) < 0.01
    assert abs(factor.std().item() - (0.2 / 0.8) ** 0.5) < 0.01
    assert reg.GaussianDropout(0.2)(x) is x and reg.GaussianNoise(0.3)(x) is x


def test_alpha_dropout_keeps_selu_moments():
    x = torch.randn(400, 100)
    rate = 0.3
    out = reg.AlphaDropout(rate)(x, training=True)
    assert abs(out.mean().item()) < 0.02 and abs(out.std().item() - 1) < 0.02
    alpha_p = -1.6732632423543772 * 1.0507009873554805
    a = ((1 - rate) * (1 + rate * alpha_p**2)) ** -0.5
    dropped_value = a * alpha_p - a * alpha_p * rate
    dropped = torch.isclose(out, torch.tensor(dropped_value))
    assert abs(dropped.float().mean().item() - rate) < 0.02
    shared = reg.AlphaDropout(0.5, noise_shape=(None, 1))(torch.randn(50, 8), training=True)
    column = torch.isclose(shared, torch.tensor(a * alpha_p - a * alpha_p * 0.5 * 1))
    assert bool((column.all(1) | ~column.any(1)).all())  # one draw per row
    assert reg.AlphaDropout(0.5)(x) is x


def test_activity_regularization_adds_loss_in_training_only():
    layer = reg.ActivityRegularization(l1=0.1, l2=0.5)
    x = torch.tensor([[1.0, -2.0], [0.5, 0.0]])
    assert layer(x) is x and layer.losses == []
    layer(x, training=True)
    expected = (0.1 * 3.5 + 0.5 * 5.25) / 2
    assert len(layer.losses) == 1
    assert layer.losses[0].item() == pytest.approx(expected)


def test_activity_regularization_penalty_is_in_the_fit_loss():
    model = kerastorch.Sequential([
        kerastorch.Input((2,)),
        kerastorch.layers.Dense(2, kernel_initializer="ones", bias_initializer="zeros"),
        reg.ActivityRegularization(l2=0.5)])
    model.compile(optimizer=kerastorch.optimizers.SGD(learning_rate=0.0), loss="mse")
    x = np.array([[1.0, 2.0], [0.0, 1.0]], "float32")
    y = np.zeros((2, 2), "float32")
    history = model.fit(x, y, batch_size=2, epochs=1, verbose=0)
    outputs = x @ np.ones((2, 2))
    expected = np.mean(outputs**2) + 0.5 * np.sum(outputs**2) / 2
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-5)


# ---------------------------------------------------------------------- merging details
def test_merge_aligns_ranks_after_the_batch_axis():
    a, b = _randn(2, 3, 4), _randn(2, 4, seed=1)
    torch.testing.assert_close(merging.Add()([a, b]), a + b[:, None, :])


def test_maximum_ignores_masked_entries():
    x = torch.tensor([[[-1.0], [-2.0]]])
    y = torch.tensor([[[-5.0], [-6.0]]])
    x._keras_mask = torch.tensor([[True, False]])
    y._keras_mask = torch.tensor([[True, True]])
    out = merging.Maximum()([x, y])
    assert out.tolist() == [[[-1.0], [-6.0]]]
    assert out._keras_mask.tolist() == [[True, True]]


def test_dot_normalize_is_cosine_similarity():
    a, b = _randn(4, 6), _randn(4, 6, seed=1)
    out = merging.Dot(axes=1, normalize=True)([a, b])
    torch.testing.assert_close(out[:, 0], torch.cosine_similarity(a, b, dim=1))


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize("make,match", [
    (lambda: core.EinsumDense("abc", 3), "equation"),
    (lambda: act.ReLU(max_value=-1), "max_value"),
    (lambda: act.ReLU(threshold=-1), "threshold"),
    (lambda: act.LeakyReLU(negative_slope=-0.1), "negative_slope"),
    (lambda: reg.GaussianNoise(2.0), "stddev"),
    (lambda: reg.GaussianDropout(-0.1), "rate"),
    (lambda: reg.AlphaDropout(1.5), "rate"),
    (lambda: reg.SpatialDropout2D(0.1, data_format="nhwc"), "data_format"),
    (lambda: reshaping.Permute((1, 3)), "dims"),
    (lambda: reshaping.RepeatVector(0), "n"),
    (lambda: reshaping.Cropping2D(((1, 2, 3), 1)), "cropping"),
    (lambda: reshaping.ZeroPadding3D((1, 2)), "padding"),
    (lambda: reshaping.ZeroPadding1D(-1), "padding"),
    (lambda: reshaping.UpSampling1D(0), "size"),
    (lambda: reshaping.UpSampling2D(interpolation="area"), "interpolation"),
    (lambda: merging.Dot(axes=(1, 2, 3)), "axes"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("layer,inputs,match", [
    (core.EinsumDense("abc,cd->abd", (3, 4), name="ed"), _randn(2, 5, 4),
     r"'ed'.*shared dimension"),
    (act.PReLU(shared_axes=[3], name="pr"), _randn(2, 4), r"'pr'.*shared axis 3"),
    (reg.SpatialDropout2D(0.5, name="sd"), _randn(2, 4, 3), r"'sd'.*expected ndim=4"),
    (reshaping.RepeatVector(2, name="rv"), _randn(2, 3, 4), r"'rv'.*expected ndim=2"),
    (reshaping.Cropping1D((2, 3), name="cr"), _randn(2, 5, 4), r"'cr'.*cropping"),
    (reshaping.ZeroPadding2D(name="zp"), _randn(2, 4, 3), r"'zp'.*expected ndim=4"),
    (reshaping.UpSampling3D(name="up"), _randn(2, 4, 3, 2), r"'up'.*expected ndim=5"),
    (merging.Add(name="add"), _randn(2, 3), r"'add'.*list"),
    (merging.Add(name="add2"), [_randn(2, 3), _randn(2, 4)], r"'add2'.*incompatible"),
    (merging.Subtract(name="sub"), [_randn(2, 3)] * 3, r"'sub'.*exactly 2"),
    (merging.Concatenate(name="cat"), [_randn(2, 3, 4), _randn(2, 2, 5)], r"'cat'.*matching"),
    (merging.Dot(1, name="dot"), [_randn(2, 3), _randn(2, 4)], r"'dot'.*incompatible"),
    (merging.Dot(0, name="dot0"), [_randn(2, 3), _randn(2, 3)], r"'dot0'.*batch axis"),
])
def test_bad_inputs_name_the_layer(layer, inputs, match):
    with pytest.raises(ValueError, match=match):
        layer(inputs)


def test_softmax_bad_mask_names_the_layer():
    with pytest.raises(ValueError, match=r"'sm'.*broadcastable"):
        act.Softmax(name="sm")(_randn(2, 3, 4), mask=torch.ones(2, 3, dtype=torch.bool))


def test_wrong_input_after_build_names_the_layer():
    layer = act.PReLU(name="pre")
    layer(_randn(2, 3, 4))
    with pytest.raises(ValueError, match=r"'pre'"):
        layer(_randn(2, 3, 5))
