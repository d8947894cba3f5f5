"""The MNIST MLP trained data-parallel over several processes with `fit`.

    torchrun --nproc_per_node=2 examples/mnist_ddp.py --data-dir ../shared/data/mnist
    python examples/mnist_ddp.py --data-dir ../shared/data/mnist    # one process, same numbers

Nothing in the model code changes: under `torchrun`, `fit` initialises the process group (gloo on
CPU, nccl on CUDA), trains through `DistributedDataParallel`, splits each global batch of
`--batch-size` rows across the processes, sums the metrics over them, and prints on rank 0.
`--results PREFIX` writes `PREFIX.rank<r>.json` per process (accuracy, loss, a weights digest).
"""

import argparse
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import kerastorch as keras  # noqa: E402
from kerastorch import distribute  # noqa: E402
from kerastorch.layers import Dense  # noqa: E402
from mnist_data import load  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description="Data-parallel MNIST MLP on kerastorch.")
    parser.add_argument("--data-dir", help="folder with mnist.npz or the MNIST IDX files")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64, help="global batch size")
    parser.add_argument("--results", help="write PREFIX.rank<r>.json with the numbers")
    parser.add_argument("--save", help="weights file (.pt) written by rank 0")
    parser.add_argument("--no-shuffle", action="store_true", help="keep the row order")
    parser.add_argument("--limit", type=int, help="train on the first LIMIT rows only")
    parser.add_argument("--validate", action="store_true", help="pass the test set as "
                        "validation_data")
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = load(args.data_dir)
    x_train = x_train.reshape(-1, 28 * 28).astype("float32") / 255.0
    x_test = x_test.reshape(-1, 28 * 28).astype("float32") / 255.0
    if args.limit:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]

    model = keras.Sequential([keras.Input((28 * 28,)), Dense(128, activation="relu"),
                              Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
                        verbose=2, shuffle=not args.no_shuffle,
                        validation_data=(x_test, y_test) if args.validate else None)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    if distribute.is_chief():
        print(f"world size {distribute.world_size()}: test loss {loss:.4f}, "
              f"accuracy {accuracy:.4f}")
    if args.save:
        model.save_weights(args.save)  # rank 0 writes; the other ranks skip
    if args.results:
        digest = hashlib.sha256(b"".join(np.ascontiguousarray(w).tobytes()
                                         for w in model.get_weights())).hexdigest()
        out = {"rank": distribute.rank(), "world_size": distribute.world_size(),
               "loss": loss, "accuracy": accuracy, "history": history.history,
               "weights_sha256": digest, "keys": list(model.state_dict())}
        np.savez(f"{args.results}.rank{distribute.rank()}.npz", *model.get_weights())
        with open(f"{args.results}.rank{distribute.rank()}.json", "w") as f:
            json.dump(out, f)


if __name__ == "__main__":
    main()
