"""The generic recurrent layer `RNN(cell)` and what every recurrent layer shares: Keras' time
loop with its mask rules, initial and stateful states, output shapes, masks and configs.

Masks follow Keras (JAX/TF): a masked step keeps the previous states and outputs the previous
output (`states[0]`), or zeros with `zero_output_for_mask=True` (which `Bidirectional` sets when
returning sequences). With `go_backwards=True`, returned sequences are in processing order
(reversed time), as in Keras.
"""

import numpy as np
import torch

from kerastorch.layers.layer import InputShapeError, Layer
from kerastorch.layers.rnn_cells import keras_param_count
from kerastorch.utils.registry import serialize


def time_loop(step, inputs, states, mask, go_backwards, zero_output_for_mask, return_sequences):
    """Keras' `backend.rnn`: run `step(inputs[:, t], states) -> (output, states)` over time.

    Returns `(last_output, outputs or None, states)`; `outputs` is in processing order."""
    steps = range(inputs.shape[1] - 1, -1, -1) if go_backwards else range(inputs.shape[1])
    outputs, output = [], None
    for t in steps:
        new_output, new_states = step(inputs[:, t], states)
        if mask is not None:
            keep = mask[:, t, None]
            fallback = torch.zeros_like(new_output) if zero_output_for_mask else states[0]
            new_output = torch.where(keep, new_output, fallback)
            new_states = [torch.where(keep, n, s) for n, s in zip(new_states, states)]
        states, output = new_states, new_output
        if return_sequences:
            outputs.append(output)
    return output, (torch.stack(outputs, 1) if return_sequences else None), states


def right_padded_lengths(mask):
    """Per-sample lengths (CPU int64) when `mask` (B, T) is True then False in every row with at
    least one True step; else None. One host sync (packing needs lengths on the CPU anyway)."""
    lengths = mask.sum(1)
    expected = torch.arange(mask.shape[1], device=mask.device) < lengths[:, None]
    ok = (expected == mask).all() & (lengths > 0).all()
    info = torch.cat([lengths, ok.view(1).to(lengths.dtype)]).cpu()
    return info[:-1] if bool(info[-1]) else None


def _flatten(structure):
    """A state size or a list of states, nested lists (StackedRNNCells) flattened."""
    if not isinstance(structure, (list, tuple)):
        return [structure]
    return [leaf for item in structure for leaf in _flatten(item)]


def as_mask(mask, like):
    if mask is None:
        return None
    if isinstance(mask, (list, tuple)):
        mask = mask[0]
        if mask is None:
            return None
    if not isinstance(mask, torch.Tensor):
        mask = torch.as_tensor(np.asarray(mask))
    return mask.to(device=like.device, dtype=torch.bool)


class RNN(Layer):
    """Runs a cell over the time axis: `RNN(LSTMCell(32))` (a step loop; `LSTM(32)` is fused).

    Args:
        cell: A layer with `call(inputs, states)` returning `(output, new_states)` and a
            `state_size` (int or list of ints).
        return_sequences: Return the whole output sequence `(batch, time, units)` instead of the
            last output `(batch, units)`.
        return_state: Also return the final states: `[output, *states]`.
        go_backwards: Process the sequence backwards (returned sequences are reversed).
        stateful: Carry the last states of a batch into the next call (`reset_states()`).
        unroll: Accepted for compatibility; ignored (torch runs eagerly).
        zero_output_for_mask: Masked steps output zeros instead of the previous output.

    Call arguments: `sequences (batch, time, ...)`, `initial_state` (list of tensors), `mask`
    (`(batch, time)` bool), `training`.
    """

    _float_inputs = True  # integer inputs are cast to the compute dtype

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        if isinstance(cell, (list, tuple)):  # Keras: a list of cells is stacked
            from kerastorch.layers.stacked_rnn_cells import StackedRNNCells
            cell = StackedRNNCells(cell)
        if not hasattr(cell, "call") or not hasattr(cell, "state_size"):
            raise ValueError("Argument `cell` should have a `call` method and a `state_size` "
                             f"attribute. Received: cell={cell!r}")
        super().__init__(**kwargs)
        self._init_flags(return_sequences, return_state, go_backwards, stateful, unroll,
                         zero_output_for_mask)
        self.cell = cell

    def _init_flags(self, return_sequences, return_state, go_backwards, stateful, unroll,
                    zero_output_for_mask):
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True
        self._states = None

    @property
    def state_size(self):
        return _flatten(self.cell.state_size)  # StackedRNNCells nests them per cell

    # ------------------------------------------------------------------ building
    def build(self, sequences_shape, initial_state_shape=None):
        self._check_rank(sequences_shape)
        cell = self.cell
        if isinstance(cell, Layer) and not cell.built:
            step_shape = (sequences_shape[0], *sequences_shape[2:])
            cell.build(step_shape)
            cell.built = True
            cell._build_shapes = step_shape
        self.built = True

    def _check_rank(self, shape, exact=False):
        if len(shape) < 3 or (exact and len(shape) != 3):
            raise InputShapeError(
                f"Input 0 of layer '{self.name}' ({type(self).__name__}) is incompatible with "
                f"the layer: expected ndim={3 if exact else '>=3'} (batch, time, features), "
                f"found ndim={len(shape)}. Full shape received: {tuple(shape)}")

    # ------------------------------------------------------------------ calling
    def call(self, sequences, initial_state=None, mask=None, training=None):
        self._check_inputs(sequences)
        mask = as_mask(mask, sequences)
        if mask is not None and tuple(mask.shape) != tuple(sequences.shape[:2]):
            raise ValueError(f"Layer '{self.name}' expects a mask of shape (batch, time) = "
                             f"{tuple(sequences.shape[:2])}. Received: mask.shape="
                             f"{tuple(mask.shape)}")
        states = self._initial_states(sequences, initial_state)
        last, seq, states = self._run(sequences, states, mask, self.resolve_training(training))
        if self.stateful:
            self._states = [s.detach() for s in states]
        output = seq if self.return_sequences else last
        if not self.return_state:
            return output
        if mask is not None and self.return_sequences:
            output._keras_mask = mask  # the base attaches masks only to single outputs
        # Flat, also for StackedRNNCells (Keras groups those per cell in eager calls, but the
        # functional graph here has flat outputs); `cell.nest_states(states)` regroups them.
        return (output, *states)

    def _check_inputs(self, x):
        self._check_rank(x.shape)

    def _run(self, sequences, states, mask, training):
        cell = self.cell
        kwargs = {"training": training} if getattr(cell, "_call_takes_training", False) else {}

        def step(x_t, states):
            output, new_states = cell(x_t, states, **kwargs)
            return output, (list(new_states) if isinstance(new_states, (list, tuple))
                            else [new_states])

        try:
            return time_loop(step, sequences, states, mask, self.go_backwards,
                             self.zero_output_for_mask, self.return_sequences)
        finally:
            for reset in ("reset_dropout_mask", "reset_recurrent_dropout_mask"):
                if hasattr(cell, reset):
                    getattr(cell, reset)()

    def _zero_states(self, batch, like):
        get = getattr(self.cell, "get_initial_state", None)
        if get is not None:
            states = _flatten(get(batch_size=batch))
            return [s.to(device=like.device, dtype=like.dtype) for s in states]
        return [like.new_zeros(batch, size) for size in self.state_size]

    def _initial_states(self, sequences, initial_state):
        batch = sequences.shape[0]
        if initial_state is None:
            if not self.stateful:
                return self._zero_states(batch, sequences)
            if self._states is None:
                self._states = self._zero_states(batch, sequences)
            elif self._states[0].shape[0] != batch:
                raise ValueError(f"Layer '{self.name}' is stateful: the batch size of the input "
                                 f"sequences must stay {self._states[0].shape[0]}. Received: "
                                 f"batch size {batch}")
            return self._states
        initial_state = _flatten(initial_state)
        states = [s if isinstance(s, torch.Tensor) else torch.as_tensor(np.asarray(s))
                  for s in initial_state]
        states = [s.to(device=sequences.device, dtype=sequences.dtype) for s in states]
        if len(states) != len(self.state_size):
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) expects "
                             f"{len(self.state_size)} initial state tensor(s). Received: "
                             f"{len(states)}")
        for s, size in zip(states, self.state_size):
            if tuple(s.shape) != (batch, size):
                raise ValueError(f"Layer '{self.name}' expects initial states of shape "
                                 f"{(batch, size)}. Received: initial_state shape "
                                 f"{tuple(s.shape)}")
        return states

    @property
    def states(self):
        return self._states

    def count_params(self):
        if not self.built:
            return super().count_params()  # raises the base's "not built" error
        return keras_param_count(self)

    def reset_state(self):
        if self._states is not None:  # new tensors: the old ones may be saved for backward
            self._states = [torch.zeros_like(s) for s in self._states]

    reset_states = reset_state

    # ------------------------------------------------------------------ shapes, masks, config
    def compute_output_shape(self, sequences_shape, initial_state_shape=None, **kwargs):
        batch, length = sequences_shape[0], sequences_shape[1]
        size = getattr(self.cell, "output_size", None) or self.state_size[0]
        output = (batch, length, size) if self.return_sequences else (batch, size)
        if self.return_state:
            return (output, *[(batch, s) for s in self.state_size])
        return output

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if mask is not None and not isinstance(mask, torch.Tensor):
            mask = as_mask(mask, inputs)
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(self.state_size)
        return output_mask

    def _flags_config(self):
        return {**Layer.get_config(self), "return_sequences": self.return_sequences,
                "return_state": self.return_state, "go_backwards": self.go_backwards,
                "stateful": self.stateful, "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask}

    def get_config(self):
        cell = serialize(self.cell)
        cell["module"] = "keras.layers"
        return {**self._flags_config(), "cell": cell}

    @classmethod
    def from_config(cls, config):
        from kerastorch.layers.rnn_wrappers import deserialize_layer
        config = dict(config)
        cell = deserialize_layer(config.pop("cell"))
        return super().from_config({**config, "cell": cell})
