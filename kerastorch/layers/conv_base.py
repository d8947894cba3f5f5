"""What every convolution and pooling layer shares: argument checks, Keras' padding arithmetic,
the channels_last <-> NCHW view, and the Keras <-> torch kernel layouts.

Keras keeps images channels_last `(batch, *spatial, channels)` and kernels `(*k, in, out)`;
torch wants `(batch, channels, *spatial)` and `(out, in, *k)`. Inputs are moved with `movedim`
(a view: a contiguous NHWC tensor seen as NCHW is torch's channels_last memory format), kernels
are stored in torch's layout and translated only in `keras_weight_views()`.

`padding="same"` follows Keras (and TF/JAX): for each spatial axis of size `n`,
`total = max((ceil(n/s) - 1)*s + (k-1)*d + 1 - n, 0)`, `before = total // 2`, the rest at the
END. torch's conv refuses `padding="same"` with strides and its integer padding is symmetric, so
asymmetric cases go through `F.pad` first; symmetric ones use the op's own `padding=`.
"""

import math
import numbers

import torch
import torch.nn.functional as F

from kerastorch import activations, config, constraints, initializers, regularizers
from kerastorch.layers.layer import InputShapeError, Layer, WeightView
from kerastorch.utils.registry import serialize

CONV_FNS = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
CONV_TRANSPOSE_FNS = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


# ---------------------------------------------------------------------- argument checks
def normalize_tuple(value, n, name, allow_zero=False):
    """An int or n ints -> a tuple of n ints (> 0, or >= 0 with `allow_zero`)."""
    msg = f"The `{name}` argument must be an integer or a tuple of {n} integers"
    if _is_int(value):
        values = (int(value),) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise ValueError(f"{msg}. Received: {name}={value!r}") from None
        if len(values) != n or not all(_is_int(v) for v in values):
            raise ValueError(f"{msg}. Received: {name}={value!r}")
        values = tuple(int(v) for v in values)
    low = 0 if allow_zero else 1
    if any(v < low for v in values):
        raise ValueError(f"{msg}, each {'>= 0' if allow_zero else '> 0'}. "
                         f"Received: {name}={value!r}")
    return values


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def normalize_padding(value, allow_causal=False):
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    padding = value.lower() if isinstance(value, str) else value
    if padding not in allowed:
        raise ValueError(f"The `padding` argument must be one of {allowed}. "
                         f"Received: padding={value!r}")
    return padding


def normalize_data_format(value):
    if value is None:
        return config.image_data_format()
    data_format = str(value).lower()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError("The `data_format` argument must be one of 'channels_first', "
                         f"'channels_last'. Received: data_format={value!r}")
    return data_format


def positive_int(value, name):
    if not _is_int(value) or value <= 0:
        raise ValueError(f"Invalid value for argument `{name}`: expected a strictly positive "
                         f"integer. Received: {name}={value!r}")
    return int(value)


# ---------------------------------------------------------------------- padding arithmetic
def same_pads(size, kernel, stride, dilation=1):
    """Keras' `same` padding of one axis: (before, after), the extra cell at the end."""
    effective = (kernel - 1) * dilation + 1
    total = max((math.ceil(size / stride) - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def output_length(size, kernel, stride, padding, dilation=1):
    """Length of a conv/pool output axis (None stays None), as Keras computes it."""
    if size is None:
        return None
    if padding in ("same", "causal"):
        return (size - 1) // stride + 1
    return (size - (kernel - 1) * dilation - 1) // stride + 1


def torch_pads(pads):
    """[(before, after), ...] per spatial axis -> (int padding for the op, F.pad argument).

    Symmetric pads go to the op itself; anything else becomes an F.pad argument (last axis
    first, as F.pad wants) and the op gets zero padding.
    """
    if all(b == a for b, a in pads):
        return tuple(b for b, _ in pads), None
    flat = []
    for before, after in reversed(pads):
        flat += [before, after]
    return (0,) * len(pads), tuple(flat)


def transpose_pads(kernel, stride, dilation, padding, output_padding):
    """Keras' transposed-conv padding of one axis as JAX applies it: (left, right) zeros around
    the stride-dilated input, which is then correlated with the flipped kernel."""
    effective = (kernel - 1) * dilation + 1
    if padding == "valid":
        if output_padding is None:
            output_padding = max(effective, stride) - effective
        return effective - 1, effective - 1 + output_padding
    if output_padding is None:
        total = stride + effective - 2  # output = input * stride
    else:
        total = effective + effective % 2 - 2 + output_padding
    left = min(total // 2 + total % 2, effective - 1)
    return left, total - left


# ---------------------------------------------------------------------- kernel layouts
def keras_to_torch_perm(rank):
    """Keras (*k, a, b) -> torch (b, a, *k): conv (in, out) -> (out, in); transposed conv
    (out, in) -> (in, out); the same permutation serves both."""
    return (rank + 1, rank, *range(rank))


def torch_to_keras_perm(rank):
    return (*range(2, rank + 2), 1, 0)


def kernel_view(name, tensor, rank):
    """WeightView of a kernel stored (b, a, *k) by torch and (*k, a, b) by Keras."""
    to_k, to_t = torch_to_keras_perm(rank), keras_to_torch_perm(rank)
    return WeightView(name, tensor, lambda t: t.permute(*to_k), lambda a: a.permute(*to_t))


def depthwise_view(name, tensor, rank, multiplier):
    """Keras (*k, in, mult) vs torch Conv(groups=in) weight (in*mult, 1, *k); channel c*mult+m."""

    def to_keras(t):
        in_ch = t.shape[0] // multiplier
        return t.reshape(in_ch, multiplier, *t.shape[2:]).permute(*range(2, rank + 2), 0, 1)

    def from_keras(a):
        moved = a.permute(rank, rank + 1, *range(rank))
        return moved.reshape(moved.shape[0] * multiplier, 1, *moved.shape[2:])

    return WeightView(name, tensor, to_keras, from_keras)


# ---------------------------------------------------------------------- the shared base
class BaseConv(Layer):
    """Shared by all convolutions: arguments, the channels_last view, padding, errors.

    Subclasses set `self.rank` (via `__init__`), implement `build` and `_run(x)` on a
    channels-first tensor, and give `_out_channels(in_channels)` and `_out_spatial(spatial)`.
    """

    _float_inputs = True  # integer inputs are cast to the compute dtype

    _allow_causal = False
    _check_strides_and_dilation = True

    def __init__(self, rank, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, bias_initializer="zeros",
                 bias_regularizer=None, activity_regularizer=None, bias_constraint=None,
                 **kwargs):
        super().__init__(activity_regularizer=regularizers.get(activity_regularizer), **kwargs)
        self.rank = rank
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size")
        self.strides = normalize_tuple(strides, rank, "strides")
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate")
        self.padding = normalize_padding(padding, allow_causal=self._allow_causal)
        self.data_format = normalize_data_format(data_format)
        if (self._check_strides_and_dilation and max(self.strides) > 1
                and max(self.dilation_rate) > 1):
            raise ValueError("`strides > 1` not supported in conjunction with "
                             f"`dilation_rate > 1`. Received: strides={self.strides} and "
                             f"dilation_rate={self.dilation_rate}")
        self.activation = activations.get(activation)
        self._linear = self.activation is activations.linear
        self.use_bias = bool(use_bias)
        self.bias_initializer = initializers.get(bias_initializer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.bias_constraint = constraints.get(bias_constraint)
        self._channels_last = self.data_format == "channels_last"
        self._static_pads = self._pads_for(None)

    # -------------------------------------------------------------- padding
    def _pads_for(self, spatial):
        """(op padding, F.pad argument or None) for inputs of `spatial` size; `spatial=None`
        gives the size-independent answer, or None when it depends on the size."""
        r = self.rank
        if self.padding == "valid":
            return (0,) * r, None
        if self.padding == "causal":
            return (0,), ((self.kernel_size[0] - 1) * self.dilation_rate[0], 0)
        if spatial is None:
            if max(self.strides) > 1:
                return None
            spatial = (1,) * r  # with stride 1 the padding does not depend on the size
        return torch_pads([same_pads(n, k, s, d) for n, k, s, d in zip(
            spatial, self.kernel_size, self.strides, self.dilation_rate)])

    def _pad(self, x):
        """Pad `x` (channels first) as Keras would; returns (x, padding for the torch op)."""
        pads = self._static_pads or self._pads_for(x.shape[2:])
        padding, fpad = pads
        if fpad is not None:
            x = F.pad(x, fpad)
        return x, padding

    # -------------------------------------------------------------- calling
    def call(self, inputs):
        if inputs.ndim != self.rank + 2:
            raise InputShapeError(self._bad_rank(inputs.shape))
        x = inputs.movedim(-1, 1) if self._channels_last else inputs
        try:
            y = self._run(x)
        except RuntimeError as err:
            problem = self._bad_input(tuple(inputs.shape))
            if problem is None:
                raise
            raise InputShapeError(problem) from err
        if self._channels_last:
            y = y.movedim(1, -1)
        return y if self._linear else self.activation(y)

    def _run(self, x):
        raise NotImplementedError

    # -------------------------------------------------------------- shapes
    def _in_channels(self, input_shape):
        return input_shape[-1] if self._channels_last else input_shape[1]

    def _spatial(self, input_shape):
        return tuple(input_shape[1:-1] if self._channels_last else input_shape[2:])

    def _bad_rank(self, shape):
        axes = "spatial..., channels" if self._channels_last else "channels, spatial..."
        return (f"Layer '{self.name}' ({type(self).__name__}) expects inputs of rank "
                f"{self.rank + 2} (batch, {axes}), received an input of shape {tuple(shape)}.")

    def _bad_input(self, shape):
        """Why an input of `shape` cannot go through the layer, or None."""
        head = f"Layer '{self.name}' ({type(self).__name__}) "
        if len(shape) != self.rank + 2:
            return self._bad_rank(shape)
        want = getattr(self, "_built_in_channels", None)
        got = self._in_channels(shape)
        if want is not None and got != want:
            return (head + f"was built for {want} input channels, received an input of shape "
                    f"{shape} with {got} channels (data_format={self.data_format!r}).")
        out = self._out_spatial(self._spatial(shape))
        if any(o is not None and o <= 0 for o in out):
            return (head + f"cannot take an input of shape {shape}: the output would have "
                    f"spatial size {out} (kernel_size={self.kernel_size}, strides="
                    f"{self.strides}, dilation_rate={self.dilation_rate}, "
                    f"padding={self.padding!r}).")
        return None

    def _check_build_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2:
            raise ValueError(self._bad_rank(input_shape))
        in_ch = self._in_channels(input_shape)
        if in_ch is None:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) needs a known "
                             f"channel dimension. Received: input_shape={input_shape}")
        problem = self._bad_input(input_shape)
        if problem:
            raise ValueError(problem)
        return in_ch

    def _out_spatial(self, spatial):
        return tuple(output_length(n, k, s, self.padding, d) for n, k, s, d in zip(
            spatial, self.kernel_size, self.strides, self.dilation_rate))

    def _out_channels(self, in_channels):
        return self.filters

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2:
            raise ValueError(self._bad_rank(input_shape))
        channels = self._out_channels(self._in_channels(input_shape))
        spatial = self._out_spatial(self._spatial(input_shape))
        if self._channels_last:
            return (input_shape[0], *spatial, channels)
        return (input_shape[0], channels, *spatial)

    # -------------------------------------------------------------- weights
    def _make_bias(self, size):
        if self.use_bias:
            self.bias = torch.nn.Parameter(self.bias_initializer((size,)))
            self._register("bias", self.bias_regularizer, self.bias_constraint)
        else:
            self.register_parameter("bias", None)

    def _register(self, attr, regularizer, constraint):
        if regularizer is not None:
            self._weight_regularizers().append((regularizer, attr))
        if constraint is not None:
            self._weight_constraints().append((constraint, attr))

    def _base_config(self):
        return {"kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate}

    def _tail_config(self):
        return {"activation": activations.serialize(self.activation),
                "use_bias": self.use_bias}

    def _regularizer_configs(self, prefix):
        return {f"{prefix}_initializer": serialize(getattr(self, f"{prefix}_initializer")),
                "bias_initializer": serialize(self.bias_initializer),
                f"{prefix}_regularizer": serialize(getattr(self, f"{prefix}_regularizer")),
                "bias_regularizer": serialize(self.bias_regularizer),
                "activity_regularizer": serialize(self.activity_regularizer),
                f"{prefix}_constraint": serialize(getattr(self, f"{prefix}_constraint")),
                "bias_constraint": serialize(self.bias_constraint)}

    def extra_repr(self):
        return (f"name={self.name!r}, kernel_size={self.kernel_size}, strides={self.strides}, "
                f"padding={self.padding!r}, data_format={self.data_format!r}")
