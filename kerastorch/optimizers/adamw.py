"""AdamW: Keras' Adam with decoupled weight decay on by default."""

from kerastorch.optimizers.adam import Adam
from kerastorch.optimizers.base import OPTIMIZERS


@OPTIMIZERS.register("adamw", "AdamW")
class AdamW(Adam):
    """Adam with `w -= w * weight_decay * lr` before each update (see `Adam` for the rule).

    In Keras every optimizer takes a decoupled `weight_decay`; AdamW only changes its default,
    0.004 (torch's `AdamW`: 0.01), and refuses `None`.

    Args:
        learning_rate: Float or schedule, defaults to 0.001.
        weight_decay: Float, defaults to 0.004.
        beta_1, beta_2, epsilon, amsgrad: As for `Adam`.
        **kwargs: The common arguments of `Optimizer` (`clipnorm`, ...).

    Example:

    ```python
    opt = AdamW(learning_rate=1e-3, weight_decay=0.01)
    ```
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, weight_decay=weight_decay, **kwargs)
        if self.weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: "
                             "weight_decay=None")
