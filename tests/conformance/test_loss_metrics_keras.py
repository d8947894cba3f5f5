"""The loss-based metrics (MAPE, MSLE, RMSE, cosine similarity, log-cosh, hinge family, KL
divergence, Poisson) against Keras 3 on JAX: the running value after several `update_state`
calls with and without sample weights, names, aliases, configs, and a fit's History."""

import numpy as np
import pytest
import torch

from kerastorch import metrics

pytestmark = pytest.mark.conformance

NAMES = ["MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "RootMeanSquaredError",
         "CosineSimilarity", "LogCoshError", "Hinge", "SquaredHinge", "CategoricalHinge",
         "KLDivergence", "Poisson"]


def _close(ours, ref, rtol=1e-5):
    np.testing.assert_allclose(ours.detach().cpu().numpy(), np.asarray(ref), rtol=rtol,
                               atol=1e-6)


def _batch(name, rng, n=5):
    if name in ("Hinge", "SquaredHinge"):
        return rng.integers(0, 2, (n, 3)).astype("float32"), rng.normal(size=(n, 3)).astype(
            "float32")
    if name == "CategoricalHinge":
        return np.eye(3, dtype="float32")[rng.integers(0, 3, n)], rng.normal(
            size=(n, 3)).astype("float32")
    if name == "KLDivergence":
        a, b = rng.random((n, 3)) + 0.05, rng.random((n, 3)) + 0.05
        return (a / a.sum(-1, keepdims=True)).astype("float32"), (
            b / b.sum(-1, keepdims=True)).astype("float32")
    if name == "Poisson":
        return rng.poisson(2.0, (n, 3)).astype("float32"), (rng.random((n, 3)) * 3).astype(
            "float32")
    y_true = rng.normal(size=(n, 3)).astype("float32")
    if name == "MeanAbsolutePercentageError":
        y_true[0, 0] = 0.0
    return y_true, rng.normal(size=(n, 3)).astype("float32")


def _weight(kind, rng, n=5):
    if kind is None:
        return None
    w = rng.random(n).astype("float32")
    w[1] = 0.0
    return {"vector": w, "column": w[:, None], "full": rng.random((n, 3)).astype("float32"),
            "scalar": np.float32(2.0)}[kind]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("weights", [(None, None, None), ("vector", None, "column"),
                                     ("scalar", "vector", "column")])
def test_running_value_matches_keras(keras3, rng, name, weights):
    ref = getattr(keras3.metrics, name)()
    ours = getattr(metrics, name)()
    for kind in weights:
        y_true, y_pred = _batch(name, rng)
        sw = _weight(kind, rng)
        ref.update_state(y_true, y_pred, sample_weight=sw)
        ours.update_state(torch.from_numpy(y_true), torch.from_numpy(y_pred),
                          sample_weight=None if sw is None else torch.as_tensor(sw))
        _close(ours.result(), ref.result())
    ours.reset_state()
    ref.reset_state()
    _close(ours.result(), ref.result())


def test_rmse_elementwise_weights(keras3, rng):
    # RMSE weights the squared errors themselves, so weights may have y's full shape
    ref, ours = keras3.metrics.RootMeanSquaredError(), metrics.RootMeanSquaredError()
    for kind in ("full", None, "vector"):
        y_true, y_pred = _batch("RootMeanSquaredError", rng)
        sw = _weight(kind, rng)
        ref.update_state(y_true, y_pred, sample_weight=sw)
        ours.update_state(torch.from_numpy(y_true), torch.from_numpy(y_pred),
                          sample_weight=None if sw is None else torch.from_numpy(sw))
        _close(ours.result(), ref.result())


@pytest.mark.parametrize("axis", [0, 1])
def test_cosine_similarity_axis(keras3, rng, axis):
    ref, ours = keras3.metrics.CosineSimilarity(axis=axis), metrics.CosineSimilarity(axis=axis)
    for _ in range(2):
        y_true, y_pred = _batch("CosineSimilarity", rng)
        ref.update_state(y_true, y_pred)
        ours.update_state(torch.from_numpy(y_true), torch.from_numpy(y_pred))
    _close(ours.result(), ref.result())
    back = metrics.deserialize(metrics.serialize(ours))
    assert back.axis == axis


def test_rank_1_targets_and_lists(keras3):
    # (n,) targets with (n, 1) outputs; Python lists
    for name in ("RootMeanSquaredError", "MeanAbsolutePercentageError", "LogCoshError"):
        ref, ours = getattr(keras3.metrics, name)(), getattr(metrics, name)()
        ref.update_state(np.array([1.0, 2.0, 4.0]), np.array([[1.5], [2.0], [3.0]]))
        ours.update_state([1.0, 2.0, 4.0], [[1.5], [2.0], [3.0]])
        _close(ours.result(), ref.result())


@pytest.mark.parametrize("name", NAMES)
def test_config_names_and_direction(keras3, name):
    ref, ours = getattr(keras3.metrics, name)(), getattr(metrics, name)()
    assert ours.name == ref.name
    assert ours.get_config() == ref.get_config()
    assert ours._direction == ref._direction
    back = metrics.deserialize(metrics.serialize(ours))
    assert type(back) is type(ours) and back.get_config() == ours.get_config()
    custom = getattr(metrics, name)(name="custom", dtype="float64")
    assert custom.get_config() == getattr(keras3.metrics, name)(
        name="custom", dtype="float64").get_config()


def test_get_resolves_keras_names(keras3):
    from keras.src.metrics import ALL_OBJECTS_DICT

    for name, cls in ALL_OBJECTS_DICT.items():
        if cls.__name__ in NAMES:
            assert type(metrics.get(name)).__name__ == cls.__name__, name
    for alias in ("mape", "MAPE", "msle", "MSLE"):
        assert type(metrics.get(alias)).__name__ == type(keras3.metrics.get(alias)).__name__


@pytest.mark.parametrize("fn", ["hinge", "squared_hinge", "categorical_hinge", "kl_divergence",
                                "poisson", "log_cosh", "huber", "mean_absolute_percentage_error",
                                "mean_squared_logarithmic_error"])
def test_metric_functions_exported(keras3, rng, fn):
    y_true, y_pred = _batch("Poisson" if fn == "poisson" else "Hinge", rng)
    _close(getattr(metrics, fn)(torch.from_numpy(y_true), torch.from_numpy(y_pred)),
           getattr(keras3.metrics, fn)(y_true, y_pred))


def test_compile_string_metrics_in_fit(keras3, rng):
    import kerastorch as kt

    x = rng.normal(size=(16, 3)).astype("float32")
    y = rng.random((16, 2)).astype("float32") + 0.1
    names = ["mape", "msle", "root_mean_squared_error", "cosine_similarity", "log_cosh_error",
             "kl_divergence", "poisson"]
    ref_model = keras3.Sequential([keras3.Input((3,)), keras3.layers.Dense(2, "softplus")])
    ours = kt.Sequential([kt.Input((3,)), kt.layers.Dense(2, "softplus")])
    ours.set_weights(ref_model.get_weights())
    ref_model.compile("sgd", "mse", metrics=names)
    ours.compile("sgd", "mse", metrics=names)
    ref = ref_model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    got = ours.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    assert sorted(got) == sorted(ref)
    for key in ref:
        np.testing.assert_allclose(got[key], ref[key], rtol=1e-5, err_msg=key)
