"""The full metric set by hand: Keras' documented examples, errors, configs, names in
`compile(metrics=[...])`, device-resident state and no host sync in `update_state`."""

import numpy as np
import pytest
import torch

import kerastorch as keras
from kerastorch import metrics


def _val(x):
    return np.asarray(x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else x)


# --------------------------------------------------------------- Keras' docstring examples
@pytest.mark.parametrize("metric,args,expected", [
    (metrics.TruePositives(), ([0, 1, 1, 1], [1, 0, 1, 1]), 2.0),
    (metrics.FalsePositives(), ([0, 1, 0, 0], [0, 0, 1, 1]), 2.0),
    (metrics.TrueNegatives(), ([0, 1, 0, 0], [1, 1, 0, 0]), 2.0),
    (metrics.FalseNegatives(), ([0, 1, 1, 1], [0, 1, 0, 0]), 2.0),
    (metrics.Precision(), ([0, 1, 1, 1], [1, 0, 1, 1]), 2 / 3),
    (metrics.Recall(), ([0, 1, 1, 1], [1, 0, 1, 1]), 2 / 3),
    (metrics.Precision(top_k=2), ([0, 0, 1, 1], [1, 1, 1, 1]), 0.0),
    (metrics.Precision(top_k=4), ([0, 0, 1, 1], [1, 1, 1, 1]), 0.5),
    (metrics.AUC(num_thresholds=3), ([0, 0, 1, 1], [0, 0.5, 0.3, 0.9]), 0.75),
    (metrics.SensitivityAtSpecificity(0.5), ([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8]), 0.5),
    (metrics.SpecificityAtSensitivity(0.5), ([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8]), 2 / 3),
    (metrics.PrecisionAtRecall(0.5), ([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8]), 0.5),
    (metrics.RecallAtPrecision(0.8), ([0, 0, 1, 1], [0, 0.5, 0.3, 0.9]), 0.5),
    (metrics.TopKCategoricalAccuracy(k=1), ([[0, 0, 1], [0, 1, 0]],
                                            [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]), 0.5),
    (metrics.SparseTopKCategoricalAccuracy(k=1), ([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]),
     0.5),
    (metrics.MeanIoU(num_classes=2), ([0, 0, 1, 1], [0, 1, 0, 1]), 1 / 3),
    (metrics.IoU(num_classes=2, target_class_ids=[0]), ([0, 0, 1, 1], [0, 1, 0, 1]), 1 / 3),
    (metrics.BinaryIoU(target_class_ids=[0, 1], threshold=0.3),
     ([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7]), 0.33333334),
    (metrics.R2Score(), ([[0.0], [1.0], [2.0], [3.0]], [[0.0], [1.0], [2.0], [3.0]]), 1.0),
    (metrics.R2Score(), ([[1.0], [4.0], [3.0]], [[2.0], [4.0], [4.0]]), 0.57142854),
])
def test_documented_values(metric, args, expected):
    y_true, y_pred = (torch.tensor(a, dtype=torch.float32) for a in args)
    metric.update_state(y_true, y_pred)
    np.testing.assert_allclose(_val(metric.result()), expected, rtol=1e-6)


def test_weighted_counts_and_thresholds_by_hand():
    tp = metrics.TruePositives(thresholds=[0.0, 0.5, 0.9])
    tp.update_state([1, 1, 0, 1], [0.2, 0.6, 0.7, 1.0], sample_weight=[1.0, 2.0, 4.0, 0.5])
    np.testing.assert_allclose(_val(tp.result()), [3.5, 2.5, 0.5])
    tp.update_state([1], [0.95])
    np.testing.assert_allclose(_val(tp.result()), [4.5, 3.5, 1.5])
    tp.reset_state()
    np.testing.assert_allclose(_val(tp.result()), [0.0, 0.0, 0.0])


def test_f_scores_by_hand():
    y_true = torch.tensor([[1, 1, 1], [1, 0, 0], [1, 1, 0]], dtype=torch.float32)
    y_pred = torch.tensor([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])
    f1 = metrics.F1Score(threshold=0.5)
    f1.update_state(y_true, y_pred)
    # class 0: tp 1 fn 2 -> F1 0.5; class 1: tp 2 fp 1 -> 2/3; class 2: tp 1 fp 1 -> 2/3... per
    # Keras' docstring: [0.5, 0.8, 0.6666667]
    np.testing.assert_allclose(_val(f1.result()), [0.5, 0.8, 0.6666667], rtol=1e-5)
    micro = metrics.FBetaScore(average="micro", beta=2.0, threshold=0.5)
    micro.update_state(y_true, y_pred)
    tp, fp, fn = 4.0, 2.0, 2.0  # pooled over classes
    p, r = tp / (tp + fp), tp / (tp + fn)
    np.testing.assert_allclose(_val(micro.result()), 5 * p * r / (4 * p + r), rtol=1e-5)


def test_top_k_ties_count_in_favour_of_the_label():
    y_pred = torch.tensor([[0.3, 0.3, 0.3, 0.1]])
    for label in (0, 1, 2):  # all three tie at the top: each is in the top 1
        assert metrics.sparse_top_k_categorical_accuracy(torch.tensor([label]), y_pred,
                                                         k=1).item() == 1.0
    assert metrics.sparse_top_k_categorical_accuracy(torch.tensor([3]), y_pred, k=3).item() == 0
    # Out-of-range labels and NaN scores never match (no device-side index error).
    assert metrics.sparse_top_k_categorical_accuracy(torch.tensor([7]), y_pred, k=4).item() == 0
    nan_pred = torch.tensor([[float("nan"), 0.2]])
    assert metrics.sparse_top_k_categorical_accuracy(torch.tensor([0]), nan_pred, k=1).item() == 0


def test_auc_multi_label_builds_lazily_and_resets():
    auc = metrics.AUC(multi_label=True)
    assert auc.variables == [] and _val(auc.result()) == 0.0
    y_true = torch.tensor([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y_pred = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.7, 0.6]])
    auc.update_state(y_true, y_pred)
    assert [tuple(v.shape) for v in auc.variables] == [(200, 2)] * 4
    assert _val(auc.result()) == pytest.approx(1.0)
    auc.reset_state()
    assert all(float(v.value.abs().sum()) == 0.0 for v in auc.variables)


def test_iou_state_is_int32_by_default_and_float_weights_warn():
    m = metrics.MeanIoU(num_classes=3)
    assert m.dtype == "int32" and m.total_cm.dtype == torch.int32
    with pytest.warns(UserWarning, match="float"):
        m.update_state(torch.tensor([0, 1, 2]), torch.tensor([0, 1, 1]),
                       sample_weight=torch.tensor([1.9, 1.0, 1.0]))
    # 1.9 truncates to 1, as Keras casts it
    np.testing.assert_array_equal(_val(m.total_cm), [[1, 0, 0], [0, 1, 0], [0, 1, 0]])


# ------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("make,args,match", [
    (lambda: metrics.Precision(), ([[1, 0]], [[0.2, 0.4, 0.1]]), "Precision.*same shape"),
    (lambda: metrics.AUC(), ([1, 0, 1], [0.2, 0.3]), "AUC.*same shape"),
    (lambda: metrics.AUC(multi_label=True), ([1, 0], [0.2, 0.3]), "rank 2"),
    (lambda: metrics.F1Score(), ([1, 0], [0.2, 0.3]), "F1Score expects 2D"),
    (lambda: metrics.F1Score(), ([[1, 0]], [[0.2, 0.3, 0.1]]), "F1Score.*same shape"),
    (lambda: metrics.R2Score(), ([[[1.0]]], [[[1.0]]]), "R2Score expects 2D"),
    (lambda: metrics.MeanIoU(3), ([1, 0, 2], [1, 0]), "MeanIoU.*same number"),
    (lambda: metrics.MeanIoU(3), ([[1, 0], [2, 2]], [[1, 0], [2, 1]], [1, 2]),
     "MeanIoU.*one weight per class id"),
    (lambda: metrics.Recall(class_id=1), ([1, 0], [0.2, 0.3]), "class_id"),
    (lambda: metrics.TopKCategoricalAccuracy(), ([[1, 0]], [[0.2, 0.3], [0.1, 0.1]]),
     "one label per row"),
])
def test_bad_shapes_name_the_metric(make, args, match):
    metric = make()
    with pytest.raises(ValueError, match=match):
        metric.update_state(*(torch.tensor(a, dtype=torch.float32) for a in args[:2]),
                            *(torch.tensor(a, dtype=torch.int32) for a in args[2:]))


def test_auc_checks_the_label_count_it_was_built_for():
    auc = metrics.AUC(multi_label=True, num_labels=3)
    with pytest.raises(ValueError, match="built for 3 labels"):
        auc.update_state(torch.ones(2, 2), torch.ones(2, 2))


@pytest.mark.parametrize("make,match", [
    (lambda: metrics.Precision(thresholds=[0.5, 1.5]), r"Threshold values must be in \[0, 1\]"),
    (lambda: metrics.AUC(num_thresholds=1), "num_thresholds"),
    (lambda: metrics.AUC(curve="XY"), "Invalid AUC curve"),
    (lambda: metrics.AUC(summation_method="trapezoid"), "summation method"),
    (lambda: metrics.AUC(num_labels=3), "multi_label"),
    (lambda: metrics.SensitivityAtSpecificity(1.5), "specificity"),
    (lambda: metrics.RecallAtPrecision(0.5, num_thresholds=0), "num_thresholds"),
    (lambda: metrics.FBetaScore(beta=2), "beta"),
    (lambda: metrics.FBetaScore(average="median"), "average"),
    (lambda: metrics.F1Score(threshold=1.5), "threshold"),
    (lambda: metrics.IoU(3, target_class_ids=[3]), "out of range"),
    (lambda: metrics.R2Score(class_aggregation="median"), "class_aggregation"),
    (lambda: metrics.R2Score(num_regressors=-1), "num_regressors"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# ----------------------------------------------------------------- registry and configuration
@pytest.mark.parametrize("name,cls", [
    ("auc", metrics.AUC), ("AUC", metrics.AUC), ("precision", metrics.Precision),
    ("recall", metrics.Recall), ("true_positives", metrics.TruePositives),
    ("false_negatives", metrics.FalseNegatives), ("f1_score", metrics.F1Score),
    ("FBetaScore", metrics.FBetaScore), ("r2_score", metrics.R2Score),
    ("top_k_categorical_accuracy", metrics.TopKCategoricalAccuracy),
    ("sparse_top_k_categorical_accuracy", metrics.SparseTopKCategoricalAccuracy),
    ("BinaryIoU", metrics.BinaryIoU), ("binary_io_u", metrics.BinaryIoU),
])
def test_get_by_name(name, cls):
    assert type(metrics.get(name)) is cls


@pytest.mark.parametrize("metric", [
    metrics.AUC(curve="PR", thresholds=[0.2, 0.7], multi_label=True, label_weights=[1.0, 2.0]),
    metrics.Precision(thresholds=[0.3, 0.6], top_k=2, class_id=1),
    metrics.FalsePositives(thresholds=0.2),
    metrics.PrecisionAtRecall(0.7, num_thresholds=50, class_id=0),
    metrics.FBetaScore(average="weighted", beta=0.5, threshold=0.3),
    metrics.F1Score(average="macro"),
    metrics.OneHotMeanIoU(4, ignore_class=0),
    metrics.BinaryIoU(target_class_ids=[1], threshold=0.25),
    metrics.R2Score(class_aggregation=None, num_regressors=3),
    metrics.SparseTopKCategoricalAccuracy(k=3, from_sorted_ids=True),
])
def test_config_round_trip(metric):
    config = metrics.serialize(metric)
    again = metrics.deserialize(config)
    assert type(again) is type(metric) and again.get_config() == metric.get_config()


# ------------------------------------------------------------------------- Mean weight shapes
@pytest.mark.parametrize("weight,expected_count", [
    (np.array([2.0], dtype="float32"), 8.0),  # broadcast per sample, as Keras counts it
    (np.full((1, 3), 0.5, dtype="float32"), 2.0),
    (np.ones((4, 1), dtype="float32"), 4.0),
])
def test_mean_counts_broadcast_weights(weight, expected_count):
    m = metrics.Mean()
    m.update_state(torch.arange(12.0).reshape(4, 3), sample_weight=torch.from_numpy(weight))
    assert float(m.count) == expected_count


# -------------------------------------------------------------------------- in compile and fit
def test_metrics_by_name_in_fit_match_standalone():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5)).astype("float32")
    y = (x[:, :1] + 0.3 * rng.normal(size=(64, 1)) > 0).astype("float32")
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    names = ["auc", "precision", "recall", "true_positives", "false_negatives"]
    model.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=names + [metrics.PrecisionAtRecall(0.5, name="p_at_r"),
                                   metrics.F1Score(average="micro", name="f1")])
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    for name in names + ["p_at_r", "f1"]:
        assert len(history.history[name]) == 2
    logs = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    y_pred = torch.from_numpy(model.predict(x, verbose=0))
    for name, cls in [("auc", metrics.AUC), ("precision", metrics.Precision),
                      ("recall", metrics.Recall), ("true_positives", metrics.TruePositives)]:
        standalone = cls()
        standalone.update_state(torch.from_numpy(y), y_pred)
        assert logs[name] == pytest.approx(float(standalone.result()), rel=1e-5, abs=1e-6)


def test_top_k_and_r2_by_name_in_fit():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(32, 6)).astype("float32")
    labels = rng.integers(0, 4, size=32)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=["sparse_top_k_categorical_accuracy"])
    model.fit(x, labels, epochs=1, batch_size=8, verbose=0)
    logs = model.evaluate(x, labels, verbose=0, return_dict=True)
    ref = metrics.SparseTopKCategoricalAccuracy()
    ref.update_state(torch.from_numpy(labels), torch.from_numpy(model.predict(x, verbose=0)))
    assert logs["sparse_top_k_categorical_accuracy"] == pytest.approx(float(ref.result()))

    y = rng.normal(size=(32, 2)).astype("float32")
    reg = keras.Sequential([keras.Input((6,)), keras.layers.Dense(2)])
    reg.compile(optimizer="sgd", loss="mse", metrics=["r2_score"])
    history = reg.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert np.isfinite(history.history["r2_score"]).all()


# ----------------------------------------------------------------------- state on the device
def _cases(dev):
    gen = torch.Generator().manual_seed(0)
    y_bin = (torch.rand(16, 3, generator=gen) > 0.5).float().to(dev)
    p_bin = torch.rand(16, 3, generator=gen).to(dev)
    labels = torch.randint(0, 3, (16,), generator=gen).to(dev)
    w = torch.rand(16, generator=gen).to(dev)
    return w, [
        (metrics.AUC(), y_bin, p_bin), (metrics.AUC(multi_label=True, curve="PR"), y_bin, p_bin),
        (metrics.AUC(thresholds=[0.1, 0.3, 0.35]), y_bin, p_bin),
        (metrics.AUC(label_weights=[1.0, 0.5, 2.0], from_logits=True), y_bin, p_bin),
        (metrics.Precision(top_k=2), y_bin, p_bin), (metrics.Recall(class_id=1), y_bin, p_bin),
        (metrics.TruePositives(thresholds=[0.2, 0.7]), y_bin, p_bin),
        (metrics.SensitivityAtSpecificity(0.5), y_bin, p_bin),
        (metrics.F1Score(average="weighted"), y_bin, p_bin),
        (metrics.MeanIoU(3, dtype="float32"), labels, labels.flip(0)),
        (metrics.OneHotIoU(3, [0, 2], dtype="float32"), y_bin, p_bin),
        (metrics.BinaryIoU(dtype="float32"), y_bin[:, 0], p_bin[:, 0]),
        (metrics.R2Score(), y_bin, p_bin),
        (metrics.TopKCategoricalAccuracy(k=2), y_bin, p_bin),
        (metrics.SparseTopKCategoricalAccuracy(k=2), labels, p_bin),
    ]


class _NoHostReads:
    """Make every Python-level read of a tensor's value (and the ops known to sync) raise."""

    NAMES = ("item", "tolist", "__bool__", "__float__", "__int__", "nonzero")

    def __enter__(self):
        self.saved = {n: getattr(torch.Tensor, n) for n in self.NAMES}
        self.saved_fns = {n: getattr(torch, n) for n in ("bincount", "nonzero", "masked_select",
                                                          "unique")}

        def refuse(*args, **kwargs):
            raise AssertionError("host read of a tensor value in update_state")

        for n in self.NAMES:
            setattr(torch.Tensor, n, refuse)
        for n in self.saved_fns:
            setattr(torch, n, refuse)
        return self

    def __exit__(self, *exc):
        for n, f in self.saved.items():
            setattr(torch.Tensor, n, f)
        for n, f in self.saved_fns.items():
            setattr(torch, n, f)
        return False


def test_update_state_reads_no_tensor_values():
    w, cases = _cases("cpu")
    for metric, y_true, y_pred in cases:
        metric.update_state(y_true, y_pred, sample_weight=w)  # first call: may build
        before = [v.value.clone() for v in metric.variables]
        with _NoHostReads():
            metric.update_state(y_true, y_pred, sample_weight=w)
            metric.update_state(y_true, y_pred)
        assert any(not torch.equal(a, b) for a, b in zip(before, metric.variables)), metric


def test_update_state_does_not_sync_the_device():
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA to detect host syncs")
    w, cases = _cases("cuda")
    for metric, y_true, y_pred in cases:
        metric.update_state(y_true, y_pred, sample_weight=w)  # first call: may build / move
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")
        try:
            metric.update_state(y_true, y_pred, sample_weight=w)
        finally:
            torch.cuda.set_sync_debug_mode(0)
        assert all(v.value.device.type == "cuda" for v in metric.variables), metric


def test_vector_results_stay_arrays_in_history_and_the_bar_shows_their_mean(capsys):
    # Keras keeps a per-class result (F1Score(average=None)) as an array in the logs.
    rng = np.random.default_rng(2)
    x = rng.random((16, 4)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 16)]
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["f1_score"])
    history = model.fit(x, y, epochs=1, batch_size=8, verbose=1)
    f1 = history.history["f1_score"][0]
    assert isinstance(f1, np.ndarray) and f1.shape == (3,)
    ref = metrics.F1Score()
    ref.update_state(torch.from_numpy(y), torch.from_numpy(model.predict(x, verbose=0)))
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["f1_score"], _val(ref.result()), rtol=1e-5, atol=1e-7)
    assert f"f1_score: {float(np.mean(f1)):.4f}" in capsys.readouterr().out
