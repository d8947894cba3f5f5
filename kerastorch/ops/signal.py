"""Spectral ops of `keras.ops.math` on torch: `fft`, `fft2`, `ifft2`, `rfft`, `irfft`, the
short-time transforms `stft`/`istft` and the framing op `extract_sequences`. Complex values
travel as `(real, imaginary)` pairs of float tensors, as in Keras. `stft` and `istft` follow
Keras 3 on JAX (scipy's framing, window padding and scaling) rather than `torch.stft`'s
conventions where the two differ (`window=None`, the inverse's normalisation).
"""

import torch
import torch.nn.functional as _F

from kerastorch.ops import _dtypes
from kerastorch.ops.core import convert_to_tensor as _tensor

__all__ = ["extract_sequences", "fft", "fft2", "ifft2", "irfft", "istft", "rfft", "stft"]

_HALF = (torch.float16, torch.bfloat16)
_PAIR = "Input `x` should be a tuple of two tensors - real and imaginary."


def _complex_input(x):
    """The `(real, imag)` pair `x` as one complex tensor, and the float dtype to answer in."""
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"{_PAIR}Received: x={x}")
    real, imag = _tensor(x[0]), _tensor(x[1])
    if real.shape != imag.shape:
        raise ValueError(f"{_PAIR}Both the real and imaginary parts should have the same "
                         f"shape. Received: x[0].shape = {tuple(real.shape)}, "
                         f"x[1].shape = {tuple(imag.shape)}")
    if not real.is_floating_point() or not imag.is_floating_point():
        raise ValueError(f"At least one tensor in input `x` is not of type float.Received: "
                         f"x={x}.")
    dtype = torch.promote_types(real.dtype, imag.dtype)
    work = torch.float32 if dtype in _HALF else dtype  # torch has no complex32 FFTs on CPU
    return torch.complex(real.to(work), imag.to(work)), dtype


def _need_rank(x, rank):
    if x.ndim < rank:
        raise ValueError(f"Input should have rank >= {rank}. Received: input.shape = "
                         f"{tuple(x.shape)}")


def _pair(z, dtype):
    return z.real.to(dtype), z.imag.to(dtype)


def fft(x):
    """Discrete Fourier transform along the last axis of `(real, imag)`."""
    z, dtype = _complex_input(x)
    _need_rank(z, 1)
    return _pair(torch.fft.fft(z), dtype)


def fft2(x):
    """Two-dimensional discrete Fourier transform over the last two axes of `(real, imag)`."""
    z, dtype = _complex_input(x)
    _need_rank(z, 2)
    return _pair(torch.fft.fft2(z), dtype)


def ifft2(x):
    """Inverse two-dimensional Fourier transform over the last two axes of `(real, imag)`."""
    z, dtype = _complex_input(x)
    _need_rank(z, 2)
    return _pair(torch.fft.ifft2(z), dtype)


def rfft(x, fft_length=None):
    """Fourier transform of a real signal along the last axis: the `fft_length // 2 + 1`
    non-negative frequencies as `(real, imag)`. Integer and bool inputs answer in floatx."""
    x = _tensor(x)
    _need_rank(x, 1)
    dtype = x.dtype
    if not dtype.is_floating_point:
        dtype = _dtypes.to_torch_dtype(_dtypes.result_type(dtype, float))
    work = torch.float32 if dtype in _HALF else dtype
    return _pair(torch.fft.rfft(x.to(work), n=fft_length, dim=-1), dtype)


def irfft(x, fft_length=None):
    """Inverse of `rfft`: a real signal of `fft_length` samples (default `2 * (bins - 1)`)."""
    z, dtype = _complex_input(x)
    _need_rank(z, 1)
    return torch.fft.irfft(z, n=fft_length, dim=-1).to(dtype)


def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of `sequence_length` samples every `sequence_stride` along the last axis:
    `(..., num_sequences, sequence_length)`."""
    x = _tensor(x)
    _need_rank(x, 1)
    if sequence_length > x.shape[-1]:  # no whole frame fits: zero frames, as in Keras
        return x.new_empty(tuple(x.shape[:-1]) + (0, sequence_length))
    # unfold gives a view with overlapping frames; copy it (only when frames overlap) so that
    # the result owns its memory as Keras' does.
    return x.unfold(-1, sequence_length, sequence_stride).contiguous()


# ------------------------------------------------------------------ short-time transforms

def _check_stride(sequence_stride):
    if not isinstance(sequence_stride, int) or sequence_stride <= 0:
        raise ValueError("`sequence_stride` must be a positive integer. "
                         f"Received: sequence_stride={sequence_stride}")


def _window(window, sequence_length, fft_length, dtype, device):
    """The analysis window, zero-padded (centred) to `fft_length`. `None` is Keras' flat
    window over the whole `fft_length` (not over `sequence_length`, unlike `torch.stft`)."""
    if window is None:
        return torch.ones(fft_length, dtype=dtype, device=device)
    if isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise ValueError('If a string is passed to `window`, it must be one of `"hann"`, '
                             f'`"hamming"`. Received: window={window}')
        # scipy's get_window: the periodic form, computed in double precision
        make = torch.hann_window if window == "hann" else torch.hamming_window
        win = make(sequence_length, periodic=True, dtype=torch.float64, device=device)
    else:
        win = _tensor(window)
        if win.ndim != 1 or win.shape[-1] != sequence_length:
            raise ValueError("The shape of `window` must be equal to [sequence_length]."
                             f"Received: window shape={tuple(win.shape)}")
    left = (fft_length - sequence_length) // 2
    return _F.pad(win.to(dtype), (left, fft_length - sequence_length - left))


def _reflect(x, pad):
    """`x` padded by `pad` samples on both ends of its last axis, mirrored without repeating
    the edge sample (numpy's 'reflect'; the pad may exceed the signal's length)."""
    n = x.shape[-1]
    index = torch.arange(-pad, n + pad, device=x.device)
    if n == 1:
        index = torch.zeros_like(index)
    else:
        period = 2 * (n - 1)
        index = index.remainder(period)
        index = torch.where(index >= n, period - index, index)
    return x.index_select(-1, index)


def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """Short-time Fourier transform along the last axis: `(real, imag)` of shape
    `(..., num_sequences, fft_length // 2 + 1)`; `x` must be float32 or float64."""
    _check_stride(sequence_stride)
    kind = _dtypes.standardize_dtype(x.dtype) if hasattr(x, "dtype") else None
    x = _tensor(x)
    kind = kind or _dtypes.standardize_dtype(x.dtype)
    if kind not in ("float32", "float64"):
        raise TypeError("Invalid input type. Expected `float32` or `float64`. "
                        f"Received: input type={kind}")
    if fft_length < sequence_length:
        raise ValueError("`fft_length` must equal or larger than `sequence_length`. "
                         f"Received: sequence_length={sequence_length}, "
                         f"fft_length={fft_length}")
    win = _window(window, sequence_length, fft_length, x.dtype, x.device)
    if center:
        x = _reflect(x, fft_length // 2)
    if x.shape[-1] < fft_length:
        raise ValueError("window is longer than input signal")
    frames = x.unfold(-1, fft_length, sequence_stride) * win
    # Keras undoes scipy's "spectrum" scaling, so the result is the plain windowed DFT.
    return _pair(torch.fft.rfft(frames, n=fft_length, dim=-1), x.dtype)


def _overlap_add(frames, stride):
    """Sum of `frames` `(B, num_frames, frame_length)` laid `stride` samples apart: `(B, T)`."""
    batch, count, size = frames.shape
    total = size + stride * (count - 1)
    out = _F.fold(frames.transpose(1, 2), output_size=(1, total), kernel_size=(1, size),
                  stride=(1, stride))
    return out.reshape(batch, total)


def istft(x, sequence_length, sequence_stride, fft_length, length=None, window="hann",
          center=True):
    """Inverse of `stft`: overlap-added inverse DFTs of the `(real, imag)` frames, divided by
    the summed squared window, as scipy's `istft` (which Keras uses) does."""
    _check_stride(sequence_stride)
    spec, dtype = _complex_input(x)
    if spec.ndim < 2:
        raise ValueError("Input `x` must have at least 2 dimensions. "
                         f"Received shape: {tuple(spec.shape)}")
    work = spec.real.dtype
    win = _window(window, sequence_length, fft_length, work, spec.device)
    gain = win.sum()  # scipy's "spectrum" scaling, multiplied back ...
    scale = gain if window is not None else sequence_stride  # ... and Keras' own division
    frames = torch.fft.irfft(spec, n=fft_length, dim=-1) * (win * gain)
    batch, count = tuple(frames.shape[:-2]), frames.shape[-2]
    signal = _overlap_add(frames.reshape(-1, count, fft_length), sequence_stride)
    envelope = _overlap_add((win * win).expand(1, count, fft_length), sequence_stride)[0]
    envelope = torch.where(envelope > 1e-10, envelope, torch.ones_like(envelope)) * scale
    signal = (signal / envelope).reshape(batch + (signal.shape[-1],))
    start = fft_length // 2 if center else 0
    if length is not None:
        end = start + length
    elif center:
        end = -(fft_length // 2)  # Keras' slice: empty when fft_length == 1
    else:
        end = signal.shape[-1]
    return signal[..., start:end].to(dtype)
