"""Attention layers: `MultiHeadAttention`, `Attention` (Luong), `AdditiveAttention` (Bahdanau).

`multi_head_attention` holds MultiHeadAttention, `attention` the dot-product and additive
layers, `attention_utils` what they share.
"""

from kerastorch.layers.attention.attention import AdditiveAttention as AdditiveAttention
from kerastorch.layers.attention.attention import Attention as Attention
from kerastorch.layers.attention.multi_head_attention import (
    MultiHeadAttention as MultiHeadAttention)
