"""The `Optimizer` base: Keras' constructor and per-step pipeline on a `torch.optim.Optimizer`.

Keras creates an optimizer before the model has variables and builds it at the first update;
torch wants the parameters in the constructor. So `__init__` takes only Keras hyperparameters and
`build(params)` runs `torch.optim.Optimizer.__init__` once. After that the object is a plain torch
optimizer (`step`, `zero_grad`, `state_dict`, `param_groups`, step hooks), with one param group
whose `"lr"` holds the current learning rate (so torch LR schedulers can drive it too).

One update, in Keras' order (`BaseOptimizer.apply`, the JAX backend's `_backend_apply_gradients`):
unscale by `loss_scale_factor` -> gradient accumulation -> clip (`clipnorm` per variable, else
`global_clipnorm`, else `clipvalue`) -> decoupled weight decay `w -= w * weight_decay * lr` with the
current lr -> the subclass's `update_step` with `t = iterations + 1` -> EMA of the weights ->
`iterations += 1`. The count and the learning rate are Python numbers, so a step never syncs.

A subclass declares its slots (`_slot_groups`, `_slot_initial_value`) and its rule
(`update_step`, one `torch._foreach_*` pass over all parameters); `optimizer_state.py` holds the
saved-state views (`variables`, `set_weights`, `state_dict`).
"""

import numbers
import re
import warnings

import torch
from torch.optim import optimizer as _torch_optimizer

from kerastorch.optimizers import schedules
from kerastorch.optimizers.optimizer_state import OptimizerState
from kerastorch.utils.naming import to_snake_case, uniquify
from kerastorch.utils.registry import Registry
from kerastorch.variables import Variable

OPTIMIZERS = Registry("optimizer")

_profiler_enabled = torch._C._autograd._profiler_enabled
# torch's registries of global step hooks, mutated in place by register_optimizer_step_*_hook.
_GLOBAL_PRE_HOOKS = _torch_optimizer._global_optimizer_pre_hooks
_GLOBAL_POST_HOOKS = _torch_optimizer._global_optimizer_post_hooks


class _View:
    """The parameters of one update and their slot lists, cached per set of present grads."""

    __slots__ = ("params", "slots", "decay")

    def __init__(self, params, slots, decay):
        self.params, self.slots, self.decay = params, slots, decay


@torch.optim.Optimizer.profile_hook_step
def _hooked_step(self, closure=None):
    """`_step` inside torch's wrapper: profiler record, pre- and post-step hooks."""
    return self._step(closure)


class Optimizer(OptimizerState, torch.optim.Optimizer):
    """Base class of kerastorch optimizers: Keras arguments, a `torch.optim.Optimizer` once built.

    Args:
        learning_rate: Float, a `schedules.LearningRateSchedule` (called with `iterations` before
            each update), or a callable with no arguments returning a float.
        weight_decay: Float or `None`. Decoupled: `w -= w * weight_decay * lr` before the update,
            on every optimizer (torch's `Adam(weight_decay=)` adds `wd * w` to the gradient).
        clipnorm: Float or `None`: clip each gradient to this L2 norm.
        clipvalue: Float or `None`: clip gradients elementwise to `[-clipvalue, clipvalue]`.
        global_clipnorm: Float or `None`: scale all gradients so their joint norm is at most this.
            At most one of the three clipping arguments may be set.
        use_ema: Whether to keep an exponential moving average of the weights.
        ema_momentum: Float in `[0, 1]`: `average = m * average + (1 - m) * weight`.
        ema_overwrite_frequency: Int or `None`: copy the averages into the weights every this many
            iterations; `None` leaves that to `finalize_variable_values()`.
        loss_scale_factor: Float or `None`: gradients are divided by it (see `scale_loss`).
        gradient_accumulation_steps: Int >= 2 or `None`: apply the mean of this many gradients
            once every this many calls; `iterations` counts applied updates.
        name: String; defaults to the snake-cased class name made unique (`adam`, `adam_1`).

    Example:

    ```python
    model = torch.nn.Linear(3, 2)
    opt = kerastorch.optimizers.Adam(learning_rate=1e-3)
    opt.build(model.parameters())
    model(torch.ones(1, 3)).sum().backward()
    opt.step()
    ```
    """

    # A subclass's hyperparameters: attributes of these names, added to `get_config()` after
    # the common keys, in Keras' order.
    _config_keys: tuple = ()

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        # torch.optim.Optimizer.__init__ needs the parameters; build() calls it.
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.",
                          stacklevel=2)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be "
                             f"set. Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                             f"global_clipnorm={global_clipnorm}")
        if gradient_accumulation_steps and not (
                isinstance(gradient_accumulation_steps, numbers.Integral)
                and gradient_accumulation_steps >= 2):
            raise ValueError("`gradient_accumulation_steps` must be an integer >= 2. "
                             f"Received: gradient_accumulation_steps={gradient_accumulation_steps}")
        if use_ema:
            if not 0 <= ema_momentum <= 1:
                raise ValueError("`ema_momentum` must be in the range [0, 1]. "
                                 f"Received: ema_momentum={ema_momentum}")
            if ema_overwrite_frequency is not None and not (
                    isinstance(ema_overwrite_frequency, numbers.Integral)
                    and ema_overwrite_frequency >= 1):
                raise ValueError("`ema_overwrite_frequency` must be an integer >= 1 or None. "
                                 f"Received: ema_overwrite_frequency={ema_overwrite_frequency}")
        self.name = name or uniquify(to_snake_case(type(self).__name__))
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.built = False
        self._iterations = 0
        self._hyper = {"lr": 0.0}  # becomes param_groups[0] at build
        self._schedule = None
        self._wd_exclude_ids, self._wd_exclude_pattern = set(), None
        self._wd_exclude_vars = []
        self.learning_rate = learning_rate

    # ------------------------------------------------------------------ learning rate, iterations
    @property
    def iterations(self) -> int:
        """Updates applied so far (Keras divides by `gradient_accumulation_steps`)."""
        steps = self.gradient_accumulation_steps
        return self._iterations // steps if steps else self._iterations

    @property
    def learning_rate(self) -> float:
        """The current learning rate; a schedule is evaluated at the current iteration count."""
        return self._current_lr() if self._schedule is not None else self._hyper["lr"]

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(value, schedules.LearningRateSchedule) or callable(value):
            self._schedule = value
            self._current_lr()
            return
        if isinstance(self._schedule, schedules.LearningRateSchedule):
            raise TypeError("The learning rate of an optimizer created with a "
                            "`LearningRateSchedule` is not settable; create it with a float "
                            f"`learning_rate` instead. Received: learning_rate={value!r}")
        try:
            if isinstance(value, (str, bytes, bool)):
                raise TypeError
            lr = float(value)
        except (TypeError, ValueError):
            raise ValueError("Argument `learning_rate` should be a float, a "
                             "LearningRateSchedule or a callable returning a float. "
                             f"Received: learning_rate={value!r}") from None
        self._schedule = None
        self._hyper["lr"] = lr

    def _current_lr(self) -> float:
        schedule = self._schedule
        if schedule is None:
            return self._hyper["lr"]
        # Keras evaluates schedules at the raw counter, before it is incremented.
        if isinstance(schedule, schedules.LearningRateSchedule):
            lr = float(schedule(self._iterations))
        else:
            lr = float(schedule())
        self._hyper["lr"] = lr  # keeps param_groups[0]["lr"] current for logging and callbacks
        return lr

    # ------------------------------------------------------------------ building
    def _slot_groups(self) -> list[tuple[str, ...]]:
        """Subclasses: the per-parameter state tensors, grouped as Keras orders its variables."""
        return []

    def _slot_initial_value(self, name: str) -> float:
        """Subclasses: the value a slot starts at (Adagrad's `initial_accumulator_value`)."""
        return 0.0

    def _all_slot_groups(self) -> list[tuple[str, ...]]:
        groups = [("average",)] if self.use_ema else []
        if self.gradient_accumulation_steps:
            groups.append(("gradient_accumulator",))
        return groups + self._slot_groups()

    def build(self, params) -> None:
        """Become a torch optimizer over `params`: Keras variables (`model.trainable_variables`:
        their torch tensors, `.value`, are optimized), tensors, or `(name, tensor)` pairs such
        as `model.named_parameters()`. Names (a variable's path) are what
        `exclude_from_weight_decay(var_names=...)` matches.

        Building again with the same parameters does nothing; with others it raises.
        """
        items = list(params)
        if items and isinstance(items[0], tuple):
            names = [n for n, _ in items]
            items = [p for _, p in items]
        else:
            names = [getattr(p, "path", None) or getattr(p, "name", None) for p in items]
        built_variables = [p if isinstance(p, Variable) else None for p in items]
        self._wd_exclude_ids |= {id(p.value) for p in self._wd_exclude_vars
                                 if isinstance(p, Variable)}
        items = [p.value if isinstance(p, Variable) else p for p in items]
        if self.built:
            if len(items) == len(self._params) and all(
                    a is b for a, b in zip(items, self._params)):
                return
            raise ValueError(f"Optimizer '{self.name}' is already built on "
                             f"{len(self._params)} other parameters; create a new optimizer "
                             f"for a different model. Received: {len(items)} parameters")
        if not items:
            raise ValueError(f"Optimizer '{self.name}' got an empty parameter list.")
        for p in items:
            if not isinstance(p, torch.Tensor):
                raise TypeError("`build` expects an iterable of torch tensors (Keras has a single "
                                "parameter group, so torch-style group dicts are not "
                                f"supported). Received an element: {p!r}")
        super().__init__(items, {"lr": self._hyper["lr"]})
        self._names = names
        self._built_variables = built_variables  # their layouts name the slots' Keras layout
        self.built = True
        self._refresh()

    def add_param_group(self, param_group) -> None:
        if self.built:
            raise NotImplementedError("kerastorch optimizers keep one parameter group (Keras uses "
                                      "one learning rate for all variables); build a new "
                                      "optimizer over all parameters instead.")
        # torch wraps it in `torch._disable_dynamo`, whose first call imports torch._dynamo
        # (about 2 s of a first `fit` on CPU); outside torch.compile the plain function is it.
        plain = torch.optim.Optimizer.add_param_group
        if not torch.compiler.is_compiling():
            plain = getattr(plain, "__wrapped__", plain)
        plain(self, param_group)

    def _refresh(self) -> None:
        """(Re)derive the cached lists from `param_groups` and `state` (after build or load)."""
        self._hyper = self.param_groups[0]
        self._params = self._hyper["params"]
        self._slot_names = [n for group in self._all_slot_groups() for n in group]
        for p in self._params:
            state = self.state[p]
            for n in self._slot_names:
                if n not in state:
                    state[n] = torch.full_like(p, self._slot_initial_value(n),
                                               memory_format=torch.preserve_format)
        self._slots = {n: [self.state[p][n] for p in self._params] for n in self._slot_names}
        self._index = {id(p): i for i, p in enumerate(self._params)}
        pattern = self._wd_exclude_pattern
        self._decays = [id(p) not in self._wd_exclude_ids
                        and not (pattern and name and pattern.search(name))
                        for p, name in zip(self._params, self._names)]
        self._views = {}
        self._full = self._view(tuple(range(len(self._params))))

    def _view(self, keep: tuple) -> _View:
        view = self._views.get(keep)
        if view is None:
            if len(self._views) > 64:  # grads present on ever-changing subsets: don't hoard
                self._views = {tuple(range(len(self._params))): self._full}
            params = [self._params[i] for i in keep]
            slots = {n: [s[i] for i in keep] for n, s in self._slots.items()}
            decay = [self._params[i] for i in keep if self._decays[i]]
            view = self._views[keep] = _View(params, slots, decay)
        return view

    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        """Exclude parameters (by identity, or whose name contains one of `var_names`) from
        weight decay. Names exist only when `build` got `(name, tensor)` pairs, and they are
        torch's (`0.weight`, `0.bias`), not Keras' (`kernel`, `bias`). Call before `build`."""
        if self.built:
            raise ValueError("`exclude_from_weight_decay()` can only be configured before the "
                             "optimizer is built.")
        self._wd_exclude_vars = list(var_list or ())
        self._wd_exclude_ids = {id(v) for v in self._wd_exclude_vars}
        self._wd_exclude_pattern = re.compile("|".join(set(var_names))) if var_names else None

    # ------------------------------------------------------------------ updating
    def step(self, closure=None):
        """One update from `p.grad` (torch semantics); parameters whose grad is `None` are
        skipped, and a step where every grad is `None` does nothing."""
        if not self.built:
            raise RuntimeError(f"Optimizer '{self.name}' is not built: call "
                               "`optimizer.build(model.parameters())` before `step()`.")
        # torch wraps `step` in a profiler record and hook loop costing ~10 us a call, more than
        # a whole SGD update of a small MLP; pay for it only when hooks or a profiler are on.
        if (self._optimizer_step_pre_hooks or self._optimizer_step_post_hooks
                or _GLOBAL_PRE_HOOKS or _GLOBAL_POST_HOOKS or _profiler_enabled()):
            return _hooked_step(self, closure)
        return self._step(closure)

    def _step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        grads = [p.grad for p in self._params]
        # Not `None in grads`: that calls Tensor.__eq__(None), ~6 us per tensor.
        for g in grads:
            if g is None:
                keep = tuple(i for i, g in enumerate(grads) if g is not None)
                if keep:
                    self._update(self._view(keep), [grads[i] for i in keep])
                return loss
        self._update(self._full, grads)
        return loss

    def _patch_step_function(self) -> None:
        # Called by torch's __init__/__setstate__ to wrap `type(self).step`; `step` does it.
        self._zero_grad_profile_name = f"Optimizer.zero_grad#{type(self).__name__}.zero_grad"

    def apply(self, grads, trainable_variables=None) -> None:
        """Keras' update: set each variable's `.grad` and update exactly those variables.

        Args:
            grads: List of gradients (tensors or arrays); `None` entries are skipped. For a
                Keras variable, in the layout of its `.value` (torch's: `v.value.grad`) or, where
                the shapes differ, of the variable (Keras').
            trainable_variables: The matching Keras variables or parameters; builds the
                optimizer on first use. Omitted: those the optimizer was built with, in order.
        """
        grads = list(grads)
        if not grads:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError("When passing `grads` without `variables`, the optimizer must "
                                 "already be built on a list of variables. Call "
                                 "`optimizer.build(trainable_variables)` first.")
            variables = [v if v is not None else p
                         for v, p in zip(self._built_variables, self._params)]
        else:
            variables = list(trainable_variables)
            if not self.built:
                self.build(variables)
        if len(grads) != len(variables):
            raise ValueError(f"Expected one gradient per variable ({len(variables)}). "
                             f"Received: {len(grads)} gradients")
        keep, present = [], []
        for v, g in zip(variables, grads):
            t = v.value if isinstance(v, Variable) else v
            i = self._index.get(id(t))
            if i is None:
                what = f"'{v.path}'" if isinstance(v, Variable) else "of shape " \
                    f"{tuple(v.shape)}"
                raise ValueError(f"Unknown variable {what}: optimizer '{self.name}' was built "
                                 f"on other parameters ({len(self._params)} of them); a new "
                                 "model needs a new optimizer.")
            if g is not None:
                if isinstance(v, Variable):
                    g = v._to_value_layout(g, "gradient")
                else:
                    g = torch.as_tensor(g, dtype=t.dtype, device=t.device).detach()
                t.grad = g
                keep.append(i)
                present.append(g)
        if not present:
            raise ValueError("No gradients provided for any variable.")
        self._update(self._view(tuple(keep)), present)

    def apply_gradients(self, grads_and_vars) -> int:
        """`apply` for a list of `(grad, variable)` pairs; returns `iterations` like tf.keras."""
        grads, variables = zip(*grads_and_vars)
        self.apply(list(grads), list(variables))
        return self.iterations

    def _update(self, view: _View, grads: list) -> None:
        prev = torch.is_grad_enabled()
        torch._C._set_grad_enabled(False)
        try:
            it = self._iterations
            lr = self._current_lr() if self._schedule is not None else self._hyper["lr"]
            if self.loss_scale_factor is not None:
                grads = torch._foreach_div(grads, self.loss_scale_factor)
            steps = self.gradient_accumulation_steps
            if steps:
                t = it // steps + 1
                acc = view.slots["gradient_accumulator"]
                if (it + 1) % steps:
                    torch._foreach_add_(acc, grads)
                    grads = None
                else:  # the mean of the accumulated grads and this one; reset the accumulators
                    grads = torch._foreach_add(grads, acc)
                    torch._foreach_div_(grads, steps)
                    torch._foreach_zero_(acc)
            else:
                t = it + 1
            if grads is not None:
                grads = self._clip(grads)
                if self.weight_decay and view.decay:
                    # Keras `w - w * wd * lr`. Not `w *= 1 - wd * lr` (Keras' torch backend):
                    # float32 rounds 1 - 4e-6 by up to 0.75% of the decay.
                    torch._foreach_add_(view.decay, view.decay, alpha=-self.weight_decay * lr)
                self.update_step(view.params, grads, view.slots, lr, t)
            if self.use_ema:
                self._update_ema(t - 1)
            self._iterations = it + 1
        finally:
            torch._C._set_grad_enabled(prev)

    def _clip(self, grads: list) -> list:
        if self.clipnorm and self.clipnorm > 0:  # g * c / max(||g||, c), per variable
            norms = torch._foreach_clamp_min(torch._foreach_norm(grads), self.clipnorm)
            clipped = torch._foreach_mul(grads, self.clipnorm)
            torch._foreach_div_(clipped, norms)
            return clipped
        if self.global_clipnorm and self.global_clipnorm > 0:
            c = self.global_clipnorm
            norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
            # Keras: c * min(1/norm, 1/c), plus (norm - norm) so that inf/NaN norms give NaN.
            scale = torch.clamp_max(norm.reciprocal(), 1.0 / c).mul_(c).add_(norm - norm)
            return torch._foreach_mul(grads, scale)
        if self.clipvalue and self.clipvalue > 0:
            clipped = torch._foreach_clamp_min(grads, -self.clipvalue)
            torch._foreach_clamp_max_(clipped, self.clipvalue)
            return clipped
        return grads

    def _update_ema(self, iterations: int) -> None:
        # Keras uses momentum 0 at iteration 0, so the average starts at the weights.
        momentum = self.ema_momentum if iterations != 0 else 0.0
        averages = self._slots["average"]
        torch._foreach_mul_(averages, momentum)
        torch._foreach_add_(averages, self._params, alpha=1.0 - momentum)
        freq = self.ema_overwrite_frequency
        if freq and (iterations + 1) % freq == 0:
            torch._foreach_copy_(self._params, averages)

    def update_step(self, params: list, grads: list, slots: dict, lr: float, t: int) -> None:
        """Subclasses: apply the update rule to all `params` at once with `torch._foreach_*`.

        Args:
            params: Parameters to update (those with a gradient this step).
            grads: Their gradients, after unscaling and clipping.
            slots: Slot name -> list of state tensors aligned with `params`.
            lr: The learning rate for this step (float).
            t: The 1-based update count (Keras `iterations + 1`).
        """
        raise NotImplementedError(f"{type(self).__name__} must implement `update_step`.")

    def finalize_variable_values(self, var_list=None) -> None:
        """With `use_ema`, copy the moving averages into the weights (Keras does this after fit).
        `var_list`: Keras variables or parameters the optimizer was built on (default: all)."""
        if self.use_ema and self.built:
            tensors = [v.value if isinstance(v, Variable) else v
                       for v in (self._params if var_list is None else var_list)]
            index = [self._index.get(id(t)) for t in tensors]
            pairs = [(t, self._slots["average"][i]) for t, i in zip(tensors, index)
                     if i is not None]
            if pairs:
                with torch.no_grad():
                    torch._foreach_copy_([t for t, _ in pairs], [a for _, a in pairs])

    def scale_loss(self, loss):
        """Multiply the loss by `loss_scale_factor` before backward (the step divides it out)."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    def zero_grad(self, set_to_none: bool = True) -> None:
        """torch's `zero_grad`; the default path skips its profiler record (~10 us a call)."""
        if not self.built:
            return
        if not set_to_none:
            return super().zero_grad(set_to_none=False)
        for p in self._params:
            p.grad = None

    def __repr__(self) -> str:
        lr = self._schedule if self._schedule is not None else self._hyper["lr"]
        return f"{type(self).__name__}(name={self.name!r}, learning_rate={lr!r})"

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict:
        """Keras' keys: the common ones, then the subclass's `_config_keys`."""
        schedule = self._schedule
        if schedule is None:
            lr = self._hyper["lr"]
        elif isinstance(schedule, schedules.LearningRateSchedule):
            lr = schedules.serialize(schedule)
        else:
            lr = schedule  # a plain callable: not serializable, as in Keras without registration
        keys = ("weight_decay", "clipnorm", "global_clipnorm", "clipvalue", "use_ema",
                "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
                "gradient_accumulation_steps")
        return {"name": self.name, "learning_rate": lr, **{k: getattr(self, k) for k in keys},
                **{k: getattr(self, k) for k in self._config_keys}}

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        config = dict(config)
        for key in ("jit_compile", "is_legacy_optimizer"):  # tf.keras 2.11+ configs carry these
            config.pop(key, None)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"])
        return cls(**config)
