"""`keras.ops.math`: segment reductions, top_k, logsumexp, FFTs, erf and friends."""

from kerastorch.ops._math import (
    cdist as cdist,
    erf as erf,
    erfc as erfc,
    erfinv as erfinv,
    extract_sequences as extract_sequences,
    fft as fft,
    fft2 as fft2,
    ifft2 as ifft2,
    in_top_k as in_top_k,
    irfft as irfft,
    istft as istft,
    logdet as logdet,
    logsumexp as logsumexp,
    rfft as rfft,
    rsqrt as rsqrt,
    segment_max as segment_max,
    segment_min as segment_min,
    segment_prod as segment_prod,
    segment_sum as segment_sum,
    stft as stft,
    top_k as top_k,
)
from kerastorch.ops.math_extra import (
    view_as_complex as view_as_complex,
    view_as_real as view_as_real,
)
