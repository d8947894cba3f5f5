"""A Keras-style convnet on MNIST, channels_last images of shape (28, 28, 1).

    python examples/mnist_convnet.py --data-dir ../shared/data/mnist --epochs 5

Conv2D-MaxPooling x2, Dropout, Dense softmax, Adam, as in the Keras "Simple MNIST convnet"
example. On the 8,000/2,000 split of the test-set images it reaches about 97-98% in a few epochs.
"""

import argparse

import numpy as np

import kerastorch as keras
from kerastorch import layers
from mnist_data import load


def build_model():
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description="A Keras-style MNIST convnet on kerastorch.")
    parser.add_argument("--data-dir", help="folder with mnist.npz or the MNIST IDX files")
    parser.add_argument("--device", help="cpu, cuda, mps (default: best available)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)
    if args.device:
        keras.config.set_device(args.device)
    keras.utils.set_random_seed(0)

    (x_train, y_train), (x_test, y_test) = load(args.data_dir)
    x_train = np.expand_dims(x_train.astype("float32") / 255, -1)  # (n, 28, 28, 1)
    x_test = np.expand_dims(x_test.astype("float32") / 255, -1)
    y_train = keras.utils.to_categorical(y_train, 10)
    y_test = keras.utils.to_categorical(y_test, 10)

    model = build_model()
    model.summary()
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
              validation_split=0.1)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"Test loss: {loss:.4f}, Test accuracy: {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
