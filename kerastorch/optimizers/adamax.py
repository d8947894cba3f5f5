"""Adamax: Adam with the infinity norm in place of the second moment, as Keras computes it."""

import math

import torch

from kerastorch.optimizers.adam import _AdamFamily, f32
from kerastorch.optimizers.base import OPTIMIZERS


@OPTIMIZERS.register("adamax", "Adamax")
class Adamax(_AdamFamily):
    """Adamax as Keras computes it.

    ```
    m = m + (g - m) * (1 - beta_1)
    u = max(beta_2 * u, |g|)
    w = w - lr * m / ((1 - beta_1**t) * (u + epsilon))
    ```

    torch's `Adamax` adds `eps` inside the max (`max(beta_2 * u, |g| + eps)`) and defaults to
    lr 2e-3, eps 1e-8; Keras to lr 1e-3, epsilon 1e-7.

    Args:
        learning_rate: Float or schedule, defaults to 0.001.
        beta_1: Decay of the first moment, defaults to 0.9.
        beta_2: Decay of the infinity norm, defaults to 0.999.
        epsilon: Defaults to 1e-7.
        **kwargs: The common arguments of `Optimizer` (`weight_decay`, `clipnorm`, ...).

    Example:

    ```python
    opt = Adamax(learning_rate=1e-3)
    ```
    """

    def _slot_groups(self):
        return [("momentum", "norm")]

    def update_step(self, params, grads, slots, lr, t):
        m, u = slots["momentum"], slots["norm"]
        torch._foreach_lerp_(m, grads, 1 - self.beta_1)
        torch._foreach_mul_(u, self.beta_2)
        torch._foreach_maximum_(u, torch._foreach_abs(grads))
        denom = torch._foreach_add(u, self.epsilon)
        scale = lr / (1 - math.pow(f32(self.beta_1), t))
        torch._foreach_addcdiv_(params, m, denom, value=-scale)
