"""The seed program, unmodified, on real MNIST images (the 10,000 test-set images split 8,000 /
2,000, as ../shared/data/mnist/README.md says), and its accuracy against Keras 3."""

import gzip
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

MNIST_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data",
                         "mnist")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SEED_PROGRAM = textwrap.dedent("""\
    import numpy as np
    from keras.datasets import mnist
    from keras.models import Sequential
    from keras.layers import Dense, Flatten
    from keras.utils import to_categorical

    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train = x_train.reshape(-1, 28 * 28) / 255.0
    x_test = x_test.reshape(-1, 28 * 28) / 255.0
    y_train = to_categorical(y_train)
    y_test = to_categorical(y_test)

    model = Sequential()
    model.add(Flatten(input_shape=(28 * 28,)))
    model.add(Dense(128, activation='relu'))
    model.add(Dense(10, activation='softmax'))
    model.compile(loss='categorical_crossentropy', optimizer='adam', metrics=['accuracy'])
    model.fit(x_train, y_train, epochs=10, batch_size=32)
    loss, accuracy = model.evaluate(x_test, y_test)
    print(f'Loss: {loss:.4f}, Accuracy: {accuracy:.4f}')
""")


def read_split():
    images = os.path.join(MNIST_DIR, "t10k-images-idx3-ubyte.gz")
    labels = os.path.join(MNIST_DIR, "t10k-labels-idx1-ubyte.gz")
    if not (os.path.exists(images) and os.path.exists(labels)):
        pytest.skip("../shared/data/mnist is not available")
    with gzip.open(images) as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(labels) as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    return (x[:8000], y[:8000]), (x[8000:], y[8000:])


@pytest.fixture
def mnist_home(tmp_path):
    (x_train, y_train), (x_test, y_test) = read_split()
    folder = tmp_path / "home" / "datasets"
    folder.mkdir(parents=True)
    np.savez(folder / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test,
             y_test=y_test)
    return tmp_path / "home"


@pytest.mark.slow
def test_seed_program_runs_unmodified(tmp_path, mnist_home):
    script = tmp_path / "seed.py"
    script.write_text(SEED_PROGRAM)
    env = {**os.environ, "KERASTORCH_HOME": str(mnist_home), "KERASTORCH_DEVICE": "cpu",
           "KERAS_HOME": str(tmp_path / "no-keras-cache"), "PYTHONPATH": ROOT}
    run = subprocess.run([sys.executable, "-m", "kerastorch", "run", str(script)], env=env,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    last = run.stdout.strip().splitlines()[-1]
    assert last.startswith("Loss: ") and ", Accuracy: " in last
    accuracy = float(last.split("Accuracy: ")[1])
    assert accuracy > 0.94, last  # Keras 3 reaches 95.5-96% on this split
    assert "Epoch 10/10" in run.stdout


@pytest.mark.slow
@pytest.mark.conformance
def test_accuracy_within_one_point_of_keras(keras3):
    import kerastorch

    (x_train, y_train), (x_test, y_test) = read_split()
    x_train = x_train.reshape(-1, 784) / 255.0
    x_test = x_test.reshape(-1, 784) / 255.0
    y_train = kerastorch.utils.to_categorical(y_train)
    y_test = kerastorch.utils.to_categorical(y_test)

    def build(lib):
        model = lib.Sequential([lib.Input(shape=(784,)),
                                lib.layers.Dense(128, activation="relu"),
                                lib.layers.Dense(10, activation="softmax")])
        model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
        return model

    ref, ours = build(keras3), build(kerastorch)
    ours.set_weights(ref.get_weights())
    ref.fit(x_train, y_train, epochs=2, batch_size=32, verbose=0)
    ours.fit(x_train, y_train, epochs=2, batch_size=32, verbose=0)
    ref_acc = ref.evaluate(x_test, y_test, verbose=0)[1]
    our_acc = ours.evaluate(x_test, y_test, verbose=0)[1]
    assert our_acc > 0.9
    assert abs(our_acc - ref_acc) <= 0.01, (our_acc, ref_acc)
