"""`TorchModuleWrapper`: any `torch.nn.Module` as a Keras layer."""

import base64
import io

import torch
from torch import nn

from kerastorch import config
from kerastorch.layers.layer import Layer
from kerastorch.layers.layer_utils import WeightView, standardize_shape

_TORCH_LOAD_REFUSED = (
    "Requested the deserialization of a `torch.nn.Module` object via `torch.load()`. This "
    "carries a potential risk of arbitrary code execution and thus it is disallowed by default. "
    "If you trust the source of the artifact, you can override this error by passing "
    "`safe_mode=False` to the loading function, or calling "
    "`keras.config.enable_unsafe_deserialization()`.")


class TorchModuleWrapper(Layer):
    """Wraps a `torch.nn.Module` so that Keras models track, train and save its state.

    The module is the child `module`, so the layer's state dict keys are `module.<key>` (a
    wrapped `nn.Linear` gives `module.weight`, `module.bias`) and `parameters()` are the
    module's. The Keras weights are the module's parameters (trainable when they require a
    gradient, as in Keras) followed by its persistent buffers (non-trainable; Keras' `weights`
    leaves buffers out but its files keep the whole `state_dict`, so kerastorch's `weights`
    keeps them too and its files round trip `BatchNorm` statistics). Values keep torch's
    layout: nothing is transposed.

    Args:
        module: A `torch.nn.Module`. A lazy module (`nn.LazyLinear`, ...) must have been called
            once first so its parameters exist (Keras' rule).
        name: The layer's name.
        output_shape: Optional output shape (batch included) returned by
            `compute_output_shape`; by default the shape comes from a run on fake tensors.

    Call: `layer(*args, training=None, **kwargs)` runs `module(*args, **kwargs)` with the module
    in train mode when the call is in training (inside `fit`, or `training=True`) and in eval
    mode otherwise (kerastorch runs models called outside `fit` in inference mode).

    Files: as Keras, the weights file keeps the module's `state_dict` under its keys
    (`0.weight`, ...), so `.keras` files move between kerastorch and Keras' torch backend.

    Config: as in Keras, `module` is `torch.save(module)` base64-encoded, and `from_config`
    refuses it (it runs `torch.load(weights_only=False)`) unless `safe_mode=False` or
    `keras.config.enable_unsafe_deserialization()`.
    """

    _h5_keys_are_names = True  # Keras saves the module's state_dict under its keys

    def __init__(self, module, name=None, output_shape=None, **kwargs):
        super().__init__(name=name, **kwargs)
        if not isinstance(module, nn.Module):
            raise TypeError("TorchModuleWrapper expects a `torch.nn.Module`. "
                            f"Received: module={module!r} of type {type(module).__name__}")
        if isinstance(module, nn.modules.lazy.LazyModuleMixin) and \
                module.has_uninitialized_params():
            raise ValueError("LazyModules are not supported unless they are already "
                             f"initialized. Received uninitialized LazyModule: module={module}")
        self.module = module.to(config.device())
        self.module.train(False)
        self.output_shape = None if output_shape is None else standardize_shape(output_shape)
        self.built = True

    def keras_weight_views(self):
        views = [WeightView(n, p) for n, p in self.module.named_parameters()]
        state = self.module.state_dict(keep_vars=True)
        params = {id(p) for p in self.module.parameters()}
        views += [WeightView(k, t) for k, t in state.items() if id(t) not in params]
        return views

    def call(self, *args, training=None, **kwargs):
        training = self.resolve_training(training)
        if self.module.training != training:
            self.module.train(training)
        return self.module(*args, **kwargs)

    def compute_output_shape(self, input_shape):
        if self.output_shape is None:
            return super().compute_output_shape(input_shape)
        return self.output_shape

    def get_config(self):
        buffer = io.BytesIO()
        torch.save(self.module, buffer)
        return {**super().get_config(),
                "module": base64.b64encode(buffer.getvalue()).decode("ascii"),
                "output_shape": None if self.output_shape is None else list(self.output_shape)}

    @classmethod
    def from_config(cls, config_):
        from kerastorch.saving.serialization import in_safe_mode
        config_ = dict(config_)
        if isinstance(config_.get("module"), str):
            if in_safe_mode() is not False:
                raise ValueError(_TORCH_LOAD_REFUSED)
            raw = base64.b64decode(config_["module"].encode("ascii"))
            config_["module"] = torch.load(io.BytesIO(raw), weights_only=False,
                                           map_location=config.device())
        return super().from_config(config_)
