"""Normalization and attention layers against Keras 3 on JAX: weights copied with set_weights
(perturbed), outputs within 1e-4, input gradients for BatchNormalization (training) and
MultiHeadAttention, moving statistics after training calls, config keys."""

import numpy as np
import pytest
import torch
from layer_harness import compare_with_keras, perturb, to_numpy

import kerastorch.layers
from kerastorch.layers import attention as A
from kerastorch.layers import normalization as N

pytestmark = pytest.mark.conformance

# These layers are imported from their modules (the package namespace lists them later).
OURS = type("Ours", (), {**vars(N), **vars(A)})


def ours_for(make):
    """`make(L)` with kerastorch's layers namespace replaced by this file's modules."""
    return lambda L: make(OURS if L is kerastorch.layers else L)

ATOL = 1e-4


def _x(rng, *shape, scale=2.0, shift=0.5):
    return (rng.normal(size=shape) * scale + shift).astype("float32")


# ----------------------------------------------------------------------------- BatchNorm
BN_CASES = {
    "default_2d": (lambda L: L.BatchNormalization(), (6, 5)),
    "nhwc": (lambda L: L.BatchNormalization(), (3, 4, 4, 5)),
    "axis1_nchw": (lambda L: L.BatchNormalization(axis=1), (3, 5, 4, 4)),
    "seq_momentum_eps": (lambda L: L.BatchNormalization(momentum=0.9, epsilon=1e-5), (4, 6, 5)),
    "axis_minus2": (lambda L: L.BatchNormalization(axis=-2), (4, 3, 6)),
    "no_center_no_scale": (lambda L: L.BatchNormalization(center=False, scale=False),
                           (3, 4, 4, 5)),
    "center_only": (lambda L: L.BatchNormalization(scale=False), (6, 5)),
    "batch_of_one": (lambda L: L.BatchNormalization(), (1, 5)),
}


@pytest.mark.parametrize("training", [False, True], ids=["inference", "training"])
@pytest.mark.parametrize("case", list(BN_CASES))
def test_batch_norm_matches_keras(keras3, rng, case, training):
    make, shape = BN_CASES[case]
    x = _x(rng, *shape)
    ref, ours = compare_with_keras(keras3, ours_for(make), x, training=training, atol=ATOL,
                                   rng=rng)
    if training:
        _check_input_grad(ref, ours, x, training=True)


@pytest.mark.parametrize("case", ["default_2d", "nhwc", "axis1_nchw", "seq_momentum_eps",
                                  "no_center_no_scale"])
def test_batch_norm_moving_statistics_follow_keras(keras3, rng, case):
    make, shape = BN_CASES[case]
    ref, ours = make(keras3.layers), make(N)
    first = _x(rng, *shape)
    ref(first), ours(torch.from_numpy(first))
    weights = perturb(ref.get_weights(), rng)
    ref.set_weights(weights)
    ours.set_weights(weights)
    for step in range(3):  # a few training steps on different batches
        x = _x(rng, *shape, scale=1.0 + step, shift=step)
        ref(x, training=True)
        ours(torch.from_numpy(x), training=True)
    for got, want in zip(ours.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    x = _x(rng, *shape)
    np.testing.assert_allclose(to_numpy(ours(torch.from_numpy(x))),
                               np.asarray(ref(x)), atol=ATOL, rtol=1e-4)


def test_batch_norm_masked_training_matches_keras(keras3, rng):
    x = _x(rng, 3, 6, 5)
    mask = rng.random((3, 6)) > 0.4
    ref, ours = keras3.layers.BatchNormalization(), N.BatchNormalization()
    ref(x), ours(torch.from_numpy(x))
    weights = perturb(ref.get_weights(), rng)
    ref.set_weights(weights)
    ours.set_weights(weights)
    want = np.asarray(ref(x, mask=mask, training=True))
    got = to_numpy(ours(torch.from_numpy(x), mask=torch.from_numpy(mask), training=True))
    np.testing.assert_allclose(got, want, atol=ATOL, rtol=1e-4)
    for a, b in zip(ours.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_batch_norm_not_trainable_runs_in_inference_mode(keras3, rng):
    x = _x(rng, 6, 5)
    ref, ours = keras3.layers.BatchNormalization(), N.BatchNormalization()
    ref(x), ours(torch.from_numpy(x))
    weights = perturb(ref.get_weights(), rng)
    ref.set_weights(weights)
    ours.set_weights(weights)
    ref.trainable = False
    ours.trainable = False
    want = np.asarray(ref(x, training=True))
    got = to_numpy(ours(torch.from_numpy(x), training=True))
    np.testing.assert_allclose(got, want, atol=ATOL, rtol=1e-4)
    for a, b in zip(ours.get_weights(), weights):
        np.testing.assert_array_equal(a, b)  # moving statistics untouched


# ------------------------------------------------------------------ Layer / Group / Unit
NORM_CASES = {
    "ln_default": (lambda L: L.LayerNormalization(), (4, 6, 5)),
    "ln_trailing_pair": (lambda L: L.LayerNormalization(axis=[-2, -1]), (3, 4, 5)),
    "ln_axes_1_2_of_4d": (lambda L: L.LayerNormalization(axis=[1, 2]), (2, 3, 4, 5)),
    "ln_axis1": (lambda L: L.LayerNormalization(axis=1, epsilon=1e-5), (4, 6, 5)),
    "ln_no_center": (lambda L: L.LayerNormalization(center=False), (4, 5)),
    "ln_no_scale": (lambda L: L.LayerNormalization(scale=False), (4, 5)),
    "ln_rms_scaling": (lambda L: L.LayerNormalization(rms_scaling=True), (4, 6, 5)),
    "gn_nhwc": (lambda L: L.GroupNormalization(groups=2), (2, 4, 4, 6)),
    "gn_instance": (lambda L: L.GroupNormalization(groups=-1), (2, 5, 6)),
    "gn_axis1": (lambda L: L.GroupNormalization(groups=3, axis=1, epsilon=1e-5), (2, 6, 4, 4)),
    "gn_no_center_2d": (lambda L: L.GroupNormalization(groups=4, center=False), (3, 8)),
    "un_default": (lambda L: L.UnitNormalization(), (4, 6, 5)),
    "un_axes": (lambda L: L.UnitNormalization(axis=[1, 2]), (4, 6, 5)),
    "un_axis1": (lambda L: L.UnitNormalization(axis=1), (4, 6, 5)),
}


@pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`")
@pytest.mark.parametrize("case", list(NORM_CASES))
def test_normalization_matches_keras(keras3, rng, case):
    make, shape = NORM_CASES[case]
    x = _x(rng, *shape)
    compare_with_keras(keras3, ours_for(make), x, training=False, atol=ATOL, rng=rng)
    ref, ours = compare_with_keras(keras3, ours_for(make), x, training=True, atol=ATOL, rng=rng)
    if case in ("ln_default", "ln_axes_1_2_of_4d", "ln_axis1", "gn_nhwc", "gn_axis1"):
        _check_input_grad(ref, ours, x)


def _check_input_grad(ref, ours, x, **call_kwargs):
    """d sum(out * w) / dx for a fixed random w: a plain sum (the harness' check) has a zero
    gradient through a normalization."""
    import jax
    import jax.numpy as jnp

    w = np.random.default_rng(1).normal(size=x.shape).astype("float32")
    trainable = [v.value for v in ref.trainable_variables]
    non_trainable = [v.value for v in ref.non_trainable_variables]

    def total(inp):
        out, _ = ref.stateless_call(trainable, non_trainable, inp, **call_kwargs)
        return jnp.sum(out * w)

    want = np.asarray(jax.jit(jax.grad(total))(jnp.asarray(x)))
    t = torch.from_numpy(x).requires_grad_(True)
    (ours(t, **call_kwargs) * torch.from_numpy(w)).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), want, atol=ATOL, rtol=1e-4)


# ------------------------------------------------------------------ MultiHeadAttention
def _mha_compare(keras3, make, inputs, rng, *, masks=None, check_grad=False, training=False,
                 **call_kwargs):
    """`make(L)(*inputs, **call_kwargs)` in Keras and kerastorch; outputs (and d sum(out) /
    d inputs) equal. `masks` are Keras masks carried by the inputs (None for none)."""
    from keras.src import backend as kbackend
    import jax
    import jax.numpy as jnp

    ref, ours = make(keras3.layers), make(A)

    def keras_args(arrays):
        out = [jnp.asarray(a) for a in arrays]
        for t, m in zip(out, masks or ()):
            if m is not None:
                kbackend.set_keras_mask(t, jnp.asarray(m))
        return out

    def torch_args(arrays, grad=False):
        out = [torch.from_numpy(a).requires_grad_(grad) for a in arrays]
        for t, m in zip(out, masks or ()):
            if m is not None:
                t._keras_mask = torch.from_numpy(m)
        return out

    t_kwargs = {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v
                for k, v in call_kwargs.items()}
    ref(*keras_args(inputs), **call_kwargs)
    ours(*torch_args(inputs), **t_kwargs)
    weights = perturb(ref.get_weights(), rng)
    ref.set_weights(weights)
    ours.set_weights(weights)
    for a, b in zip(ours.get_weights(), ref.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert ours.count_params() == ref.count_params()
    want = ref(*keras_args(inputs), training=training, **call_kwargs)
    got = ours(*torch_args(inputs), training=training, **t_kwargs)
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            assert tuple(g.shape) == tuple(w.shape)
            np.testing.assert_allclose(to_numpy(g), np.asarray(w), atol=ATOL, rtol=1e-4)
    else:
        assert tuple(got.shape) == tuple(want.shape)
        np.testing.assert_allclose(to_numpy(got), np.asarray(want), atol=ATOL, rtol=1e-4)
    if masks and masks[0] is not None:
        out = got[0] if isinstance(got, tuple) else got
        np.testing.assert_array_equal(out._keras_mask.numpy(), masks[0])
    if check_grad:
        trainable = [v.value for v in ref.trainable_variables]
        non_trainable = [v.value for v in ref.non_trainable_variables]

        grad_kwargs = dict(call_kwargs)
        if masks:  # masks do not ride on JAX tracers: pass Keras' equivalent attention_mask
            assert "attention_mask" not in call_kwargs
            q_mask, v_mask = (list(masks) + [None])[:2]
            full = np.ones((inputs[0].shape[0], inputs[0].shape[1], inputs[1].shape[1]), bool)
            full &= q_mask[:, :, None] if q_mask is not None else True
            full &= v_mask[:, None, :] if v_mask is not None else True
            grad_kwargs["attention_mask"] = full

        def total(*arrays):
            out, _ = ref.stateless_call(trainable, non_trainable,
                                        *[jnp.asarray(a) for a in arrays], training=training,
                                        **grad_kwargs)
            return jnp.sum(out[0] if isinstance(out, tuple) else out)

        argnums = tuple(range(len(inputs)))
        want_grads = jax.jit(jax.grad(total, argnums=argnums))(*[jnp.asarray(a) for a in inputs])
        tensors = torch_args(inputs, grad=True)
        out = ours(*tensors, training=training, **t_kwargs)
        (out[0] if isinstance(out, tuple) else out).sum().backward()
        for t, w in zip(tensors, want_grads):
            np.testing.assert_allclose(t.grad.numpy(), np.asarray(w), atol=ATOL, rtol=1e-4)
    return ref, ours


def _qv(rng, q_shape=(2, 4, 8), v_shape=(2, 5, 6)):
    return _x(rng, *q_shape, scale=1.0, shift=0.0), _x(rng, *v_shape, scale=1.0, shift=0.0)


@pytest.mark.parametrize("training", [False, True], ids=["inference", "training"])
def test_mha_self_attention(keras3, rng, training):
    q, _ = _qv(rng)
    _mha_compare(keras3, lambda L: L.MultiHeadAttention(2, 4), [q, q], rng, check_grad=True,
                 training=training)


def test_mha_cross_attention_with_key(keras3, rng):
    q, v = _qv(rng)
    k = _x(rng, 2, 5, 3, scale=1.0, shift=0.0)
    _mha_compare(keras3, lambda L: L.MultiHeadAttention(2, 4), [q, v, k], rng, check_grad=True)


def test_mha_key_dim_not_dim_over_heads_and_output_shape(keras3, rng):
    q, v = _qv(rng)
    _mha_compare(keras3, lambda L: L.MultiHeadAttention(3, 5, output_shape=7), [q, v], rng,
                 check_grad=True)


def test_mha_value_dim_and_tuple_output_shape_with_scores(keras3, rng):
    # Keras on JAX takes value_dim != key_dim only on its einsum path (scores requested).
    q, v = _qv(rng)
    _mha_compare(keras3, lambda L: L.MultiHeadAttention(3, 5, value_dim=2, output_shape=(3, 2)),
                 [q, v], rng, return_attention_scores=True, check_grad=True)


def _attention_mask(rng, t=4, s=5, batch=2):
    mask = rng.random((batch, t, s)) > 0.4
    mask[0, 1] = False  # one query row attends to nothing
    return mask


def test_mha_attention_mask_fused_path(keras3, rng):
    q, v = _qv(rng)
    _mha_compare(keras3, lambda L: L.MultiHeadAttention(2, 4), [q, v], rng,
                 attention_mask=_attention_mask(rng), check_grad=True)


def test_mha_attention_mask_with_scores(keras3, rng):
    q, v = _qv(rng)
    _mha_compare(keras3, lambda L: L.MultiHeadAttention(2, 4), [q, v], rng,
                 attention_mask=_attention_mask(rng), return_attention_scores=True)


def test_mha_dropout_layer_in_inference_follows_keras_einsum_path(keras3, rng):
    q, v = _qv(rng)
    _mha_compare(keras3, lambda L: L.MultiHeadAttention(2, 4, dropout=0.5), [q, v], rng,
                 attention_mask=_attention_mask(rng))


@pytest.mark.parametrize("scores", [False, True], ids=["fused", "scores"])
def test_mha_causal_mask(keras3, rng, scores):
    q, _ = _qv(rng)
    _mha_compare(keras3, lambda L: L.MultiHeadAttention(2, 4), [q, q], rng,
                 use_causal_mask=True, return_attention_scores=scores, check_grad=True)


def test_mha_causal_mask_with_value_mask_no_bias(keras3, rng):
    q, _ = _qv(rng)
    value_mask = rng.random((2, 4)) > 0.3
    value_mask[:, 0] = True
    _mha_compare(keras3, lambda L: L.MultiHeadAttention(2, 4, use_bias=False), [q, q], rng,
                 use_causal_mask=True, value_mask=value_mask)


def test_mha_masks_carried_by_inputs(keras3, rng):
    q, v = _qv(rng)
    q_mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool)
    v_mask = np.array([[1, 1, 1, 1, 0], [1, 0, 0, 0, 0]], bool)
    _mha_compare(keras3, lambda L: L.MultiHeadAttention(2, 4), [q, v], rng,
                 masks=[q_mask, v_mask], check_grad=True)


def test_mha_gate(keras3, rng):
    q, v = _qv(rng)
    _mha_compare(keras3, lambda L: L.MultiHeadAttention(2, 3, use_gate=True), [q, v], rng,
                 check_grad=True)


def test_mha_sliding_window(keras3, rng):
    q, _ = _qv(rng, q_shape=(2, 6, 8))
    _mha_compare(keras3, lambda L: L.MultiHeadAttention(2, 4, sliding_window=2), [q, q], rng,
                 use_causal_mask=True)


def test_mha_rank4_inputs(keras3, rng):
    q, v = _qv(rng, q_shape=(2, 3, 2, 8), v_shape=(2, 2, 2, 6))
    _mha_compare(keras3, lambda L: L.MultiHeadAttention(2, 4), [q, v], rng,
                 return_attention_scores=True, check_grad=True)


# ------------------------------------------------------------------ Attention layers
ATTENTION_CASES = {
    "dot": (lambda L: L.Attention(), {}),
    "dot_scale_causal_masks": (lambda L: L.Attention(use_scale=True),
                               {"use_causal_mask": True, "masks": True}),
    "dot_scores_key": (lambda L: L.Attention(), {"return_attention_scores": True, "key": True}),
    "concat_scale_scores_masks": (lambda L: L.Attention(use_scale=True, score_mode="concat"),
                                  {"return_attention_scores": True, "masks": True}),
    "dropout_inference": (lambda L: L.Attention(dropout=0.5), {"masks": True}),
    "additive": (lambda L: L.AdditiveAttention(), {}),
    "additive_no_scale_masks_scores": (lambda L: L.AdditiveAttention(use_scale=False),
                                       {"return_attention_scores": True, "masks": True}),
    "additive_causal_key": (lambda L: L.AdditiveAttention(),
                            {"use_causal_mask": True, "key": True}),
}


@pytest.mark.parametrize("case", list(ATTENTION_CASES))
def test_attention_layers_match_keras(keras3, rng, case):
    make, opts = ATTENTION_CASES[case]
    opts = dict(opts)
    q, v = _x(rng, 2, 4, 6, scale=1.0), _x(rng, 2, 5, 6, scale=1.0)
    inputs = [q, v] + ([_x(rng, 2, 5, 6, scale=1.0)] if opts.pop("key", False) else [])
    kwargs = dict(opts)
    if kwargs.pop("masks", False):
        q_mask = rng.random((2, 4)) > 0.3
        v_mask = rng.random((2, 5)) > 0.3
        v_mask[1] = False  # a query that can attend to nothing
        kwargs["mask"] = [q_mask, v_mask]
    ref, ours = make(keras3.layers), make(A)
    ref(inputs)
    ours([torch.from_numpy(a) for a in inputs])
    if ref.weights:
        weights = perturb(ref.get_weights(), rng)
        ref.set_weights(weights)
        ours.set_weights(weights)
    assert ours.count_params() == ref.count_params()
    t_kwargs = dict(kwargs)
    if "mask" in kwargs:
        t_kwargs["mask"] = [torch.from_numpy(m) for m in kwargs["mask"]]
    want = ref(inputs, **kwargs)
    got = ours([torch.from_numpy(a) for a in inputs], **t_kwargs)
    want = want if isinstance(want, tuple) else (want,)
    got = got if isinstance(got, tuple) else (got,)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(to_numpy(g), np.asarray(w), atol=ATOL, rtol=1e-4)


@pytest.mark.parametrize("make", [lambda L: L.Attention(use_scale=True),
                                  lambda L: L.AdditiveAttention()], ids=["dot", "additive"])
def test_attention_input_gradients(keras3, rng, make):
    import jax
    import jax.numpy as jnp

    q, v = _x(rng, 2, 4, 6, scale=1.0), _x(rng, 2, 5, 6, scale=1.0)
    ref, ours = make(keras3.layers), make(A)
    ref([q, v])
    ours([torch.from_numpy(q), torch.from_numpy(v)])
    weights = perturb(ref.get_weights(), rng)
    ref.set_weights(weights)
    ours.set_weights(weights)
    trainable = [w.value for w in ref.trainable_variables]

    def total(a, b):
        out, _ = ref.stateless_call(trainable, [], [a, b], use_causal_mask=True)
        return jnp.sum(out)

    want = jax.jit(jax.grad(total, argnums=(0, 1)))(jnp.asarray(q), jnp.asarray(v))
    tq, tv = torch.from_numpy(q).requires_grad_(), torch.from_numpy(v).requires_grad_()
    ours([tq, tv], use_causal_mask=True).sum().backward()
    for t, w in zip((tq, tv), want):
        np.testing.assert_allclose(t.grad.numpy(), np.asarray(w), atol=ATOL, rtol=1e-4)


# ------------------------------------------------------------------ configs
CONFIG_CASES = {
    "BatchNormalization": (lambda L: L.BatchNormalization(axis=1, momentum=0.9), [(2, 3, 4)]),
    "LayerNormalization": (lambda L: L.LayerNormalization(axis=[1, 2]), [(2, 3, 4)]),
    "GroupNormalization": (lambda L: L.GroupNormalization(groups=-1), [(2, 3, 4)]),
    "UnitNormalization": (lambda L: L.UnitNormalization(axis=[1]), [(2, 3, 4)]),
    "MultiHeadAttention": (lambda L: L.MultiHeadAttention(2, 3, output_shape=5, dropout=0.1,
                                                          kernel_regularizer="l2"),
                           [(2, 3, 4), (2, 5, 6)]),
    "Attention": (lambda L: L.Attention(use_scale=True, score_mode="concat"),
                  [[(2, 3, 4), (2, 5, 4)]]),
    "AdditiveAttention": (lambda L: L.AdditiveAttention(dropout=0.2), [[(2, 3, 4), (2, 5, 4)]]),
}


def _arrays(spec, lib_is_torch):
    def make(shape):
        a = np.zeros(shape, "float32")
        return torch.from_numpy(a) if lib_is_torch else a
    return [[make(s) for s in x] if isinstance(x, list) else make(x) for x in spec]


@pytest.mark.parametrize("case", list(CONFIG_CASES))
def test_get_config_matches_keras(keras3, case):
    make, spec = CONFIG_CASES[case]
    ref, ours = make(keras3.layers), make(A if "Attention" in case else N)
    ref(*_arrays(spec, False))
    ours(*_arrays(spec, True))
    want, got = ref.get_config(), ours.get_config()
    assert list(got) == list(want)
    for key in want:
        if key not in ("name",):
            assert got[key] == want[key], key
    assert type(ours).from_config(got).get_config() == got
