"""`Input`, `InputLayer` and `KerasTensor`: the symbolic tensors the functional API records.

A `KerasTensor` carries a shape (batch as `None`), a dtype and the node that produced it.
Output shapes come from a layer's `compute_output_shape`, whose default runs the layer on fake
tensors (`torch._subclasses.FakeTensorMode`): no memory, no compute, any layer.
"""

import torch
from torch._subclasses.fake_tensor import FakeTensorMode

from kerastorch import config
from kerastorch.layers.layer import Layer, standardize_shape

_PLACEHOLDER_BATCH = 2  # stands in for a `None` batch dimension in shape inference


class KerasTensor:
    """A symbolic tensor: `shape` (with `None` batch), `dtype`, and its producing node."""

    def __init__(self, shape, dtype="float32", name=None, history=None):
        self.shape = standardize_shape(shape)
        self.dtype = dtype
        self.name = name
        self._keras_history = history  # (layer, node_index, tensor_index)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    # Operators record Keras' ops (`symbolic_ops`); `==` stays identity, as in Keras.
    def __iter__(self):
        raise NotImplementedError("Iterating over a symbolic KerasTensor is not supported.")

    def __bool__(self):
        raise TypeError("A symbolic KerasTensor cannot be used as a boolean.")

    def __getitem__(self, key):
        return _op("GetItem", self, key)

    def __neg__(self):
        return _op("Negative", self)

    def __abs__(self):
        return _op("Absolute", self)

    def __invert__(self):
        return _op("LogicalNot", self)

    def __ne__(self, other):
        return _op("NotEqual", self, other)

    __hash__ = object.__hash__


def _op(keras_class_name, *args):
    from kerastorch.layers.symbolic_ops import symbolic_call
    return symbolic_call(keras_class_name, None, args)


def _binary(keras_class_name, reflected=False):
    if reflected:
        def method(self, other):
            return _op(keras_class_name, other, self)
    else:
        def method(self, other):
            return _op(keras_class_name, self, other)
    return method


for _name, _cls in (("add", "Add"), ("sub", "Subtract"), ("mul", "Multiply"),
                    ("matmul", "Matmul"), ("truediv", "TrueDivide"), ("floordiv", "FloorDivide"),
                    ("mod", "Mod"), ("pow", "Power"), ("and", "LogicalAnd"),
                    ("or", "LogicalOr"), ("xor", "LogicalXor")):
    setattr(KerasTensor, f"__{_name}__", _binary(_cls))
    setattr(KerasTensor, f"__r{_name}__", _binary(_cls, reflected=True))
for _name, _cls in (("lt", "Less"), ("le", "LessEqual"), ("gt", "Greater"),
                    ("ge", "GreaterEqual")):
    setattr(KerasTensor, f"__{_name}__", _binary(_cls))
del _name, _cls


class Node:
    """One call of `layer` on symbolic `args`/`kwargs` that produced `outputs`."""

    def __init__(self, layer, args, kwargs, outputs, structure=None):
        self.layer, self.args, self.kwargs, self.outputs = layer, args, kwargs, outputs
        self.structure = outputs[0] if structure is None and len(outputs) == 1 else structure


class InputLayer(Layer):
    """The layer behind `Input`: identity, carries the model's input shape."""

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=False, batch_shape=None,
                 input_tensor=None, optional=False, name=None, ragged=False, **kwargs):
        if "input_shape" in kwargs and shape is None:
            shape = kwargs.pop("input_shape")
        if "batch_input_shape" in kwargs and batch_shape is None:
            batch_shape = kwargs.pop("batch_input_shape")
        super().__init__(name=name, dtype=dtype, **kwargs)
        if sparse or ragged:
            raise NotImplementedError("kerastorch has no sparse or ragged inputs: pass dense "
                                      "arrays.")
        if batch_shape is None:
            if shape is None:
                raise ValueError("InputLayer needs `shape` (one sample's shape) or "
                                 "`batch_shape`. Received neither.")
            batch_shape = (batch_size, *standardize_shape(shape))
        self.batch_shape = standardize_shape(batch_shape)
        self._batch_input_shape = self.batch_shape
        self.built = True
        tensor = KerasTensor(self.batch_shape, self.dtype, name=self.name, history=(self, 0, 0))
        self._inbound_nodes = [Node(self, (), {}, [tensor])]  # `self.output` is this tensor

    def call(self, inputs):
        return inputs

    def get_config(self):
        return {"batch_shape": self.batch_shape, "dtype": self.dtype, "sparse": False,
                "ragged": False, "name": self.name, "optional": False}


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None,
          tensor=None, optional=False):
    """A symbolic input: `keras.Input(shape=(784,))` -> KerasTensor of shape (None, 784)."""
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=bool(sparse),
                       batch_shape=batch_shape, name=name)
    return layer.output


def _fake_input(shape, dtype=None):
    shape = tuple(_PLACEHOLDER_BATCH if d is None else d for d in shape)
    return torch.empty(shape, dtype=dtype or config.float_dtype())


def _to_shapes(out, batch_unknown):
    if isinstance(out, torch.Tensor):
        shape = tuple(out.shape)
        return (None, *shape[1:]) if batch_unknown and shape else shape
    if isinstance(out, (list, tuple)):
        return type(out)(_to_shapes(o, batch_unknown) for o in out)
    if isinstance(out, dict):
        return {k: _to_shapes(v, batch_unknown) for k, v in out.items()}
    return out


def _map_shapes(fn, shapes):
    if isinstance(shapes, list) or (isinstance(shapes, tuple) and shapes
                                    and isinstance(shapes[0], (tuple, list, dict))):
        return type(shapes)(_map_shapes(fn, s) for s in shapes)
    if isinstance(shapes, dict):
        return {k: _map_shapes(fn, v) for k, v in shapes.items()}
    return fn(shapes)


def meta_output_shape(layer, input_shape, **call_kwargs):
    """Output shape(s) of `layer` for `input_shape` from a run on fake tensors (or, when the
    layer's call cannot run on them, on small zero tensors: see `_run_for_shapes`)."""
    if not layer.built:
        layer.build(input_shape)
        layer.built = True
        layer._build_shapes = input_shape
    flat_first = input_shape
    while isinstance(flat_first, (list, tuple)) and flat_first and \
            isinstance(flat_first[0], (list, tuple)):
        flat_first = flat_first[0]
    batch_unknown = bool(flat_first) and flat_first[0] is None
    out = _run_for_shapes(layer, lambda make: ((_map_shapes(
        lambda shape: make(shape, None), input_shape),), call_kwargs))
    return _to_shapes(out, batch_unknown)


def _zeros_input(shape, dtype=None):
    shape = tuple(_PLACEHOLDER_BATCH if d is None else d for d in shape)
    return torch.zeros(shape, dtype=dtype or config.float_dtype())


def _run_for_shapes(layer, make_arguments):
    """`layer.call(*args, **kwargs)` on stand-in tensors, for the shapes of what it returns.

    `make_arguments(make)` gives `(args, kwargs)`, its tensors made by `make(shape, dtype)`.
    First on fake tensors (no memory, no compute). A call that cannot run on them (a value read
    with `.item()`, `nonzero`, Python control flow on values, a generator's random numbers)
    runs again on zero tensors of the same shapes on the CPU, as Keras' torch backend does.
    Weights that sub-layers make meanwhile are real either way (`Layer._build_from` builds
    outside the fake mode)."""
    losses = {id(sub): len(sub._losses) for sub in layer._flatten_layers()}
    try:
        with FakeTensorMode(allow_non_fake_inputs=True), torch.no_grad():
            args, kwargs = make_arguments(_fake_input)
            return layer.call(*args, **kwargs)
    except Exception as fake_error:  # noqa: BLE001 (any failure on fakes: try real zeros)
        try:
            with torch.no_grad():
                args, kwargs = make_arguments(_zeros_input)
                return layer.call(*args, **kwargs)
        except Exception as err:
            raise ValueError(
                f"Layer '{layer.name}' ({type(layer).__name__}) could not infer the shape of "
                f"its output on symbolic inputs: its `call` failed on fake tensors "
                f"({type(fake_error).__name__}: {fake_error}) and on zero tensors of the input "
                f"shapes ({type(err).__name__}: {err}). Implement `compute_output_shape` for "
                "it, or call it on real data.") from err
    finally:
        for sub in layer._flatten_layers():  # `add_loss` of the stand-in run: not real losses
            del sub._losses[losses.get(id(sub), 0):]


def _stand_ins(structure, make):
    """`structure` with each KerasTensor replaced by `make(shape, torch dtype)`."""
    if isinstance(structure, KerasTensor):
        dtype = getattr(torch, structure.dtype) if isinstance(structure.dtype, str) else None
        return make(structure.shape, dtype)
    if isinstance(structure, dict):
        return {k: _stand_ins(v, make) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(_stand_ins(v, make) for v in structure)
    return structure


def _general_output_shapes(layer, args, kwargs):
    """Output shapes of a call with several positional tensors, nested structures, or extra
    keyword arguments (tensors or not): the whole call runs on stand-ins."""
    kwargs = dict(kwargs)
    if "training" in kwargs and not layer._call_takes_training:
        del kwargs["training"]
    if "mask" in kwargs and not layer._call_takes_mask:
        del kwargs["mask"]
    leaves = flatten_keras_tensors((args, kwargs))
    batch_unknown = bool(leaves) and bool(leaves[0].shape) and leaves[0].shape[0] is None
    out = _run_for_shapes(layer, lambda make: (_stand_ins(args, make),
                                               _stand_ins(kwargs, make)))
    return _to_shapes(out, batch_unknown)


def flatten_keras_tensors(structure) -> list:
    """The KerasTensors in `structure` (nested lists, tuples, dicts), in order."""
    if isinstance(structure, KerasTensor):
        return [structure]
    if isinstance(structure, dict):
        return [t for v in structure.values() for t in flatten_keras_tensors(v)]
    if isinstance(structure, (list, tuple)):
        return [t for v in structure for t in flatten_keras_tensors(v)]
    return []


def call_symbolic(layer, args, kwargs):
    """Record `layer(*args, **kwargs)` on KerasTensors; the functional API builds on this."""
    inputs = args[0] if args else kwargs.get("inputs")
    shapes = _map_shapes(lambda t: t.shape, inputs) if not isinstance(inputs, KerasTensor) \
        else inputs.shape
    if isinstance(inputs, (list, tuple)):
        shapes = type(inputs)(t.shape for t in inputs)
    if not layer.built:
        layer._build_shapes = shapes
        layer.build(shapes)
        layer.built = True
    else:
        layer.check_input_shape(shapes)
    extra = {k: v for k, v in kwargs.items() if k not in ("training", "mask", "inputs")}
    own_shapes = type(layer).compute_output_shape is not Layer.compute_output_shape
    if not own_shapes:
        # the whole call runs on stand-ins: several positional tensors, nested structures,
        # keyword arguments (tensors or not) all reach `call` as given
        out_shapes = _general_output_shapes(layer, args, kwargs)
    elif extra:
        out_shapes = layer.compute_output_shape(shapes, **extra)
    else:
        out_shapes = layer.compute_output_shape(shapes)
    nodes = layer.__dict__.setdefault("_inbound_nodes", [])
    node_index = len(nodes)
    if isinstance(out_shapes, tuple) and (not out_shapes or not isinstance(out_shapes[0],
                                                                           (tuple, list))):
        outputs = KerasTensor(out_shapes, layer.compute_dtype, name=layer.name,
                              history=(layer, node_index, 0))
        flat = [outputs]
    else:
        flat = [KerasTensor(s, layer.compute_dtype, name=layer.name,
                            history=(layer, node_index, i))
                for i, s in enumerate(out_shapes)]
        outputs = type(out_shapes)(flat) if isinstance(out_shapes, (list, tuple)) else flat
    nodes.append(Node(layer, args, kwargs, flat, structure=outputs))
    return outputs
