"""Shared checks for layer tests: Keras 3 (JAX) vs kerastorch, and kerastorch vs plain torch.

    from layer_harness import compare_with_keras, check_torch_equivalent
"""

import numpy as np
import torch

import kerastorch


def to_numpy(t):
    if isinstance(t, (list, tuple)):
        return [to_numpy(v) for v in t]
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy()
    return np.asarray(t)


def perturb(weights, rng, scale=0.1):
    """Move weights away from their initial values (zeros biases, ones gammas...)."""
    return [w + rng.normal(scale=scale, size=w.shape).astype(w.dtype)
            if np.issubdtype(w.dtype, np.floating) else w for w in weights]


def compare_with_keras(keras3, make, inputs, *, training=False, call_kwargs=None,
                       atol=1e-4, rtol=1e-4, rng=None, check_grad=False, perturb_weights=True):
    """Build `make(keras3.layers)` and `make(kerastorch.layers)` on `inputs` (a numpy array or
    a list of them, passed as the first argument), copy the Keras weights (perturbed) into ours
    with `set_weights`, and assert equal outputs (and input gradients of `sum(outputs)` when
    `check_grad`). Returns `(ref_layer, our_layer)`."""
    rng = rng or np.random.default_rng(0)
    call_kwargs = dict(call_kwargs or {})
    ref, ours = make(keras3.layers), make(kerastorch.layers)
    ref(inputs, **call_kwargs)  # build
    torch_inputs = _to_torch(inputs)
    ours(torch_inputs, **call_kwargs)
    if ref.weights:
        weights = perturb(ref.get_weights(), rng) if perturb_weights else ref.get_weights()
        ref.set_weights(weights)
        ours.set_weights(weights)
        for a, b in zip(ours.get_weights(), ref.get_weights()):
            np.testing.assert_allclose(a, b, rtol=0, atol=0)
    out = ref(inputs, training=training, **call_kwargs)
    expected = [keras3.ops.convert_to_numpy(o) for o in out] if isinstance(out, (list, tuple)) \
        else keras3.ops.convert_to_numpy(out)
    got = to_numpy(ours(torch_inputs, training=training, **call_kwargs))
    _assert_close(got, expected, rtol, atol)
    assert ours.count_params() == ref.count_params()
    if check_grad:
        _assert_close(torch_input_grad(ours, inputs, training=training, **call_kwargs),
                      keras_input_grad(ref, inputs, training=training, **call_kwargs),
                      rtol, atol)
    return ref, ours


def _to_torch(inputs):
    if isinstance(inputs, (list, tuple)):
        return [torch.from_numpy(np.asarray(a)) for a in inputs]
    return torch.from_numpy(np.asarray(inputs))


def _assert_close(got, expected, rtol, atol):
    if isinstance(expected, (list, tuple)):
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            _assert_close(g, e, rtol, atol)
        return
    got = np.asarray(got)
    assert got.shape == np.shape(expected), (got.shape, np.shape(expected))
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)


def torch_input_grad(layer, x, **call_kwargs):
    t = torch.from_numpy(np.asarray(x)).requires_grad_(True)
    out = layer(t, **call_kwargs)
    out = out[0] if isinstance(out, (list, tuple)) else out
    out.sum().backward()
    return t.grad.numpy()


def keras_input_grad(ref, x, **call_kwargs):
    """d sum(ref(x)) / dx on JAX, through `stateless_call` (BatchNorm's training updates
    cannot be traced otherwise)."""
    import jax
    import jax.numpy as jnp

    import inspect
    if "training" not in inspect.signature(ref.call).parameters:
        call_kwargs.pop("training", None)
    trainable = [v.value for v in ref.trainable_variables]
    non_trainable = [v.value for v in ref.non_trainable_variables]

    def total(inp):
        out, _ = ref.stateless_call(trainable, non_trainable, inp, **call_kwargs)
        out = out[0] if isinstance(out, (list, tuple)) else out
        return jnp.sum(out)

    return np.asarray(jax.grad(total)(jnp.asarray(x)))


def check_torch_equivalent(layer, module, x, *, atol=1e-5, to_torch_input=None,
                           from_torch_output=None, strict=True):
    """`layer.state_dict()` loads into the plain torch `module` and gives the same output.

    `to_torch_input` maps our (channels_last) input to the module's layout (e.g. NHWC -> NCHW),
    `from_torch_output` maps the module's output back."""
    x = torch.as_tensor(np.asarray(x))
    expected = layer(x)
    module.load_state_dict(layer.state_dict(), strict=strict)
    module.eval()
    with torch.no_grad():
        got = module(to_torch_input(x) if to_torch_input else x)
    if isinstance(got, tuple):  # nn.LSTM & co. return (output, state)
        got = got[0]
    if from_torch_output:
        got = from_torch_output(got)
    torch.testing.assert_close(got, expected.detach(), atol=atol, rtol=1e-5)


def nhwc_to_nchw(x):
    return x.movedim(-1, 1)


def nchw_to_nhwc(x):
    return x.movedim(1, -1)
