"""The seed's MNIST MLP, written against kerastorch.

    python examples/mnist_mlp.py                                 # MNIST from the caches
    python examples/mnist_mlp.py --data-dir ../shared/data/mnist --device cpu

`--data-dir` is a folder holding `mnist.npz` or the IDX files. When it holds only the 10,000
test-set images (`t10k-*`), the first 8,000 train and the last 2,000 test.
"""

import argparse

import kerastorch as keras
from kerastorch.layers import Dense, Flatten
from kerastorch.models import Sequential
from kerastorch.utils import to_categorical
from mnist_data import load


def main():
    parser = argparse.ArgumentParser(description="The seed's MNIST MLP on kerastorch.")
    parser.add_argument("--data-dir", help="folder with mnist.npz or the MNIST IDX files")
    parser.add_argument("--device", help="cpu, cuda, cuda:1, mps (default: best available)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    if args.device:
        keras.config.set_device(args.device)

    (x_train, y_train), (x_test, y_test) = load(args.data_dir)
    x_train = x_train.reshape(-1, 28 * 28) / 255.0
    x_test = x_test.reshape(-1, 28 * 28) / 255.0
    y_train = to_categorical(y_train)
    y_test = to_categorical(y_test)

    model = Sequential()
    model.add(Flatten(input_shape=(28 * 28,)))
    model.add(Dense(128, activation="relu"))
    model.add(Dense(10, activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size)
    loss, accuracy = model.evaluate(x_test, y_test)
    print(f"Loss: {loss:.4f}, Accuracy: {accuracy:.4f}")


if __name__ == "__main__":
    main()
