"""Adam with Keras' epsilon placement (outside the bias correction of `v`)."""

import functools
import math
import struct

import torch

from kerastorch.optimizers.base import OPTIMIZERS, Optimizer


@functools.lru_cache(maxsize=64)
def f32(x: float) -> float:
    """`x` rounded to float32. Keras casts the betas to the variable dtype before `1 - beta**t`,
    where the rounding shows (1 - 0.999 in float32 is 1.3e-5 off); a Python float would not."""
    return struct.unpack("f", struct.pack("f", x))[0]


class _AdamFamily(Optimizer):
    """Adam, Adamax, Nadam and Lamb: Keras' `beta_1`, `beta_2` and `epsilon` arguments, with the
    same defaults in all four."""

    _config_keys = ("beta_1", "beta_2", "epsilon")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon


@OPTIMIZERS.register("adam", "Adam")
class Adam(_AdamFamily):
    """Adam as Keras computes it.

    ```
    m = m + (g - m) * (1 - beta_1)
    v = v + (g**2 - v) * (1 - beta_2)
    v_hat = max(v_hat, v); v = v_hat                      (amsgrad only)
    w = w - m * lr * sqrt(1 - beta_2**t) / (1 - beta_1**t) / (sqrt(v) + epsilon)
    ```

    torch's `Adam` adds epsilon to the bias-corrected `sqrt(v / (1 - beta_2**t))` and defaults
    it to 1e-8, so its steps differ (first step with g=1e-4: Keras -9.69e-4, torch -9.99e-4).

    Args:
        learning_rate: Float or schedule, defaults to 0.001.
        beta_1: Decay of the first moment, defaults to 0.9.
        beta_2: Decay of the second moment, defaults to 0.999.
        epsilon: Defaults to 1e-7 (torch: 1e-8).
        amsgrad: Whether to use the running maximum of `v` (AMSGrad).
        **kwargs: The common arguments of `Optimizer` (`weight_decay`, `clipnorm`, ...).

    Example:

    ```python
    opt = Adam(learning_rate=1e-3)
    opt.build(model.parameters())
    ```
    """

    _config_keys = _AdamFamily._config_keys + ("amsgrad",)

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)
        self.amsgrad = amsgrad

    def _slot_groups(self):
        # Keras' order: momentum and velocity interleaved per variable, then velocity_hat.
        return [("momentum", "velocity")] + ([("velocity_hat",)] if self.amsgrad else [])

    def update_step(self, params, grads, slots, lr, t):
        m, v = slots["momentum"], slots["velocity"]
        # lerp computes start + weight * (end - start): Keras' form of both moment updates.
        torch._foreach_lerp_(m, grads, 1 - self.beta_1)
        torch._foreach_lerp_(v, torch._foreach_mul(grads, grads), 1 - self.beta_2)
        if self.amsgrad:
            torch._foreach_maximum_(slots["velocity_hat"], v)
            v = slots["velocity_hat"]
        b1, b2 = f32(self.beta_1), f32(self.beta_2)
        alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        denom = torch._foreach_sqrt(v)
        torch._foreach_add_(denom, self.epsilon)
        torch._foreach_addcdiv_(params, m, denom, value=-alpha)
