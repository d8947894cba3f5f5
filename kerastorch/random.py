"""`keras.random` on torch: seeded random tensors with Keras 3's names, arguments and defaults.

`seed` is an int (the same int gives the same numbers on every call), a `SeedGenerator` (each call
draws a new seed from it, reproducibly from its initial seed), or `None` (torch's global RNG, so
`keras.utils.set_random_seed` makes runs repeatable). The streams are torch's, so the values
differ from Keras on JAX; the distributions, shapes and dtypes are Keras'.
"""

import random as python_random

import torch

from kerastorch import config
from kerastorch.ops._dtypes import to_torch_dtype
from kerastorch.ops.core import convert_to_tensor


class SeedGenerator:
    """A seed state for random ops: each `next()` returns a new `(2,)` int32 seed tensor.

    Args:
        seed: Initial seed (int). `None` picks a random one.
        name: Optional name.

    Example: `gen = keras.random.SeedGenerator(1337); keras.random.normal((2,), seed=gen)`.
    """

    _count = 0

    def __init__(self, seed=None, name=None, **kwargs):
        kwargs.pop("backend", None)
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
        if name is None:
            SeedGenerator._count += 1
            name = "seed_generator" if SeedGenerator._count == 1 else \
                f"seed_generator_{SeedGenerator._count - 1}"
        self.name = name
        self._initial_seed = seed
        if seed is None:
            seed = python_random.randint(1, int(1e9))
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ValueError(f"Argument `seed` must be an integer. Received: seed={seed}")
        # Kept on the host as Python ints: drawing a torch.Generator seed needs host values,
        # so a device tensor would force a sync per call.
        self._state = [seed, 0]

    @property
    def state(self):
        """The `(2,)` int32 state `[seed, counter]`, as Keras' `seed_generator_state`."""
        return torch.tensor(self._state, dtype=torch.int32)

    def next(self, ordered=True):
        """Returns the current state as a `(2,)` tensor and advances it."""
        current = self.state
        if ordered:
            self._state[1] += 1
        else:
            self._state = [(v + 1) * 5387 % 933199 for v in self._state]
        return current

    def _next_int(self):
        first, second = self._state
        self._state[1] += 1
        return (first + second) & 0xFFFFFFFF

    def get_config(self):
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<SeedGenerator name={self.name!r} seed={self._initial_seed!r}>"


def _generator(seed, device=None):
    """A seeded `torch.Generator` for `seed`, or `None` (global RNG) for `seed=None`."""
    if seed is None:
        return None
    if isinstance(seed, SeedGenerator):
        value = seed._next_int()
    elif isinstance(seed, int) and not isinstance(seed, bool):
        value = seed & 0xFFFFFFFF
    else:
        raise ValueError("Argument `seed` must be either an integer or an instance of "
                         f"`SeedGenerator`. Received: seed={seed} (of type {type(seed)})")
    generator = torch.Generator(device=device or config.device())
    generator.manual_seed(value)
    return generator


def _float_dtype(dtype, op):
    dt = to_torch_dtype(dtype or config.floatx())
    if not dt.is_floating_point:
        raise ValueError(f"keras.random.{op}: `dtype` must be a floating point type. "
                         f"Received: dtype={dtype}")
    return dt


def _shape(shape):
    if isinstance(shape, int):
        return (shape,)
    return tuple(int(s) for s in shape)


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples from `Normal(mean, stddev)`; `dtype` defaults to `floatx()`."""
    dt = _float_dtype(dtype, "normal")
    out = torch.empty(_shape(shape), dtype=dt, device=config.device())
    return out.normal_(mean, stddev, generator=_generator(seed))


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples from `Uniform[minval, maxval)`; `dtype` defaults to `floatx()`."""
    dt = _float_dtype(dtype, "uniform")
    out = torch.rand(_shape(shape), generator=_generator(seed), dtype=dt,
                     device=config.device())
    return (maxval - minval) * out + minval


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers drawn uniformly from `[minval, maxval)`."""
    dt = to_torch_dtype(dtype)
    if dt.is_floating_point or dt == torch.bool:
        raise ValueError(f"keras.random.randint: `dtype` must be an integer type. "
                         f"Received: dtype={dtype}")
    return torch.randint(int(minval), int(maxval), _shape(shape), generator=_generator(seed),
                         dtype=dt, device=config.device())


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal samples with values more than 2 `stddev` from `mean` redrawn (Keras' rule)."""
    dt = _float_dtype(dtype, "truncated_normal")
    out = torch.empty(_shape(shape), dtype=dt, device=config.device())
    # trunc_normal_ takes no generator: sample on the seeded generator by inverse CDF.
    u = torch.rand(out.shape, generator=_generator(seed), dtype=torch.float32,
                   device=out.device)
    lo, hi = torch.special.ndtr(torch.tensor(-2.0)), torch.special.ndtr(torch.tensor(2.0))
    p = lo + (hi - lo) * u
    z = torch.special.ndtri(p.clamp(1e-7, 1 - 1e-7)).clamp(-2.0, 2.0)
    return (z * stddev + mean).to(dt)


def categorical(logits, num_samples, dtype="int32", seed=None):
    """Class indices sampled from `softmax(logits)`: shape `(batch, num_samples)`."""
    logits = convert_to_tensor(logits)
    if logits.ndim != 2:
        raise ValueError("`logits` should be a 2-D tensor with shape [batch_size, num_classes]. "
                         f"Received: logits.shape={tuple(logits.shape)}")
    probs = torch.softmax(logits.float(), dim=-1)
    return torch.multinomial(probs, int(num_samples), replacement=True,
                             generator=_generator(seed)).to(to_torch_dtype(dtype))


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zeroes a `rate` fraction of `inputs` and scales the rest by `1 / (1 - rate)`.

    `noise_shape` (entries `None` take `inputs`' size) makes the mask broadcast.
    """
    inputs = convert_to_tensor(inputs)
    if not 0 <= rate <= 1:
        raise ValueError(f"`rate` must be in [0, 1]. Received: rate={rate}")
    if rate == 1.0:
        return torch.zeros_like(inputs)
    if rate == 0.0:
        return inputs
    keep = 1.0 - rate
    if noise_shape is None:
        noise_shape = inputs.shape
    else:
        noise_shape = [inputs.shape[i] if v is None else v for i, v in enumerate(noise_shape)]
    mask = torch.rand(tuple(noise_shape), generator=_generator(seed), device=inputs.device) < keep
    return torch.where(mask, inputs / keep, torch.zeros((), dtype=inputs.dtype,
                                                        device=inputs.device))


def shuffle(x, axis=0, seed=None):
    """`x` with its slices along `axis` randomly permuted."""
    x = convert_to_tensor(x)
    perm = torch.randperm(x.shape[axis], generator=_generator(seed), device=x.device)
    return torch.index_select(x, axis, perm)


def _with_seed(seed, sample):
    """Runs `sample()` on torch's global RNG seeded from `seed` (torch.distributions takes no
    generator), restoring the global RNG state afterwards when a seed was given."""
    if seed is None:
        return sample()
    generator = _generator(seed, device="cpu")
    with torch.random.fork_rng(devices=[] if config.device().type != "cuda" else None):
        torch.manual_seed(generator.initial_seed())
        return sample()


def gamma(shape, alpha, dtype=None, seed=None):
    """Samples from `Gamma(alpha, 1)`."""
    dt = _float_dtype(dtype, "gamma")
    alpha = torch.broadcast_to(convert_to_tensor(alpha, "float32"), _shape(shape))
    return _with_seed(seed, lambda: torch.distributions.Gamma(
        alpha, torch.ones_like(alpha)).sample().to(dt))


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Samples from `Binomial(counts, probabilities)` (as floats by default)."""
    dt = to_torch_dtype(dtype or config.floatx())
    counts = torch.broadcast_to(convert_to_tensor(counts, "float32"), _shape(shape))
    probabilities = torch.broadcast_to(convert_to_tensor(probabilities, "float32"),
                                       _shape(shape))
    return _with_seed(seed, lambda: torch.distributions.Binomial(
        total_count=counts, probs=probabilities).sample().to(dt))


def beta(shape, alpha, beta, dtype=None, seed=None):
    """Samples from `Beta(alpha, beta)`."""
    dt = _float_dtype(dtype, "beta")
    a = torch.broadcast_to(convert_to_tensor(alpha, "float32"), _shape(shape))
    b = torch.broadcast_to(convert_to_tensor(beta, "float32"), _shape(shape))
    return _with_seed(seed, lambda: torch.distributions.Beta(a, b).sample().to(dt))
