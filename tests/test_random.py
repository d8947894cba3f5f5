"""kerastorch.random: shapes, dtypes, distributions, determinism for a fixed seed, SeedGenerator.

Keras on JAX draws other streams, so values are checked statistically, not bit for bit.
"""

import numpy as np
import pytest
import torch

from kerastorch import config, random

N = 20000


def _np(x):
    return x.detach().cpu().numpy()


@pytest.mark.parametrize("fn,kwargs", [
    (random.normal, {}), (random.uniform, {}), (random.truncated_normal, {}),
    (random.randint, {"minval": 0, "maxval": 5}), (random.gamma, {"alpha": 2.0}),
    (random.beta, {"alpha": 2.0, "beta": 3.0}),
    (random.binomial, {"counts": 5, "probabilities": 0.3}),
])
def test_same_int_seed_same_values_and_keras_defaults(fn, kwargs):
    a, b = fn((3, 4), seed=7, **kwargs), fn((3, 4), seed=7, **kwargs)
    c = fn((3, 4), seed=8, **kwargs)
    assert tuple(a.shape) == (3, 4) and a.device == config.device()
    assert torch.equal(a, b) and not torch.equal(a, c)
    expected = torch.int32 if fn is random.randint else torch.float32
    assert a.dtype == expected


def test_seed_generator_advances_reproducibly():
    g1, g2 = random.SeedGenerator(42), random.SeedGenerator(42)
    a1, a2 = random.normal((5,), seed=g1), random.normal((5,), seed=g1)
    assert not torch.equal(a1, a2)
    assert torch.equal(a1, random.normal((5,), seed=g2))
    assert torch.equal(a2, random.normal((5,), seed=g2))
    assert g1.get_config() == {"seed": 42, "name": g1.name}
    state = random.SeedGenerator(3).next()
    assert state.tolist() == [3, 0] and state.dtype == torch.int32


def test_unseeded_calls_follow_the_global_seed():
    config.set_random_seed(1)
    a = random.uniform((4,))
    config.set_random_seed(1)
    assert torch.equal(a, random.uniform((4,)))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_float_dtypes(dtype):
    assert random.normal((2,), dtype=dtype, seed=1).dtype == getattr(torch, dtype)
    assert random.uniform((2,), dtype=dtype, seed=1).dtype == getattr(torch, dtype)


def test_distributions():
    x = _np(random.normal((N,), mean=2.0, stddev=3.0, seed=0))
    assert abs(x.mean() - 2.0) < 0.1 and abs(x.std() - 3.0) < 0.1
    u = _np(random.uniform((N,), minval=-1.0, maxval=3.0, seed=0))
    assert u.min() >= -1.0 and u.max() < 3.0 and abs(u.mean() - 1.0) < 0.05
    t = _np(random.truncated_normal((N,), mean=1.0, stddev=2.0, seed=0))
    # truncated at 2 stddev: |t - mean| <= 2*stddev; the std of N(0,1) cut at +-2 is 0.8796
    assert np.abs(t - 1.0).max() <= 4.0 + 1e-5
    assert abs(t.std() - 2.0 * 0.8796) < 0.05 and abs(t.mean() - 1.0) < 0.05
    r = _np(random.randint((N,), 3, 7, seed=0))
    assert set(np.unique(r)) == {3, 4, 5, 6}
    g = _np(random.gamma((N,), alpha=3.0, seed=0))
    assert abs(g.mean() - 3.0) < 0.1
    b = _np(random.beta((N,), alpha=2.0, beta=6.0, seed=0))
    assert abs(b.mean() - 0.25) < 0.01
    k = _np(random.binomial((N,), counts=10, probabilities=0.2, seed=0))
    assert abs(k.mean() - 2.0) < 0.05 and k.max() <= 10


def test_categorical():
    logits = np.log(np.array([[0.7, 0.2, 0.1], [0.0001, 0.0001, 1.0]], "float32"))
    s = random.categorical(logits, 5000, seed=0)
    assert tuple(s.shape) == (2, 5000) and s.dtype == torch.int32
    freq = np.bincount(_np(s[0]), minlength=3) / 5000
    np.testing.assert_allclose(freq, [0.7, 0.2, 0.1], atol=0.03)
    assert (_np(s[1]) == 2).mean() > 0.99
    with pytest.raises(ValueError, match="2-D"):
        random.categorical([1.0, 2.0], 3)


def test_dropout():
    x = torch.ones(N)
    y = _np(random.dropout(x, 0.25, seed=0))
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.75], rtol=1e-6)
    assert abs((y == 0).mean() - 0.25) < 0.02
    assert torch.equal(random.dropout(x, 0.25, seed=3), random.dropout(x, 0.25, seed=3))
    m = _np(random.dropout(torch.ones(4, 6), 0.5, noise_shape=(None, 1), seed=0))
    assert all(len(set(row)) == 1 for row in m)  # the mask broadcasts along axis 1
    assert torch.equal(random.dropout(x, 0.0), x)
    assert not random.dropout(x, 1.0).any()
    with pytest.raises(ValueError, match="rate"):
        random.dropout(x, 1.5)


def test_shuffle_is_a_permutation_along_axis():
    x = np.arange(12).reshape(4, 3)
    s = _np(random.shuffle(x, seed=0))
    assert sorted(map(tuple, s)) == sorted(map(tuple, x))
    s1 = _np(random.shuffle(x, axis=1, seed=0))
    assert (np.sort(s1, axis=1) == x).all()


@pytest.mark.parametrize("bad", [lambda: random.normal((2,), seed="x"),
                                 lambda: random.SeedGenerator(1.5),
                                 lambda: random.normal((2,), dtype="int32"),
                                 lambda: random.randint((2,), 0, 3, dtype="float32")])
def test_bad_arguments(bad):
    with pytest.raises(ValueError):
        bad()
