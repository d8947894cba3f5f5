"""keras.ops depth_to_space / space_to_depth / unfold / fold against Keras 3 on JAX: both data
formats, several block sizes, kernel/dilation/padding/stride tuples, integer and bool inputs,
round trips and the errors."""

import numpy as np
import pytest
import torch

import kerastorch.ops as ops

pytestmark = pytest.mark.conformance

R = np.random.default_rng(5)


def check(keras3, name, args, kwargs, rtol=1e-6, atol=1e-6):
    ref = getattr(keras3.ops, name)(*args, **kwargs)
    ours = getattr(ops, name)(*args, **kwargs)
    assert isinstance(ours, torch.Tensor)
    assert keras3.backend.standardize_dtype(ref.dtype) == str(ours.dtype).split(".")[-1]
    ref = np.asarray(keras3.ops.convert_to_numpy(ref))
    got = ops.convert_to_numpy(ours)
    assert got.shape == ref.shape, (got.shape, ref.shape)
    np.testing.assert_allclose(got.astype("float64"), ref.astype("float64"), rtol=rtol,
                               atol=atol)


@pytest.mark.parametrize("fmt", ["channels_last", "channels_first"])
@pytest.mark.parametrize("block", [2, 3])
@pytest.mark.parametrize("dtype", ["float32", "int32", "bool"])
def test_depth_space_round_trip(keras3, fmt, block, dtype):
    c = 2 * block * block
    deep = R.normal(size=(2, 3, 4, c) if fmt == "channels_last" else (2, c, 3, 4))
    deep = (deep > 0) if dtype == "bool" else (deep * 5).astype(dtype)
    check(keras3, "depth_to_space", (deep, block), dict(data_format=fmt))
    wide = ops.convert_to_numpy(ops.depth_to_space(deep, block, data_format=fmt))
    check(keras3, "space_to_depth", (wide, block), dict(data_format=fmt))
    back = ops.space_to_depth(wide, block, data_format=fmt)
    np.testing.assert_array_equal(ops.convert_to_numpy(back), deep)


def test_depth_space_errors():
    with pytest.raises(ValueError, match="block_size"):
        ops.depth_to_space(np.zeros((1, 2, 2, 4)), 1)
    with pytest.raises(ValueError, match="divisible"):
        ops.depth_to_space(np.zeros((1, 2, 2, 6)), 2)
    with pytest.raises(ValueError, match="divisible"):
        ops.space_to_depth(np.zeros((1, 3, 4, 2)), 2)
    with pytest.raises(ValueError, match="4D"):
        ops.depth_to_space(np.zeros((2, 2, 8)), 2)


UNFOLD_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=(2, 3), stride=(2, 1)),
    dict(kernel_size=3, padding=1),
    dict(kernel_size=(2, 3), dilation=(1, 2), padding=(1, 0), stride=(2, 1)),
    dict(kernel_size=(3, 2), dilation=2, padding=(0, 2), stride=3),
]


@pytest.mark.parametrize("kwargs", UNFOLD_CASES)
@pytest.mark.parametrize("dtype", ["float32", "int32", "uint8", "float16"])
def test_unfold(keras3, kwargs, dtype):
    x = (R.normal(size=(2, 3, 7, 8)) * 4).astype(dtype)
    check(keras3, "unfold", (x,), kwargs)


@pytest.mark.parametrize("kwargs", UNFOLD_CASES)
@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_fold(keras3, kwargs, dtype):
    x = (R.normal(size=(2, 3, 7, 8)) * 4).astype(dtype)
    cols = ops.convert_to_numpy(ops.unfold(x, **kwargs))
    ref = np.asarray(keras3.ops.fold(cols, (7, 8), **kwargs))
    got = ops.fold(cols, (7, 8), **kwargs)
    assert str(got.dtype).split(".")[-1] == keras3.backend.standardize_dtype(ref.dtype)
    got = ops.convert_to_numpy(got)
    # Keras on JAX returns only the rows/columns the patches reach when the last stride falls
    # short of output_size; its documented (and symbolic) shape is output_size, as here, the
    # unreached cells zero.
    assert got.shape == (2, 3, 7, 8)
    h, w = ref.shape[2:]
    np.testing.assert_allclose(got[:, :, :h, :w], ref, rtol=1e-5, atol=1e-5)
    assert not got[:, :, h:].any() and not got[:, :, :, w:].any()


def test_fold_of_unfold_counts_overlaps():
    x = np.ones((1, 1, 4, 4), "float32")
    folded = ops.fold(ops.unfold(x, 2), (4, 4), 2)
    want = np.array([[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]], "float32")
    np.testing.assert_array_equal(ops.convert_to_numpy(folded)[0, 0], want)


def test_patch_errors():
    with pytest.raises(ValueError, match="4D"):
        ops.unfold(np.zeros((3, 4, 4)), 2)
    with pytest.raises(ValueError, match="3D"):
        ops.fold(np.zeros((1, 3, 4, 4)), 4, 2)
    with pytest.raises(ValueError, match="divisible"):
        ops.fold(np.zeros((1, 6, 9)), 4, 2)
