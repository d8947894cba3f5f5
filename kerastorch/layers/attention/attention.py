"""Dot-product attention layers: `Attention` (Luong) and `AdditiveAttention` (Bahdanau)."""

import torch
import torch.nn.functional as F
from torch import nn

from kerastorch import initializers
from kerastorch.layers.attention.attention_utils import _SeededDropout
from kerastorch.layers.layer import InputShapeError, Layer, WeightView


class Attention(_SeededDropout, Layer):
    """Dot-product (Luong) attention: `softmax(q k^T) v` over `[query, value]` or
    `[query, value, key]` (`key` defaults to `value`).

    Args:
        use_scale: Learn a scalar `scale` multiplying the scores.
        score_mode: `"dot"` (`q k^T`) or `"concat"` (`sum(tanh(scale * (q + k)))` times a
            learned `concat_score_weight`).
        dropout: Dropout rate on the attention weights (training only).
        seed: Seed of the dropout masks.

    Call: `layer([query, value(, key)], mask=[query_mask, value_mask], training=None,
    return_attention_scores=False, use_causal_mask=False)`. Inputs `(B, Tq, dim)`, `(B, Tv,
    dim)`; output `(B, Tq, dim)`; masked query positions output 0.

    State: `scale`, `concat_score_weight` (scalars; Keras' names, no torch module has them).
    """

    _float_inputs = True  # integer inputs are cast to the compute dtype

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}): invalid value for "
                             "argument score_mode. Expected one of {'dot', 'concat'}. "
                             f"Received: score_mode={score_mode!r}")
        if not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}): `dropout` must be "
                             f"in [0, 1). Received: dropout={dropout!r}")
        self.use_scale = use_scale
        self.score_mode = score_mode
        self.dropout = dropout
        self.seed = seed
        self.supports_masking = True

    def _validate_inputs(self, inputs, mask=None):
        name = type(self).__name__
        if not isinstance(inputs, (list, tuple)) or _is_one_shape(inputs):
            raise ValueError(f"Layer '{self.name}' ({name}) must be called on a list of inputs, "
                             f"namely [query, value] or [query, value, key]. Received: "
                             f"inputs={_describe(inputs)}.")
        if not 2 <= len(inputs) <= 3:
            raise ValueError(f"Layer '{self.name}' ({name}) accepts an inputs list of length 2 "
                             f"or 3, namely [query, value] or [query, value, key]. Received "
                             f"length: {len(inputs)}.")
        if mask is not None:
            if not isinstance(mask, (list, tuple)):
                raise ValueError(f"Layer '{self.name}' ({name}): the mask must be a list, namely "
                                 f"[query_mask, value_mask]. Received: mask={_describe(mask)}.")
            if not 2 <= len(mask) <= 3:
                raise ValueError(f"Layer '{self.name}' ({name}) accepts a mask list of length 2 "
                                 f"or 3. Received length: {len(mask)}.")

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        if self.use_scale:
            self.scale = nn.Parameter(torch.ones(()))
        else:
            self.scale = None
        if self.score_mode == "concat":
            self.concat_score_weight = nn.Parameter(torch.ones(()))
        else:
            self.concat_score_weight = None
        self.built = True

    def keras_weight_views(self):
        if not self.built:
            return []
        return [WeightView(n, t) for n, t in (("scale", self.scale),
                                              ("concat_score_weight", self.concat_score_weight))
                if t is not None]

    def _calculate_scores(self, query, key):
        if self.score_mode == "dot":
            scores = torch.matmul(query, key.transpose(-2, -1))
            return scores * self.scale if self.scale is not None else scores
        summed = query.unsqueeze(-2) + key.unsqueeze(-3)  # (B, Tq, Tv, dim)
        if self.scale is not None:
            summed = self.scale * summed
        return self.concat_score_weight * torch.tanh(summed).sum(-1)

    def _score_mask(self, v_mask, use_causal_mask, tq, tv, device):
        """Keras' `_calculate_score_mask`: bool, True where attention is allowed."""
        if v_mask is not None:
            v_mask = torch.as_tensor(v_mask, device=device).bool().unsqueeze(-2)  # (B, 1, Tv)
        if not use_causal_mask:
            return v_mask
        causal = torch.ones(tq, tv, dtype=torch.bool, device=device).tril()
        return causal if v_mask is None else v_mask & causal

    def call(self, inputs, mask=None, training=None, return_attention_scores=False,
             use_causal_mask=False):
        self._validate_inputs(inputs, mask)
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        q_mask = mask[0] if mask else None
        v_mask = mask[1] if mask else None
        if q.shape[-1] != k.shape[-1]:
            raise InputShapeError(f"Layer '{self.name}' ({type(self).__name__}): query and key "
                                  f"need the same last dimension. Received: query.shape="
                                  f"{tuple(q.shape)}, key.shape={tuple(k.shape)}")
        score_mask = None if v_mask is None and not use_causal_mask else self._score_mask(
            v_mask, use_causal_mask, q.shape[-2], k.shape[-2], q.device)
        rate = self.dropout if self.resolve_training(training) else 0.0
        if self._fused(return_attention_scores, rate) and (v_mask is None):
            # No padding mask, so no query row without keys: the fused kernel (causal or not).
            query = q * self.scale if self.scale is not None else q
            out = F.scaled_dot_product_attention(query, k, v, dropout_p=rate,
                                                 is_causal=bool(use_causal_mask), scale=1.0)
            scores = None
        else:
            logits = self._calculate_scores(q, k)
            if score_mask is not None:
                # Keras subtracts 1e9 (65504 in float16) from masked scores: a row with no key
                # left then averages the values, and gradients still pass through its scores.
                max_value = 65504.0 if q.dtype == torch.float16 else 1.0e9
                logits = logits - max_value * (~score_mask).to(logits.dtype)
            scores = torch.softmax(logits, dim=-1)
            out = torch.matmul(self._drop(scores, rate, True), v)
        if q_mask is not None:
            q_mask = torch.as_tensor(q_mask, device=out.device).bool().unsqueeze(-1)
            out = torch.where(q_mask, out, torch.zeros((), dtype=out.dtype, device=out.device))
        if return_attention_scores:
            return out, scores
        return out

    def _fused(self, return_attention_scores, rate):
        return (self.score_mode == "dot" and not return_attention_scores
                and not (rate and self.seed is not None))

    def compute_mask(self, inputs, mask=None):
        if mask is None or mask[0] is None:
            return None
        return mask[0]

    def compute_output_shape(self, input_shape, return_attention_scores=False, **kwargs):
        self._validate_inputs(input_shape)
        query_shape, value_shape = tuple(input_shape[0]), tuple(input_shape[1])
        key_shape = tuple(input_shape[2]) if len(input_shape) > 2 else value_shape
        out = (*query_shape[:-1], value_shape[-1])
        if return_attention_scores:
            return out, (*query_shape[:-1], key_shape[-2])
        return out

    def get_config(self):
        return {**super().get_config(), "use_scale": self.use_scale,
                "score_mode": self.score_mode, "dropout": self.dropout, "seed": self.seed}


class AdditiveAttention(Attention):
    """Additive (Bahdanau) attention: scores `sum(scale * tanh(q + k), -1)`, then as
    `Attention`.

    Args:
        use_scale: Learn a `scale` vector `(dim,)` (glorot_uniform) multiplying the tanh terms.
        dropout: Dropout rate on the attention weights (training only).

    State: `scale (dim,)`.
    """

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        dim = input_shape[0][-1]
        if self.use_scale:
            self.scale = nn.Parameter(initializers.get("glorot_uniform")((dim,)))
        else:
            self.scale = None
        self.concat_score_weight = None
        self.built = True

    def _calculate_scores(self, query, key):
        terms = torch.tanh(query.unsqueeze(-2) + key.unsqueeze(-3))  # (B, Tq, Tv, dim)
        return terms @ self.scale if self.scale is not None else terms.sum(-1)

    def _fused(self, return_attention_scores, rate):
        return False

    def get_config(self):
        cfg = super().get_config()
        del cfg["score_mode"]
        return cfg


def _is_one_shape(x):
    return isinstance(x, tuple) and all(d is None or isinstance(d, int) for d in x)


def _describe(x):
    if isinstance(x, torch.Tensor):
        return f"<tensor shape={tuple(x.shape)}>"
    if isinstance(x, (list, tuple)) and x and isinstance(x[0], torch.Tensor):
        return type(x)(_describe(t) for t in x)
    return repr(x)
