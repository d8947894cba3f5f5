"""Losses: hand-worked values, reductions, sample weights, registry, configs, gradients."""

import math

import numpy as np
import pytest
import torch

from kerastorch import losses

CLIPPED = -math.log(1e-7)  # 16.118...: the loss of a clipped zero probability


def test_categorical_crossentropy_clips_zero_probability():
    y_true = torch.tensor([[0.0, 1.0, 0.0]])
    y_pred = torch.tensor([[1.0, 0.0, 0.0]])
    assert losses.categorical_crossentropy(y_true, y_pred).item() == pytest.approx(16.118, abs=1e-3)
    assert losses.CategoricalCrossentropy()(y_true, y_pred).item() == pytest.approx(CLIPPED,
                                                                                    rel=1e-5)


def test_categorical_crossentropy_renormalises_and_matches_logits():
    logits = torch.tensor([[1.0, 2.0, 0.5], [0.1, -1.0, 3.0]])
    y_true = torch.tensor([[0, 1, 0], [0, 0, 1]])  # integer one-hot works too
    probs = torch.softmax(logits, -1)
    from_probs = losses.categorical_crossentropy(y_true, probs * 7.0)  # unnormalised on purpose
    from_logits = losses.categorical_crossentropy(y_true, logits, from_logits=True)
    expected = -torch.log_softmax(logits, -1)[[0, 1], [1, 2]]
    torch.testing.assert_close(from_probs, expected)
    torch.testing.assert_close(from_logits, expected)


def test_label_smoothing_by_hand():
    y_true = torch.tensor([[0.0, 1.0]])
    y_pred = torch.tensor([[0.25, 0.75]])
    # CCE: targets become [0.05, 0.95] with ls=0.1 and 2 classes
    expected = -(0.05 * math.log(0.25) + 0.95 * math.log(0.75))
    got = losses.CategoricalCrossentropy(label_smoothing=0.1)(y_true, y_pred)
    assert got.item() == pytest.approx(expected, rel=1e-6)
    # BCE: targets squeeze towards 0.5, [0.05, 0.95]; both elements then give the same loss
    bce = -(0.05 * math.log(0.25) + 0.95 * math.log(0.75))
    got = losses.BinaryCrossentropy(label_smoothing=0.1)(y_true, y_pred)
    assert got.item() == pytest.approx(bce, rel=1e-6)


def test_binary_crossentropy_clips_instead_of_torch_floor():
    # torch's BCELoss would give 100 per element; Keras clips to 1e-7 first.
    got = losses.binary_crossentropy(torch.tensor([[1.0], [0.0]]), torch.tensor([[0.0], [1.0]]))
    # 1 - 1e-7 rounds to 1 - 2**-23 in float32, so the p=1 side gives -log(2**-23) = 15.94
    np.testing.assert_allclose(got.numpy(), [CLIPPED, 23 * math.log(2)], rtol=1e-5)


def test_binary_crossentropy_logits_matches_probabilities():
    logits = torch.tensor([[-2.0, 0.5, 3.0]])
    y_true = torch.tensor([[0.0, 1.0, 1.0]])
    torch.testing.assert_close(losses.binary_crossentropy(y_true, logits, from_logits=True),
                               losses.binary_crossentropy(y_true, torch.sigmoid(logits)))


def test_sample_weight_keeps_batch_size_denominator():
    y_true = torch.tensor([[0.0, 1.0]] * 4)
    y_pred = torch.tensor([[0.5, 0.5]] * 4)
    unweighted = losses.CategoricalCrossentropy()(y_true, y_pred)
    weighted = losses.CategoricalCrossentropy()(y_true, y_pred,
                                                sample_weight=torch.tensor([1.0, 0, 0, 0]))
    assert weighted.item() == pytest.approx(unweighted.item() / 4, rel=1e-6)
    per_weight = losses.CategoricalCrossentropy(reduction="mean_with_sample_weight")(
        y_true, y_pred, sample_weight=[1.0, 0, 0, 0])
    assert per_weight.item() == pytest.approx(unweighted.item(), rel=1e-6)


@pytest.mark.parametrize("reduction,expected", [
    ("sum_over_batch_size", 7.5), ("mean", 7.5), ("sum", 30.0),
    ("mean_with_sample_weight", 7.5), ("none", [1.0, 4.0, 9.0, 16.0]), (None, [1.0, 4, 9, 16]),
])
def test_reductions(reduction, expected):
    got = losses.MeanSquaredError(reduction=reduction)(torch.zeros(4, 1),
                                                        torch.tensor([[1.0], [2], [3], [4]]))
    np.testing.assert_allclose(got.numpy(), expected)


def test_mean_with_sample_weight_all_zero_is_zero_with_finite_gradient():
    y_pred = torch.tensor([[0.3], [0.6]], requires_grad=True)
    loss = losses.MeanSquaredError(reduction="mean_with_sample_weight")(
        torch.zeros(2, 1), y_pred, sample_weight=torch.zeros(2))
    loss.backward()
    assert loss.item() == 0.0 and torch.isfinite(y_pred.grad).all()


def test_invalid_reduction_names_the_argument():
    with pytest.raises(ValueError, match="reduction='avg'"):
        losses.MeanSquaredError(reduction="avg")


def test_regression_targets_match_output_rank():
    # (n,) targets against (n, 1) outputs compare elementwise, not as an (n, n) broadcast
    got = losses.MeanAbsoluteError()(torch.tensor([1.0, 2.0]), torch.tensor([[1.5], [2.5]]))
    assert got.item() == pytest.approx(0.5)
    assert losses.mean_squared_error([1.0, 2.0], [[1.5], [2.0]]).shape == (2,)


@pytest.mark.parametrize("labels", [torch.tensor([1, 2]), torch.tensor([[1], [2]]),
                                    torch.tensor([1.0, 2.0]), np.array([1, 2])])
def test_sparse_label_forms(labels):
    y_pred = torch.tensor([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    got = losses.SparseCategoricalCrossentropy(reduction=None)(labels, y_pred)
    np.testing.assert_allclose(got.numpy(), [-math.log(0.95), -math.log(0.1)], rtol=1e-5)


def test_sparse_ignore_class_averages_valid_entries():
    y_pred = torch.tensor([[0.2, 0.3, 0.5], [0.3, 0.3, 0.4], [0.1, 0.1, 0.8]])
    loss = losses.SparseCategoricalCrossentropy(ignore_class=-1)
    got = loss(torch.tensor([0, -1, 2]), y_pred)
    assert got.item() == pytest.approx((-math.log(0.2) - math.log(0.8)) / 2, rel=1e-6)


def test_float64_and_lists_are_cast_to_floatx():
    loss = losses.BinaryCrossentropy()(np.array([[1.0, 0.0]]), torch.tensor([[0.8, 0.1]],
                                                                            dtype=torch.float64))
    assert loss.dtype == torch.float32 and loss.ndim == 0


def test_gradient_flows_and_is_finite_at_extremes():
    y_pred = torch.tensor([[1.0, 0.0, 0.0], [0.2, 0.5, 0.3]], requires_grad=True)
    losses.CategoricalCrossentropy()(torch.tensor([[0.0, 1.0, 0.0]] * 2), y_pred).backward()
    assert torch.isfinite(y_pred.grad).all() and y_pred.grad.abs().sum() > 0


def test_get_resolves_like_keras():
    assert losses.get("mse") is losses.mean_squared_error
    assert losses.get("MSE") is losses.get("mean_squared_error")
    assert losses.get("mae") is losses.mean_absolute_error
    assert losses.get("bce") is losses.binary_crossentropy
    assert isinstance(losses.get("CategoricalCrossentropy"), losses.CategoricalCrossentropy)
    assert losses.get(None) is None
    fn = losses.get(losses.sparse_categorical_crossentropy)
    assert fn is losses.sparse_categorical_crossentropy


def test_unknown_name_suggests_close_matches():
    with pytest.raises(ValueError, match="categorical_crossentropy"):
        losses.get("categorical_crosentropy")


def test_config_round_trip():
    loss = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1, name="cce")
    config = losses.serialize(loss)
    assert config["class_name"] == "CategoricalCrossentropy"
    back = losses.deserialize(config)
    assert isinstance(back, losses.CategoricalCrossentropy)
    assert back.get_config() == loss.get_config()
    assert losses.serialize(losses.mean_squared_error) == "mean_squared_error"
    assert losses.deserialize("mean_squared_error") is losses.mean_squared_error
    keras_fn_dict = {"class_name": "function", "config": "mae", "registered_name": "function"}
    assert losses.deserialize(keras_fn_dict) is losses.mean_absolute_error
    sparse = losses.SparseCategoricalCrossentropy(axis=1)
    assert losses.deserialize(losses.serialize(sparse)).axis == 1


def test_loss_function_wrapper():
    wrapped = losses.LossFunctionWrapper(losses.mean_absolute_error, name="mae")
    assert wrapped.name == "mae"
    assert wrapped(torch.zeros(2, 1), torch.ones(2, 1)).item() == 1.0
    back = losses.LossFunctionWrapper.from_config(wrapped.get_config())
    assert back.fn is losses.mean_absolute_error
    custom = losses.LossFunctionWrapper(lambda t, p, scale: scale * (p - t).abs().mean(-1),
                                        scale=2.0)
    assert custom(torch.zeros(2, 1), torch.ones(2, 1)).item() == 2.0


def test_custom_loss_subclass_gets_float_targets():
    class Diff(losses.Loss):
        def call(self, y_true, y_pred):
            assert y_true.dtype == torch.float32
            return (y_pred - y_true).sum(-1)

    assert Diff()(torch.tensor([[1, 2]]), torch.tensor([[2.0, 4.0]])).item() == 3.0


@pytest.mark.parametrize("name,fn", [("crossentropy", losses.categorical_crossentropy),
                                     ("ce", losses.categorical_crossentropy)])
def test_resolve_crossentropy(name, fn):
    assert losses.resolve_crossentropy(name, (4, 3), (4, 3)) is fn
    assert losses.resolve_crossentropy(name, (4,), (4, 3)) is losses.sparse_categorical_crossentropy
    assert losses.resolve_crossentropy(name, (4, 1), (4, 1)) is losses.binary_crossentropy


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_no_host_sync_on_cuda():
    y_pred = torch.rand(32, 10, device="cuda", requires_grad=True)
    y_true = torch.randint(0, 10, (32,), device="cuda")
    sw = torch.rand(32, device="cuda")
    torch.cuda.set_sync_debug_mode("error")
    try:
        for loss in (losses.SparseCategoricalCrossentropy(), losses.CategoricalCrossentropy(),
                     losses.BinaryCrossentropy(from_logits=True), losses.MeanSquaredError()):
            target = y_true if isinstance(loss, losses.SparseCategoricalCrossentropy) else (
                torch.rand(32, 10, device="cuda"))
            loss(target, y_pred, sample_weight=sw).backward()
    finally:
        torch.cuda.set_sync_debug_mode("default")
