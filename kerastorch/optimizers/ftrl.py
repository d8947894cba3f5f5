"""FTRL-Proximal (McMahan et al., 2013) as Keras computes it."""

import torch

from kerastorch.optimizers.base import OPTIMIZERS, Optimizer


@OPTIMIZERS.register("ftrl", "Ftrl")
class Ftrl(Optimizer):
    """Follow The Regularized Leader, as Keras computes it (torch has no FTRL).

    With `p = -learning_rate_power` and `l2 = l2_regularization_strength + beta / (2 * lr)`:

    ```
    new_accum = accum + g**2
    linear = linear + (g + 2 * l2_shrinkage_regularization_strength * w)
                    - (new_accum**p - accum**p) / lr * w
    quadratic = new_accum**p / lr + 2 * l2
    w = (clip(linear, -l1, l1) - linear) / quadratic      (l1 = l1_regularization_strength)
    accum = new_accum
    ```

    Args:
        learning_rate: Float or schedule, defaults to 0.001.
        learning_rate_power: Float <= 0, defaults to -0.5 (0 gives a fixed learning rate).
        initial_accumulator_value: Float >= 0, the accumulators' start, defaults to 0.1.
        l1_regularization_strength: Float >= 0, defaults to 0.0.
        l2_regularization_strength: Float >= 0 (stabilisation penalty), defaults to 0.0.
        l2_shrinkage_regularization_strength: Float >= 0 (magnitude penalty, acts on the
            gradient), defaults to 0.0.
        beta: Float, defaults to 0.0 (the `beta` of the paper).
        **kwargs: The common arguments of `Optimizer` (`weight_decay`, `clipnorm`, ...).

    Example:

    ```python
    opt = Ftrl(learning_rate=0.1, l1_regularization_strength=0.01)
    ```
    """

    _config_keys = ("learning_rate_power", "initial_accumulator_value",
                    "l1_regularization_strength", "l2_regularization_strength",
                    "l2_shrinkage_regularization_strength", "beta")

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5,
                 initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0,
                 beta=0.0, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        checks = {"initial_accumulator_value": initial_accumulator_value,
                  "l1_regularization_strength": l1_regularization_strength,
                  "l2_regularization_strength": l2_regularization_strength,
                  "l2_shrinkage_regularization_strength": l2_shrinkage_regularization_strength}
        for arg, value in checks.items():
            if value < 0.0:
                raise ValueError(f"`{arg}` needs to be positive or zero. "
                                 f"Received: {arg}={value}.")
        if learning_rate_power > 0.0:
            raise ValueError("`learning_rate_power` needs to be negative or zero. Received: "
                             f"learning_rate_power={learning_rate_power}.")
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def _slot_groups(self):
        return [("accumulator", "linear")]

    def _slot_initial_value(self, name):
        return self.initial_accumulator_value if name == "accumulator" else 0.0

    def _power(self, tensors):
        p = -self.learning_rate_power
        return torch._foreach_sqrt(tensors) if p == 0.5 else torch._foreach_pow(tensors, p)

    def update_step(self, params, grads, slots, lr, t):
        accum, linear = slots["accumulator"], slots["linear"]
        l1 = self.l1_regularization_strength
        l2 = self.l2_regularization_strength + self.beta / (2.0 * lr)
        new_accum = torch._foreach_addcmul(accum, grads, grads)
        new_power = self._power(new_accum)
        sigma = torch._foreach_sub(new_power, self._power(accum))
        torch._foreach_div_(sigma, lr)
        torch._foreach_mul_(sigma, params)
        # Keras' association: linear + ((g + 2 * shrinkage * w) - sigma * w).
        if self.l2_shrinkage_regularization_strength:
            step = torch._foreach_add(grads, params,
                                      alpha=2 * self.l2_shrinkage_regularization_strength)
            torch._foreach_sub_(step, sigma)
        else:
            step = torch._foreach_sub(grads, sigma)
        torch._foreach_add_(linear, step)
        quadratic = torch._foreach_div(new_power, lr)
        torch._foreach_add_(quadratic, 2 * l2)
        new_w = torch._foreach_clamp_min(linear, -l1)
        torch._foreach_clamp_max_(new_w, l1)
        torch._foreach_sub_(new_w, linear)
        torch._foreach_div_(new_w, quadratic)
        torch._foreach_copy_(params, new_w)
        torch._foreach_copy_(accum, new_accum)
