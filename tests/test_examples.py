"""The examples run on the real MNIST test-set images (../shared/data/mnist, split 8,000/2,000)."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MNIST_DIR = os.path.join(ROOT, "..", "shared", "data", "mnist")

pytestmark = pytest.mark.slow


def run_example(name, *args):
    if not os.path.isdir(MNIST_DIR):
        pytest.skip("../shared/data/mnist is not available")
    env = {**os.environ, "KERASTORCH_DEVICE": "cpu"}
    result = subprocess.run([sys.executable, os.path.join(ROOT, "examples", name),
                             "--data-dir", MNIST_DIR, *args], capture_output=True, text=True,
                            env=env, timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()


def test_mlp_example():
    last = run_example("mnist_mlp.py", "--epochs", "2")[-1]
    assert last.startswith("Loss: ")
    assert float(last.split("Accuracy: ")[1]) > 0.92


def test_convnet_example_reaches_97_percent():
    last = run_example("mnist_convnet.py", "--epochs", "5")[-1]
    assert last.startswith("Test loss: ")
    assert float(last.split("Test accuracy: ")[1]) >= 0.97, last
