"""Normalization and attention layers without Keras: state dicts load into the equivalent torch
modules and give the same outputs; Keras' update rules; masks; errors name the layer."""

import numpy as np
import pytest
import torch
from layer_harness import check_torch_equivalent, nchw_to_nhwc, nhwc_to_nchw
from torch import nn

import kerastorch
from kerastorch import constraints, regularizers
from kerastorch.layers.attention import AdditiveAttention, Attention, MultiHeadAttention
from kerastorch.layers.layer import InputShapeError
from kerastorch.layers.normalization import (BatchNormalization, GroupNormalization,
                                             LayerNormalization, UnitNormalization)


def _t(rng, *shape, scale=2.0, shift=0.5):
    return torch.from_numpy((rng.normal(size=shape) * scale + shift).astype("float32"))


def _perturb(layer, rng):
    layer.set_weights([w + rng.normal(scale=0.1, size=w.shape).astype(w.dtype)
                       for w in layer.get_weights()])


# ----------------------------------------------------------------------------- BatchNorm
@pytest.mark.parametrize("shape, module, to_torch, from_torch", [
    ((6, 5), nn.BatchNorm1d(5, eps=1e-3, momentum=0.01), None, None),
    ((3, 4, 4, 5), nn.BatchNorm2d(5, eps=1e-3, momentum=0.01), nhwc_to_nchw, nchw_to_nhwc),
    ((3, 2, 4, 4, 5), nn.BatchNorm3d(5, eps=1e-3, momentum=0.01), nhwc_to_nchw, nchw_to_nhwc),
], ids=["bn1d", "bn2d_nhwc", "bn3d_ndhwc"])
def test_batch_norm_state_dict_loads_into_torch(rng, shape, module, to_torch, from_torch):
    layer = BatchNormalization()
    for _ in range(2):  # non-trivial moving statistics
        layer(_t(rng, *shape), training=True)
    _perturb(layer, rng)
    assert set(layer.state_dict()) == {"weight", "bias", "running_mean", "running_var",
                                       "num_batches_tracked"}
    assert int(layer.num_batches_tracked) == 2
    check_torch_equivalent(layer, module, _t(rng, *shape), to_torch_input=to_torch,
                           from_torch_output=from_torch)


def test_batch_norm_channels_first_loads_into_batchnorm1d(rng):
    layer = BatchNormalization(axis=1)
    layer(_t(rng, 4, 3, 7), training=True)
    _perturb(layer, rng)
    check_torch_equivalent(layer, nn.BatchNorm1d(3, eps=1e-3), _t(rng, 4, 3, 7))


def test_batch_norm_training_follows_keras_rule(rng):
    layer = BatchNormalization(momentum=0.9)
    x = _t(rng, 8, 2, 3)
    layer(x)
    _perturb(layer, rng)
    gamma, beta, mean0, var0 = [torch.from_numpy(w.copy()) for w in layer.get_weights()]
    out = layer(x, training=True)
    flat = x.reshape(-1, 3).double()
    mean, var = flat.mean(0), flat.var(0, unbiased=False)  # biased, for both uses
    want = (x.double() - mean) / torch.sqrt(var + 1e-3) * gamma.double() + beta.double()
    torch.testing.assert_close(out.double(), want, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(layer.running_mean.double(), 0.9 * mean0.double() + 0.1 * mean,
                               atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(layer.running_var.double(), 0.9 * var0.double() + 0.1 * var,
                               atol=1e-6, rtol=1e-6)


def test_batch_norm_inference_by_default_and_trainable_false(rng):
    layer = BatchNormalization()
    x = _t(rng, 6, 4)
    first = layer(x)  # inference: moving stats (0, 1)
    torch.testing.assert_close(first, x / np.sqrt(1 + 1e-3), atol=1e-6, rtol=1e-6)
    layer.trainable = False
    before = [w.copy() for w in layer.get_weights()]
    torch.testing.assert_close(layer(x, training=True), first)
    layer.train()  # what fit does
    torch.testing.assert_close(layer(x), first)
    for a, b in zip(layer.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_batch_norm_keras_views_and_mask(rng):
    layer = BatchNormalization(center=False)
    x = _t(rng, 2, 5, 3)
    x._keras_mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    out = layer(x)
    assert [w.shape for w in layer.get_weights()] == [(3,), (3,), (3,)]
    assert [v.name for v in layer.keras_weight_views()] == ["gamma", "moving_mean",
                                                           "moving_variance"]
    assert out._keras_mask is x._keras_mask
    assert layer.gamma is layer.weight and layer.moving_variance is layer.running_var
    assert len(layer.trainable_weights) == 1 and len(layer.non_trainable_weights) == 2


def test_batch_norm_masked_training_ignores_masked_steps(rng):
    layer = BatchNormalization(momentum=0.0)
    x = _t(rng, 2, 4, 3)
    mask = torch.tensor([[1, 1, 0, 0], [1, 0, 0, 0]], dtype=torch.bool)
    layer(x, mask=mask, training=True)
    kept = x[mask]
    torch.testing.assert_close(layer.running_mean, kept.mean(0), atol=1e-5, rtol=1e-5)


def test_batch_norm_channels_last_output_is_not_copied(rng):
    layer = BatchNormalization()
    x = _t(rng, 2, 4, 4, 3)
    for training in (False, True):
        out = layer(x, training=training)
        assert out.is_contiguous() and out.shape == x.shape


def test_batch_norm_in_fit_updates_moving_stats_unless_frozen(rng):
    x = rng.normal(size=(32, 4)).astype("float32") * 3 + 2
    y = rng.normal(size=(32, 2)).astype("float32")
    for trainable in (True, False):
        bn = BatchNormalization()
        model = kerastorch.Sequential([kerastorch.Input(shape=(4,)), bn,
                                       kerastorch.layers.Dense(2)])
        bn.trainable = trainable
        model.compile(optimizer="sgd", loss="mse")
        model.fit(x, y, batch_size=8, epochs=1, verbose=0)
        moved = not np.allclose(bn.get_weights()[2], 0.0)
        assert moved == trainable


def test_batch_norm_errors_name_the_layer(rng):
    with pytest.raises(ValueError, match="momentum"):
        BatchNormalization(momentum=2.0)
    with pytest.raises(NotImplementedError):
        BatchNormalization(renorm=True)
    layer = BatchNormalization(axis=3, name="bn_bad_axis")
    with pytest.raises(ValueError, match="bn_bad_axis.*axis"):
        layer(_t(rng, 2, 3))
    layer = BatchNormalization(name="bn_rank")
    layer(_t(rng, 2, 3))
    with pytest.raises(InputShapeError, match="bn_rank"):
        layer(_t(rng, 2, 3, 3))
    with pytest.raises(InputShapeError, match="bn_rank"):
        layer(_t(rng, 2, 4))


# ------------------------------------------------------------------ Layer / Group / Unit
@pytest.mark.parametrize("kwargs, module, shape", [
    ({}, nn.LayerNorm(5, eps=1e-3), (3, 4, 5)),
    ({"axis": [-2, -1]}, nn.LayerNorm((4, 5), eps=1e-3), (3, 4, 5)),
    ({"center": False}, nn.LayerNorm(5, eps=1e-3, bias=False), (3, 5)),
    ({"center": False, "scale": False}, nn.LayerNorm(5, eps=1e-3, elementwise_affine=False),
     (3, 5)),
], ids=["default", "two_axes", "no_center", "no_affine"])
def test_layer_norm_state_dict_loads_into_torch(rng, kwargs, module, shape):
    layer = LayerNormalization(**kwargs)
    layer(_t(rng, *shape))
    if layer.get_weights():
        _perturb(layer, rng)
    check_torch_equivalent(layer, module, _t(rng, *shape))


def test_layer_norm_non_trailing_axis(rng):
    layer = LayerNormalization(axis=1)
    x = _t(rng, 2, 3, 4)
    layer(x)
    _perturb(layer, rng)
    gamma, beta = [torch.from_numpy(w) for w in layer.get_weights()]
    mean, var = x.mean(1, keepdim=True), x.var(1, unbiased=False, keepdim=True)
    want = (x - mean) / torch.sqrt(var + 1e-3) * gamma[:, None] + beta[:, None]
    torch.testing.assert_close(layer(x), want, atol=1e-5, rtol=1e-5)
    assert layer.get_config()["axis"] == [1]


@pytest.mark.parametrize("groups, shape", [(2, (2, 4, 4, 6)), (-1, (2, 5, 6)), (3, (4, 6))])
def test_group_norm_state_dict_loads_into_torch(rng, groups, shape):
    layer = GroupNormalization(groups=groups)
    layer(_t(rng, *shape))
    _perturb(layer, rng)
    channels = shape[-1]
    module = nn.GroupNorm(layer.groups, channels, eps=1e-3)
    check_torch_equivalent(layer, module, _t(rng, *shape), to_torch_input=nhwc_to_nchw,
                           from_torch_output=nchw_to_nhwc)


def test_normalization_argument_errors(rng):
    with pytest.raises(ValueError, match="groups"):
        GroupNormalization(groups=0)
    layer = GroupNormalization(groups=4, name="gn_bad")
    with pytest.raises(ValueError, match="gn_bad.*groups"):
        layer(_t(rng, 2, 6))
    with pytest.raises(TypeError, match="axis"):
        LayerNormalization(axis="last")
    layer = LayerNormalization(axis=4, name="ln_bad")
    with pytest.raises(ValueError, match="ln_bad.*axis"):
        layer(_t(rng, 2, 6))
    with pytest.raises(TypeError, match="axis"):
        UnitNormalization(axis=1.5)


def test_unit_normalization(rng):
    x = _t(rng, 3, 4, 5)
    x[0, 0] = 0.0
    out = UnitNormalization()(x)
    norms = out.norm(dim=-1)
    torch.testing.assert_close(norms[1:], torch.ones_like(norms[1:]))
    assert torch.all(out[0, 0] == 0)
    out = UnitNormalization(axis=[1, 2])(x)
    torch.testing.assert_close(out.square().sum((1, 2)), torch.ones(3))


@pytest.mark.parametrize("make, shape", [
    (lambda: BatchNormalization(axis=1, momentum=0.9, center=False), (2, 3, 4)),
    (lambda: LayerNormalization(axis=[1, 2], epsilon=1e-5), (2, 3, 4)),
    (lambda: GroupNormalization(groups=-1), (2, 3, 4)),
    (lambda: UnitNormalization(axis=[1]), (2, 3, 4)),
])
def test_normalization_config_round_trip(rng, make, shape):
    layer = make()
    x = _t(rng, *shape)
    out = layer(x)
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    clone(x)
    if layer.get_weights():
        clone.set_weights(layer.get_weights())
    torch.testing.assert_close(clone(x), out)
    assert layer.compute_output_shape((None, *shape[1:])) == (None, *shape[1:])


# ------------------------------------------------------------------ MultiHeadAttention
def _nn_mha(layer, **kwargs):
    module = nn.MultiheadAttention(layer.num_heads * layer.key_dim, layer.num_heads,
                                   batch_first=True, **kwargs)
    module.load_state_dict(layer.state_dict(), strict=True)
    return module.eval()


def test_mha_packed_state_dict_loads_into_nn_multihead_attention(rng):
    layer = MultiHeadAttention(2, 4)
    q, v = _t(rng, 2, 5, 8), _t(rng, 2, 6, 8)
    layer(q, v)
    _perturb(layer, rng)
    assert list(layer.state_dict()) == ["in_proj_weight", "in_proj_bias", "out_proj.weight",
                                        "out_proj.bias"]
    # Keras' eight variables over the packed storage: trainable, writable, counted once.
    assert len(layer.trainable_weights) == 8 and layer.count_params() == 4 * (64 + 8)
    layer.trainable = False
    assert not layer.trainable_weights and len(layer.non_trainable_weights) == 8
    layer.trainable = True
    module = _nn_mha(layer)
    with torch.no_grad():
        torch.testing.assert_close(layer(q, q), module(q, q, q, need_weights=False)[0])
        torch.testing.assert_close(layer(q, v), module(q, v, v, need_weights=False)[0])
        k = _t(rng, 2, 6, 8)
        torch.testing.assert_close(layer(q, v, k), module(q, k, v, need_weights=False)[0])
        # Keras' mask: True = attend; torch's attn_mask: True = masked out.
        allowed = torch.from_numpy(rng.random((5, 6)) > 0.3)
        allowed[:, 0] = True
        torch.testing.assert_close(layer(q, v, attention_mask=allowed),
                                   module(q, v, v, attn_mask=~allowed, need_weights=False)[0])
        causal = nn.Transformer.generate_square_subsequent_mask(5)
        torch.testing.assert_close(layer(q, q, use_causal_mask=True),
                                   module(q, q, q, attn_mask=causal, is_causal=True,
                                          need_weights=False)[0])
        out, scores = layer(q, v, return_attention_scores=True)
        ref, ref_scores = module(q, v, v, average_attn_weights=False)
        torch.testing.assert_close(out, ref)
        torch.testing.assert_close(scores, ref_scores)


def test_mha_kdim_vdim_state_dict_loads_into_nn_multihead_attention(rng):
    layer = MultiHeadAttention(2, 4, use_bias=True)
    q, k, v = _t(rng, 2, 5, 8), _t(rng, 2, 6, 3), _t(rng, 2, 6, 7)
    layer(q, v, k)
    _perturb(layer, rng)
    assert {"q_proj_weight", "k_proj_weight", "v_proj_weight",
            "in_proj_bias"} <= set(layer.state_dict())
    module = _nn_mha(layer, kdim=3, vdim=7)
    with torch.no_grad():
        torch.testing.assert_close(layer(q, v, k), module(q, k, v, need_weights=False)[0])


def test_mha_no_bias_loads_into_nn_multihead_attention(rng):
    layer = MultiHeadAttention(4, 2, use_bias=False)
    q = _t(rng, 3, 4, 8)
    layer(q, q)
    _perturb(layer, rng)
    module = _nn_mha(layer, bias=False)
    with torch.no_grad():
        torch.testing.assert_close(layer(q, q), module(q, q, q, need_weights=False)[0])


@pytest.mark.parametrize("kwargs", [
    {}, {"key_dim": 5}, {"value_dim": 2}, {"output_shape": (3, 2)}, {"use_gate": True}])
def test_mha_keras_weights_layout(rng, kwargs):
    kwargs = {"num_heads": 2, "key_dim": 4, **kwargs}
    layer = MultiHeadAttention(**kwargs)
    q, v = _t(rng, 2, 5, 8), _t(rng, 2, 6, 6)
    layer(q, v)
    h, kd = kwargs["num_heads"], kwargs["key_dim"]
    vd = kwargs.get("value_dim", kd)
    out = kwargs.get("output_shape", (8,))
    shapes = [(8, h, kd), (h, kd), (6, h, kd), (h, kd)]
    if kwargs.get("use_gate"):
        shapes += [(8, h, vd), (h, vd)]
    shapes += [(6, h, vd), (h, vd), (h, vd, *out), out]
    assert [w.shape for w in layer.get_weights()] == shapes
    assert layer.count_params() == sum(int(np.prod(s)) for s in shapes)
    weights = [rng.normal(size=s).astype("float32") for s in shapes]
    layer.set_weights(weights)
    for a, b in zip(layer.get_weights(), weights):
        np.testing.assert_array_equal(a, b)
    assert [id(t) for t in layer.weights] == [id(t) for t in layer.weights]
    assert len(layer.trainable_weights) == len(shapes) and not layer.non_trainable_weights
    assert layer.compute_output_shape((None, 5, 8), (None, 6, 6)) == (None, 5, *out)


def test_mha_default_fans_follow_keras_einsum_dense(rng):
    torch.manual_seed(0)
    layer = MultiHeadAttention(8, 16)
    layer(_t(rng, 2, 3, 32), _t(rng, 2, 3, 32))
    query_kernel = layer.get_weights()[0]  # (32, 8, 16): fan_in 32, fan_out 128
    limit = np.sqrt(6 / (32 + 128))
    assert np.abs(query_kernel).max() <= limit
    assert np.abs(query_kernel).max() > 0.9 * limit
    assert not np.allclose(layer.get_weights()[0], layer.get_weights()[4])  # fresh per kernel


def test_mha_regularizers_and_constraints_see_keras_kernels(rng):
    from kerastorch.trainers.trainer import view

    for kwargs in ({}, {"key_dim": 3}):
        kwargs = {"num_heads": 2, "key_dim": 4, **kwargs}
        layer = MultiHeadAttention(kernel_regularizer=regularizers.L1(0.1),
                                   bias_regularizer=regularizers.L2(0.2),
                                   kernel_constraint=constraints.MaxNorm(0.5), **kwargs)
        q = _t(rng, 2, 5, 8)
        layer(q, q)
        _perturb(layer, rng)
        names = [v.name for v in layer._all_weight_views()]
        weights = dict(zip(names, layer.get_weights()))
        want = sum(0.1 * np.abs(w).sum() for n, w in weights.items() if n.endswith("kernel"))
        want += sum(0.2 * np.square(w).sum() for n, w in weights.items() if n.endswith("bias"))
        got = sum(float(p.detach()) for p in layer.losses)
        assert got == pytest.approx(want, rel=1e-5)
        with torch.no_grad():
            for lyr in layer._flatten_layers():
                for con, attr in lyr.__dict__.get("_constraints", ()):
                    view(lyr, attr, assign=con)
        for name, w in zip(names, layer.get_weights()):
            if name.endswith("kernel"):  # MaxNorm over Keras' axis 0 of each kernel
                want_w = weights[name] * np.minimum(
                    1.0, 0.5 / (1e-7 + np.sqrt(np.square(weights[name]).sum(0, keepdims=True))))
                np.testing.assert_allclose(w, want_w, rtol=1e-5, atol=1e-6)


def test_mha_masks(rng):
    layer = MultiHeadAttention(2, 4)
    q, v = _t(rng, 2, 4, 8), _t(rng, 2, 5, 8)
    q._keras_mask = torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0]], dtype=torch.bool)
    v._keras_mask = torch.tensor([[1, 1, 1, 1, 0], [1, 0, 0, 0, 0]], dtype=torch.bool)
    out, scores = layer(q, v, return_attention_scores=True)
    assert out._keras_mask is q._keras_mask
    assert torch.all(scores[1, :, :, 1:] == 0)  # masked keys get no weight
    assert torch.all(scores[0, :, 3] == 0)  # a masked query attends to nothing
    explicit = layer(q.detach().clone(), v.detach().clone(), value_mask=v._keras_mask,
                     query_mask=q._keras_mask, return_attention_scores=True)
    torch.testing.assert_close(out, explicit[0])


def test_mha_dropout(rng):
    q = _t(rng, 2, 4, 8)
    layer = MultiHeadAttention(2, 4, dropout=0.5)
    layer(q, q)
    torch.testing.assert_close(layer(q, q), layer(q, q))
    assert not torch.allclose(layer(q, q, training=True), layer(q, q))
    seeded = [MultiHeadAttention(2, 4, dropout=0.5, seed=3) for _ in range(2)]
    seeded[0](q, q)
    seeded[1](q, q)
    seeded[1].set_weights(seeded[0].get_weights())
    torch.testing.assert_close(seeded[0](q, q, training=True), seeded[1](q, q, training=True))


def test_mha_functional_and_fit(rng):
    inp = kerastorch.Input(shape=(4, 8))
    mha = MultiHeadAttention(2, 4, name="mha")
    out, scores = mha(inp, inp, return_attention_scores=True, use_causal_mask=True)
    assert out.shape == (None, 4, 8) and scores.shape == (None, 2, 4, 4)
    model = kerastorch.Model(inp, out)
    x = rng.normal(size=(6, 4, 8)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               mha(torch.from_numpy(x), torch.from_numpy(x),
                                   use_causal_mask=True).detach().numpy(), atol=1e-6)


class _SelfAttention(kerastorch.layers.Layer):  # Sequential passes one input; MHA takes two
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.mha = MultiHeadAttention(2, 4, kernel_constraint="non_neg")

    def build(self, input_shape):  # built here, not lazily inside shape inference
        self.mha.build(input_shape, input_shape)

    def call(self, x):
        return self.mha(x, x)


def test_mha_trains_inside_fit_with_constraints(rng):
    model = kerastorch.Sequential([kerastorch.Input(shape=(4, 8)), _SelfAttention(),
                                   kerastorch.layers.Flatten(), kerastorch.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x = rng.normal(size=(16, 4, 8)).astype("float32")
    y = rng.normal(size=(16, 1)).astype("float32")
    before = [w.copy() for w in model.get_weights()]
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    after = model.get_weights()
    assert all(not np.array_equal(a, b) for a, b in zip(before[:4], after[:4]))
    kernels = [w for w, v in zip(after, model._all_weight_views()) if "kernel" in v.name]
    assert all((k >= 0).all() for k in kernels[:-1])  # the MHA kernels, not the Dense one


def test_mha_errors_name_the_layer(rng):
    with pytest.raises(ValueError, match="num_heads"):
        MultiHeadAttention(0, 4)
    with pytest.raises(ValueError, match="key_dim"):
        MultiHeadAttention(2, "4")
    with pytest.raises(ValueError, match="dropout"):
        MultiHeadAttention(2, 4, dropout=1.5)
    with pytest.raises(NotImplementedError, match="attention_axes"):
        MultiHeadAttention(2, 4, attention_axes=2)(_t(rng, 2, 3, 4, 8), _t(rng, 2, 3, 4, 8))
    layer = MultiHeadAttention(2, 4, name="mha_bad")
    with pytest.raises(ValueError, match="mha_bad"):
        layer(_t(rng, 2, 3, 8))
    layer(_t(rng, 2, 3, 8), _t(rng, 2, 5, 8))
    with pytest.raises(InputShapeError, match="mha_bad.*value"):
        layer(_t(rng, 2, 3, 8), _t(rng, 2, 5, 7))
    with pytest.raises(InputShapeError, match="mha_bad.*query"):
        layer(_t(rng, 2, 3, 6), _t(rng, 2, 5, 8))


def test_mha_config_round_trip(rng):
    layer = MultiHeadAttention(2, 3, value_dim=5, output_shape=(2, 2), dropout=0.1,
                               kernel_initializer="he_normal", bias_regularizer="l2",
                               activity_regularizer="l1", seed=4)
    layer(_t(rng, 2, 3, 4), _t(rng, 2, 5, 6))
    cfg = layer.get_config()
    clone = MultiHeadAttention.from_config(cfg)
    assert clone.get_config() == cfg
    assert len(layer.losses) == 8  # as Keras: activity and bias L2 of q, k, v and the output
    clone(_t(rng, 2, 3, 4), _t(rng, 2, 5, 6))
    clone.set_weights(layer.get_weights())


# ------------------------------------------------------------------ Attention layers
def test_attention_masks_and_shapes(rng):
    q, v = _t(rng, 2, 4, 6), _t(rng, 2, 5, 6)
    q_mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]], dtype=torch.bool)
    v_mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    for layer in (Attention(), Attention(score_mode="concat", use_scale=True),
                  AdditiveAttention()):
        out, scores = layer([q, v], mask=[q_mask, v_mask], return_attention_scores=True)
        assert out.shape == (2, 4, 6) and scores.shape == (2, 4, 5)
        assert torch.all(out[0, 2:] == 0)
        assert torch.all(scores[0, :, 3:] == 0)
        assert torch.equal(layer.compute_mask([q, v], [q_mask, v_mask]), q_mask)
        q._keras_mask = q_mask
        assert layer([q, v])._keras_mask is q_mask
        del q._keras_mask
        assert layer.compute_output_shape([(None, 4, 6), (None, 5, 6)]) == (None, 4, 6)


def test_attention_fused_and_explicit_paths_agree(rng):
    q, v = _t(rng, 2, 4, 6, scale=0.5), _t(rng, 2, 5, 6, scale=0.5)
    layer = Attention(use_scale=True)
    layer([q, v])
    _perturb(layer, rng)
    for causal in (False, True):
        fused = layer([q, v], use_causal_mask=causal)
        explicit, _ = layer([q, v], use_causal_mask=causal, return_attention_scores=True)
        torch.testing.assert_close(fused, explicit)


def test_attention_functional_and_errors(rng):
    a, b = kerastorch.Input(shape=(4, 6)), kerastorch.Input(shape=(5, 6))
    out, scores = AdditiveAttention()([a, b], return_attention_scores=True)
    assert out.shape == (None, 4, 6) and scores.shape == (None, 4, 5)
    with pytest.raises(ValueError, match="att_bad.*list"):
        Attention(name="att_bad")(_t(rng, 2, 3, 4))
    with pytest.raises(ValueError, match="score_mode"):
        Attention(score_mode="cosine")
    layer = AdditiveAttention(name="add_cfg", dropout=0.2)
    layer([_t(rng, 2, 3, 4), _t(rng, 2, 5, 4)])
    assert "score_mode" not in layer.get_config()
    assert AdditiveAttention.from_config(layer.get_config()).get_config() == layer.get_config()
