"""The `Metric` base, `Mean`, `Sum`, `MeanMetricWrapper`, and the losses as mean metrics.

A metric is a plain Python object (not an `nn.Module`) whose state is a few device tensors,
updated in place with `add_`: no allocation of state per step, no host-device sync in
`update_state`, and `result()` returns a 0-dim tensor on the state's device, so the caller
decides when to read it. State starts on `config.device()` and follows `y_pred` if it arrives
on another device (the same tensor objects, moved in place).

kerastorch's metrics hold their state as raw tensors (`_add_state`); `metric.variables` and what
a user's `add_variable` returns are `keras.Variable`s over the same tensors.
"""

import contextlib
import functools

import torch

from kerastorch import config, losses
from kerastorch.losses import apply_mask, as_tensor, standardize_dtype
from kerastorch.losses import squeeze_or_expand_to_same_rank
from kerastorch.utils.naming import to_snake_case, uniquify
from kerastorch.utils.registry import Registry
from kerastorch.utils.registry import serialize as _serialize
from kerastorch.variables import Variable, mark_torch_layout, wrap_tensor

METRICS = Registry("metric")
# Per-sample metric functions (accuracy, ...) by name, so a wrapper's config can name its `fn`;
# the loss functions are found in `losses.LOSSES`.
FUNCTIONS = Registry("metric function")


def register(*names):
    """Register a metric class under its class name, its snake_case name and `names`."""

    def add(cls):
        return METRICS.register(cls.__name__, to_snake_case(cls.__name__), *names)(cls)

    return add


@register()
class Metric:
    """Base class of metrics: state tensors, `update_state`, `result`, `reset_state`.

    Subclasses create their state in `__init__` with `self.add_variable(...)` (a
    `keras.Variable`) and update it in `update_state` (`self.total.assign_add(...)`), as in
    Keras.

    Args:
        dtype: Dtype of the state and result (name or torch dtype); default floatx.
        name: Optional name; default the snake-cased class name.
    """

    def __init__(self, dtype=None, name=None):
        self.name = name or uniquify(to_snake_case(type(self).__name__))
        self._dtype = standardize_dtype(dtype)
        self._torch_dtype = getattr(torch, self._dtype)
        self._variables = []  # the state tensors
        self._variable_names = []
        self._handles = {}  # id(state tensor) -> its Variable
        self._device = config.device()

    def __init_subclass__(cls, **kwargs):
        # A user's `update_state` gets the device-following step that ours do inline.
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("kerastorch."):
            return
        result_fn = cls.__dict__.get("result")
        if result_fn is not None:
            @functools.wraps(result_fn)
            def result(self):  # Keras' idiom `return self.total`: a snapshot tensor
                return _detach_variables(result_fn(self))

            cls.result = result
        fn = cls.__dict__.get("update_state")
        if fn is None:
            return

        @functools.wraps(fn)
        def update_state(self, *args, **kwargs):
            for arg in args:
                if isinstance(arg, torch.Tensor):
                    self._follow(arg.device)
                    break
            return fn(self, *args, **kwargs)

        cls.update_state = update_state

    @property
    def dtype(self):
        return self._dtype

    @property
    def variables(self):
        """The state as `keras.Variable`s (over the state tensors), in creation order."""
        return [self._handle(t, n) for t, n in zip(self._state_tensors(), self._variable_names)]

    def _state_tensors(self) -> list:
        """The state tensors themselves, up to date (what distributed reduction sums)."""
        return list(self._variables)

    def _handle(self, tensor, name):
        var = self._handles.get(id(tensor))
        if var is None or var._store["value"] is not tensor:
            var = self._handles[id(tensor)] = wrap_tensor(
                tensor, name, f"{self.name.replace('/', '>')}/{name}")
        return var

    def add_variable(self, shape, initializer="zeros", dtype=None, aggregation="sum",
                     name=None):
        """Create a state variable on the metric's device (Keras' API): a `keras.Variable`,
        updated with `assign`/`assign_add`.

        Args:
            shape: Tuple of ints.
            initializer: `"zeros"`, `"ones"`, a number, or a callable `(shape, dtype)`.
            dtype: Default: the metric's dtype.
            aggregation: Accepted for Keras compatibility (single-process: unused).
            name: The variable's name; default `variable` (made unique).
        """
        name = name or uniquify("variable")
        return self._handle(self._add_state(shape, initializer, dtype, name), name)

    def _add_state(self, shape, initializer="zeros", dtype=None, name=None):
        """`add_variable` for kerastorch's metrics: returns the state tensor itself, updated in
        place with `add_` (no Variable on the update path)."""
        dtype = self._torch_dtype if dtype is None else getattr(torch, standardize_dtype(dtype))
        if initializer in ("zeros", None):
            value = torch.zeros(shape, dtype=dtype, device=self._device)
        elif initializer == "ones":
            value = torch.ones(shape, dtype=dtype, device=self._device)
        elif isinstance(initializer, (int, float)):
            value = torch.full(shape, initializer, dtype=dtype, device=self._device)
        elif callable(initializer):
            value = as_tensor(initializer(shape, dtype=dtype), dtype, self._device).clone()
        else:
            raise ValueError("`initializer` must be 'zeros', 'ones', a number or a callable. "
                             f"Received: initializer={initializer!r}")
        self._variables.append(value)
        self._variable_names.append(name or "variable")
        return value

    def add_weight(self, shape=(), initializer=None, dtype=None, name=None):
        """Alias of `add_variable` (Keras keeps it for backward compatibility)."""
        return self.add_variable(shape, initializer, dtype=dtype, name=name)

    # ------------------------------------------------------------------ stateless
    @contextlib.contextmanager
    def _stateless(self, metric_variables=None):
        """Run the block on `metric_variables` (or the current state); yields a list that
        receives the state after the block; the metric's own state is restored afterwards."""
        tensors = self._state_tensors()
        if metric_variables is not None and len(metric_variables) != len(tensors):
            raise ValueError("Argument `metric_variables` must be a list of tensors "
                             f"corresponding 1:1 to {type(self).__name__}().variables. Received "
                             f"list with length {len(metric_variables)}, but expected "
                             f"{len(tensors)} variables.")
        saved = [t.detach().clone() for t in tensors]
        out = []
        try:
            with torch.no_grad():
                if metric_variables is not None:
                    for var, t, value in zip(self.variables, tensors, metric_variables):
                        t.copy_(var._to_value_layout(value, "metric variable"))
            yield out
            out.extend(mark_torch_layout(t.detach().clone()) for t in self._state_tensors())
        finally:
            with torch.no_grad():
                for t, value in zip(tensors, saved):
                    t.copy_(value.to(t.device))

    def stateless_update_state(self, metric_variables, *args, **kwargs):
        """`update_state` on the values `metric_variables` (aligned with `variables`); returns
        the new values (tensors) and leaves the metric's own state unchanged."""
        with self._stateless(metric_variables) as new_values:
            self.update_state(*args, **kwargs)
        return new_values

    def stateless_result(self, metric_variables):
        """`result()` computed from the values `metric_variables` instead of the state."""
        with self._stateless(metric_variables):
            return _detach_variables(self.result())

    def stateless_reset_state(self):
        """The values `reset_state()` would give the variables; the state is unchanged."""
        with self._stateless() as new_values:
            self.reset_state()
        return new_values

    def _follow(self, device):
        """Move the state, in place, to `device` when the data lives elsewhere."""
        if device != self._device:
            for v in self._variables:
                v.data = v.data.to(device)  # same tensor objects: attributes stay valid
            self._device = device

    def _place(self, x):
        """`x` as a detached tensor beside the state (metrics never record gradients)."""
        if isinstance(x, torch.Tensor):
            if x.device != self._device:
                self._follow(x.device)
            return x.detach() if x.requires_grad else x
        return config.to_tensor(x, device_=self._device)

    def update_state(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement update_state().")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__} must implement result().")

    def reset_state(self):
        """Zero every state tensor in place (as Keras' base class does)."""
        for v in self._variables:
            v.zero_()

    def __call__(self, *args, **kwargs):
        """`update_state(...)`, then `result()`."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def _detach_variables(result):
    """A result with each `Variable` replaced by a snapshot tensor of its value."""
    if isinstance(result, Variable):
        return result._keras_detached().clone()
    if isinstance(result, dict):
        return {k: _detach_variables(v) for k, v in result.items()}
    if isinstance(result, (list, tuple)):
        return type(result)(_detach_variables(v) for v in result)
    return result


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype):
    """Keras' per-sample reduction: weights broadcast like losses', values reduced to the
    weights' rank with `reduce_fn`, then to one value per sample (axis 0)."""
    mask = getattr(values, "_keras_mask", None)
    values = values.to(dtype)
    if sample_weight is not None:
        sample_weight = as_tensor(sample_weight, dtype, values.device)
        sample_weight = apply_mask(sample_weight, mask, dtype, reduction="sum")
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        weight_ndim, values_ndim = sample_weight.ndim, values.ndim
        if values_ndim > weight_ndim:
            values = reduce_fn(values, dim=tuple(range(weight_ndim, values_ndim)))
        # Keras broadcasts the weights to the values' shape first: a `(1,)` weight then counts
        # once per sample in `Mean`'s count, not once per batch.
        sample_weight = torch.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if weight_ndim > 1:
            sample_weight = reduce_fn(sample_weight, dim=tuple(range(1, weight_ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, dim=tuple(range(1, values.ndim)))
    return values, sample_weight


@register()
class Sum(Metric):
    """The (weighted) sum of the values seen: `[1, 3, 5, 7]` gives 16."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self._add_state((), "zeros", name="total")

    def update_state(self, values, sample_weight=None):
        values, _ = reduce_to_samplewise_values(self._place(values), sample_weight, torch.sum,
                                                self._torch_dtype)
        self.total.add_(values.sum())

    def result(self):
        return self.total.clone()  # a snapshot: the state keeps changing in place


_FLUSH_EVERY = 512


@register()
class Mean(Metric):
    """The (weighted) mean of the values seen: `total / count`, 0 before any update.

    With `sample_weight`, `count` grows by the sum of the weights; without, by the number of
    samples (values are first averaged down to one per sample).
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self._add_state((), "zeros", name="total")
        self.count = self._add_state((), "zeros", name="count")
        # Per-batch totals and counts wait on the host side (a list of 0-dim device tensors,
        # Python counts) and join the state when it is read or every `_FLUSH_EVERY` updates:
        # one stacked sum then, instead of two kernel launches per batch.
        self._host_count = 0
        self._pending = []

    def update_state(self, values, sample_weight=None):
        self._accumulate(self._place(values), sample_weight)

    def _flush_count(self):
        if self._host_count:
            self.count.add_(self._host_count)
            self._host_count = 0
        if self._pending:
            values = torch.stack([v for v, _ in self._pending])
            weights = [w for _, w in self._pending]
            if all(w == 1 for w in weights):
                self.total.add_(values.sum())
            else:
                # mul + sum, not torch.dot: MKL's dot rounds differently with the alignment
                self.total.add_((values * torch.tensor(weights, dtype=values.dtype,
                                                       device=values.device)).sum())
            self._pending = []

    def _defer(self, value, weight=1):
        self._pending.append((value, weight))
        if len(self._pending) >= _FLUSH_EVERY:
            self._flush_count()

    def _state_tensors(self):
        self._flush_count()
        return super()._state_tensors()

    def reset_state(self):
        self._host_count = 0
        self._pending = []
        super().reset_state()

    def _accumulate(self, values, sample_weight):
        if sample_weight is None and values.ndim == 1:  # the per-batch hot path
            self._defer(values.sum(dtype=self._torch_dtype))  # bool values: no cast kernel
            self._host_count += values.shape[0]
            return
        if isinstance(sample_weight, (int, float)) and getattr(values, "_keras_mask", None) is None:
            # A Python weight (e.g. the batch size when tracking the loss): Keras averages the
            # values down to one and weights it; no weight tensor is built or uploaded.
            if values.dtype != self._torch_dtype:
                values = values.to(self._torch_dtype)
            self._defer(values if values.ndim == 0 else values.mean(), sample_weight)
            self._host_count += sample_weight
            return
        values, sample_weight = reduce_to_samplewise_values(values, sample_weight, torch.mean,
                                                            self._torch_dtype)
        self.total.add_(values.sum())
        if sample_weight is not None:
            self.count.add_(sample_weight.sum())
        else:
            self.count.add_(values.shape[0] if values.ndim else 1)

    def result(self):
        self._flush_count()
        # Keras' divide_no_nan; no gradient flows here, so the cheap form is safe.
        return torch.where(self.count == 0, 0.0, self.total / self.count)


@register()
class MeanMetricWrapper(Mean):
    """The running mean of a per-sample function `fn(y_true, y_pred, **kwargs)`.

    Args:
        fn: Per-sample function, e.g. `losses.mean_squared_error`.
        name: Optional name.
        dtype: Optional state dtype.
        **kwargs: Passed to `fn` on every call.
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs
        self._values_fn = fn  # subclasses may compute the same values as bools (no cast)
        if isinstance(fn, losses.Loss) or getattr(fn, "__module__", None) == losses.__name__:
            self._direction = "down"  # a loss: smaller is better (EarlyStopping mode="auto")

    def update_state(self, y_true, y_pred, sample_weight=None):
        if (sample_weight is None and type(y_pred) is torch.Tensor
                and type(y_true) is torch.Tensor and not y_pred.requires_grad
                and y_pred.device == self._device and "_keras_mask" not in y_pred.__dict__):
            # The per-batch hot path (unweighted, unmasked, state beside the data).
            values = self._values_fn(y_true, y_pred, **self._fn_kwargs)
            if values.ndim == 1:
                self._defer(values.sum(dtype=self._torch_dtype))
                self._host_count += values.shape[0]
                return
            self._accumulate(values, None)
            return
        mask = getattr(y_pred, "_keras_mask", None)
        y_pred = self._place(y_pred)
        values = self._values_fn(as_tensor(y_true, device=y_pred.device), y_pred,
                                 **self._fn_kwargs)
        if mask is not None:  # the output's mask (masking layers) weights the samples
            if sample_weight is not None:
                sample_weight = as_tensor(sample_weight, self._torch_dtype, y_pred.device)
            sample_weight = apply_mask(sample_weight, mask, self._torch_dtype, "sum")
        self._accumulate(values, sample_weight)

    def get_config(self):
        return {**super().get_config(), "fn": _serialize(self._fn), **self._fn_kwargs}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        fn = config.get("fn")
        if isinstance(fn, dict) and fn.get("class_name") == "function":
            fn = fn["config"]
        if isinstance(fn, str):
            fn = FUNCTIONS.lookup(fn) if fn in FUNCTIONS else losses.LOSSES.get(fn)
        return cls(**{**config, "fn": fn}) if "fn" in config else cls(**config)


# ------------------------------------------------------------------ the losses as mean metrics
class _LossMetric(MeanMetricWrapper):
    _fn_of = None  # the per-sample loss function
    _config_keys = ()

    def __init__(self, name=None, dtype=None, **kwargs):
        super().__init__(type(self)._fn_of, name=name, dtype=dtype, **kwargs)
        for key in self._config_keys:
            setattr(self, key, kwargs[key])
        self._direction = "down"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype,
                **{key: getattr(self, key) for key in self._config_keys}}


@register("mse", "MSE")
class MeanSquaredError(_LossMetric):
    """Running mean of `losses.mean_squared_error`."""

    _fn_of = staticmethod(losses.mean_squared_error)

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)


@register("mae", "MAE")
class MeanAbsoluteError(_LossMetric):
    """Running mean of `losses.mean_absolute_error`."""

    _fn_of = staticmethod(losses.mean_absolute_error)

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(name=name, dtype=dtype)


@register("bce", "BCE")
class BinaryCrossentropy(_LossMetric):
    """Running mean of `losses.binary_crossentropy`."""

    _fn_of = staticmethod(losses.binary_crossentropy)
    _config_keys = ("from_logits", "label_smoothing")

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0):
        super().__init__(name=name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)


@register()
class CategoricalCrossentropy(_LossMetric):
    """Running mean of `losses.categorical_crossentropy`."""

    _fn_of = staticmethod(losses.categorical_crossentropy)
    _config_keys = ("from_logits", "label_smoothing", "axis")

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0, axis=-1):
        super().__init__(name=name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


@register()
class SparseCategoricalCrossentropy(_LossMetric):
    """Running mean of `losses.sparse_categorical_crossentropy`. As in Keras, without
    `sample_weight` the `ignore_class` entries count (as 0) in the mean; with it they don't."""

    _fn_of = staticmethod(losses.sparse_categorical_crossentropy)
    _config_keys = ("from_logits", "ignore_class", "axis")

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False,
                 ignore_class=None, axis=-1):
        super().__init__(name=name, dtype=dtype, from_logits=from_logits,
                         ignore_class=ignore_class, axis=axis)


def resolve_crossentropy(name, y_true, y_pred):
    """`metrics=["crossentropy"]` (or `"ce"`): the binary, sparse or categorical crossentropy
    metric by the same shape rule as `resolve_accuracy`, named `name`. Keras' `metrics.get`
    knows no such name; this mirrors what `loss="crossentropy"` does."""
    if str(name).lower() not in ("crossentropy", "ce"):
        raise ValueError(f"Expected 'crossentropy' or 'ce'. Received: name={name!r}")
    cls = {"binary": BinaryCrossentropy, "sparse": SparseCategoricalCrossentropy,
           "categorical": CategoricalCrossentropy}[losses.target_kind(y_true, y_pred)]
    return cls(name=str(name))
