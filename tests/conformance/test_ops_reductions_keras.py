"""Reductions and statistics (`ops.numpy.reductions`) against Keras 3 on JAX.

Complements the reduction cases of `test_ops_keras.py`: every op of the family, including the
NaN-ignoring forms and `trapezoid`, over several dtypes (bool, small ints, half floats), negative
and multiple axes, `axis=()`, `keepdims`, empty inputs, NaN and infinity, `initial`, `dtype`,
vector `q` and every quantile method. Values and Keras' dtype names must agree.
"""

import ml_dtypes
import numpy as np
import pytest
import torch

import kerastorch.ops as ops

pytestmark = pytest.mark.conformance

R = np.random.default_rng(7)
F3 = R.normal(size=(2, 3, 4)).astype("float32")
F = R.normal(size=(3, 5)).astype("float32")
I = R.integers(-4, 5, size=(3, 4)).astype("int32")
U8 = R.integers(0, 9, size=(3, 4)).astype("uint8")
I8 = R.integers(-9, 9, size=(3, 4)).astype("int8")
B = R.random((3, 4)) > 0.4
H = F.astype("float16")
BF = F.astype(ml_dtypes.bfloat16)
EVEN = R.permutation(8).astype("float32").reshape(2, 4)  # distinct values, even row length
NAN = np.array([[1.5, np.nan, -2.0, 4.0], [np.nan, np.nan, np.nan, np.nan],
                [0.5, 3.0, np.nan, -1.0]], "float32")
INF = np.array([[1.0, np.inf, -2.0], [-np.inf, 0.0, 3.0]], "float32")
E = np.zeros((0, 3), "float32")

CASES = []
LOOSE = dict(rtol=1e-2, atol=1e-2)  # half precision


def add(name, *args, rtol=1e-5, atol=1e-6, dtype=True, **kwargs):
    CASES.append(pytest.param(name, args, kwargs, rtol, atol, dtype, id=f"{name}-{len(CASES)}"))


def sweep(name, *others, extra=(), keep=True, **kwargs):
    """`name` over F3 with every axis form, and over each of `others` (other dtypes) with a
    full and a last-axis reduction; `extra` are positional arguments after x."""
    add(name, F3, *extra, **kwargs)
    add(name, F3, *extra, axis=-1, **kwargs)
    add(name, F3, *extra, axis=(0, -1), **(dict(keepdims=True) if keep else {}), **kwargs)
    add(name, F3, *extra, axis=(), **kwargs)
    for x in others:
        tol = LOOSE if x.dtype in (H.dtype, BF.dtype) else {}
        add(name, x, *extra, **tol, **kwargs)
        add(name, x, *extra, axis=-1, **tol, **kwargs)


# ------------------------------------------------------------------ sums, products, means
for op in ("sum", "prod", "mean", "nansum", "nanprod", "nanmean"):
    sweep(op, *((I, I8, B, H, BF) if op[:3] != "nan" else (I, H)))  # nan*: ints delegate
    add(op, B, axis=())
    add(op, U8, axis=0, dtype=False)  # JAX widens uint8 sums to uint32, which torch lacks
    add(op, E, axis=1)
    add(op, NAN, axis=1)
    add(op, NAN, axis=0, keepdims=True)
    add(op, np.float32(2.5))
add("prod", I, axis=(0, 1), dtype="float32")
add("prod", I8, axis=1, dtype="int8")
add("mean", E)
add("nanmean", NAN)

# ------------------------------------------------------------------ extrema
for op in ("max", "min", "amax", "amin", "nanmax", "nanmin"):
    sweep(op, *((I, U8, I8, B, H, BF) if op in ("max", "min") else (I, B, H)))
    add(op, I, axis=(0, 1), keepdims=True)
    add(op, NAN, axis=1)
    add(op, NAN, axis=-2, keepdims=True)
    add(op, INF, axis=0)
    add(op, E, axis=1)
for op in ("max", "min"):
    add(op, I, initial=2.5)
    add(op, I, axis=1, initial=-1)
    add(op, F, axis=0, keepdims=True, initial=0.25)
    add(op, E, axis=0, initial=1.0)
    add(op, E, axis=(0, 1), keepdims=True, initial=-3.0)
    add(op, F, axis=(), initial=0.0)
for op in ("argmax", "argmin", "nanargmax", "nanargmin"):
    for x in (F3, I, U8, B, H, BF):
        add(op, x, axis=-1)
    add(op, F3)
    add(op, F3, axis=0, keepdims=True)
    add(op, F3, keepdims=True)
    add(op, NAN, axis=1)
    add(op, NAN, axis=0)
    add(op, NAN)
    add(op, INF, axis=1)
    add(op, np.array([3.0, 1.0, 3.0, 1.0], "float32"))  # ties: the first index

# ------------------------------------------------------------------ truth tests, counts
for op in ("all", "any", "count_nonzero"):
    sweep(op, I, B, NAN, keep=op != "count_nonzero")
    add(op, E, axis=0)
for op in ("all", "any"):
    add(op, I, axis=1, keepdims=True)
    add(op, E)

# ------------------------------------------------------------------ running sums and products
for op in ("cumsum", "cumprod", "nancumsum", "nancumprod"):
    for x in (F3, I, I8, U8, B, H):
        add(op, x, axis=-1, **(LOOSE if x.dtype == H.dtype else {}))
    add(op, F3)
    add(op, F3, axis=0)
    add(op, NAN, axis=1)
    add(op, NAN)
    add(op, I, axis=1, dtype="float32")
    add(op, F, axis=0, dtype="int32")
    add(op, E, axis=0)
add("cumprod", (I8 * 9).astype("int8"), axis=1)  # int8 wraps around, as in JAX

# ------------------------------------------------------------------ variance, deviation
for op in ("var", "std", "nanvar", "nanstd"):
    sweep(op, *((I, U8, B, H, BF) if op[:3] != "nan" else (I, H)))
    add(op, NAN, axis=1)
    add(op, NAN, keepdims=True)
    add(op, INF, axis=0)
    add(op, INF, axis=())

# ------------------------------------------------------------------ quantiles
for op, q in (("quantile", 0.3), ("nanquantile", 0.3), ("percentile", 30.0),
              ("nanpercentile", 30.0)):
    qv = [0.0, 0.25, 0.5, 0.9, 1.0] if "quantile" in op else [0.0, 25.0, 50.0, 90.0, 100.0]
    sweep(op, I, U8, B, H, extra=(q,))
    add(op, F3, qv, axis=(0, 1), keepdims=True)
    add(op, F3, qv, axis=1, keepdims=True)
    methods = ("linear", "lower", "higher", "midpoint", "nearest", "inverted_cdf")
    for method in methods if "quantile" in op else ("lower", "nearest"):  # percentile: q/100
        add(op, F, qv, axis=1, method=method)
        add(op, EVEN, q, axis=-1, method=method)
        add(op, NAN, qv, axis=1, method=method)
    add(op, I, q, method="midpoint", keepdims=True)
    for method in ("linear", "midpoint", "nearest"):  # an infinite neighbour stays infinite
        add(op, np.array([[1.0, np.inf], [-np.inf, 2.0], [-np.inf, np.inf]], "float32"), qv,
            axis=1, method=method)
    add(op, F3, q, axis=(), keepdims=False)
    add(op, NAN, q)
    add(op, INF, q, axis=0)
    add(op, E, q, axis=1)
for op in ("median", "nanmedian"):
    sweep(op, I, U8, B, H, EVEN, NAN)
    add(op, NAN, axis=0, keepdims=True)
    add(op, INF, axis=0)  # pairs holding infinities: (1 + inf) / 2 is inf, not NaN
    add(op, E, axis=1)

# ------------------------------------------------------------------ average, ptp, trapezoid
W = R.random((3, 4)).astype("float32") + 0.1
for x in (F, I, B, H):
    tol = LOOSE if x.dtype == H.dtype else {}
    add("average", x, **tol)
    add("average", x, axis=0, **tol)
    add("average", x, axis=(), **tol)
add("average", I, axis=-1, weights=W)
add("average", I, weights=W)
add("average", I, axis=(0, 1), weights=W)
add("average", F3, axis=-1, weights=np.array([1.0, 2.0, 3.0, 4.0], "float32"))
add("average", F3, axis=1, weights=np.array([1, 0, 2], "int32"))
add("average", H, axis=0, weights=np.array([1.0, 2.0, 3.0], "float16"), **LOOSE)
sweep("ptp", I, U8, I8, H)
add("ptp", F3, keepdims=True)
add("ptp", F3, axis=1, keepdims=True)
add("ptp", NAN, axis=1)
for y in (F3, I, B, H):
    tol = LOOSE if y.dtype == H.dtype else {}
    add("trapezoid", y, **tol)
    add("trapezoid", y, axis=0, **tol)
    add("trapezoid", y, dx=0.5, axis=-2, **tol)
add("trapezoid", F, x=np.array([0.0, 0.5, 1.5, 2.0, 4.0], "float32"))
add("trapezoid", I, x=np.array([0, 1, 3, 4], "int32"))
add("trapezoid", F, x=np.cumsum(R.random((3, 5)), axis=1).astype("float32"))
add("trapezoid", F3, x=np.array([0.0, 2.0, 3.0], "float32"), axis=1)
add("trapezoid", H, x=np.array([0.0, 0.5, 1.5, 2.0, 4.0], "float32"), **LOOSE)
add("trapezoid", F, dx=np.float32(0.25))
add("trapezoid", F, dx=2)
add("trapezoid", NAN, axis=0)


def _compare(keras3, ref, ours, rtol, atol, check_dtype):
    assert isinstance(ours, torch.Tensor), type(ours)
    if check_dtype:
        assert keras3.backend.standardize_dtype(ref.dtype) == str(ours.dtype).split(".")[-1], \
            (ref.dtype, ours.dtype)
    r = np.asarray(keras3.ops.convert_to_numpy(ref))
    o = ops.convert_to_numpy(ours)
    assert r.shape == o.shape, (r.shape, o.shape)
    if r.dtype == bool or o.dtype == bool:
        np.testing.assert_array_equal(o, r)
    else:
        np.testing.assert_allclose(o.astype("float64"), r.astype("float64"), rtol=rtol,
                                   atol=atol)


@pytest.mark.parametrize("name,args,kwargs,rtol,atol,check_dtype", CASES)
def test_reduction_matches_keras(keras3, name, args, kwargs, rtol, atol, check_dtype):
    ref = getattr(keras3.ops, name)(*args, **kwargs)
    ours = getattr(ops, name)(*args, **kwargs)
    _compare(keras3, ref, ours, rtol, atol, check_dtype)


@pytest.mark.parametrize("method", ["linear", "lower", "higher", "midpoint", "nearest",
                                    "inverted_cdf"])
def test_tensor_q_matches_keras(keras3, method):
    """A torch `q` (read on the device, not the host) gives Keras' numbers too."""
    pairs = np.array([[1.0, np.inf], [-np.inf, 2.0], [-np.inf, np.inf]], "float32")
    for name, q in (("quantile", [0.0, 0.3, 0.5, 1.0]), ("percentile", [10.0, 50.0, 75.0]),
                    ("quantile", 0.5)):
        for x, axis in ((F, 1), (EVEN, -1), (NAN, 1), (F3, (0, 2)), (pairs, 1), (I, None)):
            ref = getattr(keras3.ops, name)(x, q, axis=axis, method=method)
            ours = getattr(ops, name)(x, torch.tensor(q), axis=axis, method=method)
            _compare(keras3, ref, ours, 1e-5, 1e-6, True)


@pytest.mark.parametrize("name", ["max", "min", "amax", "amin", "nanmax", "nanmin"])
def test_empty_reduction_without_initial_raises(keras3, name):
    with pytest.raises(ValueError):
        getattr(keras3.ops, name)(E, axis=0)
    with pytest.raises(ValueError):
        getattr(ops, name)(E, axis=0)


def test_bad_arguments_raise(keras3):
    with pytest.raises(TypeError):
        keras3.ops.ptp(B)
    with pytest.raises(TypeError):
        ops.ptp(B)
    for mod in (keras3.ops, ops):
        with pytest.raises(ValueError):
            mod.quantile(F, 0.5, method="bad")
        with pytest.raises(ValueError):
            mod.average(F, weights=np.ones(5, "float32"))  # shapes differ: an axis is needed
        with pytest.raises(ValueError):
            mod.average(F, axis=1, weights=np.ones(4, "float32"))


def test_torch_inputs_and_symbolic_shapes(keras3):
    """Torch tensors (float64 kept, uint16 stored as int32) and the functional API agree."""
    x = torch.tensor(F, dtype=torch.float64)
    assert ops.mean(x, axis=0).dtype == torch.float64
    assert ops.var(x).dtype == torch.float64
    np.testing.assert_allclose(ops.convert_to_numpy(ops.quantile(x, 0.3, axis=1)),
                               np.quantile(F.astype("float64"), 0.3, axis=1), rtol=1e-12)
    inp = keras3.Input((5,))
    from kerastorch import Input
    ours = Input((5,))
    for name, kwargs in (("sum", dict(axis=-1)), ("median", dict(axis=1, keepdims=True)),
                         ("quantile", dict(q=[0.1, 0.9], axis=1)), ("cumsum", dict(axis=1)),
                         ("argmax", dict(axis=-1)), ("std", {})):
        ref = getattr(keras3.ops, name)(inp, **kwargs)
        out = getattr(ops, name)(ours, **kwargs)
        assert tuple(out.shape) == tuple(ref.shape), (name, out.shape, ref.shape)
        assert out.dtype == ref.dtype, (name, out.dtype, ref.dtype)
