"""kerastorch's elementwise ops (`ops.numpy.arithmetic`, `ops.numpy.transcendental`) against
Keras 3 on JAX: every op over the dtypes Keras supports on torch (bool, uint8, int8, int16,
int32, float16, bfloat16, float32), alone, paired with each other and with Python numbers, plus
edge values (nan, +-inf, -0.0), empty and broadcast shapes, and each op's own arguments
(`round(decimals=)`, `clip` bounds, `nan_to_num` fills, complex parts). Values and dtypes must
match; where Keras refuses an input, kerastorch must refuse it too (except where noted).
"""

import itertools

import numpy as np
import pytest
import torch

import kerastorch.ops as ops

pytestmark = pytest.mark.conformance

try:
    import ml_dtypes
    _BF16 = ml_dtypes.bfloat16
except ImportError:  # pragma: no cover
    _BF16 = None

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "float16", "bfloat16", "float32"]
FLOATS = ["float16", "bfloat16", "float32"]
INTS = ["uint8", "int8", "int16", "int32"]
TOLERANCE = {"float16": (2e-3, 2e-3), "bfloat16": (3e-2, 1e-2), "complex64": (1e-5, 1e-6)}

# Keras (JAX) refuses these; torch gives an answer, which kerastorch keeps.
LENIENT = {("sign", "bool")}


def array(values, dtype):
    if dtype == "bfloat16":
        return np.asarray(values, "float32").astype(_BF16)
    return np.asarray(values, dtype)


def sample(dtype, role="any"):
    """Six values of `dtype`; `role` "divisor" has no zeros, "exponent" small non-negative."""
    table = {
        "any": {"bool": [True, False, True, True, False, True], "uint8": [0, 1, 2, 3, 5, 7],
                "int": [-3, -1, 0, 2, 5, 7], "float": [-2.5, -1.0, -0.0, 0.0, 0.5, 3.0]},
        "other": {"bool": [False, True, True, False, True, False], "uint8": [4, 1, 3, 0, 6, 2],
                  "int": [2, -4, 1, 0, 3, -2], "float": [1.5, -0.5, 2.0, 0.0, -3.0, 0.25]},
        "divisor": {"bool": [True] * 6, "uint8": [1, 2, 3, 4, 5, 6],
                    "int": [2, -4, 1, 3, 3, -2], "float": [1.5, -0.5, 2.0, 0.75, -3.0, 0.25]},
        "exponent": {"bool": [False, True, True, False, True, False], "uint8": [0, 1, 2, 1, 2, 0],
                     "int": [0, 1, 2, 1, 2, 0], "float": [0.5, 2.0, 0.0, 1.0, -1.0, 3.0]},
    }[role]
    kind = dtype if dtype in ("bool", "uint8") else ("float" if dtype in FLOATS else "int")
    return array(table[kind], dtype)


def compare(keras3, name, *args, **kwargs):
    """Runs `name` in both libraries; same values, shape and dtype (or both refuse)."""
    try:
        ref = getattr(keras3.ops, name)(*args, **kwargs)
    except Exception:
        dtypes = tuple(str(getattr(a, "dtype", type(a).__name__)) for a in args)
        if (name, dtypes[0]) in LENIENT:
            return
        with pytest.raises(Exception):
            getattr(ops, name)(*args, **kwargs)
        return
    ours = getattr(ops, name)(*args, **kwargs)
    assert isinstance(ours, torch.Tensor), type(ours)
    want = keras3.backend.standardize_dtype(ref.dtype)
    got = str(ours.dtype).split(".")[-1]
    assert got == want, f"{name}{tuple(getattr(a, 'dtype', a) for a in args)}: {got} != {want}"
    ref = np.asarray(keras3.ops.convert_to_numpy(ref))
    ours = ops.convert_to_numpy(ours)
    assert ref.shape == ours.shape, (ref.shape, ours.shape)
    if want == "bool" or want in INTS or want == "int32":
        np.testing.assert_array_equal(ours, ref)
        return
    rtol, atol = TOLERANCE.get(want, (1e-5, 1e-6))
    if want.startswith("complex"):
        ref, ours = ref.view("float32"), ours.view("float32")
    np.testing.assert_allclose(ours.astype("float64"), ref.astype("float64"), rtol=rtol,
                               atol=atol, equal_nan=True)


# ---------------------------------------------------------------- unary ops, every dtype

UNARY = ["abs", "absolute", "fabs", "negative", "square", "sqrt", "cbrt", "reciprocal",
         "sign", "signbit", "floor", "ceil", "trunc", "round", "deg2rad", "rad2deg", "real",
         "imag", "conj", "conjugate", "angle", "nan_to_num",
         "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan",
         "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh",
         "arctanh", "sinc", "i0"]


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", DTYPES)
def test_unary_dtypes_and_values(keras3, name, dtype):
    x = sample(dtype)
    if name in ("arcsin", "arccos", "arctanh") and dtype in FLOATS:
        x = array([-0.9, -0.5, -0.0, 0.0, 0.25, 0.75], dtype)
    compare(keras3, name, x)


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", FLOATS)
def test_unary_edge_values(keras3, name, dtype):
    values = [np.nan, np.inf, -np.inf, -0.0, 1e-3, 10.0]
    if name == "signbit" and dtype == "bfloat16":
        values = values[1:]  # torch's bfloat16 nan has its sign bit set, ml_dtypes' has not
    compare(keras3, name, array(values, dtype))


@pytest.mark.parametrize("name", ["sqrt", "exp", "sin", "abs", "negative", "floor", "i0",
                                  "nan_to_num", "sign", "real", "round"])
@pytest.mark.parametrize("value", [np.zeros((0,), "float32"), np.zeros((2, 0), "int32"),
                                   np.float32(2.5), 3, 2.5, True])
def test_unary_empty_scalar_and_python_inputs(keras3, name, value):
    compare(keras3, name, value)


# ---------------------------------------------------------------- binary ops, dtype pairs

BINARY = {  # op -> the role of its second operand's values
    "add": "other", "subtract": "other", "multiply": "other", "maximum": "other",
    "minimum": "other", "fmax": "other", "fmin": "other", "divide": "other",
    "true_divide": "other", "divide_no_nan": "other", "hypot": "other", "heaviside": "other",
    "nextafter": "other", "arctan2": "other", "logaddexp": "other", "logaddexp2": "other",
    "power": "exponent", "floor_divide": "divisor", "mod": "divisor", "fmod": "divisor",
    "gcd": "other", "lcm": "other", "ldexp": "exponent",
}
# every unordered pair (int16 only with itself: it promotes as int8 does, one step up)
PAIRS = [(a, b) for a, b in itertools.combinations_with_replacement(DTYPES, 2)
         if "int16" not in (a, b) or a == b]
SCALARS = [2, 1.5, True]


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_dtype_pairs(keras3, name):
    for d1, d2 in PAIRS:
        compare(keras3, name, sample(d1), sample(d2, BINARY[name]))
    for d1, d2 in [("int8", "float16"), ("uint8", "int8"), ("bool", "int32")]:
        compare(keras3, name, sample(d2), sample(d1, BINARY[name]))


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_with_python_numbers(keras3, name):
    role = BINARY[name] if BINARY[name] in ("exponent", "divisor") else "any"
    for dtype, number in itertools.product(DTYPES, SCALARS):
        if dtype != "int16" and (number is not True or dtype in ("int32", "float16")):
            compare(keras3, name, sample(dtype), number)
        if dtype in ("bool", "int8", "float16") and number is not True:
            compare(keras3, name, number, sample(dtype, role))
    compare(keras3, name, True, sample("float32", role))
    compare(keras3, name, 3, 2)
    compare(keras3, name, 2.5, 2)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_broadcast_and_empty(keras3, name):
    a = np.arange(-3, 3, dtype="float32").reshape(3, 2, 1) / 2
    b = np.array([0.5, 1.0, 2.0], "float32")
    if name in ("gcd", "lcm", "ldexp"):
        compare(keras3, name, a.astype("int32"), b.astype("int32") + 1)
        compare(keras3, name, np.zeros((0, 3), "int32"), np.ones((1, 3), "int32"))
    else:
        compare(keras3, name, a, b)
        compare(keras3, name, np.zeros((0, 3), "float32"), np.ones((1, 3), "float32"))
        compare(keras3, name, np.float32(2.0), b)


@pytest.mark.parametrize("name", ["add", "subtract", "multiply", "divide", "maximum", "minimum",
                                  "fmax", "fmin", "hypot", "arctan2", "logaddexp",
                                  "logaddexp2", "nextafter", "heaviside", "mod", "fmod",
                                  "floor_divide", "power", "divide_no_nan"])
@pytest.mark.parametrize("dtype", FLOATS)
def test_binary_edge_values(keras3, name, dtype):
    x1 = array([np.nan, 1.0, np.inf, -np.inf, -0.0, 0.0, np.inf, 2.0], dtype)
    x2 = array([1.0, np.nan, np.inf, 2.0, 0.0, -0.0, -np.inf, -np.inf], dtype)
    if name in ("mod", "fmod", "floor_divide"):
        x2 = array([1.0, np.nan, 3.0, 2.0, 1.5, -1.5, -1.0, 4.0], dtype)
    compare(keras3, name, x1, x2)


# ---------------------------------------------------------------- the ops' own arguments

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bounds", [(-2, 3), (-2.5, 3.5), (0.25, 0.75), (3, -2), (None, 1),
                                    (0, None)])
def test_clip_bounds(keras3, dtype, bounds):
    compare(keras3, "clip", sample(dtype), *bounds)


def test_clip_array_bounds_and_nan(keras3):
    x = np.array([[-3.0, np.nan, 0.5, 9.0]], "float32")
    compare(keras3, "clip", x, np.array([-1.0, 0.0, 1.0, 2.0], "float32"), 4.0)
    compare(keras3, "clip", x, -1, np.array([[0.0], [5.0]], "float32"))
    compare(keras3, "clip", sample("int32"), np.array(0.5, "float32"), 4)
    compare(keras3, "clip", sample("int8"), np.int32(1), 2)
    compare(keras3, "clip", sample("float16"), np.array(-1.0, "float32"), 1.0)


@pytest.mark.parametrize("decimals", [0, 1, 2, -1, -2])
@pytest.mark.parametrize("dtype", ["int8", "int32", "uint8", "float16", "float32"])
def test_round_decimals(keras3, dtype, decimals):
    values = [-151, -25, -15, 0, 5, 15, 25, 35, 44, 65, 125]
    if dtype == "int8":
        values = values[1:]
    elif dtype == "uint8":
        values = [0, 5, 15, 25, 35, 44, 65, 125, 151, 249]
    x = array(values, dtype) if dtype in INTS or dtype == "int32" else array(
        [-2.675, -0.5, 0.5, 1.5, 2.5, 0.125, 3.14159, 12.5, 150.0, 251.0], dtype)
    compare(keras3, "round", x, decimals=decimals)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("fills", [{}, {"nan": 1.5}, {"posinf": 7.0, "neginf": -8.0},
                                   {"nan": -1.0, "posinf": 100.0}])
def test_nan_to_num_fills(keras3, dtype, fills):
    compare(keras3, "nan_to_num", array([np.nan, np.inf, -np.inf, 1.25, -0.0], dtype), **fills)


COMPLEX = np.array([1 + 2j, -3 - 0.5j, -2 + 0j, 0 - 1j, -0.0 + 0j], "complex64")


@pytest.mark.parametrize("name", ["real", "imag", "conj", "conjugate", "angle", "abs",
                                  "absolute", "sqrt", "exp", "sin", "square", "negative",
                                  "nan_to_num", "fabs", "log"])
def test_complex_inputs(keras3, name):
    compare(keras3, name, COMPLEX)
    compare(keras3, name, COMPLEX.astype("complex128"))


def test_ldexp_needs_an_integer_exponent(keras3):
    x = np.array([1.5, -2.0], "float32")
    compare(keras3, "ldexp", x, np.array([1.0, 2.0], "float32"))
    with pytest.raises(TypeError, match="ldexp exponent must be an integer type"):
        ops.ldexp(x, 2.0)
    compare(keras3, "ldexp", x, np.array([-3, 130], "int32"))


def test_fabs_refuses_complex():
    with pytest.raises(TypeError, match="fabs does not support complex inputs"):
        ops.fabs(COMPLEX)


def test_numpy_64_bit_inputs_narrow_as_keras(keras3):
    f64, i64 = np.linspace(-2, 2, 6), np.arange(-3, 3)
    for name in ("add", "multiply", "divide", "maximum", "arctan2", "power", "mod"):
        compare(keras3, name, f64, np.float32(1.5))
        compare(keras3, name, i64, 2)
    for name in ("sin", "sqrt", "floor", "i0", "square", "exp"):
        compare(keras3, name, f64)
        compare(keras3, name, i64)


# ---------------------------------------------------------------- kerastorch's own rules

def test_float64_tensors_stay_float64():
    """Keras narrows 64-bit results (JAX without x64); kerastorch keeps float64/int64 tensors
    wide so float64 layers compute in float64."""
    x = torch.linspace(-1, 1, 5, dtype=torch.float64)
    f = torch.ones(5, dtype=torch.float32)
    for out in (ops.sin(x), ops.exp(x), ops.add(x, f), ops.divide(x, 2), ops.arctan2(x, f),
                ops.clip(x, -0.5, 0.5), ops.floor(x), ops.i0(x), ops.hypot(f, x)):
        assert out.dtype == torch.float64
    n = torch.arange(5, dtype=torch.int64)
    assert ops.add(n, n).dtype == torch.int64 and ops.add(n, 1).dtype == torch.int64
    assert ops.sin(n).dtype == torch.float32 and ops.divide(n, n).dtype == torch.float32
    assert ops.add(n, f).dtype == torch.float32


def test_divide_no_nan_gradients_are_finite():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = torch.tensor([0.0, 4.0, 0.0], requires_grad=True)
    ops.divide_no_nan(x, y).sum().backward()
    assert torch.isfinite(x.grad).all() and torch.isfinite(y.grad).all()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.25, 0.0])


def test_scalar_operands_follow_the_tensor_device_and_autograd():
    x = torch.tensor([1.0, -2.0], requires_grad=True)
    for out in (ops.maximum(x, 0.5), ops.power(2.0, x), ops.hypot(3, x), ops.subtract(1, x)):
        assert out.device == x.device
        out.sum().backward()
    assert x.grad is not None


@pytest.fixture
def floatx_float16(keras3):
    import kerastorch
    keras3.config.set_floatx("float16")
    kerastorch.config.set_floatx("float16")
    yield
    keras3.config.set_floatx("float32")
    kerastorch.config.set_floatx("float32")


# Keras on JAX lets jax.numpy promote these, which gives float32 for ints whatever floatx()
# is; kerastorch follows Keras' rules (and Keras' torch backend): floatx()'s width.
NUMPY_PROMOTED = {"sqrt", "cbrt", "reciprocal", "fabs", "deg2rad", "rad2deg", "log", "log2",
                  "log10", "log1p"}


@pytest.mark.parametrize("name", sorted(set(UNARY) - NUMPY_PROMOTED - {"round"}))
def test_unary_under_floatx_float16(keras3, floatx_float16, name):
    compare(keras3, name, sample("int32"))
    compare(keras3, name, sample("bool"))
    compare(keras3, name, sample("float32"))


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_under_floatx_float16(keras3, floatx_float16, name):
    if name in ("arctan2", "logaddexp", "logaddexp2"):  # Keras' own result_type on JAX too
        compare(keras3, name, sample("int32"), sample("int8", BINARY[name]))
        compare(keras3, name, sample("int32"), 1.5)
    if name not in ("divide", "true_divide", "divide_no_nan", "hypot", "heaviside",
                    "nextafter", "ldexp"):  # int results: no floatx in the rule
        compare(keras3, name, sample("int32"), sample("int8", BINARY[name]))
        compare(keras3, name, sample("bool"), 2)
        compare(keras3, name, 3, sample("uint8", BINARY[name]))
    compare(keras3, name, sample("float32"), sample("float16", BINARY[name]))


def test_int_to_float_follows_floatx(floatx_float16):
    """Keras' result_type gives floatx()'s width for ints made floats (JAX: float32)."""
    i = np.arange(1, 4, dtype="int32")
    for out in (ops.divide(i, i), ops.add(i, 0.5), ops.sqrt(i), ops.log(i), ops.hypot(i, i),
                ops.clip(i, 0.5, 2.5), ops.sin(i), ops.exp(i)):
        assert out.dtype == torch.float16
    assert ops.add(np.array([True]), 2).dtype == torch.int32
    assert ops.add(2, 3).dtype == torch.int32
