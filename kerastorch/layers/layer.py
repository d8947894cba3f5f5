"""`Layer`: a `torch.nn.Module` with Keras' surface.

State is torch-native: parameters and buffers carry the names and layouts of the equivalent torch
module (`Dense` -> `weight (out, in)`, `bias`), so `state_dict()` loads into plain torch. Keras'
view of the same storage (`get_weights`/`set_weights`, saved files) is produced by each layer's
`keras_weight_views()`, the one place where the layout is translated.

The training flag: a layer is in inference mode unless `fit` (or `train()`) switched it, or the call
passes `training=True`. A `training` argument given to an outer call reaches every inner layer
called with `training=None`, as in Keras.
"""

import contextvars
import inspect
import itertools
import numpy as np
import torch
from torch import nn
from torch._subclasses.fake_tensor import unset_fake_temporarily

from kerastorch.layers.layer_utils import (  # noqa: F401 (WeightView & co. are public here)
    InputShapeError,
    WeightView,
    _device_of,
    _holds_numpy,
    _is_symbolic,
    _mask_of,
    _cast_floats,
    _numpy_to_tensors,
    _shapes_of,
    standardize_shape,
    transposed,
)
from kerastorch.layers.layer_variables import LayerVariables, scoped_build
from kerastorch.utils.naming import to_snake_case, uniquify
from kerastorch.variables import Variable

# Counts add_loss() calls, so the trainer collects layer losses only when some were added.
ADD_LOSS_CALLS = [0]
# Models being called: the outermost clears the `add_loss` values of its tree (`Model.__call__`);
# a layer called outside any model clears its own tree's when it is called again.
MODEL_CALL_DEPTH = [0]

# Set for the duration of a call that received an explicit `training=` (Keras' call context).
_TRAINING = contextvars.ContextVar("kerastorch_training", default=None)


def _policy_of(dtype):
    """A layer's `dtype` argument as a `DTypePolicy` (None: the global policy)."""
    from kerastorch.mixed_precision import policy
    if isinstance(dtype, str) and dtype == policy.dtype_policy().name:
        return policy.dtype_policy()
    return policy.get(dtype)


class Layer(LayerVariables, nn.Module):
    """Base class of every kerastorch layer and model.

    Args:
        name: Unique name; default `snake_case(ClassName)` made unique (`dense`, `dense_1`, ...).
        trainable: Whether the layer's weights are updated by training (sets `requires_grad`).
        dtype: A dtype policy: a name (`"float32"`, `"mixed_float16"`) or a `DTypePolicy`;
            default the global policy (`keras.mixed_precision.global_policy()`).
        input_shape: Shape of one sample (batch excluded), used when the layer starts a model.
        batch_input_shape / batch_size / input_dim: Keras' other ways of saying the same.

    Subclasses implement `build(input_shape)` (create weights), `call(inputs, ...)` and, for
    the functional API, `compute_output_shape`. `input_shape` passed to `build` includes the
    batch dimension, as in Keras.
    """

    # Set per class in __init_subclass__: which of Keras' special call arguments `call` takes.
    _call_takes_training = False
    _call_takes_mask = False
    _computes_mask = False  # True for layers that make masks (Embedding, Masking)
    # True for layers that do float math on their input (Dense, Conv, RNNs, normalization,
    # attention): integer and boolean inputs are cast to the compute dtype, as Keras' ops
    # promote them. Layers that keep integers (Embedding, lookups, reshaping) leave it False.
    _float_inputs = False
    # Keras casts every floating input (positional and keyword, nested) to the compute dtype.
    # Containers (Sequential, functional) leave it to their layers; so do the preprocessing
    # layers Keras exempts (lookups, CategoryEncoding, RandomFlip, RandomCrop).
    _convert_input_args = True
    _plain_call = True  # False where a subclass (Model) overrides `__call__`

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._plain_call = cls.__call__ is Layer.__call__
        params = inspect.signature(cls.call).parameters
        cls._call_takes_training = "training" in params
        cls._call_takes_mask = "mask" in params
        cls._computes_mask = cls.compute_mask is not Layer.compute_mask
        if "call" in cls.__dict__ and "forward" not in cls.__dict__:
            cls.forward = cls.__dict__["call"]  # nn.Module runs `call` without a relay frame
        build = cls.__dict__.get("build")
        if build is not None and not getattr(build, "_scoped", False):
            cls.build = scoped_build(build)  # variables made in `build` get the layer's path

    def __init__(self, *, name=None, trainable=True, dtype=None, input_shape=None,
                 batch_input_shape=None, batch_size=None, input_dim=None,
                 activity_regularizer=None, **kwargs):
        kwargs.pop("autocast", None)
        kwargs.pop("input_length", None)  # Keras 2 Embedding argument, ignored by Keras 3
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to {type(self).__name__}: "
                            f"{kwargs}")
        super().__init__()
        self.training = False  # Keras: layers called outside fit run in inference mode.
        if name is not None and (not isinstance(name, str) or "." in name or "/" in name):
            raise ValueError("A layer name must be a string without '.' or '/'. "
                             f"Received: name={name!r}")
        self.name = name or uniquify(to_snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self._dtype_policy = _policy_of(dtype)
        self.built = False
        self.supports_masking = False
        self._losses: list = []
        self._build_shapes = None
        if activity_regularizer is not None:
            from kerastorch import regularizers
            activity_regularizer = regularizers.get(activity_regularizer)
        self.activity_regularizer = activity_regularizer
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            self._batch_input_shape = standardize_shape(batch_input_shape)
        elif input_shape is not None:
            self._batch_input_shape = (batch_size, *standardize_shape(input_shape))
        else:
            self._batch_input_shape = None

    # ------------------------------------------------------------------ dtype policy
    @property
    def dtype_policy(self):
        """The layer's `DTypePolicy` (the global policy when created without `dtype`)."""
        return self._dtype_policy

    @dtype_policy.setter
    def dtype_policy(self, value):
        self._dtype_policy = _policy_of(value)
        self.__dict__.pop("_input_cast", None)

    def _set_input_cast(self):
        """The torch dtype floating inputs are cast to: the compute dtype; None for a mixed
        policy (the step's autocast casts) and for layers that take inputs as they come."""
        policy = self._dtype_policy
        cast = None if not self._convert_input_args or policy.is_mixed else \
            getattr(torch, policy.compute_dtype, None)
        self.__dict__["_input_cast"] = cast
        return cast

    def _apply(self, fn, recurse=True):
        # `model.double()`, `.half()`, `.to(torch.float64)`: the layer's policy follows its
        # weights, so the inputs cast to the compute dtype meet weights of the same dtype.
        result = super()._apply(fn, recurse)
        policy = self._dtype_policy
        if not policy.is_mixed:
            for t in itertools.chain(self._parameters.values(), self._buffers.values()):
                if t is not None and t.is_floating_point():
                    name = str(t.dtype).removeprefix("torch.")
                    if name != policy.variable_dtype:
                        self.dtype_policy = name
                    break
        return result

    @property
    def dtype(self) -> str:
        """Alias of `variable_dtype`, as in Keras."""
        return self._dtype_policy.variable_dtype

    @dtype.setter
    def dtype(self, value):
        self.dtype_policy = value

    @property
    def compute_dtype(self) -> str:
        return self._dtype_policy.compute_dtype

    @property
    def variable_dtype(self) -> str:
        return self._dtype_policy.variable_dtype

    # ------------------------------------------------------------------ calling
    def __call__(self, *args, **kwargs):
        if ADD_LOSS_CALLS[0] != self.__dict__.get("_loss_count_at_clear", 0) and \
                not MODEL_CALL_DEPTH[0]:
            # Keras: `losses` holds what the latest call added (nothing to do until a layer of
            # this tree calls `add_loss`)
            self._clear_losses()
            self.__dict__["_loss_count_at_clear"] = ADD_LOSS_CALLS[0]
        if self._scope_pending:  # the first call runs in the layer's name scope
            return self._first_call(args, kwargs)
        inputs = args[0] if args else kwargs.get("inputs")
        if not isinstance(inputs, torch.Tensor):
            if isinstance(inputs, np.ndarray) or _holds_numpy(inputs):
                # Keras accepts numpy; float64 -> floatx.
                inputs = _numpy_to_tensors(inputs, self._device())
                args = (inputs, *args[1:]) if args else args
                if not args:
                    kwargs["inputs"] = inputs
            elif _is_symbolic(inputs):
                from kerastorch.layers.input_layer import call_symbolic
                return call_symbolic(self, args, kwargs)
        cast = self.__dict__.get("_input_cast", False)
        if cast is False:
            cast = self._set_input_cast()
        if cast is not None:
            if len(args) == 1 and not kwargs and isinstance(inputs, torch.Tensor):
                if inputs.dtype is not cast and inputs.is_floating_point():
                    inputs = _cast_floats(inputs, cast)
                    args = (inputs,)
            elif args or kwargs:
                args, kwargs = _cast_floats(args, cast), _cast_floats(kwargs, cast)
                inputs = args[0] if args else kwargs.get("inputs")
        if self._float_inputs and isinstance(inputs, torch.Tensor) and \
                not inputs.is_floating_point() and not inputs.is_complex():
            inputs = inputs.to(getattr(torch, self.compute_dtype))
            args = (inputs, *args[1:]) if args else args
            if not args:
                kwargs["inputs"] = inputs
        if not self.built:
            self._build_from(inputs)
        # Keras' masks ride on tensors as `_keras_mask` (as on Keras' torch backend).
        mask = inputs.__dict__.get("_keras_mask") if type(inputs) is torch.Tensor else \
            _mask_of(inputs)
        if mask is None and not kwargs and not self._computes_mask \
                and self.activity_regularizer is None:
            try:  # the hot path, inlined: a plain nn.Module call
                return nn.Module.__call__(self, *args)
            except InputShapeError:
                raise
            except (RuntimeError, ValueError) as err:
                self._raise_if_mismatch(inputs, err)
                raise
        if mask is not None and self._call_takes_mask and "mask" not in kwargs:
            kwargs["mask"] = mask
        if kwargs:
            if "mask" in kwargs:
                mask = kwargs["mask"] if self._call_takes_mask else kwargs.pop("mask")
            training = kwargs.get("training")
            if "training" in kwargs and not self._call_takes_training:
                del kwargs["training"]
            if training is not None:
                token = _TRAINING.set(bool(training))
                try:
                    return self._call_with_mask(inputs, args, kwargs, mask)
                finally:
                    _TRAINING.reset(token)
        if mask is None and not self._computes_mask:
            return self._checked_call(inputs, args, kwargs)  # the hot path
        return self._call_with_mask(inputs, args, kwargs, mask)

    def _call_with_mask(self, inputs, args, kwargs, mask):
        outputs = self._checked_call(inputs, args, kwargs)
        if mask is not None or self._computes_mask:
            out_mask = self.compute_mask(inputs, mask)
            if out_mask is not None and isinstance(outputs, torch.Tensor):
                outputs._keras_mask = out_mask
        return outputs

    def compute_mask(self, inputs, mask=None):
        """The mask of the outputs: the input mask if the layer supports masking, else None."""
        return mask if self.supports_masking else None

    def _checked_call(self, inputs, args, kwargs):
        try:
            outputs = super().__call__(*args, **kwargs)
            if self.activity_regularizer is not None:
                self._add_activity_loss(outputs)
            return outputs
        except InputShapeError:
            raise  # already names the innermost layer that refused the input
        except (RuntimeError, ValueError) as err:
            self._raise_if_mismatch(inputs, err)
            raise

    def _raise_if_mismatch(self, inputs, err):
        # Zero cost on the happy path: only a failing call pays for the shape check.
        problem = self._input_mismatch(inputs)
        if problem:
            raise InputShapeError(f"Input 0 of layer '{self.name}' ({type(self).__name__}) is "
                                  f"incompatible with the layer: {problem}") from err

    def _add_activity_loss(self, outputs):
        # Keras: the penalty of each output, divided by its batch size.
        for out in outputs if isinstance(outputs, (list, tuple)) else [outputs]:
            if isinstance(out, torch.Tensor):
                loss = self.activity_regularizer(out)
                if out.ndim > 0 and out.shape[0] > 0:
                    loss = loss / out.shape[0]
                self.add_loss(loss)

    def forward(self, *args, **kwargs):
        return self.call(*args, **kwargs)

    def call(self, inputs, *args, **kwargs):
        return inputs

    def resolve_training(self, training):
        """The effective training flag: explicit argument > outer call's flag > module mode."""
        if training is None:
            training = _TRAINING.get()
            if training is None:
                training = self.training
        return bool(training)

    # ------------------------------------------------------------------ building
    def build(self, input_shape):
        """Create the weights for inputs of `input_shape` (batch dimension included)."""
        self.built = True

    def _build_from(self, inputs):
        # Weights are real tensors even when the first call runs on fake ones (shape inference
        # of a symbolic call in which an outer layer builds this one).
        with unset_fake_temporarily():
            shape = _shapes_of(inputs)
            self._build_shapes = shape
            self.build(shape)
            self.built = True
            device = _device_of(inputs)
            if device is not None:
                self.to(device)
            if not self._trainable:
                self._set_requires_grad(False)

    def _input_mismatch(self, inputs) -> str | None:
        """Why `inputs` does not fit the shape the layer was built for, or None."""
        built = self._build_shapes
        got = _shapes_of(inputs)
        if not (isinstance(built, tuple) and isinstance(got, tuple)) or not built:
            return None
        if built and isinstance(built[0], tuple):
            return None
        if len(built) != len(got):
            return f"expected ndim={len(built)}, found ndim={len(got)}. Full shape received: {got}"
        for i, (want, have) in enumerate(zip(built[1:], got[1:]), start=1):
            if want is not None and want != have:
                expected = (None, *built[1:])
                return (f"expected axis {i - len(built)} of the input to have value {want}, but "
                        f"received input with shape {got} (expected shape {expected})")
        return None

    def check_input_shape(self, input_shape) -> None:
        """Raise `InputShapeError` if a built layer cannot take `input_shape` (checked when a
        built layer is called on symbolic inputs). Default: accept; layers with fixed input
        dimensions override it."""

    def _device(self):
        for t in self.parameters():
            return t.device
        return None

    def compute_output_shape(self, input_shape):
        """Output shape for `input_shape` by a run on the meta device (no real compute)."""
        from kerastorch.layers.input_layer import meta_output_shape
        return meta_output_shape(self, input_shape)

    # ------------------------------------------------------------------ weights
    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        value = bool(value)
        for layer in self._flatten_layers():
            layer._trainable = value
        self._set_requires_grad(value)

    def _set_requires_grad(self, value: bool) -> None:
        for module in self.modules():
            frozen = module.__dict__.get("_frozen_keys", ())  # `variable.trainable = False`
            for key, p in module._parameters.items():
                if p is not None:
                    p.requires_grad_(value and key not in frozen)

    def _flatten_layers(self, include_self=True):
        """This layer and every Layer below it, depth first, each once."""
        seen, out = set(), []
        stack = [self] if include_self else list(self._sublayers())[::-1]
        while stack:
            layer = stack.pop()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            out.append(layer)
            stack.extend(list(layer._sublayers())[::-1])
        return out

    def _sublayers(self):
        """Direct sub-layers (Keras' `layer._layers`), in creation order."""
        return [m for m in self.children() if isinstance(m, Layer)]

    def keras_weight_views(self) -> list[WeightView]:
        """This layer's own weights in Keras' order and layout (sub-layers excluded).

        Default: own parameters then own persistent buffers, same layout. Layers whose torch
        layout differs from Keras' override this.
        """
        views = [WeightView(n, p) for n, p in self.named_parameters(recurse=False)]
        views += [WeightView(n, b) for n, b in self.named_buffers(recurse=False)
                  if n not in self._non_persistent_buffers_set]
        return views

    def _all_weight_views(self, owners=False) -> list:
        """Keras' `weights` order: own weights, then each sub-layer's, deduplicated. With
        `owners`, `(layer, view)` pairs (the layer whose `keras_weight_views` made it)."""
        out, seen = [], set()
        # an unbuilt layer has only the weights made so far (usually none, as Keras'
        # `weights == []`); its own views may need what `build` makes
        own = self.keras_weight_views() if self.built else Layer.keras_weight_views(self)
        for v in own:
            if id(v.tensor) not in seen:
                seen.add(id(v.tensor))
                out.append((self, v) if owners else v)
        for layer in self._sublayers():
            for item in layer._all_weight_views(owners):
                v = item[1] if owners else item
                if id(v.tensor) not in seen:
                    seen.add(id(v.tensor))
                    out.append(item)
        return out

    def get_weights(self) -> list[np.ndarray]:
        """Weights as numpy arrays in Keras' order and shapes (Dense kernel is (in, out)).
        Copies, as in Keras: training the model later does not change them."""
        return [_numpy_copy(v.keras_value()) for v in self._all_weight_views()]

    def set_weights(self, weights) -> None:
        """Inverse of `get_weights`: arrays in Keras' order and shapes."""
        views = self._all_weight_views()
        weights = list(weights)
        if len(views) != len(weights):
            raise ValueError(
                f"Layer '{self.name}' expected {len(views)} weights ("
                f"{[v.name for v in views]}), but received {len(weights)} arrays.")
        for v, w in zip(views, weights):
            want = tuple(v.keras_value().shape)
            if tuple(np.shape(w)) != want:
                raise ValueError(f"Layer '{self.name}' weight '{v.name}' has shape {want}; "
                                 f"received an array of shape {tuple(np.shape(w))}.")
        for v, w in zip(views, weights):
            v.assign(w)

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer '{self.name}', but the "
                             "layer isn't built. Call `build()` or call it on data first.")
        return sum(v.keras_value().numel() for v in self._all_weight_views())  # Keras' sizes

    def __setattr__(self, name, value):
        d = self.__dict__
        if isinstance(value, Variable) and "_parameters" in d:
            self._track_variable(name, value)
            return
        held = d.get(name)
        if isinstance(held, Variable):
            if isinstance(value, torch.Tensor) and held.__dict__.get("_owner") is self \
                    and held._key == name:
                # a new tensor for the variable's weight (`load_state_dict(assign=True)`)
                super().__setattr__(name, value)
                for store in (self._parameters, self._buffers):
                    if store.get(name) is value:
                        held._store = store
                        d[name] = held
                return
            del d[name]  # the attribute held a variable: replaced
        auto = d.get("_auto_named")
        if isinstance(value, torch.Tensor) and "_parameters" in d and (
                name not in self._parameters and name not in self._buffers):
            named = next((k for store in (self._parameters, self._buffers)
                          for k, v in store.items() if v is value), None)
            if named is not None and not (auto and named in auto):
                # `self.b = <a registered tensor>`: one weight, two names. Keep the registered
                # one; the attribute is a plain alias (not a second state key).
                d[name] = value
                return
        if auto and isinstance(value, torch.Tensor) and name not in auto:
            for store in (self._parameters, self._buffers):
                old = next((k for k, v in store.items() if v is value and k in auto), None)
                if old is not None:  # rename in place, keeping the creation order
                    self._rename_weight(store, old, name)
                    return
        super().__setattr__(name, value)

    def __delattr__(self, name):
        held = self.__dict__.get(name)
        if isinstance(held, Variable):
            del self.__dict__[name]
            if held.__dict__.get("_owner") is self and held._key == name:
                super().__delattr__(name)  # the weight goes too, as for a torch attribute
            return
        super().__delattr__(name)

    def _weight_regularizers(self):
        if "_regularizers" not in self.__dict__:
            self._regularizers = []
        return self._regularizers

    def _weight_constraints(self):
        if "_constraints" not in self.__dict__:
            self._constraints = []
        return self._constraints

    # ------------------------------------------------------------------ graph
    def _first_node(self, what):
        nodes = self.__dict__.get("_inbound_nodes")
        if not nodes:
            raise AttributeError(f"Layer '{self.name}' has never been called on symbolic "
                                 f"inputs, so it has no defined {what}.")
        return nodes[0]

    @property
    def input(self):
        """The symbolic input of the layer's first call (functional API)."""
        node = self._first_node("input")
        args = node.args[0] if node.args else node.kwargs.get("inputs")
        return node.outputs[0] if args is None or args == () else args

    @property
    def output(self):
        """The symbolic output of the layer's first call (functional API)."""
        return self._first_node("output").structure

    # ------------------------------------------------------------------ losses
    def add_loss(self, loss) -> None:
        """Add a penalty to the training loss (Keras' `add_loss`)."""
        ADD_LOSS_CALLS[0] += 1
        self._losses.append(loss)

    @property
    def losses(self) -> list[torch.Tensor]:
        """`add_loss` values and weight-regularization penalties of this layer and below."""
        out = []
        for layer in self._flatten_layers():
            out.extend(layer._losses)
            for reg, attr in layer.__dict__.get("_regularizers", ()):
                weight = layer.keras_view_of(attr)
                out.append(reg(weight))
        return out

    def keras_view_of(self, attr: str) -> torch.Tensor:
        """The live (differentiable) tensor `getattr(self, attr)` in Keras' layout: what
        regularizers and constraints see."""
        tensor = self._state_tensor(attr)
        view = next((v for v in self.keras_weight_views() if v.tensor is tensor), None)
        return view.to_keras(tensor) if view is not None and view.to_keras else tensor

    def _clear_losses(self) -> None:
        for layer in self._flatten_layers():
            layer._losses.clear()

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict:
        config_ = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": {"module": "keras", "class_name": "DTypePolicy",
                      "config": {"name": self._dtype_policy.name}, "registered_name": None},
        }
        return config_  # Keras 3 keeps input shapes on the InputLayer, not in layer configs

    @classmethod
    def from_config(cls, config_):
        config_ = dict(config_)
        dtype = config_.get("dtype")
        if isinstance(dtype, dict):
            config_["dtype"] = dtype.get("config", {}).get("name")
        return cls(**config_)

    # ------------------------------------------------------------------ saving hooks
    # Keras' saving calls these for every layer; override them to save more than the weights.
    def get_build_config(self):
        """`{"input_shape": ...}` once built (what `build_from_config` takes), else None."""
        from kerastorch.saving.serialization import default_build_config
        return default_build_config(self)

    def build_from_config(self, config):
        """Build from `get_build_config()`'s dict (called when a saved model is loaded)."""
        from kerastorch.saving.serialization import shape_from_config
        shape = shape_from_config((config or {}).get("input_shape"))
        if shape is not None and not self.built:
            self._build_shapes = shape
            self.build(shape)
            self.built = True

    def save_own_variables(self, store):
        """Write this layer's own weights (sub-layers excluded) into `store`, a dict-like
        object: `store["0"]`, `store["1"]`, ... in Keras' order and layout."""
        for i, view in enumerate(self.keras_weight_views()):
            store[str(i)] = _numpy_copy(view.keras_value())

    def load_own_variables(self, store):
        """Inverse of `save_own_variables`."""
        views = self.keras_weight_views()
        if len(store.keys()) != len(views):
            raise ValueError(f"Layer '{self.name}' expected {len(views)} variables, but "
                             f"received {len(store.keys())} variables during loading. "
                             f"Expected: {[v.name for v in views]}")
        for i, view in enumerate(views):
            value = np.asarray(store[str(i)])
            want = tuple(view.keras_value().shape)
            if value.shape != want:
                raise ValueError(f"Layer '{self.name}' weight '{view.name}' has shape {want}; "
                                 f"received {value.shape} during loading.")
            view.assign(value)

    def save_assets(self, dir_path):
        """Write files this layer needs (a vocabulary, ...) into the folder `dir_path`."""

    def load_assets(self, dir_path):
        """Read what `save_assets` wrote into `dir_path`."""

    def extra_repr(self) -> str:
        return f"name={self.name!r}"

    def __repr__(self):  # Keras' short form; the torch tree stays available via print(module)
        if self._modules:
            return super().__repr__()
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _numpy_copy(t: torch.Tensor) -> np.ndarray:
    """A numpy array that owns its data (`.numpy()` of a CPU tensor shares the tensor's)."""
    t = t.detach()
    return t.numpy().copy() if t.device.type == "cpu" else t.cpu().numpy()
