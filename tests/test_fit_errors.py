"""Bad input to fit/evaluate: clear errors naming what was received and what was expected,
raised before any weight changes; the model stays usable afterwards."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import kerastorch
from kerastorch import callbacks, layers
from kerastorch.models import Sequential

pytestmark = pytest.mark.filterwarnings("ignore:`shuffle=True`")


def data(n=16, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    labels = rng.integers(0, 3, n)
    return x, np.eye(3, dtype="float32")[labels], labels


def make_model(loss="categorical_crossentropy", metrics=("accuracy",), units=3,
               activation="softmax"):
    model = Sequential([kerastorch.Input(shape=(4,)), layers.Dense(5, activation="relu"),
                        layers.Dense(units, activation=activation)])
    model.compile(optimizer=kerastorch.optimizers.Adam(0.01), loss=loss, metrics=list(metrics))
    return model


def assert_unchanged(model, before):
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def assert_usable(model):
    """Inference mode restored, and fit/evaluate work with good data."""
    assert not model.training and not any(m.training for m in model.modules())
    x, y, labels = data(seed=9)
    targets = labels if "sparse" in str(model.loss) else y
    history = model.fit(x, targets, epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert np.all(np.isfinite(model.evaluate(x, targets, verbose=0)))


def gen(*batches):
    yield from batches


# ---------------------------------------------------------------- bad batches from sources
BAD_BATCHES = {
    "four_tuple": (lambda x, y: (x, y, np.ones(8), np.ones(8)),
                   ValueError, r"Batch 0 from the generator must be `x`, `\(x,\)`, `\(x, y\)` "
                               r"or `\(x, y, sample_weight\)`.*a tuple of length 4"),
    "string": (lambda x, y: (x, "labels"), TypeError,
               r"Batch 0 from the generator: `y` must hold numpy arrays or torch tensors\. "
               r"Received: an object of type str"),
    "object": (lambda x, y: object(), ValueError, r"Received: an object of type object"),
    "lengths": (lambda x, y: (x, y[:7]), ValueError,
                r"Batch 0 from the generator: Data cardinality is ambiguous.*x sizes: \[8\], "
                r"y sizes: \[7\]"),
    "object_array": (lambda x, y: (x, np.array(["a"] * 8)), TypeError,
                     r"`y` must hold numpy arrays.*ndarray of shape \(8,\)"),
}


@pytest.mark.parametrize("case", list(BAD_BATCHES))
def test_bad_generator_batch_is_named_and_changes_nothing(case):
    x, y, _ = data()
    make_batch, error, message = BAD_BATCHES[case]
    model = make_model()
    before = model.get_weights()
    with pytest.raises(error, match=message):
        model.fit(gen(make_batch(x[:8], y[:8])), epochs=1, verbose=0)
    assert_unchanged(model, before)
    assert_usable(model)


def test_bad_batch_midway_leaves_model_usable():
    x, y, _ = data()
    model = make_model()
    with pytest.raises(ValueError, match=r"Batch 1 from the generator.*length 4"):
        model.fit(gen((x[:8], y[:8]), (x[8:], y[8:], y[8:], y[8:])), epochs=1, verbose=0)
    assert_usable(model)
    with pytest.raises(ValueError, match=r"Batch 1 from the torch DataLoader: Data cardinality"):
        bad = [(torch.from_numpy(x[:8]), torch.from_numpy(y[:8])),
               (torch.from_numpy(x[8:]), torch.from_numpy(y[9:]))]

        class Loader(DataLoader):
            def __iter__(self):
                return iter(bad)
        model.evaluate(Loader(TensorDataset(torch.zeros(2))), verbose=0)
    assert_usable(model)


# ---------------------------------------------------------------- metrics that do not fit
METRIC_CASES = {
    # one-hot targets given to a sparse metric (Keras would broadcast or fail in the middle)
    "sparse_with_one_hot": (dict(metrics=["sparse_categorical_accuracy"]), "one_hot",
                            r"Metric `sparse_categorical_accuracy` \(sparse_categorical_accuracy"
                            r"\) expects integer class targets of shape \(batch,\) or "
                            r"\(batch, 1\).*Received: targets of shape \(batch, 3\) and model "
                            r"outputs of shape \(batch, 3\)"),
    "categorical_with_labels": (dict(loss="sparse_categorical_crossentropy",
                                     metrics=["categorical_accuracy"]), "labels",
                                r"Metric `categorical_accuracy`.*expects one-hot targets of the "
                                r"outputs' shape \(batch, 3\).*targets of shape \(batch,\)"),
    "binary_mismatch": (dict(loss="mse", metrics=["binary_accuracy"], units=3,
                             activation="sigmoid"), "column",
                        r"Metric `binary_accuracy`.*Received: targets of shape \(batch, 1\) and "
                        r"model outputs of shape \(batch, 3\)"),
}


@pytest.mark.parametrize("source", ["arrays", "dataloader", "evaluate"])
@pytest.mark.parametrize("case", list(METRIC_CASES))
def test_metric_that_does_not_fit_fails_first(case, source):
    x, y, labels = data()
    kwargs, target_kind, message = METRIC_CASES[case]
    targets = {"one_hot": y, "labels": labels, "column": labels[:, None].astype("float32")}[
        target_kind]
    model = make_model(**kwargs)
    before = model.get_weights()
    with pytest.raises(ValueError, match=message):
        if source == "arrays":
            model.fit(x, targets, epochs=1, verbose=0)
        elif source == "dataloader":
            model.fit(DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(targets)),
                                 batch_size=8), verbose=0)
        else:
            model.evaluate(x, targets, verbose=0)
    assert_unchanged(model, before)
    assert not model.training


def test_bad_validation_targets_fail_before_training():
    x, y, _ = data()
    model = make_model(loss="mse", metrics=["binary_accuracy"], activation="sigmoid")
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"Metric `binary_accuracy`.*targets of shape "
                                         r"\(batch, 1\) and model outputs of shape \(batch, 3\)"):
        model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y[:, :1]))
    assert_unchanged(model, before)


def test_loss_that_does_not_fit_names_shapes():
    x, y, _ = data()
    model = make_model()
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"The loss 'categorical_crossentropy' does not fit the "
                                         r"targets.*targets of shape \(batch, 2\), outputs of "
                                         r"shape \(batch, 3\)\. ValueError: "):
        model.fit(x, y[:, :2], verbose=0)
    assert_unchanged(model, before)
    assert_usable(model)


# ---------------------------------------------------------------- callbacks that raise
class Boom(Exception):
    pass


@pytest.mark.parametrize("hook", ["on_train_batch_end", "on_epoch_end", "on_train_begin"])
def test_callback_exception_leaves_model_usable(hook):
    x, y, _ = data()
    model = make_model()

    class Raiser(callbacks.Callback):
        pass
    setattr(Raiser, hook, lambda self, *args, **kwargs: (_ for _ in ()).throw(Boom(hook)))
    with pytest.raises(Boom):
        model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[Raiser()],
                  validation_data=(x, y))
    assert_usable(model)
    # the same for a generator source and a failing callback during evaluate
    with pytest.raises(Boom):
        model.evaluate(gen((x, y)), verbose=0, callbacks=[type("R", (callbacks.Callback,), {
            "on_test_batch_end": lambda self, *a, **k: (_ for _ in ()).throw(Boom())})()])
    assert_usable(model)


# ---------------------------------------------------------------- bad arguments
def test_bad_arguments_fail_before_training():
    x, y, labels = data()
    model = make_model()
    before = model.get_weights()
    loader = DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=8)
    cases = [
        (dict(x=x, y=y, class_weight={0: 1.0}, sample_weight=np.ones(16)),
         r"You cannot specify `class_weight` and `sample_weight` at the same time"),
        (dict(x=loader, y=y), r"When providing `x` as a torch DataLoader, `y` should not be "
                              r"passed\. Instead, the targets should be included"),
        (dict(x=gen((x, y)), sample_weight=np.ones(16)),
         r"as a generator, `sample_weight` should not be passed"),
        (dict(x=loader, validation_split=0.2), r"`validation_split` is only supported for "
                                               r"Tensors or NumPy arrays"),
        (dict(x=x, y=y, validation_data=(x, y), validation_freq="2"),
         r"Expected `validation_freq` to be a list or int\. Received: validation_freq='2'"),
        (dict(x=x, y=y, validation_data=(x, y, y, y)),
         r"`validation_data` must be `\(x_val, y_val\)`.*length 4"),
        (dict(x=x, y=y, validation_data=(x, y[:3])), r"Data cardinality is ambiguous"),
        (dict(x="data.csv"), r"Unrecognized data type: x=an object of type str"),
        (dict(x=x, y=y, batch_size=0), r"`batch_size` must be a positive integer"),
        (dict(x=x, y=y, steps_per_epoch=0), r"`steps_per_epoch` must be a positive integer"),
        (dict(x=x, y=y, class_weight=[1.0, 2.0]), r"`class_weight` must be a dict"),
        (dict(x=gen()), r"The training data produced no batches"),
    ]
    for kwargs, message in cases:
        with pytest.raises((ValueError, TypeError), match=message):
            model.fit(epochs=1, verbose=0, **kwargs)
        assert_unchanged(model, before)
    with pytest.raises(ValueError, match="`steps` must be a positive integer"):
        model.evaluate(x, y, steps=-1, verbose=0)
    with pytest.raises(ValueError, match="`evaluate` received no data"):
        model.evaluate(gen(), verbose=0)
    assert_usable(model)
