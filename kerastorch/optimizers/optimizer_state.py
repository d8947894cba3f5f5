"""The saved state of an `Optimizer`: Keras' `variables` / `set_weights`, torch's `state_dict`.

Keras' optimizer variables are, in order: `iterations`, `learning_rate` (unless it is a schedule
or a callable), the per-parameter slots (EMA averages, gradient accumulators, then the
optimizer's own, interleaved per parameter as Keras' `add_optimizer_variables` makes them), then
any scalar state of the optimizer (Nadam's `u_product`). Here the slots live in torch's
`self.state[p]`, the count and scalars are Python numbers (so a step never syncs the device).
"""

import numpy as np
import torch


class OptimizerState:
    """Mixin of `Optimizer`: the state views. Expects `_iterations`, `_hyper`, `_schedule`,
    `_params`, `_slots`, `_all_slot_groups()`, `_refresh()` and `_scalar_state`."""

    # Names of Python-float attributes that are Keras optimizer variables (after the slots).
    _scalar_state: tuple = ()

    @property
    def variables(self) -> list:
        """Keras' optimizer variables in Keras' order: iterations, learning_rate (unless it is a
        schedule), the slots, then scalar state. Slots are in torch layout (a Dense slot is
        `(out, in)`)."""
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
        variables = self.variables
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
        return {k: v for k, v in self.__dict__.items() if k not in ("_views", "_full")}

    def __setstate__(self, state: dict) -> None:
        if state.get("built"):
            super().__setstate__(state)
            self._refresh()
        else:
            self.__dict__.update(state)
