"""`clone_model`: the same architecture with new layers, hence new (re-initialised) weights."""

from kerastorch.layers.input_layer import Input, InputLayer, KerasTensor
from kerastorch.models.functional import Functional, _flatten
from kerastorch.models.sequential import Sequential


def clone_model(model, input_tensors=None, clone_function=None, call_function=None,
                recursive=False):
    """Clone a Sequential or functional model: new layers with the same configs.

    Args:
        model: A `Sequential` or functional `Model`.
        input_tensors: Optional `Input()` tensor(s) to build the clone on (same structure as
            `model.input`); default: new inputs with the same shapes, dtypes and names.
        clone_function: `fn(layer) -> layer` used for every non-input layer; default
            `layer.__class__.from_config(layer.get_config())`. A layer shared by several calls
            is cloned once.
        call_function: Functional models only: `fn(layer, *args, **kwargs)` replacing each
            layer call (default: `layer(*args, **kwargs)`).
        recursive: Clone nested Sequential/functional models with `clone_model` (same
            arguments) instead of `clone_function`.

    Other models are cloned through their config (`get_config()` / `from_config()`). The
    clone is not compiled.
    """
    clone = _cached_clone_function(clone_function, call_function, recursive)
    if isinstance(model, Sequential):
        if call_function is not None:
            raise ValueError("`call_function` argument is not supported with Sequential "
                             "models: their layers aren't called at model-construction time. "
                             f"Received model of type '{type(model).__name__}'.")
        return _clone_sequential(model, clone, input_tensors)
    if isinstance(model, Functional):
        return _clone_functional(model, clone, call_function, input_tensors)
    if clone_function is not None or input_tensors is not None or call_function is not None:
        raise ValueError("Arguments `clone_function`, `call_function` and `input_tensors` are "
                         "only supported for Sequential or Functional models. Received model "
                         f"of type '{type(model).__name__}'.")
    from kerastorch.saving.serialization import (deserialize_keras_object,
                                                 serialize_keras_object)
    return deserialize_keras_object(serialize_keras_object(model),
                                    custom_objects={type(model).__name__: type(model)})


def _cached_clone_function(clone_function, call_function, recursive):
    cache = {}

    def default(layer):
        return layer.__class__.from_config(layer.get_config())

    def clone(layer):
        if id(layer) not in cache:
            if recursive and isinstance(layer, Sequential):
                cache[id(layer)] = clone_model(layer, clone_function=clone_function,
                                               recursive=True)
            elif recursive and isinstance(layer, Functional):
                cache[id(layer)] = clone_model(layer, clone_function=clone_function,
                                               call_function=call_function, recursive=True)
            else:
                cache[id(layer)] = (clone_function or default)(layer)
        return cache[id(layer)]

    return clone


def _clone_sequential(model, clone, input_tensors):
    layers = [clone(layer) for layer in model.layers]
    if input_tensors is not None:
        if isinstance(input_tensors, (list, tuple)):
            if len(input_tensors) != 1:
                raise ValueError("Argument `input_tensors` must contain a single tensor.")
            input_tensors = input_tensors[0]
        if not isinstance(input_tensors, KerasTensor):
            raise ValueError("Argument `input_tensors` must be a KerasTensor. Received invalid "
                             f"value: input_tensors={input_tensors!r}")
        layers = [input_tensors, *layers]
    else:
        shape = model._known_input_shape()
        if shape is not None:
            ref = model._input_layer
            layers = [Input(batch_shape=shape, dtype=ref.dtype if ref else model.dtype,
                            name=ref.name if ref else None), *layers]
    return Sequential(layers, name=model.name, trainable=model.trainable)


def _map(fn, structure):
    if isinstance(structure, KerasTensor):
        return fn(structure)
    if isinstance(structure, dict):
        return {k: _map(fn, v) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(_map(fn, v) for v in structure)
    return structure


def _clone_functional(model, clone, call_function, input_tensors):
    if input_tensors is None:
        new_inputs = _map(lambda t: Input(batch_shape=t.shape, dtype=t.dtype,
                                          name=t._keras_history[0].name), model.input)
    else:
        new_inputs = input_tensors
        flat = _flatten(new_inputs)
        if len(flat) != len(model.inputs) or not all(isinstance(t, KerasTensor) for t in flat):
            raise ValueError("`input_tensors` must have the same structure as model.input, "
                             "with KerasTensors as entries.\nReference structure: "
                             f"{model.input}\nReceived structure: {input_tensors}")
    new_of = {id(old): new for old, new in zip(model.inputs, _flatten(new_inputs))}
    for node in model._nodes:
        layer = node.layer
        if isinstance(layer, InputLayer):
            continue
        args = _map(lambda t: new_of[id(t)], node.args)
        kwargs = _map(lambda t: new_of[id(t)], dict(node.kwargs))
        new_layer = clone(layer)
        if call_function is not None:
            outputs = call_function(new_layer, *args, **kwargs)
        else:
            outputs = new_layer(*args, **kwargs)
        for old, new in zip(node.outputs, _flatten(outputs)):
            new_of[id(old)] = new
    outputs = _map(lambda t: new_of[id(t)], model.output)
    cls = type(model) if type(model).__init__ is Functional.__init__ else Functional
    return cls(new_inputs, outputs, name=model.name)
