"""Stateful metrics against real Keras 3 on JAX: several `update_state` calls (with and without
sample weights), then `result()`, the state variables, and `reset_state()`, compared."""

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
    assert ours.get_config() == _keras_config(ref)
    return ours


def _keras_config(ref):
    cfg = dict(ref.get_config())
    for key, value in cfg.items():
        if hasattr(value, "tolist"):
            cfg[key] = np.asarray(value).tolist()
    return cfg


WEIGHTS = [None, "vector"]


# ------------------------------------------------------------------------------ confusion counts
@pytest.mark.parametrize("name", ["TruePositives", "FalsePositives", "TrueNegatives",
                                  "FalseNegatives"])
@pytest.mark.parametrize("thresholds", [None, 0.3, [0.0, 0.5, 1.0], [0.1, 0.5, 0.75, 0.9]])
@pytest.mark.parametrize("weights", WEIGHTS)
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
@pytest.mark.parametrize("value,extra", [(0.5, {}), (0.8, {"num_thresholds": 7}),
                                         (0.4, {"num_thresholds": 1}),
                                         (0.6, {"class_id": 1})])
@pytest.mark.parametrize("weights", WEIGHTS)
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
