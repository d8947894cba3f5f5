"""Training checkpoints and full `.pt` model files: resuming gives the uninterrupted result."""

import numpy as np
import pytest
import torch

import kerastorch as kt

RNG = np.random.default_rng(0)
X = RNG.normal(size=(32, 4)).astype("float32")
Y = RNG.normal(size=(32, 2)).astype("float32")


def _model(optimizer="adam"):
    kt.config.set_random_seed(0)
    model = kt.Sequential([kt.Input((4,)), kt.layers.Dense(8, activation="relu"),
                           kt.layers.Dropout(0.3), kt.layers.BatchNormalization(),
                           kt.layers.Dense(2)])
    model.compile(optimizer=optimizer, loss="mse", metrics=["mae"])
    return model


def _fit(model, epochs, initial_epoch=0):
    return model.fit(X, Y, batch_size=8, epochs=epochs, initial_epoch=initial_epoch,
                     shuffle=True, verbose=0)


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop"])
@pytest.mark.parametrize("into_existing", [False, True])
def test_resume_matches_uninterrupted_run(tmp_path, optimizer, into_existing):
    straight = _model(optimizer)
    _fit(straight, 3)

    first = _model(optimizer)
    _fit(first, 1)
    kt.saving.save_checkpoint(tmp_path / "ckpt.pt", first, epoch=0, note="after one")
    torch.manual_seed(1234)  # the process goes on doing other random things
    target = _model(optimizer) if into_existing else None
    state = kt.saving.load_checkpoint(tmp_path / "ckpt.pt", model=target)
    resumed = state["model"]
    assert state["epoch"] == 0 and state["note"] == "after one"
    assert resumed.optimizer.iterations == 4
    _fit(resumed, 3, initial_epoch=state["epoch"] + 1)
    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert resumed.optimizer.iterations == straight.optimizer.iterations == 12


def test_pt_model_file_round_trip_with_optimizer(tmp_path):
    model = _model()
    _fit(model, 1)
    model.save(tmp_path / "m.pt")
    payload = torch.load(tmp_path / "m.pt", weights_only=True)  # plain data only
    assert isinstance(payload["config"], str) and "optimizer" in payload
    loaded = kt.models.load_model(tmp_path / "m.pt")
    x = torch.from_numpy(X[:5])
    np.testing.assert_allclose(loaded(x).detach().numpy(), model(x).detach().numpy(), rtol=1e-6)
    assert loaded.optimizer.iterations == 4
    torch.manual_seed(7)
    _fit(model, 2, initial_epoch=1)
    torch.manual_seed(7)
    _fit(loaded, 2, initial_epoch=1)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_pt_without_optimizer_and_uncompiled_load(tmp_path):
    model = _model()
    _fit(model, 1)
    model.save(tmp_path / "m.pt", include_optimizer=False)
    assert "optimizer" not in torch.load(tmp_path / "m.pt", weights_only=True)
    loaded = kt.models.load_model(tmp_path / "m.pt", compile=False)
    assert not loaded.compiled
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_checkpoint_into_other_architecture_is_refused(tmp_path):
    kt.saving.save_checkpoint(tmp_path / "c.pt", _model(), epoch=2)
    other = kt.Sequential([kt.Input((4,)), kt.layers.Dense(3)])
    with pytest.raises(ValueError, match=r"c\.pt.*does not fit model"):
        kt.saving.load_checkpoint(tmp_path / "c.pt", model=other)


def test_model_file_is_not_a_checkpoint(tmp_path):
    _model().save(tmp_path / "m.pt")
    with pytest.raises(ValueError, match="expected a 'kerastorch.checkpoint' file"):
        kt.saving.load_checkpoint(tmp_path / "m.pt")
