"""kerastorch.utils: to_categorical and normalize, by hand and against real Keras."""

import numpy as np
import pytest
import torch

from kerastorch import config, utils


def test_reexports():
    assert utils.set_random_seed is config.set_random_seed
    assert callable(utils.to_categorical) and callable(utils.normalize)


def test_to_categorical_by_hand():
    got = utils.to_categorical([0, 2, 1], num_classes=4)
    np.testing.assert_array_equal(got, [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0]])
    assert isinstance(got, np.ndarray) and got.dtype == np.float64  # Keras' numpy path
    assert utils.to_categorical(np.array([[1], [0]])).shape == (2, 2)  # (n, 1) -> (n, C)
    assert utils.to_categorical(np.zeros((2, 3), dtype=int), 5).shape == (2, 3, 5)
    assert utils.to_categorical(np.array([3])).shape == (1, 4)  # inferred: max + 1
    assert utils.to_categorical(np.array([[2]])).shape == (1, 3)


def test_to_categorical_out_of_range():
    with pytest.raises(IndexError, match="num_classes=3"):
        utils.to_categorical([0, 3], num_classes=3)


def test_to_categorical_tensor():
    got = utils.to_categorical(torch.tensor([[0], [2], [-1]]), num_classes=3)
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float32
    torch.testing.assert_close(got, torch.tensor([[1.0, 0, 0], [0, 0, 1], [0, 0, 0]]))
    assert utils.to_categorical(torch.tensor([1, 4])).shape == (2, 5)


@pytest.mark.parametrize("labels, num_classes", [
    ([0, 1, 2, 3], None),
    ([[1], [0], [4]], 6),
    ([[0, 1], [2, 2]], 3),
    ([5, 1, -1], None),  # Keras lets -1 mean the last class on its numpy path
    (np.array([[[3]]]), None),
    (np.array([7], dtype=np.uint8), 10),
])
def test_to_categorical_matches_keras(keras3, labels, num_classes):
    want = keras3.utils.to_categorical(np.array(labels), num_classes=num_classes)
    got = utils.to_categorical(np.array(labels), num_classes=num_classes)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_normalize_by_hand():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(utils.normalize(x), [[0.6, 0.8], [0.0, 0.0]])
    np.testing.assert_allclose(utils.normalize(x, order=1), [[3 / 7, 4 / 7], [0.0, 0.0]])
    np.testing.assert_allclose(utils.normalize(np.array([[3.0, 1.0], [4.0, 0.0]]), axis=0),
                               [[0.6, 1.0], [0.8, 0.0]])
    np.testing.assert_allclose(utils.normalize(np.array([3.0, 4.0]), axis=None), [0.6, 0.8])
    assert utils.normalize(x.astype(np.float32)).dtype == np.float32


def test_normalize_tensor():
    x = torch.tensor([[3.0, 4.0], [0.0, 0.0]])
    got = utils.normalize(x)
    assert isinstance(got, torch.Tensor)
    torch.testing.assert_close(got, torch.tensor([[0.6, 0.8], [0.0, 0.0]]))
    torch.testing.assert_close(utils.normalize(x, order=1), torch.tensor([[3 / 7, 4 / 7],
                                                                         [0.0, 0.0]]))
    with pytest.raises(ValueError, match="order"):
        utils.normalize(x, order=0)


@pytest.mark.parametrize("axis, order", [(-1, 2), (1, 1), (-1, 3), (2, 2)])
def test_normalize_matches_keras(keras3, rng, axis, order):
    x = rng.normal(size=(4, 3, 5)).astype("float32")
    x[0, 0] = 0.0
    want = keras3.utils.normalize(x, axis=axis, order=order)
    got = utils.normalize(x, axis=axis, order=order)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    # Tensors follow Keras' ops.normalize.
    want_op = np.asarray(keras3.ops.normalize(x, axis=axis, order=order))
    got_op = utils.normalize(torch.from_numpy(x), axis=axis, order=order).numpy()
    np.testing.assert_allclose(got_op, want_op, rtol=1e-5, atol=1e-6)
