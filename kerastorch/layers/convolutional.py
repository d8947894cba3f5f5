"""Convolution layers: `Conv1D/2D/3D`, `Conv1DTranspose/2DTranspose/3DTranspose`,
`DepthwiseConv1D/2D`, `SeparableConv1D/2D`.

State is torch's (`nn.ConvNd.weight (out, in/groups, *k)`, `nn.ConvTransposeNd.weight
(in, out, *k)`, depthwise as `nn.ConvNd(groups=in).weight (in*mult, 1, *k)`), so `state_dict()`
loads into the torch module; `get_weights()` gives Keras' `(*k, in, out)`, `(*k, out, in)`,
`(*k, in, mult)` layouts. Kernels are initialised in Keras' layout, so fans mean what they mean
in Keras. Shared arithmetic (padding, layouts, errors) lives in `conv_base`.
"""

import torch
from torch import nn

from kerastorch import constraints, initializers, regularizers
from kerastorch.layers.conv_base import (
    CONV_FNS,
    CONV_TRANSPOSE_FNS,
    BaseConv,
    depthwise_view,
    kernel_view,
    keras_to_torch_perm,
    normalize_tuple,
    positive_int,
    transpose_pads,
)
from kerastorch.layers.layer import WeightView
from kerastorch.utils.registry import serialize


def _no_lora(kwargs):
    rank = kwargs.pop("lora_rank", None)
    kwargs.pop("lora_alpha", None)
    if rank:
        raise NotImplementedError("LoRA on convolution layers is not supported by kerastorch.")
    return kwargs


class _Conv(BaseConv):
    """N-D convolution (Keras `BaseConv`); torch's `nn.ConvNd`."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(rank, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate,
                         activation=activation, use_bias=use_bias,
                         bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         bias_constraint=bias_constraint, **_no_lora(kwargs))
        self.filters = positive_int(filters, "filters")
        self.groups = positive_int(groups, "groups")
        if self.filters % self.groups:
            raise ValueError("The number of filters must be evenly divisible by the number of "
                             f"groups. Received: groups={groups}, filters={filters}")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self._fn = CONV_FNS[rank]

    def build(self, input_shape):
        in_ch = self._check_build_shape(input_shape)
        if in_ch % self.groups:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}): the number of input "
                             "channels must be evenly divisible by the number of groups. "
                             f"Received: groups={self.groups}, input_shape={tuple(input_shape)}")
        self._built_in_channels = in_ch
        kernel = self.kernel_initializer(
            (*self.kernel_size, in_ch // self.groups, self.filters))
        self.weight = nn.Parameter(kernel.permute(*keras_to_torch_perm(self.rank)).contiguous())
        self._register("weight", self.kernel_regularizer, self.kernel_constraint)
        self._make_bias(self.filters)
        self.built = True

    def _run(self, x):
        x, padding = self._pad(x)
        return self._fn(x, self.weight, self.bias, self.strides, padding, self.dilation_rate,
                        self.groups)

    @property
    def kernel(self) -> torch.Tensor:
        """Keras' view of `weight`, `(*kernel_size, in/groups, filters)`; shares storage."""
        return kernel_view("kernel", self.weight, self.rank).to_keras(self.weight)

    def keras_weight_views(self):
        views = [kernel_view("kernel", self.weight, self.rank)]
        if self.use_bias:
            views.append(WeightView("bias", self.bias))
        return views

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, **self._base_config(),
                "groups": self.groups, **self._tail_config(),
                **self._regularizer_configs("kernel")}


class Conv1D(_Conv):
    """1-D convolution over `(batch, steps, channels)`; torch's `nn.Conv1d`.

    Args:
        filters: Number of output channels.
        kernel_size: Int or 1-tuple, the window length.
        strides: Int or 1-tuple.
        padding: `"valid"`, `"same"` (Keras' arithmetic: the extra cell goes at the end) or
            `"causal"` (left padding of `dilation_rate * (kernel_size - 1)`).
        data_format: `"channels_last"` (default, from `config.image_data_format()`) or
            `"channels_first"`.
        dilation_rate: Int or 1-tuple; cannot exceed 1 together with `strides`.
        groups: Number of channel groups (divides input channels and `filters`).
        activation, use_bias: As in `Dense`.
        kernel_initializer: Applied to the Keras-shaped kernel `(k, in/groups, filters)`
            (default `glorot_uniform`; torch's default differs).
        bias_initializer, kernel_regularizer, bias_regularizer, activity_regularizer,
        kernel_constraint, bias_constraint: As in Keras.

    State: `weight (filters, in/groups, k)`, `bias (filters,)`.
    """

    _allow_causal = True

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)


class Conv2D(_Conv):
    """2-D convolution over `(batch, height, width, channels)`; torch's `nn.Conv2d`.

    Arguments as `Conv1D` (2-tuples; no `"causal"` padding). Keras kernel
    `(kh, kw, in/groups, filters)`; state `weight (filters, in/groups, kh, kw)`, `bias`.

    Example:

        >>> layer = Conv2D(8, 3, strides=2, padding="same")
        >>> layer(torch.zeros(1, 5, 5, 3)).shape
        torch.Size([1, 3, 3, 8])
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)


class Conv3D(_Conv):
    """3-D convolution over `(batch, d1, d2, d3, channels)`; torch's `nn.Conv3d`.

    Arguments as `Conv2D` (3-tuples). Keras kernel `(k1, k2, k3, in/groups, filters)`.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 data_format=None, dilation_rate=(1, 1, 1), groups=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(3, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)


class _ConvTranspose(BaseConv):
    """N-D transposed convolution (Keras `BaseConvTranspose`); torch's `nn.ConvTransposeNd`.

    Keras' output length per axis (JAX/TF semantics): `valid` -> `(n-1)*s + max(K, s)`,
    `same` -> `n*s` (K = dilated kernel), or `(n-1)*s + K%2 + output_padding`-style sizes when
    `output_padding` is given. JAX pads the stride-dilated input by (L, R) around a flipped-kernel
    correlation; torch's `padding=p, output_padding=op` is that with L = K-1-p, R = L+op, so
    p = K-1-L and op = R-L. When R < L the surplus last cells are cropped (a view).
    """

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid",
                 output_padding=None, data_format=None, dilation_rate=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(rank, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate,
                         activation=activation, use_bias=use_bias,
                         bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         bias_constraint=bias_constraint, **kwargs)
        self.filters = positive_int(filters, "filters")
        if output_padding is None:
            self.output_padding = None
        else:
            self.output_padding = normalize_tuple(output_padding, rank, "output_padding",
                                                  allow_zero=True)
            if any(op >= s for op, s in zip(self.output_padding, self.strides)):
                raise ValueError("`output_padding` must be strictly less than `strides` on "
                                 f"every axis. Received: output_padding={output_padding}, "
                                 f"strides={self.strides}")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self._fn = CONV_TRANSPOSE_FNS[rank]
        ops = self.output_padding or (None,) * rank
        self._jax_pads = [transpose_pads(k, s, d, self.padding, op) for k, s, d, op in zip(
            self.kernel_size, self.strides, self.dilation_rate, ops)]
        effective = [(k - 1) * d + 1 for k, d in zip(self.kernel_size, self.dilation_rate)]
        self._torch_padding = tuple(e - 1 - left for e, (left, _) in zip(effective,
                                                                          self._jax_pads))
        self._torch_output_padding = tuple(max(r - left, 0) for left, r in self._jax_pads)
        crops = [max(left - r, 0) for left, r in self._jax_pads]
        self._crop = (None if not any(crops) else
                      (slice(None), slice(None),
                       *(slice(0, -c) if c else slice(None) for c in crops)))

    def build(self, input_shape):
        in_ch = self._check_build_shape(input_shape)
        self._built_in_channels = in_ch
        kernel = self.kernel_initializer((*self.kernel_size, self.filters, in_ch))
        self.weight = nn.Parameter(kernel.permute(*keras_to_torch_perm(self.rank)).contiguous())
        self._register("weight", self.kernel_regularizer, self.kernel_constraint)
        self._make_bias(self.filters)
        self.built = True

    def _run(self, x):
        y = self._fn(x, self.weight, self.bias, self.strides, self._torch_padding,
                     self._torch_output_padding, 1, self.dilation_rate)
        return y if self._crop is None else y[self._crop]

    def _out_spatial(self, spatial):
        return tuple(None if n is None else (n - 1) * s + left + right - (k - 1) * d + 1
                     for n, s, k, d, (left, right) in zip(spatial, self.strides,
                                                          self.kernel_size, self.dilation_rate,
                                                          self._jax_pads))

    @property
    def kernel(self) -> torch.Tensor:
        """Keras' view of `weight`, `(*kernel_size, filters, in)`; shares storage."""
        return kernel_view("kernel", self.weight, self.rank).to_keras(self.weight)

    def keras_weight_views(self):
        views = [kernel_view("kernel", self.weight, self.rank)]
        if self.use_bias:
            views.append(WeightView("bias", self.bias))
        return views

    def get_config(self):
        base = self._base_config()
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": base["kernel_size"], "strides": base["strides"],
                "padding": base["padding"], "output_padding": self.output_padding,
                "data_format": base["data_format"], "dilation_rate": base["dilation_rate"],
                **self._tail_config(), **self._regularizer_configs("kernel")}


class Conv1DTranspose(_ConvTranspose):
    """1-D transposed convolution ("deconvolution"); torch's `nn.ConvTranspose1d`.

    Args:
        filters, kernel_size, strides, data_format, dilation_rate, activation, use_bias,
        initializers, regularizers, constraints: As in `Conv1D` (no `groups`).
        padding: `"valid"` or `"same"`; `same` gives `length * strides` outputs.
        output_padding: Int or 1-tuple (each < strides) added to the output length, or `None`
            for Keras' default.

    Keras kernel `(k, filters, in)`; state `weight (in, filters, k)`, `bias`.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class Conv2DTranspose(_ConvTranspose):
    """2-D transposed convolution; torch's `nn.ConvTranspose2d`.

    Arguments as `Conv1DTranspose` (2-tuples). Keras kernel `(kh, kw, filters, in)`; state
    `weight (in, filters, kh, kw)`, `bias`.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 output_padding=None, data_format=None, dilation_rate=(1, 1), activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class Conv3DTranspose(_ConvTranspose):
    """3-D transposed convolution; torch's `nn.ConvTranspose3d`. Arguments as `Conv2DTranspose`
    (3-tuples)."""

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 output_padding=None, data_format=None, dilation_rate=(1, 1, 1),
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(3, filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class _DepthwiseConv(BaseConv):
    """Depthwise convolution (Keras `BaseDepthwiseConv`): each input channel convolved with
    `depth_multiplier` filters; torch's `nn.ConvNd(in, in*mult, k, groups=in)`."""

    _check_strides_and_dilation = False  # Keras allows both > 1 here

    def __init__(self, rank, depth_multiplier, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(rank, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate,
                         activation=activation, use_bias=use_bias,
                         bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         bias_constraint=bias_constraint, **kwargs)
        self.depth_multiplier = positive_int(depth_multiplier, "depth_multiplier")
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self._fn = CONV_FNS[rank]

    def build(self, input_shape):
        in_ch = self._check_build_shape(input_shape)
        self._built_in_channels = in_ch
        view = depthwise_view("kernel", None, self.rank, self.depth_multiplier)
        kernel = self.depthwise_initializer((*self.kernel_size, in_ch, self.depth_multiplier))
        self.weight = nn.Parameter(view.from_keras(kernel).contiguous())
        self._register("weight", self.depthwise_regularizer, self.depthwise_constraint)
        self._make_bias(in_ch * self.depth_multiplier)
        self.built = True

    def _run(self, x):
        x, padding = self._pad(x)
        return self._fn(x, self.weight, self.bias, self.strides, padding, self.dilation_rate,
                        self._built_in_channels)

    def _out_channels(self, in_channels):
        return None if in_channels is None else in_channels * self.depth_multiplier

    @property
    def kernel(self) -> torch.Tensor:
        """Keras' view of `weight`, `(*kernel_size, in, depth_multiplier)`."""
        return depthwise_view("kernel", self.weight, self.rank,
                              self.depth_multiplier).to_keras(self.weight)

    def keras_weight_views(self):
        views = [depthwise_view("kernel", self.weight, self.rank, self.depth_multiplier)]
        if self.use_bias:
            views.append(WeightView("bias", self.bias))
        return views

    def get_config(self):
        return {**super().get_config(), "depth_multiplier": self.depth_multiplier,
                **self._base_config(), **self._tail_config(),
                **self._regularizer_configs("depthwise")}


class DepthwiseConv1D(_DepthwiseConv):
    """1-D depthwise convolution; torch's `nn.Conv1d(in, in*depth_multiplier, k, groups=in)`.

    Args:
        kernel_size, strides, padding (`"valid"`/`"same"`), data_format, dilation_rate,
        activation, use_bias: As in `Conv1D`.
        depth_multiplier: Output channels per input channel.
        depthwise_initializer / _regularizer / _constraint: For the Keras kernel
            `(k, in, depth_multiplier)`; output channel `c * depth_multiplier + m`.

    State: `weight (in*mult, 1, k)`, `bias (in*mult,)`.
    """

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(1, depth_multiplier, kernel_size, strides, padding, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)


class DepthwiseConv2D(_DepthwiseConv):
    """2-D depthwise convolution; torch's `nn.Conv2d(in, in*depth_multiplier, k, groups=in)`.

    Arguments as `DepthwiseConv1D` (2-tuples). Keras kernel `(kh, kw, in, depth_multiplier)`;
    state `weight (in*mult, 1, kh, kw)`, `bias (in*mult,)`.
    """

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(2, depth_multiplier, kernel_size, strides, padding, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)


class _ConvWeights(nn.Module):
    """Holds one torch conv's tensors, so a separable layer's state reads `depthwise.weight`,
    `pointwise.weight`, `pointwise.bias` (an `nn.Sequential` of two convs loads it)."""


class _SeparableConv(BaseConv):
    """Depthwise convolution then a 1x1 pointwise convolution (Keras `BaseSeparableConv`).

    State: `depthwise.weight (in*mult, 1, *k)`, `pointwise.weight (filters, in*mult, 1...)`,
    `pointwise.bias (filters,)`, i.e. `nn.Sequential(OrderedDict(depthwise=nn.ConvNd(in,
    in*mult, k, groups=in, bias=False), pointwise=nn.ConvNd(in*mult, filters, 1)))`.
    Keras weights: `depthwise_kernel (*k, in, mult)`, `pointwise_kernel (1..., in*mult,
    filters)`, `bias`.
    """

    _check_strides_and_dilation = False

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(rank, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate,
                         activation=activation, use_bias=use_bias,
                         bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         bias_constraint=bias_constraint, **kwargs)
        self.filters = positive_int(filters, "filters")
        self.depth_multiplier = positive_int(depth_multiplier, "depth_multiplier")
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)
        self._fn = CONV_FNS[rank]

    def build(self, input_shape):
        in_ch = self._check_build_shape(input_shape)
        self._built_in_channels = in_ch
        mid = in_ch * self.depth_multiplier
        self.depthwise, self.pointwise = _ConvWeights(), _ConvWeights()
        dview = depthwise_view("depthwise_kernel", None, self.rank, self.depth_multiplier)
        dk = self.depthwise_initializer((*self.kernel_size, in_ch, self.depth_multiplier))
        self.depthwise.weight = nn.Parameter(dview.from_keras(dk).contiguous())
        pk = self.pointwise_initializer(((1,) * self.rank + (mid, self.filters)))
        self.pointwise.weight = nn.Parameter(
            pk.permute(*keras_to_torch_perm(self.rank)).contiguous())
        if self.use_bias:
            self.pointwise.bias = nn.Parameter(self.bias_initializer((self.filters,)))
        else:
            self.pointwise.register_parameter("bias", None)
        self._register("depthwise_weight", self.depthwise_regularizer, self.depthwise_constraint)
        self._register("pointwise_weight", self.pointwise_regularizer, self.pointwise_constraint)
        if self.use_bias:
            self._register("bias", self.bias_regularizer, self.bias_constraint)
        self.built = True

    # The attributes regularizers and constraints name (torch layout).
    @property
    def depthwise_weight(self) -> torch.Tensor:
        return self.depthwise.weight

    @property
    def pointwise_weight(self) -> torch.Tensor:
        return self.pointwise.weight

    @property
    def bias(self):
        return self.pointwise.bias if self.built else None

    @property
    def depthwise_kernel(self) -> torch.Tensor:
        """Keras' view, `(*kernel_size, in, depth_multiplier)`."""
        return self.keras_weight_views()[0].to_keras(self.depthwise.weight)

    @property
    def pointwise_kernel(self) -> torch.Tensor:
        """Keras' view, `(1, ..., in * depth_multiplier, filters)`; shares storage."""
        return self.keras_weight_views()[1].to_keras(self.pointwise.weight)

    def _run(self, x):
        x, padding = self._pad(x)
        x = self._fn(x, self.depthwise.weight, None, self.strides, padding, self.dilation_rate,
                     self._built_in_channels)
        return self._fn(x, self.pointwise.weight, self.pointwise.bias)

    def keras_weight_views(self):
        views = [depthwise_view("depthwise_kernel", self.depthwise.weight, self.rank,
                                self.depth_multiplier),
                 kernel_view("pointwise_kernel", self.pointwise.weight, self.rank)]
        if self.use_bias:
            views.append(WeightView("bias", self.pointwise.bias))
        return views

    def get_config(self):
        base = self._base_config()
        return {**super().get_config(), "depth_multiplier": self.depth_multiplier,
                "filters": self.filters, **base, **self._tail_config(),
                "depthwise_initializer": serialize(self.depthwise_initializer),
                "pointwise_initializer": serialize(self.pointwise_initializer),
                "bias_initializer": serialize(self.bias_initializer),
                "depthwise_regularizer": serialize(self.depthwise_regularizer),
                "pointwise_regularizer": serialize(self.pointwise_regularizer),
                "bias_regularizer": serialize(self.bias_regularizer),
                "activity_regularizer": serialize(self.activity_regularizer),
                "depthwise_constraint": serialize(self.depthwise_constraint),
                "pointwise_constraint": serialize(self.pointwise_constraint),
                "bias_constraint": serialize(self.bias_constraint)}


class SeparableConv1D(_SeparableConv):
    """1-D separable convolution: `DepthwiseConv1D` then a pointwise `Conv1D(filters, 1)`.

    Args:
        filters, kernel_size, strides, padding (`"valid"`/`"same"`), data_format,
        dilation_rate, depth_multiplier, activation, use_bias: As in Keras.
        depthwise_/pointwise_/bias_ initializer, regularizer, constraint: For the Keras
            weights `depthwise_kernel (k, in, mult)`, `pointwise_kernel (1, in*mult, filters)`,
            `bias (filters,)`.

    State (torch): `depthwise.weight`, `pointwise.weight`, `pointwise.bias`, loadable into
    `nn.Sequential(OrderedDict(depthwise=nn.Conv1d(in, in*mult, k, groups=in, bias=False),
    pointwise=nn.Conv1d(in*mult, filters, 1)))` for valid or symmetric padding.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         depth_multiplier, activation, use_bias, depthwise_initializer,
                         pointwise_initializer, bias_initializer, depthwise_regularizer,
                         pointwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, pointwise_constraint, bias_constraint, **kwargs)


class SeparableConv2D(_SeparableConv):
    """2-D separable convolution: `DepthwiseConv2D` then a pointwise `Conv2D(filters, 1)`.

    Arguments and state as `SeparableConv1D`, in 2-D: Keras weights `depthwise_kernel
    (kh, kw, in, mult)`, `pointwise_kernel (1, 1, in*mult, filters)`, `bias`.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         depth_multiplier, activation, use_bias, depthwise_initializer,
                         pointwise_initializer, bias_initializer, depthwise_regularizer,
                         pointwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, pointwise_constraint, bias_constraint, **kwargs)
