"""Lamb: Adam's direction scaled per variable by the trust ratio `||w|| / ||update||`."""

import torch

from kerastorch.optimizers.adam import _AdamFamily, f32
from kerastorch.optimizers.base import OPTIMIZERS


@OPTIMIZERS.register("lamb", "Lamb")
class Lamb(_AdamFamily):
    """Lamb as Keras computes it.

    ```
    m = m + (g - m) * (1 - beta_1);   v = v + (g**2 - v) * (1 - beta_2)
    update = (m / (1 - beta_1**t)) / (sqrt(v / (1 - beta_2**t)) + epsilon)
    ratio = ||w|| / ||update||  (per variable; 1 when either norm is 0)
    w = w - ratio * lr * update
    ```

    Decoupled `weight_decay` (a common argument) is applied to `w` before this, so `||w||` is
    the decayed weight's norm, as in Keras.

    Args:
        learning_rate: Float or schedule, defaults to 0.001.
        beta_1: Decay of the first moment, defaults to 0.9.
        beta_2: Decay of the second moment, defaults to 0.999.
        epsilon: Defaults to 1e-7.
        **kwargs: The common arguments of `Optimizer` (`weight_decay`, `clipnorm`, ...).

    Example:

    ```python
    opt = Lamb(learning_rate=1e-3, weight_decay=0.01)
    ```
    """

    def _slot_groups(self):
        return [("momentum", "velocity")]

    def update_step(self, params, grads, slots, lr, t):
        b1, b2 = f32(self.beta_1), f32(self.beta_2)
        m, v = slots["momentum"], slots["velocity"]
        torch._foreach_lerp_(m, grads, 1 - self.beta_1)
        torch._foreach_lerp_(v, torch._foreach_mul(grads, grads), 1 - self.beta_2)
        update = torch._foreach_div(m, 1.0 - b1**t)
        denom = torch._foreach_div(v, 1.0 - b2**t)
        torch._foreach_sqrt_(denom)
        torch._foreach_add_(denom, self.epsilon)
        torch._foreach_div_(update, denom)
        w_norm = torch.stack(torch._foreach_norm(params))
        g_norm = torch.stack(torch._foreach_norm(update))
        ratio = torch.where((w_norm > 0) & (g_norm > 0), w_norm / g_norm, 1.0)
        torch._foreach_mul_(update, list(ratio.unbind(0)))
        torch._foreach_add_(params, update, alpha=-lr)
