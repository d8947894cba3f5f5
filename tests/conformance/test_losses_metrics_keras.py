"""Losses and metrics against real Keras 3 on JAX: same inputs, same numbers (1e-6 relative)."""

import numpy as np
import pytest
import torch

from kerastorch import losses, metrics

pytestmark = pytest.mark.conformance

REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None]
RTOL = 1e-6


def _np(x):
    return np.asarray(x)


def _close(ours, ref):
    ours = ours.detach().cpu().numpy() if isinstance(ours, torch.Tensor) else np.asarray(ours)
    np.testing.assert_allclose(ours, _np(ref), rtol=RTOL, atol=1e-7)


def _probs(rng, shape, axis=-1, extreme=True):
    p = rng.random(shape).astype("float32") + 0.01
    p /= p.sum(axis=axis, keepdims=True)
    if extreme:  # exact 0 and 1 exercise the clip to [1e-7, 1 - 1e-7]
        p = np.moveaxis(p, axis, -1).copy()
        p[0] = 0.0
        p[0, ..., 0] = 1.0
        p[1, ..., 1] = 0.0
        p = np.moveaxis(p, -1, axis)
    return np.ascontiguousarray(p, dtype="float32")


def _one_hot(rng, shape, axis=-1):
    n = shape[axis]
    labels = rng.integers(0, n, size=np.delete(np.array(shape), axis % len(shape)))
    return np.moveaxis(np.eye(n, dtype="float32")[labels], -1, axis)


def _weights(kind, rng, shape):
    if kind is None:
        return None
    if kind == "scalar":
        return 1.5
    w = rng.random(shape).astype("float32")
    w[0] = 0.0
    return w[..., None] if kind == "column" else w


def _compare_loss(keras3, name, kwargs, y_true, y_pred, sample_weight):
    ref = getattr(keras3.losses, name)(**kwargs)(y_true, y_pred, sample_weight=sample_weight)
    sw = None if sample_weight is None else (
        sample_weight if np.isscalar(sample_weight) else torch.from_numpy(sample_weight))
    ours = getattr(losses, name)(**kwargs)(torch.from_numpy(y_true), torch.from_numpy(y_pred),
                                          sample_weight=sw)
    _close(ours, ref)


# ------------------------------------------------------------------------------------- losses
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weights", [None, "vector", "column", "scalar"])
@pytest.mark.parametrize("from_logits,label_smoothing", [(False, 0.0), (True, 0.0),
                                                         (False, 0.1), (True, 0.2)])
def test_categorical_crossentropy(keras3, rng, reduction, weights, from_logits, label_smoothing):
    y_pred = (rng.normal(size=(8, 5)) * 3).astype("float32") if from_logits else _probs(rng, (8, 5))
    kwargs = dict(from_logits=from_logits, label_smoothing=label_smoothing, reduction=reduction)
    _compare_loss(keras3, "CategoricalCrossentropy", kwargs, _one_hot(rng, (8, 5)), y_pred,
                  _weights(weights, rng, (8,)))


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_categorical_crossentropy_axis(keras3, rng, from_logits, label_smoothing):
    shape = (4, 5, 3)
    y_pred = rng.normal(size=shape).astype("float32") if from_logits else _probs(rng, shape, 1)
    kwargs = dict(from_logits=from_logits, label_smoothing=label_smoothing, axis=1)
    _compare_loss(keras3, "CategoricalCrossentropy", kwargs, _one_hot(rng, shape, 1), y_pred,
                  None)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weights", [None, "vector", "column"])
@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("label_form", ["int", "column", "float"])
def test_sparse_categorical_crossentropy(keras3, rng, reduction, weights, from_logits,
                                         label_form):
    y_pred = rng.normal(size=(8, 5)).astype("float32") if from_logits else _probs(rng, (8, 5))
    y_true = rng.integers(0, 5, size=8)
    y_true = {"int": y_true, "column": y_true[:, None], "float": y_true.astype("float32")}[
        label_form]
    kwargs = dict(from_logits=from_logits, reduction=reduction)
    _compare_loss(keras3, "SparseCategoricalCrossentropy", kwargs, y_true, y_pred,
                  _weights(weights, rng, (8,)))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weights", [None, "vector"])
@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_categorical_crossentropy_ignore_class(keras3, rng, reduction, weights,
                                                      from_logits):
    shape = (4, 6, 5)  # segmentation-like: one label per (sample, position)
    y_pred = rng.normal(size=shape).astype("float32") if from_logits else _probs(rng, shape)
    y_true = rng.integers(0, 5, size=(4, 6))
    y_true[rng.random((4, 6)) < 0.3] = -1
    kwargs = dict(from_logits=from_logits, ignore_class=-1, reduction=reduction)
    _compare_loss(keras3, "SparseCategoricalCrossentropy", kwargs, y_true, y_pred,
                  _weights(weights, rng, (4, 6)))


@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_categorical_crossentropy_axis(keras3, rng, from_logits):
    # Keras' JAX op wants target.shape == y_pred.shape[:-1], so classes == last length here.
    y_pred = rng.normal(size=(4, 3, 3)).astype("float32") if from_logits else _probs(
        rng, (4, 3, 3), 1)
    _compare_loss(keras3, "SparseCategoricalCrossentropy", dict(from_logits=from_logits, axis=1),
                  rng.integers(0, 3, size=(4, 3)), y_pred, None)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weights", [None, "vector", "column", "scalar"])
@pytest.mark.parametrize("from_logits,label_smoothing", [(False, 0.0), (True, 0.0),
                                                         (False, 0.1), (True, 0.2)])
@pytest.mark.parametrize("soft", [False, True])
def test_binary_crossentropy(keras3, rng, reduction, weights, from_logits, label_smoothing,
                             soft):
    y_pred = (rng.normal(size=(8, 4)) * 3 if from_logits else rng.random((8, 4))).astype(
        "float32")
    if not from_logits:
        y_pred[0, :2], y_pred[1, :2] = 0.0, 1.0
    y_true = rng.random((8, 4)) if soft else (rng.random((8, 4)) > 0.5)
    kwargs = dict(from_logits=from_logits, label_smoothing=label_smoothing, reduction=reduction)
    _compare_loss(keras3, "BinaryCrossentropy", kwargs, y_true.astype("float32"), y_pred,
                  _weights(weights, rng, (8,)))


@pytest.mark.parametrize("axis", [0, -1])
def test_binary_crossentropy_axis_and_column_targets(keras3, rng, axis):
    y_pred = rng.random((8, 4)).astype("float32")
    y_true = (rng.random((8, 4)) > 0.5).astype("float32")
    _compare_loss(keras3, "BinaryCrossentropy", dict(axis=axis), y_true, y_pred, None)
    # (n,) targets against (n, 1) outputs: the wrapper expands the targets first
    _compare_loss(keras3, "BinaryCrossentropy", {}, y_true[:, 0], y_pred[:, :1], None)


@pytest.mark.parametrize("name", ["MeanSquaredError", "MeanAbsoluteError"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weights", [None, "vector", "column", "scalar"])
def test_regression(keras3, rng, name, reduction, weights):
    y_true = rng.normal(size=(8, 3)).astype("float32")
    y_pred = rng.normal(size=(8, 3)).astype("float32")
    _compare_loss(keras3, name, dict(reduction=reduction), y_true, y_pred,
                  _weights(weights, rng, (8,)))
    _compare_loss(keras3, name, dict(reduction=reduction), y_true[:, 0], y_pred[:, :1],
                  _weights(weights, rng, (8,)))


@pytest.mark.parametrize("fn,kwargs", [
    ("categorical_crossentropy", {}), ("categorical_crossentropy", {"from_logits": True}),
    ("categorical_crossentropy", {"label_smoothing": 0.1}),
    ("binary_crossentropy", {}), ("binary_crossentropy", {"from_logits": True}),
    ("mean_squared_error", {}), ("mean_absolute_error", {}),
])
def test_functions(keras3, rng, fn, kwargs):
    y_true = _one_hot(rng, (6, 4))
    y_pred = _probs(rng, (6, 4))
    ref = getattr(keras3.losses, fn)(y_true, y_pred, **kwargs)
    _close(getattr(losses, fn)(torch.from_numpy(y_true), torch.from_numpy(y_pred), **kwargs), ref)


def test_sparse_function(keras3, rng):
    y_pred = _probs(rng, (6, 4))
    y_true = rng.integers(0, 4, size=6)
    ref = keras3.losses.sparse_categorical_crossentropy(y_true, y_pred)
    _close(losses.sparse_categorical_crossentropy(torch.from_numpy(y_true),
                                                  torch.from_numpy(y_pred)), ref)


@pytest.mark.parametrize("name,kwargs", [
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.1, "axis": 1}),
    ("SparseCategoricalCrossentropy", {"ignore_class": 3}),
    ("BinaryCrossentropy", {"label_smoothing": 0.2}),
    ("MeanSquaredError", {"reduction": "sum"}), ("MeanAbsoluteError", {}),
])
def test_loss_configs(keras3, name, kwargs):
    ours = getattr(losses, name)(**kwargs)
    assert ours.get_config() == getattr(keras3.losses, name)(**kwargs).get_config()
    assert losses.serialize(ours) == keras3.losses.serialize(getattr(keras3.losses, name)(**kwargs))


# ------------------------------------------------------------------------------------ metrics
def _metric_batches(rng, kind, n=3, batch=6):
    for _ in range(n):
        if kind == "categorical":
            yield _one_hot(rng, (batch, 4)), _probs(rng, (batch, 4), extreme=False)
        elif kind == "sparse":
            yield rng.integers(0, 4, size=batch), rng.random((batch, 4)).astype("float32")
        elif kind == "sparse_column_float":
            yield (rng.integers(0, 4, size=(batch, 1)).astype("float32"),
                   rng.random((batch, 4)).astype("float32"))
        elif kind == "binary":
            yield ((rng.random((batch, 1)) > 0.5).astype("float32"),
                   rng.random((batch, 1)).astype("float32"))
        elif kind == "binary_flat":
            yield (rng.random(batch) > 0.5).astype("float32"), rng.random((batch, 1)).astype(
                "float32")
        elif kind == "exact":
            yield (rng.integers(0, 3, size=(batch, 2)).astype("float32"),
                   rng.integers(0, 3, size=(batch, 2)).astype("float32"))
        elif kind == "regression":
            yield rng.normal(size=(batch, 3)).astype("float32"), rng.normal(size=(batch, 3)).astype(
                "float32")
        elif kind == "ignore":
            y = rng.integers(-1, 4, size=batch)
            yield y, _probs(rng, (batch, 4), extreme=False)


METRIC_CASES = [
    ("Accuracy", {}, "exact"),
    ("BinaryAccuracy", {}, "binary"), ("BinaryAccuracy", {"threshold": 0.7}, "binary_flat"),
    ("CategoricalAccuracy", {}, "categorical"),
    ("SparseCategoricalAccuracy", {}, "sparse"),
    ("SparseCategoricalAccuracy", {}, "sparse_column_float"),
    ("MeanSquaredError", {}, "regression"), ("MeanAbsoluteError", {}, "regression"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "binary"),
    ("BinaryCrossentropy", {}, "binary"),
    ("CategoricalCrossentropy", {"label_smoothing": 0.1}, "categorical"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse"),
    ("SparseCategoricalCrossentropy", {"ignore_class": -1}, "ignore"),
]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name,kwargs,kind", METRIC_CASES)
def test_metric(keras3, rng, name, kwargs, kind, weighted):
    ref, ours = getattr(keras3.metrics, name)(**kwargs), getattr(metrics, name)(**kwargs)
    for y_true, y_pred in _metric_batches(rng, kind):
        sw = rng.random(len(y_true)).astype("float32") if weighted else None
        ref.update_state(y_true, y_pred, sample_weight=sw)
        ours.update_state(torch.from_numpy(y_true), torch.from_numpy(y_pred),
                          sample_weight=None if sw is None else torch.from_numpy(sw))
    _close(ours.result(), ref.result())
    assert ours.get_config() == ref.get_config()
    ours.reset_state()
    assert float(ours.result()) == 0.0


@pytest.mark.parametrize("name", ["Mean", "Sum"])
@pytest.mark.parametrize("weights", [None, "vector", "matrix", "column"])
def test_reduction_metrics(keras3, rng, name, weights):
    ref, ours = getattr(keras3.metrics, name)(), getattr(metrics, name)()
    for _ in range(3):
        values = rng.normal(size=(5, 3)).astype("float32")
        sw = {None: None, "vector": rng.random(5), "matrix": rng.random((5, 3)),
              "column": rng.random((5, 1))}[weights]
        sw = None if sw is None else sw.astype("float32")
        ref.update_state(values, sample_weight=sw)
        ours.update_state(torch.from_numpy(values),
                          sample_weight=None if sw is None else torch.from_numpy(sw))
    _close(ours.result(), ref.result())


@pytest.mark.parametrize("shape", [(), (4,), (4, 3)])
def test_mean_with_python_weight(keras3, rng, shape):
    # how a trainer tracks the loss: mean.update_state(batch_loss, sample_weight=batch_size)
    ref, ours = keras3.metrics.Mean(), metrics.Mean()
    for batch_size in (32, 32, 7):
        values = rng.normal(size=shape).astype("float32")
        ref.update_state(values, sample_weight=batch_size)
        ours.update_state(torch.from_numpy(values), sample_weight=batch_size)
    _close(ours.result(), ref.result())
    _close(ours.count, ref.count)


def test_mean_metric_wrapper(keras3, rng):
    ref = keras3.metrics.MeanMetricWrapper(keras3.losses.mean_squared_error)
    ours = metrics.MeanMetricWrapper(losses.mean_squared_error)
    for y_true, y_pred in _metric_batches(rng, "regression"):
        sw = rng.random(len(y_true)).astype("float32")
        ref.update_state(y_true, y_pred, sample_weight=sw)
        ours.update_state(torch.from_numpy(y_true), torch.from_numpy(y_pred), torch.from_numpy(sw))
    _close(ours.result(), ref.result())


@pytest.mark.parametrize("identifier", ["accuracy", "acc", "Accuracy"])
@pytest.mark.parametrize("t_shape,p_shape", [((8, 1), (8, 1)), ((8,), (8, 1)), ((8,), (8, 4)),
                                             ((8, 1), (8, 4)), ((8, 4), (8, 4))])
def test_resolve_accuracy(keras3, identifier, t_shape, p_shape):
    from keras.src.trainers.compile_utils import get_metric

    ref = get_metric(identifier, np.zeros(t_shape), np.zeros(p_shape))
    ours = metrics.resolve_accuracy(identifier, torch.zeros(t_shape), torch.zeros(p_shape))
    assert (type(ours).__name__, ours.name) == (type(ref).__name__, ref.name)


@pytest.mark.parametrize("identifier", ["mse", "mae", "categorical_accuracy", "binary_accuracy",
                                        "sparse_categorical_accuracy", "CategoricalAccuracy",
                                        "bce", "categorical_crossentropy", "accuracy"])
def test_metric_get(keras3, identifier):
    ref, ours = keras3.metrics.get(identifier), metrics.get(identifier)
    assert (type(ours).__name__, ours.name) == (type(ref).__name__, ref.name)


@pytest.mark.parametrize("t_shape,p_shape", [((8, 1), (8, 1)), ((8,), (8, 1)), ((8,), (8, 4)),
                                             ((8, 1), (8, 4)), ((8, 4), (8, 4))])
def test_resolve_crossentropy(keras3, t_shape, p_shape):
    from keras.src.trainers.compile_utils import get_loss

    ref = get_loss("crossentropy", np.zeros(t_shape), np.zeros(p_shape))
    ours = losses.resolve_crossentropy("crossentropy", t_shape, p_shape)
    assert ours.__name__ == ref.fn.__name__
