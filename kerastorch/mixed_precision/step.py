"""The trainer's step functions when something is on beyond the plain float32 eager step.

`runner_for(model)` returns `None` in the common case (float32 policy, no `jit_compile`, one
process, no loss scaling), and the trainer's default steps run their own lean code. Otherwise it
returns a `StepRunner`, and `Trainer.train_step`/`test_step`/`predict_step` hand the batch to it.
One runner covers every combination of:

- mixed precision: the forward pass runs under `torch.autocast(device_type, compute_dtype)`;
  outputs are cast to float32 before the loss and metrics (Keras' losses and metrics compute in
  float32); `predict` outputs keep the output layer's compute dtype, as in Keras;
- loss scaling: the loss is multiplied by `optimizer.scale_loss` before backward (a
  `LossScaleOptimizer`, or any optimizer with `loss_scale_factor`); the tracked loss is unscaled;
- `compile(jit_compile=True)`: forward + loss go through one `torch.compile`d function; the
  backward pass and the optimizer step stay eager;
- multi-process data parallel (`kerastorch.distribute`): the training forward runs through a
  `DistributedDataParallel` wrapper of the model, so backward all-reduces the gradients.
"""

import contextlib
import types

import torch

from kerastorch.layers.layer_utils import _cast_floats
from kerastorch.mixed_precision.policy import dtype_policy
from kerastorch.trainers import data_adapters as da

_HALF = (torch.float16, torch.bfloat16)


def _to_float32(tree):
    return da.tree_map(lambda t: t.float() if isinstance(t, torch.Tensor) and t.dtype in _HALF
                       else t, tree)


def autocast_dtype(model):
    """The compute dtype to autocast to (a torch dtype), or None when no layer is mixed."""
    policy = model.__dict__.get("_dtype_policy")
    if policy is not None and policy.compute_dtype != policy.variable_dtype:
        return getattr(torch, policy.compute_dtype)
    for layer in model._flatten_layers():
        p = layer.__dict__.get("_dtype_policy")
        if p is not None and p.compute_dtype != p.variable_dtype:
            return getattr(torch, p.compute_dtype)
    return None


def maybe_loss_scale(model, optimizer, auto_scale_loss):
    """Keras' `compile` rule: with `auto_scale_loss` and a `"mixed_float16"` model policy, wrap
    the optimizer in a `LossScaleOptimizer` (unless it already is one)."""
    from kerastorch.mixed_precision.loss_scale_optimizer import LossScaleOptimizer
    policy = model.__dict__.get("_dtype_policy") or dtype_policy()
    if auto_scale_loss and policy.name == "mixed_float16" and optimizer is not None \
            and not isinstance(optimizer, LossScaleOptimizer):
        from kerastorch.optimizers import Optimizer
        if isinstance(optimizer, Optimizer):
            return LossScaleOptimizer(optimizer, name="loss_scale_optimizer")
    return optimizer


def runner_for(model):
    """A `StepRunner` for the model's current settings, or None for the plain step."""
    from kerastorch import distribute
    ddp = distribute.is_distributed()
    dtype = autocast_dtype(model)
    jit = bool(model.__dict__.get("_jit_compile"))
    optimizer = model.__dict__.get("optimizer")
    scaled = optimizer is not None and (
        getattr(optimizer, "dynamic_scale", False) is not False
        or getattr(optimizer, "loss_scale_factor", None) is not None)
    if dtype is None and not jit and not ddp and not scaled:
        return None
    key = (dtype, jit, ddp, scaled, id(optimizer), id(model.__dict__.get("_compile_loss")))
    runner = model.__dict__.get("_cached_step_runner")
    if runner is None or runner.key != key:
        runner = StepRunner(model, key, dtype, jit, ddp, scaled)
        model.__dict__["_cached_step_runner"] = runner
    if dtype is not None:
        runner._mark_full_precision_layers(model)  # layers added or unpickled since
    return runner


def _full_precision_forward(self, *args, **kwargs):
    """`forward` of a layer whose policy is not mixed, inside an autocast region: autocast off,
    floating inputs cast to the layer's compute dtype (a Keras `dtype="float32"` layer)."""
    dtype = getattr(torch, self.compute_dtype)
    device_type = self.__dict__["_autocast_device_type"]
    with torch.autocast(device_type, enabled=False):
        args = _cast_floats(args, dtype)  # the same cast as Layer.__call__ (masks kept)
        return type(self).forward(self, *args, **kwargs)


# Pickling a bound method looks its name up on the object: `forward` (the class' own) is found,
# and the next `fit` installs this one again.
_full_precision_forward.__name__ = "forward"


class StepRunner:
    """Train/test/predict steps with autocast, loss scaling, `torch.compile` and DDP as set."""

    def __init__(self, model, key, dtype, jit, ddp, scaled):
        self.key = key
        self.dtype = dtype
        self.jit = jit
        self.ddp = ddp
        self.scaled = scaled
        from kerastorch import config
        self.device_type = config.device().type  # where _prepare put the model
        if dtype is not None:
            layers = getattr(model, "layers", None) or [model]
            self.output_dtype = getattr(torch, layers[-1].compute_dtype)
        self._ddp_module = None
        self._compiled = None

    def __getstate__(self):
        # A pickled model carries its runner; the compiled function and the DDP wrapper are
        # rebuilt on first use.
        return {**self.__dict__, "_compiled": None, "_ddp_module": None}

    def _autocast(self):
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def _mark_full_precision_layers(self, model):
        for layer in model._flatten_layers():
            policy = layer.__dict__.get("_dtype_policy")
            if policy is None or policy.compute_dtype != policy.variable_dtype:
                continue
            if layer._sublayers():  # containers: their leaves decide
                continue
            layer.__dict__["_autocast_device_type"] = self.device_type
            if getattr(layer.__dict__.get("forward"), "__func__", None) \
                    is not _full_precision_forward:
                layer.__dict__["forward"] = types.MethodType(_full_precision_forward, layer)

    # ------------------------------------------------------------------ train
    def _train_module(self, model):
        if not self.ddp:
            return model
        if self._ddp_module is None:
            from kerastorch import distribute
            self._ddp_module = distribute.wrap_model(model)
            distribute.runtime.track_wrapper(self)
        return self._ddp_module

    def release_ddp(self):
        """Drop the DDP wrapper and the compiled step that saw it (at process-group teardown);
        the next step would make them again."""
        self._ddp_module = self._compiled = None

    def _forward_loss(self, model, module, x, y, sample_weight):
        with self._autocast():
            y_pred = module(x)
        y_pred = _to_float32(y_pred) if self.dtype is not None else y_pred
        return model.compute_loss(x, y, y_pred, sample_weight), y_pred

    def train_step(self, model, data):
        x, y, sample_weight = da.unpack_x_y_sample_weight(data)
        module = self._train_module(model)
        if self.jit:
            if self._compiled is None:
                self._compiled = torch.compile(self._forward_loss)
            loss, y_pred = self._compiled(model, module, x, y, sample_weight)
        else:
            loss, y_pred = self._forward_loss(model, module, x, y, sample_weight)
        optimizer = model.optimizer
        optimizer.zero_grad(set_to_none=True)
        (optimizer.scale_loss(loss) if self.scaled else loss).backward()
        optimizer.step()
        if model._constrained:
            model._apply_constraints()
        n = da.tree_leaves(x)[0].shape[0]
        model._update_trackers(loss.detach(), y, y_pred, sample_weight, n)
        if model._compile_loss is not None and model._compile_loss.per_output:
            model._track_output_losses(n)
        return None

    # ------------------------------------------------------------------ test / predict
    def test_step(self, model, data):
        x, y, sample_weight = da.unpack_x_y_sample_weight(data)
        loss, y_pred = self._forward_loss(model, model, x, y, sample_weight)
        n = da.tree_leaves(x)[0].shape[0]
        model._update_trackers(loss, y, y_pred, sample_weight, n)
        if model._compile_loss is not None and model._compile_loss.per_output:
            model._track_output_losses(n)
        return None

    def predict_step(self, model, data):
        x, _, _ = da.unpack_x_y_sample_weight(data)
        with self._autocast():
            out = model(x)
        if self.dtype is None:
            return out
        dtype = self.output_dtype  # Keras: outputs in the output layer's compute dtype
        return da.tree_map(lambda t: t.to(dtype) if isinstance(t, torch.Tensor)
                           and t.is_floating_point() and t.dtype != dtype else t, out)
