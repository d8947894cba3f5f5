"""keras.ops.nn.dot_product_attention over torch's `F.scaled_dot_product_attention`, in Keras'
layout `(batch, time, heads, depth)` and with its numbers: scale `1 / sqrt(depth)` by default,
an additive `bias`, a boolean `mask` (masked logits replaced by a large negative, so a fully
masked row averages the values uniformly), `is_causal` as a lower-triangular mask anchored at
the top-left, grouped-query attention when there are fewer key/value heads. Where torch's
kernel cannot give Keras' numbers (float16 with a mask) a direct computation is used.
"""

import math

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

from kerastorch.ops._dtypes import result_type, to_torch_dtype
from kerastorch.ops.core import convert_to_tensor

__all__ = [
    "dot_product_attention",
]

_F32_MAX = float(torch.finfo(torch.float32).max)


def _masked_value(dtype):
    """The additive stand-in for Keras' masked logit `-0.7 * float32 max`: adding it to a
    logit (in float32 or bfloat16) rounds to itself, so a fully masked row stays uniform as in
    Keras. float64 keeps the logit at that size: its own `-0.7 * max` absorbs it instead."""
    if dtype == torch.float64:
        return -0.7 * float(torch.finfo(torch.float64).max)
    return -0.7 * _F32_MAX


def _direct(query, key, value, bias, mask, scale):
    """Keras' formula step by step on (batch, heads, time, depth) tensors: float32 logits,
    masked by replacement, float32 softmax, probabilities in the key's dtype."""
    logits = torch.matmul(query.float(), key.float().transpose(-1, -2)) * scale
    if bias is not None:
        logits = logits + bias
    if mask is not None:
        logits = torch.where(mask, logits, logits.new_full((), -0.7 * _F32_MAX))
    probs = torch.softmax(logits, dim=-1).to(key.dtype)
    return torch.matmul(probs, value)


def _check_flash(query, key, value, attn_mask, is_causal, gqa):
    try:
        from torch.backends.cuda import SDPAParams, can_use_flash_attention
    except ImportError:
        raise ImportError(
            "Flash attention is not supported in your current PyTorch version. Please "
            "update it by following the official guide: "
            "https://pytorch.org/get-started/locally/") from None
    params = SDPAParams(query, key, value, attn_mask, 0.0, is_causal, gqa)
    if not can_use_flash_attention(params, True):
        raise RuntimeError(
            "Flash attention is not supported with the provided inputs. "
            "Please check the warnings for more details.")


def dot_product_attention(query, key, value, bias=None, mask=None, scale=None,
                          is_causal=False, flash_attention=None, attn_logits_soft_cap=None):
    """softmax(q k^T * scale + bias, masked) v for `(batch, time, heads, depth)` inputs, in
    the promoted dtype of query, key and value; `bias`/`mask` broadcast to
    `(batch, heads, query_time, key_time)`."""
    if attn_logits_soft_cap is not None:
        raise ValueError(
            "attn_logits_soft_cap is only supported for JAX on TPU. Set "
            "attn_logits_soft_cap=None when not using JAX on TPU.")
    query, key, value = (convert_to_tensor(t) for t in (query, key, value))
    if query.ndim != 4 or key.ndim != 4 or value.ndim != 4:
        raise ValueError(
            "`dot_product_attention` only supports 4D inputs. "
            f"Received: query.shape={tuple(query.shape)}, key.shape={tuple(key.shape)}, "
            f"value.shape={tuple(value.shape)}.")
    dtype = query.dtype
    if key.dtype != dtype or value.dtype != dtype:
        dtype = to_torch_dtype(result_type(dtype, key.dtype, value.dtype))
    heads, kv_heads = query.shape[2], key.shape[2]
    if heads % kv_heads:
        raise ValueError("The number of query heads must be a multiple of key/value heads, "
                         f"but got {heads} vs {kv_heads}")
    # torch's layout: (batch, heads, time, depth), views
    q, k, v = ((t if t.dtype == dtype else t.to(dtype)).transpose(1, 2)
               for t in (query, key, value))
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    if bias is not None:
        bias = convert_to_tensor(bias, dtype=dtype)
    if mask is not None:
        mask = convert_to_tensor(mask).to(torch.bool)
    if is_causal and (mask is not None or bias is not None):
        # torch takes is_causal or a mask, not both: fold the triangle into the mask
        causal = torch.ones(q.shape[2], k.shape[2], dtype=torch.bool, device=q.device).tril()
        mask = causal if mask is None else mask & causal
        is_causal = False
    gqa = heads != kv_heads
    if mask is not None and dtype == torch.float16:
        # float16 cannot hold a negative big enough to absorb the logits: replace instead
        if gqa:
            k = k.repeat_interleave(heads // kv_heads, dim=1)
            v = v.repeat_interleave(heads // kv_heads, dim=1)
        return _direct(q, k, v, bias, mask, scale).transpose(1, 2)
    attn_mask = bias
    if mask is not None:
        additive = torch.zeros(mask.shape, dtype=dtype, device=q.device)
        additive.masked_fill_(~mask, _masked_value(dtype))
        attn_mask = additive if bias is None else bias + additive
    if flash_attention:
        _check_flash(q, k, v, attn_mask, is_causal, gqa)
        backends = [SDPBackend.FLASH_ATTENTION]
    elif flash_attention is False:
        backends = [SDPBackend.EFFICIENT_ATTENTION,
                    SDPBackend.CUDNN_ATTENTION,
                    SDPBackend.MATH]
    else:
        backends = None
    kwargs = dict(attn_mask=attn_mask, is_causal=is_causal, scale=scale, enable_gqa=gqa)
    if backends is None:
        out = F.scaled_dot_product_attention(q, k, v, **kwargs)
    else:
        with sdpa_kernel(backends):
            out = F.scaled_dot_product_attention(q, k, v, **kwargs)
    return out.transpose(1, 2)
