"""Convolution and pooling layers: torch-native state (state_dict loads into nn.Conv*/nn.*Pool*),
Keras layouts in get_weights, Keras' padding arithmetic, errors that name the layer."""

from collections import OrderedDict

import numpy as np
import pytest
import torch
from layer_harness import check_torch_equivalent, nchw_to_nhwc, nhwc_to_nchw
from torch import nn

import kerastorch
from kerastorch.layers import convolutional as C
from kerastorch.layers import pooling as P
from kerastorch.layers.core import Dense
from kerastorch.layers.input_layer import Input
from kerastorch.trainers.trainer import view


def _x(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _seq(*convs):
    return nn.Sequential(OrderedDict(zip(("depthwise", "pointwise"), convs)))


# (id, our layer, torch module, input shape, channels_last)
TORCH_EQUIVALENTS = [
    ("conv1d", lambda: C.Conv1D(4, 3), lambda: nn.Conv1d(3, 4, 3), (2, 9, 3), True),
    ("conv1d_same_s1", lambda: C.Conv1D(4, 5, padding="same", dilation_rate=2),
     lambda: nn.Conv1d(3, 4, 5, padding=4, dilation=2), (2, 9, 3), True),
    ("conv2d_groups_same", lambda: C.Conv2D(6, 3, padding="same", groups=2),
     lambda: nn.Conv2d(4, 6, 3, padding=1, groups=2), (2, 7, 6, 4), True),
    ("conv2d_strided_cf", lambda: C.Conv2D(5, (3, 2), strides=(2, 1),
                                           data_format="channels_first"),
     lambda: nn.Conv2d(3, 5, (3, 2), stride=(2, 1)), (2, 3, 8, 7), False),
    ("conv3d", lambda: C.Conv3D(3, 2, use_bias=False),
     lambda: nn.Conv3d(2, 3, 2, bias=False), (2, 4, 3, 5, 2), True),
    ("conv1d_transpose_s2", lambda: C.Conv1DTranspose(4, 3, strides=2),
     lambda: nn.ConvTranspose1d(3, 4, 3, stride=2), (2, 5, 3), True),
    ("conv2d_transpose_same_k4_s2", lambda: C.Conv2DTranspose(4, 4, strides=2, padding="same"),
     lambda: nn.ConvTranspose2d(3, 4, 4, stride=2, padding=1), (2, 4, 5, 3), True),
    ("conv2d_transpose_valid_k2_s3", lambda: C.Conv2DTranspose(2, 2, strides=3),
     lambda: nn.ConvTranspose2d(3, 2, 2, stride=3, output_padding=1), (2, 4, 3, 3), True),
    ("conv3d_transpose", lambda: C.Conv3DTranspose(2, 2, data_format="channels_first"),
     lambda: nn.ConvTranspose3d(3, 2, 2), (2, 3, 3, 2, 4), False),
    ("depthwise1d", lambda: C.DepthwiseConv1D(3, depth_multiplier=2),
     lambda: nn.Conv1d(3, 6, 3, groups=3), (2, 8, 3), True),
    ("depthwise2d", lambda: C.DepthwiseConv2D(3, depth_multiplier=2, padding="same"),
     lambda: nn.Conv2d(3, 6, 3, padding=1, groups=3), (2, 6, 5, 3), True),
    ("separable1d", lambda: C.SeparableConv1D(5, 3, depth_multiplier=2),
     lambda: _seq(nn.Conv1d(3, 6, 3, groups=3, bias=False), nn.Conv1d(6, 5, 1)),
     (2, 8, 3), True),
    ("separable2d", lambda: C.SeparableConv2D(5, 3, padding="same"),
     lambda: _seq(nn.Conv2d(3, 3, 3, padding=1, groups=3, bias=False), nn.Conv2d(3, 5, 1)),
     (2, 6, 5, 3), True),
    ("maxpool1d", lambda: P.MaxPooling1D(3, strides=2), lambda: nn.MaxPool1d(3, 2), (2, 9, 3),
     True),
    ("maxpool2d", lambda: P.MaxPooling2D(), lambda: nn.MaxPool2d(2), (2, 7, 6, 3), True),
    ("maxpool3d", lambda: P.MaxPooling3D(2, data_format="channels_first"),
     lambda: nn.MaxPool3d(2), (2, 3, 4, 5, 4), False),
    ("avgpool1d", lambda: P.AveragePooling1D(2), lambda: nn.AvgPool1d(2), (2, 9, 3), True),
    ("avgpool2d", lambda: P.AveragePooling2D(3, strides=2), lambda: nn.AvgPool2d(3, 2),
     (2, 7, 6, 3), True),
    ("avgpool3d", lambda: P.AveragePooling3D(2), lambda: nn.AvgPool3d(2), (2, 4, 5, 4, 2), True),
]


@pytest.mark.parametrize("case_id,ours,module,shape,channels_last", TORCH_EQUIVALENTS,
                         ids=[c[0] for c in TORCH_EQUIVALENTS])
def test_state_dict_loads_into_torch_module(case_id, ours, module, shape, channels_last):
    layer, mod = ours(), module()
    x = _x(*shape)
    layer(torch.from_numpy(x))
    with torch.no_grad():  # non-zero biases
        for p in layer.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    if channels_last:
        check_torch_equivalent(layer, mod, x, to_torch_input=nhwc_to_nchw,
                               from_torch_output=nchw_to_nhwc)
    else:
        check_torch_equivalent(layer, mod, x)


def test_state_names_and_keras_shapes():
    conv = C.Conv2D(8, (3, 2), groups=2)
    conv.build((None, 9, 9, 4))
    assert {k: tuple(v.shape) for k, v in conv.state_dict().items()} == \
        {"weight": (8, 2, 3, 2), "bias": (8,)}
    assert [w.shape for w in conv.get_weights()] == [(3, 2, 2, 8), (8,)]
    assert tuple(conv.kernel.shape) == (3, 2, 2, 8)
    tconv = C.Conv2DTranspose(5, 3)
    tconv.build((None, 4, 4, 2))
    assert tuple(tconv.weight.shape) == (2, 5, 3, 3)
    assert [w.shape for w in tconv.get_weights()] == [(3, 3, 5, 2), (5,)]
    sep = C.SeparableConv2D(6, 3, depth_multiplier=2)
    sep.build((None, 8, 8, 3))
    assert {k: tuple(v.shape) for k, v in sep.state_dict().items()} == {
        "depthwise.weight": (6, 1, 3, 3), "pointwise.weight": (6, 6, 1, 1),
        "pointwise.bias": (6,)}
    assert [w.shape for w in sep.get_weights()] == [(3, 3, 3, 2), (1, 1, 6, 6), (6,)]
    assert sep.count_params() == 54 + 36 + 6


def test_depthwise_channel_order_is_c_times_multiplier_plus_m():
    layer = C.DepthwiseConv2D(2, depth_multiplier=3, use_bias=False)
    layer.build((None, 5, 5, 4))
    kernel = np.arange(2 * 2 * 4 * 3, dtype="float32").reshape(2, 2, 4, 3)
    layer.set_weights([kernel])
    w = layer.weight.detach().numpy()
    for c in range(4):
        for m in range(3):
            np.testing.assert_array_equal(w[c * 3 + m, 0], kernel[:, :, c, m])
    np.testing.assert_array_equal(layer.get_weights()[0], kernel)


def test_keras_initializer_fans():
    # glorot_uniform on the Keras shape (3, 3, 16, 32): limit sqrt(6 / (9*16 + 9*32)).
    layer = C.Conv2D(32, 3)
    layer.build((None, 8, 8, 16))
    kernel, bias = layer.get_weights()
    limit = np.sqrt(6 / (9 * 16 + 9 * 32))
    assert 0.9 * limit < np.abs(kernel).max() <= limit and not bias.any()


def test_same_padding_with_strides_pads_the_end():
    # Keras: 5 wide, kernel 2, stride 2 -> total pad 1, all of it at the end.
    layer = C.Conv1D(1, 2, strides=2, padding="same", use_bias=False)
    layer.build((None, 5, 1))
    layer.set_weights([np.ones((2, 1, 1), "float32")])
    x = torch.arange(1.0, 6.0).reshape(1, 5, 1)
    np.testing.assert_allclose(layer(x).detach().numpy().ravel(), [3, 7, 5])


def test_causal_padding():
    layer = C.Conv1D(1, 3, padding="causal", dilation_rate=2, use_bias=False)
    layer.build((None, 6, 1))
    layer.set_weights([np.ones((3, 1, 1), "float32")])
    out = layer(torch.arange(1.0, 7.0).reshape(1, 6, 1)).detach().numpy().ravel()
    np.testing.assert_allclose(out, [1, 2, 4, 6, 9, 12])  # x[t] + x[t-2] + x[t-4]


def test_average_pooling_same_averages_valid_cells_only():
    x = torch.tensor([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1)
    out = P.AveragePooling1D(3, strides=2, padding="same")(x)
    np.testing.assert_allclose(out.numpy().ravel(), [2.0, 3.5])
    x2 = torch.arange(16.0).reshape(1, 4, 4, 1)
    out2 = P.AveragePooling2D(3, strides=2, padding="same")(x2).numpy()[0, :, :, 0]
    # windows: rows {0,1,2}/{2,3}, columns the same; the padded row and column do not count
    expected = [[x2[0, r0:r1, c0:c1, 0].mean().item() for c0, c1 in ((0, 3), (2, 4))]
                for r0, r1 in ((0, 3), (2, 4))]
    np.testing.assert_allclose(out2, expected, rtol=1e-6)


def test_max_pooling_same_ignores_padding():
    x = -torch.arange(1.0, 6.0).reshape(1, 5, 1)  # all negative: a zero pad would win
    out = P.MaxPooling1D(2, padding="same")(x)
    np.testing.assert_allclose(out.numpy().ravel(), [-1, -3, -5])


def test_global_pooling_and_mask():
    x = torch.tensor(_x(2, 4, 3))
    np.testing.assert_allclose(P.GlobalAveragePooling1D()(x).numpy(), x.mean(1).numpy(),
                               rtol=1e-6)
    assert P.GlobalMaxPooling2D(keepdims=True)(torch.zeros(2, 5, 4, 3)).shape == (2, 1, 1, 3)
    assert P.GlobalAveragePooling3D(data_format="channels_first")(
        torch.zeros(2, 3, 2, 2, 2)).shape == (2, 3)
    mask = torch.tensor([[True, True, False, False], [True, True, True, True]])
    out = P.GlobalAveragePooling1D()(x, mask=mask)
    np.testing.assert_allclose(out[0].numpy(), x[0, :2].mean(0).numpy(), rtol=1e-6)
    assert "_keras_mask" not in out.__dict__
    x._keras_mask = mask  # a mask riding on the tensor (from Embedding/Masking) is honoured
    torch.testing.assert_close(P.GlobalAveragePooling1D()(x), out)


@pytest.mark.parametrize("layer,in_shape,out_shape", [
    (C.Conv2D(4, 3, strides=2, padding="same"), (None, 7, 6, 3), (None, 4, 3, 4)),
    (C.Conv1D(4, 3, padding="causal"), (None, None, 2), (None, None, 4)),
    (C.Conv2DTranspose(2, 3, strides=2, padding="same"), (None, 4, 5, 3), (None, 8, 10, 2)),
    (C.Conv2DTranspose(2, 3, strides=2), (None, 4, 5, 3), (None, 9, 11, 2)),
    (C.DepthwiseConv2D(3, depth_multiplier=2, data_format="channels_first"),
     (None, 3, 7, 6), (None, 6, 5, 4)),
    (C.SeparableConv1D(5, 3, strides=2), (None, 9, 3), (None, 4, 5)),
    (P.MaxPooling2D(3, strides=2, padding="same"), (None, 7, 6, 3), (None, 4, 3, 3)),
    (P.AveragePooling3D(2), (None, 4, 5, 4, 2), (None, 2, 2, 2, 2)),
    (P.GlobalMaxPooling1D(keepdims=True), (None, 7, 3), (None, 1, 3)),
])
def test_compute_output_shape_and_functional(layer, in_shape, out_shape):
    assert tuple(layer.compute_output_shape(in_shape)) == out_shape
    symbolic = layer(Input(batch_shape=in_shape))
    assert tuple(symbolic.shape) == out_shape
    concrete = tuple(4 if d is None else d for d in in_shape)
    got = layer(torch.zeros(concrete)).shape
    assert tuple(got) == tuple(4 if d is None else d for d in out_shape)


def test_small_cnn_trains_with_regularizer_and_constraint():
    model = kerastorch.Sequential([
        Input(shape=(8, 8, 1)),
        C.Conv2D(4, 3, activation="relu", kernel_regularizer="l2",
                 kernel_constraint=kerastorch.constraints.MaxNorm(0.5, axis=[0, 1, 2])),
        P.MaxPooling2D(),
        C.SeparableConv2D(4, 3, padding="same", depthwise_regularizer="l1",
                          pointwise_constraint="non_neg"),
        P.GlobalAveragePooling2D(),
        Dense(2, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y = _x(16, 8, 8, 1), np.arange(16) % 2
    before = [w.copy() for w in model.get_weights()]
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    after = model.get_weights()
    assert all((a != b).any() for a, b in zip(after, before))
    conv, sep = model.layers[0], model.layers[2]
    assert len(conv.losses) == 1 and len(sep.losses) == 1
    np.testing.assert_allclose(conv.losses[0].item(),
                               0.01 * (conv.get_weights()[0] ** 2).sum(), rtol=1e-5)
    # constraints see the Keras layout: MaxNorm over (kh, kw, in) per output filter
    norms = np.sqrt((conv.get_weights()[0] ** 2).sum(axis=(0, 1, 2)))
    assert (norms <= 0.5 + 1e-6).all()
    assert (sep.get_weights()[1] >= 0).all()
    assert tuple(view(sep, "depthwise_weight").shape) == (3, 3, 4, 1)


def test_config_round_trip():
    layer = C.Conv2DTranspose(3, (2, 3), strides=2, output_padding=1, activation="relu",
                              kernel_regularizer="l2", name="up")
    again = C.Conv2DTranspose.from_config(layer.get_config())
    assert again.get_config() == layer.get_config()
    assert again.output_padding == (1, 1) and again.strides == (2, 2)
    pool = P.AveragePooling2D(3, padding="SAME")
    assert pool.get_config()["padding"] == "same" and pool.get_config()["strides"] == (3, 3)


@pytest.mark.parametrize("make,arg", [
    (lambda: C.Conv2D(0, 3), "filters"),
    (lambda: C.Conv2D(4, 0), "kernel_size"),
    (lambda: C.Conv2D(4, (3, 3, 3)), "kernel_size"),
    (lambda: C.Conv2D(4, 3, strides=0), "strides"),
    (lambda: C.Conv2D(4, 3, padding="full"), "padding"),
    (lambda: C.Conv2D(4, 3, padding="causal"), "padding"),
    (lambda: C.Conv2D(4, 3, strides=2, dilation_rate=2), "dilation_rate"),
    (lambda: C.Conv2D(4, 3, groups=3), "groups"),
    (lambda: C.Conv2D(4, 3, groups=0), "groups"),
    (lambda: C.Conv1D(4, 3, data_format="nhwc"), "data_format"),
    (lambda: C.Conv2DTranspose(4, 3, strides=2, output_padding=2), "output_padding"),
    (lambda: C.Conv1DTranspose(4, 3, padding="causal"), "padding"),
    (lambda: C.DepthwiseConv2D(3, depth_multiplier=0), "depth_multiplier"),
    (lambda: C.SeparableConv2D(0, 3), "filters"),
    (lambda: P.MaxPooling2D(pool_size=(2, 2, 2)), "pool_size"),
    (lambda: P.AveragePooling1D(2, padding="causal"), "padding"),
    (lambda: P.MaxPooling1D(2, strides=0), "strides"),
    (lambda: P.GlobalAveragePooling2D(data_format="x"), "data_format"),
])
def test_bad_arguments_name_the_argument(make, arg):
    with pytest.raises(ValueError, match=f"{arg}.*Received|Received.*{arg}"):
        make()


def test_lora_is_refused():
    with pytest.raises(NotImplementedError, match="LoRA"):
        C.Conv2D(4, 3, lora_rank=2)


def test_bad_inputs_name_the_layer():
    conv = C.Conv2D(4, 3, name="feat")
    with pytest.raises(ValueError, match=r"'feat'.*rank 4.*\(2, 5, 5\)"):
        conv(torch.zeros(2, 5, 5))
    conv(torch.zeros(2, 5, 5, 3))
    with pytest.raises(ValueError, match=r"'feat'.*built for 3 input channels.*\(2, 5, 5, 2\)"):
        conv(torch.zeros(2, 5, 5, 2))
    with pytest.raises(ValueError, match=r"'feat'.*\(2, 2, 2, 3\).*spatial size"):
        conv(torch.zeros(2, 2, 2, 3))
    with pytest.raises(ValueError, match=r"'small'.*spatial size"):
        C.Conv2D(4, 5, name="small")(torch.zeros(1, 3, 3, 1))
    with pytest.raises(ValueError, match=r"'grouped'.*groups=2"):
        C.Conv2D(4, 3, groups=2, name="grouped")(torch.zeros(1, 5, 5, 3))
    with pytest.raises(ValueError, match=r"'up'.*rank 3"):
        C.Conv1DTranspose(2, 3, name="up")(torch.zeros(1, 4, 4, 2))
    with pytest.raises(ValueError, match=r"'pool'.*rank 4.*\(2, 5, 3\)"):
        P.MaxPooling2D(name="pool")(torch.zeros(2, 5, 3))
    with pytest.raises(ValueError, match=r"'pool3'.*spatial size"):
        P.AveragePooling2D(3, name="pool3")(torch.zeros(1, 2, 2, 1))
    with pytest.raises(ValueError, match=r"'gap'.*rank 3"):
        P.GlobalAveragePooling1D(name="gap")(torch.zeros(2, 3, 4, 5))


def _keras_same_pool_1d(x, k, s, mode):
    """Keras' `same` pooling of a 1-D sequence, written out: windows clipped to the input."""
    n = len(x)
    out = -(-n // s)
    before = max((out - 1) * s + k - n, 0) // 2
    windows = [x[max(j * s - before, 0):min(j * s - before + k, n)] for j in range(out)]
    return np.array([w.max() if mode == "max" else w.mean() for w in windows])


@pytest.mark.parametrize("cls", [P.MaxPooling1D, P.AveragePooling1D])
def test_same_pooling_sweep_against_the_definition(cls):
    # odd and even lengths (1 included), pool sizes 1-5, strides 1-4: symmetric padding,
    # one extra cell at the end with stride 1 (crop) and with stride >= 2 (ceil_mode)
    mode = "max" if cls is P.MaxPooling1D else "average"
    rng = np.random.default_rng(1)
    for n in range(1, 10):
        x = rng.normal(size=n).astype("float32")
        for k in range(1, 6):
            for s in range(1, 5):
                got = cls(k, strides=s, padding="same")(torch.tensor(x).reshape(1, n, 1))
                np.testing.assert_allclose(got.numpy().ravel(),
                                           _keras_same_pool_1d(x, k, s, mode), rtol=1e-6,
                                           err_msg=f"n={n} k={k} s={s}")
    # and in 2-D, an axis of length 1 next to a cropped one
    x2 = torch.tensor(rng.normal(size=(1, 1, 5, 2)).astype("float32"))
    cls2 = P.MaxPooling2D if cls is P.MaxPooling1D else P.AveragePooling2D
    got2 = cls2((2, 2), strides=1, padding="same")(x2)
    for c in range(2):
        np.testing.assert_allclose(got2[0, 0, :, c].numpy(),
                                   _keras_same_pool_1d(x2[0, 0, :, c].numpy(), 2, 1, mode),
                                   rtol=1e-6)
