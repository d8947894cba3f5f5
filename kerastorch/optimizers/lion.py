"""Lion (sign of an interpolated momentum), as Keras computes it."""

import torch

from kerastorch.optimizers.base import OPTIMIZERS, Optimizer


@OPTIMIZERS.register("lion", "Lion")
class Lion(Optimizer):
    """Lion as Keras computes it.

    ```
    w = w - lr * sign(beta_1 * m + (1 - beta_1) * g)
    m = beta_2 * m + (1 - beta_2) * g
    ```

    Every coordinate moves by exactly `lr`, so Lion wants a learning rate 3-10x smaller than
    AdamW's (and a larger `weight_decay`).

    Args:
        learning_rate: Float or schedule, defaults to 0.001.
        beta_1: Interpolation between momentum and gradient for the update, in `(0, 1]`;
            defaults to 0.9.
        beta_2: Decay of the momentum, defaults to 0.99.
        **kwargs: The common arguments of `Optimizer` (`weight_decay`, `clipnorm`, ...).

    Example:

    ```python
    opt = Lion(learning_rate=1e-4, weight_decay=0.01)
    ```
    """

    _config_keys = ("beta_1", "beta_2")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError("Argument `beta_1` must be in the [0, 1] range. Otherwise, the "
                             f"optimizer degenerates to SignSGD. Received: beta_1={beta_1}.")
        self.beta_1 = beta_1
        self.beta_2 = beta_2

    def _slot_groups(self):
        return [("momentum",)]

    def update_step(self, params, grads, slots, lr, t):
        m = slots["momentum"]
        update = torch._foreach_mul(m, self.beta_1)
        torch._foreach_add_(update, grads, alpha=1.0 - self.beta_1)
        torch._foreach_sign_(update)
        torch._foreach_add_(params, update, alpha=-lr)
        torch._foreach_mul_(m, self.beta_2)
        torch._foreach_add_(m, grads, alpha=1.0 - self.beta_2)
