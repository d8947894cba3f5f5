import math

import pytest
import torch

from kerastorch import constraints, regularizers

EPS = 1e-7  # Keras' epsilon in the constraints' denominators


def close(a, b, tol=1e-6):
    torch.testing.assert_close(torch.as_tensor(a, dtype=torch.float32),
                               torch.as_tensor(b, dtype=torch.float32), rtol=tol, atol=tol)


# ---------------------------------------------------------------------------- regularizers
def test_l2_of_ones_has_no_half_factor():
    out = regularizers.L2(0.01)(torch.ones(2, 2))
    assert out.dim() == 0
    close(out, 0.04)


def test_l1_l1l2_hand_values():
    w = torch.tensor([[1.0, -2.0], [3.0, -4.0]])
    close(regularizers.L1(0.1)(w), 1.0)
    close(regularizers.L1L2(l1=0.1, l2=0.01)(w), 1.0 + 0.3)
    close(regularizers.L1L2()(w), 0.0)
    assert regularizers.L1L2()(w).dim() == 0


def test_orthogonal_regularizer():
    close(regularizers.OrthogonalRegularizer(1.0)(torch.eye(3)), 0.0)
    w = torch.tensor([[1.0, 0.0], [1.0, 0.0]])  # two identical rows: cos = 1
    close(regularizers.OrthogonalRegularizer(1.0, mode="rows")(w), 1.0)
    # Columns: (1, 1)/sqrt(2) and the zero column (normalised by epsilon, stays 0).
    close(regularizers.OrthogonalRegularizer(1.0, mode="columns")(w), 0.0)
    with pytest.raises(ValueError, match="inputs.shape"):
        regularizers.OrthogonalRegularizer()(torch.ones(2, 2, 2))
    with pytest.raises(ValueError, match="mode='diag'"):
        regularizers.OrthogonalRegularizer(mode="diag")


@pytest.mark.parametrize("bad", [-1.0, math.inf, math.nan, "0.1"])
def test_penalty_validation(bad):
    with pytest.raises(ValueError, match="l2="):
        regularizers.L2(bad)


def test_regularizer_names_and_configs():
    assert regularizers.get("l1").get_config() == {"l1": 0.01}
    assert regularizers.get("l2").get_config() == {"l2": 0.01}
    assert regularizers.get("l1_l2").get_config() == {"l1": 0.0, "l2": 0.0}
    assert isinstance(regularizers.get("l1l2"), regularizers.L1L2)
    assert regularizers.get("orthogonal_regularizer").get_config() == {"factor": 0.01,
                                                                       "mode": "rows"}
    assert regularizers.get(None) is None
    assert regularizers.l1_l2 is regularizers.L1L2

    def custom(w):
        return w.sum()

    assert regularizers.get(custom) is custom
    with pytest.raises(ValueError, match="'l2'"):
        regularizers.get("l22")


def test_regularizer_serialize_round_trip():
    for reg in [regularizers.L1(0.3), regularizers.L2(0.2), regularizers.L1L2(0.1, 0.2),
                regularizers.OrthogonalRegularizer(0.5, "columns")]:
        config_ = regularizers.serialize(reg)
        assert config_["module"] == "keras.regularizers"
        again = regularizers.deserialize(config_)
        assert type(again) is type(reg) and again.get_config() == reg.get_config()


def test_penalty_is_differentiable():
    w = torch.randn(3, 4, requires_grad=True)
    regularizers.L2(0.5)(w).backward()
    close(w.grad, w.detach())  # d/dw 0.5 * sum(w^2) = w


# ---------------------------------------------------------------------------- constraints
def test_max_norm():
    w = torch.tensor([[3.0, 0.1], [4.0, 0.0]])  # column norms 5 and 0.1
    out = constraints.MaxNorm(max_value=2)(w)
    close(out[:, 0], torch.tensor([3.0, 4.0]) * 2 / (5 + EPS))
    close(out[:, 1], w[:, 1] * 0.1 / (0.1 + EPS))
    out1 = constraints.MaxNorm(max_value=1, axis=1)(w)
    close(out1.norm(dim=1), [1.0, 1.0], tol=1e-5)


def test_max_norm_conv_axes():
    w = torch.randn(3, 3, 4, 5) * 3  # Keras (kh, kw, in, out)
    out = constraints.MaxNorm(1.5, axis=[0, 1, 2])(w)
    norms = out.pow(2).sum(dim=(0, 1, 2)).sqrt()
    assert (norms <= 1.5 + 1e-5).all()


def test_unit_norm_and_non_neg():
    w = torch.tensor([[3.0, 1.0], [4.0, 0.0]])
    close(constraints.UnitNorm()(w), w / (torch.tensor([5.0, 1.0]) + EPS))
    close(constraints.NonNeg()(torch.tensor([-1.0, 0.0, 2.0])), [0.0, 0.0, 2.0])


def test_min_max_norm():
    w = torch.tensor([[3.0, 0.3], [4.0, 0.4]])  # column norms 5 and 0.5
    out = constraints.MinMaxNorm(min_value=1.0, max_value=2.0)(w)
    close(out.norm(dim=0), [2.0, 1.0], tol=1e-5)
    half = constraints.MinMaxNorm(min_value=1.0, max_value=2.0, rate=0.5)(w)
    close(half.norm(dim=0), [3.5, 0.75], tol=1e-5)


def test_constraint_names_and_round_trip():
    for name, cls in [("max_norm", constraints.MaxNorm), ("min_max_norm", constraints.MinMaxNorm),
                      ("non_neg", constraints.NonNeg), ("unit_norm", constraints.UnitNorm)]:
        obj = constraints.get(name)
        assert type(obj) is cls
        again = constraints.deserialize(constraints.serialize(obj))
        assert type(again) is cls and again.get_config() == obj.get_config()
    assert constraints.get("max_norm").get_config() == {"max_value": 2, "axis": 0}
    assert constraints.serialize(constraints.UnitNorm(axis=[0, 1]))["config"] == {"axis": [0, 1]}
    assert constraints.get(None) is None
    with pytest.raises(ValueError, match="'non_neg'"):
        constraints.get("nonneg")
