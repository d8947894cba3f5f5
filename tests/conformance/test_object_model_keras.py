"""Keras' object model around the numbers, as user programs meet it: input casting, unbuilt
layers, symbolic calls, model attributes. Each case runs the same lines in Keras 3 (JAX) and in
kerastorch and compares."""

import numpy as np
import pytest
import torch

import kerastorch

pytestmark = pytest.mark.conformance


def _np(t):
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


INT_CASES = {
    "dense": (lambda L: L.Dense(4), (8, 100), "int64"),
    "conv2d_uint8_image": (lambda L: L.Conv2D(2, 3), (2, 8, 8, 3), "uint8"),
    "lstm": (lambda L: L.LSTM(3), (2, 5, 4), "int32"),
    "batchnorm": (lambda L: L.BatchNormalization(), (4, 3), "int64"),
    # (LayerNormalization is left out: Keras 3.15 on JAX computes its moments of an integer
    # input in integers, giving 1, 0, -1 where the float input gives 1.22, 0, -1.22.)
    "dense_bool": (lambda L: L.Dense(2), (3, 4), "bool"),
}


@pytest.mark.parametrize("case", list(INT_CASES))
def test_integer_inputs_are_promoted_where_the_layer_does_float_math(keras3, case):
    """`Dense(64)(np.random.randint(0, 2, (8, 100)))`: Keras promotes the integers to floats."""
    make, shape, dtype = INT_CASES[case]
    x = np.random.default_rng(0).integers(0, 5, shape).astype(dtype)
    ref, ours = make(keras3.layers), make(kerastorch.layers)
    ref(x)
    ours(x)
    ours.set_weights(ref.get_weights())
    expected = keras3.ops.convert_to_numpy(ref(x))
    got = _np(ours(x))
    assert str(got.dtype) == str(expected.dtype) == "float32"
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_embedding_keeps_integer_ids_and_functional_int_inputs(keras3):
    """An int Input feeding an Embedding then a Dense: ids stay integers, the Dense promotes."""
    ids = np.array([[1, 2, 3], [4, 0, 1]], "int32")

    def build(lib):
        inputs = lib.Input((3,), dtype="int32")
        counts = lib.Input((3,), dtype="int32")
        x = lib.layers.Embedding(5, 2)(inputs)
        y = lib.layers.Dense(2)(counts)
        out = lib.layers.Concatenate()([lib.layers.Flatten()(x), y])
        return lib.Model([inputs, counts], out)

    ref, ours = build(keras3), build(kerastorch)
    ours.set_weights(ref.get_weights())
    expected = ref.predict([ids, ids * 2], verbose=0)
    np.testing.assert_allclose(ours.predict([ids, ids * 2], verbose=0), expected, rtol=1e-6)
