"""Metrics: accumulation, reset, sample weights, accuracy rules, registry, in-place state."""

import numpy as np
import pytest
import torch

from kerastorch import losses, metrics


def test_mean_and_sum_by_hand():
    m = metrics.Mean()
    assert m.result().item() == 0.0  # before any update: divide_no_nan
    m.update_state([1, 3, 5, 7])
    assert m.result().item() == 4.0
    m.reset_state()
    m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert m.result().item() == 2.0
    s = metrics.Sum()
    s.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert s.result().item() == 4.0


def test_accumulates_over_updates_then_resets():
    acc = metrics.SparseCategoricalAccuracy()
    y_pred = torch.tensor([[0.9, 0.1], [0.2, 0.8]])
    acc.update_state(torch.tensor([0, 1]), y_pred)  # 2 of 2
    acc.update_state(torch.tensor([1, 1]), y_pred)  # 1 of 2
    acc.update_state(torch.tensor([1, 0]), y_pred)  # 0 of 2
    assert acc.result().item() == pytest.approx(0.5)
    assert acc.count.item() == 6
    acc.reset_state()
    assert acc.result().item() == 0.0 and acc.count.item() == 0.0
    acc.update_state(torch.tensor([0, 1]), y_pred)
    assert acc.result().item() == 1.0


def test_state_is_updated_in_place_and_never_tracks_gradients():
    m = metrics.CategoricalCrossentropy()
    before = [(id(v.value), v.value.data_ptr()) for v in m.variables]
    y_pred = torch.softmax(torch.randn(4, 3, requires_grad=True), -1)
    for _ in range(3):
        m.update_state(torch.eye(3)[[0, 1, 2, 0]], y_pred)
    assert [(id(v.value), v.value.data_ptr()) for v in m.variables] == before
    assert not any(v.value.requires_grad for v in m.variables)
    result = m.result()
    assert isinstance(result, torch.Tensor) and result.ndim == 0 and not result.requires_grad


def test_call_updates_then_returns_result():
    m = metrics.BinaryAccuracy()
    assert m([[1.0], [0.0]], [[0.7], [0.6]]).item() == 0.5
    assert m([[1.0], [0.0]], [[0.7], [0.2]]).item() == 0.75


@pytest.mark.parametrize("y_true", [torch.tensor([1, 0, 2]), torch.tensor([[1], [0], [2]]),
                                    torch.tensor([1.0, 0.0, 2.0]), np.array([[1.0], [0], [2]])])
def test_sparse_accuracy_label_forms(y_true):
    y_pred = torch.tensor([[0.1, 0.8, 0.1], [0.6, 0.3, 0.1], [0.5, 0.4, 0.1]])
    assert metrics.sparse_categorical_accuracy(y_true, y_pred).tolist() == [1.0, 1.0, 0.0]


def test_accuracy_functions():
    assert metrics.categorical_accuracy([[0, 1], [1, 0]], [[0.3, 0.7], [0.4, 0.6]]).tolist() == [
        1.0, 0.0]
    assert metrics.binary_accuracy([[1], [0]], [[0.6], [0.6]], threshold=0.7).tolist() == [[0.0],
                                                                                           [1.0]]
    assert metrics.accuracy([1, 2, 3], [1, 2, 4]).tolist() == [1.0, 1.0, 0.0]


def test_weighted_accuracy_by_hand():
    acc = metrics.CategoricalAccuracy()
    acc.update_state([[0, 1], [1, 0]], [[0.3, 0.7], [0.4, 0.6]], sample_weight=[3.0, 1.0])
    assert acc.result().item() == pytest.approx(0.75)


def test_mean_metric_wrapper_takes_fn_kwargs():
    m = metrics.MeanMetricWrapper(losses.binary_crossentropy, name="bce_logits", from_logits=True)
    m.update_state(torch.tensor([[1.0]]), torch.tensor([[0.0]]))
    assert m.result().item() == pytest.approx(np.log(2), rel=1e-6)
    assert m.name == "bce_logits" and m.get_config()["from_logits"] is True
    back = metrics.deserialize(metrics.serialize(m))
    assert back._fn is losses.binary_crossentropy and back._fn_kwargs == {"from_logits": True}


@pytest.mark.parametrize("name,cls", [
    ("binary", metrics.BinaryAccuracy), ("sparse", metrics.SparseCategoricalAccuracy),
    ("sparse_column", metrics.SparseCategoricalAccuracy),
    ("categorical", metrics.CategoricalAccuracy)])
@pytest.mark.parametrize("identifier", ["accuracy", "acc"])
def test_resolve_accuracy(name, cls, identifier):
    shapes = {"binary": ((8, 1), (8, 1)), "sparse": ((8,), (8, 5)),
              "sparse_column": ((8, 1), (8, 5)), "categorical": ((8, 5), (8, 5))}[name]
    metric = metrics.resolve_accuracy(identifier, torch.zeros(shapes[0]), torch.zeros(shapes[1]))
    assert type(metric) is cls and metric.name == identifier


@pytest.mark.parametrize("shapes,cls", [
    (((8, 1), (8, 1)), metrics.BinaryCrossentropy),
    (((8,), (8, 5)), metrics.SparseCategoricalCrossentropy),
    (((8, 5), (8, 5)), metrics.CategoricalCrossentropy)])
def test_resolve_crossentropy(shapes, cls):
    metric = metrics.resolve_crossentropy("ce", *shapes)
    assert type(metric) is cls and metric.name == "ce"


def test_resolve_accuracy_rejects_other_names():
    with pytest.raises(ValueError, match="name='mse'"):
        metrics.resolve_accuracy("mse", (4, 1), (4, 1))


def test_get_resolves_like_keras():
    assert isinstance(metrics.get("mse"), metrics.MeanSquaredError)
    assert metrics.get("mse").name == "mean_squared_error"
    assert isinstance(metrics.get("mae"), metrics.MeanAbsoluteError)
    assert isinstance(metrics.get("categorical_accuracy"), metrics.CategoricalAccuracy)
    assert isinstance(metrics.get("SparseCategoricalAccuracy"), metrics.SparseCategoricalAccuracy)
    assert isinstance(metrics.get("binary_crossentropy"), metrics.BinaryCrossentropy)
    assert isinstance(metrics.get("accuracy"), metrics.Accuracy)
    assert metrics.get(losses.mean_squared_error) is losses.mean_squared_error
    assert metrics.get(None) is None


def test_unknown_name_suggests_close_matches():
    with pytest.raises(ValueError, match="categorical_accuracy"):
        metrics.get("categorical_acuracy")


def test_config_round_trip():
    m = metrics.BinaryAccuracy(threshold=0.3, name="ba")
    config = metrics.serialize(m)
    assert config["class_name"] == "BinaryAccuracy"
    assert config["config"] == {"name": "ba", "dtype": "float32", "threshold": 0.3}
    back = metrics.deserialize(config)
    assert isinstance(back, metrics.BinaryAccuracy) and back.threshold == 0.3
    assert metrics.SparseCategoricalCrossentropy.from_config(
        metrics.SparseCategoricalCrossentropy(ignore_class=0).get_config()).ignore_class == 0


def test_custom_metric_subclass():
    class Count(metrics.Metric):
        def __init__(self, name="count", **kwargs):
            super().__init__(name=name, **kwargs)
            self.n = self.add_variable((), initializer="zeros", name="n")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.n.assign_add(y_pred.shape[0])

        def result(self):
            return self.n

    m = Count()
    m.update_state(torch.zeros(3), torch.zeros(3))
    assert m(torch.zeros(2), torch.zeros(2)).item() == 5.0
    assert m.variables == [m.n] and m.get_config() == {"name": "count", "dtype": "float32"}
    m.reset_state()
    assert m.result().item() == 0.0


def test_dtype_argument():
    m = metrics.Mean(dtype=torch.float64)
    assert m.dtype == "float64" and m.total.dtype == torch.float64
    with pytest.raises(ValueError, match="dtype="):
        metrics.Mean(dtype="float33")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_state_follows_device_without_host_sync():
    acc = metrics.SparseCategoricalAccuracy()
    state = acc.variables
    y_pred = torch.rand(32, 10, device="cuda")
    y_true = torch.randint(0, 10, (32,), device="cuda")
    acc.update_state(y_true, y_pred)  # may move the state: once, before the sync check
    torch.cuda.set_sync_debug_mode("error")
    try:
        for _ in range(3):
            acc.update_state(y_true, y_pred, sample_weight=torch.rand(32, device="cuda"))
        result = acc.result()
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert result.device.type == "cuda" and all(v.value.is_cuda for v in state)
    assert acc.variables[0] is state[0]
