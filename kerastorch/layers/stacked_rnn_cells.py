"""`StackedRNNCells`: several recurrent cells run as one, each feeding the next."""

import torch
from torch import nn

from kerastorch.layers.layer import Layer
from kerastorch.layers.rnn_cells import keras_param_count
from kerastorch.layers.rnn_wrappers import deserialize_layer, serialize_layer


def _sizes(state_size):
    return list(state_size) if isinstance(state_size, (list, tuple)) else [state_size]


class StackedRNNCells(Layer):
    """Wraps a list of cells so that `RNN` runs them as one: at each step the first cell takes
    the input, each next cell the previous cell's output, and the output is the last cell's.
    `RNN([cell1, cell2])` builds one.

    Args:
        cells: List of cells (each with `call(inputs, states)` and a `state_size`).

    `state_size` is the list of the cells' state sizes (nested, as in Keras). `call(inputs,
    states)` takes the states nested per cell (Keras' form; what it returns for each cell
    keeps the form it was given: a list, or a tensor) or flat, one tensor per state in cell
    order (what kerastorch's `RNN` passes), and returns them in the same form.
    The cells are the sub-module list `cells` (state dict keys `cells.0.weight_ih`, ...).
    `RNN(..., return_state=True)` returns the states flat, `[output, *states]` (Keras' eager
    call groups them per cell; `nest_states` regroups).
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        cells = list(cells)
        for cell in cells:
            if not hasattr(cell, "call"):
                raise ValueError("All cells must have a `call` method. Received cell without a "
                                 f"`call` method: {cell}")
            if not hasattr(cell, "state_size"):
                raise ValueError("All cells must have a `state_size` attribute. Received cell "
                                 f"without a `state_size`: {cell}")
        if all(isinstance(c, nn.Module) for c in cells):
            self.cells = nn.ModuleList(cells)
        else:
            self.cells = cells

    def _sublayers(self):
        return [c for c in self.cells if isinstance(c, Layer)]

    @property
    def state_size(self):
        return [c.state_size for c in self.cells]

    @property
    def output_size(self):
        last = self.cells[-1]
        if getattr(last, "output_size", None) is not None:
            return last.output_size
        return _sizes(last.state_size)[0]

    def get_initial_state(self, batch_size=None):
        states = []
        for cell in self.cells:
            get = getattr(cell, "get_initial_state", None)
            if get is not None:
                states.append(get(batch_size=batch_size))
            elif isinstance(cell.state_size, int):
                states.append(torch.zeros(batch_size, cell.state_size))
            else:
                states.append([torch.zeros(batch_size, d) for d in cell.state_size])
        return states

    def build(self, input_shape):
        batch = input_shape[0]
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell.build(tuple(input_shape))
                cell.built = True
                cell._build_shapes = tuple(input_shape)
            output_dim = getattr(cell, "output_size", None) or _sizes(cell.state_size)[0]
            input_shape = (batch, output_dim)
        self.built = True

    def call(self, inputs, states, training=None):
        counts = [len(_sizes(c.state_size)) for c in self.cells]
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        flat = len(states) == sum(counts) and all(isinstance(s, torch.Tensor) for s in states)
        if flat:
            groups, start = [], 0
            for n in counts:
                groups.append(states[start:start + n])
                start += n
        else:
            groups = states
        new_states = []
        for cell, cell_states in zip(self.cells, groups):
            is_list = isinstance(cell_states, (list, tuple))
            cell_states = list(cell_states) if is_list else [cell_states]
            kwargs = {"training": training} if getattr(cell, "_call_takes_training", False) \
                else {}
            call = cell if callable(cell) else cell.call
            inputs, cell_states = call(inputs, cell_states, **kwargs)
            cell_states = list(cell_states) if isinstance(cell_states, (list, tuple)) \
                else [cell_states]
            if flat:
                new_states.extend(cell_states)
            else:
                new_states.append(cell_states[0] if len(cell_states) == 1 and not is_list
                                  else cell_states)
        if not flat and len(new_states) == 1:
            new_states = new_states[0]
        return inputs, new_states

    def nest_states(self, flat_states):
        """Flat states (cell order) grouped per cell as Keras' eager `RNN(return_state=True)`
        returns them: per cell a list (a tensor for a cell with one int state and no
        `get_initial_state`). kerastorch's `RNN` returns the states flat (one tensor per state,
        in cell order: the functional graph's outputs are flat); this regroups them."""
        out, start = [], 0
        for cell in self.cells:
            n = len(_sizes(cell.state_size))
            group = list(flat_states[start:start + n])
            start += n
            plain = isinstance(cell.state_size, int) and not hasattr(cell, "get_initial_state")
            out.append(group[0] if plain else group)
        return out

    def reset_dropout_mask(self):
        for cell in self.cells:
            if hasattr(cell, "reset_dropout_mask"):
                cell.reset_dropout_mask()

    def reset_recurrent_dropout_mask(self):
        for cell in self.cells:
            if hasattr(cell, "reset_recurrent_dropout_mask"):
                cell.reset_recurrent_dropout_mask()

    def count_params(self):
        if not self.built:
            return super().count_params()
        return keras_param_count(self)

    def get_config(self):
        return {**super().get_config(), "cells": [serialize_layer(c) for c in self.cells]}

    @classmethod
    def from_config(cls, config_):
        config_ = dict(config_)
        config_["cells"] = [deserialize_layer(c) for c in config_["cells"]]
        return super().from_config(config_)
