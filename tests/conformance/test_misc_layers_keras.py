"""Core-extra, activation, regularization, reshaping and merging layers against Keras 3 on JAX:
same weights (perturbed, copied with set_weights), same outputs, masks and input gradients."""

import numpy as np
import pytest
import torch

import kerastorch
from kerastorch.layers import activation_layers, core_extra, merging, regularization, reshaping
from layer_harness import compare_with_keras, to_numpy

pytestmark = pytest.mark.conformance

_MODULES = (core_extra, activation_layers, regularization, reshaping, merging)


class _Ours:
    """`kerastorch.layers` plus this issue's modules (until the lead exports them)."""

    def __getattr__(self, name):
        for module in _MODULES:
            if hasattr(module, name):
                return getattr(module, name)
        return getattr(kerastorch.layers, name)


OURS = _Ours()


def _compare(keras3, make, inputs, **kwargs):
    """`compare_with_keras` with our classes resolved through `OURS`."""
    def build(lib):
        return make(OURS if lib is kerastorch.layers else lib)
    return compare_with_keras(keras3, build, inputs, **kwargs)


def _normal(*shape):
    return lambda rng: rng.normal(size=shape).astype("float32")


def _ints(high, *shape):
    return lambda rng: rng.integers(0, high, size=shape).astype("int32")


def _many(*shapes):
    return lambda rng: [rng.normal(size=s).astype("float32") for s in shapes]


X2, X3, X4, X5 = (2, 6), (2, 5, 4), (2, 5, 6, 3), (2, 4, 5, 6, 3)

# id -> (make(layers), inputs(rng), whether the input gradient is compared too)
CASES = {
    # core
    "einsum_dense": (lambda L: L.EinsumDense("ab,bc->ac", 4, bias_axes="c"), _normal(*X2), True),
    "einsum_dense_seq_relu": (lambda L: L.EinsumDense("abc,cd->abd", (None, 6), bias_axes="d",
                                                      activation="relu"), _normal(*X3), False),
    "einsum_dense_left_ellipsis": (lambda L: L.EinsumDense("...b,bc->...c", 6, bias_axes="c"),
                                   _normal(*X4), False),
    "einsum_dense_right_ellipsis": (lambda L: L.EinsumDense("ab...,bc->ac...", 7, bias_axes="c"),
                                    _normal(*X3), True),
    "einsum_dense_multi_out": (lambda L: L.EinsumDense("abc,cde->abde", (5, 2, 3),
                                                       bias_axes="de"), _normal(*X3), False),
    "embedding": (lambda L: L.Embedding(10, 4), _ints(10, 3, 5), False),
    "embedding_mask_zero": (lambda L: L.Embedding(7, 3, mask_zero=True), _ints(7, 3, 5), False),
    "masking": (lambda L: L.Masking(), lambda rng: _with_padding(rng, 0.0), True),
    "masking_value": (lambda L: L.Masking(mask_value=-1.0), lambda rng: _with_padding(rng, -1.0),
                      False),
    "lambda": (lambda L: L.Lambda(lambda x: x * x + 1.0), _normal(*X3), False),
    "lambda_arguments": (lambda L: L.Lambda(lambda x, k: x * k, arguments={"k": 3.0}),
                         _normal(*X3), False),
    # activations
    "relu": (lambda L: L.ReLU(), _normal(*X3), False),
    "relu_all_args": (lambda L: L.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.2),
                      _normal(*X3), True),
    "relu6": (lambda L: L.ReLU(max_value=6), lambda rng: 5 * rng.normal(size=X3).astype("f4"),
              False),
    "leaky_relu": (lambda L: L.LeakyReLU(), _normal(*X3), False),
    "leaky_relu_slope": (lambda L: L.LeakyReLU(negative_slope=0.05), _normal(*X3), False),
    "prelu": (lambda L: L.PReLU(), _normal(*X3), False),
    "prelu_channelwise": (lambda L: L.PReLU(shared_axes=[1, 2]), _normal(*X4), True),
    "prelu_channels_first": (lambda L: L.PReLU(shared_axes=[2, 3]), _normal(*X4), False),
    "prelu_single": (lambda L: L.PReLU(shared_axes=[1, 2, 3]), _normal(*X4), False),
    "prelu_seq": (lambda L: L.PReLU(shared_axes=1, alpha_initializer="ones"), _normal(*X3),
                  False),
    "elu": (lambda L: L.ELU(), _normal(*X3), False),
    "elu_alpha": (lambda L: L.ELU(alpha=0.5), _normal(*X3), True),
    "softmax": (lambda L: L.Softmax(), _normal(*X3), False),
    "softmax_axis1": (lambda L: L.Softmax(axis=1), _normal(*X3), False),
    "softmax_two_axes": (lambda L: L.Softmax(axis=(1, 2)), _normal(*X3), True),
    # regularization (outputs compared in inference; training statistics in test_layers_misc)
    "spatial_dropout1d": (lambda L: L.SpatialDropout1D(0.5), _normal(*X3), False),
    "spatial_dropout1d_seed": (lambda L: L.SpatialDropout1D(0.2, seed=3), _normal(*X3), False),
    "spatial_dropout2d": (lambda L: L.SpatialDropout2D(0.5), _normal(*X4), False),
    "spatial_dropout2d_cf": (lambda L: L.SpatialDropout2D(0.3, data_format="channels_first"),
                             _normal(*X4), False),
    "spatial_dropout3d": (lambda L: L.SpatialDropout3D(0.5), _normal(*X5), False),
    "spatial_dropout3d_cf": (lambda L: L.SpatialDropout3D(0.3, data_format="channels_first"),
                             _normal(*X5), False),
    "gaussian_noise": (lambda L: L.GaussianNoise(0.5), _normal(*X3), False),
    "gaussian_noise_seed": (lambda L: L.GaussianNoise(0.1, seed=1), _normal(*X4), False),
    "gaussian_dropout": (lambda L: L.GaussianDropout(0.5), _normal(*X3), False),
    "gaussian_dropout_seed": (lambda L: L.GaussianDropout(0.2, seed=1), _normal(*X4), False),
    "alpha_dropout": (lambda L: L.AlphaDropout(0.5), _normal(*X3), False),
    "alpha_dropout_noise_shape": (lambda L: L.AlphaDropout(0.2, noise_shape=(None, 1, 4)),
                                  _normal(*X3), False),
    "activity_regularization": (lambda L: L.ActivityRegularization(), _normal(*X3), False),
    "activity_regularization_l1l2": (lambda L: L.ActivityRegularization(l1=0.1, l2=0.01),
                                     _normal(*X3), False),
    # reshaping
    "permute": (lambda L: L.Permute((2, 1)), _normal(*X3), False),
    "permute_4d": (lambda L: L.Permute((3, 1, 2)), _normal(*X4), False),
    "repeat_vector": (lambda L: L.RepeatVector(3), _normal(*X2), False),
    "repeat_vector_1": (lambda L: L.RepeatVector(1), _normal(*X2), False),
    "cropping1d": (lambda L: L.Cropping1D(), _normal(*X3), False),
    "cropping1d_asym": (lambda L: L.Cropping1D((0, 2)), _normal(*X3), False),
    "cropping2d": (lambda L: L.Cropping2D(), _normal(*X4), False),
    "cropping2d_asym": (lambda L: L.Cropping2D(((1, 0), (2, 1))), _normal(*X4), False),
    "cropping2d_cf": (lambda L: L.Cropping2D((1, 2), data_format="channels_first"),
                      lambda rng: rng.normal(size=(2, 3, 5, 6)).astype("f4"), False),
    "cropping3d": (lambda L: L.Cropping3D(), _normal(*X5), False),
    "cropping3d_asym_cf": (lambda L: L.Cropping3D(((1, 0), (0, 2), 1),
                                                  data_format="channels_first"),
                           lambda rng: rng.normal(size=(2, 3, 4, 5, 6)).astype("f4"), False),
    "zero_padding1d": (lambda L: L.ZeroPadding1D(), _normal(*X3), False),
    "zero_padding1d_asym_cf": (lambda L: L.ZeroPadding1D((1, 2), data_format="channels_first"),
                               _normal(*X3), False),
    "zero_padding2d": (lambda L: L.ZeroPadding2D(), _normal(*X4), False),
    "zero_padding2d_asym": (lambda L: L.ZeroPadding2D(((1, 0), (2, 3))), _normal(*X4), False),
    "zero_padding2d_cf": (lambda L: L.ZeroPadding2D((1, 2), data_format="channels_first"),
                          _normal(*X4), False),
    "zero_padding3d": (lambda L: L.ZeroPadding3D(), _normal(*X5), False),
    "zero_padding3d_asym_cf": (lambda L: L.ZeroPadding3D(((1, 0), (0, 2), 1),
                                                         data_format="channels_first"),
                               _normal(*X5), False),
    "upsampling1d": (lambda L: L.UpSampling1D(), _normal(*X3), False),
    "upsampling1d_3": (lambda L: L.UpSampling1D(3), _normal(*X3), False),
    "upsampling2d": (lambda L: L.UpSampling2D(), _normal(*X4), False),
    "upsampling2d_cf": (lambda L: L.UpSampling2D((3, 2), data_format="channels_first"),
                        _normal(*X4), False),
    "upsampling2d_bilinear": (lambda L: L.UpSampling2D((2, 3), interpolation="bilinear"),
                              _normal(*X4), True),
    "upsampling2d_bilinear_cf": (lambda L: L.UpSampling2D(3, interpolation="bilinear",
                                                          data_format="channels_first"),
                                 _normal(*X4), False),
    "upsampling2d_bicubic": (lambda L: L.UpSampling2D((3, 2), interpolation="bicubic"),
                             _normal(*X4), True),
    "upsampling2d_lanczos3": (lambda L: L.UpSampling2D((2, 3), interpolation="lanczos3"),
                              _normal(*X4), True),
    "upsampling2d_lanczos5": (lambda L: L.UpSampling2D(2, interpolation="lanczos5"),
                              _normal(*X4), False),
    "upsampling3d": (lambda L: L.UpSampling3D(), _normal(*X5), False),
    "upsampling3d_cf": (lambda L: L.UpSampling3D((1, 2, 3), data_format="channels_first"),
                        _normal(*X5), False),
    # merging
    "add": (lambda L: L.Add(), _many(X3, X3), False),
    "add_three_broadcast_ranks": (lambda L: L.Add(), _many(X3, (2, 1, 4), (2, 4)), False),
    "subtract": (lambda L: L.Subtract(), _many(X3, X3), False),
    "subtract_broadcast": (lambda L: L.Subtract(), _many(X3, (2, 5, 1)), False),
    "multiply": (lambda L: L.Multiply(), _many(X3, X3), False),
    "multiply_three": (lambda L: L.Multiply(), _many(X3, X3, (2, 4)), False),
    "average": (lambda L: L.Average(), _many(X3, X3), False),
    "average_three": (lambda L: L.Average(), _many(X3, X3, X3), False),
    "maximum": (lambda L: L.Maximum(), _many(X3, X3), False),
    "maximum_three": (lambda L: L.Maximum(), _many(X3, X3, X3), True),
    "minimum": (lambda L: L.Minimum(), _many(X3, X3), False),
    "minimum_broadcast": (lambda L: L.Minimum(), _many(X3, (2, 4)), True),
    "concatenate": (lambda L: L.Concatenate(), _many(X3, (2, 5, 2)), False),
    "concatenate_axis1": (lambda L: L.Concatenate(axis=1), _many(X3, (2, 3, 4), X3), False),
    "dot_vectors": (lambda L: L.Dot(axes=1), _many(X2, X2), False),
    "dot_normalize": (lambda L: L.Dot(axes=1, normalize=True), _many(X2, X2), True),
    "dot_sequences": (lambda L: L.Dot(axes=(2, 2)), _many(X3, (2, 3, 4)), False),
    "dot_matmul_normalize": (lambda L: L.Dot(axes=(1, 2), normalize=True),
                             _many(X3, (2, 2, 5)), False),
    "dot_vector_sequence": (lambda L: L.Dot(axes=-1), _many((2, 4), X3), False),
    "dot_4d": (lambda L: L.Dot(axes=(3, 2)), _many(X4, (2, 5, 3)), False),
}

def _with_padding(rng, value):
    x = rng.normal(size=X3).astype("float32")
    x[0, 1] = value
    x[1, 3:] = value
    x[1, 0, 0] = value  # a partly padded step stays unmasked
    return x


@pytest.mark.parametrize("name", list(CASES))
def test_outputs_match(keras3, rng, name):
    """Inference outputs (for these layers training mode is the same, or random: see
    test_layers_misc), and for the cases flagged, the input gradients."""
    make, inputs, check_grad = CASES[name]
    x = inputs(rng)
    ref, ours = _compare(keras3, make, x, training=False, rng=rng)
    if check_grad:
        _assert_input_gradients_match(keras3, ref, ours, x, rng)


def _assert_input_gradients_match(keras3, ref, ours, x, rng):
    """d sum(w * layer(x)) / dx with a random `w` (a plain sum hides softmax' gradient)."""
    import jax
    import jax.numpy as jnp

    xs = x if isinstance(x, list) else [x]
    out_shape = np.shape(keras3.ops.convert_to_numpy(ref(x)))
    w = rng.normal(size=out_shape).astype("float32")

    def keras_loss(*arrays):
        return jnp.sum(ref(list(arrays) if isinstance(x, list) else arrays[0]) * w)

    expected = jax.grad(keras_loss, argnums=tuple(range(len(xs))))(*map(jnp.asarray, xs))
    ts = [torch.from_numpy(a).requires_grad_(True) for a in xs]
    out = ours(ts if isinstance(x, list) else ts[0])
    (out * torch.from_numpy(w)).sum().backward()
    for t, e in zip(ts, expected):
        np.testing.assert_allclose(t.grad.numpy(), np.asarray(e), rtol=1e-4, atol=1e-4)


def test_embedding_mask_matches_keras(keras3, rng):
    ids = rng.integers(0, 4, size=(4, 6)).astype("int32")
    ref, ours = _compare(keras3, lambda L: L.Embedding(4, 3, mask_zero=True), ids)
    out = ours(torch.from_numpy(ids))
    np.testing.assert_array_equal(out._keras_mask.numpy(),
                                  keras3.ops.convert_to_numpy(ref.compute_mask(ids)))
    assert ours(torch.from_numpy(ids)).__dict__.get("_keras_mask") is not None
    plain = OURS.Embedding(4, 3)
    assert plain(torch.from_numpy(ids)).__dict__.get("_keras_mask") is None


@pytest.mark.parametrize("mask_value", [0.0, -1.0])
def test_masking_mask_and_outputs_match(keras3, rng, mask_value):
    x = _with_padding(rng, mask_value)
    ref, ours = _compare(keras3, lambda L: L.Masking(mask_value=mask_value), x)
    out = ours(torch.from_numpy(x))
    np.testing.assert_array_equal(out._keras_mask.numpy(),
                                  keras3.ops.convert_to_numpy(ref.compute_mask(x)))
    np.testing.assert_array_equal(to_numpy(out), keras3.ops.convert_to_numpy(ref(x)))


def test_softmax_with_mask_matches_keras(keras3, rng):
    x = rng.normal(size=(2, 3, 5)).astype("float32")
    for mask in (rng.random(size=(2, 3, 5)) > 0.4, rng.random(size=(3, 5)) > 0.3,
                 (rng.random(size=(2, 1, 5)) > 0.5).astype("float32")):
        expected = keras3.ops.convert_to_numpy(keras3.layers.Softmax()(x, mask=mask))
        got = OURS.Softmax()(torch.from_numpy(x), mask=torch.from_numpy(mask))
        np.testing.assert_allclose(to_numpy(got), expected, atol=1e-6)


@pytest.mark.parametrize("cls,kwargs", [
    ("Maximum", {}), ("Minimum", {}), ("Multiply", {}), ("Add", {}), ("Average", {}),
    ("Subtract", {}), ("Concatenate", {}), ("Concatenate", {"axis": 1})])
def test_merging_masked_inputs_matches_keras(keras3, rng, cls, kwargs):
    """Masks from `Masking` flow into the merge: Keras' masked max/min/product and its OR of
    the masks."""
    x, y = _with_padding(rng, 0.0), _with_padding(rng, 0.0)[::-1].copy()
    a, b = keras3.Input(X3[1:]), keras3.Input(X3[1:])
    merged = getattr(keras3.layers, cls)(**kwargs)(
        [keras3.layers.Masking()(a), keras3.layers.Masking()(b)])
    expected = keras3.ops.convert_to_numpy(keras3.Model([a, b], merged)([x, y]))
    masks = [np.any(x != 0, -1), np.any(y != 0, -1)]
    expected_mask = keras3.ops.convert_to_numpy(
        getattr(keras3.layers, cls)(**kwargs).compute_mask([x, y], masks))
    masked = [OURS.Masking()(torch.from_numpy(v)) for v in (x, y)]
    got = getattr(OURS, cls)(**kwargs)(masked)
    np.testing.assert_allclose(to_numpy(got), expected, atol=1e-6)
    np.testing.assert_array_equal(got._keras_mask.numpy(), expected_mask)


@pytest.mark.parametrize("l1,l2", [(0.1, 0.0), (0.01, 0.2)])
def test_activity_regularization_loss_matches_keras(keras3, rng, l1, l2):
    x = rng.normal(size=X3).astype("float32")
    ref = keras3.layers.ActivityRegularization(l1=l1, l2=l2)
    expected = keras3.ops.convert_to_numpy(ref(x, training=True))
    ours = OURS.ActivityRegularization(l1=l1, l2=l2)
    np.testing.assert_array_equal(to_numpy(ours(torch.from_numpy(x), training=True)), expected)
    assert len(ours.losses) == len(ref.losses) == 1
    np.testing.assert_allclose(float(ours.losses[0]), float(ref.losses[0]), rtol=1e-5)


@pytest.mark.parametrize("name", sorted(CASES))
def test_config_matches_keras(keras3, name):
    make = CASES[name][0]
    ref, ours = make(keras3.layers), make(OURS)
    expected, got = ref.get_config(), ours.get_config()
    for config_ in (expected, got):
        config_.pop("name")
        config_.pop("function", None)  # Lambda: marshalled bytecode of two different lambdas
    assert got == expected


def test_einsum_dense_kernel_fans_match_keras(keras3):
    """Keras' glorot fans for an einsum kernel are products over its input / output axes."""
    ref = keras3.layers.EinsumDense("abc,cde->abde", (5, 8, 16))
    ref.build((None, 5, 4))
    ours = OURS.EinsumDense("abc,cde->abde", (5, 8, 16))
    ours.build((None, 5, 4))
    limit = np.sqrt(6 / (4 + 8 * 16))
    for kernel in (keras3.ops.convert_to_numpy(ref.kernel), ours.get_weights()[0]):
        assert kernel.shape == (4, 8, 16)
        assert 0.9 * limit < np.abs(kernel).max() <= limit
    assert ours.kernel_initializer.input_axes is None  # the config keeps Keras' None


def test_embedding_initializer_range_matches_keras(keras3):
    ours = OURS.Embedding(200, 50)
    ours.build(None)
    ref = keras3.layers.Embedding(200, 50)
    ref.build()
    for w in (ours.get_weights()[0], keras3.ops.convert_to_numpy(ref.embeddings)):
        assert 0.045 < np.abs(w).max() <= 0.05
