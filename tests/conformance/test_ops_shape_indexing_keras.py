"""The shape and indexing ops (`kerastorch.ops.numpy.shape`, `.indexing`) against Keras 3 on JAX:
the same inputs give the same values, shapes and dtypes. Covers the ops and arguments that
`test_ops_keras.py` does not: every pad mode, the split/stack variants, `view`, `rot90`,
`select`/`where` promotion, negative axes and indices, int/bool/float16 inputs, empty tensors.
"""

import numpy as np
import pytest
import torch

import kerastorch.ops as ops

pytestmark = pytest.mark.conformance

R = np.random.default_rng(7)
F = R.normal(size=(3, 4)).astype("float32")
F3 = R.normal(size=(2, 3, 4)).astype("float32")
H = F.astype("float16")
I = R.integers(-5, 6, size=(3, 4)).astype("int32")
I8 = I.astype("int8")
U8 = R.integers(0, 9, size=(3, 4)).astype("uint8")
B = R.random((3, 4)) > 0.5
V = R.normal(size=(5,)).astype("float32")
NAN = np.array([[1.0, np.nan, 3.0], [np.nan, 5.0, 6.0]], "float32")
E = np.zeros((0, 3), "float32")  # empty
SQ = R.normal(size=(4, 4)).astype("float32")

CASES = []


def add(name, *args, **kwargs):
    CASES.append(pytest.param(name, args, kwargs, id=f"{name}-{len(CASES)}"))


# ------------------------------------------------------------------ reshaping and axes
add("reshape", I, (2, -1))
add("reshape", F3, [4, 6])
add("reshape", E, (3, 0))
add("reshape", V, 5)
add("transpose", F)
add("transpose", I8, (1, 0))
add("transpose", F3, (-1, 0, 1))
add("expand_dims", I, -1)
add("expand_dims", V, (0, 2))
add("expand_dims", B, (-1, 0))
add("squeeze", F3[:, :1, :1])
add("squeeze", F3[:, :1, :1], axis=(1, -1))
add("squeeze", np.zeros((1, 0, 1), "int32"), axis=-1)
add("moveaxis", F3, (0, 1), (-1, 0))
add("moveaxis", I[None], -1, 0)
add("swapaxes", F3, -1, 0)
add("ravel", I8.T)
add("ravel", E)
add("broadcast_to", np.array(2.5, "float32"), (2, 3))
add("broadcast_to", I[:1], [3, 4])
add("view", F, "int32")
add("view", F, "int16")
add("view", I, "float32")
add("view", I8, "uint8")
add("view", I.astype("int16"), "float16")
add("view", F)
add("copy", I8)
add("copy", NAN)

# ------------------------------------------------------------------ joining
add("concatenate", [I8, U8], axis=-1)
add("concatenate", [B, I8])
add("concatenate", [H, F], axis=1)
add("concatenate", [F, E.reshape(0, 4)], axis=0)
add("concatenate", [F, I], axis=None)
add("append", I, F)
add("append", V, [1.0, 2.0])
add("append", I8, U8, axis=-1)
add("stack", [I, I8, U8])
add("stack", [H, F], axis=1)
add("stack", [V, V], axis=-1)
add("hstack", [V, V[:2]])
add("hstack", [F, I])
add("vstack", [V, V])
add("vstack", [F, I8])
add("dstack", [V, V])
add("dstack", [F, F])
add("dstack", [F3, F3.astype("float16")])

# ------------------------------------------------------------------ splitting
add("split", I, 3, axis=0)
add("split", F3, 2, axis=-1)
add("split", V, [2, 4])
add("split", F, np.array([1, 2]), axis=-1)
add("split", E, 2, axis=0)
add("array_split", V, 3)
add("array_split", F3, 3, axis=-1)
add("array_split", np.arange(7, dtype="int32"), 4)
add("hsplit", F, 2)
add("hsplit", V[:4], [1, 3])
add("hsplit", F3, [1])
add("vsplit", F3, 2)
add("vsplit", I, [1])
add("dsplit", F3, 2)
add("dsplit", F3, [1, 3])

# ------------------------------------------------------------------ repeating, flipping, rolling
add("tile", V, 2)
add("tile", F, (2,))
add("tile", I8, (2, 1, 3))
add("tile", F3, (1, 2))
add("repeat", I, 3)
add("repeat", I, 2, axis=-1)
add("repeat", F3, 0, axis=1)
add("repeat", F, np.array([1, 0, 2, 1]), axis=1)
add("repeat", V, np.array([2], "int32"))
add("repeat", B, 2, axis=0)
add("flip", I)
add("flip", F3, axis=(0, -1))
add("flip", B, axis=-2)
add("fliplr", F)
add("fliplr", F3)
add("flipud", V)
add("flipud", I8)
add("roll", I, 5)
add("roll", F3, (1, -2), axis=(0, 2))
add("roll", F, 3, axis=-1)
add("roll", F, -1, axis=(0, 1))
add("roll", F, (1, 2), axis=0)
add("roll", E, 2)
add("rot90", F)
add("rot90", I, k=2)
add("rot90", F3, k=-1, axes=(1, 2))
add("rot90", F3, k=3, axes=(-1, 0))
add("rot90", F, k=5)

# ------------------------------------------------------------------ gathering
add("take", I, np.array([0, -1, 2]), axis=0)
add("take", F3, np.array([[1, 0], [-1, 2]], "int32"), axis=-1)
add("take", F, 2, axis=1)
add("take", V, np.array([4, 0, -5], "int64"))
add("take", H, np.array([1, 0], "uint8"), axis=0)
add("take", F, np.array([[2, 0]], "int8"), axis=0)
add("take", F, torch.tensor([[1, -2], [0, 11]]))
add("take", NAN, np.array([1, 3]))
add("take", F, np.zeros((0,), "int32"), axis=1)
add("take_along_axis", F, np.array([[0, 3], [1, -1], [2, 2]], "int32"), axis=1)
add("take_along_axis", F3, np.argsort(F3, axis=0).astype("int32"), axis=0)
add("take_along_axis", F3, np.zeros((1, 1, 2), "int32"), axis=-1)
add("take_along_axis", I, np.array([[0, 2, 1, 0]]), axis=0)
add("take_along_axis", F, np.array([11, -1, 0]))
add("get_item", F, (slice(None), 2))
add("get_item", F3, (Ellipsis, slice(1, None, 2)))
add("get_item", F3, (None, 1, slice(0, 2)))
add("get_item", I, np.array([2, 0]))
add("get_item", I, (np.array([0, 2]), np.array([1, 3])))
add("get_item", F, B)
add("get_item", V, -1)

# ------------------------------------------------------------------ choosing
add("where", B, I8, U8)
add("where", B, F, 2)
add("where", B, H, 0.5)
add("where", B, I8, 3)
add("where", B, True, 2)
add("where", B, U8, -1)
add("where", I, F, F.T.copy().reshape(3, 4))
add("where", NAN, 1.0, 0.0)
add("where", B[:1], F, V[:4])
add("where", B)
add("where", I)
add("where", np.zeros((0, 2), "bool"))
add("select", [B, ~B], [I, I8])
add("select", [I > 0, I < -2], [F, 1.5], default=-1)
add("select", [B], [I8], default=2.5)
add("select", [B], [U8])
add("select", [B[:1], B], [V[:4], F], default=np.float32(9.0))

# ------------------------------------------------------------------ diagonals and triangles
add("diag", I)
add("diag", F, -2)
add("diag", V, 2)
add("diag", I8[0], -1)
add("diagflat", F)
add("diagflat", V, -1)
add("diagflat", I8[:2], 2)
add("diagonal", SQ)
add("diagonal", F3, 1, -1, 1)
add("diagonal", F3, -1, 0, 2)
add("diagonal", I, 2)
add("tril", SQ)
add("tril", F3, 1)
add("tril", B, -1)
add("triu", I8, -1)
add("triu", F3, 2)
add("triu", NAN)

# ------------------------------------------------------------------ unravel_index
add("unravel_index", np.array([0, 7, 11], "int32"), (3, 4))
add("unravel_index", np.array([[5, 23], [0, 1]]), (2, 3, 4))
add("unravel_index", np.array([-1, -12, -13, 12, 40], "int32"), (3, 4))
add("unravel_index", np.array([3, 9], "int8"), (2, 5))
add("unravel_index", 5, (3, 4))
add("unravel_index", np.array([3, 4]), 6)

# ------------------------------------------------------------------ padding, every mode
MODES = ["constant", "edge", "linear_ramp", "maximum", "mean", "median", "minimum", "reflect",
         "symmetric", "wrap", "empty"]
for mode in MODES:
    add("pad", F, ((1, 2), (3, 0)), mode=mode)
    add("pad", I, 2, mode=mode)
    add("pad", V, (2, 3), mode=mode)
for mode in ["reflect", "symmetric", "wrap", "edge"]:
    add("pad", V, 9, mode=mode)  # pads longer than the axis
    add("pad", np.array([[4.0], [2.0]], "float32"), ((0, 3), (2, 2)), mode=mode)  # length 1
    add("pad", I8, [[1], [5]], mode=mode)
for mode in ["mean", "median", "maximum", "minimum"]:
    add("pad", NAN, 1, mode=mode)
    add("pad", np.array([1, 2, 3, 4], "int32"), 2, mode=mode)  # int mean/median: rounded
    add("pad", H, ((0, 1), (1, 0)), mode=mode)
add("pad", np.array([-3, 5, -9], "int32"), (4, 3), mode="linear_ramp")
add("pad", F3, ((0, 1), (1, 1), (2, 0)), mode="linear_ramp")
add("pad", F3, ((1, 0), (0, 0), (0, 2)), mode="reflect")
add("pad", B, 1)
add("pad", B, 1, constant_values=True)
add("pad", I, 1, constant_values=-2.7)
add("pad", U8, 1, constant_values=300)
add("pad", F, 1, constant_values=np.float32(2.5))
add("pad", F, 1, constant_values=np.nan)
add("pad", I, ((1, 2), (0, 1)), constant_values=((1, 2), (3, 4)))
add("pad", I, 1, constant_values=(5, 6))
add("pad", F, ((1, 1), (2, 2)), constant_values=((7.0,), (8.0,)))
add("pad", H, ((0, 2), (1, 0)), constant_values=-1)
add("pad", E, ((1, 1), (0, 1)))
add("pad", E, 1, mode="empty")
add("pad", F, 0, mode="reflect")


def _flat(x):
    if isinstance(x, (list, tuple)):
        return [y for e in x for y in _flat(e)]
    return [x]


@pytest.mark.parametrize("name,args,kwargs", CASES)
def test_matches_keras(keras3, name, args, kwargs):
    ref_args = [a.numpy() if isinstance(a, torch.Tensor) else a for a in args]
    ref = getattr(keras3.ops, name)(*ref_args, **kwargs)
    ours = getattr(ops, name)(*args, **kwargs)
    assert type(ours) is type(ref) or not isinstance(ref, (list, tuple)), \
        (type(ours), type(ref))
    ref, ours = _flat(ref), _flat(ours)
    assert len(ref) == len(ours)
    for r, o in zip(ref, ours):
        assert isinstance(o, torch.Tensor), type(o)
        assert keras3.backend.standardize_dtype(r.dtype) == str(o.dtype).split(".")[-1], \
            (r.dtype, o.dtype)
        r, o = np.asarray(r), ops.convert_to_numpy(o)
        assert r.shape == o.shape, (r.shape, o.shape)
        if r.dtype.kind in "biu":
            np.testing.assert_array_equal(o, r)
        else:
            np.testing.assert_allclose(o.astype("float64"), r.astype("float64"), rtol=1e-5,
                                       atol=1e-6)


@pytest.mark.parametrize("name", ["size", "ndim"])
@pytest.mark.parametrize("x", [F3, E, np.float32(2.0), V])
def test_size_and_ndim_are_python_ints(keras3, name, x):
    ours = getattr(ops, name)(x)
    assert isinstance(ours, int) and ours == int(getattr(keras3.ops, name)(x))
    assert getattr(ops, name)(ops.convert_to_tensor(x)) == ours


@pytest.mark.parametrize("call", [
    lambda o: o.squeeze(F, axis=0),
    lambda o: o.split(V, 2),
    lambda o: o.array_split(V, 0),
    lambda o: o.reshape(F, (-1, -1)),
    lambda o: o.reshape(F, (-2, 6)),
    lambda o: o.rot90(V),
    lambda o: o.rot90(F, axes=(1, 1)),
    lambda o: o.diagonal(F, axis1=1, axis2=-1),
    lambda o: o.tril(V),
    lambda o: o.diag(F3),
    lambda o: o.take(F, np.array([0.5])),
    lambda o: o.take_along_axis(F, np.zeros((1, 2), "int32")),
    lambda o: o.where(B, F),
    lambda o: o.select(B, [F]),
    lambda o: o.select([], []),
    lambda o: o.pad(F, -1),
    lambda o: o.pad(F3, ((1, 1), (2, 2))),
    lambda o: o.pad(E, 1, mode="edge"),
    lambda o: o.pad(F, 1, mode="nearest"),
    lambda o: o.pad(F, 1, mode="edge", constant_values=0),
], ids=lambda c: None)
def test_bad_arguments_raise_as_in_keras(keras3, call):
    with pytest.raises((ValueError, TypeError, NotImplementedError)):
        call(keras3.ops)
    with pytest.raises((ValueError, TypeError)):
        call(ops)


def test_pad_spellings_jax_refuses():
    # `(pad,)` (Keras' docstring) and "circular" (Keras' torch backend) match NumPy
    np.testing.assert_array_equal(ops.convert_to_numpy(ops.pad(F3, (1,))), np.pad(F3, 1))
    np.testing.assert_array_equal(ops.convert_to_numpy(ops.pad(I, (1, 2), mode="circular")),
                                  np.pad(I, (1, 2), mode="wrap"))


def test_views_and_gradients():
    x = torch.arange(12.0).reshape(3, 4).requires_grad_()
    for out in [ops.transpose(x), ops.reshape(x, (4, 3)), ops.expand_dims(x, 0),
                ops.broadcast_to(x[:1], (2, 4)), ops.diagonal(x)]:
        assert out.data_ptr() == x.data_ptr()  # views, as torch gives them: no copy
    loss = (ops.take(x, np.array([0, 0, 2]), axis=0).sum() + ops.pad(x, 1, mode="reflect").sum()
            + ops.where(x > 5, x, 0.0).sum() + ops.repeat(x, 2, axis=1).sum())
    loss.backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    c = ops.copy(x)
    assert c.data_ptr() != x.data_ptr()
    src = np.ones(3, "float32")
    ops.copy(src).add_(1)
    assert src[0] == 1.0  # a copy of numpy input never shares its memory
