"""keras.ops.nn activations, losses and normalization against Keras 3 on JAX, beyond the cases of
test_ops_keras.py: every dtype family (float16, bfloat16, integers, bool), nan and inf, empty
and 0-d inputs, negative and tuple axes, out-of-range labels, CTC loss and both CTC decoders
(ties included), and the places where kerastorch knowingly differs from Keras on JAX.
"""

import warnings

import ml_dtypes
import numpy as np
import pytest
import torch

import kerastorch.ops as ops

pytestmark = pytest.mark.conformance

R = np.random.default_rng(7)
X = (R.normal(size=(3, 4)) * 3).astype("float32")
X3 = R.normal(size=(2, 3, 4)).astype("float32")
SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -1.0, 1.0, 2.5, -2.5, 0.3, -0.7], "float32")
INT = R.integers(-5, 6, size=(3, 4)).astype("int32")
HALF = dict(rtol=2e-2, atol=2e-2)


def bf16(a):
    return np.asarray(a).astype(ml_dtypes.bfloat16)


def _flat(x):
    return [y for e in x for y in _flat(e)] if isinstance(x, (list, tuple)) else [x]


def _compare(keras3, ref, ours, rtol, atol):
    ref, ours = _flat(ref), _flat(ours)
    assert len(ref) == len(ours)
    for r, o in zip(ref, ours):
        assert isinstance(o, torch.Tensor), type(o)
        assert keras3.backend.standardize_dtype(r.dtype) == str(o.dtype).split(".")[-1], \
            (r.dtype, o.dtype)
        r, o = np.asarray(r), ops.convert_to_numpy(o)
        assert r.shape == o.shape, (r.shape, o.shape)
        if r.dtype == bool:
            np.testing.assert_array_equal(o, r)
        elif np.iscomplexobj(r):
            np.testing.assert_allclose(o, r, rtol=rtol, atol=atol)
        else:
            np.testing.assert_allclose(o.astype("float64"), r.astype("float64"), rtol=rtol,
                                       atol=atol, equal_nan=True)


CASES = []


def add(name, *args, rtol=1e-5, atol=1e-6, **kwargs):
    CASES.append(pytest.param(name, args, kwargs, rtol, atol, id=f"{name}-{len(CASES)}"))


# ------------------------------------------------------------------ activations
ELEMENTWISE = ["celu", "elu", "gelu", "hard_shrink", "hard_sigmoid", "hard_silu", "hard_swish",
               "hard_tanh", "leaky_relu", "log_sigmoid", "relu", "relu6", "selu", "sigmoid",
               "silu", "soft_shrink", "softplus", "softsign", "sparse_plus", "sparse_sigmoid",
               "squareplus", "swish", "tanh_shrink"]
ALONG_AXIS = ["softmax", "log_softmax", "sparsemax", "glu"]
# Keras on JAX refuses integer inputs for these (kerastorch promotes them to floatx)
NO_INT = {"sigmoid", "silu", "swish", "glu"}
for op in ELEMENTWISE:
    add(op, X)
    add(op, SPECIAL)
    add(op, X.astype("float16"), **HALF)
    add(op, bf16(X), **HALF)
    add(op, np.zeros((0, 3), "float32"))
    add(op, np.float32(-0.4))
    if op not in NO_INT:
        add(op, INT)
        add(op, INT.astype("int8"))
for op in ALONG_AXIS:
    add(op, X3)
    add(op, X3, axis=0)
    add(op, X3 if op != "glu" else X3[:, :2], axis=-2)
    add(op, X3.astype("float16"), **HALF)
    add(op, bf16(X3), **HALF)
    if op not in NO_INT:
        add(op, INT)
for op in ["softmax", "log_softmax"]:
    add(op, X3, axis=None)
    add(op, X3, axis=(0, 2))
    add(op, X3, axis=(1, 2))
    add(op, X3, axis=(2, 0))
    add(op, SPECIAL)
    add(op, np.array([1e30, -1e30, 0.0], "float32"))
add("sparsemax", np.array([1.0, 0.9, -5.0], "float32"))  # a support of two: Keras' tau
add("sparsemax", np.array([[3.0, 0.0, 0.0], [1.0, 1.0, 1.0]], "float32"), axis=0)
add("leaky_relu", X, negative_slope=0.01)
add("elu", X, alpha=-0.5)
add("celu", X, alpha=2.0)
add("gelu", X, approximate=False)
add("gelu", X.astype("float16"), approximate=False, **HALF)
add("soft_shrink", X, threshold=1.5)
add("soft_shrink", X, threshold=-0.5)
add("hard_shrink", X, threshold=-0.5)
add("hard_shrink", INT, threshold=2)
add("squareplus", X, b=1)
add("squareplus", X.astype("float16"), b=0, **HALF)
add("threshold", X, 0.5, -1.0)
add("threshold", X, -1, 3)
add("threshold", X.astype("float16"), 0.0, 2.5, **HALF)
add("threshold", INT, 0, 7)
add("threshold", INT, 0.5, -1.0)
add("relu", np.array([True, False]))
add("hard_tanh", np.array([True, False]))
add("relu", INT.astype("uint8"))

# ------------------------------------------------------------------ crossentropies
T = np.eye(5, dtype="float32")[[0, 3, 4]]
Z = (R.normal(size=(3, 5)) * 2).astype("float32")
P = np.abs(Z) / np.abs(Z).sum(-1, keepdims=True)
LABELS = np.array([1, 4, 0], "int32")
for t_dtype in ["float32", "int32", "float16"]:
    for cast in (lambda a: a, lambda a: a.astype("float16"), bf16):
        tol = HALF if t_dtype == "float16" or cast(Z).dtype != np.float32 else {}
        add("categorical_crossentropy", T.astype(t_dtype), cast(Z), from_logits=True, **tol)
        add("categorical_crossentropy", T.astype(t_dtype), cast(P), **tol)
        add("binary_crossentropy", T.astype(t_dtype), cast(Z), from_logits=True, **tol)
        add("binary_crossentropy", T.astype(t_dtype), cast(P), **tol)
        add("sparse_categorical_crossentropy", LABELS.astype(t_dtype), cast(Z),
            from_logits=True, **tol)
        add("sparse_categorical_crossentropy", LABELS.astype(t_dtype), cast(P), **tol)
add("categorical_crossentropy", T.T, Z.T, from_logits=True, axis=0)
add("categorical_crossentropy", T.T, P.T, axis=-2)
add("categorical_crossentropy", np.array([0, 1, 0], "int32"), np.array([3, 1, 2], "int32"))
add("categorical_crossentropy", T, np.where(T > 0, 1.0, 0.0).astype("float32"))  # p = 0, 1
add("sparse_categorical_crossentropy", np.array([-1, 5, 2], "int32"), Z, from_logits=True)
add("sparse_categorical_crossentropy", np.array([-1, 5, 2], "int32"), P)
add("sparse_categorical_crossentropy", LABELS[:, None], Z, from_logits=True)
add("sparse_categorical_crossentropy", LABELS.astype("float32"), Z, from_logits=True)
add("sparse_categorical_crossentropy", np.array(2, "int32"), Z[0], from_logits=True)
add("sparse_categorical_crossentropy", np.zeros((2, 3), "int32"), X3, from_logits=True)
add("binary_crossentropy", np.array([0.0, 1.0, np.nan, 1.0]),
    np.array([0.3, np.nan, 0.5, 0.0]))
add("binary_crossentropy", np.array([0.0, 1.0, 1.0, 0.0, 1.0]),
    np.array([np.nan, 100.0, -100.0, 100.0, 0.0]), from_logits=True)
add("binary_crossentropy", np.array([0, 1, 1], "int32"), np.array([0.3, 0.2, 1.0]))
add("binary_crossentropy", np.array([0, 1, 1], "int32"), np.array([3, -2, 0], "int32"),
    from_logits=True)
add("binary_crossentropy", np.zeros((0, 2), "float32"), np.zeros((0, 2), "float32"))

# ------------------------------------------------------------------ one_hot / multi_hot
for labels in [np.array([0, 2, -1, 7], "int32"), np.array([[0, 2], [3, 1]], "int32"),
               np.array([0.0, 1.5, 2.0]), np.array([], "int32"), np.array(3, "int32")]:
    for axis in sorted({-1, 0, labels.ndim}):
        for dtype in [None, "int32", "bool", "float16"]:
            add("one_hot", labels, 4, axis=axis, dtype=dtype)
add("one_hot", np.array([[0, 2], [3, 1]], "int32"), 5, axis=-2)
add("one_hot", np.array([[0, 2], [3, 1]], "uint8"), 4, axis=1)
for labels in [np.array([0, 2, 2, -1], "int32"), np.array([[0, 2], [3, 1]], "int32"),
               np.array([[[0, 2], [3, 1]]], "int32"), np.array([[0.0, 2.7]], "float32")]:
    for axis in [-1, 0]:
        for dtype in [None, "int32", "bool"]:
            add("multi_hot", labels, 4, axis=axis, dtype=dtype)
add("multi_hot", np.array([[0, 2], [3, 1]], "int32"), num_tokens=4)

# ------------------------------------------------------------------ CTC
LOGITS = R.normal(size=(3, 8, 5)).astype("float32")
TARGET = np.array([[1, 2, 2, 0], [3, 1, 0, 0], [4, 4, 1, 1]], "int32")
TARGET_LEN = np.array([3, 2, 4], "int32")
FRAMES = np.array([8, 6, 8], "int32")
add("ctc_loss", TARGET, LOGITS, TARGET_LEN, FRAMES, rtol=1e-4)
add("ctc_loss", TARGET, LOGITS, TARGET_LEN, FRAMES, mask_index=3, rtol=1e-4)
add("ctc_loss", TARGET, LOGITS, np.array([0, 2, 1], "int32"), FRAMES, rtol=1e-4)
add("ctc_loss", TARGET, LOGITS.astype("float16"), TARGET_LEN, FRAMES, rtol=1e-3)
TIES = R.integers(0, 3, size=(3, 8, 5)).astype("float32")
for logits in (LOGITS, TIES):
    for lengths in (FRAMES, np.array([0, 1, 9], "int32")):
        add("ctc_decode", logits, lengths)
        add("ctc_decode", logits, lengths, merge_repeated=False, mask_index=2)
        add("ctc_decode", logits, lengths, mask_index=None)
        add("ctc_decode", logits, lengths, strategy="beam_search", beam_width=4, top_paths=2,
            rtol=1e-5, atol=1e-5)
        add("ctc_decode", logits, lengths, strategy="beam_search", beam_width=10, top_paths=3,
            mask_index=4, rtol=1e-5, atol=1e-5)
add("ctc_decode", LOGITS, FRAMES, strategy="beam_search", beam_width=1, atol=1e-5)
add("ctc_decode", LOGITS.astype("float16"), FRAMES, strategy="beam_search", beam_width=3,
    rtol=1e-3, atol=1e-3)

# ------------------------------------------------------------------ normalization
for x, tol in [(X3, {}), (X3.astype("float16"), HALF), (bf16(X3), HALF),
               ((X3 * 3).astype("int32"), {})]:
    add("moments", x, axes=[0, 1], **tol)
    add("moments", x, axes=-1, keepdims=True, **tol)
    add("moments", x, axes=(0, 2), **tol)
    add("moments", x, axes=[-3, -1, -2], keepdims=True, **tol)
    add("batch_normalization", x, np.full(4, 0.1, "float32"), np.full(4, 2.0, "float32"),
        axis=-1, **tol)
    add("batch_normalization", x, np.arange(3, dtype="float32"), np.full(3, 0.5, "float32"),
        axis=1, offset=np.ones(3, "float32"), scale=np.full(3, 3.0, "float32"), epsilon=0.1,
        **tol)
    add("layer_normalization", x, **tol)
    add("layer_normalization", x, axis=(0, 2), **tol)
    add("layer_normalization", x, np.full(4, 2.0, "float32"), np.ones(4, "float32"), **tol)
    add("layer_normalization", x, np.full(3, 2.0, "float32"), np.ones(3, "float32"), axis=-2,
        **tol)
    add("layer_normalization", x, np.full((3, 4), 2.0, "float32"), axis=[1, 2], **tol)
    add("layer_normalization", x, np.full(4, 2.0, "float32"), rms_scaling=True, **tol)
    if x.dtype != np.int32:  # int results are truncated: a rounding ulp flips them
        add("rms_normalization", x, **tol)
        add("rms_normalization", x, np.full(4, 2.0, "float32"), **tol)
        add("rms_normalization", x, np.full((3, 1), 2.0, "float32"), axis=1, **tol)
        add("rms_normalization", x, axis=(0, 2), epsilon=0.5, **tol)
        add("normalize", x, **tol)
        add("normalize", x, axis=None, **tol)
    add("normalize", x, axis=(0, 2), order=1, **tol)
    add("normalize", x, axis=1, order=3, **tol)
    add("psnr", x, x * 0.9 if x.dtype != np.int32 else x + 1, 1.0, **tol)
add("moments", np.zeros((0, 3), "float32"), axes=[0])
add("moments", SPECIAL, axes=0)
add("moments", np.array([0, 1, 2, 3, 100], "float32"), axes=[0])
add("moments", np.full((4,), 60000.0, "float16"), axes=[0], **HALF)  # clipped to float16
add("normalize", np.float32(3.0))
add("normalize", np.zeros((2, 3), "float32"))
add("normalize", X, epsilon=10.0)
add("normalize", X, axis=(0, 1), order=1)
add("normalize", X, axis=(1, 0), order=1)
add("normalize", X, order=1, epsilon=100.0)
add("rms_normalization", np.float32(3.0))
add("layer_normalization", np.arange(5, dtype="float32"), epsilon=1e-3)
add("batch_normalization", X3.astype("float16"), np.full(4, 0.1, "float16"),
    np.full(4, 2.0, "float16"), axis=-1, **HALF)
add("polar", X3, X3 * 2)
add("polar", np.array([1, 2], "int32"), np.array([0.5, 1.0], "float32"))
add("polar", np.abs(X[:, :1]), X[:1])
add("psnr", X3, X3, 1.0)
add("psnr", X3.astype("float16"), X3, 255, **HALF)
add("psnr", X3, X3.astype("float16"), 2.0, **HALF)


@pytest.mark.parametrize("name, args, kwargs, rtol, atol", CASES)
def test_nn_op_matches_keras(keras3, name, args, kwargs, rtol, atol):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = getattr(keras3.ops, name)(*args, **kwargs)
        ours = getattr(ops, name)(*args, **kwargs)
    _compare(keras3, ref, ours, rtol, atol)


def test_softmax_warns_on_an_axis_of_size_one(keras3):
    x = np.ones((3, 1), "float32")
    with pytest.warns(UserWarning, match="has size 1"):
        keras3.ops.softmax(x)
    with pytest.warns(UserWarning, match="has size 1"):
        out = ops.softmax(x)
    np.testing.assert_array_equal(ops.convert_to_numpy(out), np.ones((3, 1)))


def test_aliases_are_keras_functions():
    assert ops.swish is ops.silu and ops.hard_swish is ops.hard_silu


@pytest.mark.parametrize("axis", [0, 1, -2])
def test_sparse_crossentropy_class_axis(keras3, axis):
    """Keras on JAX only takes the class axis last; kerastorch takes any (Keras' torch
    backend's semantics): the same as Keras with the class axis moved last."""
    rest = tuple(s for d, s in enumerate(X3.shape) if d != axis % X3.ndim)
    target = R.integers(0, X3.shape[axis], size=rest).astype("int32")
    moved = np.moveaxis(X3, axis, -1)
    for from_logits, output in ((True, moved), (False, np.abs(moved))):
        ref = keras3.ops.sparse_categorical_crossentropy(target, output, from_logits=from_logits)
        ours = ops.sparse_categorical_crossentropy(target, np.moveaxis(output, -1, axis),
                                                   from_logits=from_logits, axis=axis)
        _compare(keras3, ref, ours, 1e-5, 1e-6)


def test_ctc_loss_of_an_impossible_alignment_is_inf(keras3):
    """Labels that do not fit the frames: Keras on JAX gives a ~1e5 penalty, kerastorch inf
    (torch's F.ctc_loss, as Keras' torch backend)."""
    target, lengths = np.array([[4, 4, 4, 4]], "int32"), np.array([4], "int32")
    frames = np.array([5], "int32")
    ref = np.asarray(keras3.ops.ctc_loss(target, LOGITS[:1], lengths, frames))
    ours = ops.convert_to_numpy(ops.ctc_loss(target, LOGITS[:1], lengths, frames))
    assert ref[0] > 1e4 and np.isinf(ours[0])


def test_ctc_beam_search_random_shapes(keras3):
    for seed in range(12):
        rng = np.random.default_rng(seed)
        batch, frames, classes = (int(v) for v in rng.integers((1, 1, 2), (4, 9, 7)))
        width = int(rng.integers(1, 8))
        logits = rng.normal(size=(batch, frames, classes)).astype("float32")
        if seed % 3 == 0:
            logits = np.round(logits)
        lengths = rng.integers(0, frames + 1, size=(batch,)).astype("int32")
        kw = dict(strategy="beam_search", beam_width=width, top_paths=min(width, 2),
                  mask_index=int(rng.integers(0, classes)))
        _compare(keras3, keras3.ops.ctc_decode(logits, lengths, **kw),
                 ops.ctc_decode(logits, lengths, **kw), 1e-5, 1e-5)


def test_ops_keras_refuses_but_kerastorch_computes(keras3):
    """Inputs Keras on JAX refuses or wraps around (uint8 arithmetic): kerastorch computes the
    formula in floatx."""
    u = np.array([0, 1, 2, 5], "uint8")
    np.testing.assert_allclose(ops.convert_to_numpy(ops.log_sigmoid(u)),
                               -np.log1p(np.exp(-u.astype("float64"))), rtol=1e-6)
    np.testing.assert_array_equal(ops.convert_to_numpy(ops.hard_tanh(u)), [0, 1, 1, 1])
    for name in ("sigmoid", "silu", "glu"):
        assert ops.convert_to_numpy(getattr(ops, name)(INT)).dtype == np.float32
    assert ops.polar(X.astype("float16"), X.astype("float16")).dtype == torch.complex64
    assert ops.normalize(INT).dtype == torch.float32


def test_moments_synchronized_in_one_process_is_local(keras3):
    ref = keras3.ops.moments(X3, axes=[0, 1])
    _compare(keras3, ref, ops.moments(X3, axes=[0, 1], synchronized=True), 1e-5, 1e-6)


_SYNC_SCRIPT = """
import json, sys
import numpy as np, torch, torch.distributed as dist
import kerastorch.ops as ops
dist.init_process_group("gloo")
rank = dist.get_rank()
data = np.arange(42, dtype="float32").reshape(7, 2, 3) ** 1.5
x = torch.tensor(data[:3] if rank == 0 else data[3:], requires_grad=True)  # uneven shares
mean, var = ops.moments(x, axes=[0, 2], synchronized=True)
(mean.sum() + var.sum()).backward()
with open(sys.argv[1] + f".{rank}.json", "w") as f:
    json.dump({"mean": mean.tolist(), "var": var.tolist(), "grad": x.grad.tolist()}, f)
dist.destroy_process_group()
"""


def test_moments_synchronized_across_processes(tmp_path):
    """Two gloo processes holding 3 and 4 rows: the statistics of all 7, and the gradient
    of each process' rows summed over both processes' losses (as torch's SyncBatchNorm)."""
    import json
    import os
    import subprocess
    import sys
    script = tmp_path / "sync_moments.py"
    script.write_text(_SYNC_SCRIPT)
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    env = dict(os.environ, KERASTORCH_DEVICE="cpu", OMP_NUM_THREADS="1",
               PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           "--nproc_per_node", "2", str(script), str(tmp_path / "out")],
                          env=env, cwd=root, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    runs = [json.loads((tmp_path / f"out.{r}.json").read_text()) for r in range(2)]
    data = torch.tensor(np.arange(42, dtype="float32").reshape(7, 2, 3) ** 1.5,
                        requires_grad=True)
    mean, var = ops.moments(data, axes=[0, 2])
    (mean.sum() + var.sum()).backward()
    for run, rows in zip(runs, (slice(0, 3), slice(3, 7))):
        np.testing.assert_allclose(run["mean"], mean.detach().numpy(), rtol=1e-5)
        np.testing.assert_allclose(run["var"], var.detach().numpy(), rtol=1e-4)
        np.testing.assert_allclose(run["grad"], 2 * data.grad[rows].numpy(), rtol=1e-4,
                                   atol=1e-5)
