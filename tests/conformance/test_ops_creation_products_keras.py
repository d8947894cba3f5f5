"""Creation ops, products and `vectorize` against Keras 3 on JAX: the cases the shared
`test_ops_keras.py` lacks (window functions, `empty`, `geomspace`, `vander`, `vectorize`,
and dtypes, axes and edge cases of the others): same values, shapes and dtypes.
"""

import numpy as np
import pytest
import torch

import kerastorch.ops as ops

pytestmark = pytest.mark.conformance

R = np.random.default_rng(7)
F = R.normal(size=(3, 4)).astype("float32")
F16 = R.normal(size=(3, 4)).astype("float16")
I = R.integers(-5, 6, size=(3, 4)).astype("int32")
I8 = R.integers(-4, 5, size=(3, 4)).astype("int8")
U8 = R.integers(0, 5, size=(4, 2)).astype("uint8")
B = R.random((3, 4)) > 0.5
B2 = R.random((4, 2)) > 0.5
F3 = R.normal(size=(2, 3, 4)).astype("float32")
V = R.normal(size=(4,)).astype("float32")
SQ = (R.normal(size=(3, 3)) + 3 * np.eye(3)).astype("float32")


def _flat(x):
    if isinstance(x, (list, tuple)):
        return [y for e in x for y in _flat(e)]
    return [x]


def _compare(keras3, ref, ours, rtol=1e-5, atol=1e-6, values=True):
    ref, ours = _flat(ref), _flat(ours)
    assert len(ref) == len(ours)
    for r, o in zip(ref, ours):
        assert isinstance(o, torch.Tensor), type(o)
        assert keras3.backend.standardize_dtype(r.dtype) == str(o.dtype).split(".")[-1], \
            (r.dtype, o.dtype)
        r = np.asarray(keras3.ops.convert_to_numpy(r))
        o = ops.convert_to_numpy(o)
        assert r.shape == o.shape, (r.shape, o.shape)
        if not values:
            continue
        if r.dtype == bool or o.dtype == bool:
            np.testing.assert_array_equal(o, r)
        else:
            np.testing.assert_allclose(o.astype("float64"), r.astype("float64"), rtol=rtol,
                                       atol=atol)


CASES = []


def add(name, *args, rtol=1e-5, atol=1e-6, values=True, **kwargs):
    CASES.append(pytest.param(name, args, kwargs, rtol, atol, values,
                              id=f"{name}-{len(CASES)}"))


# ------------------------------------------------------------------ fills
add("empty", (2, 3), values=False)
add("empty", 4, dtype="int32", values=False)
add("empty", (2, 0), values=False)
add("empty_like", I8, values=False)
add("empty_like", F, dtype="bfloat16", values=False)
add("zeros", 3)
add("zeros", (2, 0), dtype="bool")
add("ones", (2, 3), dtype="uint8")
add("ones_like", B)
add("zeros_like", F16, dtype="int8")
add("ones_like", np.zeros((2, 2)))                  # float64 numpy -> float32
add("full", (2, 3), np.array([1, 2, 3], "int32"))   # array fill, broadcast
add("full", (2,), True)
add("full", (2,), 1.7, dtype="int32")
add("full", (3,), -1.7, dtype="int32")
add("full", 3, 2)
add("full", (2, 2), np.float32(np.nan))
add("full_like", F, np.array([1, 2, 3, 4], "int32"))
add("full_like", I8, 7)
add("full_like", B, 0.0)
add("full_like", F16, 2, dtype="int32")
add("array", [1, 2])
add("array", [1.7, -1.7], dtype="int32")
add("array", np.zeros(3), dtype="float16")
add("array", F)

# ------------------------------------------------------------------ matrices
add("eye", 3, 4, k=-1)
add("eye", 3, 4, k=5)
add("eye", 2, dtype="bool")
add("eye", 0)
add("eye", 4, 2, k=1, dtype="int32")
add("identity", 3, dtype="bfloat16")
add("tri", 3, 0)
add("tri", 3, 4, k=-1, dtype="int32")
add("tri", 2, dtype="bool")
add("tri", 4, 3, k=2)
add("vander", np.array([1, 2, 3], "int32"))
add("vander", np.array([1.0, 2.0, -3.0], "float32"), N=2, increasing=True)
add("vander", np.array([0.0, 2.0], "float32"), N=0)
add("vander", np.array([2, 3], "uint8"), N=6)        # wraps like uint8 powers
add("vander", np.array([0.5, 3.0], "float16"))
add("vander", np.array([0.0, 1.5, 2.0], "float32"), N=4)
add("meshgrid", np.arange(2, dtype="int32"), V[:3])  # dtypes kept per grid
add("meshgrid", V[:2], V[:3], V, indexing="ij")
add("meshgrid", V[:2], V[:3], V)
add("meshgrid", V)

# ------------------------------------------------------------------ ranges
add("arange", 0.5, 3, dtype="int32")
add("arange", 5, 0, -2)
add("arange", 0, 1, 0.25, dtype="float16")
add("arange", np.int8(3))
add("arange", np.array(3, "uint8"))
add("arange", 3, 1)
add("arange", 2, 5.5)
add("linspace", 0, 10, 4, dtype="int32")
add("linspace", 0, 9, 10, dtype="int32")
add("linspace", 2, 20, 7, endpoint=False, dtype="int32")
add("linspace", 0.5, 7.5, 8, dtype="int32")
add("linspace", 0.0, 1.0, 5, retstep=True)
add("linspace", 0.0, 1.0, 1, retstep=True)
add("linspace", 0.0, 1.0, 1, endpoint=False, retstep=True)
add("linspace", 0.0, 1.0, 0, retstep=True)
add("linspace", 0.0, 2.0, 4, endpoint=False, retstep=True)
add("linspace", np.zeros(3, "float32"), np.arange(3, dtype="float32"), 4, axis=-1)
add("linspace", np.zeros((2, 1), "float32"), np.arange(3, dtype="float32"), 5, axis=1)
add("linspace", np.float16(0), 1, 5)
add("linspace", np.array(0, "int8"), 1, 5)
add("linspace", 0, 1, 3, dtype="bool")
add("linspace", np.zeros(2, "float32"), 1.0, 0, axis=1)
add("logspace", 0, 2, 3, dtype="int32")
add("logspace", 0, 4, 4, endpoint=False, base=2)
add("logspace", np.zeros(2, "float32"), np.ones(2, "float32"), 3, axis=1, rtol=1e-5)
add("logspace", -1.0, 1.0, 5, dtype="float16", rtol=1e-3)
add("geomspace", 1, 1000, 4, rtol=1e-5)
add("geomspace", -1, -1000, 4, rtol=1e-5)
add("geomspace", 1, 1000, 4, dtype="int32")
add("geomspace", 1.0, 256.0, 9, endpoint=False, rtol=1e-5)
add("geomspace", np.ones(2, "float32"), np.array([10, 100], "float32"), 3, axis=-1, rtol=1e-5)
add("geomspace", np.array([1.0, -2.0], "float32"), np.array([8.0, -16.0], "float32"), 4,
    rtol=1e-5)

# ------------------------------------------------------------------ windows
for window in ["bartlett", "blackman", "hamming", "hanning"]:
    for n in (0, 1, 2, 5, 8):
        add(window, n, atol=1e-6)
    add(window, 4.7, atol=1e-6)                     # truncated to 4
for n, beta in [(0, 1.0), (1, 3.0), (5, 3.0), (8, 0.0), (7, 14.0), (6, 5)]:
    add("kaiser", n, beta, rtol=1e-5, atol=1e-6)

# ------------------------------------------------------------------ products
add("matmul", I8, I8.T)                              # int8 x int8 -> int32
add("matmul", I8, U8)                                # int16
add("matmul", B, B2)
add("matmul", F16, F.T)
add("matmul", F16, F16.T, rtol=1e-2, atol=1e-2)
add("matmul", F, V)
add("matmul", V, V)
add("matmul", F3, F3.transpose(0, 2, 1))
add("matmul", V, F.T)
add("dot", I8, I8.T)                                 # int8 (wraps, as on JAX)
add("dot", B, B2)
add("dot", np.ones((2, 3, 4), "float32"), np.arange(120, dtype="float32").reshape(5, 4, 6))
add("dot", F3, V)
add("dot", 3, np.ones((2,), "int32"))
add("dot", np.array([2**24 + 1], "int32"), np.array([1], "int32"))   # exact integers
add("dot", F, F.T)
add("einsum", "ij,kj->ik", I8, I8)
add("einsum", "ij,kj->ik", I8, F)
add("einsum", "ij,kj->ik", B, B)
add("einsum", "ij,jk->ik", I8, U8)
add("einsum", "ij->j", F16, rtol=1e-3, atol=1e-3)
add("einsum", "...ij,...jk->...ik", F3, F3.transpose(0, 2, 1))
add("einsum", "ij,jk", F, F.T)
add("einsum", "ii", SQ)
add("einsum", "ij->i", I8)
add("einsum", "i,j->ij", V, V[:2])
add("einsum", "ij,jk,kl->il", F, F.T, F, optimize="optimal", rtol=1e-4, atol=1e-5)
add("tensordot", np.ones((2, 3), "int32"), np.arange(6, dtype="int32").reshape(3, 2), axes=1)
add("tensordot", V[:2], V[:3], axes=0)
add("tensordot", F, F.T, axes=([-1], [0]))
add("tensordot", F, F.T, axes=(1, 0))
add("tensordot", I8, I8, axes=2)
add("tensordot", B, B, axes=2)
add("tensordot", F3, F3, axes=([0, 2], [0, 2]))
add("inner", 2, F)
add("inner", F, I)
add("inner", I8, I8)
add("inner", B, B)
add("inner", F3, V)
add("outer", np.ones((2, 2), "int32"), F16[0, :3])
add("outer", np.array([True, False]), np.array([True, True]))
add("outer", np.ones(2, "uint8"), np.ones(3, "int8"))
add("outer", 2, V)
add("outer", I, V)
add("vdot", F, F, rtol=1e-5)
add("vdot", np.array([1, 2], "int32"), np.array([3, 4], "int32"))
add("vdot", np.array([100, 100], "int8"), np.array([3, 4], "int8"))
add("vdot", np.array([True, False]), np.array([True, True]))
add("vdot", F16, F16, rtol=1e-2)
add("cross", np.array([1.0, 2.0], "float32"), np.array([3.0, 4.0], "float32"))
add("cross", np.array([1.0, 2.0], "float32"), np.array([3.0, 4.0, 5.0], "float32"))
add("cross", np.array([3.0, 4.0, 5.0], "float32"), np.array([1.0, 2.0], "float32"))
add("cross", np.ones((3, 2), "float32"), np.arange(6, dtype="float32").reshape(3, 2),
    axisa=0, axisb=0)
add("cross", F3[0, :2, :3], F3[1, :2, :3], axisc=0)
add("cross", np.array([1, 2, 3], "int32"), np.array([4, 5, 6], "int8"))
add("cross", np.ones((4, 1, 3), "float32"), F3[0, :2, :3])
add("cross", F3[:, :, :3], F3[:, :, 1:], axis=-1)
add("cross", np.ones((3, 2), "float32"), np.arange(6, dtype="float32").reshape(3, 2), axis=0)
add("kron", np.ones((2,), "int32"), F[:2, :2])
add("kron", np.ones(2, "uint8"), np.ones(2, "int8"))
add("kron", F3[:, :2, :2], F[:2, :3])
add("kron", I[:2, :2], I[:2, :2])
add("trace", np.ones((3, 3), "int8"))
add("trace", np.ones((3, 3), "bool"))
add("trace", np.ones((3, 3), "float16"))
add("trace", np.arange(24, dtype="float32").reshape(2, 3, 4), offset=1, axis1=-1, axis2=1)
add("trace", F, offset=5)
add("trace", F, offset=-1)
add("trace", np.ones((3, 3), "int64"))
add("trace", I)
add("slogdet", np.array([[2, 1], [1, 3]], "int32"), rtol=1e-5)
add("slogdet", np.array([[2, 1], [1, 3]], "float16"), rtol=1e-3)
add("slogdet", np.stack([np.eye(2), -np.eye(2) * 2]).astype("float32"), rtol=1e-5)
add("slogdet", np.zeros((2, 2), "float32"))
add("slogdet", SQ, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name,args,kwargs,rtol,atol,values", CASES)
def test_op_matches_keras(keras3, name, args, kwargs, rtol, atol, values):
    ref = getattr(keras3.ops, name)(*args, **kwargs)
    ours = getattr(ops, name)(*args, **kwargs)
    _compare(keras3, ref, ours, rtol, atol, values)


def test_linspace_integer_results_are_exact():
    # Keras on JAX computes these in float32 and floors values an ulp below a whole number
    # ([-3, -2, -2, 0, 0, 2, ...]); integer bounds give exact integers here
    np.testing.assert_array_equal(ops.convert_to_numpy(ops.linspace(-3, 7, 11, dtype="int32")),
                                  np.arange(-3, 8))
    out = ops.linspace(np.array([0, 10], "int32"), 3, 4, dtype="int32", axis=-1)
    np.testing.assert_array_equal(ops.convert_to_numpy(out), [[0, 1, 2, 3], [10, 7, 5, 3]])


def test_results_on_the_device_are_new_tensors():
    x = torch.ones(3)
    assert ops.full((3,), x).data_ptr() != x.data_ptr()
    assert ops.linspace(x, x + 1, 1).data_ptr() != x.data_ptr()
    assert ops.eye(2).device == ops.zeros(1).device == ops.hanning(3).device


@pytest.mark.parametrize("call,error", [
    (lambda k: k.eye(2.0), TypeError),
    (lambda k: k.eye(2, 3.0), TypeError),
    (lambda k: k.vander(np.ones((2, 2), "float32")), ValueError),
    (lambda k: k.vander(np.ones(2, "float32"), N=-1), ValueError),
    (lambda k: k.vander(np.ones(2, "float32"), N=2.0), TypeError),
    (lambda k: k.cross(np.ones(4, "float32"), np.ones(4, "float32")), ValueError),
    (lambda k: k.trace(np.ones((3, 3), "float32"), axis1=1, axis2=-1), ValueError),
    (lambda k: k.meshgrid(np.ones(3, "float32"), indexing="yx"), ValueError),
    (lambda k: k.linspace(0, 1, -1), ValueError),
    (lambda k: k.vectorize(3), ValueError),
])
def test_errors_match_keras(keras3, call, error):
    with pytest.raises(error):
        call(keras3.ops)
    with pytest.raises(error):
        call(ops)


# ------------------------------------------------------------------ vectorize
def _both(keras3, make, *args, **kwargs):
    """`make(ops_namespace)` gives the vectorized function; run it on both."""
    return make(keras3.ops)(*args, **kwargs), make(ops)(*args, **kwargs)


@pytest.mark.parametrize("make,args", [
    (lambda k: k.vectorize(lambda a, b: a * b + 1), (F, V)),
    (lambda k: k.vectorize(lambda a, b: a - b), (np.ones((2, 1, 3), "float32"),
                                                 np.arange(4, dtype="float32")[:, None])),
    (lambda k: k.vectorize(lambda a, b: a + b), (np.ones((1, 1), "float32"),
                                                 np.ones((1,), "float32"))),
    (lambda k: k.vectorize(lambda a: a * 2), (3,)),
    (lambda k: k.vectorize(lambda a: k.stack([a, -a])), (V,)),
    (lambda k: k.vectorize(lambda a: k.where(a > 0, a, 0.0)), (F3,)),
    (lambda k: k.vectorize(lambda a: (a + 1, a * 2)), (I,)),
    (lambda k: k.vectorize(lambda a, b: a if b is None else a + b), (V, None)),
])
def test_vectorize_elementwise(keras3, make, args):
    ref, ours = _both(keras3, make, *args)
    _compare(keras3, ref, ours)


@pytest.mark.parametrize("signature,fn,args", [
    ("(n),(n)->()", lambda k: lambda a, b: k.sum(a * b), (F, V)),
    ("(m,n),(n)->(m)", lambda k: lambda m, v: k.matmul(m, v), (F3, V)),
    ("(m,n),(n)->(m)", lambda k: lambda m, v: k.matmul(m, v), (F, np.ones((5, 1, 4),
                                                                          "float32"))),
    ("(n)->(),(n)", lambda k: lambda a: (k.max(a), k.flip(a, 0)), (F3,)),
    ("(n)->(n)", lambda k: lambda a: k.cumsum(a), (I,)),
    ("(n,n)->()", lambda k: lambda a: k.trace(a), (np.stack([SQ, SQ * 2, -SQ]),)),
    ("(n)->()", lambda k: lambda a: k.sum(a), (np.ones((0, 3), "float32"),)),
    ("(),(n)->(n)", lambda k: lambda s, a: s * a, (V[:2, None][:, 0], F[:2])),
    ("(n)->(m)", lambda k: lambda a: k.concatenate([a, a]), (F,)),
])
def test_vectorize_signature(keras3, signature, fn, args):
    ref, ours = _both(keras3, lambda k: k.vectorize(fn(k), signature=signature), *args)
    _compare(keras3, ref, ours, rtol=1e-5, atol=1e-5)


def test_vectorize_excluded(keras3):
    def scaled(a, b, power):
        return (a * b) ** power

    for excluded, args, kwargs in [({2}, (F, V, 2), {}), ({"power"}, (F, V), {"power": 3})]:
        ref, ours = _both(keras3, lambda k: k.vectorize(scaled, excluded=excluded),
                          *args, **kwargs)
        _compare(keras3, ref, ours, rtol=1e-5)
    # an excluded list passed whole, not mapped over
    ref, ours = _both(keras3, lambda k: k.vectorize(lambda a, table: a * len(table),
                                                    excluded={1}), V, [1, 2, 3])
    _compare(keras3, ref, ours)


@pytest.mark.parametrize("signature,args,error", [
    ("(n->(m)", (F,), ValueError),
    ("(n),(n)->(n)", (F, np.ones(2, "float32")), ValueError),
    ("(n),(n)->(n)", (F,), TypeError),
    ("(n,m)->(n)", (V,), ValueError),
    ("(n)->()", (F,), ValueError),                   # returns (n), not a scalar
])
def test_vectorize_signature_errors(keras3, signature, args, error):
    for k in (keras3.ops, ops):
        with pytest.raises(error):
            k.vectorize(lambda *a: a[0], signature=signature)(*args)


def test_vectorize_output_count_errors(keras3):
    for k in (keras3.ops, ops):
        with pytest.raises(TypeError):
            k.vectorize(lambda a: (a, a), signature="(n)->(n)")(V)
        with pytest.raises(TypeError):
            k.vectorize(lambda a: a, signature="(n)->(n),(n)")(V)


def test_vectorize_keeps_the_function_name_and_gradients():
    def pairwise(a, b):
        return a * b

    vf = ops.vectorize(pairwise)
    assert vf.__name__ == "pairwise"
    x = torch.ones(3, 2, requires_grad=True)
    vf(x, torch.arange(2.0)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.tile([0.0, 1.0], (3, 1)))


def test_vectorize_keyword_arguments_reach_the_function():
    # Keras on JAX drops keyword arguments that are not in `excluded` (the function runs with
    # its defaults); kerastorch passes every keyword argument through, never vectorized
    def scaled(a, scale=1.0):
        return a * scale

    for excluded in (None, {"scale"}):
        out = ops.vectorize(scaled, excluded=excluded)(V, scale=5.0)
        np.testing.assert_allclose(ops.convert_to_numpy(out), V * 5.0, rtol=1e-6)
