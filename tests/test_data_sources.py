"""Every input kind of fit/evaluate/predict: arrays, torch Datasets and DataLoaders, generators,
PyDatasets; class_weight, sample_weight, validation data of every kind, steps."""

import random
import warnings

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

import kerastorch
from kerastorch import callbacks, layers
from kerastorch.models import Sequential
from kerastorch.utils import PyDataset

N, BATCH = 20, 6  # 4 batches: 6, 6, 6, 2


def data(n=N, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    labels = rng.integers(0, 3, n)
    sw = rng.uniform(0.5, 2.0, n).astype("float32")
    return x, np.eye(3, dtype="float32")[labels], labels, sw


def model_pair(metrics=("accuracy",), **compile_kwargs):
    """Two models with the same start weights."""
    models = []
    for _ in range(2):
        m = Sequential([kerastorch.Input(shape=(4,)), layers.Dense(5, activation="tanh"),
                        layers.Dense(3, activation="softmax")])
        m.compile(optimizer=kerastorch.optimizers.SGD(0.1, momentum=0.9),
                  loss="categorical_crossentropy", metrics=list(metrics), **compile_kwargs)
        models.append(m)
    models[1].set_weights(models[0].get_weights())
    return models


def batches(*arrays, bs=BATCH):
    return [tuple(a[i:i + bs] for a in arrays) for i in range(0, len(arrays[0]), bs)]


class Batches(PyDataset):
    def __init__(self, items, **kwargs):
        super().__init__(**kwargs)
        self.items = items
        self.epoch_calls = []

    def __len__(self):
        return len(self.items)

    def __getitem__(self, idx):
        return self.items[idx]

    def on_epoch_begin(self):
        self.epoch_calls.append("begin")

    def on_epoch_end(self):
        self.epoch_calls.append("end")


class Samples(Dataset):
    def __init__(self, *arrays):
        self.arrays = arrays

    def __len__(self):
        return len(self.arrays[0])

    def __getitem__(self, i):
        return tuple(a[i] for a in self.arrays)


def _sources(x, y, sw, epochs):
    """Each source over the same batches in the same order (sw None: no weights)."""
    arrays = (x, y) if sw is None else (x, y, sw)
    tensors = [torch.from_numpy(a) for a in arrays]

    def gen():
        for _ in range(epochs):
            yield from batches(*arrays)
    return {
        "dataloader": (DataLoader(TensorDataset(*tensors), batch_size=BATCH), {}),
        "dataset": (Samples(*arrays), dict(batch_size=BATCH)),
        "generator": (gen(), dict(steps_per_epoch=4)),
        "pydataset": (Batches(batches(*arrays)), {}),
        "pydataset_workers": (Batches(batches(*arrays), workers=3, max_queue_size=2), {}),
    }


@pytest.mark.filterwarnings("ignore:`shuffle=True`")
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("source", ["dataloader", "dataset", "generator", "pydataset",
                                    "pydataset_workers"])
def test_same_weights_as_arrays(source, weighted):
    x, y, _, sw = data()
    reference, model = model_pair(weighted_metrics=["mse"])
    ref = reference.fit(x, y, sample_weight=sw if weighted else None, batch_size=BATCH,
                        epochs=2, shuffle=False, verbose=0)
    src, kwargs = _sources(x, y, sw if weighted else None, epochs=2)[source]
    got = model.fit(src, epochs=2, shuffle=False, verbose=0, **kwargs)
    for a, b in zip(reference.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert got.history == ref.history
    assert got.params["steps"] == 4


@pytest.mark.filterwarnings("ignore:`shuffle=True`")
@pytest.mark.parametrize("source", ["dataloader", "generator", "pydataset", "dataset"])
def test_class_weight_on_the_fly_matches_arrays(source):
    x, y, labels, _ = data()
    class_weight = {0: 0.3, 1: 2.0}  # class 2 missing: weight 1
    reference, model = model_pair(weighted_metrics=["accuracy"])
    reference.fit(x, y, class_weight=class_weight, batch_size=BATCH, epochs=2, shuffle=False,
                  verbose=0)
    src, kwargs = _sources(x, y, None, epochs=2)[source]
    model.fit(src, class_weight=class_weight, epochs=2, shuffle=False, verbose=0, **kwargs)
    for a, b in zip(reference.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_class_weight_values():
    from kerastorch.trainers.data_adapters import ClassWeights
    weights = ClassWeights({0: 0.5, 2: 3.0})
    one_hot = torch.eye(4)[[0, 1, 2, 3]]
    np.testing.assert_array_equal(weights(one_hot).numpy(), [0.5, 1.0, 3.0, 1.0])
    binary = torch.tensor([[0.0], [1.0], [0.9999]])  # rounded, as Keras does
    np.testing.assert_array_equal(ClassWeights({0: 2.0, 1: 4.0})(binary).numpy(), [2, 4, 4])
    np.testing.assert_array_equal(weights(torch.tensor([2, 7, -1])).numpy(), [3, 1, 1])


def test_dict_inputs_and_outputs_by_name():
    def build():
        a = kerastorch.Input(shape=(3,), name="a")
        b = kerastorch.Input(shape=(2,), name="b")
        h = layers.Concatenate()([layers.Dense(4, name="da")(a), b])
        out1 = layers.Dense(1, name="reg")(h)
        out2 = layers.Dense(2, activation="softmax", name="cls")(h)
        m = kerastorch.Model({"a": a, "b": b}, {"reg": out1, "cls": out2})
        m.compile(optimizer="sgd", loss={"reg": "mse", "cls": "categorical_crossentropy"},
                  metrics={"cls": ["accuracy"]})
        return m
    rng = np.random.default_rng(3)
    xs = {"b": rng.normal(size=(12, 2)).astype("float32"),
          "a": rng.normal(size=(12, 3)).astype("float32")}
    ys = {"cls": np.eye(2, dtype="float32")[rng.integers(0, 2, 12)],
          "reg": rng.normal(size=(12, 1)).astype("float32")}
    reference, model = build(), build()
    model.set_weights(reference.get_weights())
    ref = reference.fit(xs, ys, batch_size=4, epochs=2, shuffle=False, verbose=0)

    def gen():
        for _ in range(2):
            for i in range(0, 12, 4):
                yield ({k: v[i:i + 4] for k, v in xs.items()},
                       {k: v[i:i + 4] for k, v in ys.items()})
    got = model.fit(gen(), steps_per_epoch=3, epochs=2, shuffle=False, verbose=0)
    assert sorted(got.history) == ["cls_accuracy", "cls_loss", "loss", "reg_loss"]
    assert got.history == ref.history
    for a, b in zip(reference.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    out = model.predict(xs, verbose=0)
    assert set(out) == {"reg", "cls"} and out["cls"].shape == (12, 2)
    np.testing.assert_allclose(out["cls"], model.predict(iter([({"a": xs["a"], "b": xs["b"]},)]),
                                                         verbose=0)["cls"], rtol=1e-6)


# ---------------------------------------------------------------- steps (Keras' rules)
class BatchSpy(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.per_epoch = []

    def on_epoch_begin(self, epoch, logs=None):
        self.per_epoch.append(0)

    def on_train_batch_end(self, batch, logs=None):
        self.per_epoch[-1] += 1


def test_steps_per_epoch_with_arrays_continues_through_the_data():
    # Keras 3 (checked on JAX): 5 batches, 2 per epoch -> 2, 2, 1 (ran out, warned), 2, 2.
    x, y, _, _ = data(n=10)
    model, _ = model_pair()
    spy = BatchSpy()
    with pytest.warns(UserWarning, match="ran out of data"):
        history = model.fit(x, y, batch_size=2, steps_per_epoch=2, epochs=5, shuffle=False,
                            verbose=0, callbacks=[spy])
    assert spy.per_epoch == [2, 2, 1, 2, 2] and history.params["steps"] == 2


def test_steps_per_epoch_without_batch_size_sets_it():
    x, y, _, _ = data(n=10)
    model, _ = model_pair()
    spy = BatchSpy()
    model.fit(x, y, steps_per_epoch=3, epochs=1, verbose=0, callbacks=[spy])  # bs = ceil(10/3)
    assert spy.per_epoch == [3]


@pytest.mark.filterwarnings("ignore:`shuffle=True`")
def test_generator_steps_and_running_out():
    x, y, _, _ = data(n=10)
    model, _ = model_pair()
    spy = BatchSpy()
    with pytest.warns(UserWarning, match="ran out of data"):
        history = model.fit(iter(batches(x, y, bs=2)), steps_per_epoch=2, epochs=3,
                            verbose=0, callbacks=[spy])
    assert spy.per_epoch == [2, 2, 1] and len(history.history["loss"]) == 3
    # without steps_per_epoch: the first epoch drains the generator, then training stops
    spy = BatchSpy()
    with pytest.warns(UserWarning, match="ran out of data"):
        history = model.fit(iter(batches(x, y, bs=2)), epochs=3, verbose=0, callbacks=[spy])
    assert spy.per_epoch[0] == 5 and history.epoch == [0] and history.params["steps"] is None


@pytest.mark.filterwarnings("ignore:`shuffle=True`")
def test_infinite_pydataset_with_steps():
    x, y, _, _ = data(n=8)

    class Endless(PyDataset):
        num_batches = None

        def __getitem__(self, idx):
            i = (idx % 4) * 2
            return x[i:i + 2], y[i:i + 2]
    ds = Endless()
    model, _ = model_pair()
    spy = BatchSpy()
    model.fit(ds, steps_per_epoch=3, epochs=2, verbose=0, callbacks=[spy])
    assert spy.per_epoch == [3, 3]
    assert len(model.evaluate(ds, steps=2, verbose=0)) == 2


def test_pydataset_epoch_hooks_and_shuffle():
    x, y, _, _ = data(n=12)
    items = batches(x, y, bs=2)
    seen = []

    class Spy(Batches):
        def __getitem__(self, idx):
            seen.append(idx)
            return super().__getitem__(idx)
    ds = Spy(items)
    model, _ = model_pair()
    random.seed(1)
    model.fit(ds, epochs=3, shuffle=True, verbose=0)
    assert ds.epoch_calls == ["begin", "end"] * 3
    epochs = [seen[i * 6:(i + 1) * 6] for i in range(3)]
    assert all(sorted(e) == list(range(6)) for e in epochs)
    assert any(e != list(range(6)) for e in epochs)  # shuffled batch order


# ---------------------------------------------------------------- validation
@pytest.mark.filterwarnings("ignore:`shuffle=True`")
@pytest.mark.parametrize("kind", ["tuple", "dataloader", "dataset", "generator", "pydataset"])
def test_validation_data_kinds(kind):
    x, y, _, _ = data()
    vx, vy, _, vsw = data(n=9, seed=5)
    val = {"tuple": (vx, vy, vsw),
           "dataloader": DataLoader(TensorDataset(*map(torch.from_numpy, (vx, vy, vsw))),
                                    batch_size=4),
           "dataset": Samples(vx, vy, vsw),
           "generator": iter(batches(vx, vy, vsw, bs=3) * 3),
           "pydataset": Batches(batches(vx, vy, vsw, bs=3))}[kind]
    model, _ = model_pair()
    seen = []

    class Spy(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append((logs["val_loss"], self.model.evaluate(vx, vy, sample_weight=vsw,
                                                               verbose=0)[0]))
    model.fit(x, y, epochs=3, batch_size=BATCH, verbose=0, callbacks=[Spy()],
              validation_data=val, validation_batch_size=4,
              validation_steps=3 if kind == "generator" else None)
    assert len(seen) == 3
    for val_loss, expected in seen:
        assert val_loss == pytest.approx(expected, rel=1e-5)


def test_validation_freq_and_steps():
    x, y, _, _ = data()
    vx, vy, _, _ = data(n=9, seed=5)
    model, _ = model_pair()
    history = model.fit(x, y, epochs=4, verbose=0, validation_data=(vx, vy),
                        validation_freq=[2, 3])
    assert len(history.history["val_loss"]) == 2 and len(history.history["loss"]) == 4
    history = model.fit(x, y, epochs=4, verbose=0, validation_data=(vx, vy), validation_freq=4)
    assert len(history.history["val_loss"]) == 1
    # validation_steps=1 with validation_batch_size=3: the loss of the first 3 rows only
    seen = []

    class Spy(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append((logs["val_loss"], self.model.evaluate(vx[:3], vy[:3], verbose=0)[0]))
    model.fit(x, y, epochs=1, verbose=0, validation_data=(vx, vy), validation_steps=1,
              validation_batch_size=3, callbacks=[Spy()])
    assert seen[0][0] == pytest.approx(seen[0][1], rel=1e-6)


def test_initial_epoch_and_stop_training():
    x, y, _, _ = data()
    model, _ = model_pair()
    history = model.fit(x, y, epochs=4, initial_epoch=2, verbose=0)
    assert history.epoch == [2, 3]

    class Stop(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.stop_training = True
    spy = BatchSpy()
    history = model.fit(x, y, epochs=5, batch_size=BATCH, verbose=0, callbacks=[Stop(), spy])
    assert history.epoch == [0] and spy.per_epoch == [2]


# ---------------------------------------------------------------- evaluate / predict
@pytest.mark.parametrize("source", ["dataloader", "generator", "pydataset", "dataset"])
def test_evaluate_and_predict_on_sources(source):
    x, y, _, sw = data()
    model, _ = model_pair(weighted_metrics=["mse"])
    expected = model.evaluate(x, y, sample_weight=sw, batch_size=BATCH, verbose=0)
    src, kwargs = _sources(x, y, sw, epochs=1)[source]
    kwargs.pop("steps_per_epoch", None)
    np.testing.assert_allclose(model.evaluate(src, verbose=0, **kwargs), expected, rtol=1e-6)
    src, kwargs = _sources(x, y, sw, epochs=1)[source]
    kwargs.pop("steps_per_epoch", None)
    np.testing.assert_allclose(model.predict(src, verbose=0, **kwargs),
                               model.predict(x, verbose=0), rtol=1e-6)
    src, _ = _sources(x, y, sw, epochs=1)[source]
    out = model.predict(src, steps=2, verbose=0, **({"batch_size": BATCH}
                                                    if source == "dataset" else {}))
    np.testing.assert_allclose(out, model.predict(x[:12], verbose=0), rtol=1e-6)


def test_evaluate_steps_with_arrays():
    x, y, _, _ = data()
    model, _ = model_pair()
    assert model.evaluate(x, y, batch_size=5, steps=2, verbose=0)[0] == pytest.approx(
        model.evaluate(x[:10], y[:10], verbose=0)[0], rel=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.evaluate(x, y, batch_size=5, steps=4, verbose=0)  # exactly all: no warning


def test_predict_x_only_generator_and_bare_arrays():
    x, _, _, _ = data()
    model, _ = model_pair()

    def gen():
        for i in range(0, N, 7):
            yield x[i:i + 7]  # bare arrays, not tuples
    np.testing.assert_allclose(model.predict(gen(), verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


def test_shuffle_warning_for_dataloader():
    x, y, _, _ = data()
    model, _ = model_pair()
    loader = DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=8)
    with pytest.warns(UserWarning, match="`shuffle=True` was passed, but will be ignored"):
        model.fit(loader, verbose=0)


def test_dataset_shuffle_uses_a_new_order_each_epoch():
    x, y, _, _ = data()
    model, reference = model_pair()
    torch.manual_seed(0)
    model.fit(Samples(x, y), batch_size=BATCH, epochs=1, shuffle=True, verbose=0)
    reference.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    assert any(not np.array_equal(a, b) for a, b in zip(model.get_weights(),
                                                        reference.get_weights()))
