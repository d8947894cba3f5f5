"""`SimpleRNN`, `LSTM`, `GRU`: Keras' recurrent layers on torch's fused kernels.

`SimpleRNN`/`LSTM`/`GRU` keep their weights as `nn.RNN`/`nn.LSTM`/`nn.GRU(batch_first=True)` do
(`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`), so `state_dict()` loads into those
modules; `rnn_cells.py` documents the layouts and does the Keras translation.

Speed: with Keras' default activations (tanh, sigmoid; SimpleRNN also relu), `reset_after=True`
and no recurrent dropout in training, a sequence runs in one call of torch's fused kernel
(`torch._VF.lstm`/`gru`/`rnn_tanh`, cuDNN on GPU); a right-padded mask runs the same kernel on
packed sequences. Other masks and configurations take a step loop. Mask semantics, states and
configs: `rnn_base.RNN`.
"""

import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from kerastorch import activations, regularizers
from kerastorch.layers.layer import InputShapeError, Layer
from kerastorch.layers.rnn_base import RNN, right_padded_lengths, time_loop
from kerastorch.layers.rnn_cells import (GRUCell, LSTMCell, SimpleRNNCell, canonical_activation,
                                         dropout_masks, gru_step, install_weights, lstm_step,
                                         project, simple_step, weight_views)
from kerastorch.utils.registry import serialize


class _FusedRNN(RNN):
    """`SimpleRNN`/`LSTM`/`GRU`: torch-module weights on the layer itself, fused kernels.

    The Keras `cell` (reachable as `layer.cell`) holds the configuration and shares the layer's
    parameters; it is not a sub-module, so the state dict has `nn.LSTM`'s keys only.
    """

    _cell_attrs = frozenset((
        "units", "activation", "recurrent_activation", "use_bias", "dropout",
        "recurrent_dropout", "seed", "kernel_initializer", "recurrent_initializer",
        "bias_initializer", "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
        "kernel_constraint", "recurrent_constraint", "bias_constraint", "unit_forget_bias",
        "reset_after", "implementation"))

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False,
                 activity_regularizer=None, use_cudnn="auto", **kwargs):
        Layer.__init__(self, activity_regularizer=regularizers.get(activity_regularizer),
                       **kwargs)
        if use_cudnn not in ("auto", True, False):
            raise ValueError("Invalid value received for argument `use_cudnn`. Expected one of "
                             f"{{'auto', True, False}}. Received: use_cudnn={use_cudnn!r}")
        self._init_flags(return_sequences, return_state, go_backwards, stateful, unroll,
                         zero_output_for_mask)
        self.use_cudnn = use_cudnn
        self.__dict__["cell"] = cell  # not registered: its parameters are the layer's

    def __getattr__(self, name):  # Keras' LSTM exposes its cell's settings (`layer.units`)
        if name in type(self)._cell_attrs and "cell" in self.__dict__:
            return getattr(self.__dict__["cell"], name)
        return super().__getattr__(name)

    def build(self, sequences_shape, initial_state_shape=None):
        self._check_rank(sequences_shape, exact=True)
        if sequences_shape[-1] is None:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) needs a known last "
                             f"input dimension. Received: input_shape={sequences_shape}")
        install_weights(self, self.cell, sequences_shape[-1], "_l0")
        self.built = True
        self._sync_cell()

    def _sync_cell(self):
        """Point the cell at the layer's tensors (after build and after `.to()`)."""
        cell = self.cell
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            key = name + "_l0"
            if key in self._parameters:
                cell._parameters[name] = self._parameters[key]
            elif key in self._buffers:
                cell._buffers[name] = self._buffers[key]
        cell.built = True

    def _zero_states(self, batch, like):
        return [like.new_zeros(batch, size) for size in self.state_size]

    def _apply(self, fn, recurse=True):
        result = super()._apply(fn, recurse)
        if self.built:
            self._sync_cell()
            self._flatten_for_cudnn()
        return result

    def keras_weight_views(self):
        return weight_views(self, self.cell, "_l0")

    def _variable_prefix(self):  # Keras: the variables are the cell's (`lstm/lstm_cell/kernel`)
        return f"{self._layer_path()}/{self.cell.name}"

    def _check_inputs(self, x):
        self._check_rank(x.shape, exact=True)
        if x.shape[-1] != self.weight_ih_l0.shape[1]:
            raise InputShapeError(
                f"Input 0 of layer '{self.name}' ({type(self).__name__}) is incompatible with "
                f"the layer: expected axis -1 of the input to have value "
                f"{self.weight_ih_l0.shape[1]}, but received input with shape "
                f"{tuple(x.shape)}")

    # ------------------------------------------------------------------ fused kernels
    def _flat_weights(self):
        weights = [self.weight_ih_l0, self.weight_hh_l0]
        if self.cell.use_bias:
            weights += [self.bias_ih_l0, self.bias_hh_l0]
        return weights

    def _flatten_for_cudnn(self):
        # What nn.RNNBase.flatten_parameters does: one contiguous weight buffer for cuDNN.
        weights = self._flat_weights()
        if not self._fusable() or not all(w.is_cuda for w in weights):
            return
        if not torch.backends.cudnn.is_acceptable(weights[0]) or \
                len({w.data_ptr() for w in weights}) != len(weights):
            return
        from torch.backends.cudnn import rnn as cudnn_rnn
        with torch.cuda.device_of(weights[0]), torch.no_grad():
            if torch._use_cudnn_rnn_flatten_weight():
                torch._cudnn_rnn_flatten_weight(
                    weights, len(weights), self.weight_ih_l0.shape[1],
                    cudnn_rnn.get_cudnn_mode(self._torch_mode()), self.cell.units, 0, 1, True,
                    False)

    def _fusable(self):
        cell = self.cell
        return (canonical_activation(cell.activation) is activations.tanh
                and canonical_activation(cell.recurrent_activation) is activations.sigmoid)

    def _run(self, x, states, mask, training):
        cell = self.cell
        rate = cell.dropout if training and 0 < cell.dropout < 1 else 0.0
        rec_rate = cell.recurrent_dropout if training and 0 < cell.recurrent_dropout < 1 else 0.0
        count = cell._mask_count()
        if not rec_rate and self._fusable():
            if rate:  # Keras' fused path: one input mask for every step
                x = x * dropout_masks(x[:, 0], rate, None).unsqueeze(1)
            if mask is None:
                return self._run_fused(x, states)
            lengths = right_padded_lengths(mask)
            if lengths is not None:
                if int(lengths.min()) == x.shape[1]:
                    return self._run_fused(x, states)
                return self._run_packed(x, states, mask, lengths)
            in_masks = None
        else:
            in_masks = dropout_masks(x[:, 0], rate, count) if rate else None
            if in_masks is not None:
                in_masks = (in_masks.unsqueeze(1) if isinstance(in_masks, torch.Tensor)
                            else [m.unsqueeze(1) for m in in_masks])
        rec_masks = dropout_masks(states[0], rec_rate, count) if rec_rate else None
        projected = project(x, self.weight_ih_l0, self.bias_ih_l0, in_masks)  # all steps at once
        step = self._step_fn(rec_masks)
        return time_loop(step, projected, states, mask, self.go_backwards,
                         self.zero_output_for_mask, self.return_sequences)

    def _run_fused(self, x, states):
        if self.go_backwards:
            x = x.flip(1)  # outputs stay in processing order, as Keras returns them
        out, states = self._kernel(x, states)
        return out[:, -1], (out if self.return_sequences else None), states

    def _run_packed(self, x, states, mask, lengths):
        steps = x.shape[1]
        t = torch.arange(steps, device=x.device)
        length = lengths.to(x.device)[:, None]
        if self.go_backwards:  # reverse each sequence within its length
            index = torch.where(t < length, length - 1 - t, t)
            x = x.gather(1, index.unsqueeze(-1).expand_as(x))
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        hx = [s.index_select(0, packed.sorted_indices) for s in states]
        data, new_states = self._kernel(packed.data, hx, packed.batch_sizes)
        new_states = [s.index_select(0, packed.unsorted_indices) for s in new_states]
        out, _ = pad_packed_sequence(
            PackedSequence(data, packed.batch_sizes, packed.sorted_indices,
                           packed.unsorted_indices), batch_first=True, total_length=steps)
        if not self.go_backwards:  # padding at the end repeats the last output
            valid = mask
            fill = 0.0 if self.zero_output_for_mask else new_states[0][:, None]
        else:  # padding is processed first: it outputs the initial state
            shift = steps - length
            out = out.gather(1, (t - shift).clamp(min=0).unsqueeze(-1).expand_as(out))
            valid = t >= shift
            fill = 0.0 if self.zero_output_for_mask else states[0][:, None]
        seq = torch.where(valid[..., None], out, fill)
        return seq[:, -1], (seq if self.return_sequences else None), new_states

    def _kernel(self, x, states, batch_sizes=None):
        """One call of torch's fused op on `x` (B, T, F), or on packed data with `batch_sizes`.
        Returns `(outputs, [final states])`."""
        hx = tuple(s.unsqueeze(0) for s in states)
        hx = hx if len(hx) > 1 else hx[0]
        # `train` keeps cuDNN's workspace for backward whenever autograd is on (nn.LSTM ties it
        # to module.training, which breaks gradients of a model in eval mode).
        args = (hx, self._flat_weights(), self.cell.use_bias, 1, 0.0, torch.is_grad_enabled(),
                False)
        op = self._torch_op()
        result = op(x, *args, True) if batch_sizes is None else op(x, batch_sizes, *args)
        return result[0], [s[0] for s in result[1:]]

    def _step_fn(self, rec_masks):
        raise NotImplementedError

    # ------------------------------------------------------------------ config
    def get_config(self):
        cell = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            cell.pop(key)
        return {**self._flags_config(), **cell,
                "activity_regularizer": serialize(self.activity_regularizer)}

    @classmethod
    def from_config(cls, config):
        return Layer.from_config.__func__(cls, config)

    def extra_repr(self):
        return f"name={self.name!r}, units={self.cell.units}"


def _cell_kwargs(kwargs):
    """Split the cell's `dtype`/`trainable` from the layer kwargs (Keras gives both)."""
    return {k: kwargs[k] for k in ("dtype", "trainable") if k in kwargs}


class SimpleRNN(_FusedRNN):
    """Fully connected RNN, output fed back: `h_t = activation(x_t @ kernel + h_{t-1} @
    recurrent_kernel + bias)`; torch's `nn.RNN(batch_first=True)`.

    Args:
        units: Positive int, dimensionality of the output.
        activation: Default `tanh` (`relu` also runs on torch's fused kernel).
        use_bias, kernel_initializer (`glorot_uniform`), recurrent_initializer (`orthogonal`),
        bias_initializer (`zeros`), *_regularizer, *_constraint: as Keras.
        dropout / recurrent_dropout: Fractions of the inputs / recurrent state dropped in
            training (one mask per sequence).
        return_sequences, return_state, go_backwards, stateful, unroll: see `RNN`.

    State: `weight_ih_l0 (units, input_dim)`, `weight_hh_l0`, `bias_ih_l0` (Keras' bias) and the
    zero buffer `bias_hh_l0`.
    """

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, seed=None, **kwargs):
        cell = SimpleRNNCell(
            units, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout, recurrent_dropout=recurrent_dropout,
            seed=seed, name="simple_rnn_cell", **_cell_kwargs(kwargs))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, **kwargs)

    def _fusable(self):
        return canonical_activation(self.cell.activation) in (activations.tanh, activations.relu)

    def _torch_mode(self):
        relu = canonical_activation(self.cell.activation) is activations.relu
        return "RNN_RELU" if relu else "RNN_TANH"

    def _torch_op(self):
        return torch._VF.rnn_relu if self._torch_mode() == "RNN_RELU" else torch._VF.rnn_tanh

    def _step_fn(self, rec_masks):
        w_hh, b_hh, act = self.weight_hh_l0, self.bias_hh_l0, self.cell.activation
        return lambda xp, s: simple_step(xp, s[0], w_hh, b_hh, act, rec_masks)

    def get_config(self):
        config = super().get_config()
        del config["seed"]  # Keras' SimpleRNN does not report it
        return config


class LSTM(_FusedRNN):
    """Long Short-Term Memory (Hochreiter 1997); torch's `nn.LSTM(batch_first=True)`.

    Args:
        units: Positive int, dimensionality of the output.
        activation (`tanh`), recurrent_activation (`sigmoid`): torch's fused kernel runs when
            these are the defaults.
        unit_forget_bias: Add 1 to the forget-gate bias at initialization (Keras default).
        use_bias, initializers, regularizers, constraints, dropout, recurrent_dropout, seed,
        return_sequences, return_state, go_backwards, stateful, unroll: as Keras (see `RNN`).
        use_cudnn: Accepted; kerastorch uses cuDNN whenever torch can.

    State (as `nn.LSTM`): `weight_ih_l0 (4u, input_dim)`, `weight_hh_l0 (4u, u)`, gates i, f, g,
    o = Keras' i, f, c, o; `bias_ih_l0` = Keras' bias; `bias_hh_l0` a zero buffer. Returns the
    last output, or the sequence; with `return_state`, `[output, h, c]`.
    """

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False,
                 use_cudnn="auto", implementation=2, **kwargs):
        cell = LSTMCell(
            units, activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, unit_forget_bias=unit_forget_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout, recurrent_dropout=recurrent_dropout,
            seed=seed, implementation=implementation, name="lstm_cell", **_cell_kwargs(kwargs))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, use_cudnn=use_cudnn,
                         **kwargs)

    def _torch_mode(self):
        return "LSTM"

    def _torch_op(self):
        return torch._VF.lstm

    def _step_fn(self, rec_masks):
        w_hh, b_hh = self.weight_hh_l0, self.bias_hh_l0
        act, rec_act = self.cell.activation, self.cell.recurrent_activation
        return lambda xp, s: lstm_step(xp, s[0], s[1], w_hh, b_hh, act, rec_act, rec_masks)


class GRU(_FusedRNN):
    """Gated Recurrent Unit (Cho 2014); torch's `nn.GRU(batch_first=True)` when
    `reset_after=True` (the default: the reset gate applies after the recurrent matmul).

    Args:
        units: Positive int, dimensionality of the output.
        activation (`tanh`), recurrent_activation (`sigmoid`): torch's fused kernel runs when
            these are the defaults and `reset_after=True`.
        reset_after: `False` is the older formula (Keras 2.x / TF1 default) with one bias of
            `3u`; it has no torch op and runs a step loop.
        Others: as `LSTM`.

    State (as `nn.GRU`): `weight_ih_l0 (3u, input_dim)`, `weight_hh_l0 (3u, u)` in torch's gate
    order r, z, n (Keras: z, r, h), `bias_ih_l0` / `bias_hh_l0` = rows 0 / 1 of Keras' `(2, 3u)`
    bias.
    """

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, reset_after=True,
                 use_cudnn="auto", implementation=2, **kwargs):
        cell = GRUCell(
            units, activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
            dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
            reset_after=reset_after, implementation=implementation, name="gru_cell",
            **_cell_kwargs(kwargs))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, use_cudnn=use_cudnn,
                         **kwargs)

    def _fusable(self):
        return self.cell.reset_after and super()._fusable()

    def _flat_weights(self):
        weights = [self.weight_ih_l0, self.weight_hh_l0]
        if self.cell.use_bias:
            weights.append(self.bias_ih_l0)
            if self.cell.reset_after:
                weights.append(self.bias_hh_l0)
        return weights

    def _torch_mode(self):
        return "GRU"

    def _torch_op(self):
        return torch._VF.gru

    def _step_fn(self, rec_masks):
        cell = self.cell
        b_hh = self.bias_hh_l0 if cell.reset_after and cell.use_bias else None
        w_hh, act, rec_act = self.weight_hh_l0, cell.activation, cell.recurrent_activation
        return lambda xp, s: gru_step(xp, s[0], w_hh, b_hh, act, rec_act, cell.reset_after,
                                      rec_masks)

