import os

# The oracle is Keras 3 on JAX; the env var must be set before `keras` is first imported.
os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("KERASTORCH_DEVICE", "cpu")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

MNIST_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "mnist")


@pytest.fixture
def keras3():
    """Real Keras 3 on JAX (the oracle); skips when it is not installed."""
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "jax":
        pytest.skip("the Keras oracle must run on the JAX backend")
    return keras


@pytest.fixture
def rng():
    return np.random.default_rng(0)
