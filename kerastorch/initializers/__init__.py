"""Keras 3 weight initializers, producing torch tensors.

Call convention: `init(shape, dtype=None) -> torch.Tensor` on the CPU, in Keras' layout (a Dense
kernel is `(in, out)`, a Conv2D kernel `(kh, kw, in, out)`), so fans and seeds mean what they mean
in Keras; layers transpose to torch's layout afterwards. `dtype` defaults to `config.floatx()`.

Keras' defaults differ from torch's nearly everywhere: kernels default to `glorot_uniform`, the
`*_normal` initializers draw from a normal **truncated** at two standard deviations (rescaled so
the truncated distribution keeps the intended std), `RandomNormal`/`RandomUniform` default to
`N(0, 0.05)` / `U(-0.05, 0.05)`.

Seeds follow Keras 3: an initializer seeded with an int, *or unseeded*, returns the same values
every time the same instance is called (an unseeded one draws its int seed once, at construction,
from torch's global generator, so `torch.manual_seed` / `config.set_random_seed` make it
reproducible). Pass a `torch.Generator` as `seed` (Keras: a `SeedGenerator`) for different values
on each call. Resolving a name (`get("glorot_uniform")`) builds a new instance each time.

Example:

    >>> from kerastorch import initializers
    >>> init = initializers.get("glorot_uniform")
    >>> init((784, 128)).shape  # Keras layout (in, out)
    torch.Size([784, 128])
"""

import numpy as np
import torch

from kerastorch.initializers.constant_initializers import STFT as STFT
from kerastorch.initializers.constant_initializers import Constant as Constant
from kerastorch.initializers.constant_initializers import Identity as Identity
from kerastorch.initializers.constant_initializers import Ones as Ones
from kerastorch.initializers.constant_initializers import Zeros as Zeros
from kerastorch.initializers.initializer import INITIALIZERS as INITIALIZERS
from kerastorch.initializers.initializer import Initializer as Initializer
from kerastorch.initializers.initializer import _to_dtype, _to_shape
from kerastorch.initializers.random_initializers import GlorotNormal as GlorotNormal
from kerastorch.initializers.random_initializers import GlorotUniform as GlorotUniform
from kerastorch.initializers.random_initializers import HeNormal as HeNormal
from kerastorch.initializers.random_initializers import HeUniform as HeUniform
from kerastorch.initializers.random_initializers import LecunNormal as LecunNormal
from kerastorch.initializers.random_initializers import LecunUniform as LecunUniform
from kerastorch.initializers.random_initializers import Orthogonal as Orthogonal
from kerastorch.initializers.random_initializers import RandomInitializer as RandomInitializer
from kerastorch.initializers.random_initializers import RandomNormal as RandomNormal
from kerastorch.initializers.random_initializers import RandomUniform as RandomUniform
from kerastorch.initializers.random_initializers import TruncatedNormal as TruncatedNormal
from kerastorch.initializers.random_initializers import VarianceScaling as VarianceScaling
from kerastorch.initializers.random_initializers import compute_fans as compute_fans
from kerastorch.utils.registry import serialize as _serialize_object

INITIALIZERS.register("Initializer", "initializer")(Initializer)

# Keras' lower-case public names are the classes themselves.
zeros, ones, constant, identity, stft = Zeros, Ones, Constant, Identity, STFT
IdentityInitializer, OrthogonalInitializer, STFTInitializer = Identity, Orthogonal, STFT
random_normal, truncated_normal, random_uniform = RandomNormal, TruncatedNormal, RandomUniform
variance_scaling, orthogonal = VarianceScaling, Orthogonal
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
lecun_uniform, lecun_normal = LecunUniform, LecunNormal
he_uniform, he_normal = HeUniform, HeNormal


def get(identifier):
    """Resolve an initializer identifier.

    Args:
        identifier: `None` (returned as is), a name (`"glorot_uniform"`, `"GlorotUniform"`,
            `"zeros"`, `"uniform"`, ...: a new instance each time), a config dict, an
            `Initializer` class (instantiated) or instance, any callable `fn(shape, dtype=None)`,
            or a tensor / numpy array whose values are used as they are.

    Raises:
        ValueError: for an unknown name (listing close matches) or an uninterpretable value.
    """
    if identifier is None:
        return None
    if isinstance(identifier, (torch.Tensor, np.ndarray, np.generic)):
        return _from_values(identifier)
    if isinstance(identifier, (str, dict)) or callable(identifier):
        return INITIALIZERS.get(identifier)
    raise ValueError(f"Could not interpret initializer identifier. Received: "
                     f"identifier={identifier!r}")


def _from_values(values):
    values = torch.as_tensor(values)

    def initialize_fn(shape, dtype=None):
        if _to_shape(shape) != tuple(values.shape):
            raise ValueError(f"Expected `shape` to be {tuple(values.shape)} for direct tensor "
                             f"as initializer. Received: shape={shape}")
        return values.detach().to("cpu", _to_dtype(dtype), copy=True)

    return initialize_fn


def serialize(initializer):
    """Keras 3's config dict: `{"module": "keras.initializers", "class_name": ..., "config":
    ..., "registered_name": None}`."""
    return _serialize_object(initializer)


def deserialize(config_, custom_objects=None):
    """Inverse of `serialize`; also accepts a plain name.

    Args:
        config_: A dict from `serialize` (or a Keras file), or a string name.
        custom_objects: Optional dict of extra name -> class, searched first.
    """
    return INITIALIZERS.deserialize(config_, custom_objects)
