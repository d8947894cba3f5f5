"""`keras.ops.math` / `keras.ops.linalg` (and the spectral ops of `kerastorch.ops.signal`)
against Keras 3 on JAX, beyond the cases of test_ops_keras.py: several dtypes, axes, batches,
edge cases (empty, dropped ids, ties, NaN, singular matrices), errors, and the ops recorded in
functional models."""

import numpy as np
import pytest
import torch

import kerastorch
import kerastorch.ops as ops

pytestmark = pytest.mark.conformance

R = np.random.default_rng(7)
F = R.normal(size=(3, 4)).astype("float32")
F3 = R.normal(size=(2, 3, 4)).astype("float32")
SQ = (R.normal(size=(3, 3)) + 3 * np.eye(3)).astype("float32")
SQ3 = (R.normal(size=(2, 3, 3)) + 3 * np.eye(3)).astype("float32")
SPD = (SQ @ SQ.T + np.eye(3)).astype("float32")
SPD3 = (SQ3 @ np.swapaxes(SQ3, -1, -2) + np.eye(3)).astype("float32")
SIG = R.normal(size=(37,)).astype("float32")
SIG2 = R.normal(size=(2, 3, 40)).astype("float32")
NAN = np.array([[1.0, np.nan, 3.0, 3.0], [2.0, 2.0, 0.5, np.nan]], "float32")


def _flat(x):
    if isinstance(x, (list, tuple)):
        return [y for e in x for y in _flat(e)]
    return [x]


def _same(keras3, ref, ours, rtol=1e-5, atol=1e-6, dtype=True):
    ref, ours = _flat(ref), _flat(ours)
    assert len(ref) == len(ours)
    for r, o in zip(ref, ours):
        assert isinstance(o, torch.Tensor), type(o)
        if dtype:
            assert keras3.backend.standardize_dtype(r.dtype) == str(o.dtype).split(".")[-1], \
                (r.dtype, o.dtype)
        r = np.asarray(keras3.ops.convert_to_numpy(r))
        o = ops.convert_to_numpy(o)
        assert r.shape == o.shape, (r.shape, o.shape)
        if r.dtype == bool or o.dtype == bool:
            np.testing.assert_array_equal(o, r)
        else:
            kind = complex if np.iscomplexobj(r) else float
            np.testing.assert_allclose(o.astype(kind), r.astype(kind), rtol=rtol, atol=atol)


CASES = []
TOL = {"rtol": 1e-4, "atol": 1e-5}  # factorizations, FFTs
HALF = {"rtol": 2e-3, "atol": 2e-3}


def add(name, *args, rtol=1e-5, atol=1e-6, dtype=True, **kwargs):
    CASES.append(pytest.param(name, args, kwargs, rtol, atol, dtype,
                              id=f"{name}-{len(CASES)}"))


def each(name, *arg_tuples, **kwargs):
    for args in arg_tuples:
        add(name, *args, **kwargs)


def i32(*rows):
    return np.array(rows, "int32")


# ------------------------------------------------------------------ segment reductions
DATA = i32(1, 2, 10, 20, 100, 200)
IDS = i32(0, 0, 1, 1, 4, -1)  # segments 2 and 3 empty; -1 and 4 (>= num_segments) dropped
for op in ["segment_sum", "segment_max", "segment_min", "segment_prod"]:
    for dt in ["int32", "float32", "float16", "uint8"]:
        add(op, DATA.astype(dt), IDS, num_segments=4)
    add(op, DATA.astype("int8") // 4, IDS, num_segments=4)
    add(op, R.normal(size=(6, 2, 3)).astype("float32"), np.array([0, 1, 1, 2, 2, 2]),
        num_segments=3, sorted=True)
    add(op, np.array([np.nan, 2, 3, 4], "float32"), np.array([0, 0, 1, 1]), num_segments=2)
each("segment_max", (DATA > 5, IDS), num_segments=4)
each("segment_min", (DATA > 5, IDS), num_segments=4)
each("segment_sum", (F, np.array([2, 2, 0], "int64")), num_segments=3)

# ------------------------------------------------------------------ top_k / in_top_k
each("top_k", (NAN, 2), (i32(1, 3, 3, 3, 2, 3, 3), 3),  # ties go to the lower index
     (np.array([0.0, 1, 1, 1, 1, 1, 1, 1, 1, 0] * 12, "float32"), 5),
     (np.array([3, 9, 1], "uint8"), 2), (np.array([True, False, True]), 2), (F, 0))
add("top_k", F3, 4, sorted=False)
each("in_top_k", (i32(1, 0), NAN, 1), (i32(1, 3), NAN, 3),  # NaN at the target ranks last
     (i32(2, 0, 1), np.array([[1, 2, 2], [3, 2, 1], [0, 5, 5]]), 1),  # ties count as in
     (i32(-1, 7), np.array([[3.0, 2, 1], [1, 2, 3]]), 3),  # -1 wraps, 7 is out
     (i32(0, 1), i32([3, 2, 1], [1, 2, 3]), 0), (np.array(1), np.array([1.0, 2, 2]), 1),
     (i32(1), np.array([[True, False]]), 1))

# ------------------------------------------------------------------ logsumexp and elementwise
for dt in ["float32", "float16", "int32", "int8", "bool"]:
    add("logsumexp", (np.arange(12).reshape(3, 4) % 5).astype(dt), axis=-1,
        rtol=1e-3 if dt == "float16" else 1e-5)
for kw in [{}, {"axis": (0, -1), "keepdims": True}, {"axis": [0, 2]},
           {"axis": 1, "keepdims": True}]:
    add("logsumexp", F3, **kw)
add("logsumexp", np.zeros((0, 3), "float32"), axis=0)
add("logsumexp", np.array([[-np.inf, -np.inf], [np.inf, 1.0], [np.nan, 1.0]], "float32"), axis=1)
each("logsumexp", (3.0,), (R.normal(size=(3,)),))  # numpy float64 -> float32
U = np.array([-0.9, -0.5, 0.0, 0.3, 0.99], "float32")
P = np.array([0.01, 0.5, 1.0, 4.0, 100.0], "float32")
for op, x in [("erf", U * 3), ("erfc", U * 3), ("erfinv", U), ("rsqrt", P)]:
    each(op, (x,), (x.astype("float64"),), (np.array([[x[0]], [x[-1]]], "float32"),))
    add(op, x.astype("float16"), **HALF)
for op in ["erfc", "erfinv"]:
    each(op, (i32(0, 1, 0, 1),), (np.array([True, False]),))
add("erfinv", np.array([-1.0, 1.0, 1.5, np.nan], "float32"))
add("rsqrt", np.array([0.0, -1.0, np.inf], "float32"))

# ------------------------------------------------------------------ logdet / cdist
M22 = [[1, 2], [3, 4]]  # negative determinant: Keras' logdet is log|det|, finite
each("logdet", (np.array(M22, "float32"),), (i32(*M22),), (np.ones((2, 2), "float32"),))
add("logdet", SPD3, rtol=1e-4)
add("logdet", np.array(M22, "float16"), rtol=1e-3)
A = R.normal(size=(4, 3)).astype("float32")
B = R.normal(size=(5, 3)).astype("float32")
each("cdist", (A, B), (A, A), ((A * 3).astype("int32"), (B * 3).astype("int32")),
     (R.normal(size=(2, 1, 3, 2)).astype("float32"), R.normal(size=(4, 5, 2)).astype("float32")),
     (R.normal(size=(30, 8)).astype("float32") * 100,  # far apart: no cancellation
      R.normal(size=(40, 8)).astype("float32") * 100 + 1000))
each("cdist", (A.astype("float16"), B.astype("float16")), (A.astype("float16"), B),
     (A.astype("float16"), (B * 3).astype("int32")), **HALF)

# ------------------------------------------------------------------ complex views
each("view_as_complex", (F3[..., :2],), (np.ones((3, 2), "int32"),),
     (np.ones((3, 2), "float16"),), (R.normal(size=(2, 2)),))
each("view_as_real", ((F + 2j * F).astype("complex64"),), (F,), (np.arange(3, dtype="int32"),),
     (np.complex64(1 + 2j),))

# ------------------------------------------------------------------ framing and FFTs
X10 = np.arange(10, dtype="float32")
each("extract_sequences", (X10, 4, 3), (X10.astype("int32"), 4, 3), (X10 > 4, 3, 2),
     (X10, 12, 3), (X10, 10, 3), (SIG2, 5, 2), (SIG2, 8, 8),
     (np.ones((0, 10), "float32"), 5, 2))
RE, IM = F3, F3[::-1].copy()
for op in ["fft", "fft2", "ifft2"]:
    each(op, ((RE, IM),), ([RE[0], IM[0]],), **TOL)
each("fft", ((SIG, SIG[::-1].copy()),), rtol=1e-4, atol=1e-4)
each("rfft", (F3,), (SIG,), (F3, 6), (F3, 3), ((F3 * 4).astype("int32"),), (F3 > 0,),
     rtol=1e-4, atol=1e-4)
each("irfft", ((RE, IM),), ((RE, IM), 5), ((RE, IM), 9), **TOL)

# ------------------------------------------------------------------ stft / istft
STFT_ARGS = [(4, 2, 4, {}), (4, 2, 4, {"center": False}), (4, 2, 8, {}), (5, 3, 8, {}),
             (3, 2, 5, {}), (8, 4, 8, {"window": "hamming"}), (4, 2, 8, {"window": None}),
             (6, 2, 6, {"window": None, "center": False}),
             (4, 1, 6, {"window": np.array([1.0, -2.0, 1.0, -3.0], "float32")}),
             (16, 5, 16, {"window": "hann"}), (1, 1, 1, {})]
for length, stride, n, kw in STFT_ARGS:
    add("stft", SIG, length, stride, n, rtol=1e-4, atol=1e-4, **kw)
each("stft", (SIG2, 8, 3, 10), (SIG.astype("float64"), 8, 3, 10),
     (SIG[:3], 4, 2, 8), rtol=1e-4, atol=1e-4)  # last: reflect pad longer than the signal


@pytest.mark.parametrize("length,stride,n,kw", STFT_ARGS[:-1] + [(6, 3, 8, {"window": None})])
def test_istft_matches_keras(keras3, length, stride, n, kw):
    spec = keras3.ops.stft(SIG, length, stride, n, **kw)
    spec = tuple(np.asarray(s) for s in spec)
    for extra in ({}, {"length": 37}, {"length": 20}):
        ref = keras3.ops.istft(spec, length, stride, n, **kw, **extra)
        ours = ops.istft(spec, length, stride, n, **kw, **extra)
        _same(keras3, ref, ours, rtol=1e-4, atol=1e-4)


def test_istft_without_overlap_reconstructs():
    # Keras on JAX is off here: scipy-in-JAX reads noverlap=0 as "nperseg // 2"
    for window in (None, "hann"):
        spec = ops.stft(SIG, 8, 8, 8, window=window, center=False)
        back = ops.convert_to_numpy(ops.istft(spec, 8, 8, 8, window=window, center=False))
        assert back.shape == (32,)
        if window is None:
            np.testing.assert_allclose(back, SIG[:32], rtol=1e-5, atol=1e-5)


def test_istft_batched_and_degenerate_match_keras(keras3):
    spec = tuple(np.asarray(s) for s in keras3.ops.stft(SIG2, 8, 3, 10))
    _same(keras3, keras3.ops.istft(spec, 8, 3, 10), ops.istft(spec, 8, 3, 10), 1e-4, 1e-4)
    one = tuple(np.asarray(s) for s in keras3.ops.stft(X10, 1, 1, 1))
    _same(keras3, keras3.ops.istft(one, 1, 1, 1), ops.istft(one, 1, 1, 1))  # empty in Keras


# ------------------------------------------------------------------ linalg
S22 = i32([4, 2], [2, 3])
each("det", (SQ3,), (S22,), (np.eye(2, dtype=bool),), (np.ones((2, 2), "float32"),), **TOL)
each("inv", (SQ3,), (S22,), (np.ones((2, 2), "float32"),), **TOL)  # singular: inf, no error
each("det", (S22.astype("float16"),), ((S22 @ S22).astype("float32"),), rtol=1e-3)
each("cholesky_inverse", (np.linalg.cholesky(SPD).astype("float32"),), (i32([4, 2], [2, 1]),),
     **TOL)
add("cholesky_inverse", np.linalg.cholesky(SPD).T.astype("float32"), upper=True, **TOL)
add("cholesky_inverse", np.array([[2, 0], [1, 1]], "float16"), **HALF)
each("cholesky", (SPD3,), (S22,), **TOL)
add("cholesky", SPD3, upper=True, **TOL)
each("eigh", (SPD,), (SPD3,), (S22,),
     (np.array([[2.0, 1.0], [3.0, 2.0]], "float32"),), rtol=1e-4, atol=1e-4)  # symmetrized
each("eig", (S22,), (np.array([[2.0, 0.0], [1.0, 3.0]], "float32"),), rtol=1e-4, atol=1e-4)
each("lu_factor", (SQ,), (SQ3,), (F,), (F.T.copy(),), (S22,), (np.ones((2, 2), "float32"),))
DIAG = np.diag([1.0, 0.5, 1e-3]).astype("float32")
each("matrix_rank", (DIAG,), (np.stack([np.eye(3), np.ones((3, 3))]).astype("float32"),),
     (np.ones((2, 3), "int32"),))
for tol in (0.1, 0.0):
    add("matrix_rank", DIAG, tol=tol)
add("pinv", np.diag([1.0, 5e-6]).astype("float32"), rtol=1e-4)   # JAX's default cutoff
add("pinv", DIAG, rcond=0.01, rtol=1e-4)
each("pinv", (SQ3,), (i32([1, 2], [3, 4], [5, 6]),), rtol=1e-3, atol=1e-4)
Q32 = np.array([[1.0, 2], [3, 4], [5, 6]], "float32")
each("qr", (Q32,), (i32([1, 2, 0], [3, 4, 1]),), **TOL)
add("qr", Q32, mode="complete", **TOL)
add("svd", F, full_matrices=False, **TOL)
add("svd", F3, compute_uv=False, **TOL)
add("svd", S22, **TOL)
each("solve", (SQ, R.normal(size=(3,)).astype("float32")),
     (SQ3, R.normal(size=(2, 3, 2)).astype("float32")),
     (SQ3, R.normal(size=(3, 5)).astype("float32")),  # b broadcast over a's batch
     (S22, i32(1, 2)), (np.ones((2, 2), "float32"), np.ones(2, "float32")),  # singular: NaN
     **TOL)
add("solve", S22.astype("float16"), np.array([1.0, 2.0], "float32"), rtol=1e-3)
each("solve_triangular", (np.tril(SQ), R.normal(size=(3,)).astype("float32")),
     (SQ3, R.normal(size=(2, 3, 4)).astype("float32")), (i32([2, 0], [1, 1]), i32([1], [2])),
     lower=True, **TOL)
add("solve_triangular", SQ, R.normal(size=(3, 2)).astype("float32"), **TOL)
each("lstsq", (F.T.copy(), R.normal(size=(4,)).astype("float32")),
     (F, R.normal(size=(3, 2)).astype("float32")),  # wide
     (np.ones((3, 2), "float32"), np.ones(3, "float32")),  # rank deficient
     (np.ones((3, 2), "int32"), np.arange(3, dtype="int32")), **TOL)
add("lstsq", np.array([[1, 0], [0, 1e-4]], "float32"), np.ones(2, "float32"), rcond=1e-3)
NF = (np.arange(12, dtype="float32").reshape(3, 4) - 5) * np.array([1, -2, 0.5, 3], "float32")
for kw in [{}, {"ord": 1}, {"ord": -1}, {"ord": 2}, {"ord": "fro"}, {"ord": "nuc"},
           {"ord": np.inf}, {"ord": -np.inf}, {"ord": 0, "axis": 1}, {"ord": 3, "axis": -1},
           {"ord": -np.inf, "axis": 0}, {"ord": 0.5, "axis": 1}, {"axis": 0, "keepdims": True},
           {"axis": (1, 0), "ord": 1}, {"axis": (0, 1), "ord": np.inf, "keepdims": True},
           {"keepdims": True}]:
    add("norm", NF, **TOL, **kw)
add("norm", F3, axis=(-1, -2), ord="nuc", rtol=1e-4)
add("norm", F3, keepdims=True)
add("norm", F3[0, 0], ord=1)
add("norm", NF > 0, axis=1)
each("norm", ((NF * 2).astype("int32"),), (np.float32(-3.0),), (np.zeros((0,), "float32"),),
     (np.ones(3, "complex64") * (1 + 1j),))


@pytest.mark.parametrize("name,args,kwargs,rtol,atol,check_dtype", CASES)
def test_op_matches_keras(keras3, name, args, kwargs, rtol, atol, check_dtype):
    _same(keras3, getattr(keras3.ops, name)(*args, **kwargs),
          getattr(ops, name)(*args, **kwargs), rtol, atol, check_dtype)


def test_namespaces_are_the_same_functions():
    for name in ["segment_sum", "top_k", "stft", "istft", "rfft", "extract_sequences", "erf"]:
        assert getattr(ops, name) is getattr(ops.math, name)
    for name in ["norm", "svd", "lstsq", "cholesky", "jvp"]:
        assert getattr(ops, name) is getattr(ops.linalg, name)


def test_segment_num_segments_inferred_from_the_ids():
    out = ops.segment_sum(np.array([1.0, 2.0, 3.0], "float32"), np.array([0, 2, 2]))
    np.testing.assert_allclose(ops.convert_to_numpy(out), [1.0, 0.0, 5.0])
    assert ops.segment_max(np.ones((0, 2), "float32"), np.zeros((0,), "int32")).shape == (0, 2)


def test_segment_reductions_take_gradients():
    x = torch.tensor([1.0, 5.0, 3.0, 2.0], requires_grad=True)
    ids = np.array([0, 0, 1, 1])
    (ops.segment_max(x, ids, num_segments=2).sum() + ops.segment_sum(x, ids, num_segments=2)
     .sum() + ops.segment_prod(x, ids, num_segments=2).sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), [0 + 1 + 5, 1 + 1 + 1, 1 + 1 + 2, 0 + 1 + 3])


def test_cholesky_inverse_of_batches():
    # Keras on JAX transposes all axes of a batch here (and fails); the inverse per matrix:
    chol = np.linalg.cholesky(SPD3).astype("float32")
    for upper, factor in ((False, chol), (True, np.swapaxes(chol, -1, -2).copy())):
        got = ops.convert_to_numpy(ops.cholesky_inverse(factor, upper=upper))
        np.testing.assert_allclose(got, np.linalg.inv(SPD3), rtol=1e-4, atol=1e-5)


def test_jvp_matches_keras(keras3):
    x, t = F[0], np.ones(4, "float32")
    ref = keras3.ops.jvp(lambda v: keras3.ops.sin(v) * v, (x,), (t,))
    ours = ops.jvp(lambda v: torch.sin(v) * v, (x,), (t,))
    _same(keras3, ref, ours)
    ref = keras3.ops.jvp(lambda v: (keras3.ops.sum(v ** 2), v + 1), [x], [t], has_aux=True)
    ours = ops.jvp(lambda v: ((v ** 2).sum(), v + 1), [x], [t], has_aux=True)
    _same(keras3, ref, ours)


def test_eig_reconstructs_as_keras(keras3):
    m = np.array([[2.0, 1.0, 0.0], [0.5, 3.0, 1.0], [0.0, 0.2, 1.0]], "float32")
    w, v = (ops.convert_to_numpy(t) for t in ops.eig(m))
    np.testing.assert_allclose(m @ v, v * w, atol=1e-5)
    ref_w = np.asarray(keras3.ops.eig(m)[0])
    np.testing.assert_allclose(np.sort_complex(w), np.sort_complex(ref_w), rtol=1e-5)


ERRORS = [
    ("segment_sum", (DATA, IDS.reshape(2, 3)), {"num_segments": 2}, ValueError, "1-D vector"),
    ("segment_sum", (DATA, IDS[:4]), {"num_segments": 2}, ValueError, "same leading"),
    ("top_k", (np.ones(3, "float32"), 5), {}, ValueError, "no larger than"),
    ("cdist", (np.ones(3, "float32"), np.ones((4, 3), "float32")), {}, ValueError, "rank"),
    ("cdist", (np.ones((2, 3)), np.ones((4, 2))), {}, ValueError, "must match"),
    ("view_as_complex", (np.ones((3, 3), "float32"),), {}, ValueError, "size 2"),
    ("fft", ((F, F[:1]),), {}, ValueError, "same shape"),
    ("fft", ((F.astype("int32"), F.astype("int32")),), {}, ValueError, "not of type float"),
    ("fft", (F,), {}, ValueError, None),
    ("stft", (X10.astype("int32"), 4, 2, 4), {}, TypeError, "Expected `float32`"),
    ("stft", (X10, 4, 2, 3), {}, ValueError, "fft_length"),
    ("stft", (X10, 4, 0, 4), {}, ValueError, "positive integer"),
    ("stft", (X10, 4, 2, 4), {"window": "blackman"}, ValueError, "must be one of"),
    ("stft", (X10, 4, 2, 4), {"window": np.ones(3, "float32")}, ValueError, "shape of"),
    ("istft", ((np.ones(3, "float32"),) * 2, 4, 2, 4), {}, ValueError, "2 dimensions"),
    ("cholesky", (np.array([[1.0, 2.0], [2.0, 1.0]]),), {}, ValueError, "Cholesky decompos"),
    ("cholesky", (np.ones(3, "float32"),), {}, ValueError, "rank >= 2"),
    ("inv", (np.ones((2, 3), "float32"),), {}, ValueError, "square"),
    ("det", (np.ones(2, "float32"),), {}, ValueError, "rank >= 2"),
    ("qr", (F,), {"mode": "r"}, ValueError, "`mode` argument"),
    ("matrix_rank", (np.ones(3, "float32"),), {}, ValueError, "rank >= 2"),
    ("pinv", (np.ones(3, "float32"),), {}, ValueError, "rank >= 2"),
    ("norm", (F,), {"ord": "bad"}, ValueError, None),
    ("norm", (F,), {"ord": "fro", "axis": 1}, ValueError, None),
    ("norm", (F,), {"ord": 3}, ValueError, None),
    ("norm", (F3,), {"ord": 1}, ValueError, "Improper number of axes"),
]


@pytest.mark.parametrize("name,args,kwargs,error,match", ERRORS,
                         ids=[f"{e[0]}-{i}" for i, e in enumerate(ERRORS)])
def test_errors_match_keras(keras3, name, args, kwargs, error, match):
    with pytest.raises(error, match=match):
        getattr(keras3.ops, name)(*args, **kwargs)
    with pytest.raises(error, match=match):
        getattr(ops, name)(*args, **kwargs)


def test_lstsq_refuses_what_keras_refuses():
    with pytest.raises(ValueError, match="rank 2"):
        ops.lstsq(np.ones((2, 3, 2), "float32"), np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match=r"b.shape\[0\]"):
        ops.lstsq(np.ones((3, 2), "float32"), np.ones(4, "float32"))


def test_half_precision_linalg_keeps_its_dtype():
    h = np.array([[4.0, 2.0], [2.0, 3.0]], "float16")
    want = np.linalg.inv(h.astype("float64"))
    for fn in (ops.inv, ops.pinv):
        out = fn(h)
        assert out.dtype == torch.float16
        np.testing.assert_allclose(ops.convert_to_numpy(out), want, rtol=2e-3)
    assert ops.norm(h, ord=2).dtype == torch.float16
    assert ops.svd(torch.tensor(h, dtype=torch.bfloat16))[1].dtype == torch.bfloat16
    assert ops.rfft(h)[0].dtype == torch.float16
    assert ops.inv(torch.tensor(h, dtype=torch.float64)).dtype == torch.float64


def _functional(lib):
    ops_ = lib.ops
    inp = lib.Input((16,))
    h = lib.layers.Dense(16, name="d")(inp)
    values, _ = ops_.top_k(h, 3)
    real, imag = ops_.stft(h, 8, 4, 8)
    # (no ops.norm(axis=...): Keras' Norm op keeps the axis as a list, which JAX cannot hash)
    return lib.Model(inp, [ops_.logsumexp(h, axis=-1), values, ops_.erf(h), real, imag,
                           ops_.extract_sequences(h, 4, 4), ops_.rsqrt(ops_.abs(h) + 1)])


def test_ops_in_functional_models_match_keras(keras3, tmp_path):
    ref, ours = _functional(keras3), _functional(kerastorch)
    ours.set_weights(ref.get_weights())
    x = R.normal(size=(5, 16)).astype("float32")
    want = ref.predict(x, verbose=0)
    for g, w, t_ref, t_ours in zip(ours.predict(x, verbose=0), want, ref.outputs, ours.outputs):
        assert t_ours.shape == tuple(t_ref.shape)
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4)
    ref.save(tmp_path / "k.keras")
    loaded = kerastorch.models.load_model(tmp_path / "k.keras")
    for g, w in zip(loaded.predict(x, verbose=0), want):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4)
    assert [type(op).__name__ for op in ref.operations] == \
        [type(op).__name__ for op in keras3.saving.load_model(tmp_path / "k.keras").operations]


def test_top_k_orders_signed_zeros_and_nans_as_keras(keras3):
    x = np.array([0.0, -0.0, np.nan, 1.0, -np.nan, -np.inf, np.inf, 0.0, np.nan], "float32")
    for k in (1, 4, 9):
        for dtype in ("float32", "float16"):
            ref = keras3.ops.top_k(x.astype(dtype), k)
            ours = ops.top_k(x.astype(dtype), k)
            np.testing.assert_array_equal(ops.convert_to_numpy(ours[1]), np.asarray(ref[1]))
            np.testing.assert_array_equal(np.signbit(ops.convert_to_numpy(ours[0])),
                                          np.signbit(np.asarray(ref[0])))
    big = R.integers(-3, 3, size=(4, 300)).astype("int8")  # many ties
    _same(keras3, keras3.ops.top_k(big, 20), ops.top_k(big, 20))
    wide = np.round(R.normal(size=(3, 500)), 1).astype("float32")
    _same(keras3, keras3.ops.top_k(wide, 50), ops.top_k(wide, 50))
    f64 = torch.tensor([1.0, 3.0, 2.5, 2.0], dtype=torch.float64)  # torch.topk's path
    assert ops.top_k(f64, 2)[1].tolist() == [1, 2]
    assert ops.top_k(f64, 2)[0].dtype == torch.float64
