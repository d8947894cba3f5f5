"""Random initializers: `RandomNormal`, `TruncatedNormal`, `RandomUniform`, `VarianceScaling`
and its fixed forms (Glorot, He, LeCun), `Orthogonal`; and `compute_fans`."""

import math
import numbers

import torch

from kerastorch.initializers.initializer import INITIALIZERS, Initializer, _to_dtype, _to_shape

# Std of a standard normal truncated to [-2, 2]; dividing by it makes the truncated samples have
# the requested std (Keras' and TF's constant).
_TRUNCATION_STD = 0.87962566103423978


def _default_seed():
    # Keras draws from Python's `random`; torch's global generator is what torch users seed.
    return int(torch.randint(1, 10**9, ()).item())


def _seed_generator_config(seed):
    return {"module": "keras.random", "class_name": "SeedGenerator",
            "config": {"seed": seed, "name": "seed_generator"}, "registered_name": None}


class RandomInitializer(Initializer):
    """Base of the random initializers: holds the seed.

    Args:
        seed: An int (same values on every call), `None` (an int drawn now from torch's global
            generator, then as an int), a `torch.Generator` (new values on every call, as
            Keras' `SeedGenerator`), or a Keras `SeedGenerator` config dict.
    """

    def __init__(self, seed=None):
        self._init_seed = seed
        if seed is None:
            seed = _default_seed()
        elif isinstance(seed, dict):
            inner = (seed.get("config") or {}).get("seed")
            seed = torch.Generator().manual_seed(_default_seed() if inner is None else inner)
        elif isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
            seed = int(seed)
        elif not isinstance(seed, torch.Generator):
            raise ValueError("`seed` argument should be an int, None or a torch.Generator. "
                             f"Received: seed={seed!r}")
        self.seed = seed

    def _generator(self):
        if isinstance(self.seed, torch.Generator):
            return self.seed
        return torch.Generator().manual_seed(self.seed)

    def get_config(self):
        seed = self._init_seed
        if isinstance(seed, torch.Generator):
            seed = _seed_generator_config(seed.initial_seed())
        return {"seed": seed}


def _float_dtypes(dtype):
    """(dtype to return, dtype to sample in): at least float32, so that bf16/fp16 draws do not
    round onto the bounds and erfinv/qr are available."""
    dtype = _to_dtype(dtype)
    if not dtype.is_floating_point:
        raise ValueError(f"Random initializers need a floating dtype. Received: dtype={dtype}")
    return dtype, (torch.float64 if dtype == torch.float64 else torch.float32)


def _uniform(shape, minval, maxval, dtype, generator):
    dtype, work = _float_dtypes(dtype)
    out = torch.empty(_to_shape(shape), dtype=work).uniform_(minval, maxval, generator=generator)
    return out.to(dtype)


def _normal(shape, mean, stddev, dtype, generator):
    dtype, work = _float_dtypes(dtype)
    out = torch.empty(_to_shape(shape), dtype=work).normal_(0.0, 1.0, generator=generator)
    return (out * stddev + mean).to(dtype)


def _truncated_normal(shape, mean, stddev, dtype, generator):
    # Keras (and TF) cut at two standard deviations: a standard normal in [-2, 2], then scaled.
    dtype, work = _float_dtypes(dtype)
    out = torch.empty(_to_shape(shape), dtype=work)
    torch.nn.init.trunc_normal_(out, 0.0, 1.0, -2.0, 2.0, generator=generator)
    return (out * stddev + mean).to(dtype)


@INITIALIZERS.register("RandomNormal", "random_normal", "normal")
class RandomNormal(RandomInitializer):
    """Normal draws (untruncated): `N(mean, stddev)`, default `N(0, 0.05)` (torch: `N(0, 1)`).

    Args:
        mean: Mean.
        stddev: Standard deviation.
        seed: See `RandomInitializer`.
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return _normal(shape, self.mean, self.stddev, dtype, self._generator())

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


@INITIALIZERS.register("TruncatedNormal", "truncated_normal")
class TruncatedNormal(RandomInitializer):
    """Normal draws cut to `mean +- 2 * stddev`; `stddev` is that of the untruncated normal.

    Args:
        mean: Mean.
        stddev: Standard deviation before truncation.
        seed: See `RandomInitializer`.
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return _truncated_normal(shape, self.mean, self.stddev, dtype, self._generator())

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


@INITIALIZERS.register("RandomUniform", "random_uniform", "uniform")
class RandomUniform(RandomInitializer):
    """Uniform draws in `[minval, maxval)`, default `U(-0.05, 0.05)` (Keras' Embedding default).

    Args:
        minval: Lower bound (inclusive).
        maxval: Upper bound (exclusive).
        seed: See `RandomInitializer`.
    """

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval = minval, maxval
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return _uniform(shape, self.minval, self.maxval, dtype, self._generator())

    def get_config(self):
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


def compute_fans(shape, input_axes=None, output_axes=None):
    """Keras' `(fan_in, fan_out)` of a weight shape in Keras layout.

    A 2D shape is `(in, out)`; a conv kernel `(*receptive_field, in, out)` gives
    `fan_in = in * prod(receptive_field)`, `fan_out = out * prod(receptive_field)`. With both
    `input_axes` and `output_axes`, the fans are the products of those axes.
    """
    shape = _to_shape(shape)
    if input_axes is not None and output_axes is not None:
        return (int(math.prod(shape[a] for a in input_axes)),
                int(math.prod(shape[a] for a in output_axes)))
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


@INITIALIZERS.register("VarianceScaling", "variance_scaling")
class VarianceScaling(RandomInitializer):
    """Draws with a variance of `scale / n`, `n` set by `mode` from the shape's fans.

    `truncated_normal`: std `sqrt(scale / n) / 0.87962566103423978` before the cut at 2 std, so
    the samples have std `sqrt(scale / n)`; `untruncated_normal`: std `sqrt(scale / n)`;
    `uniform`: `U(-limit, limit)`, `limit = sqrt(3 * scale / n)`.

    Args:
        scale: Positive float.
        mode: `"fan_in"`, `"fan_out"` or `"fan_avg"`.
        distribution: `"truncated_normal"` (alias `"normal"`), `"untruncated_normal"` or
            `"uniform"`.
        seed: See `RandomInitializer`.
        input_axes: Optional axes whose product is the fan-in (with `output_axes`).
        output_axes: Optional axes whose product is the fan-out (with `input_axes`).
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 input_axes=None, output_axes=None):
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        modes = ("fan_in", "fan_out", "fan_avg")
        if mode not in modes:
            raise ValueError(f"Invalid `mode` argument: expected one of {modes}. "
                             f"Received: mode={mode!r}")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        distributions = ("uniform", "truncated_normal", "untruncated_normal")
        if distribution not in distributions:
            raise ValueError(f"Invalid `distribution` argument: expected one of {distributions}. "
                             f"Received: distribution={distribution!r}")
        self.scale, self.mode, self.distribution = scale, mode, distribution
        self.input_axes, self.output_axes = input_axes, output_axes
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        generator = self._generator()
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(scale) / _TRUNCATION_STD
            return _truncated_normal(shape, 0.0, stddev, dtype, generator)
        if self.distribution == "untruncated_normal":
            return _normal(shape, 0.0, math.sqrt(scale), dtype, generator)
        limit = math.sqrt(3.0 * scale)
        return _uniform(shape, -limit, limit, dtype, generator)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "mode": self.mode,
                "distribution": self.distribution, "input_axes": self.input_axes,
                "output_axes": self.output_axes}


class _FixedVarianceScaling(VarianceScaling):
    # Glorot/He/Lecun: VarianceScaling with fixed scale, mode and distribution; their config
    # holds only the seed and the axes, as in Keras.
    _scale, _mode, _distribution = 1.0, "fan_in", "uniform"

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(scale=self._scale, mode=self._mode, distribution=self._distribution,
                         seed=seed, input_axes=input_axes, output_axes=output_axes)

    def get_config(self):
        return {**RandomInitializer.get_config(self), "input_axes": self.input_axes,
                "output_axes": self.output_axes}


@INITIALIZERS.register("GlorotUniform", "glorot_uniform")
class GlorotUniform(_FixedVarianceScaling):
    """Glorot/Xavier uniform: `U(-limit, limit)`, `limit = sqrt(6 / (fan_in + fan_out))`.

    Keras' default kernel initializer (torch's `nn.Linear` uses kaiming_uniform(a=sqrt(5))).
    """

    _scale, _mode, _distribution = 1.0, "fan_avg", "uniform"


@INITIALIZERS.register("GlorotNormal", "glorot_normal")
class GlorotNormal(_FixedVarianceScaling):
    """Glorot/Xavier normal: truncated normal with std `sqrt(2 / (fan_in + fan_out))`."""

    _scale, _mode, _distribution = 1.0, "fan_avg", "truncated_normal"


@INITIALIZERS.register("LecunNormal", "lecun_normal")
class LecunNormal(_FixedVarianceScaling):
    """LeCun normal: truncated normal with std `sqrt(1 / fan_in)` (pairs with `selu`)."""

    _scale, _mode, _distribution = 1.0, "fan_in", "truncated_normal"


@INITIALIZERS.register("LecunUniform", "lecun_uniform")
class LecunUniform(_FixedVarianceScaling):
    """LeCun uniform: `U(-limit, limit)`, `limit = sqrt(3 / fan_in)`."""

    _scale, _mode, _distribution = 1.0, "fan_in", "uniform"


@INITIALIZERS.register("HeNormal", "he_normal")
class HeNormal(_FixedVarianceScaling):
    """He normal: truncated normal with std `sqrt(2 / fan_in)` (torch's kaiming_normal_ is not
    truncated)."""

    _scale, _mode, _distribution = 2.0, "fan_in", "truncated_normal"


@INITIALIZERS.register("HeUniform", "he_uniform")
class HeUniform(_FixedVarianceScaling):
    """He uniform: `U(-limit, limit)`, `limit = sqrt(6 / fan_in)`."""

    _scale, _mode, _distribution = 2.0, "fan_in", "uniform"


@INITIALIZERS.register("Orthogonal", "orthogonal", "OrthogonalInitializer")
class Orthogonal(RandomInitializer):
    """A (semi-)orthogonal matrix from the QR decomposition of normal draws, times `gain`.

    Shapes with more than two axes are treated as `(prod(shape[:-1]), shape[-1])` and reshaped.
    Fewer rows than columns gives orthonormal rows, otherwise orthonormal columns. Keras' RNN
    default for recurrent kernels.

    Args:
        gain: Multiplicative factor.
        seed: See `RandomInitializer`.
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape = _to_shape(shape)
        if len(shape) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        num_rows, num_cols = math.prod(shape[:-1]), shape[-1]
        flat_shape = (max(num_cols, num_rows), min(num_cols, num_rows))
        dtype, work = _float_dtypes(dtype)
        a = _normal(flat_shape, 0.0, 1.0, work, self._generator())
        q, r = torch.linalg.qr(a)
        q = q * torch.sign(torch.diagonal(r))  # makes the decomposition unique (uniform Q)
        if num_rows < num_cols:
            q = q.T
        return (self.gain * q.reshape(shape)).to(dtype)

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}
