"""Adagrad with Keras' epsilon inside the square root and a non-zero starting accumulator."""

import torch

from kerastorch.optimizers.base import OPTIMIZERS, Optimizer


@OPTIMIZERS.register("adagrad", "Adagrad")
class Adagrad(Optimizer):
    """Adagrad as Keras computes it.

    ```
    accumulator = accumulator + g**2          (starts at initial_accumulator_value)
    w = w - lr * g / sqrt(accumulator + epsilon)
    ```

    torch's `Adagrad` divides by `sqrt(acc) + eps` and defaults to lr 1e-2,
    `initial_accumulator_value=0`, eps 1e-10; Keras to lr 1e-3, 0.1 and 1e-7.

    Args:
        learning_rate: Float or schedule, defaults to 0.001.
        initial_accumulator_value: Starting value of the accumulators, defaults to 0.1.
        epsilon: Defaults to 1e-7.
        **kwargs: The common arguments of `Optimizer` (`weight_decay`, `clipnorm`, ...).

    Example:

    ```python
    opt = Adagrad(learning_rate=0.01, initial_accumulator_value=0.1)
    ```
    """

    _config_keys = ("initial_accumulator_value", "epsilon")

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def _slot_groups(self):
        return [("accumulator",)]

    def _slot_initial_value(self, name):
        return self.initial_accumulator_value if name == "accumulator" else 0.0

    def update_step(self, params, grads, slots, lr, t):
        acc = slots["accumulator"]
        torch._foreach_addcmul_(acc, grads, grads)
        denom = torch._foreach_add(acc, self.epsilon)
        torch._foreach_sqrt_(denom)
        torch._foreach_addcdiv_(params, grads, denom, value=-lr)
