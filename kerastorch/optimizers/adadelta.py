"""Adadelta as Keras computes it (Keras' default learning rate is 0.001, torch's 1.0)."""

import torch

from kerastorch.optimizers.base import OPTIMIZERS, Optimizer


@OPTIMIZERS.register("adadelta", "Adadelta")
class Adadelta(Optimizer):
    """Adadelta as Keras computes it.

    ```
    accumulated_grad = rho * accumulated_grad + (1 - rho) * g**2
    delta = -sqrt(accumulated_delta_var + epsilon) * g / sqrt(accumulated_grad + epsilon)
    accumulated_delta_var = rho * accumulated_delta_var + (1 - rho) * delta**2
    w = w + lr * delta
    ```

    The rule is torch's, but torch defaults to lr 1.0, rho 0.9, eps 1e-6; Keras to lr 0.001,
    rho 0.95, epsilon 1e-7 (standalone Keras <= 2.3 used lr 1.0: pass it explicitly for old
    scripts).

    Args:
        learning_rate: Float or schedule, defaults to 0.001.
        rho: Decay rate of both running averages, defaults to 0.95.
        epsilon: Defaults to 1e-7.
        **kwargs: The common arguments of `Optimizer` (`weight_decay`, `clipnorm`, ...).

    Example:

    ```python
    opt = Adadelta(learning_rate=1.0, rho=0.95)
    ```
    """

    _config_keys = ("rho", "epsilon")

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = rho
        self.epsilon = epsilon

    def _slot_groups(self):
        return [("accumulated_grad", "accumulated_delta_var")]

    def update_step(self, params, grads, slots, lr, t):
        rho, eps = self.rho, self.epsilon
        acc_grad, acc_delta = slots["accumulated_grad"], slots["accumulated_delta_var"]
        torch._foreach_mul_(acc_grad, rho)
        torch._foreach_addcmul_(acc_grad, grads, grads, value=1 - rho)
        # delta = -rms(acc_delta) * g / rms(acc_grad); kept positive here, signs folded below.
        delta = torch._foreach_add(acc_delta, eps)
        torch._foreach_sqrt_(delta)
        torch._foreach_mul_(delta, grads)
        rms_grad = torch._foreach_add(acc_grad, eps)
        torch._foreach_sqrt_(rms_grad)
        torch._foreach_div_(delta, rms_grad)
        torch._foreach_mul_(acc_delta, rho)
        torch._foreach_addcmul_(acc_delta, delta, delta, value=1 - rho)
        torch._foreach_add_(params, delta, alpha=-lr)
