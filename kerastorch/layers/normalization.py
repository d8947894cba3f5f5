"""Normalization layers: `BatchNormalization`, `LayerNormalization`, `GroupNormalization`,
`UnitNormalization`.

State is stored as torch's modules store it (`nn.BatchNorm*`: `weight`, `bias`, `running_mean`,
`running_var`, `num_batches_tracked`; `nn.LayerNorm` / `nn.GroupNorm`: `weight`, `bias`); the
Keras names (`gamma`, `beta`, `moving_mean`, `moving_variance`) are the weight views. The
arithmetic is torch's fused kernels (`F.batch_norm`, `F.layer_norm`, `F.group_norm`) wherever
Keras' formula is theirs; channels-last inputs are viewed channels-first with `movedim` (no copy).
"""

import torch
import torch.nn.functional as F
from torch import nn

from kerastorch import config
from kerastorch.layers.layer import InputShapeError, Layer, WeightView
from kerastorch.layers.weight_options import set_weight_options, weight_options_config


def _check_axes(layer, axes, ndim, input_shape):
    """Positive axes for an input of rank `ndim`, or a ValueError naming the layer."""
    out = []
    for axis in axes:
        if not -ndim <= axis < ndim:
            raise ValueError(f"Layer '{layer.name}' ({type(layer).__name__}): axis {axis} is out "
                             f"of bounds for input shape {tuple(input_shape)}. "
                             f"Received: axis={layer.axis}")
        out.append(axis % ndim)
    return out


def _to_channels_first(x, axis):
    """`x` with `axis` moved to dim 1 as torch's norm kernels want it, and the inverse map.

    A contiguous channels-last image viewed NCHW by `movedim` is a channels_last tensor, which
    the kernels take as it is; other ranks with the channels last are flattened to `(N, C)`.
    """
    ndim = x.dim()
    if axis == 1:
        return x, None
    if axis == ndim - 1 and ndim not in (4, 5) and x.is_contiguous():
        shape = x.shape
        return x.reshape(-1, shape[-1]), lambda y: y.reshape(shape)
    return x.movedim(axis, 1), lambda y: y.movedim(1, axis)


def _register(layer, attr, regularizer, constraint):
    if regularizer is not None:
        layer._weight_regularizers().append((regularizer, attr))
    if constraint is not None:
        layer._weight_constraints().append((constraint, attr))


# ------------------------------------------------------------------------- BatchNormalization
class BatchNormalization(Layer):
    """Normalizes each channel with batch statistics in training, moving statistics otherwise;
    torch's `nn.BatchNorm1d/2d/3d`.

    Training (`training=True` and the layer trainable): `(x - mean) / sqrt(var + epsilon) *
    gamma + beta` with the batch mean and the *biased* batch variance over all axes but `axis`,
    and `moving = moving * momentum + batch * (1 - momentum)` for both statistics (Keras updates
    the moving variance with the biased variance; torch with the unbiased one, so the update is
    done here, not by `F.batch_norm`). Inference, or a layer with `trainable=False` even inside
    `fit` (Keras' rule): the moving statistics.

    Args:
        axis: Int, the channels axis (default -1).
        momentum: Keras' momentum of the moving averages (0.99; torch's `momentum` is
            `1 - momentum` = 0.01).
        epsilon: Added to the variance (1e-3; torch's default is 1e-5).
        center, scale: Whether to learn `beta` / `gamma`.
        beta_initializer, gamma_initializer, moving_mean_initializer,
        moving_variance_initializer: Default zeros, ones, zeros, ones.
        beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint: Optional.
        synchronized, renorm: Not supported by kerastorch (`NotImplementedError`).

    Call: `layer(x, training=None, mask=None)`; a mask `(batch, ..., )` of the input's rank minus
    one leaves masked positions out of the batch statistics, as in Keras.

    State: `weight` (gamma), `bias` (beta), `running_mean`, `running_var`,
    `num_batches_tracked`, so `state_dict()` loads into `nn.BatchNorm2d(C, eps=epsilon,
    momentum=1 - momentum)` (with `center == scale`).
    """

    _float_inputs = True  # integer inputs are cast to the compute dtype

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, renorm=False, renorm_clipping=None,
                 renorm_momentum=0.99, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"Layer '{self.name}' (BatchNormalization): `axis` must be an "
                             f"integer. Received: axis={axis!r}")
        if not 0.0 <= float(momentum) <= 1.0:
            raise ValueError(f"Layer '{self.name}' (BatchNormalization): `momentum` must be in "
                             f"[0, 1]. Received: momentum={momentum!r}")
        if float(epsilon) <= 0:
            raise ValueError(f"Layer '{self.name}' (BatchNormalization): `epsilon` must be "
                             f"positive. Received: epsilon={epsilon!r}")
        if synchronized:
            raise NotImplementedError("BatchNormalization(synchronized=True) is not supported by "
                                      "kerastorch; use torch.nn.SyncBatchNorm.")
        if renorm:
            raise NotImplementedError("BatchNormalization(renorm=True) is not supported by "
                                      "kerastorch.")
        self.axis = axis
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = center
        self.scale = scale
        self.synchronized = synchronized
        self.renorm = renorm
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = renorm_momentum
        set_weight_options(self, beta_initializer=beta_initializer,
                           gamma_initializer=gamma_initializer,
                           moving_mean_initializer=moving_mean_initializer,
                           moving_variance_initializer=moving_variance_initializer,
                           beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer,
                           beta_constraint=beta_constraint, gamma_constraint=gamma_constraint)
        self.supports_masking = True

    def build(self, input_shape):
        ndim = len(input_shape)
        if ndim < 2:
            raise ValueError(f"Layer '{self.name}' (BatchNormalization) needs inputs of rank >= 2 "
                             f"(batch, ..., channels). Received: input_shape={input_shape}")
        (self._axis,) = _check_axes(self, [self.axis], ndim, input_shape)
        channels = input_shape[self._axis]
        if channels is None:
            raise ValueError(f"Layer '{self.name}' (BatchNormalization): axis {self.axis} of the "
                             f"input must be known. Received: input_shape={input_shape}")
        shape = (channels,)
        if self.scale:
            self.weight = nn.Parameter(self.gamma_initializer(shape))
            _register(self, "weight", self.gamma_regularizer, self.gamma_constraint)
        else:
            self.register_parameter("weight", None)
        if self.center:
            self.bias = nn.Parameter(self.beta_initializer(shape))
            _register(self, "bias", self.beta_regularizer, self.beta_constraint)
        else:
            self.register_parameter("bias", None)
        self.register_buffer("running_mean", self.moving_mean_initializer(shape))
        self.register_buffer("running_var", self.moving_variance_initializer(shape))
        # Only so that the state dict loads strictly into nn.BatchNorm*; not a Keras weight.
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        self._build_ndim = ndim
        self.built = True

    # Keras' names for the same storage.
    @property
    def gamma(self):
        return self.weight

    @property
    def beta(self):
        return self.bias

    @property
    def moving_mean(self):
        return self.running_mean

    @property
    def moving_variance(self):
        return self.running_var

    def keras_weight_views(self):
        if not self.built:
            return []
        views = []
        if self.scale:
            views.append(WeightView("gamma", self.weight))
        if self.center:
            views.append(WeightView("beta", self.bias))
        views.append(WeightView("moving_mean", self.running_mean))
        views.append(WeightView("moving_variance", self.running_var))
        return views

    def call(self, inputs, training=None, mask=None):
        if inputs.dim() != self._build_ndim:
            raise InputShapeError(
                f"Input 0 of layer '{self.name}' (BatchNormalization) is incompatible with the "
                f"layer: expected ndim={self._build_ndim}, found ndim={inputs.dim()}. Full shape "
                f"received: {tuple(inputs.shape)}")
        training = self.resolve_training(training) and self.trainable
        if mask is not None and mask.dim() != inputs.dim() - 1:
            raise ValueError(f"Layer '{self.name}' (BatchNormalization): the mask must have one "
                             f"dimension less than the inputs. Received: mask.shape="
                             f"{tuple(mask.shape)}, inputs.shape={tuple(inputs.shape)}")
        if not training:
            x, back = _to_channels_first(inputs, self._axis)
            out = F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                               False, 0.0, self.epsilon)
            return back(out) if back else out
        count = inputs.numel() // inputs.shape[self._axis]
        if mask is None and count > 1:
            return self._train_fused(inputs, count)
        return self._train_explicit(inputs, mask)

    def _train_fused(self, inputs, count):
        # F.batch_norm normalises with the biased batch variance, as Keras does, and with
        # momentum=1 writes the batch mean and the *unbiased* variance into the two scratch
        # tensors; the moving variance then takes the biased one, Keras' rule.
        x, back = _to_channels_first(inputs, self._axis)
        channels = x.shape[1]
        batch_mean = torch.zeros(channels, device=x.device, dtype=self.running_mean.dtype)
        batch_var = torch.zeros(channels, device=x.device, dtype=self.running_var.dtype)
        out = F.batch_norm(x, batch_mean, batch_var, self.weight, self.bias, True, 1.0,
                           self.epsilon)
        with torch.no_grad():
            self._update_moving(batch_mean, batch_var, (count - 1) / count)
        return back(out) if back else out

    def _train_explicit(self, inputs, mask):
        # Keras' own formula: masked moments (sum / (count + backend epsilon)), or a batch with
        # one value per channel, which torch's kernel refuses.
        axes = [d for d in range(inputs.dim()) if d != self._axis]
        x = inputs.float() if inputs.dtype in (torch.float16, torch.bfloat16) else inputs
        if mask is None:
            var, mean = torch.var_mean(x, dim=axes, correction=0, keepdim=True)
        else:
            weights = mask.unsqueeze(-1).expand_as(x).to(x.dtype)
            denom = weights.sum(axes, keepdim=True) + config.epsilon()
            mean = (x * weights).sum(axes, keepdim=True) / denom
            var = ((x - mean) * weights).square().sum(axes, keepdim=True) / denom
        with torch.no_grad():
            self._update_moving(mean.detach().flatten(), var.detach().flatten(), 1.0)
        shape = [1] * inputs.dim()
        shape[self._axis] = -1
        inv = torch.rsqrt(var + self.epsilon)
        if self.weight is not None:
            inv = inv * self.weight.view(shape)
        shift = -mean * inv
        if self.bias is not None:
            shift = shift + self.bias.view(shape)
        return (x * inv + shift).to(inputs.dtype)

    def _update_moving(self, batch_mean, batch_var, var_factor):
        m = self.momentum
        torch._foreach_mul_([self.running_mean, self.running_var], m)
        self.running_mean.add_(batch_mean, alpha=1.0 - m)
        self.running_var.add_(batch_var, alpha=(1.0 - m) * var_factor)
        self.num_batches_tracked.add_(1)

    def compute_output_shape(self, input_shape):
        _check_axes(self, [self.axis], len(input_shape), input_shape)
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            **weight_options_config(self, "beta_initializer", "gamma_initializer",
                                    "moving_mean_initializer", "moving_variance_initializer",
                                    "beta_regularizer", "gamma_regularizer",
                                    "beta_constraint", "gamma_constraint"),
            "synchronized": self.synchronized,
            "renorm": self.renorm,
            "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum,
        }

    def extra_repr(self):
        channels = self.running_mean.shape[0] if self.built else None
        return (f"name={self.name!r}, channels={channels}, axis={self.axis}, "
                f"momentum={self.momentum}, epsilon={self.epsilon}")


# ------------------------------------------------------------------------- Layer/Group norm
class _AffineNorm(Layer):
    """Shared part of LayerNormalization and GroupNormalization: gamma/beta as `weight`/`bias`."""

    _float_inputs = True  # integer inputs are cast to the compute dtype

    def _init_affine(self, epsilon, center, scale, beta_initializer, gamma_initializer,
                     beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint):
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        set_weight_options(self, beta_initializer=beta_initializer,
                           gamma_initializer=gamma_initializer, beta_regularizer=beta_regularizer,
                           gamma_regularizer=gamma_regularizer, beta_constraint=beta_constraint,
                           gamma_constraint=gamma_constraint)
        self.supports_masking = True

    def _make_affine(self, shape, with_gamma, with_beta):
        if with_gamma:
            self.weight = nn.Parameter(self.gamma_initializer(shape))
            _register(self, "weight", self.gamma_regularizer, self.gamma_constraint)
        else:
            self.register_parameter("weight", None)
        if with_beta:
            self.bias = nn.Parameter(self.beta_initializer(shape))
            _register(self, "bias", self.beta_regularizer, self.beta_constraint)
        else:
            self.register_parameter("bias", None)

    @property
    def gamma(self):
        return self.weight

    @property
    def beta(self):
        return self.bias

    def keras_weight_views(self):
        if not self.built:
            return []
        views = []
        if self.weight is not None:
            views.append(WeightView("gamma", self.weight))
        if self.bias is not None:
            views.append(WeightView("beta", self.bias))
        return views

    def _affine_config(self):
        return {
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            **weight_options_config(self, "beta_initializer", "gamma_initializer",
                                    "beta_regularizer", "gamma_regularizer", "beta_constraint",
                                    "gamma_constraint"),
        }

    def _check_rank(self, inputs):
        if inputs.dim() != self._build_ndim:
            raise InputShapeError(
                f"Input 0 of layer '{self.name}' ({type(self).__name__}) is incompatible with "
                f"the layer: expected ndim={self._build_ndim}, found ndim={inputs.dim()}. Full "
                f"shape received: {tuple(inputs.shape)}")

    def compute_output_shape(self, input_shape):
        axes = self.axis if isinstance(self.axis, (list, tuple)) else [self.axis]
        _check_axes(self, axes, len(input_shape), input_shape)
        return tuple(input_shape)


class LayerNormalization(_AffineNorm):
    """Normalizes each sample over `axis`: `(x - mean) / sqrt(var + epsilon) * gamma + beta`;
    torch's `nn.LayerNorm` (its `F.layer_norm` kernel when `axis` is the trailing dimensions).

    Args:
        axis: Int or list of ints, the axes normalized over (default -1).
        epsilon: Added to the variance (1e-3; torch's default is 1e-5).
        center, scale: Whether to learn `beta` / `gamma` (shaped like the normalized axes).
        rms_scaling: Keras' deprecated flag: `x * rsqrt(var + epsilon) * gamma`, no centering
            and no beta (Keras warns; so does this).
        beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
        beta_constraint, gamma_constraint: As in Keras.

    State: `weight` (gamma), `bias` (beta), as in `nn.LayerNorm(normalized_shape,
    eps=epsilon)`.
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 beta_constraint=None, gamma_constraint=None, **kwargs):
        rms_scaling = kwargs.pop("rms_scaling", False)
        super().__init__(**kwargs)
        if rms_scaling:
            import warnings
            warnings.warn("You passed `rms_scaling=True`, which is deprecated (Keras). It scales "
                          "the input by the variance, not the root mean square.", stacklevel=2)
        if isinstance(axis, (list, tuple)) and all(
                isinstance(a, int) and not isinstance(a, bool) for a in axis) and axis:
            self.axis = list(axis)
        elif isinstance(axis, int) and not isinstance(axis, bool):
            self.axis = axis
        else:
            raise TypeError(f"Layer '{self.name}' (LayerNormalization): expected an int or a "
                            f"list/tuple of ints for the argument 'axis'. Received: axis={axis!r}")
        self.rms_scaling = bool(rms_scaling)
        self._init_affine(epsilon, center, scale, beta_initializer, gamma_initializer,
                          beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint)

    def build(self, input_shape):
        # Keras keeps `axis` as the sorted list from here on (it shows in get_config).
        self.axis = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        ndim = len(input_shape)
        self._axes = sorted(_check_axes(self, self.axis, ndim, input_shape))
        shape = tuple(input_shape[a] for a in self.axis)
        if any(d is None for d in shape):
            raise ValueError(f"Layer '{self.name}' (LayerNormalization): the normalized axes "
                             f"{self.axis} must have known sizes. Received: "
                             f"input_shape={input_shape}")
        self._make_affine(shape, self.scale or self.rms_scaling,
                          self.center and not self.rms_scaling)
        # F.layer_norm normalizes the trailing dims, with gamma shaped like them.
        self._trailing = self._axes == list(range(ndim - len(self._axes), ndim)) and \
            [a % ndim for a in self.axis] == self._axes
        self._build_ndim = ndim
        self.built = True

    def call(self, inputs):
        self._check_rank(inputs)
        if self._trailing and not self.rms_scaling:
            shape = inputs.shape[inputs.dim() - len(self._axes):]
            return F.layer_norm(inputs, shape, self.weight, self.bias, self.epsilon)
        x = inputs.float() if inputs.dtype in (torch.float16, torch.bfloat16) else inputs
        var, mean = torch.var_mean(x, dim=self._axes, correction=0, keepdim=True)
        inv = torch.rsqrt(var + self.epsilon)
        # Keras reshapes gamma/beta (shaped in its sorted `axis` order) onto the input's axes.
        bshape = [1] * x.dim()
        for a in self._axes:
            bshape[a] = x.shape[a]
        gamma = None if self.weight is None else self.weight.reshape(bshape)
        if self.rms_scaling:
            out = x * inv
            if gamma is not None:
                out = out * gamma
            return out.to(inputs.dtype)
        if gamma is not None:
            inv = inv * gamma
        shift = -mean * inv
        if self.bias is not None:
            shift = shift + self.bias.reshape(bshape)
        return (x * inv + shift).to(inputs.dtype)

    def get_config(self):
        cfg = self._affine_config()
        return {**super().get_config(), "axis": self.axis, "epsilon": cfg.pop("epsilon"),
                "center": cfg.pop("center"), "scale": cfg.pop("scale"),
                "rms_scaling": self.rms_scaling, **cfg}


class GroupNormalization(_AffineNorm):
    """Splits the channels into `groups` and normalizes each group of each sample over its
    channels and all other non-batch axes; torch's `nn.GroupNorm` (`F.group_norm`).

    Args:
        groups: Positive int dividing the number of channels (default 32); -1 means one group
            per channel (instance normalization).
        axis: Int, the channels axis (default -1).
        epsilon: Added to the variance (1e-3; torch's default is 1e-5).
        center, scale: Whether to learn `beta` / `gamma` (one value per channel).
        beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
        beta_constraint, gamma_constraint: As in Keras.

    State: `weight` (gamma), `bias` (beta), as in `nn.GroupNorm(groups, channels,
    eps=epsilon)`.
    """

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(groups, bool) or not isinstance(groups, int) or (
                groups <= 0 and groups != -1):
            raise ValueError(f"Layer '{self.name}' (GroupNormalization): received an invalid "
                             "value for argument `groups`, expected a positive integer (or -1 "
                             f"for instance normalization). Received: groups={groups!r}")
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"Layer '{self.name}' (GroupNormalization): `axis` must be an "
                             f"integer. Received: axis={axis!r}")
        self.groups = groups
        self.axis = axis
        self._init_affine(epsilon, center, scale, beta_initializer, gamma_initializer,
                          beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint)

    def build(self, input_shape):
        ndim = len(input_shape)
        if ndim < 2:
            raise ValueError(f"Layer '{self.name}' (GroupNormalization) needs inputs of rank >= "
                             f"2. Received: input_shape={input_shape}")
        (self._axis,) = _check_axes(self, [self.axis], ndim, input_shape)
        dim = input_shape[self._axis]
        if dim is None:
            raise ValueError(f"Layer '{self.name}' (GroupNormalization): axis {self.axis} of the "
                             "input tensor should have a defined dimension. Received: "
                             f"input_shape={input_shape}")
        if self.groups == -1:
            self.groups = dim
        if dim < self.groups:
            raise ValueError(f"Layer '{self.name}' (GroupNormalization): number of groups "
                             f"({self.groups}) cannot be more than the number of channels "
                             f"({dim}). Received: groups={self.groups}")
        if dim % self.groups != 0:
            raise ValueError(f"Layer '{self.name}' (GroupNormalization): the number of channels "
                             f"({dim}) must be a multiple of the number of groups "
                             f"({self.groups}). Received: groups={self.groups}")
        self._make_affine((dim,), self.scale, self.center)
        self._build_ndim = ndim
        self.built = True

    def call(self, inputs):
        self._check_rank(inputs)
        x = inputs.movedim(self._axis, 1) if self._axis != 1 else inputs
        out = F.group_norm(x, self.groups, self.weight, self.bias, self.epsilon)
        return out.movedim(1, self._axis) if self._axis != 1 else out

    def get_config(self):
        return {**super().get_config(), "groups": self.groups, "axis": self.axis,
                **self._affine_config()}


class UnitNormalization(Layer):
    """Scales each sample to unit L2 norm over `axis`: `x / max(||x||, 1e-12)`
    (`F.normalize`). No weights.

    Args:
        axis: Int or list of ints (default -1).
    """

    _float_inputs = True  # integer inputs are cast to the compute dtype

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)) and all(
                isinstance(a, int) and not isinstance(a, bool) for a in axis) and axis:
            self.axis = list(axis)
        elif isinstance(axis, int) and not isinstance(axis, bool):
            self.axis = axis
        else:
            raise TypeError(f"Layer '{self.name}' (UnitNormalization): invalid value for `axis` "
                            f"argument: expected an int or a list/tuple of ints. "
                            f"Received: axis={axis!r}")
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        axes = _check_axes(self, axes, inputs.dim(), inputs.shape)
        if len(axes) == 1:
            return F.normalize(inputs, p=2.0, dim=axes[0], eps=1e-12)
        # Keras: x * min(rsqrt(sum(x^2)), 1 / epsilon), the same as x / max(norm, epsilon).
        inv = torch.rsqrt(inputs.square().sum(axes, keepdim=True)).clamp(max=1e12)
        return inputs * inv

    def compute_output_shape(self, input_shape):
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        _check_axes(self, axes, len(input_shape), input_shape)
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
