"""RMSNormalization, adaptive pooling and the colour augmentation layers against Keras 3 on JAX:
same weights (perturbed, copied with set_weights), same outputs, input gradients, configs."""

import numpy as np
import pytest

import kerastorch
from layer_harness import compare_with_keras

pytestmark = pytest.mark.conformance


def _normal(*shape):
    return np.random.default_rng(0).normal(size=shape).astype("float32")


# id -> (make(layers), input, compare input gradients)
CASES = {
    "rms_default": (lambda L: L.RMSNormalization(), _normal(2, 3, 5), True),
    "rms_eps": (lambda L: L.RMSNormalization(epsilon=0.5), _normal(2, 5), True),
    "rms_two_trailing_axes": (lambda L: L.RMSNormalization(axis=[-1, -2]), _normal(2, 3, 4),
                              True),
    "rms_axis_1_of_2d": (lambda L: L.RMSNormalization(axis=1), _normal(3, 4), True),
    "rms_non_trailing": (lambda L: L.RMSNormalization(axis=1), _normal(2, 4, 4), True),
    "rms_positive_axes": (lambda L: L.RMSNormalization(axis=[1, 2]), _normal(2, 3, 4), True),
}
for _kind in ("Average", "Max"):
    for _rank, _shape, _size in ((1, (2, 7, 3), 3), (1, (2, 5, 2), 4), (1, (2, 3, 2), 5),
                                 (2, (2, 7, 5, 3), (3, 2)), (2, (2, 10, 6, 2), 4),
                                 (3, (1, 5, 7, 4, 2), (2, 3, 3))):
        for _fmt in ("channels_last", "channels_first"):
            CASES[f"adaptive_{_kind.lower()}{_rank}d_{_shape[1:-1]}_to_{_size}_{_fmt}"] = (
                lambda L, k=_kind, r=_rank, s=_size, f=_fmt:
                getattr(L, f"Adaptive{k}Pooling{r}D")(s, data_format=f),
                _normal(*_shape), _fmt == "channels_last")


@pytest.mark.parametrize("case", sorted(CASES))
def test_layer_matches_keras(keras3, case):
    make, x, grad = CASES[case]
    ref, ours = compare_with_keras(keras3, make, x, check_grad=grad, atol=1e-5, rtol=1e-5)
    assert ours.get_config() == ref.get_config()


def test_rms_normalization_config_before_build(keras3):
    ref, ours = keras3.layers.RMSNormalization(axis=[2, 1]), \
        kerastorch.layers.RMSNormalization(axis=[2, 1])
    mine, theirs = ours.get_config(), ref.get_config()
    assert mine["axis"] == theirs["axis"] and mine["epsilon"] == theirs["epsilon"]
