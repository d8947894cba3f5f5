"""`model.to_torch()`: plain torch modules, same outputs, same state dict keys, usable without
kerastorch; `model.export()` to `.pt2` / `.onnx`."""

import importlib.util

import numpy as np
import pytest
import torch
from torch import nn

import kerastorch as keras
from kerastorch import layers as L
from kerastorch.export import Unsupported

from export_models import BUILDERS, build, inputs, predict, run_fresh

KINDS = list(BUILDERS)


def _no_kerastorch_inside(module):
    for m in module.modules():
        assert not type(m).__module__.startswith("kerastorch"), type(m)


@pytest.mark.parametrize("kind", KINDS)
def test_same_outputs_keys_and_plain_torch(kind):
    model = build(kind)
    xs = inputs(kind)
    torch_model = model.to_torch()
    _no_kerastorch_inside(torch_model)
    assert list(torch_model.state_dict()) == list(model.state_dict())
    assert not torch_model.training
    with torch.no_grad():
        out = torch_model(*xs)
    torch.testing.assert_close(out, predict(model, xs), rtol=1e-5, atol=1e-6)
    # A copy: changing the torch module leaves the Keras model alone.
    with torch.no_grad():
        next(torch_model.parameters()).add_(1.0)
    assert not torch.equal(next(torch_model.parameters()), next(model.parameters()))


@pytest.mark.parametrize("kind", ["mlp", "convnet"])
def test_sequential_of_torch_modules(kind):
    model = build(kind)
    torch_model = model.to_torch()
    assert type(torch_model) is nn.Sequential
    names = [type(m).__name__ for m in torch_model]
    if kind == "mlp":
        assert names == ["Linear", "ReLU", "Dropout", "Linear", "Softmax"]
    else:  # the channels_last <-> channels_first permutes are explicit modules
        assert names == ["Permute", "Conv2d", "ReLU", "BatchNorm2d", "MaxPool2d", "Conv2d",
                         "AvgPool2d", "Dropout", "Permute", "Flatten", "Linear", "Softmax"]
        bn = torch_model.get_submodule(model.layers[1].name)
        assert bn.eps == pytest.approx(1e-3) and bn.momentum == pytest.approx(0.01)


def test_training_mode_matches_keras_training_call():
    model = build("convnet")
    dropout = model.layers[5]
    dropout.rate = 0.0  # deterministic; BN uses batch statistics
    torch_model = model.to_torch()
    torch_model.get_submodule(dropout.name).p = 0.0
    x = inputs("convnet")[0]
    torch_model.train()
    with torch.no_grad():
        torch.testing.assert_close(torch_model(x), model(x, training=True), rtol=1e-5,
                                   atol=1e-6)


def test_padding_and_pooling_variants_match():
    model = keras.Sequential([
        keras.Input((7, 8, 2)),
        L.ZeroPadding2D(((1, 0), (2, 1))),
        L.Conv2D(3, 2, padding="same"),                 # even kernel, stride 1: pad at the end
        L.AveragePooling2D(3, strides=1, padding="same"),  # stride-1 same: torch pad + crop
        L.Conv2D(2, 3, strides=2, dilation_rate=1, use_bias=False, activation="elu"),
        L.MaxPooling2D(2, strides=1, padding="same"),
        L.UpSampling2D(2),
        L.GlobalMaxPooling2D(),
        L.Dense(3), L.LeakyReLU(0.1), L.Softmax(),
    ])
    x = torch.randn(3, 7, 8, 2)
    torch_model = model.to_torch()
    _no_kerastorch_inside(torch_model)
    torch.testing.assert_close(torch_model(x), predict(model, [x]), rtol=1e-5, atol=1e-6)


def test_conv1d_embedding_layernorm_functional_merges():
    tokens = keras.Input((7,), name="tokens")
    e = L.Embedding(11, 4)(tokens)
    c = L.Conv1D(4, 3, padding="causal", activation="relu")(e)
    s = L.Add()([c, e])
    s = L.LayerNormalization()(s)
    r = L.SimpleRNN(3, go_backwards=True)(s)
    m = L.Multiply()([L.Dense(3)(r), r])
    out = L.Average()([m, L.Maximum()([m, r])])
    model = keras.Model(tokens, out)
    x = torch.randint(0, 11, (4, 7))
    torch_model = model.to_torch()
    assert list(torch_model.state_dict()) == list(model.state_dict())
    torch.testing.assert_close(torch_model(x), predict(model, [x]), rtol=1e-5, atol=1e-6)


def test_shared_layer_called_twice():
    x1, x2 = keras.Input((3,)), keras.Input((3,))
    shared = L.Dense(2)
    model = keras.Model([x1, x2], L.Subtract()([shared(x1), shared(x2)]))
    a, b = torch.randn(4, 3), torch.randn(4, 3)
    torch_model = model.to_torch()
    torch.testing.assert_close(torch_model(a, b), predict(model, [a, b]))


@pytest.mark.parametrize("layer, message", [
    (lambda: L.Lambda(lambda t: t * 2), "Lambda"),
    (lambda: L.Dense(2, activation=lambda t: t * 2), "activation"),
    (lambda: L.LSTM(2, return_state=True), "return_state"),
])
def test_untranslatable_layers_name_the_layer(layer, message):
    model = keras.Sequential([keras.Input((3, 2)), layer()])
    with pytest.raises(Unsupported, match=message):
        model.to_torch()


def test_subclassed_model_is_refused_with_a_pointer_to_export():
    class Sub(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = L.Dense(2)

        def call(self, x):
            return self.d(x)

    model = Sub()
    model(torch.zeros(1, 3))
    with pytest.raises(NotImplementedError, match="format='torch'"):
        model.to_torch()


def test_whole_module_pickle_loads_without_kerastorch(tmp_path):
    xs = {}
    for kind in KINDS:
        model = build(kind)
        torch.save(model.to_torch(), tmp_path / f"{kind}.pt")
        xs[kind] = inputs(kind)
        torch.save({"x": xs[kind], "y": predict(model, xs[kind])}, tmp_path / f"{kind}_io.pt")
    run_fresh(f"""
import torch
for kind in {KINDS!r}:
    module = torch.load(kind + ".pt", weights_only=False)
    io = torch.load(kind + "_io.pt", weights_only=True)
    with torch.no_grad():
        out = module(*io["x"])
    torch.testing.assert_close(out, io["y"], rtol=1e-5, atol=1e-6)
""", cwd=tmp_path)


@pytest.mark.parametrize("kind", ["mlp", "functional"])
def test_export_torch_program(tmp_path, kind):
    model = build(kind)
    model.train()
    path = tmp_path / "m.pt2"
    model.export(path, verbose=False)
    assert model.training  # the mode is restored after tracing in inference mode
    model.eval()
    program = torch.export.load(str(path)).module()
    xs = inputs(kind, n=7)  # another batch size than the example's: the batch axis is dynamic
    out = program(xs[0]) if len(xs) == 1 else program(xs)
    torch.testing.assert_close(out, predict(model, xs), rtol=1e-5, atol=1e-6)


def test_export_format_errors(tmp_path):
    model = build("mlp")
    with pytest.raises(ValueError, match="format"):
        model.export(tmp_path / "m.bin")
    with pytest.raises(ValueError, match="Unrecognized format"):
        model.export(tmp_path / "m.bin", format="tflite")


@pytest.mark.skipif(importlib.util.find_spec("onnx") is not None, reason="onnx is installed")
def test_export_onnx_without_onnx_names_the_package(tmp_path):
    with pytest.raises(ImportError, match="`onnx`"):
        build("mlp").export(tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.skipif(importlib.util.find_spec("onnx") is None, reason="onnx is not installed")
@pytest.mark.parametrize("name", ["mlp", "convnet"])
def test_export_onnx(tmp_path, name):
    """A valid ONNX graph; with onnxruntime installed, it gives the model's predictions."""
    import onnx
    model = build(name)
    model.export(tmp_path / "m.onnx", verbose=False)
    onnx.checker.check_model(onnx.load(str(tmp_path / "m.onnx")))
    if importlib.util.find_spec("onnxruntime") is None:
        return
    import onnxruntime
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"))
    x = inputs(name)[0]
    got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    np.testing.assert_allclose(got, model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_same_predictions_as_keras3(keras3):
    """The torch module gives Keras 3's (JAX) numbers for the same weights."""
    model = build("convnet")
    ref = keras3.Sequential([
        keras3.Input((9, 9, 3)),
        keras3.layers.Conv2D(4, 3, strides=2, padding="same", activation="relu"),
        keras3.layers.BatchNormalization(),
        keras3.layers.MaxPooling2D(2, padding="same"),
        keras3.layers.Conv2D(5, 2),
        keras3.layers.AveragePooling2D(2, strides=1),
        keras3.layers.Dropout(0.2),
        keras3.layers.Flatten(),
        keras3.layers.Dense(3, activation="softmax"),
    ])
    ref.set_weights([np.asarray(w) for w in model.get_weights()])
    x = inputs("convnet")[0]
    with torch.no_grad():
        ours = model.to_torch()(x).numpy()
    np.testing.assert_allclose(ours, np.asarray(ref(x.numpy())), rtol=1e-5, atol=1e-6)


VARIANTS = {
    "batchnorm-on-sequences": (lambda: [keras.Input((5, 4)), L.Dense(3),
                                        L.BatchNormalization(), L.Dense(2)], (3, 5, 4)),
    "conv1d-pooling": (lambda: [keras.Input((10, 3)), L.Conv1D(4, 3, strides=2, padding="same"),
                                L.MaxPooling1D(2, padding="same"), L.SpatialDropout1D(0.1),
                                L.AveragePooling1D(2, padding="same"),
                                L.GlobalAveragePooling1D(keepdims=True), L.Flatten()],
                       (3, 10, 3)),
    "channels-first": (lambda: [keras.Input((3, 8, 8)),
                                L.Conv2D(4, 3, data_format="channels_first"),
                                L.MaxPooling2D(data_format="channels_first"),
                                L.BatchNormalization(axis=1),
                                L.GlobalMaxPooling2D(data_format="channels_first")], (2, 3, 8, 8)),
    "reshape-rnn-activations": (lambda: [keras.Input((12,)), L.Reshape((3, 4)),
                                         L.LSTM(2, go_backwards=True), L.Activation("softmax"),
                                         L.ReLU(max_value=6.0)], (2, 12)),
    "rescaling-strided-same": (lambda: [keras.Input((6, 6, 1)), L.Rescaling(1 / 255, offset=0.5),
                                        L.Conv2D(2, 3), L.ReLU(),
                                        L.Conv2D(2, 2, strides=2, padding="same")], (2, 6, 6, 1)),
}


@pytest.mark.parametrize("case", list(VARIANTS))
def test_layer_variants_match(case):
    make, shape = VARIANTS[case]
    model = keras.Sequential(make())
    with torch.no_grad():
        for module in model.modules():
            if getattr(module, "running_var", None) is not None:
                module.running_var.uniform_(0.5, 2.0)
                module.running_mean.normal_()
    x = torch.randn(*shape)
    torch_model = model.to_torch()
    _no_kerastorch_inside(torch_model)
    with torch.no_grad():
        torch.testing.assert_close(torch_model(x), model(x), rtol=1e-5, atol=1e-6)
