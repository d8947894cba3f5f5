"""Stateful metrics against real Keras 3 on JAX: several `update_state` calls (with and without
sample weights), then `result()`, the state variables, and `reset_state()`, compared."""

import re

import numpy as np
import pytest
import torch

from kerastorch import metrics

pytestmark = pytest.mark.conformance

RTOL, ATOL = 1e-5, 1e-6


def _t(x):
    return None if x is None else (torch.from_numpy(x) if isinstance(x, np.ndarray) else x)


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _batches(rng, kind, weights, n=3, batch=8, classes=4):
    """`n` batches of (y_true, y_pred, sample_weight) as numpy arrays."""
    out = []
    for i in range(n):
        if kind == "binary":  # (batch, 1) probabilities, with exact 0, 0.5 and 1 in them
            y_true = rng.integers(0, 2, size=(batch, 1)).astype("float32")
            y_pred = rng.random((batch, 1)).astype("float32")
            y_pred[:3, 0] = [0.0, 0.5, 1.0]
        elif kind == "binary1d":
            y_true = rng.integers(0, 2, size=(batch,)).astype("float32")
            y_pred = rng.random((batch,)).astype("float32")
        elif kind == "multilabel":
            y_true = rng.integers(0, 2, size=(batch, classes)).astype("float32")
            y_pred = rng.random((batch, classes)).astype("float32")
        elif kind == "logits":
            y_true = rng.integers(0, 2, size=(batch, classes)).astype("float32")
            y_pred = (rng.normal(size=(batch, classes)) * 2).astype("float32")
        elif kind == "categorical":
            y_true = np.eye(classes, dtype="float32")[rng.integers(0, classes, size=batch)]
            y_pred = rng.random((batch, classes)).astype("float32")
            y_pred /= y_pred.sum(-1, keepdims=True)
        elif kind == "sparse":
            y_true = rng.integers(0, classes, size=(batch,)).astype("int32")
            y_pred = rng.random((batch, classes)).astype("float32")
        elif kind == "regression":
            y_true = rng.normal(size=(batch, 3)).astype("float32")
            y_pred = (y_true + 0.5 * rng.normal(size=(batch, 3))).astype("float32")
        else:
            raise ValueError(kind)
        if weights is None:
            w = None
        elif weights == "vector":
            w = rng.random(batch).astype("float32")
            w[i] = 0.0
        elif weights == "column":
            w = rng.random((batch, 1)).astype("float32")
        elif weights == "int":
            w = rng.integers(0, 3, size=batch).astype("float32")
        else:
            raise ValueError(weights)
        out.append((y_true, y_pred, w))
    return out


def _compare(keras3, name, kwargs, kind, weights, rng, variables=True, rtol=RTOL):
    ref, ours = getattr(keras3.metrics, name)(**kwargs), getattr(metrics, name)(**kwargs)
    for y_true, y_pred, w in _batches(rng, kind, weights):
        ref.update_state(y_true, y_pred, sample_weight=w)
        ours.update_state(_t(y_true), _t(y_pred), sample_weight=_t(w))
        np.testing.assert_allclose(_np(ours.result()), _np(ref.result()), rtol=rtol, atol=ATOL)
    if variables:
        assert len(ours.variables) == len(ref.variables)
        for v_ours, v_ref in zip(ours.variables, ref.variables):
            np.testing.assert_allclose(_np(v_ours), _np(v_ref), rtol=rtol, atol=1e-5)
    ours.reset_state()
    ref.reset_state()
    np.testing.assert_allclose(_np(ours.result()), _np(ref.result()), rtol=rtol, atol=ATOL)
    y_true, y_pred, w = _batches(rng, kind, weights, n=1)[0]  # usable again after the reset
    ref.update_state(y_true, y_pred, sample_weight=w)
    ours.update_state(_t(y_true), _t(y_pred), sample_weight=_t(w))
    np.testing.assert_allclose(_np(ours.result()), _np(ref.result()), rtol=rtol, atol=ATOL)
    assert _config(ours) == _keras_config(ref)
    return ours


def _config(metric):
    # Default names are numbered per process (`auc`, `auc_1`, ...) by both libraries, and other
    # test files make kerastorch metrics too: compare the names without the number.
    cfg = dict(metric.get_config())
    cfg["name"] = re.sub(r"_\d+$", "", cfg["name"])
    return cfg


def _keras_config(ref):
    cfg = _config(ref)
    for key, value in cfg.items():
        if hasattr(value, "tolist"):
            cfg[key] = np.asarray(value).tolist()
    return cfg


WEIGHTS = [None, "vector"]


# ------------------------------------------------------------------------------ confusion counts
@pytest.mark.parametrize("name", ["TruePositives", "FalsePositives", "TrueNegatives",
                                  "FalseNegatives"])
@pytest.mark.parametrize("thresholds,weights", [(None, None), (0.3, "vector"),
                                                ([0.0, 0.5, 1.0], "vector"),
                                                ([0.1, 0.5, 0.75, 0.9], None),
                                                ([0.1, 0.5, 0.75, 0.9], "vector")])
def test_confusion_counts(keras3, rng, name, thresholds, weights):
    _compare(keras3, name, {"thresholds": thresholds}, "binary", weights, rng)


@pytest.mark.parametrize("name", ["TruePositives", "FalseNegatives"])
@pytest.mark.parametrize("kind,weights", [("multilabel", "column"), ("binary1d", "vector"),
                                          ("multilabel", "vector")])
def test_confusion_counts_shapes(keras3, rng, name, kind, weights):
    _compare(keras3, name, {"thresholds": [0.25, 0.5]}, kind, weights, rng)


@pytest.mark.parametrize("name", ["Precision", "Recall"])
@pytest.mark.parametrize("kwargs,kind", [
    ({}, "binary"),
    ({"thresholds": [0.0, 0.3, 0.5, 0.9]}, "binary"),
    ({"thresholds": [0.0, 0.5, 1.0]}, "binary"),  # evenly spaced: Keras' bucket method
    ({"top_k": 2}, "multilabel"),
    ({"top_k": 1, "thresholds": 0.3}, "multilabel"),
    ({"class_id": 2}, "multilabel"),
    ({"class_id": 1, "top_k": 2}, "categorical"),
])
@pytest.mark.parametrize("weights", WEIGHTS)
def test_precision_recall(keras3, rng, name, kwargs, kind, weights):
    _compare(keras3, name, kwargs, kind, weights, rng)


@pytest.mark.parametrize("name,arg", [("SensitivityAtSpecificity", "specificity"),
                                      ("SpecificityAtSensitivity", "sensitivity"),
                                      ("PrecisionAtRecall", "recall"),
                                      ("RecallAtPrecision", "precision")])
@pytest.mark.parametrize("value,extra,weights", [
    (0.5, {}, None), (0.5, {}, "vector"), (0.8, {"num_thresholds": 7}, "vector"),
    (0.4, {"num_thresholds": 1}, None), (0.6, {"class_id": 1}, "vector")])
def test_at_metrics(keras3, rng, name, arg, value, extra, weights):
    kind = "multilabel" if "class_id" in extra else "binary"
    _compare(keras3, name, {arg: value, **extra}, kind, weights, rng)


# ------------------------------------------------------------------------------------------ AUC
@pytest.mark.parametrize("curve", ["ROC", "PR", "PRGAIN"])
@pytest.mark.parametrize("summation_method", ["interpolation", "minoring", "majoring"])
@pytest.mark.parametrize("weights", WEIGHTS)
def test_auc_curves(keras3, rng, curve, summation_method, weights):
    kwargs = {"curve": curve, "summation_method": summation_method}
    _compare(keras3, "AUC", kwargs, "binary", weights, rng)


@pytest.mark.parametrize("kwargs,kind", [
    ({"num_thresholds": 10}, "binary"),
    ({"thresholds": [0.1, 0.4, 0.45, 0.8]}, "binary"),  # uneven: the comparison method
    ({"thresholds": [0.25, 0.5, 0.75]}, "binary"),  # even with the ends: the bucket method
    ({"multi_label": True}, "multilabel"),
    ({"multi_label": True, "num_labels": 4, "curve": "PR"}, "multilabel"),
    ({"multi_label": True, "label_weights": [0.1, 0.2, 0.3, 0.4]}, "multilabel"),
    ({"multi_label": True, "thresholds": [0.2, 0.3, 0.7]}, "multilabel"),
    ({"label_weights": [0.5, 1.0, 0.0, 2.0]}, "multilabel"),
    ({"label_weights": [0.5, 1.0, 0.0, 2.0], "thresholds": [0.3, 0.6]}, "multilabel"),
    ({"from_logits": True}, "logits"),
    ({"from_logits": True, "multi_label": True, "curve": "PR"}, "logits"),
])
@pytest.mark.parametrize("weights", WEIGHTS)
def test_auc_options(keras3, rng, kwargs, kind, weights):
    _compare(keras3, "AUC", kwargs, kind, weights, rng)


def test_auc_multilabel_column_weights(keras3, rng):
    _compare(keras3, "AUC", {"multi_label": True, "curve": "PR"}, "multilabel", "column", rng)


# ------------------------------------------------------------------------------ top-k accuracy
@pytest.mark.parametrize("k", [1, 2, 5])
@pytest.mark.parametrize("weights", WEIGHTS)
def test_top_k_categorical_accuracy(keras3, rng, k, weights):
    _compare(keras3, "TopKCategoricalAccuracy", {"k": k}, "categorical", weights, rng)


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("weights", WEIGHTS)
def test_sparse_top_k_categorical_accuracy(keras3, rng, k, weights):
    _compare(keras3, "SparseTopKCategoricalAccuracy", {"k": k}, "sparse", weights, rng)


@pytest.mark.parametrize("name", ["top_k_categorical_accuracy",
                                  "sparse_top_k_categorical_accuracy"])
def test_top_k_ties_and_label_forms(keras3, name):
    # Ties at the k-th score count as in the top k (Keras' in_top_k); labels of shape (n, 1).
    y_pred = np.array([[0.3, 0.3, 0.3, 0.1], [0.1, 0.5, 0.2, 0.2], [0.25] * 4,
                       [0.4, 0.1, 0.1, 0.4]], dtype="float32")
    sparse = np.array([[2], [3], [0], [1]], dtype="int32")
    y_true = sparse if name.startswith("sparse") else np.eye(4, dtype="float32")[sparse[:, 0]]
    for k in (1, 2):
        ref = getattr(keras3.metrics, name)(y_true, y_pred, k=k)
        ours = getattr(metrics, name)(torch.from_numpy(y_true), torch.from_numpy(y_pred), k=k)
        np.testing.assert_array_equal(_np(ours), _np(ref))


def test_sparse_top_k_from_sorted_ids(keras3, rng):
    ids = np.argsort(-rng.random((6, 5)), axis=-1).astype("int32")
    y_true = rng.integers(0, 5, size=(6,)).astype("int32")
    ref = keras3.metrics.SparseTopKCategoricalAccuracy(k=2, from_sorted_ids=True)
    ours = metrics.SparseTopKCategoricalAccuracy(k=2, from_sorted_ids=True)
    ref.update_state(y_true, ids)
    ours.update_state(torch.from_numpy(y_true), torch.from_numpy(ids))
    np.testing.assert_allclose(_np(ours.result()), _np(ref.result()), rtol=RTOL)
    assert _config(ours) == _keras_config(ref)


# --------------------------------------------------------------------------------------- F-beta
@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
@pytest.mark.parametrize("kwargs", [{}, {"threshold": 0.4}, {"beta": 2.0},
                                    {"beta": 0.5, "threshold": 0.6}])
def test_fbeta_score(keras3, rng, average, kwargs):
    _compare(keras3, "FBetaScore", {"average": average, **kwargs}, "multilabel", "vector", rng)


@pytest.mark.parametrize("average,kind,weights", [(None, "categorical", "vector"),
                                                  ("macro", "multilabel", None),
                                                  ("weighted", "categorical", None)])
def test_f1_score(keras3, rng, average, kind, weights):
    _compare(keras3, "F1Score", {"average": average}, kind, weights, rng)


# ------------------------------------------------------------------------------------------ IoU
def _iou_batches(rng, n_classes=4, shape=(2, 5), n=3, weights=None, one_hot=(False, False)):
    out = []
    for i in range(n):
        y_true = rng.integers(0, n_classes, size=shape).astype("int32")
        y_pred = rng.integers(0, n_classes, size=shape).astype("int32")
        y_true.flat[i] = n_classes + 1 if i == 1 else y_true.flat[i]  # out of range: skipped
        if one_hot[0]:
            y_true = np.eye(n_classes, dtype="float32")[np.minimum(y_true, n_classes - 1)]
        if one_hot[1]:
            y_pred = rng.random((*shape, n_classes)).astype("float32")
        w = None
        if weights == "int":
            w = rng.integers(0, 3, size=shape).astype("int32")
        elif weights == "float":
            w = (rng.random(shape) * 3).astype("float32")
        out.append((y_true, y_pred, w))
    return out


def _compare_iou(keras3, name, kwargs, batches):
    ref, ours = getattr(keras3.metrics, name)(**kwargs), getattr(metrics, name)(**kwargs)
    for y_true, y_pred, w in batches:
        ref.update_state(y_true, y_pred, sample_weight=w)
        with pytest.warns(UserWarning, match="float") if w is not None and w.dtype.kind == "f" \
                and kwargs.get("dtype") is None else _nothing():
            ours.update_state(_t(y_true), _t(y_pred), sample_weight=_t(w))
        np.testing.assert_allclose(_np(ours.result()), _np(ref.result()), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(_np(ours.variables[0]), _np(ref.variables[0]), rtol=RTOL)
    assert ours.variables[0].dtype == str(ref.variables[0].dtype)
    ours.reset_state()
    ref.reset_state()
    np.testing.assert_allclose(_np(ours.result()), _np(ref.result()), atol=ATOL)
    assert _config(ours) == _keras_config(ref)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("kwargs", [
    {"num_classes": 4, "target_class_ids": [0, 2]},
    {"num_classes": 4, "target_class_ids": [1], "ignore_class": 3},
    {"num_classes": 4, "target_class_ids": [0, 1, 3], "dtype": "float32"},
])
@pytest.mark.parametrize("weights", [None, "int", "float"])
def test_iou(keras3, rng, kwargs, weights):
    _compare_iou(keras3, "IoU", kwargs, _iou_batches(rng, weights=weights))


@pytest.mark.parametrize("kwargs", [{}, {"ignore_class": 0}, {"dtype": "float32"}])
@pytest.mark.parametrize("weights", [None, "float"])
def test_mean_iou(keras3, rng, kwargs, weights):
    _compare_iou(keras3, "MeanIoU", {"num_classes": 4, **kwargs},
                 _iou_batches(rng, weights=weights))


def test_mean_iou_dense_inputs(keras3, rng):
    kwargs = {"num_classes": 4, "sparse_y_true": False, "sparse_y_pred": False}
    _compare_iou(keras3, "MeanIoU", kwargs, _iou_batches(rng, one_hot=(True, True)))


@pytest.mark.parametrize("name,kwargs", [
    ("OneHotIoU", {"num_classes": 4, "target_class_ids": [0, 3]}),
    ("OneHotMeanIoU", {"num_classes": 4, "ignore_class": 2}),
])
@pytest.mark.parametrize("weights", [None, "int"])
def test_one_hot_iou(keras3, rng, name, kwargs, weights):
    _compare_iou(keras3, name, kwargs, _iou_batches(rng, weights=weights, one_hot=(True, True)))


def test_one_hot_iou_sparse_pred(keras3, rng):
    kwargs = {"num_classes": 4, "target_class_ids": [1, 2], "sparse_y_pred": True}
    _compare_iou(keras3, "OneHotIoU", kwargs, _iou_batches(rng, one_hot=(True, False)))


@pytest.mark.parametrize("kwargs", [{}, {"target_class_ids": [1], "threshold": 0.3},
                                    {"target_class_ids": [0], "dtype": "float32"}])
@pytest.mark.parametrize("weights", [None, "int"])
def test_binary_iou(keras3, rng, kwargs, weights):
    batches = []
    for y_true, _, w in _iou_batches(rng, n_classes=2, weights=weights):
        y_pred = rng.random(y_true.shape).astype("float32")
        y_pred.flat[:2] = [0.5, 0.3]  # on the thresholds
        batches.append((np.minimum(y_true, 1), y_pred, w))
    _compare_iou(keras3, "BinaryIoU", kwargs, batches)


# -------------------------------------------------------------------------------------- R2Score
@pytest.mark.parametrize("class_aggregation,num_regressors,weights", [
    ("uniform_average", 0, None), ("uniform_average", 0, "vector"), (None, 0, "column"),
    ("variance_weighted_average", 0, "vector"), ("uniform_average", 2, "column"),
    (None, 2, None), ("variance_weighted_average", 2, "vector")])
def test_r2_score(keras3, rng, class_aggregation, num_regressors, weights):
    kwargs = {"class_aggregation": class_aggregation, "num_regressors": num_regressors}
    _compare(keras3, "R2Score", kwargs, "regression", weights, rng, rtol=1e-4)


@pytest.mark.parametrize("num_regressors", [23, 40])
def test_r2_score_adjusted_fallbacks(keras3, rng, num_regressors):
    # n = 8 rows x 3 outputs = 24 entries: p = n - 1 and p > n - 1 warn and fall back.
    ref = keras3.metrics.R2Score(num_regressors=num_regressors)
    ours = metrics.R2Score(num_regressors=num_regressors)
    y_true, y_pred, _ = _batches(rng, "regression", None, n=1)[0]
    ref.update_state(y_true, y_pred)
    ours.update_state(_t(y_true), _t(y_pred))
    with pytest.warns(UserWarning, match="R2"):
        result = ours.result()
    np.testing.assert_allclose(_np(result), _np(ref.result()), rtol=1e-5)


# ---------------------------------------------------------------------- ties in top_k filters
@pytest.mark.parametrize("name", ["Precision", "Recall"])
@pytest.mark.parametrize("top_k", [1, 2])
def test_precision_recall_top_k_ties(keras3, name, top_k):
    # Equal scores: the lower index wins a place in the top k, as jax.lax.top_k breaks ties.
    y_true = np.array([[0, 1, 1, 0], [1, 0, 0, 1], [0, 0, 1, 1]], dtype="float32")
    y_pred = np.array([[0.5, 0.5, 0.5, 0.1], [0.2, 0.2, 0.9, 0.2], [0.3] * 4], dtype="float32")
    ref = getattr(keras3.metrics, name)(top_k=top_k)
    ours = getattr(metrics, name)(top_k=top_k)
    ref.update_state(y_true, y_pred)
    ours.update_state(_t(y_true), _t(y_pred))
    np.testing.assert_allclose(_np(ours.result()), _np(ref.result()), rtol=RTOL)
    for v_ours, v_ref in zip(ours.variables, ref.variables):
        np.testing.assert_array_equal(_np(v_ours), _np(v_ref))


# ------------------------------------------------------------ Mean / Sum / wrapper weight shapes
@pytest.mark.parametrize("name", ["Mean", "Sum"])
@pytest.mark.parametrize("shape", [(1,), (1, 3), (4, 1), (4,), (4, 3), ()])
def test_reduction_weight_broadcasting(keras3, rng, name, shape):
    ref, ours = getattr(keras3.metrics, name)(), getattr(metrics, name)()
    for _ in range(2):
        values = rng.normal(size=(4, 3)).astype("float32")
        w = rng.random(shape).astype("float32")
        ref.update_state(values, sample_weight=w)
        ours.update_state(_t(values), sample_weight=_t(np.asarray(w)))
    np.testing.assert_allclose(_np(ours.result()), _np(ref.result()), rtol=RTOL)
    for v_ours, v_ref in zip(ours.variables, ref.variables):
        np.testing.assert_allclose(_np(v_ours), _np(v_ref), rtol=RTOL)


@pytest.mark.parametrize("shape", [(1,), (5,), (5, 1), (5, 3)])
def test_mean_metric_wrapper_weight_shapes(keras3, rng, shape):
    from kerastorch import losses

    ref = keras3.metrics.MeanMetricWrapper(keras3.losses.mean_absolute_error)
    ours = metrics.MeanMetricWrapper(losses.mean_absolute_error)
    for _ in range(2):
        y_true = rng.normal(size=(5, 3, 2)).astype("float32")
        y_pred = rng.normal(size=(5, 3, 2)).astype("float32")
        w = rng.random(shape).astype("float32")
        ref.update_state(y_true, y_pred, sample_weight=w)
        ours.update_state(_t(y_true), _t(y_pred), sample_weight=_t(w))
    np.testing.assert_allclose(_np(ours.result()), _np(ref.result()), rtol=RTOL)
    for v_ours, v_ref in zip(ours.variables, ref.variables):
        np.testing.assert_allclose(_np(v_ours), _np(v_ref), rtol=RTOL)


# ------------------------------------------------------------------------------- names, get()
NEW_METRICS = ["TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives", "Precision",
               "Recall", "AUC", "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy",
               "F1Score", "FBetaScore", "MeanIoU", "OneHotMeanIoU", "R2Score"]


@pytest.mark.parametrize("name", NEW_METRICS)
def test_get_by_class_and_snake_name(keras3, name):
    from keras.src.utils.naming import to_snake_case

    for identifier in (name, to_snake_case(name)):
        try:
            ref = keras3.metrics.get(identifier)
        except TypeError:  # needs constructor arguments (e.g. MeanIoU's num_classes)
            with pytest.raises(TypeError):
                metrics.get(identifier)
            continue
        ours = metrics.get(identifier)
        assert type(ours).__name__ == type(ref).__name__
        assert _config(ours) == _keras_config(ref)


@pytest.mark.parametrize("name", ["top_k_categorical_accuracy",
                                  "sparse_top_k_categorical_accuracy"])
def test_top_k_functions_exported(keras3, name):
    assert callable(getattr(metrics, name)) and callable(getattr(keras3.metrics, name))
