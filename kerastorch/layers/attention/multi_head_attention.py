"""`MultiHeadAttention` (Vaswani et al., 2017).

`MultiHeadAttention` stores its projections as `nn.MultiheadAttention` does when the dimensions
allow it (`in_proj_weight (3E, E)`, `in_proj_bias`, `out_proj.weight`, `out_proj.bias`), so its
state dict loads into `nn.MultiheadAttention(E, num_heads, batch_first=True)`; Keras' per-head
kernels `(dim, heads, key_dim)` are views translated in `keras_weight_views()`. The attention
itself is `F.scaled_dot_product_attention` unless the scores are asked for.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from kerastorch import config
from kerastorch.layers.attention.attention_utils import (
    _additive, _AttentionOutput, _bias_view, _clone_initializer, _keras_mask, _kernel_view,
    _Packed, _SeededDropout, causal_mask, compute_attention_mask)
from kerastorch.layers.layer import InputShapeError, Layer
from kerastorch.layers.weight_options import set_weight_options, weight_options_config


# Constructor arguments kept as private attributes of the same name (`_num_heads`).
_CONFIG_ARGS = ("num_heads", "key_dim", "value_dim", "dropout", "use_bias", "use_gate",
                "output_shape", "attention_axes", "sliding_window")


class MultiHeadAttention(_SeededDropout, Layer):
    """Multi-head attention (Vaswani et al., 2017) with Keras' arguments and weights.

    `query` `(B, T, dim)` is projected to `(B, T, heads, key_dim)`, `key` to `(B, S, heads,
    key_dim)`, `value` to `(B, S, heads, value_dim)`; `softmax(q k^T / sqrt(key_dim))` (masked)
    weights the values; the heads are projected to `output_shape` (default: the query's dim).

    Args:
        num_heads: Number of heads.
        key_dim: Size of each head for query and key.
        value_dim: Size of each head for value (default `key_dim`).
        dropout: Dropout rate on the attention weights (training only).
        use_bias: Whether the projections have biases.
        output_shape: Int or tuple, the output's trailing shape (default: the query's dim).
        attention_axes: Only the default (all axes between batch and features) is supported;
            others raise NotImplementedError.
        sliding_window: Optional int: each query attends to keys within `sliding_window - 1`.
        flash_attention: Accepted for Keras compatibility; torch picks its kernel itself.
        kernel_initializer, bias_initializer: Default `glorot_uniform` (fans over Keras'
            EinsumDense axes: `dim` in, `heads * key_dim` out) and `zeros`.
        kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
        bias_constraint: Applied to every projection, as in Keras.
        use_gate: Gated attention: the heads are multiplied by `sigmoid(query projection)`.
        seed: Seed of the dropout masks.

    Call: `layer(query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
    attention_mask=None, return_attention_scores=False, training=None,
    use_causal_mask=False)`. Masks are True where attention is allowed; the Keras masks of
    `query`/`value`/`key` (`_keras_mask`) are used as their masks. Returns the output, or
    `(output, scores (B, heads, T, S))` with `return_attention_scores=True`.

    State: with `heads * key_dim == dim`, `value_dim == key_dim`, no `output_shape` and no gate,
    the layout of `nn.MultiheadAttention(dim, heads, kdim=..., vdim=..., batch_first=True)`:
    `in_proj_weight (3E, E)` when key and value have the query's dim, else `q_proj_weight`,
    `k_proj_weight`, `v_proj_weight`; `in_proj_bias (3E,)`; `out_proj.weight`, `out_proj.bias`.
    Otherwise the same names with free sizes (`q_proj_weight (heads*key_dim, dim)`, ...,
    `q_proj_bias`, ..., `gate_proj_weight`, `gate_proj_bias`). Keras' per-projection kernels
    over packed tensors are Parameter-typed aliases of their rows (see `_part`).
    """

    _float_inputs = True  # integer inputs are cast to the compute dtype

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, sliding_window=None,
                 flash_attention=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 use_gate=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        for arg, val, optional in (("num_heads", num_heads, False), ("key_dim", key_dim, False),
                                   ("value_dim", value_dim, True)):
            if optional and val is None:
                continue
            if isinstance(val, bool) or not isinstance(val, int) or val <= 0:
                raise ValueError(f"Layer '{self.name}' (MultiHeadAttention): received an invalid "
                                 f"value for argument `{arg}`, expected a positive integer. "
                                 f"Received: {arg}={val!r}")
        if not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"Layer '{self.name}' (MultiHeadAttention): `dropout` must be in "
                             f"[0, 1). Received: dropout={dropout!r}")
        if output_shape:
            if isinstance(output_shape, int):
                output_shape = (output_shape,)
            try:
                output_shape = tuple(int(d) for d in output_shape)
            except TypeError:
                raise ValueError(f"Layer '{self.name}' (MultiHeadAttention): invalid "
                                 "`output_shape`, expected an int, a tuple or a list. "
                                 f"Received: output_shape={output_shape!r}") from None
        else:
            output_shape = None
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        elif attention_axes is not None and not isinstance(attention_axes, (list, tuple)):
            raise ValueError(f"Layer '{self.name}' (MultiHeadAttention): `attention_axes` must "
                             f"be an int, list, or tuple. Received: "
                             f"attention_axes={attention_axes!r}")
        if sliding_window is not None and (isinstance(sliding_window, bool) or not isinstance(
                sliding_window, int) or sliding_window <= 0):
            raise ValueError(f"Layer '{self.name}' (MultiHeadAttention): `sliding_window` must "
                             f"be None or a positive integer. Received: "
                             f"sliding_window={sliding_window!r}")
        if flash_attention and dropout > 0:
            raise ValueError("Dropout is not supported when flash attention is enabled. Please "
                             "set dropout to 0.0 to use flash attention.")
        self._num_heads, self._key_dim = num_heads, key_dim
        self._value_dim = value_dim or key_dim
        self._dropout, self._use_bias, self._use_gate = dropout, use_bias, use_gate
        self._output_shape = output_shape
        self._attention_axes = tuple(attention_axes) if attention_axes is not None else None
        self._sliding_window = sliding_window
        self._flash_attention = flash_attention
        set_weight_options(self, "_", kernel_initializer=kernel_initializer,
                           bias_initializer=bias_initializer,
                           kernel_regularizer=kernel_regularizer,
                           bias_regularizer=bias_regularizer)
        # Keras gives it to every projection (each output is penalised), not to this layer.
        set_weight_options(self, "_", activity_regularizer=activity_regularizer,
                           kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)
        # Each projection gets its own copy (fresh seeds), as Keras gives each EinsumDense one;
        # VarianceScaling fans over Keras' EinsumDense axes: `dim` in, `heads * head_dim` out.
        out_rank = len(output_shape) if output_shape else 1
        self._initializers = {
            name: (_clone_initializer(self._kernel_initializer, [0], [1, 2]),
                   _clone_initializer(self._bias_initializer))
            for name in ("query", "key", "gate", "value")}
        self._initializers["output"] = (
            _clone_initializer(self._kernel_initializer, [0, 1], list(range(2, 2 + out_rank))),
            _clone_initializer(self._bias_initializer))
        self.seed = seed
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(key_dim))
        self.supports_masking = True

    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)

    # ------------------------------------------------------------------ calling
    def __call__(self, query, value=None, key=None, **kwargs):
        # The base builds from the first input only; the projections need value/key too.
        if value is None:
            value = kwargs.pop("value", None)
        if value is None:
            raise ValueError(f"Layer '{self.name}' (MultiHeadAttention) needs `query` and "
                             "`value`: call it as layer(query, value) or layer(query, value, "
                             "key).")
        if isinstance(value, np.ndarray) or isinstance(key, np.ndarray):
            device = query.device if isinstance(query, torch.Tensor) else self._device()
            value = config.to_tensor(value, device_=device) if isinstance(
                value, np.ndarray) else value
            key = config.to_tensor(key, device_=device) if isinstance(key, np.ndarray) else key
        if not self.built:
            self._pending_shapes = (tuple(value.shape),
                                    None if key is None else tuple(key.shape))
        if key is not None:
            kwargs["key"] = key
        return super().__call__(query, value=value, **kwargs)

    # ------------------------------------------------------------------ building
    def build(self, query_shape, value_shape=None, key_shape=None):
        pending = self.__dict__.pop("_pending_shapes", None)
        if value_shape is None:
            value_shape, key_shape = pending if pending is not None else (query_shape, None)
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(f"Layer '{self.name}' (MultiHeadAttention): all dimensions of "
                             "`value` and `key`, except the last one, must be equal. Received: "
                             f"value_shape={value_shape} and key_shape={key_shape}")
        if len(query_shape) < 3 or len(value_shape) != len(query_shape):
            raise ValueError(f"Layer '{self.name}' (MultiHeadAttention) needs query, value and "
                             "key of the same rank >= 3 (batch, ..., features). Received: "
                             f"query_shape={query_shape}, value_shape={value_shape}")
        dims = (query_shape[-1], key_shape[-1], value_shape[-1])
        if any(d is None for d in dims):
            raise ValueError(f"Layer '{self.name}' (MultiHeadAttention): the last dimension of "
                             f"query, key and value must be known. Received: query_shape="
                             f"{query_shape}, value_shape={value_shape}, key_shape={key_shape}")
        rank = len(query_shape) + 1  # of the projected tensors (B, ..., heads, dim)
        default_axes = tuple(range(1, rank - 2))
        if self._attention_axes is not None:
            axes = tuple(a if a >= 0 else (rank - 1) + a for a in self._attention_axes)
            if axes != default_axes:
                raise NotImplementedError(
                    f"Layer '{self.name}' (MultiHeadAttention): kerastorch supports only the "
                    f"default attention_axes {default_axes} (every axis between batch and "
                    f"features). Received: attention_axes={self._attention_axes}")
        self._attention_axes = default_axes
        dq, dk, dv = dims
        h, kd, vd = self._num_heads, self._key_dim, self._value_dim
        self._dims = dims
        self._rank = len(query_shape)
        out_shape = self._output_shape or (dq,)
        self._out_shape = tuple(out_shape)
        # nn.MultiheadAttention's layout when it can hold these weights: one packed bias, and
        # one packed weight when key and value have the query's dim.
        self._torch_layout = (not self._use_gate and kd == vd and h * kd == dq
                              and self._out_shape == (dq,))
        self._packed = self._torch_layout and dk == dq and dv == dq

        def kernel(name, in_dim, head_dim):  # Keras (in, heads, head_dim) -> torch (out, in)
            init = self._initializers[name][0]
            return init((in_dim, h, head_dim)).reshape(in_dim, h * head_dim).T.contiguous()

        def bias(name, head_dim):
            return self._initializers[name][1]((h, head_dim)).reshape(-1)

        wq, wk = kernel("query", dq, kd), kernel("key", dk, kd)
        bq, bk = (bias("query", kd), bias("key", kd)) if self._use_bias else (None, None)
        if self._use_gate:
            self.gate_proj_weight = nn.Parameter(kernel("gate", dq, vd))
            if self._use_bias:
                self.gate_proj_bias = nn.Parameter(bias("gate", vd))
            else:
                self.register_parameter("gate_proj_bias", None)
        wv = kernel("value", dv, vd)
        bv = bias("value", vd) if self._use_bias else None
        if self._packed:
            self.in_proj_weight = nn.Parameter(torch.cat([wq, wk, wv]))
        else:
            self.q_proj_weight = nn.Parameter(wq)
            self.k_proj_weight = nn.Parameter(wk)
            self.v_proj_weight = nn.Parameter(wv)
        if not self._use_bias:
            self.register_parameter("in_proj_bias", None)
        elif self._torch_layout:
            self.in_proj_bias = nn.Parameter(torch.cat([bq, bk, bv]))
        else:
            self.q_proj_bias = nn.Parameter(bq)
            self.k_proj_bias = nn.Parameter(bk)
            self.v_proj_bias = nn.Parameter(bv)
        self.out_proj = _AttentionOutput(
            h, vd, self._out_shape, self._use_bias, *self._initializers["output"],
            self._kernel_regularizer, self._bias_regularizer,
            self._kernel_constraint, self._bias_constraint, name="attention_output",
            dtype=self.dtype)
        self._register_penalties()
        self._part_cache = {}
        self.built = True

    def _register_penalties(self):
        h, kd, vd = self._num_heads, self._key_dim, self._value_dim
        dq, dk, dv = self._dims
        kernels = [("q_proj_weight", dq, kd), ("k_proj_weight", dk, kd),
                   ("v_proj_weight", dv, vd)]
        biases = [(h * kd, lambda t: t.reshape(h, kd), lambda a: a.reshape(-1)),
                  (h * kd, lambda t: t.reshape(h, kd), lambda a: a.reshape(-1)),
                  (h * vd, lambda t: t.reshape(h, vd), lambda a: a.reshape(-1))]
        for fn, store, is_con in ((self._kernel_regularizer, self._weight_regularizers, False),
                                  (self._kernel_constraint, self._weight_constraints, True)):
            if fn is None:
                continue
            if self._packed:  # one tensor holds three Keras kernels
                views = [(h * hd, lambda t, i=i, hd=hd: t.T.reshape(i, h, hd),
                          lambda a, i=i, hd=hd: a.reshape(i, h * hd).T)
                         for _, i, hd in kernels]
                store().append((_Packed(fn, views, is_con), "in_proj_weight"))
            else:
                store().extend((fn, name) for name, _, _ in kernels)
            if self._use_gate:
                store().append((fn, "gate_proj_weight"))
        for fn, store, is_con in ((self._bias_regularizer, self._weight_regularizers, False),
                                  (self._bias_constraint, self._weight_constraints, True)):
            if fn is None or not self._use_bias:
                continue
            if self._torch_layout:
                store().append((_Packed(fn, biases, is_con), "in_proj_bias"))
            else:
                store().extend((fn, name) for name in ("q_proj_bias", "k_proj_bias",
                                                       "v_proj_bias"))
            if self._use_gate:
                store().append((fn, "gate_proj_bias"))

    # ------------------------------------------------------------------ weights
    def _part(self, name, start, stop):
        """Rows [start, stop) of a packed parameter, for Keras' view of one projection.

        The base lists view tensors as the layer's `weights` and counts Parameters as
        trainable, so the part is a Parameter-typed alias of the rows (same storage: writes
        reach the packed parameter), cached so that `weights` gives the same objects on every
        call. Gradients accumulate on the packed parameter, not on the alias.
        """
        param = getattr(self, name)
        key = (name, start, stop)
        hit = self._part_cache.get(key)
        if hit is not None and hit[0] is param and hit[1] == (param.data_ptr(),
                                                              param.requires_grad):
            return hit[2]
        with torch.no_grad():
            part = torch.Tensor._make_subclass(nn.Parameter, param[start:stop],
                                               param.requires_grad)
        self._part_cache[key] = (param, (param.data_ptr(), param.requires_grad), part)
        return part

    def _qkv_weights(self):
        if not self._packed:
            return self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        e = self._dims[0]
        return tuple(self._part("in_proj_weight", i * e, (i + 1) * e) for i in range(3))

    def _qkv_bias_parts(self):
        if not self._torch_layout:
            return self.q_proj_bias, self.k_proj_bias, self.v_proj_bias
        e = self._dims[0]
        return tuple(self._part("in_proj_bias", i * e, (i + 1) * e) for i in range(3))

    def keras_weight_views(self):
        # Keras' order: query, key, (gate,) value kernels and biases; the output projection is
        # the sub-layer `out_proj`, appended by the base.
        if not self.built:
            return []
        h, kd, vd = self._num_heads, self._key_dim, self._value_dim
        dq, dk, dv = self._dims
        wq, wk, wv = self._qkv_weights()
        bq, bk, bv = self._qkv_bias_parts() if self._use_bias else (None, None, None)
        groups = [("query", wq, bq, dq, kd), ("key", wk, bk, dk, kd)]
        if self._use_gate:
            groups.append(("gate", self.gate_proj_weight, self.gate_proj_bias, dq, vd))
        groups.append(("value", wv, bv, dv, vd))
        views = []
        for name, w, b, in_dim, head_dim in groups:
            views.append(_kernel_view(f"{name}/kernel", w, in_dim, h, head_dim))
            if b is not None:
                views.append(_bias_view(f"{name}/bias", b, h, head_dim))
        return views

    # ------------------------------------------------------------------ forward
    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False):
        # Keras takes the query's mask from the tensor; value/key masks from the tensors when
        # not given.
        carried = _keras_mask(query)
        query_mask = carried if carried is not None else query_mask
        if value_mask is None:
            value_mask = _keras_mask(value)
        if key is not None and key_mask is None:
            key_mask = _keras_mask(key)
        key_in = value if key is None else key
        self._check_inputs(query, value, key_in)
        batch, q_mid, k_mid = query.shape[0], query.shape[1:-1], key_in.shape[1:-1]
        t_len, s_len = math.prod(q_mid), math.prod(k_mid)
        h, kd, vd = self._num_heads, self._key_dim, self._value_dim

        q, k, v = self._project(query, key_in, value)
        q = q.reshape(batch, t_len, h, kd).transpose(1, 2)  # (B, heads, T, key_dim)
        k = k.reshape(batch, s_len, h, kd).transpose(1, 2)  # (B, heads, S, key_dim)
        v = v.reshape(batch, s_len, h, vd).transpose(1, 2)  # (B, heads, S, value_dim)

        causal_only = (use_causal_mask and query_mask is None and value_mask is None
                       and key_mask is None and attention_mask is None
                       and self._sliding_window is None)
        mask = None if causal_only else compute_attention_mask(
            self.name, query, q_mid, k_mid, query_mask, value_mask, key_mask, attention_mask,
            use_causal_mask, self._sliding_window)
        rate = self._dropout if self.resolve_training(training) else 0.0
        scores = None
        if return_attention_scores or (rate and self.seed is not None):
            if return_attention_scores and self._flash_attention:
                raise ValueError("Returning attention scores is not supported when flash "
                                 "attention is enabled. Please disable flash attention to access"
                                 " attention scores.")
            if causal_only:
                mask = causal_mask(self.name, q_mid, k_mid, query.device)
            # Keras' einsum path: scaled query, masked logits (-1e9), softmax in float32, masked
            # weights zeroed (a fully masked row attends to nothing).
            logits = torch.matmul(q * self._inverse_sqrt_key_dim, k.transpose(-1, -2))
            if mask is not None:
                fill = -3e4 if logits.dtype == torch.float16 else -1e9
                logits = logits.masked_fill(~mask, fill)
            scores = torch.softmax(logits.float(), dim=-1).to(q.dtype)
            if mask is not None:
                scores = scores.masked_fill(~mask, 0.0)
            out = torch.matmul(self._drop(scores, rate, True), v)
        else:
            attn_mask = rows = None
            if mask is not None:
                # A query row with no allowed key: Keras replaces its logits by one constant,
                # so it averages all values and no gradient reaches q or k through it. Here the
                # row is unmasked and its q zeroed: equal logits, the same average and
                # gradients, and no huge finite mask value to spoil the kernel's logsumexp.
                has_key = mask.any(-1, keepdim=True)
                attn_mask = _additive(mask | ~has_key, q.dtype, float("-inf"))
                rows = has_key.to(q.dtype)
                q = q * rows
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=rate,
                                                 is_causal=causal_only,
                                                 scale=self._inverse_sqrt_key_dim)
            if rows is not None and (self._dropout or self._rank != 3):
                # Keras takes its einsum path for these configurations, where such a row gets
                # zero weights (its fused path, like this kernel, averages the values).
                out = out * rows
        out = out.transpose(1, 2).reshape(batch, t_len, h * vd)
        if self._use_gate:
            gate = torch.sigmoid(F.linear(query, self.gate_proj_weight, self.gate_proj_bias))
            self._activity(gate)
            out = out * gate.reshape(batch, t_len, h * vd)
        out = self.out_proj.call(out).reshape(batch, *q_mid, *self._out_shape)
        self._activity(out)
        if carried is not None:
            out._keras_mask = carried
        if return_attention_scores:
            return out, scores.reshape(batch, h, *q_mid, *k_mid)
        return out

    def _project(self, query, key, value):
        if not self._use_bias:
            bq = bk = bv = None
        elif self._torch_layout:  # slices taken here stay in the autograd graph
            bq, bk, bv = self.in_proj_bias.chunk(3)
        else:
            bq, bk, bv = self.q_proj_bias, self.k_proj_bias, self.v_proj_bias
        if self._packed:
            if query is key and key is value:  # self-attention: one GEMM for q, k and v
                q, k, v = F.linear(query, self.in_proj_weight, self.in_proj_bias).chunk(3, -1)
                self._activity(q, k, v)
                return q, k, v
            wq, wk, wv = self.in_proj_weight.chunk(3)
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        q, k, v = F.linear(query, wq, bq), F.linear(key, wk, bk), F.linear(value, wv, bv)
        self._activity(q, k, v)
        return q, k, v

    def _activity(self, *outputs):
        reg = self._activity_regularizer
        if reg is not None:
            for out in outputs:  # Keras: penalty / batch size, for every projection's output
                self.add_loss(reg(out) / out.shape[0])

    def _check_inputs(self, query, value, key):
        dq, dk, dv = self._dims
        for arg, tensor, want in (("query", query, dq), ("value", value, dv), ("key", key, dk)):
            if tensor.dim() != self._rank or tensor.shape[-1] != want:
                raise InputShapeError(
                    f"Input '{arg}' of layer '{self.name}' (MultiHeadAttention) is incompatible "
                    f"with the layer: it was built for rank {self._rank} and last dimension "
                    f"{want}. Received: {arg}.shape={tuple(tensor.shape)}")
        if value.shape[:-1] != key.shape[:-1]:
            raise InputShapeError(
                f"Layer '{self.name}' (MultiHeadAttention): all dimensions of `value` and `key`, "
                f"except the last one, must be equal. Received: value.shape="
                f"{tuple(value.shape)}, key.shape={tuple(key.shape)}")

    # ------------------------------------------------------------------ shapes & config
    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None, *,
                             value=None, key=None, return_attention_scores=False, **kwargs):
        query_shape = tuple(query_shape)
        if value_shape is None and value is not None:
            value_shape = tuple(value.shape)
        if key_shape is None and key is not None:
            key_shape = tuple(key.shape)
        value_shape = query_shape if value_shape is None else tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(f"Layer '{self.name}' (MultiHeadAttention): all dimensions of "
                             "`value` and `key`, except the last one, must be equal. Received: "
                             f"value_shape={value_shape} and key_shape={key_shape}")
        out = query_shape[:-1] + self._output_shape if self._output_shape else query_shape
        if return_attention_scores:
            return out, (query_shape[0], self._num_heads, *query_shape[1:-1],
                         *key_shape[1:-1])
        return out

    def get_config(self):
        return {
            **super().get_config(),
            **{key: getattr(self, "_" + key) for key in _CONFIG_ARGS},
            **weight_options_config(self, "kernel_initializer", "bias_initializer",
                                    "kernel_regularizer", "bias_regularizer",
                                    "activity_regularizer", "kernel_constraint", "bias_constraint",
                                    attr_prefix="_"),
            "seed": self.seed,
        }

    def extra_repr(self):
        return (f"name={self.name!r}, num_heads={self._num_heads}, key_dim={self._key_dim}, "
                f"value_dim={self._value_dim}")
