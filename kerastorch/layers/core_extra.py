"""More core layers: `EinsumDense`, `Embedding`, `Masking`, `Lambda`."""

import codecs
import inspect
import marshal
import re
import types
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from kerastorch import activations, initializers, regularizers
from kerastorch.layers.layer import Layer, WeightView
from kerastorch.layers.weight_options import set_weight_options, weight_options_config


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r} "
                         f"(of type {type(value).__name__}).")
    return value


def _no_lora_or_quantization(cls_name, lora_rank, quantization_config):
    if lora_rank:
        raise NotImplementedError(f"{cls_name}(lora_rank=...) is not supported by kerastorch.")
    if quantization_config is not None:
        raise NotImplementedError(f"{cls_name}(quantization_config=...) is not supported by "
                                  "kerastorch.")


def _register_penalties(layer, attr, regularizer, constraint):
    if regularizer is not None:
        layer._weight_regularizers().append((regularizer, attr))
    if constraint is not None:
        layer._weight_constraints().append((constraint, attr))


# ---------------------------------------------------------------------- EinsumDense
class EinsumDense(Layer):
    """A dense layer whose contraction is an einsum: `activation(einsum(equation, x, kernel)
    + bias)`.

    Args:
        equation: `"ab,bc->ac"`, `"...ab,bc->...ac"` or `"ab...,bc->ac..."` (input, kernel,
            output), as in Keras.
        output_shape: Int or tuple: the output shape without the batch axis and the axes
            covered by `...`; `None` entries are taken from the input.
        activation: Name or callable; `None` means linear.
        bias_axes: Letters of the output spec that get a bias (`None`: no bias).
        kernel_initializer: Default `glorot_uniform`, with fans computed over the kernel's input
            and output axes as Keras does.
        bias_initializer, kernel_regularizer, bias_regularizer, activity_regularizer,
        kernel_constraint, bias_constraint: As in `Dense`.

    State: `kernel` and `bias` in Keras' layout (no torch module takes an arbitrary einsum), so
    `get_weights()` is the state as stored. `torch.einsum` does the contraction.
    """

    _float_inputs = True  # integer inputs are cast to the compute dtype

    def __init__(self, equation, output_shape, activation=None, bias_axes=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, lora_alpha=None,
                 quantization_config=None, **kwargs):
        super().__init__(activity_regularizer=regularizers.get(activity_regularizer), **kwargs)
        _no_lora_or_quantization("EinsumDense", lora_rank, quantization_config)
        if not isinstance(equation, str):
            raise ValueError(f"`equation` must be a string. Received: equation={equation!r}")
        _split_equation(equation)  # validates the form early
        self.equation = equation
        self.partial_output_shape = ((output_shape,) if isinstance(output_shape, int)
                                     else tuple(output_shape))
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        set_weight_options(self, kernel_initializer=kernel_initializer,
                           bias_initializer=bias_initializer,
                           kernel_regularizer=kernel_regularizer,
                           bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                           bias_constraint=bias_constraint)

    def build(self, input_shape):
        try:
            kernel_shape, bias_shape, _, input_axes, output_axes = _analyze_einsum(
                self.equation, self.bias_axes, input_shape, self.partial_output_shape)
        except ValueError as err:
            raise ValueError(f"Layer '{self.name}' (EinsumDense) cannot take inputs of shape "
                             f"{tuple(input_shape)}: {err}") from None
        if any(d is None for d in kernel_shape):
            raise ValueError(f"Layer '{self.name}' (EinsumDense) needs known sizes for the "
                             f"kernel axes; got kernel shape {tuple(kernel_shape)} from "
                             f"input_shape={tuple(input_shape)}, "
                             f"output_shape={self.partial_output_shape}.")
        init = self.kernel_initializer
        if isinstance(init, initializers.VarianceScaling) and (
                init.input_axes is None or init.output_axes is None):
            # Keras computes the fans over the kernel's input and output axes.
            config = {**init.get_config(), "seed": init.seed, "input_axes": input_axes,
                      "output_axes": output_axes}
            init = type(init).from_config(config)
        self.kernel = nn.Parameter(init(tuple(kernel_shape)))
        if bias_shape is not None:
            self.bias = nn.Parameter(self.bias_initializer(tuple(bias_shape)))
        else:
            self.register_parameter("bias", None)
        _register_penalties(self, "kernel", self.kernel_regularizer, self.kernel_constraint)
        if bias_shape is not None:
            _register_penalties(self, "bias", self.bias_regularizer, self.bias_constraint)
        self.built = True

    def call(self, inputs):
        x = torch.einsum(self.equation, inputs, self.kernel)
        if self.bias is not None:
            x = x + self.bias
        return self.activation(x)

    def keras_weight_views(self):
        views = [WeightView("kernel", self.kernel)]
        if self.bias is not None:
            views.append(WeightView("bias", self.bias))
        return views

    def compute_output_shape(self, input_shape):
        return tuple(_analyze_einsum(self.equation, self.bias_axes, input_shape,
                                     self.partial_output_shape)[2])

    def get_config(self):
        return {
            **super().get_config(),
            "output_shape": self.partial_output_shape,
            "equation": self.equation,
            "activation": activations.serialize(self.activation),
            "bias_axes": self.bias_axes,
            **weight_options_config(self, "kernel_initializer", "bias_initializer",
                                    "kernel_regularizer", "bias_regularizer",
                                    "activity_regularizer", "kernel_constraint",
                                    "bias_constraint"),
            "quantization_config": None,
        }

    def extra_repr(self):
        return f"name={self.name!r}, equation={self.equation!r}"


def _split_equation(equation):
    """(input_spec, kernel_spec, output_spec, left_elided) of a Keras EinsumDense equation."""
    dotless = equation.replace("...", "0")
    for pattern, left in (("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$", False),
                          ("0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)$", True),
                          ("([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0$", False)):
        match = re.match(pattern, dotless)
        if match:
            return (*match.groups(), left)
    raise ValueError(f"Invalid einsum equation '{equation}'. Equations must be in the form "
                     "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]....")


def _analyze_einsum(equation, bias_axes, input_shape, output_shape):
    """Keras' `_analyze_split_string`: kernel shape, bias shape, full output shape, and the
    kernel's input and output axes (for the initializer's fans)."""
    input_spec, weight_spec, output_spec, left_elided = _split_equation(equation)
    input_shape = tuple(input_shape)
    elided = len(input_shape) - len(input_spec)
    output_shape = [input_shape[0], *output_shape]
    if elided > 0 and left_elided:
        # The elided axes sit between the batch axis and the spelled-out ones, in input order.
        # (Keras 3.15 inserts them reversed when more than one is elided; that only affects
        # its reported shape, not the einsum.)
        output_shape[1:1] = input_shape[1:elided]
    elif elided > 0:
        output_shape.extend(input_shape[len(input_shape) - elided:])
    if left_elided:
        input_dim_map = {dim: i + elided - len(input_shape) for i, dim in enumerate(input_spec)}
        output_dim_map = {dim: i + elided for i, dim in enumerate(output_spec)}
    else:
        input_dim_map = {dim: i for i, dim in enumerate(input_spec)}
        output_dim_map = {dim: i for i, dim in enumerate(output_spec)}
    for dim in input_spec:
        if dim in output_dim_map:
            want, have = output_shape[output_dim_map[dim]], input_shape[input_dim_map[dim]]
            if want is not None and want != have:
                raise ValueError(f"Input shape and output shape do not match at shared "
                                 f"dimension '{dim}'. Input shape is {have}, and output shape "
                                 f"is {want}.")
            output_shape[output_dim_map[dim]] = have
    for dim in output_spec:
        if dim not in input_spec and dim not in weight_spec:
            raise ValueError(f"Dimension '{dim}' was specified in the output '{output_spec}' "
                             f"but has no corresponding dim in the input spec '{input_spec}' "
                             f"or weight spec '{weight_spec}'")
    weight_shape, input_axes, output_axes = [], [], []
    for axis, dim in enumerate(weight_spec):
        # a weight axis takes its size from the output where the output has it, else the input
        source = (output_dim_map, output_shape, output_axes) if dim in output_dim_map else \
            (input_dim_map, input_shape, input_axes) if dim in input_dim_map else None
        if source is not None:
            index, shape, axes = source
            weight_shape.append(shape[index[dim]])
            axes.append(axis)
        else:
            raise ValueError(f"Weight dimension '{dim}' did not have a match in either the "
                             f"input spec '{input_spec}' or the output spec '{output_spec}'. "
                             "For this layer, the weight must be fully specified.")
    bias_shape = None
    if bias_axes is not None:
        offset = elided if left_elided else 0
        sizes = {c: output_shape[i + offset] for i, c in enumerate(output_spec)}
        for c in bias_axes:
            if c not in output_spec:
                raise ValueError(f"Bias dimension '{c}' was requested, but is not part of the "
                                 f"output spec '{output_spec}'")
        first = min(output_spec.find(c) for c in bias_axes)
        bias_shape = [sizes[c] if c in bias_axes else 1 for c in output_spec[first:]]
        if not left_elided:
            bias_shape.extend([1] * max(elided, 0))
    return weight_shape, bias_shape, output_shape, input_axes, output_axes


# ---------------------------------------------------------------------- Embedding
class Embedding(Layer):
    """Turns integer indices into dense vectors: `embeddings[inputs]`; torch's `nn.Embedding`.

    Args:
        input_dim: Vocabulary size (largest index + 1).
        output_dim: Size of each vector.
        embeddings_initializer: Default `uniform` = U(-0.05, 0.05) (torch: N(0, 1)).
        embeddings_regularizer, embeddings_constraint: On the `(input_dim, output_dim)` matrix.
        mask_zero: Whether index 0 is padding: the output then carries the mask `inputs != 0`
            (so `input_dim` should count index 0).
        weights: Optional initial matrix (or a one-element list holding it).

    Input shape: `(batch, ...)` integers (floats are cast). Output shape:
    `(batch, ..., output_dim)`.

    State: `weight (input_dim, output_dim)`, as in `nn.Embedding` and Keras' `embeddings`.
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 weights=None, lora_rank=None, lora_alpha=None, quantization_config=None,
                 activity_regularizer=None, **kwargs):
        _positive_int(input_dim, "input_dim")
        _positive_int(output_dim, "output_dim")
        if kwargs.pop("input_length", None) is not None:
            warnings.warn("Argument `input_length` is deprecated. Just remove it.", stacklevel=2)
        super().__init__(activity_regularizer=regularizers.get(activity_regularizer), **kwargs)
        _no_lora_or_quantization("Embedding", lora_rank, quantization_config)
        self.input_dim = input_dim
        self.output_dim = output_dim
        set_weight_options(self, embeddings_initializer=embeddings_initializer,
                           embeddings_regularizer=embeddings_regularizer,
                           embeddings_constraint=embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        if weights is not None:  # Keras 2's `weights=`: the initial embedding matrix
            self.build(None)
            one = isinstance(weights, list) and len(weights) == 1
            self.set_weights(weights if one else [weights])

    def build(self, input_shape=None):
        if self.built:
            return
        self.weight = nn.Parameter(
            self.embeddings_initializer((self.input_dim, self.output_dim)))
        _register_penalties(self, "weight", self.embeddings_regularizer,
                            self.embeddings_constraint)
        self.built = True

    @property
    def embeddings(self) -> torch.Tensor:
        """Keras' name for `weight`."""
        return self.weight

    def call(self, inputs):
        if inputs.dtype not in (torch.int32, torch.int64):
            inputs = inputs.to(torch.int64)
        try:
            return F.embedding(inputs, self.weight)
        except IndexError as err:  # CPU; CUDA reports a device-side assert instead
            raise ValueError(f"Layer '{self.name}' (Embedding) received an index outside "
                             f"[0, {self.input_dim}) (input_dim={self.input_dim}); inputs "
                             f"of shape {tuple(inputs.shape)}.") from err

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return inputs != 0

    def keras_weight_views(self):
        return [WeightView("embeddings", self.weight)]

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            **weight_options_config(self, "embeddings_initializer", "embeddings_regularizer",
                                    "activity_regularizer", "embeddings_constraint"),
            "mask_zero": self.mask_zero,
            "quantization_config": None,
        }

    def extra_repr(self):
        return f"name={self.name!r}, input_dim={self.input_dim}, output_dim={self.output_dim}"


# ---------------------------------------------------------------------- Masking
class Masking(Layer):
    """Masks timesteps whose features all equal `mask_value`.

    The output mask is `any(inputs != mask_value, axis=-1)`; masked timesteps are also zeroed in
    the output, as in Keras.

    Args:
        mask_value: The padding value (default 0.0).

    Input shape: `(batch, time, features)` (any rank >= 2). Output: same shape, with
    `_keras_mask` of shape `(batch, time)`.
    """

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        keep = torch.any(inputs != self.mask_value, dim=-1, keepdim=True)
        return torch.where(keep, inputs, 0)

    def compute_mask(self, inputs, mask=None):
        return torch.any(inputs != self.mask_value, dim=-1)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}


# ---------------------------------------------------------------------- Lambda
class Lambda(Layer):
    """Wraps a function of torch tensors as a layer: `Lambda(lambda x: x ** 2)`.

    Args:
        function: Called as `function(inputs, **arguments)`; it also receives `mask=` and/or
            `training=` when its signature names them.
        output_shape: Shape (batch excluded) or a function of the input shape, for the
            functional API; by default found by running `function` on fake tensors.
        mask: The output mask: a tensor, or a function `(inputs, mask) -> mask`.
        arguments: Optional dict of extra keyword arguments for `function`.

    `get_config()` stores a Python lambda as Keras does (marshalled bytecode, tied to the Python
    version), a named function by its name.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise ValueError(f"`function` must be callable. Received: function={function!r}")
        self.function = function
        self.arguments = dict(arguments or {})
        self.mask = mask
        self.supports_masking = mask is not None
        self._output_shape = output_shape
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):  # some builtins have no signature
            params = {}
        self._fn_expects_training_arg = "training" in params
        self._fn_expects_mask_arg = "mask" in params
        self.built = True

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_expects_mask_arg:
            kwargs["mask"] = mask
        if self._fn_expects_training_arg:
            kwargs["training"] = self.resolve_training(training)
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        first = input_shape
        while isinstance(first, (list, tuple)) and first and isinstance(first[0], (list, tuple)):
            first = first[0]
        batch = first[0] if first else None
        shape = self._output_shape
        if shape and isinstance(shape[0], (list, tuple)):
            return [(batch, *s) for s in shape]
        return (batch, *shape)

    def get_config(self):
        config = {"function": _serialize_function(self.function)}
        if self._output_shape is not None:
            config["output_shape"] = (_serialize_function(self._output_shape)
                                      if callable(self._output_shape) else self._output_shape)
        if self.mask is not None:
            if callable(self.mask):
                config["mask"] = _serialize_function(self.mask)
            else:  # a constant mask tensor
                config["mask"] = self.mask.tolist() if hasattr(self.mask, "tolist") else self.mask
        config["arguments"] = self.arguments
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config_, custom_objects=None, safe_mode=True):
        """Rebuilds the layer; a marshalled Python lambda loads only with `safe_mode=False`."""
        config_ = dict(config_)
        for key in ("function", "output_shape", "mask"):
            if key in config_ and isinstance(config_[key], dict):
                config_[key] = _deserialize_function(config_[key], custom_objects, safe_mode)
        if isinstance(config_.get("output_shape"), list):
            config_["output_shape"] = tuple(config_["output_shape"])
        return super().from_config(config_)


def _serialize_function(fn):
    if isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>":
        code = codecs.encode(marshal.dumps(fn.__code__), "base64").decode("ascii")
        closure = tuple(c.cell_contents for c in fn.__closure__) if fn.__closure__ else None
        return {"class_name": "__lambda__",
                "config": {"code": code, "defaults": fn.__defaults__, "closure": closure}}
    return {"module": getattr(fn, "__module__", None) or "builtins", "class_name": "function",
            "config": getattr(fn, "__name__", repr(fn)), "registered_name": "function"}


def _deserialize_function(config_, custom_objects, safe_mode):
    custom_objects = custom_objects or {}
    if config_.get("class_name") == "__lambda__":
        if safe_mode:
            raise ValueError("Requested the deserialization of a `Lambda` layer whose "
                             "`function` is a Python lambda. This carries a potential risk of "
                             "arbitrary code execution and thus it is disallowed by default. If "
                             "you trust the source, pass `safe_mode=False`.")
        inner = config_["config"]
        code = marshal.loads(codecs.decode(inner["code"].encode("ascii"), "base64"))
        closure = inner.get("closure")
        cells = tuple(types.CellType(v) for v in closure) if closure else None
        defaults = tuple(inner["defaults"]) if inner.get("defaults") else None
        return types.FunctionType(code, {"torch": torch, "F": F, "__builtins__": __builtins__},
                                  code.co_name, defaults, cells)
    name = config_.get("config")
    if name in custom_objects:
        return custom_objects[name]
    try:
        return activations.get(name)
    except ValueError:
        raise ValueError(f"Cannot find the function {name!r} of a Lambda layer: pass it in "
                         "`custom_objects`.") from None
