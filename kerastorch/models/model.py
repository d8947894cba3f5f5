"""`Model`: a `Layer` that trains (`Trainer`) and holds layers; base of Sequential and
subclassed models."""

import json
import warnings

from kerastorch.layers import layer as layer_mod
from kerastorch.layers.layer import Layer
from kerastorch.trainers.trainer import Trainer
from kerastorch.utils import summary_utils


class Model(Trainer, Layer):
    """Group layers into an object with training and inference features.

    Subclass it: create layers in `__init__` (after `super().__init__()`), compute in
    `call(inputs, training=None)`; or, with `Model(inputs, outputs)`, build a functional model.
    """

    def __new__(cls, *args, **kwargs):
        # `Model(inputs, outputs)` is a functional model; Python then runs Functional.__init__.
        # `CustomModel(inputs, outputs)` (a subclass) too: an instance of the subclass with
        # Functional behind it, so its overrides (`train_step`, `call` wrappers...) still apply.
        if _functional_arguments(args, kwargs):
            from kerastorch.models.functional import Functional
            if cls is Model:
                return Functional.__new__(Functional)
            if not issubclass(cls, Functional):
                return super().__new__(_with_functional(cls))
        return super().__new__(cls)

    def __init__(self, *args, name=None, trainable=True, **kwargs):
        if _functional_arguments(args, kwargs):
            # `super().__init__(inputs=..., outputs=...)` inside a subclass' `__init__`
            from kerastorch.models.functional import Functional
            if not isinstance(self, Functional):
                self.__class__ = _with_functional(type(self))
            Functional.__init__(self, *args, name=name, trainable=trainable, **kwargs)
            return
        if args:
            raise TypeError(f"{type(self).__name__}.__init__() takes keyword arguments only "
                            "(or `inputs, outputs` for a functional model); received "
                            f"{len(args)} positional argument(s).")
        Layer.__init__(self, name=name, trainable=trainable, **kwargs)
        self._init_trainer()

    def __call__(self, *args, **kwargs):
        # Keras: `model.losses` holds the `add_loss` values of the latest call; clear older ones
        # (only when some were added since the last clear: no cost otherwise).
        # The outermost model clears for the whole tree: models (and layers) called inside it
        # keep what earlier calls of the same outer call added.
        count = layer_mod.ADD_LOSS_CALLS[0]
        depth = layer_mod.MODEL_CALL_DEPTH
        if count != self.__dict__.get("_loss_count_at_clear", 0) and not depth[0]:
            self._clear_losses()
        self.__dict__["_loss_count_at_clear"] = count
        depth[0] += 1
        try:
            return super().__call__(*args, **kwargs)
        finally:
            depth[0] -= 1

    def call(self, inputs, training=None):
        raise NotImplementedError(f"Model '{self.name}' ({type(self).__name__}) has no `call`: "
                                  "subclasses of Model must implement `call(inputs)`.")

    @property
    def layers(self) -> list:
        return self._sublayers()

    def build(self, input_shape=None):
        """Keras' default `build` of a subclassed model: it marks the model built and creates
        nothing (its layers build on the first call); Keras warns when some are unbuilt.
        Loading a saved model builds them instead (`build_from_config`)."""
        if type(self).build is Model.build and any(not lyr.built for lyr in self._sublayers()):
            warnings.warn(
                f"`build()` was called on layer '{self.name}', however the layer does not have "
                "a `build()` method implemented and it looks like it has unbuilt state. This "
                "will cause the layer to be marked as built, despite not being actually built, "
                "which may cause failures down the line. Make sure to implement a proper "
                "`build()` method.", stacklevel=2)
        if input_shape is not None:
            from kerastorch.saving.serialization import shape_from_config
            self._build_shapes = shape_from_config(input_shape)
        self.built = True

    def build_from_config(self, config):
        """Build from a saved `build_config`: a model with Keras' default `build` runs its
        `call` once on stand-in tensors of the saved input shape, which builds every layer it
        uses with real weights; one with its own `build` gets `build(input_shape)`."""
        from kerastorch.layers.input_layer import _map_shapes, _run_for_shapes
        from kerastorch.saving.serialization import shape_from_config
        shape = shape_from_config((config or {}).get("input_shape"))
        if shape is None or self.built:
            return
        if type(self).build is not Model.build:
            self.build(shape)
            self.built = True
            return
        self._build_shapes = shape
        _run_for_shapes(self, lambda make: ((_map_shapes(lambda s: make(s, None), shape),), {}))
        self.built = True

    def _build_from(self, inputs):
        if type(self).build is Model.build:
            # the first real call builds the layers `call` uses: no stand-in run before it
            self._build_shapes = layer_mod._shapes_of(inputs)
            self.built = True
            return
        super()._build_from(inputs)

    def _add_layer(self, layer):
        """Register `layer` as a submodule under its Keras name. A name that is also one of
        the model's attributes (`Input(name="inputs")`, a layer called "output") goes straight
        into `_modules`: the attribute keeps its meaning, the state dict keys the name."""
        if hasattr(type(self), layer.name) or layer.name in self.__dict__:
            self._modules[layer.name] = layer
        else:
            self.add_module(layer.name, layer)

    def get_layer(self, name=None, index=None):
        """A layer by unique name or by index in `layers`."""
        if index is not None and name is not None:
            raise ValueError("Provide only one of `name` or `index`. Received both: "
                             f"name={name!r}, index={index!r}")
        if isinstance(name, int):
            name, index = None, name
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model "
                                 f"'{self.name}' only has {len(layers)} layers.")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: "
                         f"{[lyr.name for lyr in layers]}.")

    # ------------------------------------------------------------------ config
    def get_compile_config(self):
        """The serialized arguments of `compile` (None before `compile`), as Keras saves them."""
        if not getattr(self, "compiled", False):
            return None
        from kerastorch.saving.serialization import get_compile_config, serialize_keras_object
        return serialize_keras_object(get_compile_config(self))

    def compile_from_config(self, config):
        """`compile` from `get_compile_config()`'s dict (called when a saved model loads)."""
        from kerastorch.saving.serialization import deserialize_keras_object
        self.compile(**deserialize_keras_object(config))

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A functional config (`layers`, `input_layers`, `output_layers`) rebuilds the graph;
        any other config is passed to the constructor."""
        if {"layers", "input_layers", "output_layers"} <= set(config):
            from kerastorch.models.functional import Functional
            from kerastorch.models.functional_config import functional_from_config
            target = cls if cls is not Model else Functional
            return functional_from_config(target, config, custom_objects)
        return super().from_config(config)

    def to_json(self, **kwargs):
        """The model's config as a JSON string in Keras 3's structure (`json.dumps` kwargs)."""
        from kerastorch.saving.serialization import serialize_keras_object
        return json.dumps(serialize_keras_object(self), default=_json_default, **kwargs)

    # ------------------------------------------------------------------ display
    def _summary_rows(self):
        return [(lyr.name, type(lyr).__name__, getattr(lyr, "_summary_output_shape", None),
                 lyr.count_params() if lyr.built else None) for lyr in self.layers]

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Print Keras 3's summary table: rows, output shapes, parameter counts, totals."""
        lines = summary_utils.summary_lines(self, self._summary_rows())
        for line in lines:
            (print_fn or print)(line)

    # ------------------------------------------------------------------ files
    def save(self, filepath, overwrite=True, zipped=None, **kwargs):
        """Save the model: `.keras` (Keras 3's zip, opens in Keras), `.h5` (legacy Keras 2
        format) or `.pt`/`.pth` (config + torch state dict + optimizer state, read with
        `weights_only=True`). Written atomically. See `kerastorch.saving.save_model`."""
        from kerastorch import distribute
        if not distribute.is_chief():  # multi-process: rank 0 writes, the others skip
            return
        from kerastorch.saving import saving_api
        saving_api.save_model(self, filepath, overwrite=overwrite, zipped=zipped, **kwargs)

    def save_weights(self, filepath, overwrite=True, **kwargs):
        """`.weights.h5`: Keras 3's weights layout; `.pt`/`.pth`: the torch state dict (keys of
        the equivalent torch modules)."""
        from kerastorch import distribute
        if not distribute.is_chief():
            return
        from kerastorch.saving import saving_api
        saving_api.save_weights(self, filepath, overwrite=overwrite, **kwargs)

    # ------------------------------------------------------------------ PyTorch out
    def to_torch(self):
        """A plain PyTorch module with the same outputs and state dict keys (inference mode):
        `nn.Sequential` of torch modules when it can be, else a generated `nn.Module`. No
        kerastorch class inside; see `kerastorch.export.to_torch`."""
        from kerastorch.export import to_torch
        return to_torch(self)

    def export(self, filepath, format=None, verbose=None, input_signature=None, **kwargs):
        """Export for inference: `format="onnx"` (`.onnx`, `torch.onnx.export`; needs the
        `onnx` package) or `format="torch"` (`.pt2`, `torch.export.save`). The format defaults
        from the suffix. See `kerastorch.export.export_model`."""
        from kerastorch.export import export_model
        export_model(self, filepath, format=format, verbose=verbose,
                     input_signature=input_signature, **kwargs)

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        """Weights from `.weights.h5`, `.keras`, legacy `.h5` or a `.pt`/`.pth` state dict;
        `skip_mismatch=True` skips layers whose saved weights do not fit (with a warning)."""
        from kerastorch.saving import saving_api
        saving_api.load_weights(self, filepath, skip_mismatch=skip_mismatch, **kwargs)


def model_from_json(json_string, custom_objects=None):
    """A new, uninitialised model from `model.to_json()` output (Keras 3's JSON).

    Args:
        json_string: The JSON string.
        custom_objects: Dict of name -> class or function for custom layers and functions.
    """
    from kerastorch.saving.serialization import deserialize_keras_object
    return deserialize_keras_object(json.loads(json_string), custom_objects=custom_objects)


def _json_default(obj):
    import numpy as np
    if isinstance(obj, (np.generic, np.ndarray)):
        return obj.tolist()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable: {obj!r}")


def _functional_arguments(args, kwargs) -> bool:
    """True for Keras' functional signature: `(inputs, outputs)` or `inputs=`/`outputs=`."""
    return len(args) == 2 or (len(args) == 1 and "outputs" in kwargs) or \
        ("inputs" in kwargs and "outputs" in kwargs)


_FUNCTIONAL_SUBCLASSES = {}


def _with_functional(cls):
    """`cls` (a Model subclass) with Functional after it in the MRO: the graph of the
    inputs and outputs runs as `call`, unless `cls` overrides it. One class per subclass."""
    from kerastorch.models.functional import Functional
    made = _FUNCTIONAL_SUBCLASSES.get(cls)
    if made is None:
        made = type(cls.__name__, (cls, Functional), {"__module__": cls.__module__,
                                                      "__qualname__": cls.__qualname__,
                                                      "__reduce_ex__": _reduce_functional})
        _FUNCTIONAL_SUBCLASSES[cls] = made
    return made


def _reduce_functional(self, protocol):
    # pickle finds classes by name, and the name leads to the user's class: rebuild the
    # functional form of it instead
    reduced = object.__reduce_ex__(self, protocol)
    return (_new_functional, (type(self).__mro__[1],), *reduced[2:])


def _new_functional(cls):
    made = _with_functional(cls)
    return made.__new__(made)
