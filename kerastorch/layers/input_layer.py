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
    """Output shape(s) of `layer` for `input_shape` from a run on fake tensors."""
    if not layer.built:
        layer.build(input_shape)
        layer.built = True
        layer._build_shapes = input_shape
    flat_first = input_shape
    while isinstance(flat_first, (list, tuple)) and flat_first and \
            isinstance(flat_first[0], (list, tuple)):
        flat_first = flat_first[0]
    batch_unknown = bool(flat_first) and flat_first[0] is None
    with FakeTensorMode(allow_non_fake_inputs=True), torch.no_grad():
        inputs = _map_shapes(_fake_input, input_shape)
        out = layer.call(inputs, **call_kwargs)
    return _to_shapes(out, batch_unknown)


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
    out_shapes = layer.compute_output_shape(shapes, **extra) if extra else \
        layer.compute_output_shape(shapes)
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
