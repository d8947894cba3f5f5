"""`Sequential`: a plain stack of layers, each with one input and one output.

Layers are registered as submodules under their Keras names, so `state_dict()` keys read
`dense.weight`, `dense_1.bias`, ... (the plain torch `nn.Sequential` equivalent differs only in
key names).
"""

import torch
from torch import nn

from kerastorch.layers.input_layer import InputLayer, KerasTensor
from kerastorch.layers.layer import Layer, standardize_shape
from kerastorch.layers.layer_utils import InputShapeError
from kerastorch.models.model import Model


class Sequential(Model):
    """`Sequential([layer, ...])` or `add()` one layer at a time.

    The model is built as soon as its input shape is known (an `Input`, or `input_shape=` on
    the first layer), otherwise on its first call.
    """

    _convert_input_args = False  # its layers cast their own inputs

    def __init__(self, layers=None, trainable=True, name=None):
        super().__init__(name=name, trainable=trainable)
        self.__dict__["_stack"] = []  # plain list, not a submodule
        self.__dict__["_input_layer"] = None
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_build()

    def add(self, layer, rebuild=True):
        """Append a layer (or an `Input(...)` tensor / `InputLayer` to declare the input)."""
        if isinstance(layer, KerasTensor):
            history = layer._keras_history
            if history is None or not isinstance(history[0], InputLayer):
                raise ValueError("Only `Input(...)` tensors can be added to a Sequential model. "
                                 f"Received: {layer!r}")
            layer = history[0]
        if isinstance(layer, InputLayer):
            if self._stack or self._input_layer is not None:
                raise ValueError("An InputLayer can only be the first layer of a Sequential "
                                 f"model. Model '{self.name}' already has layers.")
            self.__dict__["_input_layer"] = layer
            return
        if not isinstance(layer, Layer):
            raise ValueError("Only instances of `keras.Layer` can be added to a Sequential "
                             f"model. Received: {layer!r} (of type {type(layer).__name__})")
        if any(existing.name == layer.name for existing in self._stack):
            raise ValueError(f"All layers added to a Sequential model should have unique names. "
                             f"Name '{layer.name}' is already the name of a layer in this model. "
                             "Update the `name` argument to pass a unique name.")
        self._add_layer(layer)
        self._stack.append(layer)
        self.built = False
        if rebuild:
            self._maybe_build()

    def pop(self, rebuild=True):
        """Remove and return the last layer."""
        if not self._stack:
            raise IndexError(f"There are no layers in model '{self.name}' to pop.")
        layer = self._stack.pop()
        del self._modules[layer.name]
        self.built = False
        if rebuild:
            self._maybe_build()
        return layer

    @property
    def layers(self) -> list:
        return list(self._stack)

    @property
    def input_shape(self):
        return self._batch_input_shape

    def _declared_input_shape(self):
        if self._input_layer is not None:
            return self._input_layer.batch_shape
        if self._stack and self._stack[0]._batch_input_shape is not None:
            return self._stack[0]._batch_input_shape
        return None

    def _maybe_build(self):
        shape = self._declared_input_shape()
        if shape is not None and self._stack:
            self.build(shape)

    def build(self, input_shape=None):
        """Build every layer from `input_shape` (batch included), recording output shapes."""
        input_shape = standardize_shape(input_shape) if input_shape is not None else \
            self._declared_input_shape()
        if input_shape is None:
            raise ValueError(f"Sequential model '{self.name}' cannot be built: its input shape "
                             "is unknown. Start it with `keras.Input(shape=...)` or call it on "
                             "data.")
        shape = input_shape
        for layer in self._stack:
            if not layer.built:
                layer._build_shapes = shape
                layer.build(shape)
                layer.built = True
            try:
                shape = layer.compute_output_shape(shape)
            except Exception as err:
                raise ValueError(f"Layer '{layer.name}' ({type(layer).__name__}) cannot take "
                                 f"inputs of shape {shape}: {err}") from err
            layer._summary_output_shape = shape
        self._batch_input_shape = input_shape
        self._build_shapes = input_shape
        self.output_shape = shape
        self._record_graph(input_shape)
        dev = next(iter(self.parameters()), None)
        if dev is not None:
            self.to(dev.device)
        self.built = True

    def _record_graph(self, input_shape):
        """The symbolic graph of the stack (Keras builds one with the model): `inputs`,
        `outputs`, and each layer's `input`/`output`, from the shapes `build` found."""
        from kerastorch.layers.input_layer import Input, Node
        if self._input_layer is not None:
            x = self._input_layer.output
        else:
            x = Input(batch_shape=input_shape, dtype=self._stack[0].compute_dtype
                      if self._stack else None)
        first = x
        for layer in self._stack:
            nodes = layer.__dict__.setdefault("_inbound_nodes", [])
            shape, index = layer._summary_output_shape, len(nodes)
            if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
                flat = [KerasTensor(s, layer.compute_dtype, name=layer.name,  # several outputs
                                    history=(layer, index, i)) for i, s in enumerate(shape)]
                out = type(shape)(flat)
            else:
                out = KerasTensor(shape, layer.compute_dtype, name=layer.name,
                                  history=(layer, index, 0))
                flat = [out]
            nodes.append(Node(layer, (x,), {}, flat, structure=out))
            x = out
        self.__dict__["_graph"] = ([first], list(x) if isinstance(x, (list, tuple)) else [x])

    def _graph_part(self, which):
        graph = self.__dict__.get("_graph")
        if graph is None or not self.built:
            raise AttributeError(f"Sequential model '{self.name}' has no defined {which} yet.")
        return graph[0 if which == "inputs" else 1]

    @property
    def inputs(self):
        """`[KerasTensor]`: the input of the model's symbolic graph (once built)."""
        return list(self._graph_part("inputs"))

    @property
    def outputs(self):
        """`[KerasTensor]`: the output of the model's symbolic graph (once built)."""
        return list(self._graph_part("outputs"))

    @property
    def input(self):
        return self._graph_part("inputs")[0]

    @property
    def output(self):
        return self._graph_part("outputs")[0]

    def _build_from(self, inputs):
        shape = tuple(inputs.shape)
        self.build((None, *shape[1:]))
        self.to(inputs.device)

    def call(self, inputs, training=None, mask=None):
        # Where `Layer.__call__` would only relay to `nn.Module.__call__` (built layer, plain
        # tensor of the layer's input dtype without a mask, no mask-making or activity
        # regularizer), go there directly.
        plain = type(inputs) is torch.Tensor and "_keras_mask" not in inputs.__dict__
        module_call = nn.Module.__call__
        for layer in self._stack:
            if plain and layer._plain_call and layer.built and not layer._computes_mask \
                    and layer.activity_regularizer is None and type(inputs) is torch.Tensor \
                    and _takes_as_is(layer, inputs):
                x = inputs
                try:
                    inputs = module_call(layer, x)
                except InputShapeError:
                    raise
                except (RuntimeError, ValueError) as err:
                    layer._raise_if_mismatch(x, err)  # names the layer, as its __call__ would
                    raise
            else:
                plain = False
                inputs = layer(inputs)
        return inputs

    def compute_output_shape(self, input_shape):
        shape = input_shape
        for layer in self._stack:
            shape = layer.compute_output_shape(shape)
        return shape

    def get_config(self):
        """Keras' Sequential config: `name`, `trainable`, `dtype`, `layers` (an `InputLayer`
        first when the input shape is known) and `build_input_shape`."""
        from kerastorch.models.functional_config import layer_entry
        shape = self._known_input_shape()
        layers = []
        if self._input_layer is not None:
            layers.append(layer_entry(self._input_layer))
        elif shape is not None:
            layers.append({"module": "keras.layers", "class_name": "InputLayer",
                           "config": {"batch_shape": shape, "dtype": self.dtype, "sparse": False,
                                      "ragged": False, "name": "input_layer",
                                      "optional": False},
                           "registered_name": None})
        layers += [layer_entry(layer) for layer in self._stack]
        config = {**Layer.get_config(self), "layers": layers}
        config.pop("batch_input_shape", None)
        if shape is not None:
            config["build_input_shape"] = shape
        return config

    def _known_input_shape(self):
        shape = self._declared_input_shape()
        if shape is None and self.built:
            shape = self._batch_input_shape
        return shape

    def get_build_config(self):
        shape = self._known_input_shape()
        return {"input_shape": shape} if self.built and shape is not None else None

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from kerastorch.saving.serialization import deserialize_keras_object, shape_from_config
        if "layers" not in config:
            raise ValueError("A Sequential model configuration must be a dictionary containing "
                             f"the 'name' and 'layers' keys. Received: config={config!r}")
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for layer_config in config["layers"]:
            layer = deserialize_keras_object(layer_config, custom_objects=custom_objects)
            model.add(layer, rebuild=False)
        shape = config.get("build_input_shape")
        if model._declared_input_shape() is None and isinstance(shape, (list, tuple)) and \
                shape and model._stack:
            model.build(shape_from_config(shape))
        else:
            model._maybe_build()
        return model


def _takes_as_is(layer, x) -> bool:
    """True when `Layer.__call__` would not cast `x` (already of the layer's input dtype)."""
    cast = layer.__dict__.get("_input_cast", False)
    return x.dtype is cast or (cast is None and (x.is_floating_point()
                                                 or not layer._float_inputs))
