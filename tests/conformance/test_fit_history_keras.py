"""`fit` against Keras 3 on JAX: the same model, weights and data (shuffle=False) give the same
`History.history` (keys and per-epoch values) and the same final weights, with class_weight,
sample_weight, validation_split and validation_freq."""

import numpy as np
import pytest

import kerastorch

pytestmark = pytest.mark.conformance

N, BATCH = 24, 8


def _data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, 5)).astype("float32")
    labels = rng.integers(0, 3, N)
    y = np.eye(3, dtype="float32")[labels]
    sample_weight = rng.uniform(0.2, 2.0, N).astype("float32")
    return x, labels, y, sample_weight


def _model(ns, loss, optimizer):
    model = ns.Sequential([ns.Input(shape=(5,)), ns.layers.Dense(6, activation="relu"),
                           ns.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer(ns.optimizers), loss=loss,
                  metrics=["accuracy"], weighted_metrics=[loss])
    return model


CCE, SPARSE = "categorical_crossentropy", "sparse_categorical_crossentropy"
CASES = {  # name: (loss, fit arguments)
    "class_weight": (CCE, dict(class_weight={0: 0.5, 1: 2.0, 2: 1.5}, epochs=3)),
    "class_weight_sparse": (SPARSE, dict(class_weight={0: 0.5, 2: 3.0}, epochs=2)),
    "sample_weight": (SPARSE, dict(sample_weight=True, epochs=3)),
    "validation_split": (CCE, dict(validation_split=0.3, sample_weight=True, epochs=2,
                                   batch_size=5)),
    "validation_freq_int": (CCE, dict(validation_data=True, validation_freq=2, epochs=4)),
    "validation_freq_list": (SPARSE, dict(validation_data=True, validation_freq=[1, 3],
                                          epochs=4, initial_epoch=1)),
    # Keras' EpochIterator: epochs draw 2 of the 3 batches from a pass that continues
    "steps_per_epoch": (CCE, dict(steps_per_epoch=2, epochs=4)),
}


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
@pytest.mark.parametrize("case", list(CASES))
def test_history_and_weights_match_keras(keras3, case):
    loss, kwargs = CASES[case]
    x, labels, y, sw = _data()
    targets = labels if loss.startswith("sparse") else y
    kwargs = dict(kwargs)
    if kwargs.pop("sample_weight", False):
        kwargs["sample_weight"] = sw
    if kwargs.pop("validation_data", False):
        vx, vlabels, vy, _ = _data(seed=1)
        kwargs["validation_data"] = (vx[:10], (vlabels if loss.startswith("sparse") else vy)[:10])
    kwargs.setdefault("batch_size", BATCH)
    optimizer = (lambda o: o.SGD(learning_rate=0.1, momentum=0.5)) if "freq" in case else \
        (lambda o: o.Adam(learning_rate=0.01))

    theirs = _model(keras3, loss, optimizer)
    ours = _model(kerastorch, loss, optimizer)
    ours.set_weights(theirs.get_weights())
    expected = theirs.fit(x, targets, shuffle=False, verbose=0, **kwargs).history
    got = ours.fit(x, targets, shuffle=False, verbose=0, **kwargs).history

    assert sorted(got) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, atol=1e-6, err_msg=key)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
def test_one_loss_for_two_outputs_applies_to_each_like_keras(keras3):
    """`compile(loss="mse")` on a two-output model: Keras applies it to every output and
    records `a_loss`/`b_loss` unweighted, `loss` as their (weighted) sum."""
    x, _, y, _ = _data()
    results = []
    for ns in (keras3, kerastorch):
        inp = ns.Input(shape=(5,))
        model = ns.Model(inp, [ns.layers.Dense(3, name="a")(inp),
                               ns.layers.Dense(2, name="b")(inp)])
        model.compile(optimizer=ns.optimizers.SGD(learning_rate=0.05), loss="mse")
        if results:
            model.set_weights(results[0][2])
        start = [np.asarray(w) for w in model.get_weights()]
        history = model.fit(x, [y, y[:, :2] * 2.0], batch_size=BATCH, epochs=2, shuffle=False,
                            verbose=0).history
        results.append((history, [np.asarray(w) for w in model.get_weights()], start))
    (ref, ref_w, _), (got, got_w, _) = results
    assert sorted(got) == sorted(ref) == ["a_loss", "b_loss", "loss"]
    for key in ref:
        np.testing.assert_allclose(got[key], ref[key], rtol=1e-5)
    for a, b in zip(got_w, ref_w):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_one_loss_with_two_loss_weights_is_refused_like_keras(keras3):
    x, _, y, _ = _data()
    for ns in (keras3, kerastorch):
        inp = ns.Input(shape=(5,))
        model = ns.Model(inp, [ns.layers.Dense(3)(inp), ns.layers.Dense(2)(inp)])
        with pytest.raises(ValueError, match="must match the number of losses, got 1 losses "
                                             "and 2 weights"):
            model.compile(optimizer="sgd", loss="mse", loss_weights=[0.3, 2.0])
            model.fit(x, [y, y[:, :2]], verbose=0)  # Keras checks at the first batch


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
def test_metric_names_of_a_two_output_model_like_keras(keras3, tmp_path):
    """One entry per output; a metric object keeps its own name (the output prefix is only in
    the logs); repeated names get `_1`; a save/load round trip does not add prefixes."""
    x, _, y, _ = _data()
    logs, names = [], []
    for ns in (keras3, kerastorch):
        inp = ns.Input(shape=(5,))
        model = ns.Model(inp, [ns.layers.Dense(3, name="a")(inp),
                               ns.layers.Dense(2, name="b")(inp)])
        mae = ns.metrics.MeanAbsoluteError(name="err")
        model.compile(optimizer="sgd", loss="mse",
                      metrics=[[mae, ns.metrics.MeanSquaredError(name="err")], "mae"])
        history = model.fit(x, [y, y[:, :2]], batch_size=BATCH, epochs=1, shuffle=False,
                            verbose=0).history
        logs.append(sorted(history))
        names.append(mae.name)
        if ns is kerastorch:
            model.save(tmp_path / "m.keras")
            again = kerastorch.models.load_model(tmp_path / "m.keras")
            again.fit(x, [y, y[:, :2]], batch_size=BATCH, epochs=1, verbose=0)
            assert sorted(again.evaluate(x, [y, y[:, :2]], verbose=0,
                                         return_dict=True)) == logs[0]
    assert logs[1] == logs[0]
    assert "a_err_1" in logs[0] and "b_mae" in logs[0]
    assert names == ["err", "err"]
