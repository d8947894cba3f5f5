"""Pieces shared by the attention layers: seeded dropout of attention weights, Keras' views of
the per-head kernels over torch's `(out, in)` ones, regularizers/constraints over packed
tensors, per-projection initializer copies, MultiHeadAttention's output projection, and its
attention masks (Keras' `_compute_attention_mask`)."""

import math

import torch
import torch.nn.functional as F
from torch import nn

from kerastorch import initializers
from kerastorch.layers.layer import Layer, WeightView


def _keras_mask(x):
    return x.__dict__.get("_keras_mask") if isinstance(x, torch.Tensor) else None


def _additive(mask, dtype, value):
    """Bool mask (True = attend) -> float mask added to the logits."""
    return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill_(~mask, value)


class _SeededDropout:
    """Dropout on attention weights; with a `seed`, masks come from a seeded generator."""

    def _drop(self, x, rate, training):
        if not training or rate == 0:
            return x
        if self.seed is None:
            return F.dropout(x, rate, True)
        gen = self.__dict__.get("_generator")
        if gen is None or gen.device != x.device:
            gen = torch.Generator(device=x.device).manual_seed(self.seed)
            self.__dict__["_generator"] = gen
        keep = torch.rand(x.shape, device=x.device, generator=gen) >= rate
        return x * keep.to(x.dtype) / (1.0 - rate)


def _kernel_view(name, tensor, in_dim, heads, head_dim):
    """Keras' `(in_dim, heads, head_dim)` kernel over a torch `(heads * head_dim, in_dim)` one."""
    return WeightView(name, tensor, lambda t: t.T.reshape(in_dim, heads, head_dim),
                      lambda a: a.reshape(in_dim, heads * head_dim).T)


def _bias_view(name, tensor, heads, head_dim):
    return WeightView(name, tensor, lambda t: t.reshape(heads, head_dim),
                      lambda a: a.reshape(heads * head_dim))


class _Packed:
    """A regularizer or constraint of Keras' per-projection kernels applied to a packed torch
    tensor (`in_proj_weight (3E, E)`, `in_proj_bias`): split it into Keras' views, apply, and
    (constraints) pack the results again. `views`: `(rows, to_keras, from_keras)` per part."""

    def __init__(self, fn, views, is_constraint):
        self.fn, self.views, self.is_constraint = fn, views, is_constraint

    def __call__(self, packed):
        parts, start = [], 0
        for rows, to_keras, _ in self.views:
            parts.append(to_keras(packed[start:start + rows]))
            start += rows
        if not self.is_constraint:
            return sum(self.fn(p) for p in parts)
        return torch.cat([back(self.fn(p)) for p, (_, _, back) in zip(parts, self.views)])


def _clone_initializer(init, input_axes=None, output_axes=None):
    """A fresh copy, as Keras gives each projection; VarianceScaling fans over Keras' EinsumDense
    input/output axes."""
    if not isinstance(init, initializers.Initializer):
        return init
    cfg = init.get_config()
    if isinstance(init, initializers.VarianceScaling) and input_axes is not None and (
            cfg.get("input_axes") is None or cfg.get("output_axes") is None):
        cfg = {**cfg, "input_axes": input_axes, "output_axes": output_axes}
    return type(init).from_config(cfg)


class _AttentionOutput(Layer):
    """MultiHeadAttention's output projection (Keras' `attention_output` EinsumDense; torch's
    `out_proj` Linear): `weight (prod(output_shape), heads * value_dim)`, `bias`."""

    def __init__(self, heads, head_dim, output_shape, use_bias, kernel_initializer,
                 bias_initializer, kernel_regularizer, bias_regularizer, kernel_constraint,
                 bias_constraint, **kwargs):
        super().__init__(**kwargs)
        self.heads, self.head_dim, self.out_shape = heads, head_dim, tuple(output_shape)
        self.use_bias = use_bias
        units = math.prod(self.out_shape)
        kernel_shape = (heads, head_dim, *self.out_shape)
        self.weight = nn.Parameter(kernel_initializer(kernel_shape)
                                   .reshape(heads * head_dim, units).T.contiguous())
        if use_bias:
            self.bias = nn.Parameter(bias_initializer(self.out_shape).reshape(units))
        else:
            self.register_parameter("bias", None)
        for reg, attr in ((kernel_regularizer, "weight"), (bias_regularizer, "bias")):
            if reg is not None and getattr(self, attr) is not None:
                self._weight_regularizers().append((reg, attr))
        for con, attr in ((kernel_constraint, "weight"), (bias_constraint, "bias")):
            if con is not None and getattr(self, attr) is not None:
                self._weight_constraints().append((con, attr))
        self.built = True

    def call(self, inputs):
        return F.linear(inputs, self.weight, self.bias)

    def keras_weight_views(self):
        h, d, out = self.heads, self.head_dim, self.out_shape
        views = [WeightView("kernel", self.weight, lambda t: t.T.reshape(h, d, *out),
                            lambda a: a.reshape(h * d, -1).T)]
        if self.use_bias:
            views.append(WeightView("bias", self.bias, lambda t: t.reshape(out),
                                    lambda a: a.reshape(-1)))
        return views


# ------------------------------------------------------------------------- masks
def causal_mask(layer_name, q_mid, k_mid, device):
    """Bool `(T, S)` lower-triangular mask (True = attend); rank-3 inputs only."""
    if len(q_mid) != 1:
        raise NotImplementedError(f"Layer '{layer_name}' (MultiHeadAttention): causal and "
                                  "sliding-window masks need inputs of rank 3.")
    return torch.ones(q_mid[0], k_mid[0], dtype=torch.bool, device=device).tril()


def compute_attention_mask(layer_name, query, q_mid, k_mid, query_mask, value_mask, key_mask,
                           attention_mask, use_causal_mask, sliding_window):
    """Keras' `_compute_attention_mask`, as a bool `(B or 1, heads or 1, T, S)` tensor."""
    batch, t_len, s_len = query.shape[0], math.prod(q_mid), math.prod(k_mid)
    device = query.device
    mask = None

    def both(a, b):
        return b if a is None else a & b

    if query_mask is not None:
        mask = torch.as_tensor(query_mask, device=device).bool() \
            .reshape(batch, t_len).unsqueeze(-1)  # (B, T, 1)
    for m in (value_mask, key_mask):
        if m is not None:
            m = torch.as_tensor(m, device=device).bool().reshape(batch, s_len)
            mask = both(mask, m.unsqueeze(-2))  # (B, 1, S)
    if use_causal_mask:
        mask = both(mask, causal_mask(layer_name, q_mid, k_mid, device))
    if sliding_window is not None:
        if len(q_mid) != 1:
            causal_mask(layer_name, q_mid, k_mid, device)  # raises
        rows = torch.arange(t_len, device=device).unsqueeze(-1)
        cols = torch.arange(s_len, device=device)
        mask = both(mask, (rows - cols).abs() < sliding_window)
    if attention_mask is not None:
        am = torch.as_tensor(attention_mask, device=device)
        am = am if am.dtype == torch.bool else am != 0
        if len(q_mid) > 1:  # (B, *T dims, *S dims) -> (B, T, S)
            am = am.reshape(*am.shape[:am.dim() - len(q_mid) - len(k_mid)], t_len, s_len)
        mask = am if mask is None else am & mask
    if mask is None:
        return None
    while mask.dim() < 4:  # Keras expands at the heads axis
        mask = mask.unsqueeze(-3)
    return mask
