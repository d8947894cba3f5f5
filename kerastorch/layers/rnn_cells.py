"""Recurrent cells (`SimpleRNNCell`, `LSTMCell`, `GRUCell`) and the math and weight layout they
share with the sequence layers in `recurrent.py`.

Layouts. Keras keeps `kernel (input_dim, G*units)`, `recurrent_kernel (units, G*units)` and one
`bias`; torch keeps `weight_ih (G*units, input_dim)`, `weight_hh (G*units, units)`, `bias_ih` and
`bias_hh`. Gates: LSTM i, f, c, o in both (torch calls c "g"); GRU z, r, h in Keras but r, z, n in
torch, so the first two blocks are swapped. Keras' single LSTM/SimpleRNN bias is `bias_ih`;
`bias_hh` is a zero *buffer* (in the state dict, so it loads into torch modules, but never
trained: training two biases whose sum is Keras' one would move the sum twice as fast). Keras'
view of the bias is `bias_ih + bias_hh`, right also for weights loaded from torch. GRU with
`reset_after=True` (Keras' default, torch's formula) has bias `(2, 3*units)`: row 0 -> `bias_ih`,
row 1 -> `bias_hh`, both trained. `reset_after=False` has one bias and no torch op.

All translation happens in `weight_views()`; the step functions work in torch's layout.
"""

import numbers

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from kerastorch import activations
from kerastorch.layers.layer import InputShapeError, Layer, WeightView
from kerastorch.layers.weight_options import set_weight_options, weight_options_config

_GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}


def canonical_activation(fn):
    """`torch.tanh` -> `activations.tanh` etc., so fused-kernel checks see through aliases."""
    try:
        return activations._TORCH_EQUIVALENTS.get(fn, fn)
    except TypeError:  # unhashable callable
        return fn


def swap_zr(t, units, dim=0):
    """Swap the first two gate blocks (Keras GRU z, r, h <-> torch r, z, n); its own inverse."""
    z, r, h = t.narrow(dim, 0, units), t.narrow(dim, units, units), t.narrow(dim, 2 * units, units)
    return torch.cat([r, z, h], dim)


def _as_keras_vector(bias, units, kind):
    return swap_zr(bias, units) if kind == "GRU" else bias


# ---------------------------------------------------------------------- weights
def make_weights(spec, input_dim):
    """Fresh `(weight_ih, weight_hh, bias_ih, bias_hh)` for `spec` (a cell), drawn by its Keras
    initializers in Keras' shapes (so fans mean what they mean in Keras), in torch's layout."""
    kind, units = spec.kind, spec.units
    gates = _GATES[kind]
    kernel = spec.kernel_initializer((input_dim, gates * units))
    recurrent = spec.recurrent_initializer((units, gates * units))
    w_ih = _as_keras_vector(kernel.T, units, kind).contiguous()
    w_hh = _as_keras_vector(recurrent.T, units, kind).contiguous()
    b_ih = b_hh = None
    if spec.use_bias:
        if kind == "LSTM" and spec.unit_forget_bias:
            bias = torch.cat([spec.bias_initializer((units,)), torch.ones(units),
                              spec.bias_initializer((2 * units,))])
        elif kind == "GRU" and spec.reset_after:
            bias = spec.bias_initializer((2, 3 * units))
        else:
            bias = spec.bias_initializer((gates * units,))
        if kind == "GRU" and spec.reset_after:
            b_ih, b_hh = swap_zr(bias[0], units), swap_zr(bias[1], units)
        else:
            b_ih = _as_keras_vector(bias, units, kind)
            if kind != "GRU":
                b_hh = torch.zeros_like(b_ih)
    return w_ih, w_hh, b_ih, b_hh


def install_weights(owner, spec, input_dim, suffix=""):
    """Create the weights on `owner` under torch's names (`weight_ih{suffix}`, ...), with the
    regularizers and constraints of `spec` registered against them."""
    w_ih, w_hh, b_ih, b_hh = make_weights(spec, input_dim)
    owner.register_parameter("weight_ih" + suffix, nn.Parameter(w_ih))
    owner.register_parameter("weight_hh" + suffix, nn.Parameter(w_hh))
    trained_hh = spec.kind == "GRU" and spec.reset_after
    owner.register_parameter("bias_ih" + suffix, nn.Parameter(b_ih) if b_ih is not None else None)
    if trained_hh:
        owner.register_parameter("bias_hh" + suffix,
                                 nn.Parameter(b_hh) if b_hh is not None else None)
    elif spec.kind != "GRU":  # None without a bias, so `bias_hh` always exists
        owner.register_buffer("bias_hh" + suffix, b_hh)
    # Registered on the tensor behind each Keras view; the base hands regularizers and
    # constraints the Keras layout (`keras_view_of`): the bias view is Keras' whole bias
    # (bias_ih + bias_hh, or both GRU rows), so bias_hh gets no entry of its own.
    names = [("weight_ih", spec.kernel_regularizer, spec.kernel_constraint),
             ("weight_hh", spec.recurrent_regularizer, spec.recurrent_constraint)]
    if spec.use_bias:
        names.append(("bias_ih", spec.bias_regularizer, spec.bias_constraint))
    for name, reg, con in names:
        if reg is not None:
            owner._weight_regularizers().append((reg, name + suffix))
        if con is not None:
            owner._weight_constraints().append((con, name + suffix))


def weight_views(owner, spec, suffix=""):
    """Keras' `kernel`, `recurrent_kernel`, `bias` over `owner`'s torch tensors."""
    kind, units = spec.kind, spec.units

    def matrix(keras_name, torch_name):  # torch (G*u, n) <-> Keras (n, G*u)
        tensor = getattr(owner, torch_name + suffix)
        if kind == "GRU":
            return WeightView(keras_name, tensor, lambda t: swap_zr(t, units).T,
                              lambda a: swap_zr(a.T, units))
        return WeightView(keras_name, tensor, lambda t: t.T, lambda a: a.T)

    views = [matrix("kernel", "weight_ih"), matrix("recurrent_kernel", "weight_hh")]
    if not spec.use_bias:
        return views
    b_ih = getattr(owner, "bias_ih" + suffix)
    hh_name = "bias_hh" + suffix

    def hh():
        return getattr(owner, hh_name)

    if kind == "GRU" and spec.reset_after:
        def to_keras(t):  # live (differentiable) for regularizers, detached for get_weights
            recurrent = hh() if t.requires_grad else hh().detach()
            return torch.stack([swap_zr(t, units), swap_zr(recurrent, units)])

        def from_keras(a):
            with torch.no_grad():
                hh().copy_(swap_zr(a[1], units).to(hh().dtype))
            return swap_zr(a[0], units)
    elif kind == "GRU":
        def to_keras(t):
            return swap_zr(t, units)

        def from_keras(a):
            return swap_zr(a, units)
    else:
        def to_keras(t):
            return t + hh().to(t.dtype)

        def from_keras(a):
            hh().zero_()  # Keras has one bias: it all goes to bias_ih
            return a
    views.append(WeightView("bias", b_ih, to_keras, from_keras))
    return views


def keras_param_count(layer) -> int:
    """Keras' `count_params()`: elements of the Keras-layout weights (a GRU bias `(2, 3u)` is
    stored as two torch vectors, only one of which is the view's tensor)."""
    return sum(v.keras_value().numel() for v in layer._all_weight_views())


# ---------------------------------------------------------------------- math (torch layout)
def project(x, weight, bias, masks=None):
    """`x @ weight.T + bias`; `masks` = one dropout mask, or one per gate block (Keras'
    `implementation=1`, where each gate sees its own mask)."""
    if masks is None:
        return F.linear(x, weight, bias)
    if isinstance(masks, torch.Tensor):
        return F.linear(x * masks, weight, bias)
    blocks = len(masks)
    biases = bias.chunk(blocks) if bias is not None else [None] * blocks
    return torch.cat([F.linear(x * m, w, b)
                      for m, w, b in zip(masks, weight.chunk(blocks), biases)], -1)


def lstm_step(xp, h, c, w_hh, b_hh, act, rec_act, rec_masks=None):
    """One LSTM step from the projected input `xp = x @ W_ih.T + b_ih` (B, 4u)."""
    i, f, g, o = (xp + project(h, w_hh, b_hh, rec_masks)).chunk(4, -1)
    c = rec_act(f) * c + rec_act(i) * act(g)
    h = rec_act(o) * act(c)
    return h, [h, c]


def gru_step(xp, h, w_hh, b_hh, act, rec_act, reset_after, rec_masks=None):
    """One GRU step (torch gate order r, z, n) from `xp` (B, 3u)."""
    xr, xz, xn = xp.chunk(3, -1)
    if reset_after:
        hr, hz, hn = project(h, w_hh, b_hh, rec_masks).chunk(3, -1)
        r, z = rec_act(xr + hr), rec_act(xz + hz)
        n = act(xn + r * hn)
    else:  # Keras' reset_before: the reset gate scales h before its matmul; no recurrent bias
        units = h.shape[-1]
        if rec_masks is None:
            hr, hz = F.linear(h, w_hh[:2 * units]).chunk(2, -1)
            h_n = h
        else:
            hr = F.linear(h * rec_masks[0], w_hh[:units])
            hz = F.linear(h * rec_masks[1], w_hh[units:2 * units])
            h_n = h * rec_masks[2]
        r, z = rec_act(xr + hr), rec_act(xz + hz)
        n = act(xn + F.linear(r * h_n, w_hh[2 * units:]))
    h = z * h + (1 - z) * n
    return h, [h]


def simple_step(xp, h, w_hh, b_hh, act, rec_mask=None):
    """One SimpleRNN step from `xp` (B, u)."""
    h = act(xp + project(h, w_hh, b_hh, rec_mask))
    return h, [h]


def dropout_masks(like, rate, count):
    """Keras' per-sequence dropout masks: scaled keep-masks shaped like `like` (one, or `count`)."""
    ones = torch.ones_like(like)
    if count is None:
        return F.dropout(ones, rate, True)
    return [F.dropout(ones, rate, True) for _ in range(count)]


# ---------------------------------------------------------------------- cells
class RNNCellBase(Layer):
    """What the three cells share: Keras' arguments, torch-named weights, dropout masks.

    A cell processes one time step: `output, new_states = cell(inputs, states)`. Dropout masks
    are drawn once and reused for every step until `reset_dropout_mask()` (the `RNN` layer resets
    them after each sequence), as in Keras.
    """

    _float_inputs = True  # integer inputs are cast to the compute dtype

    kind = "SimpleRNN"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 implementation=2, **kwargs):
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, numbers.Integral) or units <= 0:
            raise ValueError("Received an invalid value for argument `units`, expected a "
                             f"positive integer. Received: units={units!r}")
        for name, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not isinstance(rate, (int, float)) or isinstance(rate, bool):
                raise ValueError(f"`{name}` must be a float between 0 and 1. "
                                 f"Received: {name}={rate!r}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        set_weight_options(self, kernel_initializer=kernel_initializer,
                           recurrent_initializer=recurrent_initializer,
                           bias_initializer=bias_initializer,
                           kernel_regularizer=kernel_regularizer,
                           recurrent_regularizer=recurrent_regularizer,
                           bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                           recurrent_constraint=recurrent_constraint,
                           bias_constraint=bias_constraint)
        self.dropout = min(1.0, max(0.0, float(dropout)))  # Keras clips, it does not refuse
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed
        # Keras' implementation 1 (forced by recurrent dropout) draws one mask per gate.
        self.implementation = 1 if self.recurrent_dropout else implementation
        self.state_size = self.units
        self.output_size = self.units
        self._dropout_mask = self._recurrent_dropout_mask = None

    def build(self, input_shape):
        if input_shape[-1] is None:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) needs a known last "
                             f"input dimension. Received: input_shape={input_shape}")
        install_weights(self, self, input_shape[-1])
        self.built = True

    def keras_weight_views(self):
        return weight_views(self, self)

    def count_params(self):
        self._check_built()
        return keras_param_count(self)

    def _check_built(self):
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer '{self.name}', but the "
                             "layer isn't built. Call `build()` or call it on data first.")

    @property
    def kernel(self):
        return weight_views(self, self)[0].keras_value()

    @property
    def recurrent_kernel(self):
        return weight_views(self, self)[1].keras_value()

    @property
    def bias(self):
        return weight_views(self, self)[2].keras_value() if self.use_bias else None

    # Keras' DropoutRNNCell API
    def _mask_count(self):
        return _GATES[self.kind] if self.implementation == 1 and self.kind != "SimpleRNN" else None

    def get_dropout_mask(self, step_input):
        if self._dropout_mask is None and 0 < self.dropout < 1:
            self._dropout_mask = dropout_masks(step_input, self.dropout, self._mask_count())
        return self._dropout_mask

    def get_recurrent_dropout_mask(self, step_input):
        if self._recurrent_dropout_mask is None and 0 < self.recurrent_dropout < 1:
            self._recurrent_dropout_mask = dropout_masks(step_input, self.recurrent_dropout,
                                                         self._mask_count())
        return self._recurrent_dropout_mask

    def reset_dropout_mask(self):
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self):
        self._recurrent_dropout_mask = None

    def get_initial_state(self, batch_size=None):
        sizes = self.state_size if isinstance(self.state_size, list) else [self.state_size]
        device = self.weight_ih.device if self.built else None
        return [torch.zeros(batch_size, s, device=device) for s in sizes]

    def _step_inputs(self, inputs, states, training):
        if inputs.ndim != 2:
            raise InputShapeError(f"Input 0 of layer '{self.name}' ({type(self).__name__}) is "
                                  f"incompatible with the layer: expected ndim=2, found "
                                  f"ndim={inputs.ndim}. Full shape received: "
                                  f"{tuple(inputs.shape)}")
        nested = isinstance(states, (list, tuple))
        states = [s if isinstance(s, torch.Tensor)
                  else torch.as_tensor(np.asarray(s), dtype=inputs.dtype, device=inputs.device)
                  for s in (states if nested else [states])]
        training = self.resolve_training(training)
        dp = self.get_dropout_mask(inputs) if training else None
        rec = self.get_recurrent_dropout_mask(states[0]) if training else None
        xp = project(inputs, self.weight_ih, self.bias_ih, dp)
        return xp, states, rec, nested

    def get_config(self):
        config = {**super().get_config(), "units": self.units,
                  "activation": activations.serialize(self.activation)}
        if self.kind != "SimpleRNN":
            config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        config["use_bias"] = self.use_bias
        if self.kind == "LSTM":
            config["unit_forget_bias"] = self.unit_forget_bias
        config.update({
            **weight_options_config(self, "kernel_initializer", "recurrent_initializer",
                                    "bias_initializer", "kernel_regularizer",
                                    "recurrent_regularizer", "bias_regularizer",
                                    "kernel_constraint", "recurrent_constraint",
                                    "bias_constraint"),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
        })
        if self.kind == "GRU":
            config["reset_after"] = self.reset_after
        config["seed"] = self.seed
        return config


class SimpleRNNCell(RNNCellBase):
    """One step of a fully connected RNN: `h = activation(x @ kernel + h @ recurrent_kernel + b)`.

    Args: as `SimpleRNN` (units, activation, use_bias, initializers, regularizers, constraints,
    dropout, recurrent_dropout, seed). State: `weight_ih (units, input_dim)`, `weight_hh`,
    `bias_ih`, buffer `bias_hh` (zeros), as `nn.RNNCell`.
    """

    kind = "SimpleRNN"

    def __init__(self, units, activation="tanh", use_bias=True, **kwargs):
        kwargs.pop("recurrent_activation", None)
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)

    def call(self, sequence, states, training=None):
        xp, states, rec, nested = self._step_inputs(sequence, states, training)
        h, new = simple_step(xp, states[0], self.weight_hh, self.bias_hh, self.activation, rec)
        return h, (new if nested else h)


class LSTMCell(RNNCellBase):
    """One LSTM step: returns `h, [h, c]`.

    Args: as `LSTM`; `unit_forget_bias=True` puts 1.0 in the forget-gate bias. State as
    `nn.LSTMCell`: `weight_ih (4*units, input_dim)` (gates i, f, g=c, o), `weight_hh`, `bias_ih`
    (Keras' bias), buffer `bias_hh` (zeros).
    """

    kind = "LSTM"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 unit_forget_bias=True, **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation,
                         use_bias=use_bias, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = [self.units, self.units]

    def call(self, inputs, states, training=None):
        xp, states, rec, _ = self._step_inputs(inputs, states, training)
        return lstm_step(xp, states[0], states[1], self.weight_hh, self.bias_hh, self.activation,
                         self.recurrent_activation, rec)


class GRUCell(RNNCellBase):
    """One GRU step: returns `h, [h]` (or `h, h` when `states` is a tensor).

    Args: as `GRU`; `reset_after=True` (default) is torch's formula and gives a `(2, 3*units)`
    Keras bias. State as `nn.GRUCell` (gates r, z, n; Keras orders them z, r, h):
    `weight_ih (3*units, input_dim)`, `weight_hh`, `bias_ih`, `bias_hh` (no `bias_hh` when
    `reset_after=False`).
    """

    kind = "GRU"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 reset_after=True, **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation,
                         use_bias=use_bias, **kwargs)
        self.reset_after = bool(reset_after)

    def call(self, inputs, states, training=None):
        xp, states, rec, nested = self._step_inputs(inputs, states, training)
        b_hh = self.bias_hh if self.reset_after and self.use_bias else None
        h, new = gru_step(xp, states[0], self.weight_hh, b_hh, self.activation,
                          self.recurrent_activation, self.reset_after, rec)
        return h, (new if nested else h)
