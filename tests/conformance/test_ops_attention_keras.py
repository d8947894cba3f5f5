"""keras.ops.dot_product_attention against Keras 3 on JAX: bias and mask shapes, fully masked
rows, is_causal (alone, with a mask, with a bias, query shorter and longer than key),
grouped-query heads, scale, dtypes, the flash_attention argument and the errors."""

import numpy as np
import pytest
import torch

import kerastorch.ops as ops

pytestmark = pytest.mark.conformance

R = np.random.default_rng(3)
B, T, S, N, H = 2, 5, 6, 3, 4


def normal(*shape, dtype="float32"):
    return R.normal(size=shape).astype(dtype)


Q, K, V = normal(B, T, N, H), normal(B, S, N, H), normal(B, S, N, H)


def check(keras3, args, kwargs, rtol=1e-5, atol=1e-5):
    ref = keras3.ops.dot_product_attention(*args, **kwargs)
    ours = ops.dot_product_attention(*args, **kwargs)
    assert isinstance(ours, torch.Tensor)
    assert keras3.backend.standardize_dtype(ref.dtype) == str(ours.dtype).split(".")[-1]
    ref = np.asarray(keras3.ops.convert_to_numpy(ref)).astype("float64")
    got = ops.convert_to_numpy(ours).astype("float64")
    assert got.shape == ref.shape, (got.shape, ref.shape)
    np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol)


def random_mask(*shape, full_rows=True):
    mask = R.random(shape) > 0.4
    if full_rows:  # a fully masked query row: Keras averages the values uniformly
        mask[..., 1, :] = False
    return mask


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("scale", [None, 0.3])
def test_plain(keras3, causal, scale):
    check(keras3, (Q, K, V), dict(is_causal=causal, scale=scale))


@pytest.mark.parametrize("t,s", [(5, 5), (3, 7), (7, 3)])
def test_causal_lengths(keras3, t, s):
    check(keras3, (normal(1, t, 2, 4), normal(1, s, 2, 4), normal(1, s, 2, 4)),
          dict(is_causal=True))


@pytest.mark.parametrize("shape", [(B, N, T, S), (1, 1, T, S), (T, S), (B, 1, T, S),
                                   (1, N, 1, S)])
def test_bias(keras3, shape):
    check(keras3, (Q, K, V), dict(bias=normal(*shape)))
    check(keras3, (Q, K, V), dict(bias=normal(*shape), is_causal=True))


@pytest.mark.parametrize("shape", [(B, N, T, S), (B, 1, T, S), (T, S), (1, 1, T, S)])
def test_mask(keras3, shape):
    check(keras3, (Q, K, V), dict(mask=random_mask(*shape)))
    check(keras3, (Q, K, V), dict(mask=random_mask(*shape), is_causal=True))


def test_mask_and_bias_together(keras3):
    check(keras3, (Q, K, V), dict(bias=normal(B, N, T, S), mask=random_mask(B, 1, T, S)))


def test_fully_masked_everything_is_the_mean_of_values(keras3):
    check(keras3, (Q, K, V), dict(mask=np.zeros((B, 1, T, S), bool)))


@pytest.mark.parametrize("kv_heads", [1, 3])
def test_grouped_query_heads(keras3, kv_heads):
    q = normal(B, T, 6, H)
    k, v = normal(B, S, kv_heads, H), normal(B, S, kv_heads, H)
    check(keras3, (q, k, v), {})
    check(keras3, (q, k, v), dict(mask=random_mask(B, 6, T, S), is_causal=True))
    check(keras3, (q, k, v), dict(bias=normal(B, 1, T, S)))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precisions(keras3, dtype):
    q, k, v = (a.astype(dtype) for a in (Q, K, V))
    tol = 2e-2 if dtype == "float16" else 5e-2
    check(keras3, (q, k, v), {}, rtol=tol, atol=tol)
    check(keras3, (q, k, v), dict(is_causal=True), rtol=tol, atol=tol)
    check(keras3, (q, k, v), dict(mask=random_mask(B, 1, T, S)), rtol=tol, atol=tol)
    check(keras3, (q, k, v), dict(bias=normal(B, N, T, S)), rtol=tol, atol=tol)


def test_mixed_dtypes_promote(keras3):
    check(keras3, (Q.astype("float16"), K, V.astype("float16")), {}, rtol=1e-3, atol=1e-3)


def test_flash_attention_argument(keras3):
    mask = random_mask(B, 1, T, S)
    want = keras3.ops.dot_product_attention(Q, K, V, mask=mask)
    got = ops.dot_product_attention(Q, K, V, mask=mask, flash_attention=False)
    np.testing.assert_allclose(ops.convert_to_numpy(got), np.asarray(want), rtol=1e-5,
                               atol=1e-5)
    if not torch.cuda.is_available():  # no flash kernel on the CPU: Keras raises too
        with pytest.raises(RuntimeError):
            ops.dot_product_attention(Q, K, V, flash_attention=True)


def test_errors():
    with pytest.raises(ValueError, match="4D"):
        ops.dot_product_attention(Q[0], K[0], V[0])
    with pytest.raises(ValueError, match="attn_logits_soft_cap"):
        ops.dot_product_attention(Q, K, V, attn_logits_soft_cap=20.0)
    with pytest.raises(ValueError, match="multiple"):
        ops.dot_product_attention(normal(B, T, 3, H), normal(B, S, 2, H), normal(B, S, 2, H))


def test_gradients_flow():
    q = torch.randn(B, T, N, H, requires_grad=True)
    out = ops.dot_product_attention(q, torch.tensor(K), torch.tensor(V),
                                    mask=torch.tensor(random_mask(B, 1, T, S)), is_causal=True)
    out.sum().backward()
    assert q.grad is not None and torch.isfinite(q.grad).all()
