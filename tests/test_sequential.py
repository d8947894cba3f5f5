import numpy as np
import pytest
import torch
from torch import nn

import kerastorch
from kerastorch import layers
from kerastorch.models import Sequential


def seed_model():
    model = Sequential()
    model.add(layers.Flatten(input_shape=(784,)))
    model.add(layers.Dense(128, activation="relu"))
    model.add(layers.Dense(10, activation="softmax"))
    return model


def test_built_from_input_shape_with_summary(capsys):
    model = seed_model()
    assert model.built and model.count_params() == 101770
    model.summary()
    out = capsys.readouterr().out
    assert "(None, 128)" in out and "100,480" in out
    assert " Total params: 101,770 (397.54 KB)" in out
    assert " Non-trainable params: 0 (0.00 B)" in out


def test_list_input_pop_get_layer():
    model = Sequential([kerastorch.Input(shape=(4,)), layers.Dense(3, name="a"),
                        layers.Dense(2, name="b")])
    assert [lyr.name for lyr in model.layers] == ["a", "b"]
    assert model.get_layer("b") is model.layers[1] and model.get_layer(index=0).name == "a"
    assert model(torch.ones(5, 4)).shape == (5, 2)
    popped = model.pop()
    assert popped.name == "b" and model(torch.ones(5, 4)).shape == (5, 3)
    with pytest.raises(ValueError, match="No such layer"):
        model.get_layer("b")


def test_unique_names_enforced():
    with pytest.raises(ValueError, match="unique names"):
        Sequential([layers.Dense(2, name="x"), layers.Dense(2, name="x")])


def test_lazy_build_on_first_call():
    model = Sequential([layers.Dense(3), layers.Dense(1)])
    assert not model.built
    assert model(np.ones((2, 6))).shape == (2, 1)
    assert model.built and model.count_params() == 6 * 3 + 3 + 3 + 1


def test_state_dict_loads_into_plain_torch_after_renaming():
    model = seed_model()
    x = torch.rand(8, 784)
    plain = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10),
                          nn.Softmax(dim=-1))
    names = [lyr.name for lyr in model.layers]
    rename = {names[1]: "1", names[2]: "3"}
    state = {rename[k.split(".")[0]] + "." + k.split(".")[1]: v
             for k, v in model.state_dict().items()}
    plain.load_state_dict(state)
    torch.testing.assert_close(plain(x), model(x))


def test_weights_order_matches_keras_layout():
    model = seed_model()
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(784, 128), (128,), (128, 10), (10,)]
