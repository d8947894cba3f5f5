"""Input dtypes as PyTorch users meet them: `model.double()`, float16/float64 tensors and
integer tensors into built models, mixed precision left to the step's autocast."""

import numpy as np
import torch

import kerastorch as keras


def _mlp():
    return keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="tanh"),
                             keras.layers.Dense(2)])


def test_model_double_runs_float64_and_float_goes_back():
    model = _mlp()
    x = torch.randn(3, 5, dtype=torch.float64)
    w = [v.numpy() for v in model.weights]
    model.double()
    assert [layer.dtype for layer in model.layers] == ["float64", "float64"]
    y = model(x)
    assert y.dtype == torch.float64
    # The float64 forward, worked out in numpy from the same weights.
    expected = np.tanh(x.numpy() @ w[0] + w[1]) @ w[2] + w[3]
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-12, atol=1e-12)
    model.float()
    assert [layer.dtype for layer in model.layers] == ["float32", "float32"]
    assert model(x).dtype == torch.float32


def test_built_sequential_casts_float64_float16_and_integer_tensors():
    model = _mlp()
    x = torch.randn(3, 5)
    ref = model(x).detach()
    for dtype in (torch.float64, torch.float16, torch.int64):
        xin = x.to(dtype)
        out = model(xin)
        assert out.dtype == torch.float32
        np.testing.assert_allclose(out.detach().numpy(), model(xin.float()).detach().numpy(),
                                   rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(model(x.double()).detach().numpy(), ref.numpy(), rtol=1e-6,
                               atol=1e-6)


def test_mask_survives_the_cast():
    x = np.array([[1.0, 2.0, 0.0], [3.0, 0.0, 0.0]])[..., None]  # float64, padded with 0
    masking = keras.layers.Masking(0.0)
    lstm = keras.layers.LSTM(2)
    masked = masking(torch.from_numpy(x))
    assert masked._keras_mask.tolist() == [[True, True, False], [True, False, False]]
    out = lstm(masked)
    # The last step of a masked sequence equals the run over its unmasked prefix.
    short = lstm(torch.tensor([[3.0]]).reshape(1, 1, 1))
    np.testing.assert_allclose(out[1:].detach().numpy(), short.detach().numpy(), rtol=1e-6)


def test_mixed_precision_policies_are_left_to_autocast():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = _mlp()
        model.compile(optimizer="sgd", loss="mse")
        x = np.random.default_rng(0).normal(size=(16, 5)).astype("float32")
        y = np.zeros((16, 2), "float32")
        history = model.fit(x, y, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])
        assert all(str(v.dtype) == "float32" for v in model.weights)
        assert model.layers[0]._set_input_cast() is None  # mixed: no per-layer cast
    finally:
        keras.mixed_precision.set_global_policy("float32")
