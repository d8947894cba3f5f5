"""`PearsonCorrelation`, `ConcordanceCorrelation`, their functions, and the focal crossentropy
functions of `keras.metrics`, against Keras 3 on JAX: values after several `update_state`
calls (with and without sample weights), `reset_state`, configs and their round trip."""

import numpy as np
import pytest
import torch

import kerastorch
from kerastorch import metrics

pytestmark = pytest.mark.conformance

RTOL, ATOL = 1e-5, 1e-6
CLASSES = ("PearsonCorrelation", "ConcordanceCorrelation")
FUNCTIONS = ("pearson_correlation", "concordance_correlation")


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _batches(rng, shape=(6, 5), n=3, weights=None):
    out = []
    for i in range(n):
        y_true = rng.normal(size=shape).astype("float32")
        y_pred = (0.7 * y_true + 0.5 * rng.normal(size=shape) + 0.2 * i).astype("float32")
        if weights is None:
            w = None
        elif weights == "vector":
            w = rng.random(shape[0]).astype("float32")
            w[i] = 0.0
        elif weights == "column":
            w = rng.random((shape[0], 1)).astype("float32")
        elif weights == "scalar":
            w = np.float32(0.5 + i)
        out.append((y_true, y_pred, w))
    return out


def _run(metric, batches, as_torch=False):
    for y_true, y_pred, w in batches:
        if as_torch:
            y_true, y_pred = torch.from_numpy(y_true), torch.from_numpy(y_pred)
        metric.update_state(y_true, y_pred, sample_weight=w)
    return _np(metric.result())


@pytest.mark.parametrize("name", CLASSES)
@pytest.mark.parametrize("weights", [None, "vector", "column", "scalar"])
@pytest.mark.parametrize("as_torch", [False, True])
def test_running_value_matches_keras(keras3, rng, name, weights, as_torch):
    batches = _batches(rng, weights=weights)
    expected = _run(getattr(keras3.metrics, name)(), batches)
    ours = getattr(metrics, name)()
    got = _run(ours, batches, as_torch)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)
    assert got.dtype == expected.dtype == np.float32
    ours.reset_state()
    assert float(ours.result()) == 0.0


@pytest.mark.parametrize("name", CLASSES)
@pytest.mark.parametrize("axis,shape", [(0, (6, 5)), (1, (4, 3, 5)), ((1, 2), (4, 3, 5)),
                                        (-1, (8,)), (-1, (7, 1))])
def test_axis_and_shapes_match_keras(keras3, rng, name, axis, shape):
    batches = _batches(rng, shape=shape, weights=None)
    expected = _run(getattr(keras3.metrics, name)(axis=axis), batches)
    got = _run(getattr(metrics, name)(axis=axis), batches)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


def test_keras_docstring_values(keras3):
    y_true = [[0, 1, 0.5], [1, 1, 0.2]]
    y_pred = [[0.1, 0.9, 0.5], [1, 0.9, 0.2]]
    for name in CLASSES:
        theirs, ours = getattr(keras3.metrics, name)(), getattr(metrics, name)()
        theirs.update_state(y_true, y_pred)
        ours.update_state(y_true, y_pred)
        np.testing.assert_allclose(_np(ours.result()), _np(theirs.result()), rtol=RTOL)


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("axis,shape", [(-1, (6, 5)), (0, (6, 5)), ((0, 1), (3, 4, 2)),
                                        (-1, (5, 1)), (-1, (5,))])
def test_functions_match_keras(keras3, rng, name, axis, shape):
    y_true = rng.normal(size=shape).astype("float32")
    y_pred = (y_true + rng.normal(size=shape)).astype("float32")
    expected = np.asarray(getattr(keras3.metrics, name)(y_true, y_pred, axis=axis))
    got = _np(getattr(metrics, name)(y_true, y_pred, axis=axis))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_functions_rank_matching_and_integers(keras3, name):
    """(n,) labels against (n, 1) predictions, and integer inputs, as Keras takes them."""
    y_true = np.array([1, 3, 2, 5], "int32")
    y_pred = np.array([[1.5], [2.0], [2.5], [4.0]], "float32")
    for a, b in [(y_true, y_pred), (y_true, y_true.astype("int64") * 2 + 1)]:
        expected = np.asarray(getattr(keras3.metrics, name)(a, b))
        got = _np(getattr(metrics, name)(a, b))
        np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("name", CLASSES)
def test_config_round_trip_matches_keras(keras3, rng, name):
    kwargs = dict(name="corr", dtype="float64", axis=0)
    theirs, ours = getattr(keras3.metrics, name)(**kwargs), getattr(metrics, name)(**kwargs)
    assert ours.get_config() == theirs.get_config()
    assert getattr(metrics, name)().get_config() == getattr(keras3.metrics, name)().get_config()
    clone = type(ours).from_config(ours.get_config())
    assert clone.get_config() == ours.get_config()
    batches = _batches(rng, shape=(5, 5), weights="vector")  # axis=0: one value per column
    np.testing.assert_allclose(_run(clone, batches), _run(theirs, batches), rtol=RTOL, atol=ATOL)
    assert ours.result().dtype == torch.float64
    again = metrics.deserialize(metrics.serialize(ours))
    assert type(again) is type(ours) and again.get_config() == ours.get_config()
    assert metrics.serialize(ours)["class_name"] == keras3.metrics.serialize(theirs)["class_name"]
    assert ours._direction == theirs._direction == "up"


@pytest.mark.parametrize("identifier", CLASSES + FUNCTIONS)
def test_get_by_name_gives_the_class_like_keras(keras3, identifier):
    theirs, ours = keras3.metrics.get(identifier), metrics.get(identifier)
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.name == theirs.name


@pytest.mark.parametrize("name", FUNCTIONS)
def test_mean_metric_wrapper_of_the_function(keras3, rng, name):
    batches = _batches(rng, shape=(5, 5), weights="vector")
    theirs = keras3.metrics.MeanMetricWrapper(getattr(keras3.metrics, name), axis=0)
    ours = metrics.MeanMetricWrapper(getattr(metrics, name), axis=0)
    np.testing.assert_allclose(_run(ours, batches), _run(theirs, batches), rtol=RTOL, atol=ATOL)
    clone = metrics.MeanMetricWrapper.from_config(ours.get_config())
    assert clone._fn is getattr(metrics, name)


FOCAL = {
    "binary_focal_crossentropy": [
        {}, dict(apply_class_balancing=True, alpha=0.4, gamma=1.5),
        dict(from_logits=True, label_smoothing=0.1), dict(axis=0)],
    "categorical_focal_crossentropy": [
        {}, dict(alpha=0.5, gamma=3.0), dict(from_logits=True, label_smoothing=0.2)],
}


@pytest.mark.parametrize("name,kwargs", [(n, k) for n, ks in FOCAL.items() for k in ks])
def test_focal_functions_match_keras(keras3, rng, name, kwargs):
    y_true = np.eye(4, dtype="float32")[rng.integers(0, 4, 6)]
    y_pred = rng.random((6, 4)).astype("float32")
    if not kwargs.get("from_logits"):
        y_pred /= y_pred.sum(-1, keepdims=True)
    expected = np.asarray(getattr(keras3.metrics, name)(y_true, y_pred, **kwargs))
    got = _np(getattr(metrics, name)(y_true, y_pred, **kwargs))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)
    assert getattr(metrics, name) is getattr(kerastorch.losses, name)


@pytest.mark.parametrize("name", FOCAL)
def test_focal_functions_in_a_mean_metric_wrapper(keras3, rng, name):
    theirs = keras3.metrics.MeanMetricWrapper(getattr(keras3.metrics, name), gamma=2.5)
    ours = metrics.MeanMetricWrapper(getattr(metrics, name), gamma=2.5)
    for i in range(3):
        y_true = np.eye(3, dtype="float32")[rng.integers(0, 3, 5)]
        y_pred = rng.random((5, 3)).astype("float32")
        y_pred /= y_pred.sum(-1, keepdims=True)
        w = rng.random(5).astype("float32")
        theirs.update_state(y_true, y_pred, sample_weight=w)
        ours.update_state(y_true, y_pred, sample_weight=w)
    np.testing.assert_allclose(_np(ours.result()), _np(theirs.result()), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("name", CLASSES)
def test_in_compile_and_fit(keras3, name):
    """As a compiled metric: the same History as Keras for the same weights and data."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = (x @ rng.normal(size=(4, 3))).astype("float32")
    histories = []
    reference = None
    for lib in (keras3, kerastorch):
        model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(3)])
        model.compile(optimizer=lib.optimizers.SGD(0.05), loss="mse",
                      metrics=[getattr(lib.metrics, name)()])
        if reference is None:
            reference = model.get_weights()
        else:
            model.set_weights(reference)
        histories.append(model.fit(x, y, batch_size=8, epochs=2, shuffle=False,
                                   verbose=0).history)
    theirs, ours = histories
    assert sorted(ours) == sorted(theirs)
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5, atol=1e-6, err_msg=key)


def test_bad_axis_names_the_argument():
    with pytest.raises(ValueError, match="axis"):
        metrics.PearsonCorrelation(axis="last")
    with pytest.raises(ValueError, match="axis"):
        metrics.concordance_correlation([1.0, 2.0], [1.0, 3.0], axis=1.5)
