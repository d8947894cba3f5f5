import numpy as np
import pytest
import torch
from torch import nn

from kerastorch import layers
from kerastorch.utils.naming import reset_uids


def test_automatic_unique_names():
    reset_uids()
    a, b, c = layers.Dense(2), layers.Dense(2), layers.Dense(2, name="head")
    assert (a.name, b.name, c.name) == ("dense", "dense_1", "head")


def test_dense_is_a_module_with_torch_layout():
    d = layers.Dense(3)
    y = d(torch.ones(4, 5))
    assert isinstance(d, nn.Module) and y.shape == (4, 3)
    assert d.weight.shape == (3, 5) and d.bias.shape == (3,)
    assert [w.shape for w in d.get_weights()] == [(5, 3), (3,)]
    np.testing.assert_array_equal(d.get_weights()[0], d.weight.detach().numpy().T)
    assert set(d.state_dict()) == {"weight", "bias"}
    linear = nn.Linear(5, 3)
    linear.load_state_dict(d.state_dict())
    torch.testing.assert_close(linear(torch.ones(4, 5)), y)


def test_glorot_uniform_and_zero_bias_defaults():
    d = layers.Dense(300)
    d.build((None, 200))
    limit = np.sqrt(6 / (200 + 300))
    kernel, bias = d.get_weights()
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit
    assert not bias.any()


def test_set_weights_roundtrip_and_errors():
    d = layers.Dense(2)
    d.build((None, 3))
    k = np.arange(6, dtype="float32").reshape(3, 2)
    d.set_weights([k, np.array([1.0, -1.0], "float32")])
    out = d(torch.eye(3)).detach().numpy()
    np.testing.assert_allclose(out, k + [1.0, -1.0])
    with pytest.raises(ValueError, match="expected 2 weights"):
        d.set_weights([k])
    with pytest.raises(ValueError, match=r"'kernel' has shape \(3, 2\)"):
        d.set_weights([k.T, np.zeros(2)])
    np.testing.assert_array_equal(d.get_weights()[0], k)  # unchanged by the failed calls


def test_wrong_input_width_names_layer_and_shapes():
    d = layers.Dense(4, name="clf")
    d(torch.ones(2, 8))
    with pytest.raises(ValueError, match=r"layer 'clf'.*value 8.*\(2, 5\)"):
        d(torch.ones(2, 5))


def test_count_params_and_trainable_flag():
    d = layers.Dense(4)
    with pytest.raises(ValueError, match="isn't built"):
        d.count_params()
    d.build((None, 3))
    assert d.count_params() == 16
    assert len(d.trainable_weights) == 2 and not d.non_trainable_weights
    d.trainable = False
    assert not d.trainable_weights and len(d.non_trainable_weights) == 2
    assert not d.weight.requires_grad


def test_input_shape_kwargs_and_unknown_kwargs():
    assert layers.Dense(2, input_shape=(5,))._batch_input_shape == (None, 5)
    assert layers.Dense(2, input_dim=7)._batch_input_shape == (None, 7)
    with pytest.raises(TypeError, match="Unrecognized keyword arguments.*bogus"):
        layers.Dense(2, bogus=1)
    with pytest.raises(ValueError, match="units"):
        layers.Dense(0)


def test_dropout_follows_training_flag():
    drop = layers.Dropout(0.5)
    x = torch.ones(1000)
    assert torch.equal(drop(x), x)  # inference by default, as Keras outside fit
    y = drop(x, training=True)
    assert set(torch.unique(y).tolist()) <= {0.0, 2.0} and 300 < int((y == 0).sum()) < 700


def test_flatten_reshape_shapes():
    x = torch.arange(24.0).reshape(2, 3, 4)
    assert layers.Flatten()(x).shape == (2, 12)
    assert layers.Reshape((4, 3))(x).shape == (2, 4, 3)
    assert layers.Reshape((-1, 2)).compute_output_shape((None, 3, 4)) == (None, 6, 2)
    assert layers.Flatten().compute_output_shape((None, 3, 4)) == (None, 12)
    with pytest.raises(ValueError, match="target_shape"):
        layers.Reshape((5,)).compute_output_shape((None, 3, 4))


def test_numpy_float64_input_is_cast():
    d = layers.Dense(2)
    out = d(np.ones((3, 4)))
    assert out.dtype == torch.float32


def test_config_roundtrip():
    d = layers.Dense(3, activation="relu", name="d")
    config = d.get_config()
    assert config["units"] == 3 and config["activation"] == "relu"
    clone = layers.Dense.from_config(config)
    assert clone.units == 3 and clone.name == "d"


def test_get_weights_returns_copies_that_training_does_not_change():
    """Keras' get_weights gives copies: a snapshot taken before `fit` stays the start weights
    (a CPU tensor's `.numpy()` would share memory with the parameters)."""
    import kerastorch
    model = kerastorch.Sequential([kerastorch.Input((3,)), kerastorch.layers.Dense(2)])
    snapshot = model.get_weights()
    before = [w.copy() for w in snapshot]
    model.compile(optimizer=kerastorch.optimizers.SGD(0.5), loss="mse")
    model.fit(np.ones((4, 3), "float32"), np.zeros((4, 2), "float32"), verbose=0)
    for a, b in zip(snapshot, before):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(model.get_weights()[0], before[0])
    snapshot[0][...] = 7.0  # writing to the copy leaves the model alone
    assert not np.any(model.get_weights()[0] == 7.0)
