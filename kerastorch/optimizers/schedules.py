"""Learning-rate schedules: functions of the optimizer's iteration count, stepped per batch.

An optimizer built with a schedule calls it once per update with `optimizer.iterations` as a
Python int (the number of updates done before this one, so the first update sees 0) and uses the
float it returns. Keras calls schedules with a scalar tensor and gets a tensor back; here the
step is a plain int and the result a plain float, so reading the learning rate never syncs the
device. Schedules still accept a tensor step and then return a tensor.
"""

import bisect
import math

import torch

from kerastorch.utils.registry import Registry

SCHEDULES = Registry("learning rate schedule")


class _PyOps:
    """Math on a Python step (the optimizer's path: no tensors, no kernel launches)."""

    floor, ceil, cos = staticmethod(math.floor), staticmethod(math.ceil), staticmethod(math.cos)
    minimum = staticmethod(min)

    @staticmethod
    def log(x):
        # Keras (float tensors) gives NaN for a non-positive argument; math.log would raise.
        return math.log(x) if x > 0 else math.nan

    @staticmethod
    def where(cond, a, b):
        return a if cond else b


class _TorchOps:
    """The same math on a tensor step (returns a tensor, as Keras does)."""

    floor, ceil, cos, log = torch.floor, torch.ceil, torch.cos, torch.log
    where = staticmethod(torch.where)

    @staticmethod
    def minimum(x, bound):
        return torch.clamp(x, max=bound)


def _ops(step):
    """`(ops, step)`: the namespace for `step`'s kind and the step as a float (tensor)."""
    if isinstance(step, torch.Tensor):
        return _TorchOps, step if step.is_floating_point() else step.to(torch.float32)
    return _PyOps, step


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


def _check_steps(value, arg="decay_steps"):
    if value <= 0:
        raise ValueError(f"Argument `{arg}` must be > 0. Received: {arg}={value}")


class _KerasSchedule(LearningRateSchedule):
    """Keras' built-in schedules: the config is the attributes named in `_CONFIG`, in Keras'
    key order (a leading underscore is dropped from the key: `_t_mul` -> `t_mul`)."""

    _CONFIG = ()

    def get_config(self) -> dict:
        return {attr.lstrip("_"): getattr(self, attr) for attr in self._CONFIG}

    def _keep(self, arguments: dict):
        """Store the `_CONFIG` attributes from the constructor's arguments of the same name."""
        for attr in self._CONFIG:
            setattr(self, attr, arguments[attr.lstrip("_")])


class _StepDecay(_KerasSchedule):
    """ExponentialDecay and InverseTimeDecay: the same arguments, different curves."""

    _CONFIG = ("initial_learning_rate", "decay_steps", "decay_rate", "staircase", "name")

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase, name):
        super().__init__()
        _check_steps(decay_steps)
        self._keep(locals())


@SCHEDULES.register("ExponentialDecay")
class ExponentialDecay(_StepDecay):
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
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        # Keras computes this in float32 tensors; in float64 Python floats it agrees to ~1e-7
        # relative and costs no kernel launch per batch.
        p = step / self.decay_steps
        if self.staircase:
            p = torch.floor(p) if isinstance(p, torch.Tensor) else math.floor(p)
        return self.initial_learning_rate * self.decay_rate**p


@SCHEDULES.register("PiecewiseConstantDecay")
class PiecewiseConstantDecay(_KerasSchedule):
    """`values[i]` on the `i`-th interval of `boundaries`, right ends included.

    `values[0]` while `step <= boundaries[0]`, `values[1]` while
    `boundaries[0] < step <= boundaries[1]`, ..., `values[-1]` once `step > boundaries[-1]`.

    Args:
        boundaries: Strictly increasing list of steps.
        values: List of learning rates, one longer than `boundaries`.
        name: String, kept for Keras config compatibility.

    Example:

    ```python
    # 1.0 for the first 100001 steps, 0.5 for the next 10000, then 0.1.
    schedule = PiecewiseConstantDecay([100000, 110000], [1.0, 0.5, 0.1])
    ```
    """

    _CONFIG = ("boundaries", "values", "name")

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        super().__init__()
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and "
                f"values={values} of length {len(values)}.")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        if isinstance(step, torch.Tensor):
            # bucketize(right=False): the index i with boundaries[i-1] < step <= boundaries[i].
            index = torch.bucketize(step, torch.as_tensor(self.boundaries, device=step.device))
            return torch.as_tensor(self.values, device=step.device)[index]
        return self.values[bisect.bisect_left(self.boundaries, step)]


@SCHEDULES.register("PolynomialDecay")
class PolynomialDecay(_KerasSchedule):
    """Polynomial decay from `initial_learning_rate` to `end_learning_rate` over `decay_steps`.

    ```
    step = min(step, decay_steps)
    lr = (initial_learning_rate - end_learning_rate) * (1 - step / decay_steps) ** power
         + end_learning_rate
    ```

    With `cycle=True` the step is not clamped; `decay_steps` is multiplied by
    `ceil(step / decay_steps)` (1 at step 0), so the decay restarts every `decay_steps`.

    Args:
        initial_learning_rate: Float, the rate at step 0.
        decay_steps: Positive number of steps to decay over.
        end_learning_rate: Float, the final rate, defaults to 0.0001.
        power: Float exponent of the polynomial, defaults to 1.0 (linear).
        cycle: Whether to restart the decay after `decay_steps`.
        name: String, kept for Keras config compatibility.

    Example:

    ```python
    schedule = PolynomialDecay(0.1, decay_steps=10000, end_learning_rate=0.01, power=0.5)
    ```
    """

    _CONFIG = ("initial_learning_rate", "decay_steps", "end_learning_rate", "power", "cycle",
               "name")

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name="PolynomialDecay"):
        super().__init__()
        _check_steps(decay_steps)
        self._keep(locals())

    def __call__(self, step):
        ops, step = _ops(step)
        decay_steps = self.decay_steps
        if self.cycle:
            multiplier = ops.where(step == 0, 1.0, ops.ceil(step / decay_steps))
            decay_steps = decay_steps * multiplier
        else:
            step = ops.minimum(step, decay_steps)
        p = step / decay_steps
        delta = self.initial_learning_rate - self.end_learning_rate
        return delta * (1 - p) ** self.power + self.end_learning_rate


@SCHEDULES.register("InverseTimeDecay")
class InverseTimeDecay(_StepDecay):
    """`initial_learning_rate / (1 + decay_rate * step / decay_steps)`.

    With `staircase=True`, `step / decay_steps` is floored.

    Args:
        initial_learning_rate: Float, the rate at step 0.
        decay_steps: Positive number of steps per unit of decay.
        decay_rate: Float, the decay rate.
        staircase: Whether to floor `step / decay_steps`.
        name: String, kept for Keras config compatibility.

    Example:

    ```python
    schedule = InverseTimeDecay(0.1, decay_steps=1.0, decay_rate=0.5)
    ```
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        ops, step = _ops(step)
        p = step / self.decay_steps
        if self.staircase:
            p = ops.floor(p)
        return self.initial_learning_rate / (1 + self.decay_rate * p)


@SCHEDULES.register("CosineDecay")
class CosineDecay(_KerasSchedule):
    """Cosine decay (SGDR without restarts), with an optional linear warmup first.

    Without `warmup_target`: `step = min(step, decay_steps)` and
    `lr = initial_learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * step / decay_steps)) + alpha)`.

    With `warmup_target`: for `step < warmup_steps` the rate goes linearly from
    `initial_learning_rate` to `warmup_target`; then it decays as above from `warmup_target`
    to `warmup_target * alpha` over `decay_steps` (the step counted from the warmup's end).

    Args:
        initial_learning_rate: Float, the rate at step 0.
        decay_steps: Positive number of steps to decay over.
        alpha: Float, the final rate as a fraction of the decayed-from rate, defaults to 0.0.
        name: String, kept for Keras config compatibility.
        warmup_target: Float or `None` (no warmup), the rate reached at the end of warmup.
        warmup_steps: Number of warmup steps, defaults to 0.

    Example:

    ```python
    schedule = CosineDecay(0.0, decay_steps=1000, warmup_target=0.1, warmup_steps=100)
    ```
    """

    _CONFIG = ("initial_learning_rate", "decay_steps", "alpha", "name", "warmup_target",
               "warmup_steps")

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        super().__init__()
        _check_steps(decay_steps)
        self._keep(locals())

    def _decay(self, ops, step, decay_from):
        cosine = 0.5 * (1.0 + ops.cos(math.pi * (step / self.decay_steps)))
        return decay_from * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        ops, step = _ops(step)
        if self.warmup_target is None:
            return self._decay(ops, ops.minimum(step, self.decay_steps),
                               self.initial_learning_rate)
        step = ops.minimum(step, self.decay_steps + self.warmup_steps)
        warmup_steps, target = self.warmup_steps, self.warmup_target
        if ops is _PyOps:
            if step < warmup_steps:
                return (target - self.initial_learning_rate) * (step / warmup_steps) + \
                    self.initial_learning_rate
            return self._decay(ops, step - warmup_steps, target)
        warm = (target - self.initial_learning_rate) * (step / max(warmup_steps, 1)) + \
            self.initial_learning_rate
        return torch.where(step < warmup_steps, warm,
                           self._decay(ops, step - warmup_steps, target))


@SCHEDULES.register("CosineDecayRestarts")
class CosineDecayRestarts(_KerasSchedule):
    """Cosine decay with warm restarts (SGDR, Loshchilov & Hutter 2016).

    The first period lasts `first_decay_steps`; each next one is `t_mul` times longer and
    starts from a rate `m_mul` times lower. Within a period, with `f` the fraction done and
    `i` the number of restarts so far:
    `lr = initial_learning_rate * ((1 - alpha) * 0.5 * m_mul**i * (1 + cos(pi * f)) + alpha)`.

    Args:
        initial_learning_rate: Float, the rate at step 0.
        first_decay_steps: Positive number of steps of the first period.
        t_mul: Float, the growth of the period length, defaults to 2.0.
        m_mul: Float, the factor on the initial rate at each restart, defaults to 1.0.
        alpha: Float, the minimum rate as a fraction of `initial_learning_rate`,
            defaults to 0.0.
        name: String, kept for Keras config compatibility.

    Example:

    ```python
    schedule = CosineDecayRestarts(0.1, first_decay_steps=1000, t_mul=2.0, m_mul=0.9)
    ```
    """

    _CONFIG = ("initial_learning_rate", "first_decay_steps", "_t_mul", "_m_mul", "alpha", "name")

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0,
                 alpha=0.0, name="SGDRDecay"):
        super().__init__()
        _check_steps(first_decay_steps, "first_decay_steps")
        self._keep(locals())

    def __call__(self, step):
        ops, step = _ops(step)
        t_mul = self._t_mul
        fraction = step / self.first_decay_steps
        if t_mul == 1.0:
            i_restart = ops.floor(fraction)
            fraction = fraction - i_restart
        else:
            # Periods grow geometrically: the i-th restart is at sum_{k<i} t_mul**k periods.
            i_restart = ops.log(1.0 - fraction * (1.0 - t_mul)) / math.log(t_mul)
            if ops is _PyOps and math.isnan(i_restart):
                return math.nan  # t_mul < 1: past the (finite) sum of all periods, as Keras
            i_restart = ops.floor(i_restart)
            sum_r = (1.0 - t_mul**i_restart) / (1.0 - t_mul)
            fraction = (fraction - sum_r) / t_mul**i_restart
        cosine = 0.5 * self._m_mul**i_restart * (1.0 + ops.cos(math.pi * fraction))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)


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
