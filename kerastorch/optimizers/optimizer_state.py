"""The saved state of an `Optimizer`: Keras' `variables` / `set_weights`, torch's `state_dict`.

Keras' optimizer variables are, in order: `iterations`, `learning_rate` (unless it is a schedule
or a callable), the per-parameter slots (EMA averages, gradient accumulators, then the
optimizer's own, interleaved per parameter as Keras' `add_optimizer_variables` makes them), then
any scalar state of the optimizer (Nadam's `u_product`). Here the slots live in torch's
`self.state[p]`, the count and scalars are Python numbers (so a step never syncs the device).
"""

import numpy as np
import torch

from kerastorch.variables import Variable, _join, mark_torch_layout


class _NumberStore:
    """A `Variable` store over a Python number kept by the optimizer (the iteration count, the
    learning rate): reading gives a fresh tensor, `assign` writes the number back."""

    def __init__(self, get, put, dtype):
        self._get, self._put, self._dtype = get, put, dtype

    def __getitem__(self, key):
        return torch.tensor(self._get(), dtype=self._dtype)

    def get(self, key, default=None):
        return self[key]


class _NumberVariable(Variable):
    """An optimizer variable whose state is a Python number (so a step never syncs)."""

    def assign(self, value):
        value = value.value if isinstance(value, Variable) else value
        value = torch.as_tensor(np.asarray(value.detach().cpu() if isinstance(
            value, torch.Tensor) else value))
        if value.ndim:
            raise ValueError(self._shape_error(value.shape, ()))
        store = self._store
        store._put(int(value) if store._dtype == torch.int64 else float(value))
        return self.value


class OptimizerState:
    """Mixin of `Optimizer`: the state views. Expects `_iterations`, `_hyper`, `_schedule`,
    `_params`, `_slots`, `_all_slot_groups()`, `_refresh()` and `_scalar_state`."""

    # Names of Python-float attributes that are Keras optimizer variables (after the slots).
    _scalar_state: tuple = ()

    @property
    def variables(self) -> list:
        """Keras' optimizer variables (`keras.Variable`s) in Keras' order: `iteration`,
        `learning_rate` (unless it is a schedule), the slots, then scalar state (Nadam's
        `u_product`). A slot's `.value` is the torch state tensor (in the parameter's torch
        layout); its Keras view is that of the variable the optimizer was built on (a
        parameter given as a plain tensor: the same layout)."""
        key = (self.built, self._schedule is None, id(getattr(self, "state", None)))
        cached = self.__dict__.get("_variable_handles")
        if cached is None or cached[0] != key:
            cached = self.__dict__["_variable_handles"] = (key, self._make_variables())
        return list(cached[1])

    def _make_variables(self) -> list:
        def number(name, get, put, dtype):
            return _NumberVariable._bound(_NumberStore(get, put, dtype), name, name,
                                          _join(self.name, name))

        def set_iterations(v):
            self._iterations = v

        def set_lr(v):
            self._hyper["lr"] = v

        out = [number("iteration", lambda: self._iterations, set_iterations, torch.int64)]
        if self._schedule is None:
            out.append(number("learning_rate", lambda: self._hyper["lr"], set_lr,
                              torch.float32))
        if not self.built:
            return out
        built = self.__dict__.get("_built_variables") or [None] * len(self._params)
        for group in self._all_slot_groups():
            for i, p in enumerate(self._params):
                var = built[i]
                ref = var.path if var is not None else (self._names[i] or f"variable_{i}")
                for n in group:
                    name = f"{ref.replace('/', '_').replace('.', '_')}_{n}"
                    out.append(Variable._bound(
                        self.state[p], n, name, _join(self.name, name),
                        var._to_keras if var is not None else None,
                        var._from_keras if var is not None else None))
        for n in self._scalar_state:
            out.append(number(n, lambda n=n: getattr(self, n),
                              lambda v, n=n: setattr(self, n, v), torch.float32))
        return out

    def _variable_tensors(self) -> list:
        """The values of `variables` as tensors (the slots themselves), torch layout."""
        out = [torch.tensor(self._iterations)]
        if self._schedule is None:
            out.append(torch.tensor(self._hyper["lr"], dtype=torch.float32))
        if self.built:
            for group in self._all_slot_groups():
                out.extend(self._slots[n][i] for i in range(len(self._params)) for n in group)
            out.extend(torch.tensor(getattr(self, n), dtype=torch.float32)
                       for n in self._scalar_state)
        return out

    def set_weights(self, weights) -> None:
        """Assign values in the order of `variables` (numpy arrays or tensors)."""
        if not self.built:
            raise ValueError("You are calling `set_weights()` on an optimizer that has not yet "
                             "been built. Call `optimizer.build(params)` first.")
        weights = list(weights)
        variables = self._variable_tensors()
        if len(weights) != len(variables):
            raise ValueError(f"Optimizer '{self.name}' has {len(variables)} variables. "
                             f"Received: {len(weights)} weights")
        self._iterations = int(weights[0])
        start = 1 if self._schedule is not None else 2
        if start == 2:
            self._hyper["lr"] = float(weights[1])
        n_scalars = len(self._scalar_state)
        end = len(variables) - n_scalars
        with torch.no_grad():
            for var, w in zip(variables[start:end], weights[start:end]):
                # A copy: Keras' arrays are often read-only, which torch.as_tensor warns about.
                w = w if isinstance(w, torch.Tensor) else torch.from_numpy(np.array(w))
                if tuple(w.shape) != tuple(var.shape):
                    raise ValueError(f"Optimizer variable has shape {tuple(var.shape)}. "
                                     f"Received: a weight of shape {tuple(w.shape)}")
                var.copy_(w)
        for name, w in zip(self._scalar_state, weights[end:]):
            setattr(self, name, float(w))

    def state_dict(self) -> dict:
        """torch's state dict plus the Keras iteration count under `"iterations"` (and scalar
        state such as Nadam's `u_product` under `"scalars"`)."""
        if not self.built:
            raise RuntimeError(f"Optimizer '{self.name}' is not built; it has no state yet.")
        out = super().state_dict()
        out["iterations"] = self._iterations
        if self._scalar_state:
            out["scalars"] = {n: getattr(self, n) for n in self._scalar_state}
        return out

    def load_state_dict(self, state_dict: dict) -> None:
        if not self.built:
            raise RuntimeError(f"Optimizer '{self.name}' is not built: call "
                               "`optimizer.build(params)` before `load_state_dict()`.")
        state_dict = dict(state_dict)
        iterations = state_dict.pop("iterations", None)
        scalars = state_dict.pop("scalars", None) or {}
        super().load_state_dict(state_dict)
        if iterations is not None:
            self._iterations = int(iterations)
        for name in self._scalar_state:
            if name in scalars:
                setattr(self, name, float(scalars[name]))
        self._refresh()

    def __getstate__(self) -> dict:
        # Without the Keras variables (they hold the model's modules).
        state = {k: v for k, v in self.__dict__.items()
                 if k not in ("_views", "_full", "_variable_handles")}
        if "_built_variables" in state:
            state["_built_variables"] = [None] * len(state["_built_variables"])
        state["_wd_exclude_vars"] = []
        return state

    # ------------------------------------------------------------------ stateless
    def stateless_apply(self, optimizer_variables, grads, trainable_variables):
        """`apply(grads)` on the given values instead of the state, which stays unchanged.

        Args:
            optimizer_variables: Values aligned with `variables` (tensors, or the variables).
            grads: Gradients aligned with the variables the optimizer was built on.
            trainable_variables: Their values: tensors in the layout of each variable's
                `value` (torch's), variables, or arrays in Keras' layout where the two layouts'
                shapes differ.

        Returns:
            `(new_trainable_variables, new_optimizer_variables)`, tensors in `value`'s layout
            (what `variable.assign(...)` writes back as they are).
        """
        if not self.built:
            raise ValueError(f"To call `stateless_apply`, {type(self).__name__} must be built "
                             "(i.e. its variables must have been created). You can build it "
                             "via `optimizer.build(trainable_variables)`.")
        handles = self.variables
        if len(optimizer_variables) != len(handles):
            raise ValueError("Argument `optimizer_variables` must be a list of tensors "
                             f"corresponding 1:1 to {type(self).__name__}().variables. Received "
                             f"list with length {len(optimizer_variables)}, but expected "
                             f"{len(handles)} variables.")
        if len(trainable_variables) != len(self._params):
            raise ValueError("Argument `trainable_variables` must be a list of tensors "
                             "corresponding 1:1 to the trainable variables list that the "
                             "optimizer was built with. Received len(trainable_variables) == "
                             f"{len(trainable_variables)} whereas the optimizer was built with "
                             f"{len(self._params)} variables.")
        built = self.__dict__.get("_built_variables") or [None] * len(self._params)
        targets = [v if v is not None else Variable._bound({"value": p}, "value", "variable",
                                                           "variable")
                   for v, p in zip(built, self._params)]
        saved_params = [p.detach().clone() for p in self._params]
        saved_grads = [p.grad for p in self._params]
        saved_state = [h.value.detach().clone() for h in handles]
        saved_lr = self._hyper["lr"]
        try:
            with torch.no_grad():
                for p, target, value in zip(self._params, targets, trainable_variables):
                    p.copy_(target._to_value_layout(value, "trainable variable"))
                for h, value in zip(handles, optimizer_variables):
                    if isinstance(h, _NumberVariable):
                        h.assign(value)
                    else:
                        h.value.copy_(h._to_value_layout(value, "optimizer variable"))
            self.apply(grads, targets)
            new_params = [mark_torch_layout(p.detach().clone()) for p in self._params]
            new_state = [mark_torch_layout(h.value.detach().clone()) for h in handles]
        finally:
            with torch.no_grad():
                for p, value, grad in zip(self._params, saved_params, saved_grads):
                    p.copy_(value)
                    p.grad = grad
                for h, value in zip(handles, saved_state):
                    if isinstance(h, _NumberVariable):
                        h.assign(value)
                    else:
                        h.value.copy_(value)
            self._hyper["lr"] = saved_lr
        return new_params, new_state

    def __setstate__(self, state: dict) -> None:
        if state.get("built"):
            super().__setstate__(state)
            self._refresh()
        else:
            self.__dict__.update(state)
