"""TorchModuleWrapper, RMSNormalization, adaptive pooling and the colour augmentation layers:
state, config, training behaviour and hand-worked numbers (the Keras comparisons are in
tests/conformance/test_layers2_keras.py)."""

import numpy as np
import pytest
import torch
from torch import nn

import kerastorch as keras
from kerastorch import layers


# ---------------------------------------------------------------------- TorchModuleWrapper
def _wrapped():
    torch.manual_seed(0)
    return layers.TorchModuleWrapper(nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)))


def test_torch_module_wrapper_state_and_weights():
    w = _wrapped()
    assert w.built
    assert list(w.state_dict()) == [
        "module.0.weight", "module.0.bias", "module.1.weight", "module.1.bias",
        "module.1.running_mean", "module.1.running_var", "module.1.num_batches_tracked"]
    assert len(w.trainable_weights) == 4 and len(w.non_trainable_weights) == 3
    assert w.count_params() == 12 + 4 + 4 + 4 + 4 + 4 + 1
    plain = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    plain.load_state_dict({k[len("module."):]: v for k, v in w.state_dict().items()})
    x = torch.randn(5, 3)
    plain.eval()
    torch.testing.assert_close(w(x), plain(x))
    weights = w.get_weights()
    assert weights[0].shape == (4, 3)  # torch's layout, not transposed
    w.set_weights([np.full_like(a, 0.5) for a in weights])
    assert torch.all(w.module[0].weight == 0.5)


def test_torch_module_wrapper_training_flag():
    w = layers.TorchModuleWrapper(nn.Dropout(0.5))
    x = torch.ones(1000)
    assert torch.equal(w(x), x)  # inference outside fit
    out = w(x, training=True)
    assert w.module.training and set(out.unique().tolist()) <= {0.0, 2.0}
    assert (out == 0).sum() > 300
    assert torch.equal(w(x, training=False), x) and not w.module.training


def test_torch_module_wrapper_trainable_false_freezes_module():
    w = _wrapped()
    w.trainable = False
    assert w.trainable_weights == [] and not any(p.requires_grad for p in w.parameters())


def test_torch_module_wrapper_fit_updates_module():
    w = _wrapped()
    model = keras.Sequential([keras.Input((3,)), w, layers.Dense(2)])
    before = w.module[0].weight.detach().clone()
    model.compile("sgd", "mse")
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(8, 3)).astype("float32"), rng.normal(size=(8, 2)).astype(
        "float32"), epochs=1, batch_size=4, verbose=0)
    assert not torch.equal(before, w.module[0].weight.detach())
    assert torch.count_nonzero(w.module[1].running_mean) == 4
    assert int(w.module[1].num_batches_tracked) == 2


def test_torch_module_wrapper_output_shape_and_functional():
    w = layers.TorchModuleWrapper(nn.Linear(3, 5), output_shape=(None, 5))
    assert w.compute_output_shape((None, 3)) == (None, 5)
    inp = keras.Input((3,))
    out = layers.TorchModuleWrapper(nn.Linear(3, 2))(inp)
    assert tuple(out.shape) == (None, 2)


def test_torch_module_wrapper_config_and_safe_mode(tmp_path):
    w = _wrapped()
    cfg = w.get_config()
    assert set(cfg) >= {"name", "trainable", "dtype", "module", "output_shape"}
    assert isinstance(cfg["module"], str)
    with pytest.raises(ValueError, match="safe_mode=False"):
        layers.TorchModuleWrapper.from_config(cfg)
    model = keras.Sequential([keras.Input((3,)), w])
    x = torch.randn(4, 3)
    path = tmp_path / "m.keras"
    model.save(path)
    with pytest.raises(ValueError, match="torch.load"):
        keras.models.load_model(path)
    loaded = keras.models.load_model(path, safe_mode=False)
    torch.testing.assert_close(loaded(x), model(x))


def test_torch_module_wrapper_rejects_bad_modules():
    with pytest.raises(TypeError, match="torch.nn.Module"):
        layers.TorchModuleWrapper(lambda x: x)
    with pytest.raises(ValueError, match="LazyModule"):
        layers.TorchModuleWrapper(nn.LazyLinear(3))
    lazy = nn.LazyLinear(3)
    lazy(torch.ones(2, 4))
    assert layers.TorchModuleWrapper(lazy).count_params() == 15


# ---------------------------------------------------------------------- RMSNormalization
def test_rms_normalization_by_hand_and_state():
    layer = layers.RMSNormalization(epsilon=0.0)
    x = torch.tensor([[3.0, 4.0], [1.0, 1.0]])
    # rms of (3, 4) is sqrt(12.5); of (1, 1) is 1
    expected = torch.tensor([[3.0, 4.0]]) / 12.5 ** 0.5
    torch.testing.assert_close(layer(x)[:1], expected)
    torch.testing.assert_close(layer(x)[1], torch.ones(2))
    assert list(layer.state_dict()) == ["weight"] and layer.axis == [-1]
    assert [w.shape for w in layer.get_weights()] == [(2,)]
    plain = nn.RMSNorm(2, eps=0.0)
    plain.load_state_dict(layer.state_dict())
    torch.testing.assert_close(layer(x), plain(x))
    assert layer.scale is layer.weight


def test_rms_normalization_half_precision_computes_in_float32():
    layer = layers.RMSNormalization()
    x = torch.tensor([[1e3, 2e3]], dtype=torch.float16)
    out = layer(x)
    assert out.dtype == torch.float16 and torch.isfinite(out).all()


@pytest.mark.parametrize("axis", [3, -4, [0, 5]])
def test_rms_normalization_rejects_bad_axis(axis):
    with pytest.raises(ValueError, match="out of bounds"):
        layers.RMSNormalization(axis=axis)(torch.ones(2, 3, 4))


def test_rms_normalization_rejects_non_int_axis():
    with pytest.raises(TypeError, match="axis"):
        layers.RMSNormalization(axis="last")


# ---------------------------------------------------------------------- adaptive pooling
def test_adaptive_pooling_uneven_bins_by_hand():
    x = torch.arange(5.0).reshape(1, 5, 1)  # bins of 5 -> 3: [0, 2), [1, 4), [3, 5)
    avg = layers.AdaptiveAveragePooling1D(3)(x)
    torch.testing.assert_close(avg.flatten(), torch.tensor([0.5, 2.0, 3.5]))
    mx = layers.AdaptiveMaxPooling1D(3)(x)
    torch.testing.assert_close(mx.flatten(), torch.tensor([1.0, 3.0, 4.0]))


@pytest.mark.parametrize("cls,rank", [("AdaptiveAveragePooling2D", 2),
                                      ("AdaptiveMaxPooling3D", 3)])
def test_adaptive_pooling_shapes_and_config(cls, rank):
    layer = getattr(layers, cls)(2)
    assert layer.output_size == (2,) * rank and layer.data_format == "channels_last"
    x = torch.randn(1, *([5] * rank), 3)
    assert tuple(layer(x).shape) == (1, *([2] * rank), 3)
    assert layer.compute_output_shape((None, *([5] * rank), 3)) == (None, *([2] * rank), 3)
    again = getattr(layers, cls).from_config(layer.get_config())
    torch.testing.assert_close(again(x), layer(x))
    first = getattr(layers, cls)(2, data_format="channels_first")
    torch.testing.assert_close(first(x.movedim(-1, 1)), layer(x).movedim(-1, 1))


@pytest.mark.parametrize("size", [(2, 2), "3", 0])
def test_adaptive_pooling_rejects_bad_output_size(size):
    with pytest.raises((TypeError, ValueError), match="output_size"):
        layers.AdaptiveAveragePooling1D(size)
