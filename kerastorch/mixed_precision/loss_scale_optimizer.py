"""`LossScaleOptimizer`: Keras 3's dynamic loss scaling around another optimizer.

The rule (Keras' `LossScaleOptimizer`, also torch's `GradScaler` with growth 2, backoff 0.5):
the loss is multiplied by `dynamic_scale` (initially `initial_scale`) before backward; each step
divides the gradients by the scale, and
- if any gradient is inf/NaN: the update is skipped, the scale halves, the counter resets;
- else the inner optimizer steps; after `dynamic_growth_steps` such steps in a row the scale
  doubles and the counter resets.
Unscaling, the finiteness check and the scale update are torch's fused AMP kernels, on the
device. Skipping the update reads one flag back to the host per step (as `GradScaler.step`).
"""

import torch

from kerastorch import optimizers as optimizers_mod
from kerastorch.optimizers.base import OPTIMIZERS, Optimizer
from kerastorch.variables import Variable, _join

_BASE_DEFAULTS = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None,
                  "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
                  "ema_overwrite_frequency": None, "loss_scale_factor": None,
                  "gradient_accumulation_steps": None}


@OPTIMIZERS.register("LossScaleOptimizer")
class LossScaleOptimizer(Optimizer):
    """An optimizer that dynamically scales the loss to prevent float16 gradient underflow.

    Args:
        inner_optimizer: The optimizer to wrap (an instance, or a name such as `"adam"`).
        initial_scale: Float, the initial loss scale (Keras: `2.0**15`).
        dynamic_growth_steps: Int; after this many steps with finite gradients the scale
            doubles (Keras: 2000).
        name: String name.

    `compile` wraps the optimizer in one automatically when the model's dtype policy is
    `"mixed_float16"` and `auto_scale_loss=True` (Keras' rule).
    """

    def __init__(self, inner_optimizer, initial_scale=2.0**15, dynamic_growth_steps=2000,
                 name=None, **kwargs):
        if not kwargs.pop("dynamic", True):
            raise ValueError("LossScaleOptimizer no longer supports `dynamic=False`. Instead, "
                             "simply set `loss_scale_factor` directly on the `inner_optimizer`.")
        for arg, default in _BASE_DEFAULTS.items():
            if arg in kwargs and kwargs.pop(arg) != default:
                raise ValueError(f"LossScaleOptimizer does not support `{arg}`. Instead, set "
                                 f"`{arg}` on the `inner_optimizer`.")
        if kwargs:
            raise ValueError("LossScaleOptimizer does not support arguments: "
                             f"`{'`, `'.join(kwargs)}`.")
        if not isinstance(dynamic_growth_steps, int) or dynamic_growth_steps < 1:
            raise ValueError("`dynamic_growth_steps` must be a positive integer. "
                             f"Received: dynamic_growth_steps={dynamic_growth_steps!r}")
        inner_optimizer = optimizers_mod.get(inner_optimizer)
        super().__init__(learning_rate=0.0, name=name or "loss_scale_optimizer")
        self.inner_optimizer = inner_optimizer  # after: the base __init__ sets learning_rate
        self.initial_scale = float(initial_scale)
        self.dynamic_growth_steps = dynamic_growth_steps
        self.inner_optimizer.loss_scale_factor = None  # else gradients are unscaled twice
        self.dynamic_scale = None  # float32 scalar tensors on the parameters' device, at build
        self.step_counter = None
        self._found_inf = None

    # ------------------------------------------------------------------ delegation
    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        if "inner_optimizer" in self.__dict__:  # the base __init__ sets 0.0 first: ignored
            self.inner_optimizer.learning_rate = value

    @property
    def iterations(self) -> int:
        return self.inner_optimizer.iterations

    def build(self, params) -> None:
        inner = self.inner_optimizer
        inner.build(params)  # idempotent on the same parameters
        if self.built:
            return
        device = inner.param_groups[0]["params"][0].device
        self.dynamic_scale = torch.tensor(self.initial_scale, dtype=torch.float32, device=device)
        self.step_counter = torch.zeros((), dtype=torch.int32, device=device)
        self._found_inf = torch.zeros(1, dtype=torch.float32, device=device)
        # torch's view of this object is the inner optimizer's (LR schedulers, hooks).
        self.param_groups, self.state, self.defaults = inner.param_groups, inner.state, \
            inner.defaults
        self.built = True

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.inner_optimizer.zero_grad(set_to_none)

    def scale_loss(self, loss):
        """`loss * dynamic_scale` (the initial scale before the optimizer is built)."""
        return loss * (self.dynamic_scale if self.built else self.initial_scale)

    # ------------------------------------------------------------------ updating
    def step(self, closure=None):
        """Unscale `p.grad` in place, then step the inner optimizer unless a gradient is
        inf/NaN, then update the scale."""
        if not self.built:
            raise RuntimeError(f"Optimizer '{self.name}' is not built: call "
                               "`optimizer.build(model.parameters())` before `step()`.")
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        grads = [p.grad for p in self.inner_optimizer.param_groups[0]["params"]
                 if p.grad is not None]
        if not grads:
            return loss
        if self.dynamic_scale.device != grads[0].device:
            self._to_device(grads[0].device)
        found_inf = self._found_inf
        found_inf.zero_()
        with torch.no_grad():
            torch._amp_foreach_non_finite_check_and_unscale_(
                grads, found_inf, self.dynamic_scale.reciprocal())
            if not found_inf.item():  # the one host read: skip the update on inf/NaN
                self.inner_optimizer.step()
            torch._amp_update_scale_(self.dynamic_scale, self.step_counter, found_inf,
                                     2.0, 0.5, self.dynamic_growth_steps)
        return loss

    def _to_device(self, device):
        self.dynamic_scale = self.dynamic_scale.to(device)
        self.step_counter = self.step_counter.to(device)
        self._found_inf = self._found_inf.to(device)

    def apply(self, grads, trainable_variables=None) -> None:
        """Keras' `apply` with scaled gradients: set `.grad`, then `step()`."""
        grads = list(grads)
        variables = list(trainable_variables) if trainable_variables is not None else \
            list(self.inner_optimizer.param_groups[0]["params"]) if self.built else None
        if variables is None:
            raise ValueError("When passing `grads` without `variables`, the optimizer must "
                             "already be built on a list of variables.")
        if not self.built:
            self.build(variables)
        if len(grads) != len(variables):
            raise ValueError(f"Expected one gradient per variable ({len(variables)}). "
                             f"Received: {len(grads)} gradients")
        for v, g in zip(variables, grads):
            if isinstance(v, Variable):
                v.value.grad = None if g is None else v._to_value_layout(g, "gradient").clone()
                continue
            v.grad = None if g is None else torch.as_tensor(
                g, dtype=v.dtype, device=v.device).detach().clone()
        self.step()

    def stateless_apply(self, optimizer_variables, grads, trainable_variables):
        raise NotImplementedError("LossScaleOptimizer.stateless_apply is not supported; use "
                                  "the inner optimizer's stateless_apply with unscaled "
                                  "gradients.")

    def finalize_variable_values(self, var_list=None) -> None:
        self.inner_optimizer.finalize_variable_values(var_list)

    # ------------------------------------------------------------------ state
    @property
    def variables(self) -> list:
        own = [Variable._bound(self.__dict__, key, name, _join(self.name, name))
               for key, name in (("step_counter", "step_counter"),
                                 ("dynamic_scale", "dynamic_scale"))] if self.built else []
        return own + self.inner_optimizer.variables

    def state_dict(self) -> dict:
        if not self.built:
            raise RuntimeError(f"Optimizer '{self.name}' is not built; it has no state yet.")
        return {"inner_optimizer": self.inner_optimizer.state_dict(),
                "dynamic_scale": self.dynamic_scale.clone(),
                "step_counter": self.step_counter.clone()}

    def load_state_dict(self, state_dict: dict) -> None:
        if not self.built:
            raise RuntimeError(f"Optimizer '{self.name}' is not built: call "
                               "`optimizer.build(params)` before `load_state_dict()`.")
        self.inner_optimizer.load_state_dict(state_dict["inner_optimizer"])
        self.param_groups, self.state = self.inner_optimizer.param_groups, \
            self.inner_optimizer.state
        with torch.no_grad():
            self.dynamic_scale.copy_(torch.as_tensor(state_dict["dynamic_scale"]))
            self.step_counter.copy_(torch.as_tensor(state_dict["step_counter"]))

    def __getstate__(self) -> dict:
        return dict(self.__dict__)

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        return (f"LossScaleOptimizer(name={self.name!r}, inner_optimizer="
                f"{self.inner_optimizer!r}, initial_scale={self.initial_scale})")

    def get_config(self) -> dict:
        return {"name": self.name, "inner_optimizer": optimizers_mod.serialize(
                    self.inner_optimizer), "initial_scale": self.initial_scale,
                "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        config = dict(config)
        inner = optimizers_mod.deserialize(config.pop("inner_optimizer"))
        return cls(inner, **config)
