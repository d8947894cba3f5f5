"""keras.ops against Keras 3 on JAX: the same numpy/Python inputs give the same values and dtypes.

Each case calls `keras.ops.<name>` (the oracle) and `kerastorch.ops.<name>` with identical
arguments; dtypes are compared as Keras' standardized names, so the promotion rules
(int32 + Python float -> float32, uint8 + int8 -> int16, ...) are checked with the numbers.
"""

import numpy as np
import pytest
import torch

import kerastorch.ops as ops

pytestmark = pytest.mark.conformance

R = np.random.default_rng(0)
F = R.normal(size=(3, 4)).astype("float32")          # float32 matrix
F2 = R.normal(size=(3, 4)).astype("float32")
P = (R.random((3, 4)) + 0.1).astype("float32")       # positive
U = (R.random((3, 4)) * 1.8 - 0.9).astype("float32")  # in (-1, 1)
I = R.integers(-5, 6, size=(3, 4)).astype("int32")
I2 = R.integers(1, 6, size=(3, 4)).astype("int32")
B = R.random((3, 4)) > 0.5
F3 = R.normal(size=(2, 3, 4)).astype("float32")
SQ = (R.normal(size=(3, 3)) + 3 * np.eye(3)).astype("float32")
SPD = (SQ @ SQ.T + np.eye(3)).astype("float32")
V = R.normal(size=(4,)).astype("float32")
F64 = R.normal(size=(3, 4))                           # numpy float64 -> float32 in Keras/JAX
I64 = R.integers(0, 5, size=(3, 4))                   # numpy int64 -> int32


def _flat(x):
    if isinstance(x, (list, tuple)):
        return [y for e in x for y in _flat(e)]
    return [x]


def _compare(keras3, ref, ours, rtol, atol, check_dtype=True):
    ref, ours = _flat(ref), _flat(ours)
    assert len(ref) == len(ours)
    for r, o in zip(ref, ours):
        assert isinstance(o, torch.Tensor), type(o)
        if check_dtype:
            assert keras3.backend.standardize_dtype(r.dtype) == str(o.dtype).split(".")[-1], \
                (r.dtype, o.dtype)
        r = np.asarray(keras3.ops.convert_to_numpy(r))
        o = ops.convert_to_numpy(o)
        assert r.shape == o.shape, (r.shape, o.shape)
        if r.dtype == bool or o.dtype == bool:
            np.testing.assert_array_equal(o, r)
        else:
            np.testing.assert_allclose(o.astype("float64"), r.astype("float64"), rtol=rtol,
                                       atol=atol)


def _case(name, *args, ns=None, rtol=1e-5, atol=1e-6, dtype=True, **kwargs):
    return pytest.param(name, args, kwargs, ns, rtol, atol, dtype,
                        id=f"{name}-{len(CASES)}")


CASES = []


def add(*a, **k):
    CASES.append(_case(*a, **k))


# ------------------------------------------------------------------ elementwise unary
for op in ["abs", "negative", "square", "sign", "floor", "ceil", "round", "exp", "sin", "cos",
           "tanh", "sinh", "cosh", "arctan", "arcsinh", "expm1", "isnan", "isinf", "isfinite",
           "logical_not", "trunc", "exp2", "cbrt", "deg2rad", "signbit"]:
    add(op, F)
    add(op, I)
for op in ["log", "sqrt", "log1p", "log2", "log10", "reciprocal", "rsqrt", "arccosh"]:
    add(op, P + (1.0 if op == "arccosh" else 0.0))
add("sqrt", I2)
add("log", I2)
for op in ["arcsin", "arccos", "arctanh", "erf", "erfinv"]:
    add(op, U)
add("nan_to_num", np.array([np.nan, np.inf, -np.inf, 1.0], "float32"))
add("clip", F, -0.5, 0.5)
add("clip", I, -2, 3)
add("clip", I, -2.5, 3.5)

# ------------------------------------------------------------------ binary ops and promotion
PAIRS = [(F, F2), (I, F), (I, 1.5), (I, 2), (F, 2), (I, I2), (B, I), (F.astype("float16"), F),
         (I.astype("int8"), I.astype("int16")), (I2.astype("uint8"), I.astype("int8")),
         (F64, F), (I64, I), (2.5, I), (F.astype("bfloat16") if hasattr(np, "bfloat16") else F, 3)]
for op in ["add", "subtract", "multiply", "maximum", "minimum", "equal", "not_equal",
           "greater", "less_equal"]:
    for a, b in PAIRS:
        if op == "subtract" and (a is B):
            continue
        add(op, a, b)
for op in ["divide", "true_divide"]:
    for a, b in [(F, F2), (I, I2), (I, 2.0), (I, 2), (F, 3), (I.astype("int8"), I2)]:
        add(op, a, b)
for a, b in [(F, F2), (I, I2), (I, 2), (F, 2.0)]:
    add("floor_divide", a, b)
    add("mod", a, b)
for a, b in [(P, F), (I2, 2), (P, 2), (I2, 0.5), (2.0, F)]:
    add("power", a, b)
for a, b in [(F, F2), (I, F)]:
    add("arctan2", a, b)
    add("hypot", a, b)
    add("logaddexp", a, b)
add("logical_and", B, I)
add("logical_or", F, B)
add("logical_xor", B, ~B)
add("divide_no_nan", F, np.where(B, F2, 0).astype("float32"))
add("isclose", F, F + 1e-6)
add("where", B, F, F2)
add("where", B, I, 1.5)
add("where", B, 1, 2)

# ------------------------------------------------------------------ reductions
for op in ["sum", "mean", "max", "min", "prod", "std", "var", "any", "all", "argmax", "argmin",
           "amax", "amin", "median", "logsumexp", "count_nonzero"]:
    for x in (F3, I.reshape(3, 4)):
        if op == "count_nonzero":
            add(op, x)
            add(op, x, axis=1)
            continue
        add(op, x)
        if op in ("argmax", "argmin"):
            add(op, x, axis=1)
            add(op, x, axis=-1, keepdims=True)
        else:
            add(op, x, axis=1)
            add(op, x, axis=(0, -1), keepdims=True) if x.ndim == 3 else \
                add(op, x, axis=-1, keepdims=True)
add("sum", B)
add("mean", B, axis=0)
for op in ["cumsum", "cumprod"]:
    add(op, F)
    add(op, I, axis=1)
    add(op, B, axis=0)
add("average", F, axis=1, weights=np.array([1.0, 2.0, 3.0, 4.0], "float32"))
add("quantile", F, 0.3, axis=1)
add("percentile", F, 40.0)
add("ptp", F, axis=0)
add("nansum", np.array([1.0, np.nan, 2.0], "float32"))
add("nanmean", np.array([[1.0, np.nan], [2.0, 3.0]], "float32"), axis=1)
add("trace", SQ)
add("sort", F, axis=0)
add("sort", I)
add("argsort", F, axis=1)
add("top_k", F, 2)
add("top_k", R.permutation(12).reshape(3, 4).astype("int32"), 3)
add("in_top_k", np.array([0, 1, 3], "int32"), F, 2)

# ------------------------------------------------------------------ shapes and construction
add("reshape", F, (4, 3))
add("reshape", F, (-1,))
add("transpose", F3)
add("transpose", F3, (1, 0, 2))
add("expand_dims", F, 1)
add("expand_dims", F, (0, -1))
add("squeeze", F[:, :1])
add("squeeze", F3[:1], axis=0)
add("concatenate", [F, F2], axis=1)
add("concatenate", [I, F])
add("stack", [F, F2], axis=-1)
add("split", F, 2, axis=1)
add("split", F, [1, 3], axis=1)
add("array_split", F, 3, axis=1)
add("tile", F, (2, 1))
add("repeat", F, 2, axis=0)
add("repeat", F, np.array([1, 2, 0], "int32"), axis=0)
add("take", F, np.array([0, 2, 2], "int32"), axis=1)
add("take", F, np.array([[3, -1]], "int32"))
add("take_along_axis", F, np.argsort(F, axis=1).astype("int32"), axis=1)
add("flip", F, axis=1)
add("roll", F, 2, axis=1)
add("roll", F, -1)
add("moveaxis", F3, 0, -1)
add("swapaxes", F3, 0, 2)
add("broadcast_to", V, (3, 4))
add("tril", F, -1)
add("triu", F, 1)
add("diag", V)
add("diag", F, 1)
add("diagonal", F3, 0, 1, 2)
add("pad", F, ((1, 0), (0, 2)))
add("pad", F, 1, mode="reflect")
add("pad", F3, ((0, 0), (2, 1), (1, 3)), mode="symmetric")
add("pad", I, (1, 2), mode="edge")
add("pad", I, ((0, 1), (2, 2)), constant_values=7)
add("ravel", F3)
add("flatten" if hasattr(ops, "flatten") else "ravel", F)
add("arange", 5)
add("arange", 1, 7, 2)
add("arange", 0.5, 3.0, 0.5)
add("arange", 0, 4, 1, dtype="float32")
add("linspace", 0.0, 1.0, 5)
add("linspace", 0, 10, 4, endpoint=False)
add("logspace", 0.0, 2.0, 3)
add("zeros", (2, 3))
add("ones", (2,), dtype="int32")
add("full", (2, 2), 3)
add("full", (2, 2), 1.5)
add("zeros_like", I)
add("ones_like", F, dtype="float16")
add("full_like", F, 2)
add("full_like", I, 2.5)
add("eye", 3)
add("eye", 3, 4, k=1)
add("identity", 2)
add("tri", 3)
add("meshgrid", V[:2], V[:3])
add("meshgrid", V[:2], V[:3], indexing="ij")
add("outer", V, V[:2])
add("cross", F3[0, :, :3], F3[1, :, :3])
add("matmul", F, F2.T)
add("matmul", F3, F.T)
add("matmul", I, I2.T)
add("matmul", I, F.T)
add("dot", F, V)
add("dot", V, V)
add("tensordot", F3, F.T, axes=1)
add("tensordot", F3, F3, axes=([1, 2], [1, 2]))
add("einsum", "ij,kj->ik", F, F2)
add("einsum", "bij->bji", F3)
add("vdot", V, V)
add("inner", V, V)
add("kron", F[:2, :2], F2[:2, :2])
add("diff", F, axis=1)
add("searchsorted", np.sort(V), np.array([0.0, 1.0], "float32"))
add("digitize", V, np.array([-1.0, 0.0, 1.0], "float32"))
add("bincount", np.array([0, 1, 1, 3], "int32"))
add("unravel_index", np.array([1, 5], "int32"), (3, 4))
add("nonzero", I)
add("size", F3)
add("ndim", F3)
add("shape", F3, dtype=False)
add("histogram", V, bins=3)
add("correlate", V, V[:2])
add("vstack", [F, F2])
add("hstack", [F, F2])
add("append", F, F2, axis=0)
add("select", [B, ~B], [F, F2])
add("isin", I, np.array([1, 2], "int32"))

# ------------------------------------------------------------------ nn
X4 = R.normal(size=(2, 5)).astype("float32") * 3
for op in ["relu", "relu6", "sigmoid", "softplus", "softsign", "silu", "elu", "selu",
           "leaky_relu", "hard_sigmoid", "hard_silu", "log_sigmoid", "celu", "hard_tanh",
           "tanh_shrink", "soft_shrink", "hard_shrink", "squareplus", "sparse_plus",
           "sparse_sigmoid", "sparsemax", "glu", "softmax", "log_softmax"]:
    add(op, X4[:, :4])
add("gelu", X4)
add("gelu", X4, approximate=False)
add("leaky_relu", X4, negative_slope=0.3)
add("elu", X4, alpha=0.5)
add("softmax", F3, axis=1)
add("log_softmax", F3, axis=0)
add("softmax", I.astype("float32"), axis=(0, 1))
add("relu", I)
add("threshold", X4, 0.5, -1.0)
add("one_hot", np.array([0, 2, 1], "int32"), 4)
add("one_hot", np.array([[0, 2], [3, 1]], "int32"), 4, axis=1, dtype="int32")
add("multi_hot", np.array([[0, 2], [3, 1]], "int32"), 4)
add("moments", F3, axes=[0, 1])
add("moments", F3, axes=[2], keepdims=True)
add("batch_normalization", F, np.ones(4, "float32") * 0.1, np.full(4, 2.0, "float32"), axis=-1,
    offset=np.arange(4, dtype="float32"), scale=np.full(4, 0.5, "float32"), epsilon=1e-3)
T = np.eye(5, dtype="float32")[[0, 3]]
add("categorical_crossentropy", T, np.abs(X4) / np.abs(X4).sum(-1, keepdims=True))
add("categorical_crossentropy", T, X4, from_logits=True)
add("sparse_categorical_crossentropy", np.array([0, 3], "int32"), X4, from_logits=True)
add("sparse_categorical_crossentropy", np.array([1, 4], "int32"),
    np.abs(X4) / np.abs(X4).sum(-1, keepdims=True))
add("binary_crossentropy", (F > 0).astype("float32"), P / 1.2)
add("binary_crossentropy", (F > 0).astype("float32"), F, from_logits=True)
add("normalize", F)
add("normalize", F, axis=0, order=1)
add("layer_normalization", F3, np.full(4, 2.0, "float32"), np.ones(4, "float32"))
add("layer_normalization", F3, axis=(1, 2))
add("rms_normalization", F3, np.full(4, 2.0, "float32"))
add("psnr", P, P * 0.9, 1.0)

IMG = R.normal(size=(2, 5, 5, 3)).astype("float32")
SEQ = R.normal(size=(2, 7, 3)).astype("float32")
K2 = R.normal(size=(3, 3, 3, 4)).astype("float32")
K1 = R.normal(size=(3, 3, 2)).astype("float32")
for pad in ["valid", "same"]:
    for strides in [1, 2]:
        add("conv", IMG, K2, strides=strides, padding=pad, rtol=1e-4, atol=1e-5)
        add("conv", SEQ, K1, strides=strides, padding=pad, rtol=1e-4, atol=1e-5)
        add("max_pool", IMG, 2, strides=strides, padding=pad)
        add("average_pool", IMG, 3, strides=strides, padding=pad)
        add("average_pool", SEQ, 2, strides=strides, padding=pad)
        add("depthwise_conv", IMG, R.normal(size=(2, 2, 3, 2)).astype("float32"),
            strides=strides, padding=pad, rtol=1e-4, atol=1e-5)
        add("conv_transpose", IMG, R.normal(size=(3, 3, 2, 3)).astype("float32"),
            strides=strides, padding=pad, rtol=1e-4, atol=1e-5)
add("conv", IMG, K2, dilation_rate=2, rtol=1e-4, atol=1e-5)
IMG6 = R.normal(size=(1, 6, 6, 2)).astype("float32")  # 'same', stride 2: padding (0, 1)
add("average_pool", IMG6, 3, strides=2, padding="same")
add("max_pool", IMG6, 3, strides=2, padding="same")
add("conv", IMG6, K2[:, :, :2], strides=2, padding="same", rtol=1e-4, atol=1e-5)
add("conv", np.transpose(IMG, (0, 3, 1, 2)).copy(), K2, data_format="channels_first",
    rtol=1e-4, atol=1e-5)
add("separable_conv", IMG, R.normal(size=(2, 2, 3, 2)).astype("float32"),
    R.normal(size=(1, 1, 6, 4)).astype("float32"), padding="same", rtol=1e-4, atol=1e-5)
add("depth_to_space", R.normal(size=(1, 2, 2, 4)).astype("float32"), 2)
add("space_to_depth", IMG[:, :4, :4], 2)

# ------------------------------------------------------------------ math and linalg
add("segment_sum", F, np.array([0, 0, 2], "int32"), num_segments=3)
add("segment_max", F, np.array([0, 1, 1], "int32"), num_segments=2)
add("extract_sequences", np.arange(10, dtype="float32").reshape(1, 10), 4, 3)
add("logdet", SPD, rtol=1e-4)
add("norm", F)
add("norm", F, ord=1, axis=1)
add("norm", F, ord="fro")
add("norm", F, ord=2, rtol=1e-4)
add("norm", V, ord=np.inf)
add("norm", F3, axis=(1, 2), keepdims=True)
add("inv", SQ, rtol=1e-4, atol=1e-5)
add("det", SQ, rtol=1e-4)
add("solve", SQ, F[:, :2], rtol=1e-4, atol=1e-5)
add("cholesky", SPD, rtol=1e-4, atol=1e-5)
add("cholesky", SPD, upper=True, rtol=1e-4, atol=1e-5)
add("svd", F, compute_uv=False, rtol=1e-4, atol=1e-5)
add("slogdet", SQ, rtol=1e-4, atol=1e-5)
add("solve_triangular", np.tril(SQ), F[:, :2], lower=True, rtol=1e-4, atol=1e-5)
add("pinv", F, rtol=1e-3, atol=1e-4)
add("matrix_rank", F)
add("lstsq", SQ, F[:, :2], rtol=1e-3, atol=1e-4)
add("cholesky_inverse", np.linalg.cholesky(SPD).astype("float32"), rtol=1e-4, atol=1e-5)

# ------------------------------------------------------------------ core
add("cast", F, "int32")
add("cast", I, "float16")
add("convert_to_tensor", F64)
add("convert_to_tensor", I64)
add("convert_to_tensor", [1, 2, 3])
add("convert_to_tensor", [1.0, 2])
add("convert_to_tensor", 3)
add("convert_to_tensor", True)
add("convert_to_tensor", F, dtype="int32")
add("saturate_cast", np.array([-300.0, 12.7, 300.0], "float32"), "uint8")
add("saturate_cast", np.array([-300, 12, 70000], "int32"), "int16")
add("slice", F3, (0, 1, 1), (2, 2, 2))
add("slice_update", F, (1, 1), np.zeros((2, 2), "float32"))
add("scatter", np.array([[0, 1], [2, 0], [0, 1]], "int32"), np.array([1.0, 2.0, 3.0], "float32"),
    (3, 2))
add("scatter_update", F, np.array([[0, 1], [2, 3]], "int32"), np.array([9.0, 8.0], "float32"))
add("unstack", F3, axis=1)
add("stop_gradient", F)
add("get_item", F, 1)


@pytest.mark.parametrize("name,args,kwargs,ns,rtol,atol,check_dtype", CASES)
def test_op_matches_keras(keras3, name, args, kwargs, ns, rtol, atol, check_dtype):
    ref = getattr(keras3.ops, name)(*args, **kwargs)
    ours = getattr(ops, name)(*args, **kwargs)
    if name in ("shape", "size", "ndim") or not hasattr(ref, "dtype") and not isinstance(
            ref, (list, tuple)):
        assert tuple(np.atleast_1d(ours)) == tuple(np.atleast_1d(ref)) if name != "shape" \
            else ours == ref
        return
    _compare(keras3, ref, ours, rtol, atol, check_dtype)


@pytest.mark.parametrize("reduction", [None, "add", "max", "min", "mul"])
def test_scatter_update_reductions(keras3, reduction):
    x = np.arange(12, dtype="float32").reshape(3, 4)
    idx = np.array([[0, 1], [2, 3], [0, 1]], "int32")  # duplicate index
    upd = np.array([5.0, -1.0, 7.0], "float32")
    if reduction is None:  # duplicates: last write wins in XLA, unspecified in torch
        idx, upd = idx[:2], upd[:2]
    kw = {} if reduction is None else {"reduction": reduction}
    ref = keras3.ops.scatter_update(x, idx, upd, **kw)
    ours = ops.scatter_update(x, idx, upd, **kw)
    np.testing.assert_allclose(ops.convert_to_numpy(ours), np.asarray(ref))


def test_fft_round_trip_matches_keras(keras3):
    real, imag = F, F2
    ref = keras3.ops.fft((real, imag))
    ours = ops.fft((real, imag))
    _compare(keras3, ref, ours, 1e-4, 1e-5)
    _compare(keras3, keras3.ops.rfft(V), ops.rfft(V), 1e-4, 1e-5)
    _compare(keras3, keras3.ops.irfft(keras3.ops.rfft(V)), ops.irfft(ops.rfft(V)), 1e-4, 1e-5)


def test_qr_eigh_reconstruct(keras3):
    q, r = ops.qr(F)
    np.testing.assert_allclose(ops.convert_to_numpy(q @ r), F, atol=1e-5)
    ref_r = np.asarray(keras3.ops.qr(F)[1])
    np.testing.assert_allclose(np.abs(ops.convert_to_numpy(r)), np.abs(ref_r), atol=1e-5)
    w, v = ops.eigh(SPD)
    np.testing.assert_allclose(ops.convert_to_numpy(w), np.asarray(keras3.ops.eigh(SPD)[0]),
                               rtol=1e-4)
