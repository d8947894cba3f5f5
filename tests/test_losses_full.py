"""The full Keras loss set without the oracle: values worked out by hand, names, configs, bad
input, gradients, dtypes, and the `compile(loss=...)` strings."""

import math

import numpy as np
import pytest
import torch

import kerastorch as kt
from kerastorch import losses, metrics

EPS = 1e-7


def _v(x):
    return x.detach().cpu().numpy()


# --------------------------------------------------------------------- values worked by hand
def test_mape_msle_by_hand():
    y_true, y_pred = torch.tensor([[2.0, 0.0]]), torch.tensor([[1.0, 1.0]])
    # |2-1|/2 = 0.5 and |0-1|/max(0, eps) = 1e7 -> 100 * mean
    np.testing.assert_allclose(_v(losses.get("mape")(y_true, y_pred)),
                               [100 * (0.5 + 1e7) / 2], rtol=1e-6)
    got = losses.mean_squared_logarithmic_error(torch.tensor([[3.0, -1.0]]),
                                                torch.tensor([[1.0, 0.0]]))
    want = ((math.log(2) - math.log(4)) ** 2 + (math.log(1 + EPS) - math.log(1 + EPS)) ** 2) / 2
    np.testing.assert_allclose(_v(got), [want], rtol=1e-6)


@pytest.mark.parametrize("delta", [1.0, 0.5])
def test_huber_by_hand(delta):
    errors = [0.2, -0.8, 3.0]
    want = np.mean([0.5 * e * e if abs(e) <= delta else delta * abs(e) - 0.5 * delta ** 2
                    for e in errors])
    got = losses.Huber(delta=delta)(torch.zeros(1, 3), torch.tensor([errors]))
    assert got.item() == pytest.approx(want, rel=1e-6)


def test_log_cosh_large_errors_do_not_overflow():
    got = losses.log_cosh(torch.zeros(1, 2), torch.tensor([[0.5, 200.0]]))
    want = (math.log(math.cosh(0.5)) + 200.0 - math.log(2)) / 2
    assert got.item() == pytest.approx(want, rel=1e-6)


def test_cosine_similarity_by_hand_and_zero_vector():
    y_true = torch.tensor([[0.0, 1.0], [1.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    y_pred = torch.tensor([[1.0, 0.0], [1.0, 1.0], [-1.0, -1.0], [1.0, 2.0]])
    got = losses.cosine_similarity(y_true, y_pred)
    np.testing.assert_allclose(_v(got), [0.0, -1.0, 1.0, 0.0], atol=1e-6)
    assert losses.CosineSimilarity()(y_true, y_pred).item() == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(_v(metrics.cosine_similarity(y_true, y_pred)), [0, 1, -1, 0],
                               atol=1e-6)


def test_kld_poisson_by_hand():
    got = losses.kl_divergence(torch.tensor([[0.5, 0.5]]), torch.tensor([[0.25, 0.75]]))
    want = 0.5 * math.log(2) + 0.5 * math.log(0.5 / 0.75)
    assert got.item() == pytest.approx(want, rel=1e-6)
    got = losses.poisson(torch.tensor([[2.0, 0.0]]), torch.tensor([[1.0, 3.0]]))
    assert got.item() == pytest.approx(((1 - 2 * math.log(1 + EPS)) + 3) / 2, rel=1e-6)


@pytest.mark.parametrize("y_true,margins", [
    ([[0.0, 1.0]], [1.3, 0.0]),  # 0/1 labels become -1/1
    ([[-1.0, 1.0]], [1.3, 0.0]),
    ([[0.0, 2.0]], [1.0, 0.0]),  # not all 0/1: used as they are
    ([[0.5, 0.0]], [0.85, 1.0]),
])
def test_hinge_label_rule(y_true, margins):
    y_pred = torch.tensor([[0.3, 2.0]])
    assert losses.hinge(torch.tensor(y_true), y_pred).item() == pytest.approx(np.mean(margins))
    assert losses.squared_hinge(torch.tensor(y_true), y_pred).item() == \
        pytest.approx(np.mean(np.square(margins)))


def test_categorical_hinge_by_hand():
    got = losses.categorical_hinge(torch.tensor([[0.0, 1.0, 0.0]]),
                                   torch.tensor([[0.5, 0.2, -1.0]]))
    assert got.item() == pytest.approx(max(0.5 - 0.2 + 1, 0))


def test_focal_reduces_to_crossentropy_when_gamma_is_0():
    y_true = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    y_pred = torch.tensor([[0.2, 0.7, 0.1], [0.5, 0.3, 0.2]])
    cce = losses.categorical_crossentropy(y_true, y_pred)
    focal = losses.categorical_focal_crossentropy(y_true, y_pred, alpha=1.0, gamma=0.0)
    torch.testing.assert_close(focal, cce)
    bce = losses.binary_crossentropy(y_true, y_pred)
    torch.testing.assert_close(losses.binary_focal_crossentropy(y_true, y_pred, gamma=0.0), bce)
    # class balancing: weight alpha on 1s and 1 - alpha on 0s
    balanced = losses.binary_focal_crossentropy(torch.ones(1, 1), torch.tensor([[0.6]]),
                                                apply_class_balancing=True, alpha=0.3)
    assert balanced.item() == pytest.approx(0.3 * 0.4 ** 2 * -math.log(0.6), rel=1e-6)


def test_generalized_cross_entropy_by_hand():
    y_pred = torch.tensor([[0.7, 0.3], [0.2, 0.8]])
    got = losses.CategoricalGeneralizedCrossEntropy(q=0.5, reduction=None)(
        torch.tensor([[0], [1]]), y_pred)  # (n, 1) labels work like (n,)
    np.testing.assert_allclose(_v(got), [(1 - 0.7 ** 0.5) / 0.5, (1 - 0.8 ** 0.5) / 0.5],
                               rtol=1e-6)
    with pytest.raises(ValueError, match="q must be in the interval"):
        losses.CategoricalGeneralizedCrossEntropy(q=1.0)


def test_dice_tversky_by_hand():
    y_true = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
    y_pred = torch.tensor([[1.0, 0.0, 1.0, 0.0]])
    # tp = 1, fp (Keras: y_true and not y_pred) = 1, fn = 1
    assert losses.dice(y_true, y_pred).item() == pytest.approx(1 - 2 / (4 + EPS))
    assert losses.tversky(y_true, y_pred, alpha=0.2, beta=0.8).item() == \
        pytest.approx(1 - 1 / (1 + 0.2 + 0.8 + EPS))
    per_row = losses.Dice(axis=(1,), reduction=None)(torch.cat([y_true, y_true]),
                                                      torch.cat([y_pred, y_true]))
    np.testing.assert_allclose(_v(per_row), [0.5, 0.0], atol=1e-6)


def test_ctc_single_step_by_hand():
    # one time step, one label: the loss is -log softmax(logits)[label]
    logits = torch.tensor([[[0.0, 1.0, 2.0]]])
    got = losses.ctc(torch.tensor([[2]]), logits)
    assert got.item() == pytest.approx(-torch.log_softmax(logits, -1)[0, 0, 2].item(), rel=1e-6)
    # padding (0) is not a label; no alignment of 3 labels in 1 step: inf (Keras/JAX: ~1e5)
    assert torch.isinf(losses.ctc(torch.tensor([[1, 2, 1]]), logits)).all()
    with pytest.raises(ValueError, match="batch_size, max_length, num_classes"):
        losses.CTC()(torch.tensor([[1]]), torch.zeros(1, 3))
    with pytest.raises(ValueError, match="batch_size, max_length"):
        losses.CTC()(torch.tensor([1]), torch.zeros(1, 2, 3))


def test_circle_masks_zero_losses():
    # one sample per class: no positives, loss 0, masked out of the mean
    y_pred = torch.nn.functional.normalize(torch.randn(3, 4, generator=torch.Generator()
                                                       .manual_seed(0)), dim=-1)
    per_sample = losses.circle(torch.tensor([0, 1, 2]), y_pred)
    assert torch.equal(per_sample, torch.zeros(3))
    assert losses.Circle()(torch.tensor([0, 1, 2]), y_pred).item() == 0.0


# ------------------------------------------------------------------ names, configs, errors
@pytest.mark.parametrize("name,expected", [
    ("mape", "mean_absolute_percentage_error"), ("MAPE", "mean_absolute_percentage_error"),
    ("msle", "mean_squared_logarithmic_error"), ("kld", "kl_divergence"),
    ("KLD", "kl_divergence"), ("huber", "huber"), ("log_cosh", "log_cosh"),
    ("poisson", "poisson"), ("hinge", "hinge"), ("ctc", "ctc"), ("dice", "dice"),
    ("tversky", "tversky"), ("circle", "circle"),
    ("binary_focal_crossentropy", "binary_focal_crossentropy"),
])
def test_function_names(name, expected):
    assert losses.get(name).__name__ == expected
    assert losses.get(name).__module__ == "kerastorch.losses"


@pytest.mark.parametrize("cls,default_name", [
    ("Huber", "huber_loss"), ("LogCosh", "log_cosh"), ("KLDivergence", "kl_divergence"),
    ("CTC", "ctc"), ("Dice", "dice"), ("Tversky", "tversky"), ("Circle", "circle"),
    ("BinaryFocalCrossentropy", "binary_focal_crossentropy"),
    ("CategoricalFocalCrossentropy", "categorical_focal_crossentropy"),
])
def test_class_default_names_and_config_round_trip(cls, default_name):
    loss = losses.get(cls)
    assert loss.name == default_name
    back = losses.deserialize(losses.serialize(loss))
    assert type(back) is type(loss) and back.get_config() == loss.get_config()


def test_bad_reduction_and_bad_options():
    with pytest.raises(ValueError, match="Invalid value for argument `reduction`"):
        losses.Huber(reduction="avg")
    with pytest.raises(ValueError, match="`axis` must be of type `int`"):
        losses.CategoricalFocalCrossentropy(axis=True)(torch.ones(2, 2), torch.ones(2, 2))
    with pytest.raises(ValueError, match="`axis` must be None, an int or a tuple"):
        losses.Dice(axis="rows")(torch.ones(2, 2), torch.ones(2, 2))
    with pytest.raises(ValueError, match="Unknown loss identifier"):
        losses.get("hubber")


@pytest.mark.parametrize("name", ["MeanSquaredError", "MeanAbsoluteError", "Huber", "LogCosh",
                                  "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError",
                                  "CosineSimilarity", "KLDivergence", "Poisson", "Hinge",
                                  "SquaredHinge", "CategoricalHinge", "Dice", "Tversky",
                                  "CategoricalFocalCrossentropy"])
def test_shape_mismatch_is_a_clear_error(name):
    with pytest.raises(ValueError, match=r"shape.*\(4, 3\).*\(4, 2\)"):
        losses.get(name)(torch.rand(4, 3), torch.rand(4, 2))


def test_sparse_label_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match=r"y_true.shape=\(4, 3\), y_pred.shape=\(4, 2\)"):
        losses.SparseCategoricalCrossentropy()(torch.zeros(4, 3), torch.rand(4, 2))


# ---------------------------------------------------------------- gradients, dtypes, compile
@pytest.mark.parametrize("name,make", [
    ("Huber", lambda g: (torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g))),
    ("LogCosh", lambda g: (torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g))),
    ("CosineSimilarity", lambda g: (torch.randn(4, 3, generator=g),
                                    torch.randn(4, 3, generator=g))),
    ("Hinge", lambda g: (torch.randint(0, 2, (4, 3), generator=g).float(),
                         torch.randn(4, 3, generator=g))),
    ("CategoricalFocalCrossentropy", lambda g: (torch.eye(3)[[0, 2, 1, 1]],
                                                torch.rand(4, 3, generator=g) + 0.1)),
    ("CTC", lambda g: (torch.tensor([[1, 2], [2, 0]]), torch.randn(2, 5, 3, generator=g))),
    ("Circle", lambda g: (torch.tensor([0, 0, 1, 1]), torch.nn.functional.normalize(
        torch.randn(4, 3, generator=g), dim=-1))),
])
def test_gradients_are_finite(name, make):
    y_true, y_pred = make(torch.Generator().manual_seed(1))
    y_pred = y_pred.clone().requires_grad_(True)
    losses.get(name)(y_true, y_pred).backward()
    assert y_pred.grad is not None and torch.isfinite(y_pred.grad).all()


def test_float64_dtype():
    loss = losses.Huber(dtype="float64")
    got = loss(np.zeros((2, 2)), np.full((2, 2), 0.5))
    assert got.dtype == torch.float64 and got.item() == pytest.approx(0.125)


@pytest.mark.parametrize("loss", ["huber", "log_cosh", "mape", "msle", "kld", "poisson",
                                  "hinge", "squared_hinge", "categorical_hinge",
                                  "cosine_similarity", "binary_focal_crossentropy", "dice",
                                  "Tversky"])
def test_compile_with_loss_string_trains(loss):
    torch.manual_seed(0)
    x = torch.rand(16, 3)
    y = (x[:, :2] > 0.5).float()
    model = kt.Sequential([kt.Input((3,)), kt.layers.Dense(2, activation="sigmoid")])
    model.compile(optimizer="adam", loss=loss, metrics=["mape", "root_mean_squared_error"])
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert set(history.history) == {"loss", "mape", "root_mean_squared_error"}
    assert all(math.isfinite(v) for v in history.history["loss"])


def test_wrapped_loss_functions_are_minimised():
    # MeanMetricWrapper tells a loss function by its module: the package, not a submodule
    for fn in (losses.huber, losses.mean_squared_error, losses.ctc, losses.dice):
        assert metrics.MeanMetricWrapper(fn)._direction == "down"



@pytest.mark.parametrize("loss", ["CategoricalCrossentropy", "SparseCategoricalCrossentropy",
                                  "MeanSquaredError"])
def test_loss_bits_do_not_depend_on_where_the_batch_sits_in_memory(loss):
    """A batch sliced from any offset of a larger tensor (as `fit` slices in-memory data) gives
    the same loss, to the bit, as a fresh copy of it (MKL's dot product did not)."""
    gen = torch.Generator().manual_seed(0)
    rows = torch.softmax(torch.randn(40, 3, generator=gen), -1)
    labels = torch.randint(0, 3, (40,), generator=gen)
    targets = labels if loss.startswith("Sparse") else torch.eye(3)[labels]
    fn = getattr(losses, loss)()
    for start in range(16):
        yt, yp = targets[start:start + 18], rows[start:start + 18]
        assert fn(yt, yp).item() == fn(yt.clone(), yp.clone()).item(), start
