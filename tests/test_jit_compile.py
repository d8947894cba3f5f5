"""`compile(jit_compile=True)`: forward + loss through `torch.compile`, same numbers as eager."""

import numpy as np
import pytest

import kerastorch as kt


def _model():
    return kt.Sequential([kt.Input((6,)), kt.layers.Dense(8, activation="relu"),
                          kt.layers.Dense(3, activation="softmax")])


def test_jit_compile_auto_and_false_use_plain_steps():
    for flag in ("auto", False):
        model = _model()
        model.compile("sgd", "sparse_categorical_crossentropy", jit_compile=flag)
        model.fit(np.zeros((4, 6), "float32"), np.zeros(4, "int64"), verbose=0)
        assert model._step_runner is None


@pytest.mark.slow
def test_jit_compile_matches_eager():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 6)).astype("float32")
    y = rng.integers(0, 3, size=(32,))
    runs = []
    for jit in (False, True):
        kt.utils.set_random_seed(1)
        model = _model()
        model.compile(kt.optimizers.Adam(0.01), "sparse_categorical_crossentropy",
                      metrics=["accuracy"], jit_compile=jit)
        history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
        runs.append((model, history))
    (eager, h_eager), (jitted, h_jit) = runs
    assert jitted._step_runner is not None and jitted._step_runner._compiled is not None
    for a, b in zip(eager.get_weights(), jitted.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for key in h_eager:
        np.testing.assert_allclose(h_jit[key], h_eager[key], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(jitted.evaluate(x, y, verbose=0), eager.evaluate(x, y, verbose=0),
                               rtol=1e-5, atol=1e-6)
    # the compiled function is kept off the module tree: same keys as a plain model's
    names = [lyr.name for lyr in jitted.layers]
    assert list(jitted.state_dict()) == [f"{n}.{w}" for n in names for w in ("weight", "bias")]
