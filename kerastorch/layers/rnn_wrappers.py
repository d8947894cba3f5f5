"""Layer wrappers: `Bidirectional` (an RNN run both ways) and `TimeDistributed` (a layer applied
to every time step, by folding time into the batch: one call, not a loop over steps)."""

import torch

from kerastorch.layers.layer import InputShapeError, Layer
from kerastorch.layers.rnn_base import as_mask
from kerastorch.layers.rnn_cells import keras_param_count
from kerastorch.utils.registry import serialize

MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def serialize_layer(layer):
    config = serialize(layer)
    config["module"] = "keras.layers"
    return config


def deserialize_layer(config):
    """A layer from Keras' `{"class_name": ..., "config": ...}` (classes of `kerastorch.layers`,
    and this package's recurrent classes while they are not exported there yet)."""
    if isinstance(config, Layer):
        return config
    import kerastorch.layers as namespace
    from kerastorch.layers import recurrent, rnn_base, rnn_cells
    name = config.get("registered_name") or config["class_name"]
    for source in (namespace, recurrent, rnn_base, rnn_cells, globals()):
        cls = source.get(name) if isinstance(source, dict) else getattr(source, name, None)
        if isinstance(cls, type) and issubclass(cls, Layer):
            return cls.from_config(config.get("config") or {})
    raise ValueError(f"Unknown layer class: {name!r}. Received: config={config!r}")


def _without_prefix(name, prefix):
    return name[len(prefix):] if name.startswith(prefix) else name


# How Bidirectional joins the two directions' outputs (merge_mode None keeps both).
_MERGES = {"concat": lambda a, b: torch.cat([a, b], -1), "sum": lambda a, b: a + b,
           "ave": lambda a, b: (a + b) / 2, "mul": lambda a, b: a * b}


class Bidirectional(Layer):
    """Runs an RNN forwards and a copy backwards, and merges their outputs.

    Args:
        layer: An RNN layer (`LSTM`, `GRU`, `SimpleRNN`, `RNN`). The forward layer is rebuilt
            from its config (named `forward_<name>`), so the instance passed in is not used.
        merge_mode: `"concat"` (default), `"sum"`, `"mul"`, `"ave"`, or `None` (a list of both).
        weights: Optional initial weights (forward ones, then backward ones).
        backward_layer: Optional RNN for the backward direction (must have
            `go_backwards=True`); default: a copy of `layer` with `go_backwards=True`.

    With `return_sequences`, the backward outputs are flipped back to time order before merging,
    and masked steps output zeros (Keras sets `zero_output_for_mask`). With `return_state`, the
    forward states come before the backward ones. `initial_state`: forward states then backward.
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `Bidirectional` layer with a `keras.layers.Layer` "
                             f"instance. Received: layer={layer!r}")
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError("`backward_layer` needs to be a `keras.layers.Layer` instance. "
                             f"Received: backward_layer={backward_layer!r}")
        if merge_mode not in MERGE_MODES:
            raise ValueError("Invalid merge mode. Merge mode should be one of {'sum', 'mul', "
                             f"'ave', 'concat', None}}. Received: merge_mode={merge_mode!r}")
        super().__init__(**kwargs)
        config = layer.get_config()
        config["name"] = "forward_" + _without_prefix(layer.name, "forward_")
        self.forward_layer = type(layer).from_config(config)
        if backward_layer is None:
            config = layer.get_config()
            config["go_backwards"] = True
            config["name"] = "backward_" + _without_prefix(layer.name, "backward_")
            backward_layer = type(layer).from_config(config)
        self.backward_layer = backward_layer
        if hasattr(layer, "use_cudnn"):
            self.forward_layer.use_cudnn = self.backward_layer.use_cudnn = layer.use_cudnn
        self._verify_layer_config()
        for sub in (self.forward_layer, self.backward_layer):
            if getattr(sub, "zero_output_for_mask", None) is not None:
                sub.zero_output_for_mask = sub.return_sequences
        self.merge_mode = merge_mode
        self._initial_weights = weights
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True

    def _verify_layer_config(self):
        fwd, bwd = self.forward_layer, self.backward_layer
        if fwd.go_backwards == bwd.go_backwards:
            raise ValueError("Forward layer and backward layer should have different "
                             "`go_backwards` value. Received: forward_layer.go_backwards="
                             f"{fwd.go_backwards}, backward_layer.go_backwards="
                             f"{bwd.go_backwards}")
        for attr in ("stateful", "return_sequences", "return_state"):
            if getattr(fwd, attr) != getattr(bwd, attr):
                raise ValueError("Forward layer and backward layer are expected to have the "
                                 f'same value for attribute "{attr}", got "{getattr(fwd, attr)}" '
                                 f'for forward layer and "{getattr(bwd, attr)}" for backward '
                                 "layer")

    def build(self, sequences_shape, initial_state_shape=None):
        for sub in (self.forward_layer, self.backward_layer):
            if not sub.built:
                sub.build(sequences_shape)
                sub.built = True
                sub._build_shapes = sequences_shape
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def count_params(self):
        if not self.built:
            return super().count_params()
        return keras_param_count(self)

    def call(self, sequences, initial_state=None, mask=None, training=None):
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        y = self.forward_layer(sequences, initial_state=forward_state, mask=mask,
                               training=training)
        y_rev = self.backward_layer(sequences, initial_state=backward_state, mask=mask,
                                    training=training)
        states = ()
        if self.return_state:
            states = tuple(y[1:]) + tuple(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev.flip(1)
        merge = _MERGES.get(self.merge_mode)
        output = (y, y_rev) if merge is None else merge(y, y_rev)
        mask = as_mask(mask, sequences)
        if mask is not None and self.return_sequences:
            for out in (output if self.merge_mode is None else (output,)):
                out._keras_mask = mask  # the base attaches masks only to single outputs
        if not self.return_state:
            return output
        return (*output, *states) if self.merge_mode is None else (output, *states)

    def compute_output_shape(self, sequences_shape, initial_state_shape=None, **kwargs):
        shape = self.forward_layer.compute_output_shape(sequences_shape)
        state_shapes = ()
        if self.return_state:
            shape, state_shapes = shape[0], tuple(shape[1:])
        if self.merge_mode == "concat":
            shape = (*shape[:-1], shape[-1] * 2)
        if self.merge_mode is None:
            outputs = (tuple(shape), tuple(shape))
        else:
            outputs = (tuple(shape),)
        if self.return_state:
            return (*outputs, *state_shapes, *state_shapes)
        return outputs if self.merge_mode is None else outputs[0]

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if mask is not None and not isinstance(mask, torch.Tensor):
            mask = as_mask(mask, inputs)
        if self.return_sequences:
            output_mask = mask if self.merge_mode else [mask, mask]
        else:
            output_mask = None if self.merge_mode else [None, None]
        if self.return_state:
            n_states = len(self.forward_layer.state_size)
            head = output_mask if isinstance(output_mask, list) else [output_mask]
            return head + [None] * (2 * n_states)
        return output_mask

    @property
    def states(self):
        fwd, bwd = self.forward_layer.states, self.backward_layer.states
        return tuple(fwd) + tuple(bwd) if fwd and bwd else None

    def reset_state(self):
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    reset_states = reset_state

    def get_config(self):
        return {**super().get_config(), "merge_mode": self.merge_mode,
                "layer": serialize_layer(self.forward_layer),
                "backward_layer": serialize_layer(self.backward_layer)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["layer"] = deserialize_layer(config["layer"])
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize_layer(config["backward_layer"])
        return super().from_config(config)


class TimeDistributed(Layer):
    """Applies `layer` to every time step: input `(batch, time, ...)`, the layer sees
    `(batch * time, ...)` in one call (Keras loops over steps; the results are the same for
    layers that treat samples independently, i.e. all but BatchNormalization in training).

    Args:
        layer: A `Layer` instance (Dense, Conv2D, ...), shared by all steps.

    A `(batch, time)` mask is passed to the inner layer (as `(batch * time,)`) when its `call`
    takes one, and passes through unchanged.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `TimeDistributed` layer with a "
                             f"`keras.layers.Layer` instance. Received: layer={layer!r}")
        super().__init__(**kwargs)
        self.layer = layer
        self.supports_masking = True

    def _child_shape(self, input_shape):
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 3:
            raise InputShapeError(
                f"Layer '{self.name}' (TimeDistributed) should be passed an input with at least "
                f"3 dimensions (batch, time, ...). Received: input_shape={input_shape}")
        return (None if input_shape[0] is None or input_shape[1] is None
                else input_shape[0] * input_shape[1], *input_shape[2:])

    def build(self, input_shape):
        child_shape = self._child_shape(tuple(input_shape))
        if not self.layer.built:
            self.layer.build(child_shape)
            self.layer.built = True
            self.layer._build_shapes = child_shape
            if not self.layer.trainable:
                self.layer._set_requires_grad(False)
        self.built = True

    def count_params(self):
        if not self.built:
            return super().count_params()
        return keras_param_count(self)

    def call(self, inputs, training=None, mask=None):
        self._child_shape(tuple(inputs.shape))
        batch, steps = inputs.shape[:2]
        kwargs = {}
        if training is not None and self.layer._call_takes_training:
            kwargs["training"] = training
        if mask is not None and self.layer._call_takes_mask:
            mask = as_mask(mask, inputs)
            if tuple(mask.shape[:2]) != (batch, steps):
                raise ValueError(f"The `mask` passed to layer '{self.name}' (TimeDistributed) "
                                 f"has shape {tuple(mask.shape)}, incompatible with the input "
                                 f"shape {tuple(inputs.shape)}: the first two dimensions must "
                                 "match.")
            kwargs["mask"] = mask.flatten(0, 1)
        outputs = self.layer(inputs.flatten(0, 1), **kwargs)  # (batch * time, ...)
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(o.unflatten(0, (batch, steps)) for o in outputs)
        return outputs.unflatten(0, (batch, steps))

    def compute_output_shape(self, input_shape):
        child = self.layer.compute_output_shape(self._child_shape(tuple(input_shape)))
        return (input_shape[0], input_shape[1], *child[1:])

    def get_config(self):
        return {**super().get_config(), "layer": serialize_layer(self.layer)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["layer"] = deserialize_layer(config["layer"])
        return super().from_config(config)
