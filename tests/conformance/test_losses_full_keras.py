"""Every Keras 3 loss against Keras on JAX: functions and classes, every reduction, sample
weights, and each option (from_logits, label_smoothing, axis, alpha/gamma,
apply_class_balancing, delta, q, ...), plus names, aliases and configs."""

import numpy as np
import pytest
import torch

from kerastorch import losses

pytestmark = pytest.mark.conformance

REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None]


def _close(ours, ref, rtol=1e-5, atol=1e-6):
    ours = ours.detach().cpu().numpy() if isinstance(ours, torch.Tensor) else np.asarray(ours)
    ref = np.asarray(ref)
    assert ours.shape == ref.shape, (ours.shape, ref.shape)
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=atol)


def _t(x):
    return torch.from_numpy(np.asarray(x)) if isinstance(x, np.ndarray) else x


def _probs(rng, shape, axis=-1):
    p = rng.random(shape).astype("float32") + 0.01
    return (p / p.sum(axis=axis, keepdims=True)).astype("float32")


def _one_hot(rng, n, c):
    return np.eye(c, dtype="float32")[rng.integers(0, c, n)]


def _unit(rng, shape):
    x = rng.normal(size=shape).astype("float32")
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype("float32")


# name -> (y_true, y_pred) for a batch of 6; each exercises the loss' edge cases
def _data(name, rng):
    n = 6
    if name in ("MeanSquaredError", "MeanAbsoluteError", "LogCosh", "Huber", "CosineSimilarity"):
        y_pred = (rng.normal(size=(n, 4)) * 2).astype("float32")
        y_pred[0] = 0.0  # a zero vector (cosine similarity's epsilon)
        return rng.normal(size=(n, 4)).astype("float32"), y_pred
    if name == "MeanAbsolutePercentageError":
        y_true = rng.normal(size=(n, 4)).astype("float32")
        y_true[0, 0] = 0.0  # the max(|y_true|, eps) guard
        return y_true, rng.normal(size=(n, 4)).astype("float32")
    if name == "MeanSquaredLogarithmicError":  # negatives hit the max(., eps) clip
        return rng.normal(size=(n, 4)).astype("float32"), rng.normal(size=(n, 4)).astype(
            "float32")
    if name == "Poisson":
        return rng.poisson(2.0, size=(n, 4)).astype("float32"), rng.random((n, 4)).astype(
            "float32") * 3
    if name == "KLDivergence":
        y_true = _probs(rng, (n, 4))
        y_true[0, 0] = 0.0  # the clip to [eps, 1]
        return y_true, _probs(rng, (n, 4))
    if name in ("Hinge", "SquaredHinge"):  # 0/1 labels (mapped to -1/1 by Keras)
        return rng.integers(0, 2, (n, 4)).astype("float32"), rng.normal(size=(n, 4)).astype(
            "float32")
    if name == "CategoricalHinge":
        return _one_hot(rng, n, 4), rng.normal(size=(n, 4)).astype("float32")
    if name in ("BinaryFocalCrossentropy",):
        y_pred = rng.random((n, 3)).astype("float32")
        y_pred[0, 0], y_pred[1, 1] = 0.0, 1.0
        return rng.integers(0, 2, (n, 3)).astype("float32"), y_pred
    if name == "CategoricalFocalCrossentropy":
        y_pred = _probs(rng, (n, 4))
        y_pred[0] = [1.0, 0.0, 0.0, 0.0]
        return _one_hot(rng, n, 4), y_pred
    if name == "CategoricalGeneralizedCrossEntropy":
        return rng.integers(0, 4, n), _probs(rng, (n, 4))
    if name in ("Dice", "Tversky"):
        return rng.integers(0, 2, (n, 3, 3, 1)).astype("float32"), rng.random(
            (n, 3, 3, 1)).astype("float32")
    if name == "CTC":
        labels = rng.integers(1, 5, (n, 3))
        labels[0, 2] = 0  # padding
        labels[1, 1:] = 0
        labels[2, 1] = labels[2, 0]  # a repeat needs a blank between
        return labels.astype("int32"), rng.normal(size=(n, 7, 5)).astype("float32")
    if name == "Circle":
        return np.array([0, 1, 0, 2, 1, 0]), _unit(rng, (n, 5))
    raise KeyError(name)


ALL_CLASSES = ["MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError",
               "MeanSquaredLogarithmicError", "LogCosh", "Huber", "CosineSimilarity", "Poisson",
               "KLDivergence", "Hinge", "SquaredHinge", "CategoricalHinge",
               "BinaryFocalCrossentropy", "CategoricalFocalCrossentropy",
               "CategoricalGeneralizedCrossEntropy", "Dice", "Tversky", "CTC", "Circle"]


def _compare(keras3, name, kwargs, y_true, y_pred, sample_weight=None, **tol):
    ref = getattr(keras3.losses, name)(**kwargs)(y_true, y_pred, sample_weight=sample_weight)
    ours = getattr(losses, name)(**kwargs)(_t(y_true), _t(y_pred),
                                          sample_weight=_t(sample_weight))
    _close(ours, ref, **tol)
    return ours


def _weights(kind, rng, n=6):
    if kind is None:
        return None
    if kind == "scalar":
        return 1.5
    w = rng.random(n).astype("float32")
    w[0] = 0.0
    return w[:, None] if kind == "column" else w


@pytest.mark.parametrize("name", ALL_CLASSES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_every_loss_every_reduction(keras3, rng, name, reduction):
    y_true, y_pred = _data(name, rng)
    _compare(keras3, name, {"reduction": reduction}, y_true, y_pred)


@pytest.mark.parametrize("name", ALL_CLASSES)
@pytest.mark.parametrize("weights", ["vector", "column", "scalar"])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "mean_with_sample_weight"])
def test_every_loss_sample_weight(keras3, rng, name, weights, reduction):
    y_true, y_pred = _data(name, rng)
    _compare(keras3, name, {"reduction": reduction}, y_true, y_pred, _weights(weights, rng))


# ------------------------------------------------------------------------------- the options
@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("apply_class_balancing,alpha,gamma", [
    (False, 0.25, 2.0), (True, 0.25, 2.0), (True, 0.7, 0.0), (False, 0.4, 3.5)])
def test_binary_focal_options(keras3, rng, from_logits, label_smoothing, apply_class_balancing,
                              alpha, gamma):
    y_true, y_pred = _data("BinaryFocalCrossentropy", rng)
    if from_logits:
        y_pred = (rng.normal(size=y_pred.shape) * 3).astype("float32")
    kwargs = dict(apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                  from_logits=from_logits, label_smoothing=label_smoothing)
    _compare(keras3, "BinaryFocalCrossentropy", kwargs, y_true, y_pred)


def test_binary_focal_axis(keras3, rng):
    y_true = rng.integers(0, 2, (4, 3, 2)).astype("float32")
    y_pred = rng.random((4, 3, 2)).astype("float32")
    _compare(keras3, "BinaryFocalCrossentropy", {"axis": 1, "reduction": None}, y_true, y_pred)


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@pytest.mark.parametrize("alpha,gamma", [(0.25, 2.0), (1.0, 0.0), ([0.1, 0.2, 0.3, 0.4], 1.5)])
def test_categorical_focal_options(keras3, rng, from_logits, label_smoothing, alpha, gamma):
    y_true, y_pred = _data("CategoricalFocalCrossentropy", rng)
    if from_logits:
        y_pred = (rng.normal(size=y_pred.shape) * 3).astype("float32")
    kwargs = dict(alpha=alpha, gamma=gamma, from_logits=from_logits,
                  label_smoothing=label_smoothing)
    _compare(keras3, "CategoricalFocalCrossentropy", kwargs, y_true, y_pred)


def test_categorical_focal_axis(keras3, rng):
    y_true = np.moveaxis(np.eye(3, dtype="float32")[rng.integers(0, 3, (4, 2))], -1, 1)
    y_pred = _probs(rng, (4, 3, 2), axis=1)
    _compare(keras3, "CategoricalFocalCrossentropy", {"axis": 1, "reduction": None}, y_true,
             y_pred)


@pytest.mark.parametrize("delta", [1.0, 0.3, 2.5])
def test_huber_delta(keras3, rng, delta):
    y_true, y_pred = _data("Huber", rng)
    _compare(keras3, "Huber", {"delta": delta, "reduction": None}, y_true, y_pred)


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_cosine_similarity_axis(keras3, rng, axis):
    y_true, y_pred = _data("CosineSimilarity", rng)
    _compare(keras3, "CosineSimilarity", {"axis": axis, "reduction": None}, y_true, y_pred)


@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
def test_generalized_cross_entropy_q(keras3, rng, q):
    y_true, y_pred = _data("CategoricalGeneralizedCrossEntropy", rng)
    y_true[1] = 7  # out of range: Keras' one-hot is all zeros, so p = 0
    _compare(keras3, "CategoricalGeneralizedCrossEntropy", {"q": q, "reduction": None},
             y_true, y_pred)


@pytest.mark.parametrize("axis", [None, (1, 2, 3), (1, 2), 1])
def test_dice_axis(keras3, rng, axis):
    y_true, y_pred = _data("Dice", rng)
    _compare(keras3, "Dice", {"axis": axis, "reduction": None}, y_true, y_pred)
    _compare(keras3, "Dice", {"axis": axis}, y_true, y_pred)


@pytest.mark.parametrize("alpha,beta", [(0.5, 0.5), (0.3, 0.7), (0.9, 0.1)])
@pytest.mark.parametrize("axis", [None, (1, 2, 3)])
def test_tversky_alpha_beta_axis(keras3, rng, alpha, beta, axis):
    y_true, y_pred = _data("Tversky", rng)
    _compare(keras3, "Tversky", {"alpha": alpha, "beta": beta, "axis": axis, "reduction": None},
             y_true, y_pred)


@pytest.mark.parametrize("gamma,margin,remove_diagonal", [
    (80.0, 0.4, True), (10.0, 0.25, False), (1.0, 0.1, True)])
def test_circle_options(keras3, rng, gamma, margin, remove_diagonal):
    y_true, y_pred = _data("Circle", rng)
    kwargs = dict(gamma=gamma, margin=margin, remove_diagonal=remove_diagonal)
    _compare(keras3, "Circle", {**kwargs, "reduction": None}, y_true, y_pred, rtol=1e-4)
    _compare(keras3, "Circle", kwargs, y_true, y_pred, rtol=1e-4)


@pytest.mark.parametrize("labels", ["binary", "signed", "other"])
@pytest.mark.parametrize("name", ["Hinge", "SquaredHinge"])
def test_hinge_label_conversion(keras3, rng, name, labels):
    y_true, y_pred = _data(name, rng)
    if labels == "signed":
        y_true = 2 * y_true - 1
    elif labels == "other":
        y_true[0, 0] = 2.0  # not all 0/1: Keras uses the labels unconverted
    _compare(keras3, name, {"reduction": None}, y_true, y_pred)


def test_ctc_default_reduction_and_batch_sizes(keras3, rng):
    labels = rng.integers(1, 4, (3, 5)).astype("int32")
    labels[:, 3:] = 0
    logits = rng.normal(size=(3, 9, 4)).astype("float32")
    _compare(keras3, "CTC", {}, labels, logits)
    _compare(keras3, "CTC", {"reduction": None}, labels.astype("float32"), logits)


# ------------------------------------------------------------------------- the functions
FUNCTION_CASES = [
    ("mean_absolute_percentage_error", {}, "MeanAbsolutePercentageError"),
    ("mean_squared_logarithmic_error", {}, "MeanSquaredLogarithmicError"),
    ("huber", {"delta": 0.5}, "Huber"),
    ("log_cosh", {}, "LogCosh"),
    ("cosine_similarity", {"axis": 0}, "CosineSimilarity"),
    ("kl_divergence", {}, "KLDivergence"),
    ("poisson", {}, "Poisson"),
    ("hinge", {}, "Hinge"),
    ("squared_hinge", {}, "SquaredHinge"),
    ("categorical_hinge", {}, "CategoricalHinge"),
    ("binary_focal_crossentropy", {"apply_class_balancing": True, "gamma": 1.0},
     "BinaryFocalCrossentropy"),
    ("categorical_focal_crossentropy", {"alpha": 0.5}, "CategoricalFocalCrossentropy"),
    ("categorical_generalized_cross_entropy", {"q": 0.3}, "CategoricalGeneralizedCrossEntropy"),
    ("dice", {"axis": (1, 2)}, "Dice"),
    ("tversky", {"alpha": 0.2, "beta": 0.8}, "Tversky"),
    ("ctc", {}, "CTC"),
    ("circle", {"gamma": 5.0}, "Circle"),
]


@pytest.mark.parametrize("fn,kwargs,data", FUNCTION_CASES)
def test_functions(keras3, rng, fn, kwargs, data):
    y_true, y_pred = _data(data, rng)
    ref = getattr(keras3.losses, fn)(y_true, y_pred, **kwargs)
    _close(getattr(losses, fn)(_t(y_true), _t(y_pred), **kwargs), ref, rtol=1e-4)


def test_functions_take_lists_and_rank_mismatch(keras3):
    # (n,) targets against (n, 1) outputs, given as Python lists
    y_true, y_pred = [1.0, 2.0, 0.5], [[1.5], [2.0], [0.2]]
    for fn in ("mean_absolute_percentage_error", "mean_squared_logarithmic_error", "huber",
               "log_cosh"):
        _close(getattr(losses, fn)(y_true, y_pred),
               getattr(keras3.losses, fn)(np.array(y_true), np.array(y_pred, "float32")))


# ------------------------------------------------------------------ names, aliases, configs
def test_get_resolves_every_keras_name(keras3):
    from keras.src.losses import ALL_OBJECTS_DICT

    assert len(ALL_OBJECTS_DICT) >= 56  # Keras 3.15: 56 names
    for name, obj in ALL_OBJECTS_DICT.items():
        if isinstance(obj, type):
            assert losses.LOSSES.lookup(name).__name__ == obj.__name__, name
            if name not in ("Loss", "LossFunctionWrapper"):  # those need arguments
                assert type(losses.get(name)).__name__ == obj.__name__, name
            continue
        ours = losses.get(name)
        assert ours.__name__ == obj.__name__, name
        assert losses.deserialize(name) is ours


@pytest.mark.parametrize("name,kwargs", [
    ("MeanAbsolutePercentageError", {}), ("MeanSquaredLogarithmicError", {}),
    ("LogCosh", {"name": "lc"}), ("Huber", {}), ("CosineSimilarity", {}), ("Poisson", {}),
    ("KLDivergence", {"reduction": "sum"}), ("Hinge", {}), ("SquaredHinge", {}),
    ("CategoricalHinge", {}),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "alpha": 0.3, "gamma": 1.0,
                                 "from_logits": True, "label_smoothing": 0.1, "axis": 1}),
    ("CategoricalFocalCrossentropy", {"alpha": 0.5, "gamma": 3.0, "label_smoothing": 0.2}),
    ("CategoricalGeneralizedCrossEntropy", {"q": 0.7}), ("Dice", {"axis": (1, 2)}),
    ("Tversky", {"alpha": 0.1, "beta": 0.9, "axis": (1,)}), ("CTC", {}),
    ("Circle", {"gamma": 10.0, "margin": 0.2, "remove_diagonal": False}),
])
def test_config_matches_keras_and_round_trips(keras3, name, kwargs):
    ref = getattr(keras3.losses, name)(**kwargs)
    ours = getattr(losses, name)(**kwargs)
    assert ours.get_config() == ref.get_config()
    ser = losses.serialize(ours)
    assert ser["class_name"] == name and ser["module"] == "keras.losses"
    back = losses.deserialize(ser)
    assert type(back) is type(ours) and back.get_config() == ours.get_config()
    # Keras reads our config
    assert getattr(keras3.losses, name).from_config(ours.get_config()).get_config() == \
        ref.get_config()


@pytest.mark.parametrize("name,kwargs,data", [
    ("Huber", {"delta": 0.3}, "Huber"), ("CosineSimilarity", {"axis": 0}, "CosineSimilarity")])
def test_non_default_options_round_trip(keras3, rng, name, kwargs, data):
    # Keras' config drops `delta`/`axis` (so its round trip loses them); ours keeps them.
    y_true, y_pred = _data(data, rng)
    ours = getattr(losses, name)(**kwargs)
    back = losses.deserialize(losses.serialize(ours))
    ref = getattr(keras3.losses, name)(**kwargs)(y_true, y_pred)
    _close(back(_t(y_true), _t(y_pred)), ref)
