"""Learning-rate schedules: functions of the optimizer's iteration count, stepped per batch.

An optimizer built with a schedule calls it once per update with `optimizer.iterations` as a
Python int (the number of updates done before this one, so the first update sees 0) and uses the
float it returns. Keras calls schedules with a scalar tensor and gets a tensor back; here the
step is a plain int and the result a plain float, so reading the learning rate never syncs the
device. Schedules still accept a tensor step and then return a tensor.
"""

import math

import torch

from kerastorch.utils.registry import Registry

SCHEDULES = Registry("learning rate schedule")


class LearningRateSchedule:
    """Base class: a serializable callable `step -> learning rate`.

    Subclasses implement `__call__(step)` and, to be serializable, `get_config()`.

    Example:

    ```python
    class InverseSqrt(LearningRateSchedule):
        def __init__(self, initial_learning_rate):
            self.initial_learning_rate = initial_learning_rate

        def __call__(self, step):
            return self.initial_learning_rate / (step + 1) ** 0.5

    optimizer = kerastorch.optimizers.SGD(learning_rate=InverseSqrt(0.1))
    ```
    """

    def __call__(self, step):
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, step)`."
        )

    def get_config(self) -> dict:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `get_config()` in "
            "order to be serializable."
        )

    @classmethod
    def from_config(cls, config: dict):
        """Instantiates the schedule from the output of `get_config()`."""
        return cls(**config)

    def __repr__(self) -> str:
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


@SCHEDULES.register("ExponentialDecay")
class ExponentialDecay(LearningRateSchedule):
    """`initial_learning_rate * decay_rate ** (step / decay_steps)`.

    With `staircase=True`, `step / decay_steps` is floored, so the rate drops in discrete steps.

    Args:
        initial_learning_rate: Float, the rate at step 0.
        decay_steps: Positive number of steps over which the rate is multiplied by
            `decay_rate` once.
        decay_rate: Float, the decay factor.
        staircase: Whether to floor `step / decay_steps`.
        name: String, kept for Keras config compatibility.

    Example:

    ```python
    schedule = ExponentialDecay(0.1, decay_steps=1000, decay_rate=0.96, staircase=True)
    optimizer = kerastorch.optimizers.SGD(learning_rate=schedule)
    ```
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        super().__init__()
        if decay_steps <= 0:
            raise ValueError(f"Argument `decay_steps` must be > 0. Received: "
                             f"decay_steps={decay_steps}")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        # Keras computes this in float32 tensors; in float64 Python floats it agrees to ~1e-7
        # relative and costs no kernel launch per batch.
        p = step / self.decay_steps
        if self.staircase:
            p = torch.floor(p) if isinstance(p, torch.Tensor) else math.floor(p)
        return self.initial_learning_rate * self.decay_rate**p

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


def serialize(schedule: LearningRateSchedule) -> dict:
    """Keras' serialized form: `{"module", "class_name", "config", "registered_name"}`."""
    if not isinstance(schedule, LearningRateSchedule):
        raise TypeError("`serialize` expects a `LearningRateSchedule`. "
                        f"Received: schedule={schedule!r}")
    registered = type(schedule).__name__ in SCHEDULES
    return {
        "module": "keras.optimizers.schedules" if registered else type(schedule).__module__,
        "class_name": type(schedule).__name__,
        "config": schedule.get_config(),
        "registered_name": None if registered else type(schedule).__name__,
    }


def deserialize(config: dict) -> LearningRateSchedule:
    """Inverse of `serialize`: `{"class_name": "ExponentialDecay", "config": {...}}` -> object."""
    return SCHEDULES.deserialize(config)
