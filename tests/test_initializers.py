import math

import numpy as np
import pytest
import torch

from kerastorch import config, initializers
from kerastorch.initializers import compute_fans

RANDOM = ["RandomNormal", "RandomUniform", "TruncatedNormal", "VarianceScaling", "GlorotUniform",
          "GlorotNormal", "HeUniform", "HeNormal", "LecunUniform", "LecunNormal", "Orthogonal"]


def test_glorot_uniform_bounds_and_std():
    w = initializers.GlorotUniform(seed=0)((300, 500))
    limit = math.sqrt(6 / (300 + 500))
    assert w.shape == (300, 500) and w.dtype == torch.float32
    assert w.abs().max() <= limit
    assert w.abs().max() > 0.99 * limit
    assert abs(w.std().item() - limit / math.sqrt(3)) < 0.01 * limit


def test_truncated_normal_std_after_correction():
    # He normal: std sqrt(2 / fan_in) *after* truncation, thanks to the /0.8796 correction.
    w = initializers.HeNormal(seed=1)((400, 1000))
    target = math.sqrt(2 / 400)
    assert abs(w.std().item() - target) < 0.01 * target
    assert abs(w.mean().item()) < 0.01 * target
    # Cut at two standard deviations of the untruncated normal.
    assert w.abs().max() <= 2 * target / 0.87962566103423978 + 1e-6
    assert w.abs().max() > 1.95 * target / 0.87962566103423978


def test_untruncated_normal_and_truncated_normal_class():
    w = initializers.VarianceScaling(2.0, "fan_out", "untruncated_normal", seed=2)((100, 800))
    assert abs(w.std().item() - math.sqrt(2 / 800)) < 0.01 * math.sqrt(2 / 800)
    assert w.abs().max() > 2.5 * math.sqrt(2 / 800)  # not truncated
    t = initializers.TruncatedNormal(mean=1.0, stddev=0.5, seed=3)((500, 500))
    assert t.min() >= 0.0 and t.max() <= 2.0
    assert abs(t.std().item() - 0.5 * 0.87962566103423978) < 0.005


def test_conv_fans():
    assert compute_fans((3, 3, 16, 32)) == (3 * 3 * 16, 3 * 3 * 32)
    assert compute_fans((5, 8, 4)) == (40, 20)
    assert compute_fans((7, 9)) == (7, 9)
    assert compute_fans((6,)) == (6, 6)
    assert compute_fans(()) == (1, 1)
    assert compute_fans((2, 3, 4), input_axes=[0, 1], output_axes=[2]) == (6, 4)
    w = initializers.GlorotUniform(seed=0)((3, 3, 16, 32))
    limit = math.sqrt(6 / (3 * 3 * 16 + 3 * 3 * 32))
    assert w.abs().max() <= limit and w.abs().max() > 0.99 * limit


@pytest.mark.parametrize("shape", [(6, 6), (10, 4), (4, 10), (3, 3, 8, 5)])
def test_orthogonal_is_orthogonal(shape):
    w = initializers.Orthogonal(gain=2.0, seed=0)(shape).double()
    flat = w.reshape(-1, shape[-1])
    if flat.shape[0] >= flat.shape[1]:
        gram = flat.T @ flat
    else:
        gram = flat @ flat.T
    torch.testing.assert_close(gram, 4.0 * torch.eye(gram.shape[0], dtype=torch.float64),
                               atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", RANDOM)
def test_seeded_reproducible_like_keras(name):
    cls = getattr(initializers, name)
    a = cls(seed=42)((8, 9))
    assert torch.equal(a, cls(seed=42)((8, 9)))  # same seed, new instance
    init = cls(seed=42)
    assert torch.equal(init((8, 9)), init((8, 9)))  # Keras 3: same values on every call
    assert not torch.equal(a, cls(seed=43)((8, 9)))


def test_unseeded_instance_is_fixed_but_names_give_fresh_instances():
    init = initializers.GlorotUniform()
    assert torch.equal(init((5, 5)), init((5, 5)))  # Keras 3 semantics
    assert not torch.equal(initializers.get("glorot_uniform")((5, 5)),
                           initializers.get("glorot_uniform")((5, 5)))
    torch.manual_seed(0)
    a = initializers.GlorotUniform()((5, 5))
    torch.manual_seed(0)
    assert torch.equal(a, initializers.GlorotUniform()((5, 5)))
    assert not torch.equal(init((5, 5)), init.clone()((5, 5)))


def test_generator_seed_advances_like_a_seed_generator():
    init = initializers.RandomNormal(seed=torch.Generator().manual_seed(7))
    assert not torch.equal(init((4, 4)), init((4, 4)))
    config_ = init.get_config()["seed"]
    assert config_["class_name"] == "SeedGenerator" and config_["config"]["seed"] == 7
    again = initializers.RandomNormal.from_config(init.get_config())
    assert torch.equal(again((4, 4)),
                       initializers.RandomNormal(seed=torch.Generator().manual_seed(7))((4, 4)))


def test_bad_seed():
    with pytest.raises(ValueError, match="seed="):
        initializers.RandomNormal(seed="abc")


def test_deterministic_values():
    assert torch.equal(initializers.Zeros()((2, 3)), torch.zeros(2, 3))
    assert torch.equal(initializers.Ones()((2,), dtype="int64"), torch.ones(2, dtype=torch.int64))
    assert torch.equal(initializers.Constant(3.5)((2, 2)), torch.full((2, 2), 3.5))
    assert torch.equal(initializers.Identity(gain=2.0)((2, 3)), 2 * torch.eye(2, 3))
    with pytest.raises(ValueError, match="shape="):
        initializers.Identity()((2, 2, 2))


def test_dtypes():
    assert initializers.GlorotUniform(seed=0)((3, 3), dtype=torch.float64).dtype == torch.float64
    assert initializers.HeNormal(seed=0)((3, 3), dtype="bfloat16").dtype == torch.bfloat16
    assert initializers.Orthogonal(seed=0)((3, 3), dtype="float16").dtype == torch.float16
    config.set_floatx("float64")
    try:
        assert initializers.Zeros()((2,)).dtype == torch.float64
    finally:
        config.set_floatx("float32")
    with pytest.raises(ValueError, match="dtype"):
        initializers.RandomNormal()((2,), dtype=torch.int32)


def test_uniform_bf16_stays_inside_bounds():
    w = initializers.RandomUniform(-1.0, 1.0, seed=0)((100_000,), dtype=torch.bfloat16)
    assert w.min() >= -1.0 and w.max() <= 1.0


def test_names_and_aliases():
    expect = {"glorot_uniform": "GlorotUniform", "zeros": "Zeros", "zero": "Zeros",
              "one": "Ones", "he_normal": "HeNormal", "orthogonal": "Orthogonal",
              "uniform": "RandomUniform", "normal": "RandomNormal",
              "truncated_normal": "TruncatedNormal", "random_uniform": "RandomUniform",
              "variance_scaling": "VarianceScaling", "OrthogonalInitializer": "Orthogonal",
              "IdentityInitializer": "Identity", "lecun_uniform": "LecunUniform"}
    for name, cls in expect.items():
        assert type(initializers.get(name)).__name__ == cls
    assert initializers.get("uniform").get_config() == {"seed": None, "minval": -0.05,
                                                         "maxval": 0.05}
    assert initializers.glorot_uniform is initializers.GlorotUniform
    assert initializers.get(None) is None
    assert isinstance(initializers.get(initializers.HeNormal), initializers.HeNormal)


def test_unknown_name_suggests_close_matches():
    with pytest.raises(ValueError, match="'glorot_uniform'"):
        initializers.get("glorot_unifrom")
    with pytest.raises(ValueError, match="identifier="):
        initializers.get(3.5)


def test_variance_scaling_validation():
    with pytest.raises(ValueError, match="scale=-1"):
        initializers.VarianceScaling(scale=-1)
    with pytest.raises(ValueError, match="mode='fan'"):
        initializers.VarianceScaling(mode="fan")
    with pytest.raises(ValueError, match="distribution='gamma'"):
        initializers.VarianceScaling(distribution="gamma")
    assert initializers.VarianceScaling(distribution="normal").distribution == "truncated_normal"


def test_serialize_round_trip():
    for init in [initializers.GlorotUniform(seed=3), initializers.Constant(2.0),
                 initializers.VarianceScaling(0.5, "fan_avg", "uniform", seed=1),
                 initializers.Orthogonal(gain=0.5, seed=2), initializers.Identity(gain=3.0)]:
        config_ = initializers.serialize(init)
        assert config_["module"] == "keras.initializers"
        assert config_["class_name"] == type(init).__name__
        again = initializers.deserialize(config_)
        assert again.get_config() == init.get_config()
        assert torch.equal(again((4, 4)), init((4, 4)))
    assert isinstance(initializers.deserialize("he_uniform"), initializers.HeUniform)


def test_array_identifier():
    values = np.arange(6, dtype="float64").reshape(2, 3)
    init = initializers.get(values)
    assert torch.equal(init((2, 3)), torch.arange(6.0).reshape(2, 3))
    with pytest.raises(ValueError, match="shape="):
        init((3, 2))


def test_stft_shape_and_first_row():
    kernel = initializers.STFT("real", window=None)((8, 1, 5))
    assert kernel.shape == (8, 1, 5)
    assert torch.allclose(kernel[0, 0], torch.ones(5))  # cos(0) = 1 at time 0
    imag = initializers.STFT("imag", window="hann", scaling="spectrum")((8, 1, 5))
    assert torch.allclose(imag[:, :, 0], torch.zeros(8, 1))
