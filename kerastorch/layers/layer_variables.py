"""A layer's weights as Keras variables: `weights` & co., `add_weight`, variable paths (name
scopes) and `stateless_call`. Mixed into `Layer`.

The state is the layer's torch parameters and buffers; each `Variable` is a handle bound to one
of them (its module's `_parameters`/`_buffers` entry), made the first time it is asked for and
kept, so `layer.weights[0] is layer.weights[0]`. The layout translation comes from the layer's
`keras_weight_views()`. Forward passes of built-in layers never go through a `Variable`.

Paths are Keras': a layer's scope opens when it is first built or called, and records where
(`_parent_path`): layers built inside a `Sequential` get `sequential/dense/kernel`, layers of a
functional model (built by their symbolic call) `dense/kernel`, a sub-layer built during its
parent's first call `outer/inner/kernel`.
"""

import functools

import torch
from torch import nn

from kerastorch.variables import Variable, _join, current_path, mark_torch_layout, name_scope
from kerastorch.utils.naming import uniquify


def scoped_build(build):
    """Wrap a class's `build` so that it runs inside the layer's name scope (as Keras does)."""
    @functools.wraps(build)
    def wrapper(self, *args, **kwargs):
        with self._open_name_scope():
            result = build(self, *args, **kwargs)
        for module in self.modules():  # sub-layers made in `build` too
            _to_variable_dtype(module)
        return result
    wrapper._scoped = True
    return wrapper


def _to_variable_dtype(layer):
    """Give the floating weights a layer's `build` made (in floatx, as initializers do) the
    layer's variable dtype: `Dense(4, dtype="float64")` holds a float64 kernel, as in Keras."""
    policy = layer.__dict__.get("_dtype_policy")
    if policy is None or policy.variable_dtype == "float32":
        return
    dtype = getattr(torch, policy.variable_dtype, None)
    if dtype is None:
        return
    with torch.no_grad():
        for param in layer._parameters.values():
            if param is not None and param.is_floating_point() and param.dtype != dtype:
                param.data = param.data.to(dtype)
        for key, buf in layer._buffers.items():
            if buf is not None and buf.is_floating_point() and buf.dtype != dtype:
                layer._buffers[key] = buf.to(dtype)


class LayerVariables:
    """The variable side of `Layer` (see the module docstring)."""

    _scope_pending = True  # the first call opens the layer's name scope, later ones don't
    _parent_path = None  # the scope path where the layer's own scope was first opened

    # ------------------------------------------------------------------ name scopes
    def _open_name_scope(self):
        if self.__dict__.get("_parent_path") is None:
            self.__dict__["_parent_path"] = current_path()
        return name_scope(self.name, caller=self)

    def _first_call(self, args, kwargs):
        self.__dict__["_scope_pending"] = False
        try:
            with self._open_name_scope():
                return self.__call__(*args, **kwargs)
        except BaseException:
            self.__dict__["_scope_pending"] = True
            raise

    def _layer_path(self) -> str:
        return _join(self.__dict__.get("_parent_path") or "", self.name)

    def _variable_prefix(self) -> str:
        """The path the variables of `keras_weight_views()` start with (`sequential/dense`;
        layers whose Keras variables belong to an inner object, an RNN's cell, add it)."""
        return self._layer_path()

    @property
    def path(self):
        """The layer's path (`sequential/dense`); None before it is built."""
        return self._layer_path() if self.built else None

    def __getstate__(self):
        # Pickles and deep copies keep the variables made by add_weight (plain handles); those
        # over translated views hold the views' functions, which are made again on demand.
        state = super().__getstate__()
        made = state.get("_variables_made")
        if made:
            state["_variables_made"] = [v for v in made
                                        if v._to_keras is None and v._from_keras is None]
        return state

    # ------------------------------------------------------------------ variables
    def _variable_cache(self) -> list:
        cache = self.__dict__.get("_variables_made")
        if cache is None:
            cache = self.__dict__["_variables_made"] = []
        return cache

    def _variable_for(self, view) -> Variable:
        """The (cached) variable of one of this layer's weight views."""
        tensor = view.tensor
        for var in self._variable_cache():
            if var._store.get(var._key) is tensor:
                var._to_keras, var._from_keras = view.to_keras, view.from_keras
                return var
        owner, store, key = self._find_store(tensor)
        name = view.name.rsplit("/", 1)[-1]
        var = Variable._bound(store, key, name, _join(self._variable_prefix(), view.name),
                              view.to_keras, view.from_keras)
        var.__dict__["_owner"] = owner
        self._variable_cache().append(var)
        return var

    def _find_store(self, tensor):
        """`(module, store, key)`: where `tensor` is registered in this layer's module tree."""
        for module in self.modules():
            for store in (module._parameters, module._buffers):
                for key, t in store.items():
                    if t is tensor:
                        return module, store, key
        # Not registered (a view over a computed tensor): a variable over that tensor alone.
        return None, {"value": tensor}, "value"

    def _state_tensor(self, attr: str) -> torch.Tensor:
        """The torch tensor registered as `attr` (not the Variable an attribute may hold)."""
        if attr in self._parameters:
            return self._parameters[attr]
        if attr in self._buffers:
            return self._buffers[attr]
        value = getattr(self, attr)
        return value.value if isinstance(value, Variable) else value

    @property
    def weights(self) -> list:
        """The layer's weights as Keras variables, in Keras' order (own, then sub-layers')."""
        return [layer._variable_for(view) for layer, view in self._all_weight_views(owners=True)]

    @property
    def trainable_weights(self) -> list:
        if not self.trainable:
            return []
        return [v for v in self.weights if v.trainable]

    @property
    def non_trainable_weights(self) -> list:
        if not self.trainable:
            return self.weights
        return [v for v in self.weights if not v.trainable]

    @property
    def variables(self) -> list:
        return self.weights

    @property
    def trainable_variables(self) -> list:
        return self.trainable_weights

    @property
    def non_trainable_variables(self) -> list:
        return self.non_trainable_weights

    def _trainable_tensor_ids(self) -> set:
        """`id`s of the torch tensors behind `trainable_weights`."""
        return {id(v.value) for v in self.trainable_weights}

    def add_weight(self, shape=None, initializer=None, dtype=None, trainable=True, autocast=True,
                   regularizer=None, constraint=None, aggregation="none",
                   synchronization="auto", name=None, **kwargs):
        """Create a weight: a Variable over a new Parameter, or a buffer when not trainable.

        The tensor is registered under `name`; without one, assigning the variable to an
        attribute (`self.w = self.add_weight(...)`) registers it under that attribute's name
        (one state-dict key, `w`), and its Keras name is `variable` (made unique), as in Keras.
        """
        from kerastorch import initializers
        from kerastorch.layers.layer_utils import standardize_shape
        from kerastorch.ops._dtypes import standardize_dtype
        kwargs.pop("layout", None)
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to add_weight: {kwargs}")
        shape = standardize_shape(shape or ())
        dtype = standardize_dtype(dtype) if dtype is not None else self.variable_dtype
        if initializer is None:
            initializer = "glorot_uniform" if "float" in dtype else "zeros"
        init = initializers.get(initializer)
        value = init(shape, dtype=getattr(torch, dtype))
        if not isinstance(value, torch.Tensor):
            value = torch.as_tensor(value)
        value = value.to(getattr(torch, dtype))
        device = self._device()
        if device is not None:
            value = value.to(device)
        keras_name = name or uniquify("variable")
        key = name
        if key is None:
            key = f"weight_{len(self._parameters) + len(self._buffers)}"
            self.__dict__.setdefault("_auto_named", set()).add(key)
        if trainable:
            self.register_parameter(key, nn.Parameter(value, requires_grad=value.is_floating_point()
                                                      or value.is_complex()))
            store = self._parameters
        else:
            self.register_buffer(key, value)
            store = self._buffers
        with name_scope(self.name, caller=self):
            path = _join(current_path(), keras_name)
        var = Variable._bound(store, key, keras_name, path, aggregation=aggregation or "none",
                              synchronization=synchronization or "none", autocast=autocast)
        var.__dict__["_owner"] = self
        self._variable_cache().append(var)
        if regularizer is not None:
            from kerastorch import regularizers
            var.regularizer = regularizers.get(regularizer)
            self._weight_regularizers().append((var.regularizer, key))
        if constraint is not None:
            from kerastorch import constraints
            var.constraint = constraints.get(constraint)
            self._weight_constraints().append((var.constraint, key))
        return var

    def add_variable(self, shape, initializer, dtype=None, trainable=True, autocast=True,
                     regularizer=None, constraint=None, name=None):
        """Alias of `add_weight` (Keras' `Layer.add_variable`)."""
        return self.add_weight(shape=shape, initializer=initializer, dtype=dtype,
                               trainable=trainable, autocast=autocast, regularizer=regularizer,
                               constraint=constraint, name=name)

    def _track_variable(self, attr: str, var: Variable) -> None:
        """`self.<attr> = variable`: keep the variable as the attribute; its tensor stays (or
        becomes) registered once, under the weight's own key."""
        d = self.__dict__
        if var.__dict__.get("_owner") is self and var._store in (self._parameters,
                                                                  self._buffers):
            auto = d.get("_auto_named")
            if auto and var._key in auto and attr not in auto and attr not in var._store:
                self._rename_weight(var._store, var._key, attr)
        elif var.__dict__.get("_owner") is None and var.__dict__.get("_standalone"):
            # `self.w = keras.Variable(...)`: the layer adopts it (as Keras tracks it)
            tensor = var.value
            for store in (self._parameters, self._buffers):
                store.pop(attr, None)
            d.pop(attr, None)
            if isinstance(tensor, nn.Parameter):
                self.register_parameter(attr, tensor)
                var._store = self._parameters
            else:
                self.register_buffer(attr, tensor)
                var._store = self._buffers
            var._key = attr
            var.__dict__["_owner"] = self
            var.__dict__.pop("_standalone", None)
            self._variable_cache().append(var)
        d[attr] = var  # otherwise: another layer's variable, an alias (no second state entry)

    def _rename_weight(self, store, old, new) -> None:
        items = [(new if k == old else k, v) for k, v in store.items()]
        store.clear()
        store.update(items)  # same dict, same order: variables bound to it stay valid
        self.__dict__["_auto_named"].discard(old)
        for lst in (self.__dict__.get("_regularizers", []), self.__dict__.get("_constraints", [])):
            lst[:] = [(f, new if a == old else a) for f, a in lst]
        frozen = self.__dict__.get("_frozen_keys")
        if frozen and old in frozen:
            frozen.discard(old)
            frozen.add(new)
        for var in self._variable_cache():
            if var._store is store and var._key == old:
                var._key = new

    # ------------------------------------------------------------------ stateless
    def stateless_call(self, trainable_variables, non_trainable_variables, *args,
                       return_losses=False, **kwargs):
        """Call the layer on the given state, leaving its own state unchanged (Keras' API).

        Args:
            trainable_variables: Values aligned with `self.trainable_variables`: tensors in the
                layout of each variable's `value` (torch's), variables, or arrays in Keras'
                layout where the two layouts' shapes differ. Gradients flow to these tensors.
            non_trainable_variables: Likewise for `self.non_trainable_variables`.
            *args, **kwargs: The call's arguments (`training=True`...).
            return_losses: Also return the losses `add_loss` saw during the call.

        Returns:
            `(outputs, non_trainable_variables)` (plus `losses`): the new non-trainable values,
            in `value`'s layout (what `variable.assign(...)` writes back as they are).
        """
        if not self.built:
            raise ValueError(f"To call stateless_call, {type(self).__name__} must be built (i.e. "
                             "its variables must have been already created). You can build it "
                             "by calling it on some data.")
        trainable, non_trainable = self.trainable_variables, self.non_trainable_variables
        for given, want, what in ((trainable_variables, trainable, "trainable_variables"),
                                  (non_trainable_variables, non_trainable,
                                   "non_trainable_variables")):
            if len(given) != len(want):
                raise ValueError(f"Argument `{what}` must be a list of tensors corresponding "
                                 f"1:1 to {type(self).__name__}().{what}. Received list with "
                                 f"length {len(given)}, but expected {len(want)} variables.")
        names = {}
        for name, t in self.named_parameters(remove_duplicate=False):
            names.setdefault(id(t), name)
        for name, t in self.named_buffers(remove_duplicate=False):
            names.setdefault(id(t), name)
        state, order = {}, []
        for var, value in zip(trainable, trainable_variables):
            state[names[id(var.value)]] = var._to_value_layout(value, keep_graph=True)
        for var, value in zip(non_trainable, non_trainable_variables):
            key = names[id(var.value)]
            # a copy: the call updates it in place (BatchNormalization's moving statistics)
            state[key] = var._to_value_layout(value, keep_graph=True).clone()
            order.append(key)
        layers = self._flatten_layers()
        saved_losses = [list(layer._losses) for layer in layers]
        for layer in layers:
            layer._losses.clear()
        try:
            outputs = torch.func.functional_call(self, state, args, kwargs, strict=False)
            losses = self.losses if return_losses else None
        finally:
            for layer, kept in zip(layers, saved_losses):
                layer._losses[:] = kept
        new_values = [mark_torch_layout(state[key]) for key in order]
        if return_losses:
            return outputs, new_values, losses
        return outputs, new_values

