"""A functional model's config in Keras 3's structure, and the model rebuilt from one.

`layers` lists each layer's config with its `name` and `inbound_nodes` (the calls that belong to
this model, each `{"args": [...], "kwargs": {...}}` with tensors written as
`{"class_name": "__keras_tensor__", "config": {"shape", "dtype", "keras_history"}}`, history
`[layer_name, node_index, tensor_index]`); `input_layers` / `output_layers` name the model's
input and output tensors the same way, in the structure the model was built with.

Node indices count only the calls that belong to the model (a shared layer also called outside
it keeps Keras' numbering). Keras quirk kept for compatibility: in `input_layers` /
`output_layers` a nested functional model's node index is one more than in `inbound_nodes`.
"""

from kerastorch.layers.input_layer import InputLayer, KerasTensor
from kerastorch.layers.layer import Layer
from kerastorch.saving.serialization import deserialize_keras_object, serialize_keras_object


def _map(fn, structure):
    if isinstance(structure, KerasTensor):
        return fn(structure)
    if isinstance(structure, dict):
        return {k: _map(fn, v) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return [_map(fn, v) for v in structure]
    return serialize_keras_object(structure)


def is_functional_model(layer) -> bool:
    from kerastorch.models.functional import Functional
    return isinstance(layer, Functional)


def layer_entry(layer) -> dict:
    """`serialize_keras_object(layer)` without the input-shape key Keras 3 never writes (a
    model's InputLayer carries the shape)."""
    entry = serialize_keras_object(layer)
    if isinstance(entry.get("config"), dict):
        entry["config"].pop("batch_input_shape", None)
    return entry


def functional_get_config(model) -> dict:
    own = {id(node) for node in model._nodes}

    def kept(layer, index):
        return isinstance(layer, InputLayer) or id(layer._inbound_nodes[index]) in own

    def history(tensor, offset=0):
        layer, index, tensor_index = tensor._keras_history
        new_index = sum(1 for i in range(index) if kept(layer, i))
        if offset and is_functional_model(layer):
            new_index += offset
        return [layer.name, new_index, tensor_index]

    def tensor_config(tensor):
        return {"class_name": "__keras_tensor__",
                "config": {"shape": list(tensor.shape), "dtype": tensor.dtype,
                           "keras_history": history(tensor)}}

    layer_configs = []
    for layer in model._operations:
        nodes = []
        for index, node in enumerate(layer.__dict__.get("_inbound_nodes", ())):
            if isinstance(layer, InputLayer) or not kept(layer, index):
                continue
            nodes.append({"args": _map(tensor_config, list(node.args)),
                          "kwargs": _map(tensor_config, dict(node.kwargs))})
        entry = layer_entry(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = nodes
        layer_configs.append(entry)
    return {
        "name": model.name,
        "trainable": model.trainable,
        "layers": layer_configs,
        "input_layers": _map(lambda t: history(t, 1), model._inputs_struct),
        "output_layers": _map(lambda t: history(t, 1), model._outputs_struct),
    }


class _NotReady(Exception):
    """A node refers to a call of another layer that has not been replayed yet."""


def _revive(value, created):
    """Node data from JSON -> call arguments, `__keras_tensor__` entries -> live tensors."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            name, index, tensor_index = value["config"]["keras_history"]
            if name not in created:
                raise ValueError(f"Invalid Functional model configuration: unknown layer "
                                 f"'{name}' in an inbound node.")
            nodes = created[name].__dict__.get("_inbound_nodes", [])
            if len(nodes) <= index:
                raise _NotReady
            return nodes[index].outputs[tensor_index]
        if "class_name" in value and "config" in value:
            return deserialize_keras_object(value)
        return {k: _revive(v, created) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_revive(v, created) for v in value]
    return value


def _node_call(node_data, created):
    if isinstance(node_data, list):  # Keras 2: [[layer, node, tensor(, kwargs)], ...]
        tensors, kwargs = [], {}
        for ref in node_data:
            tensors.append(_revive({"class_name": "__keras_tensor__",
                                    "config": {"keras_history": ref[:3]}}, created))
            kwargs = ref[3] if len(ref) > 3 else kwargs
        return [tensors[0] if len(tensors) == 1 else tensors], dict(kwargs)
    args = _revive(node_data.get("args", []), created)
    kwargs = _revive(node_data.get("kwargs", {}), created)
    # Keras records `mask: null` and `training: false` on calls that did not pass them, and
    # at run time lets the outer call's `training` win over the recorded one; kept here, a
    # recorded False would switch Dropout off inside fit().
    for key in ("mask", "training"):
        if key in kwargs and not kwargs[key]:
            del kwargs[key]
    return args, kwargs


def functional_from_config(cls, config, custom_objects=None):
    """Rebuild the graph: create every layer, then replay the recorded calls on KerasTensors
    in dependency order (a shared layer's calls in their recorded order)."""
    config = dict(config)
    created, pending = {}, {}
    for layer_data in config["layers"]:
        layer = deserialize_keras_object(layer_data, custom_objects=custom_objects)
        if not isinstance(layer, Layer):
            raise ValueError(f"Expected a layer from the config of '{layer_data.get('name')}', "
                             f"got {type(layer).__name__}.")
        name = layer_data.get("name", layer.name)
        created[name] = layer
        pending[name] = list(layer_data.get("inbound_nodes") or [])
    while any(pending.values()):
        progressed = False
        for name, queue in pending.items():
            while queue:
                try:
                    args, kwargs = _node_call(queue[0], created)
                except _NotReady:
                    break
                created[name](*args, **kwargs)
                queue.pop(0)
                progressed = True
        if not progressed:
            stuck = [name for name, queue in pending.items() if queue]
            raise ValueError("Invalid Functional model configuration. The graph of the "
                             "Functional model either has loops or disconnected nodes. These "
                             f"layers' calls could not be resolved: {stuck}")

    def tensor(ref):
        name, index, tensor_index = ref
        if name not in created:
            raise ValueError(f"Invalid Functional model configuration: unknown layer '{name}'.")
        layer = created[name]
        if is_functional_model(layer):
            index -= 1
        return layer._inbound_nodes[index].outputs[tensor_index]

    def refs(structure):
        if isinstance(structure, list) and len(structure) == 3 and isinstance(structure[0], str):
            return tensor(structure)
        if isinstance(structure, dict):
            return {k: refs(v) for k, v in structure.items()}
        return [refs(v) for v in structure]

    return cls(refs(config["input_layers"]), refs(config["output_layers"]),
               name=config.get("name"), trainable=config.get("trainable", True))
