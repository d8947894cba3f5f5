"""SGD with Keras' momentum convention (the learning rate sits inside the velocity)."""

import numbers

import torch

from kerastorch.optimizers.base import OPTIMIZERS, Optimizer


@OPTIMIZERS.register("sgd", "SGD")
class SGD(Optimizer):
    """Gradient descent, with optional (Nesterov) momentum, as Keras computes it.

    ```
    momentum == 0:  w = w - lr * g
    momentum > 0:   v = momentum * v - lr * g;  w = w + v
    nesterov:       v = momentum * v - lr * g;  w = w + momentum * v - lr * g
    ```

    torch's `SGD` keeps `buf = momentum * buf + g` and steps `w -= lr * buf`: the same numbers
    only while the learning rate is constant. Keras' default learning rate is 0.01 (torch: 1e-3).

    Args:
        learning_rate: Float or schedule, defaults to 0.01.
        momentum: Float in `[0, 1]`, defaults to 0.0.
        nesterov: Whether to use Nesterov momentum.
        **kwargs: The common arguments of `Optimizer` (`weight_decay`, `clipnorm`, ...).

    Example:

    ```python
    opt = SGD(learning_rate=0.1, momentum=0.9)
    opt.build(model.parameters())
    ```
    """

    _config_keys = ("momentum", "nesterov")

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        # Keras insists on a float; an int such as 0 is accepted here.
        if (isinstance(momentum, bool) or not isinstance(momentum, numbers.Real)
                or not 0 <= momentum <= 1):
            raise ValueError(f"`momentum` must be a float between [0, 1]. "
                             f"Received: momentum={momentum!r}")
        self.momentum = float(momentum)
        self.nesterov = nesterov

    def _slot_groups(self):
        return [("momentum",)] if self.momentum != 0 else []

    def update_step(self, params, grads, slots, lr, t):
        if self.momentum == 0:
            torch._foreach_add_(params, grads, alpha=-lr)
            return
        velocities = slots["momentum"]
        torch._foreach_mul_(velocities, self.momentum)
        torch._foreach_add_(velocities, grads, alpha=-lr)
        if self.nesterov:
            torch._foreach_add_(params, velocities, alpha=self.momentum)
            torch._foreach_add_(params, grads, alpha=-lr)
        else:
            torch._foreach_add_(params, velocities)
