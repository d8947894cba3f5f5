"""keras.ops logic and sorting families against Keras 3 on JAX: comparisons, logical and bitwise
ops, value tests, sorting, searching, counting, histograms and correlations, with several
dtypes (promotion included: numpy scalars are strong, Python numbers weak), negative axes,
empty inputs, NaN and infinities. Values, shapes and Keras dtype names must all agree.
"""

import numpy as np
import pytest
import torch

import kerastorch.ops as ops

pytestmark = pytest.mark.conformance

try:
    import ml_dtypes
    BF16 = ml_dtypes.bfloat16
except ImportError:  # pragma: no cover
    BF16 = None

R = np.random.default_rng(7)
F = R.normal(size=(3, 5)).astype("float32")
F2 = R.normal(size=(3, 5)).astype("float32")
F3 = R.normal(size=(2, 3, 4)).astype("float32")
I = R.integers(-6, 7, size=(3, 5)).astype("int32")
I2 = R.integers(0, 4, size=(3, 5)).astype("int32")
U8 = np.array([255, 1, 0, 7, 128], "uint8")
I8 = np.array([-1, 1, 0, -128, 127], "int8")
I16 = np.array([-300, 5, 0, 9, 1000], "int16")
B = R.random((3, 5)) > 0.5
SPECIAL = np.array([1.0, np.nan, np.inf, -np.inf, 0.0, -0.0], "float32")
DUP = np.array([3, 1, 2, 1, 5, 3, 3, 0], "int32")
EMPTY = np.zeros((0,), "float32")


def _flat(x):
    if isinstance(x, (list, tuple)):
        return [y for e in x for y in _flat(e)]
    return [x]


def _compare(keras3, ref, ours, rtol=1e-5, atol=1e-6):
    ref, ours = _flat(ref), _flat(ours)
    assert len(ref) == len(ours)
    for r, o in zip(ref, ours):
        assert isinstance(o, torch.Tensor), type(o)
        assert keras3.backend.standardize_dtype(r.dtype) == ops.dtype(o), (r.dtype, o.dtype)
        r = np.asarray(keras3.ops.convert_to_numpy(r))
        o = ops.convert_to_numpy(o)
        assert r.shape == o.shape, (r.shape, o.shape)
        if r.dtype == bool:
            np.testing.assert_array_equal(o, r)
        else:
            np.testing.assert_allclose(o.astype("float64"), r.astype("float64"), rtol=rtol,
                                       atol=atol)


CASES = []


def add(name, *args, rtol=1e-5, atol=1e-6, **kwargs):
    CASES.append(pytest.param(name, args, kwargs, rtol, atol, id=f"{name}-{len(CASES)}"))


# ------------------------------------------------------------------ comparisons
PAIRS = [(F, F2), (I, F), (I, 2), (I, 2.5), (U8, I8), (U8, np.int8(-1)), (I8, 300 - 299),
         (F.astype("float16"), 0.1), (F.astype("float16"), np.float32(0.1)), (B, I),
         (SPECIAL, SPECIAL[::-1].copy()), (2.5, I), (I16, U8)]
if BF16 is not None:
    PAIRS.append((np.array([1.1, 2.0, -0.3], BF16), 1.1))
for op in ["equal", "not_equal", "greater", "greater_equal", "less", "less_equal"]:
    for a, b in PAIRS:
        add(op, a, b)
add("less", F3, F[0, :4])  # broadcasting
add("greater_equal", EMPTY, 1.0)

# ------------------------------------------------------------------ logical
for op in ["logical_and", "logical_or", "logical_xor"]:
    add(op, B, ~B)
    add(op, F, I)
    add(op, SPECIAL, 0)
    add(op, I, True)
add("logical_not", SPECIAL)
add("logical_not", B)
add("logical_not", U8)

# ------------------------------------------------------------------ bitwise
for op in ["bitwise_and", "bitwise_or", "bitwise_xor"]:
    add(op, I, I2)
    add(op, U8, 3)
    add(op, U8, I8)
    add(op, B, I[0])
    add(op, B, ~B)
    add(op, I16, np.int8(5))
for op in ["bitwise_invert", "bitwise_not"]:
    add(op, I)
    add(op, U8)
    add(op, B)
SHIFTS = np.array([1, 40, -1, 0, 31], "int32")
for op in ["bitwise_left_shift", "left_shift", "bitwise_right_shift", "right_shift"]:
    add(op, I8, 3)
    add(op, I8, 9)  # past the bit width
    add(op, np.array([1, 64, -3, 7, -1], "int32"), SHIFTS)
    add(op, U8, np.array([1, 2, 9, 0, 7], "uint8"))
    add(op, I16, I8.clip(0, 4))

# ------------------------------------------------------------------ closeness, membership
add("isclose", F, F + 1e-6)
add("isclose", np.array([1000000, 5, 7], "int32"), np.array([1000001, 5, 8], "int32"))
add("isclose", SPECIAL, SPECIAL)
add("isclose", SPECIAL, SPECIAL, equal_nan=True)
add("isclose", SPECIAL, 1.0)
add("isclose", F, F2, rtol=0.5, atol=0.5)
add("isclose", F.astype("float16"), F + 1e-3)
add("isclose", B, ~B)
for kwargs in ({}, {"atol": 0.2}, {"equal_nan": True}):
    add("allclose", np.array([1.0, 2.0, np.nan], "float32"),
        np.array([1.0, 2.1, np.nan], "float32"), **kwargs)
add("allclose", I, I)
add("allclose", I, I + 1)
add("allclose", F, F2)
add("isin", I, np.array([1, 2], "int32"))
add("isin", I, np.array([1.0, 2.5], "float32"))
add("isin", I, 2)
add("isin", B, np.array([1, 2], "int32"))
add("isin", B, np.array([True]))
add("isin", F3, F3[0, 0])
add("isin", I, I2, invert=True)
add("isin", SPECIAL, np.array([np.nan, np.inf], "float32"))
add("isin", U8, I8, assume_unique=True)

# ------------------------------------------------------------------ value tests
for op in ["isfinite", "isinf", "isnan", "isneginf", "isposinf", "isreal"]:
    add(op, SPECIAL)
    add(op, I)
    add(op, B)
    add(op, SPECIAL.astype("float16"))
add("isreal", np.array([1 + 0j, 2 + 1j, -3j], "complex64"))
add("isnan", np.array([np.nan, 1 + 1j, complex(1, np.nan)], "complex64"))

# ------------------------------------------------------------------ sorting
for op in ["sort", "argsort"]:
    add(op, F)
    add(op, F, axis=0)
    add(op, F3, axis=-2)
    add(op, F3, axis=None)
    add(op, I)
    add(op, DUP)
    add(op, B.ravel())
    add(op, U8)
    add(op, SPECIAL[[0, 1, 4, 2, 3]])  # NaN last; -0.0 before 0.0 keeps its place
    add(op, EMPTY)
    add(op, F.astype("float16"), axis=1)
add("argsort", np.array(3.0, "float32"))
add("argsort", np.array([[1.0, 1.0, 0.0], [2.0, 2.0, 2.0]], "float32"), axis=1)  # stable
X7 = np.array([5, 1, 4, 1, 3, 9, 0], "float32")
for kth in (0, 2, 6, -2):
    add("argpartition", X7, kth)
add("argpartition", X7.astype("int32"), 3)
add("argpartition", np.array([3, 1, 2], "uint8"), 0)
add("argpartition", np.array([[5, 1, 4], [1, 3, 9]], "float32"), 1, axis=0)
add("argpartition", np.array([[5, 1, 4], [1, 3, 9]], "float32"), 1, axis=None)
add("argpartition", F3, 1, axis=1)
add("argpartition", F3, 2)
add("argpartition", DUP, 4)
add("argpartition", np.array([3.0, np.nan, 1.0, 0.0], "float32"), 1)

# ------------------------------------------------------------------ searching
SEQ = np.array([-1.0, 0.0, 0.5, 2.0, 2.0, 3.0], "float32")
for side in ("left", "right"):
    add("searchsorted", SEQ, np.array([-2.0, 0.5, 2.0, 9.0, np.nan], "float32"), side=side)
    add("searchsorted", SEQ, 2.0, side=side)
    add("searchsorted", SEQ, F, side=side)
    add("searchsorted", np.array([1, 2, 3], "int32"), np.array([1.5, 2.0], "float32"),
        side=side)
    add("searchsorted", np.array([1.0, 2.0, 3.0], "float32"), np.array([2, 3], "int32"),
        side=side)
    add("searchsorted", np.array([0, 3, 3, 9], "int32"), I, side=side)
    add("searchsorted", SEQ, EMPTY, side=side)
BINS = np.array([-1.0, 0.0, 1.0], "float32")
add("digitize", F, BINS)
add("digitize", SPECIAL, BINS)
add("digitize", SPECIAL, BINS[::-1].copy())  # decreasing bins
add("digitize", F, [1.0, 0.5, -0.5])
add("digitize", I, np.array([-2, 0, 2, 2], "int32"))
add("digitize", I, np.array([0.5, 2.5], "float32"))
add("digitize", B, np.array([0.5], "float32"))
add("digitize", np.array(1.5, "float32"), np.array([1.0, 2.0], "float32"))
add("digitize", np.array([1, 2], "int32"), np.array([1, 2], "int32"))
add("digitize", F, [0.0])

# ------------------------------------------------------------------ counting
add("unique", DUP)
add("unique", DUP, sorted=False)
add("unique", DUP, return_index=True, return_inverse=True, return_counts=True)
add("unique", DUP, return_index=True)
add("unique", DUP, return_counts=True, size=8)
add("unique", DUP, return_index=True, return_counts=True, size=7, fill_value=-1)
add("unique", DUP, return_inverse=True, return_counts=True, size=3)
add("unique", DUP.reshape(2, 4), return_inverse=True)
add("unique", np.array([[1, 2], [1, 2], [0, 5]], "int32"), axis=0, return_index=True,
    return_inverse=True, return_counts=True)
add("unique", np.array([[1, 2], [1, 2], [0, 5]], "int32"), axis=-1, return_inverse=True)
add("unique", np.array([[1, 2], [1, 2], [0, 5]], "int32"), axis=0, size=4, fill_value=9)
add("unique", np.array([[1, 2], [1, 2], [0, 5]], "int32"), axis=0, size=4)
add("unique", np.array([3.0, np.nan, 1.0, np.nan, 1.0], "float32"), return_counts=True)
add("unique", np.array([True, False, True]), return_counts=True)
add("unique", EMPTY)
add("unique", EMPTY, size=2, fill_value=1.0, return_index=True)
add("unique", F.astype("float16").round(), return_inverse=True)
add("nonzero", I)
add("nonzero", F3 > 0)
add("nonzero", SPECIAL)
add("nonzero", EMPTY)
add("bincount", DUP)
add("bincount", DUP, minlength=10)
add("bincount", DUP, weights=np.linspace(0, 1, 8).astype("float32"))
add("bincount", DUP, weights=np.ones(8, "float16"))
add("bincount", DUP, weights=np.arange(8).astype("int8"))
add("bincount", DUP.astype("uint8"), weights=np.ones(8, "int32"))
add("bincount", np.array([True, False, True]))
add("bincount", np.array([-1, 2], "int32"))  # negatives count as 0, as Keras on JAX
add("bincount", np.array([[0, 1], [1, 1]], "int32"),
    weights=np.array([[0.5, 1.0], [2.0, 2.0]], "float32"), minlength=3)
add("bincount", np.array([[0, 1, 1], [2, 2, 0]], "int32"), minlength=3)
add("bincount", np.array([[0, 4], [2, 2]], "int32"), minlength=5)
add("bincount", np.zeros((0,), "int32"), minlength=3)
add("histogram", R.normal(size=(50,)).astype("float32"))
add("histogram", np.array([1, 2, 2, 3, 4], "int32"), bins=3)
add("histogram", np.array([1, 2, 2, 3, 4], "float16"), bins=3, rtol=1e-3)
add("histogram", np.array([1.0, 1.0, 1.0], "float32"), bins=2)
add("histogram", np.array([1, 2, 2, 3, 4, 9, -1], "float32"), bins=2, range=(0, 4))
add("histogram", np.array([0.5, 1.0, 1.5], "float32"), bins=4, range=(1.0, 1.0))
add("histogram", EMPTY, bins=2, range=(0.0, 4.0))
add("histogram", np.array([1.0, 2.0, 3.0], "float32"), bins=0)
add("histogram", np.array([True, False, True]), bins=2)
add("histogram", np.array([1.0, np.nan, 2.0, 3.0], "float32"), bins=2, range=(0.0, 3.0))
if BF16 is not None:
    add("histogram", np.array([1, 2, 2, 3, 4], BF16), bins=3, rtol=1e-2)

# ------------------------------------------------------------------ sequences
add("diff", F)
add("diff", F, axis=0)
add("diff", F3, n=2, axis=-2)
add("diff", np.array([1, 5, 2, 8], "int32"), n=2)
add("diff", np.array([1, 5, 2], "uint8"))
add("diff", np.array([True, False, False, True]))
add("diff", SPECIAL)
add("diff", F, n=0)
add("diff", F, n=7)
add("diff", F.astype("float16"), axis=1)
add("corrcoef", F, rtol=1e-4, atol=1e-5)
add("corrcoef", F[0], rtol=1e-4, atol=1e-5)
add("corrcoef", I, rtol=1e-4, atol=1e-5)
add("corrcoef", np.array([[1, 2, 3], [3, 1, 0]], "float16"), rtol=1e-2, atol=1e-3)
add("corrcoef", B.astype("int8"), rtol=1e-4, atol=1e-5)
add("corrcoef", F.T, rtol=1e-4, atol=1e-5)
if BF16 is not None:
    add("corrcoef", np.array([[1, 2, 3], [3, 1, 0]], BF16), rtol=2e-2, atol=1e-2)
A5 = np.array([1.0, 2.0, 3.0, -1.0, 0.5], "float32")
K3 = np.array([0.0, 1.0, 0.5], "float32")
K4 = np.array([0.0, 1.0, 0.5, 4.0], "float32")
for mode in ("valid", "same", "full"):
    add("correlate", A5, K3, mode=mode)
    add("correlate", A5, K4, mode=mode)
    add("correlate", K3, A5, mode=mode)  # the shorter one first: numpy's reversal
    add("correlate", A5, A5[:1], mode=mode)
    add("correlate", np.array([1, 2, 3], "int32"), np.array([0, 1], "int32"), mode=mode)
    add("correlate", np.array([1, 2, 3], "float16"), np.array([0, 1], "float16"), mode=mode)
add("correlate", np.array([1, 2, 3], "int32"), K3)
if BF16 is not None:
    add("correlate", np.array([1, 2, 3], BF16), np.array([0, 1], "float32"))


@pytest.mark.parametrize("name,args,kwargs,rtol,atol", CASES)
def test_logic_sorting_op_matches_keras(keras3, name, args, kwargs, rtol, atol):
    ref = getattr(keras3.ops, name)(*args, **kwargs)
    ours = getattr(ops, name)(*args, **kwargs)
    _compare(keras3, ref, ours, rtol, atol)


@pytest.mark.parametrize("name,args,kwargs", [
    ("searchsorted", (F, F[0]), {}),
    ("searchsorted", (SEQ, F[0]), {"side": "middle"}),
    ("correlate", (F, K3), {}),
    ("correlate", (A5, K3), {"mode": "wide"}),
    ("histogram", (F,), {}),
    ("histogram", (A5,), {"bins": 2.5}),
    ("histogram", (A5,), {"bins": -1}),
    ("histogram", (A5,), {"range": (3.0, 1.0)}),
    ("diff", (F,), {"n": -1}),
    ("corrcoef", (F3,), {}),
    ("argpartition", (F,), {"kth": 5}),
    ("sort", (np.array(1.0, "float32"),), {}),
    ("sort", (F,), {"axis": 2}),
    ("nonzero", (np.array(3, "int32"),), {}),
])
def test_bad_arguments_raise_like_keras(keras3, name, args, kwargs):
    with pytest.raises((ValueError, TypeError)) as ref:
        getattr(keras3.ops, name)(*args, **kwargs)
    with pytest.raises(type(ref.value) if type(ref.value) in (ValueError, TypeError)
                       else ValueError):
        getattr(ops, name)(*args, **kwargs)


def test_argsort_and_sort_of_torch_tensors_keep_device_and_grad():
    x = torch.tensor([[3.0, 1.0, 2.0]], requires_grad=True)
    values = ops.sort(x)
    values.sum().backward()
    assert x.grad is not None
    assert ops.argsort(x).dtype == torch.int32
    assert ops.argpartition(x, 1).dtype == torch.int32


def test_allclose_returns_a_tensor_without_host_sync():
    out = ops.allclose(torch.ones(3), torch.ones(3))
    assert isinstance(out, torch.Tensor) and out.shape == () and out.dtype == torch.bool
