"""Nadam with Keras' momentum schedule `mu_t = beta_1 * (1 - 0.5 * 0.96**t)`."""

import torch

from kerastorch.optimizers.adam import _AdamFamily, f32
from kerastorch.optimizers.base import OPTIMIZERS


@OPTIMIZERS.register("nadam", "Nadam")
class Nadam(_AdamFamily):
    """Nadam as Keras computes it (Dozat's momentum schedule).

    ```
    u_t   = beta_1 * (1 - 0.5 * 0.96**t);   u_t1 = beta_1 * (1 - 0.5 * 0.96**(t + 1))
    u_product = u_product * u_t              (a running product, 1 before the first update)
    m = m + (g - m) * (1 - beta_1);   v = v + (g**2 - v) * (1 - beta_2)
    m_hat = u_t1 * m / (1 - u_product * u_t1) + (1 - u_t) * g / (1 - u_product)
    w = w - lr * m_hat / (sqrt(v / (1 - beta_2**t)) + epsilon)
    ```

    torch's `NAdam` decays the momentum as `0.96 ** (t * momentum_decay)` with
    `momentum_decay=0.004` (Keras: `0.96 ** t`), adds eps to the bias-corrected root with
    eps 1e-8 and defaults to lr 2e-3; Keras uses lr 1e-3 and epsilon 1e-7.
    `u_product` is a Keras optimizer variable: it is in `variables` and `state_dict()`.

    Args:
        learning_rate: Float or schedule, defaults to 0.001.
        beta_1: Decay of the first moment, defaults to 0.9.
        beta_2: Decay of the second moment, defaults to 0.999.
        epsilon: Defaults to 1e-7.
        **kwargs: The common arguments of `Optimizer` (`weight_decay`, `clipnorm`, ...).

    Example:

    ```python
    opt = Nadam(learning_rate=1e-3)
    ```
    """

    _scalar_state = ("_u_product",)

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)
        self._u_product = 1.0

    def _slot_groups(self):
        return [("momentum", "velocity")]

    def update_step(self, params, grads, slots, lr, t):
        # Keras computes these scalars in float32 from float32 betas; so do we, on the host.
        b1, b2, decay = f32(self.beta_1), f32(self.beta_2), f32(0.96)
        u_t = b1 * (1.0 - 0.5 * decay**t)
        u_t_1 = b1 * (1.0 - 0.5 * decay ** (t + 1))
        u_product_t = f32(self._u_product * u_t)
        self._u_product = u_product_t
        u_product_t_1 = u_product_t * u_t_1
        m, v = slots["momentum"], slots["velocity"]
        torch._foreach_lerp_(m, grads, 1 - b1)
        torch._foreach_lerp_(v, torch._foreach_mul(grads, grads), 1 - b2)
        m_hat = torch._foreach_mul(m, u_t_1 / (1 - u_product_t_1))
        torch._foreach_add_(m_hat, grads, alpha=(1 - u_t) / (1 - u_product_t))
        denom = torch._foreach_div(v, 1 - b2**t)
        torch._foreach_sqrt_(denom)
        torch._foreach_add_(denom, self.epsilon)
        torch._foreach_addcdiv_(params, m_hat, denom, value=-lr)
