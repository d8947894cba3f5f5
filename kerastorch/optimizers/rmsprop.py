"""RMSprop with Keras' epsilon inside the square root and momentum on the increment."""

import torch

from kerastorch.optimizers.base import OPTIMIZERS, Optimizer


@OPTIMIZERS.register("rmsprop", "RMSprop")
class RMSprop(Optimizer):
    """RMSprop as Keras computes it.

    ```
    v = rho * v + (1 - rho) * g**2
    a = rho * a + (1 - rho) * g                          (centered only)
    increment = lr * g / sqrt(v - a**2 + epsilon)        (not centered: sqrt(v + epsilon))
    momentum > 0:  m = momentum * m + increment;  w = w - m
    else:          w = w - increment
    ```

    torch's `RMSprop` divides by `sqrt(v) + eps` and defaults to lr 1e-2, alpha (rho) 0.99,
    eps 1e-8; Keras to lr 1e-3, rho 0.9, epsilon 1e-7.

    Args:
        learning_rate: Float or schedule, defaults to 0.001.
        rho: Discount of the running mean of squared gradients, defaults to 0.9.
        momentum: Float, defaults to 0.0.
        epsilon: Defaults to 1e-7.
        centered: Whether to normalise by the estimated variance instead of the raw second
            moment.
        **kwargs: The common arguments of `Optimizer` (`weight_decay`, `clipnorm`, ...).

    Example:

    ```python
    opt = RMSprop(learning_rate=1e-3, centered=True)
    ```
    """

    _config_keys = ("rho", "momentum", "epsilon", "centered")

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def _slot_groups(self):
        groups = [("velocity",)]
        if self.momentum > 0:
            groups.append(("momentum",))
        if self.centered:
            groups.append(("average_gradient",))
        return groups

    def update_step(self, params, grads, slots, lr, t):
        rho = self.rho
        velocities = slots["velocity"]
        torch._foreach_mul_(velocities, rho)
        torch._foreach_addcmul_(velocities, grads, grads, value=1 - rho)
        if self.centered:
            averages = slots["average_gradient"]
            torch._foreach_mul_(averages, rho)
            torch._foreach_add_(averages, grads, alpha=1 - rho)
            denom = torch._foreach_addcmul(velocities, averages, averages, value=-1)
            torch._foreach_add_(denom, self.epsilon)
        else:
            denom = torch._foreach_add(velocities, self.epsilon)
        torch._foreach_sqrt_(denom)
        if self.momentum > 0:
            momentums = slots["momentum"]
            torch._foreach_mul_(momentums, self.momentum)
            torch._foreach_addcdiv_(momentums, grads, denom, value=lr)
            torch._foreach_sub_(params, momentums)
        else:
            torch._foreach_addcdiv_(params, grads, denom, value=-lr)
