"""Constant initializers: `Zeros`, `Ones`, `Constant`, `Identity`, `STFT`."""

import numbers

import numpy as np
import torch

from kerastorch.initializers.initializer import INITIALIZERS, Initializer, _to_dtype, _to_shape


@INITIALIZERS.register("Zeros", "zeros", "zero")
class Zeros(Initializer):
    """All zeros (any dtype, including ints and bool)."""

    def __call__(self, shape, dtype=None):
        return torch.zeros(_to_shape(shape), dtype=_to_dtype(dtype))


@INITIALIZERS.register("Ones", "ones", "one")
class Ones(Initializer):
    """All ones (any dtype, including ints and bool)."""

    def __call__(self, shape, dtype=None):
        return torch.ones(_to_shape(shape), dtype=_to_dtype(dtype))


@INITIALIZERS.register("Constant", "constant")
class Constant(Initializer):
    """Every entry set to `value`.

    Args:
        value: A Python scalar (an array broadcastable to the shape also works).
    """

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        shape, dtype = _to_shape(shape), _to_dtype(dtype)
        if isinstance(self.value, numbers.Number):
            return torch.full(shape, self.value, dtype=dtype)
        return torch.as_tensor(np.asarray(self.value)).to(dtype).expand(shape).clone()

    def get_config(self):
        value = self.value
        if isinstance(value, torch.Tensor):
            value = value.tolist()
        elif isinstance(value, (np.ndarray, np.generic)):
            value = value.tolist()
        return {"value": value}


@INITIALIZERS.register("Identity", "identity", "IdentityInitializer")
class Identity(Initializer):
    """`gain` times the identity matrix (2D shapes only; non-square gives a rectangular eye).

    Args:
        gain: Multiplicative factor.

    Keras 3.15's `get_config()` omits `gain` (so a saved non-default gain is lost there); here it
    appears only when it differs from 1.0, so default configs match Keras key for key.
    """

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = _to_shape(shape)
        if len(shape) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        dtype = _to_dtype(dtype)
        return (self.gain * torch.eye(*shape, dtype=dtype)).to(dtype)

    def get_config(self):
        return {} if self.gain == 1.0 else {"gain": self.gain}


@INITIALIZERS.register("STFT", "stft", "STFTInitializer")
class STFT(Initializer):
    """Conv kernels computing the real or imaginary part of a short-time Fourier transform.

    The shape is `(frame_length, 1, fft_length // 2 + 1)`. Windows come from
    `scipy.signal.get_window` when scipy is installed (as in Keras), else from torch for
    `hann`, `hamming`, `blackman`, `bartlett` and `boxcar`.

    Args:
        side: `"real"` or `"imag"`.
        window: A window name, a 1D array of `frame_length` values, or `None`.
        scaling: `"density"` (divide by the window's L2 norm), `"spectrum"` (L1 norm) or `None`.
        periodic: Whether the window is periodic (scipy's `fftbins`).
    """

    def __init__(self, side="real", window="hann", scaling="density", periodic=False):
        if side not in ("real", "imag"):
            raise ValueError(f"`side` should be 'real' or 'imag'. Received: side={side!r}")
        if isinstance(window, str):
            _window(window, 1, periodic)  # fails early on an unknown name
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError("`scaling` must be None, 'density' or 'spectrum'. "
                             f"Received: scaling={scaling!r}")
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, periodic

    def __call__(self, shape, dtype=None):
        dtype = _to_dtype(dtype)
        frame_length, _, fft_length = _to_shape(shape)
        win, scale = None, 1.0
        if self.window is not None:
            win = self.window
            if isinstance(win, str):
                win = _window(win, frame_length, self.periodic)
            win = torch.as_tensor(np.asarray(win)).to(dtype)
            if win.dim() != 1 or win.shape[-1] != frame_length:
                raise ValueError("The shape of `window` must be equal to [frame_length]. "
                                 f"Received: window shape={tuple(win.shape)}")
            win = win.reshape(frame_length, 1, 1)
            if self.scaling == "density":
                scale = torch.sqrt(torch.sum(torch.square(win)))
            elif self.scaling == "spectrum":
                scale = torch.sum(torch.abs(win))
        # Same operation order and dtype as Keras, so float32 rounding agrees.
        freq = torch.arange(fft_length, dtype=dtype).reshape(1, 1, fft_length) / (
            (fft_length - 1) * 2)
        time = torch.arange(frame_length, dtype=dtype).reshape(frame_length, 1, 1)
        args = (-2 * time) * freq * torch.arccos(torch.tensor(-1, dtype=dtype))
        kernel = torch.cos(args) if self.side == "real" else torch.sin(args)
        if win is not None:
            kernel = kernel * win / scale
        return kernel.to(dtype)

    def get_config(self):
        return {"side": self.side, "window": self.window, "periodic": self.periodic,
                "scaling": self.scaling}


def _window(name, length, periodic):
    try:
        from scipy.signal import get_window
    except ImportError:
        makers = {"hann": torch.hann_window, "hamming": torch.hamming_window,
                  "blackman": torch.blackman_window, "bartlett": torch.bartlett_window}
        if name == "boxcar":
            return torch.ones(length, dtype=torch.float64).numpy()
        if name not in makers:
            raise ValueError(f"Unknown window without scipy installed; expected one of "
                             f"{sorted(makers) + ['boxcar']}. Received: window={name!r}") from None
        return makers[name](length, periodic=periodic, dtype=torch.float64).numpy()
    return get_window(name, length, periodic)
