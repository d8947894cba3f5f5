"""Convolution and pooling layers against Keras 3 on JAX: same weights (set_weights, perturbed),
same outputs; Conv2D also the input gradient; configs key for key."""

import itertools
import types

import numpy as np
import pytest
from layer_harness import compare_with_keras, keras_input_grad, torch_input_grad

import kerastorch
from kerastorch.layers import convolutional, pooling

pytestmark = pytest.mark.conformance

# Our classes, whether or not kerastorch.layers re-exports them yet.
OURS = types.SimpleNamespace(**{
    name: obj for module in (convolutional, pooling) for name, obj in vars(module).items()
    if isinstance(obj, type) and not name.startswith("_") and obj.__module__ == module.__name__
})


def lib(layers_module):
    return OURS if layers_module is kerastorch.layers else layers_module


def make(cls, kwargs):
    """Both libraries' layer. Kernels start at zero (the harness then perturbs every weight, so
    they are N(0, 0.1)): Keras on JAX compiles its random initializers once per kernel shape,
    about a second each on CI's two cores, and the initial values do not matter here."""
    init = {key: "zeros" for key in ("kernel_initializer", "depthwise_initializer",
                                     "pointwise_initializer")
            if key in KERNEL_ARGS.get(cls, ())}
    return lambda L: getattr(lib(L), cls)(**init, **kwargs)


KERNEL_ARGS = {
    **dict.fromkeys(["Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose",
                     "Conv3DTranspose"], ("kernel_initializer",)),
    **dict.fromkeys(["DepthwiseConv1D", "DepthwiseConv2D"], ("depthwise_initializer",)),
    **dict.fromkeys(["SeparableConv1D", "SeparableConv2D"],
                    ("depthwise_initializer", "pointwise_initializer")),
}


# (id, class, kwargs, input shape). Shapes are small and odd/even mixed so that `same` padding
# with strides is asymmetric somewhere.
CASES = [
    ("conv1d", "Conv1D", dict(filters=4, kernel_size=3), (2, 9, 3)),
    ("conv1d_causal_dilated", "Conv1D",
     dict(filters=4, kernel_size=3, padding="causal", dilation_rate=2, activation="relu"),
     (2, 9, 3)),
    ("conv1d_same_s2_cf_groups", "Conv1D",
     dict(filters=4, kernel_size=4, strides=2, padding="same", data_format="channels_first",
          groups=2), (2, 4, 9)),
    ("conv2d", "Conv2D", dict(filters=4, kernel_size=3), (2, 6, 7, 3)),
    ("conv2d_same_s2_asym", "Conv2D",
     dict(filters=4, kernel_size=(3, 2), strides=2, padding="same"), (2, 7, 6, 3)),
    ("conv2d_cf_dilated_same_groups", "Conv2D",
     dict(filters=6, kernel_size=2, padding="same", dilation_rate=2, groups=3,
          data_format="channels_first", activation="tanh"), (2, 3, 8, 7)),
    ("conv2d_valid_s3_nobias", "Conv2D",
     dict(filters=5, kernel_size=(2, 3), strides=(3, 2), use_bias=False), (2, 8, 7, 2)),
    ("conv3d", "Conv3D", dict(filters=3, kernel_size=2), (2, 4, 5, 4, 2)),
    ("conv3d_same_s2_cf", "Conv3D",
     dict(filters=3, kernel_size=(3, 2, 3), strides=2, padding="same",
          data_format="channels_first"), (2, 2, 5, 4, 5)),
    ("conv1d_transpose", "Conv1DTranspose", dict(filters=3, kernel_size=3), (2, 6, 4)),
    ("conv1d_transpose_same_s2_cf", "Conv1DTranspose",
     dict(filters=3, kernel_size=4, strides=2, padding="same", data_format="channels_first"),
     (2, 4, 5)),
    ("conv2d_transpose", "Conv2DTranspose", dict(filters=3, kernel_size=3), (2, 4, 5, 3)),
    ("conv2d_transpose_same_s2", "Conv2DTranspose",
     dict(filters=3, kernel_size=(3, 2), strides=(2, 3), padding="same"), (2, 4, 5, 3)),
    ("conv2d_transpose_valid_outpad_cf", "Conv2DTranspose",
     dict(filters=2, kernel_size=3, strides=2, output_padding=1,
          data_format="channels_first"), (2, 3, 4, 5)),
    ("conv2d_transpose_same_dilated", "Conv2DTranspose",
     dict(filters=2, kernel_size=3, padding="same", dilation_rate=2, activation="relu"),
     (2, 5, 4, 3)),
    ("conv3d_transpose", "Conv3DTranspose", dict(filters=2, kernel_size=2), (2, 3, 4, 3, 2)),
    ("conv3d_transpose_same_s2_cf", "Conv3DTranspose",
     dict(filters=2, kernel_size=3, strides=2, padding="same", data_format="channels_first"),
     (2, 2, 3, 2, 3)),
    ("depthwise1d", "DepthwiseConv1D", dict(kernel_size=3), (2, 8, 3)),
    ("depthwise1d_same_s2_mult_cf", "DepthwiseConv1D",
     dict(kernel_size=4, strides=2, padding="same", depth_multiplier=2,
          data_format="channels_first"), (2, 3, 9)),
    ("depthwise2d", "DepthwiseConv2D", dict(kernel_size=3), (2, 6, 5, 3)),
    ("depthwise2d_same_s2_mult", "DepthwiseConv2D",
     dict(kernel_size=(3, 2), strides=2, padding="same", depth_multiplier=3), (2, 7, 6, 2)),
    ("depthwise2d_cf_dilated", "DepthwiseConv2D",
     dict(kernel_size=2, dilation_rate=2, padding="same", depth_multiplier=2,
          data_format="channels_first", use_bias=False), (2, 3, 6, 5)),
    ("separable1d", "SeparableConv1D", dict(filters=4, kernel_size=3), (2, 8, 3)),
    ("separable1d_same_s2_mult", "SeparableConv1D",
     dict(filters=4, kernel_size=4, strides=2, padding="same", depth_multiplier=2), (2, 9, 3)),
    ("separable2d", "SeparableConv2D", dict(filters=4, kernel_size=3), (2, 6, 5, 3)),
    ("separable2d_same_s2_mult_cf", "SeparableConv2D",
     dict(filters=5, kernel_size=3, strides=2, padding="same", depth_multiplier=2,
          data_format="channels_first", activation="relu"), (2, 3, 7, 6)),
    ("maxpool1d", "MaxPooling1D", dict(), (2, 9, 3)),
    ("maxpool1d_same_p3_s2", "MaxPooling1D", dict(pool_size=3, strides=2, padding="same"),
     (2, 8, 3)),
    ("maxpool2d", "MaxPooling2D", dict(), (2, 7, 6, 3)),
    ("maxpool2d_same_cf", "MaxPooling2D",
     dict(pool_size=3, strides=2, padding="same", data_format="channels_first"),
     (2, 3, 6, 7)),
    ("maxpool3d", "MaxPooling3D", dict(), (2, 4, 5, 4, 2)),
    ("maxpool3d_same", "MaxPooling3D", dict(pool_size=(3, 2, 3), strides=2, padding="same"),
     (2, 4, 5, 4, 2)),
    ("avgpool1d", "AveragePooling1D", dict(pool_size=2), (2, 9, 3)),
    ("avgpool1d_same_p3_s2", "AveragePooling1D",
     dict(pool_size=3, strides=2, padding="same"), (2, 8, 3)),
    ("avgpool1d_same_p3_s1", "AveragePooling1D",
     dict(pool_size=3, strides=1, padding="same"), (2, 8, 3)),
    ("avgpool2d", "AveragePooling2D", dict(pool_size=(2, 3)), (2, 7, 6, 3)),
    ("avgpool2d_same_cf", "AveragePooling2D",
     dict(pool_size=3, strides=2, padding="same", data_format="channels_first"),
     (2, 3, 6, 7)),
    ("avgpool2d_same_even_s1", "AveragePooling2D",
     dict(pool_size=2, strides=1, padding="same"), (2, 5, 4, 3)),
    ("avgpool3d", "AveragePooling3D", dict(pool_size=2), (2, 4, 5, 4, 2)),
    ("avgpool3d_same", "AveragePooling3D",
     dict(pool_size=(3, 2, 3), strides=2, padding="same"), (2, 4, 5, 4, 2)),
    ("gmp1d", "GlobalMaxPooling1D", dict(), (2, 7, 3)),
    ("gmp1d_keepdims_cf", "GlobalMaxPooling1D",
     dict(keepdims=True, data_format="channels_first"), (2, 3, 7)),
    ("gmp2d", "GlobalMaxPooling2D", dict(), (2, 5, 4, 3)),
    ("gmp2d_keepdims_cf", "GlobalMaxPooling2D",
     dict(keepdims=True, data_format="channels_first"), (2, 3, 5, 4)),
    ("gmp3d", "GlobalMaxPooling3D", dict(), (2, 3, 4, 3, 2)),
    ("gmp3d_keepdims_cf", "GlobalMaxPooling3D",
     dict(keepdims=True, data_format="channels_first"), (2, 2, 3, 4, 3)),
    ("gap1d", "GlobalAveragePooling1D", dict(), (2, 7, 3)),
    ("gap1d_keepdims_cf", "GlobalAveragePooling1D",
     dict(keepdims=True, data_format="channels_first"), (2, 3, 7)),
    ("gap2d", "GlobalAveragePooling2D", dict(), (2, 5, 4, 3)),
    ("gap2d_keepdims_cf", "GlobalAveragePooling2D",
     dict(keepdims=True, data_format="channels_first"), (2, 3, 5, 4)),
    ("gap3d", "GlobalAveragePooling3D", dict(), (2, 3, 4, 3, 2)),
    ("gap3d_keepdims_cf", "GlobalAveragePooling3D",
     dict(keepdims=True, data_format="channels_first"), (2, 2, 3, 4, 3)),
]

# Input gradients too where the backward pass is ours to get right: Conv2D (required), and the
# pooling paths that pad or rescale by hand.
GRAD_CASES = {"conv2d", "conv2d_same_s2_asym", "conv2d_cf_dilated_same_groups",
              "conv2d_valid_s3_nobias", "avgpool2d_same_cf", "maxpool2d_same_cf",
              "avgpool1d_same_p3_s2"}


@pytest.mark.parametrize("case_id,cls,kwargs,shape", CASES, ids=[c[0] for c in CASES])
def test_outputs_match_keras(keras3, rng, case_id, cls, kwargs, shape):
    x = rng.normal(size=shape).astype("float32")
    ref, ours = compare_with_keras(keras3, make(cls, kwargs), x, rng=rng)
    if case_id in GRAD_CASES:
        # Not the harness' check_grad: it passes `training=` to Keras' `stateless_call`, which
        # layers whose `call` has no `training` argument (Keras' convs, pools) reject.
        np.testing.assert_allclose(torch_input_grad(ours, x), keras_input_grad(ref, x),
                                   rtol=1e-4, atol=1e-4)
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in ref.get_weights()]
    assert tuple(ours.compute_output_shape((None, *shape[1:]))) == \
        tuple(ref.compute_output_shape((None, *shape[1:])))


@pytest.mark.parametrize("case_id,cls,kwargs,shape", CASES[::3] + CASES[1::6],
                         ids=[c[0] for c in CASES[::3] + CASES[1::6]])
def test_config_matches_keras(keras3, case_id, cls, kwargs, shape):
    ref, ours = getattr(keras3.layers, cls)(**kwargs), getattr(OURS, cls)(**kwargs)
    want, got = ref.get_config(), ours.get_config()
    want.pop("name"), got.pop("name")
    assert got == want
    again = type(ours).from_config(ours.get_config())
    assert again.get_config() == ours.get_config()


def test_conv_transpose_output_sizes_match_keras(keras3, rng):
    """Odd and even lengths, strides 1-3, kernels 2-5, both paddings, default and explicit
    output_padding: Keras' (JAX) output length and values, through torch padding/cropping."""
    cases = [(n, s, k, p, None) for n, s, k, p in
             itertools.product((4, 5), (1, 2, 3), (2, 3, 4, 5), ("same", "valid"))]
    cases += [(5, s, k, p, op) for s, k, p in itertools.product((2, 3), (2, 3), ("same", "valid"))
              for op in range(s)]
    for n, s, k, padding, op in cases:
        x = rng.normal(size=(1, n, 2)).astype("float32")
        compare_with_keras(
            keras3, make("Conv1DTranspose", dict(filters=2, kernel_size=k, strides=s,
                                                  padding=padding, output_padding=op)),
            x, rng=rng)


def test_global_average_pooling_1d_mask(keras3, rng):
    x = rng.normal(size=(3, 6, 4)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1], [0, 1, 0, 1, 0, 0]], dtype=bool)
    compare_with_keras(keras3, lambda L: lib(L).GlobalAveragePooling1D(), x,
                       call_kwargs={"mask": mask})
    compare_with_keras(keras3, lambda L: lib(L).GlobalAveragePooling1D(
        data_format="channels_first", keepdims=True), x.transpose(0, 2, 1).copy(),
        call_kwargs={"mask": mask})
