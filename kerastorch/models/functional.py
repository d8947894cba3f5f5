"""Functional models: `Model(inputs, outputs)` over the graph recorded by calling layers on
`Input()` tensors.

The graph is walked once, at construction, into a flat plan: one step per layer call, each
reading and writing slots of a list. `forward` runs the plan with no graph walking, so a
functional model costs what its layers cost.
"""

import torch

from kerastorch.layers.input_layer import InputLayer, KerasTensor
from kerastorch.layers.input_layer import flatten_keras_tensors as _flatten
from kerastorch.layers.layer import Layer
from kerastorch.layers.symbolic_ops import SymbolicOp
from kerastorch.models.model import Model
from kerastorch.trainers import data_adapters as da


def _keras_layer_order(flat_outputs) -> list:
    """Layers in Keras' order (`model.layers`, hence `get_weights`): by depth from the outputs,
    deepest first; ties by first visit of a depth-first walk from the outputs (Keras'
    `map_graph`)."""
    first_visit, post_order, finished = {}, [], set()

    def walk(tensor):
        layer, node_index, _ = tensor._keras_history
        node = layer._inbound_nodes[node_index]
        if id(node) in finished:
            return
        first_visit.setdefault(id(layer), (len(first_visit), layer))
        if not isinstance(layer, InputLayer):
            for t in _flatten((node.args, node.kwargs)):
                walk(t)
        finished.add(id(node))
        post_order.append(node)

    for out in flat_outputs:
        walk(out)
    node_depth, layer_depth = {}, {}
    for node in reversed(post_order):
        depth = node_depth.setdefault(id(node), 0)
        depth = max(depth, layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = depth
        node_depth[id(node)] = depth
        if not isinstance(node.layer, InputLayer):
            for t in _flatten((node.args, node.kwargs)):
                layer, index, _ = t._keras_history
                parent = layer._inbound_nodes[index]
                node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    return [layer for key, (index, layer) in sorted(
        first_visit.items(), key=lambda kv: (-layer_depth[kv[0]], kv[1][0]))]


def _template(structure, slot_of):
    """Replace every KerasTensor in `structure` by its slot index wrapped in `_Slot`."""
    if isinstance(structure, KerasTensor):
        return _Slot(slot_of[id(structure)])
    if isinstance(structure, dict):
        return {k: _template(v, slot_of) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(_template(v, slot_of) for v in structure)
    return structure


def _fill(template, values):
    if type(template) is _Slot:
        return values[template.index]
    if isinstance(template, dict):
        return {k: _fill(v, values) for k, v in template.items()}
    if isinstance(template, (list, tuple)):
        return type(template)(_fill(v, values) for v in template)
    return template


class _Slot:
    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


class Functional(Model):
    """A model defined by its input and output tensors (Keras' functional API).

    Args:
        inputs: An `Input()` tensor, or a list/dict of them.
        outputs: Tensors produced from `inputs` by calling layers; a tensor, list or dict.
        name: Model name.
    """

    _convert_input_args = False  # its layers cast their own inputs

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        flat_inputs, flat_outputs = _flatten(inputs), _flatten(outputs)
        if not flat_inputs or not flat_outputs:
            raise ValueError("`Model(inputs, outputs)` needs Input() tensors as `inputs` and "
                             "tensors computed from them as `outputs`. Received: "
                             f"inputs={inputs!r}, outputs={outputs!r}")
        for t in flat_inputs:
            if not isinstance(t._keras_history[0], InputLayer):
                raise ValueError(f"`inputs` must be tensors returned by `keras.Input()`. "
                                 f"Received: {t!r}")
        self.__dict__["_nodes"] = self._ordered_nodes(flat_inputs, flat_outputs)
        self._build_plan(flat_inputs, flat_outputs)
        operations, names = _keras_layer_order(flat_outputs), set()
        for layer in operations:
            if layer.name in names:
                raise ValueError(f"The name '{layer.name}' is used {2} times in the model. All "
                                 "layer names should be unique.")
            names.add(layer.name)
            if not isinstance(layer, SymbolicOp):  # ops: no weights, not in `model.layers`
                self._add_layer(layer)
        self.__dict__["_operations"] = operations
        self.built = True
        self._batch_input_shape = flat_inputs[0].shape
        self._build_shapes = flat_inputs[0].shape if len(flat_inputs) == 1 else None
        self.output_names = [t._keras_history[0].name for t in flat_outputs]
        if isinstance(outputs, dict):
            self.output_names = list(outputs)

    # ------------------------------------------------------------------ graph
    @staticmethod
    def _ordered_nodes(flat_inputs, flat_outputs):
        """Nodes from the inputs to the outputs in execution order (depth-first post-order)."""
        input_ids = {id(t) for t in flat_inputs}
        order, state = [], {}

        def visit(tensor, path):
            if id(tensor) in input_ids:
                return
            layer, node_index, _ = tensor._keras_history
            node = layer._inbound_nodes[node_index]
            if isinstance(layer, InputLayer):
                raise ValueError(
                    f"Output tensor {path[0]!r} is not connected to the model's inputs: it "
                    f"depends on Input '{layer.name}' (shape {layer.batch_shape}), which is not "
                    "in `inputs`. Add it to `inputs` or compute the output from the given "
                    "inputs.")
            if state.get(id(node)) == "done":
                return
            if state.get(id(node)) == "active":
                raise ValueError(f"The graph has a cycle through layer '{layer.name}'.")
            state[id(node)] = "active"
            for t in _flatten((node.args, node.kwargs)):
                visit(t, path)
            state[id(node)] = "done"
            order.append(node)

        for out in flat_outputs:
            visit(out, [out])
        return order

    def _build_plan(self, flat_inputs, flat_outputs):
        slot_of = {}
        for t in flat_inputs:
            slot_of[id(t)] = len(slot_of)
        steps = []
        for node in self._nodes:
            args = _template(node.args, slot_of) if node.args else ()
            kwargs = {k: _template(v, slot_of) for k, v in node.kwargs.items()}
            outs = []
            for t in node.outputs:
                slot_of[id(t)] = len(slot_of)
                outs.append(slot_of[id(t)])
            single = isinstance(node.structure, KerasTensor)
            simple = (len(args) == 1 and type(args[0]) is _Slot and not kwargs)
            callee = node.layer.run if isinstance(node.layer, SymbolicOp) else node.layer
            steps.append((callee, args, kwargs, outs, single, simple))
        self.__dict__["_steps"] = steps
        self.__dict__["_num_slots"] = len(slot_of)
        self.__dict__["_input_slots"] = [slot_of[id(t)] for t in flat_inputs]
        self.__dict__["_output_template"] = _template(self._outputs_struct, slot_of)
        self.__dict__["_flat_inputs"] = flat_inputs
        self.__dict__["_input_ranks"] = [len(t.shape) for t in flat_inputs]

    # ------------------------------------------------------------------ running
    def _feed(self, inputs):
        """User inputs (tensor, list or dict) -> values in the order of the model's inputs."""
        flat = self._flat_inputs
        if isinstance(inputs, dict):
            names = [t._keras_history[0].name for t in flat]
            keys = list(self._inputs_struct) if isinstance(self._inputs_struct, dict) else names
            missing = [k for k in keys if k not in inputs]
            if missing:
                raise ValueError(f"Model '{self.name}' expects inputs {keys}; missing {missing}.")
            return [inputs[k] for k in keys]
        if isinstance(inputs, (list, tuple)):
            if len(inputs) != len(flat):
                raise ValueError(f"Model '{self.name}' expects {len(flat)} input(s), but it "
                                 f"received {len(inputs)} input tensors.")
            return list(inputs)
        if len(flat) != 1 and type(inputs).__name__ == "Proxy":  # torch.fx tracing
            return [inputs[i] for i in range(len(flat))]
        if len(flat) != 1:
            raise ValueError(f"Model '{self.name}' expects {len(flat)} inputs, but it received "
                             "a single tensor.")
        return [inputs]

    def call(self, inputs, training=None, mask=None):
        values = [None] * self._num_slots
        ranks = self.__dict__.get("_input_ranks") or [len(t.shape) for t in self._flat_inputs]
        for slot, value, rank, t in zip(self._input_slots, self._feed(inputs), ranks,
                                        self._flat_inputs):
            if isinstance(value, torch.Tensor) and value.ndim != rank:  # not a torch.fx Proxy
                value = self._adjust_rank(value, rank, t)
            values[slot] = value
        for layer, args, kwargs, outs, single, simple in self._steps:
            if simple:
                result = layer(values[args[0].index])
            else:
                result = layer(*_fill(args, values), **_fill(kwargs, values))
            if single:
                values[outs[0]] = result
            else:
                for slot, value in zip(outs, result):
                    values[slot] = value
        return _fill(self._output_template, values)

    def _adjust_rank(self, value, rank, declared):
        """Keras' rule for an input one axis off its declared rank: a trailing axis of size 1
        is dropped (`(n, 3, 1)` for `(None, 3)`) or added (`(n, 3)` for `(None, 3, 1)`)."""
        if value.ndim == rank + 1 and value.shape[-1] == 1:
            return value.squeeze(-1)
        if value.ndim == rank - 1 and declared.shape[-1] == 1:
            return value.unsqueeze(-1)
        name = declared._keras_history[0].name
        raise ValueError(f"Invalid input shape for input {tuple(value.shape)} with name "
                         f"'{name}' of model '{self.name}'. Expected shape {declared.shape}, "
                         f"but input has incompatible shape {tuple(value.shape)}")

    def _build_from(self, inputs):  # built at construction
        self.built = True

    def _input_mismatch(self, inputs):
        feed = inputs if isinstance(inputs, (list, tuple, dict)) else [inputs]
        try:
            feed = self._feed(feed if len(self._flat_inputs) > 1 else inputs)
        except ValueError as err:
            return str(err)
        for t, value in zip(self._flat_inputs, feed):
            shape = tuple(getattr(value, "shape", ()))
            if len(shape) != len(t.shape) or any(
                    want is not None and want != have for want, have in zip(t.shape, shape)):
                return (f"input '{t._keras_history[0].name}' expects shape {t.shape}, "
                        f"received {shape}")
        return None

    # ------------------------------------------------------------------ Keras surface
    @property
    def inputs(self):
        return list(self._flat_inputs)

    @property
    def outputs(self):
        return _flatten(self._outputs_struct)

    input = property(lambda self: self._inputs_struct, doc="The inputs, as given.")
    output = property(lambda self: self._outputs_struct, doc="The outputs, as given.")

    @property
    def input_shape(self):
        shapes = [t.shape for t in self._flat_inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def layers(self):
        return [m for m in self.children() if isinstance(m, Layer)]

    def compute_output_shape(self, input_shape):
        return self.output_shape

    # ------------------------------------------------------------------ config
    def get_config(self):
        """Keras' functional config: `name`, `trainable`, `layers` (each with `inbound_nodes`),
        `input_layers`, `output_layers`. Subclasses with their own constructor use Layer's."""
        if not _functional_like_constructor(type(self)):
            return Model.get_config(self)
        from kerastorch.models.functional_config import functional_get_config
        return functional_get_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from kerastorch.models.functional_config import functional_from_config
        return functional_from_config(cls, config, custom_objects)

    def get_build_config(self):
        return {"input_shape": None}  # as Keras: built at construction

    @property
    def operations(self):
        """Layers and ops (`x * 2`, `x[:, :1]`) in Keras' order, as Keras' `operations`."""
        return list(self._operations)

    def _summary_rows(self):
        rows = []
        for layer in self._operations:
            nodes = [n for n in layer.__dict__.get("_inbound_nodes", ())
                     if n in self._nodes or isinstance(layer, InputLayer)]
            shape = None
            connected = "-"
            if nodes:
                outs = nodes[0].outputs
                shape = outs[0].shape if len(outs) == 1 else [o.shape for o in outs]
                parents = _flatten((nodes[0].args, nodes[0].kwargs))
                if parents:
                    connected = ", ".join(f"{p._keras_history[0].name}[{p._keras_history[1]}]"
                                          f"[{p._keras_history[2]}]" for p in parents)
            rows.append((layer.name, type(layer).__name__, shape,
                         layer.count_params() if layer.built else None, connected))
        return rows

    def summary(self, line_length=None, positions=None, print_fn=None, **kwargs):
        from kerastorch.utils import summary_utils
        sequential_like = all(len(_flatten((n.args, n.kwargs))) <= 1 for n in self._nodes) and \
            len(self._flat_inputs) == 1 and len(self.outputs) == 1
        rows = self._summary_rows()
        if sequential_like:
            rows = [r[:4] for r in rows]
        for line in summary_utils.summary_lines(self, rows, connected=not sequential_like):
            (print_fn or print)(line)


def _functional_like_constructor(cls) -> bool:
    import inspect
    if cls.__init__ is Functional.__init__:
        return True
    params = inspect.signature(cls.__init__).parameters.values()
    kinds = {p.kind for p in params}
    return inspect.Parameter.VAR_POSITIONAL in kinds and inspect.Parameter.VAR_KEYWORD in kinds


del da
