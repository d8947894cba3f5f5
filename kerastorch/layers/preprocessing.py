"""Preprocessing layers for numbers and categories: `Rescaling`, `Normalization`,
`CategoryEncoding`, `Discretization`. Image layers live in `preprocessing_image/`.

Keras runs these on its backend (or inside `tf.data`); here they are plain torch ops on the
input's device. `adapt()` statistics are computed exactly as Keras computes them (numpy input ->
numpy, tensors and batches -> torch), so adapted layers give Keras' numbers.
"""

import itertools
import math

import numpy as np
import torch

from kerastorch import config
from kerastorch.layers.layer import Layer, WeightView

__all__ = ["Rescaling", "Normalization", "CategoryEncoding", "Discretization"]

_OUTPUT_MODES = ("multi_hot", "one_hot", "count")


def _compute_dtype(layer) -> torch.dtype:
    dtype = getattr(torch, str(layer.dtype), None)
    return dtype if isinstance(dtype, torch.dtype) and dtype.is_floating_point \
        else config.float_dtype()


def _serialize_value(value):
    """Keras' `serialize_keras_object` for numbers, lists and numpy arrays."""
    if isinstance(value, np.ndarray):
        return {"class_name": "__numpy__",
                "config": {"value": value.tolist(), "dtype": str(value.dtype)}}
    if isinstance(value, torch.Tensor):
        return _serialize_value(value.detach().cpu().numpy())
    return value


def _deserialize_value(value):
    if isinstance(value, dict) and value.get("class_name") == "__numpy__":
        return np.asarray(value["config"]["value"], dtype=value["config"]["dtype"])
    return value


class Rescaling(Layer):
    """Multiplies inputs by `scale` and adds `offset`: `inputs * scale + offset`, in floats.

    Args:
        scale: Float, or an array (per channel: last axis for channels_last, broadcast over
            (H, W) for channels_first), e.g. `1 / 255`.
        offset: Float or array added after scaling, e.g. `-1` with `scale=1 / 127.5`.

    Integer inputs (e.g. uint8 images) are cast to the layer's float dtype first.
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        for arg, value in (("scale", scale), ("offset", offset)):
            if isinstance(value, str) or value is None:
                raise ValueError(f"`{arg}` must be a number or an array of numbers. "
                                 f"Received: {arg}={value!r}")
        self.scale = scale
        self.offset = offset
        self.supports_masking = True
        self.built = True
        self._consts = {}  # (device, dtype) -> (scale, offset) tensors, made once

    def _constants(self, like: torch.Tensor):
        channels_first = config.image_data_format() == "channels_first"
        key = (like.device, like.dtype, channels_first)
        found = self._consts.get(key)
        if found is None:
            found = []
            for value in (self.scale, self.offset):
                if np.ndim(value) == 0:
                    found.append(float(np.asarray(value)))
                    continue
                t = torch.as_tensor(np.asarray(value), dtype=like.dtype, device=like.device)
                if t.ndim and channels_first:
                    t = t.reshape(*t.shape, *(1,) * (3 - t.ndim))  # (C,) -> (C, 1, 1)
                found.append(t)
            self._consts[key] = found = tuple(found)
        return found

    def call(self, inputs):
        x = inputs.to(_compute_dtype(self))
        scale, offset = self._constants(x)
        return x * scale + offset

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "scale": _serialize_value(self.scale),
                "offset": _serialize_value(self.offset)}

    @classmethod
    def from_config(cls, config_):
        config_ = dict(config_)
        config_["scale"] = _deserialize_value(config_["scale"])
        config_["offset"] = _deserialize_value(config_.get("offset", 0.0))
        return super().from_config(config_)


class Normalization(Layer):
    """Shifts and scales inputs to zero mean and unit variance per index of `axis`:
    `(inputs - mean) / max(sqrt(variance), epsilon)` (`epsilon` = `config.epsilon()`, 1e-7).

    Args:
        axis: Int, tuple of ints, or None: the axes that keep a separate mean and variance
            (default -1, the features). `None` = one scalar mean and variance.
        mean, variance: Fixed values (broadcast to the kept axes); give both or neither. Without
            them, call `adapt(data)` first.
        invert: Apply the inverse, `mean + inputs * max(sqrt(variance), epsilon)`.

    State: buffers `mean`, `variance` with the kept axes' shape (Keras' `mean`/`variance`
    weights) and `count` (an int32 scalar Keras keeps for old saved models; `adapt` leaves it 0).
    With fixed `mean`/`variance` the buffers hold those values and Keras' weight list is empty.
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, int) and not isinstance(axis, bool):
            axis = (axis,)
        elif isinstance(axis, (tuple, list)) and all(isinstance(a, int) for a in axis):
            axis = tuple(axis)
        else:
            raise ValueError("`axis` must be an int, a tuple of ints or None. "
                             f"Received: axis={axis!r}")
        self.axis = axis
        self.input_mean = mean
        self.input_variance = variance
        self.invert = bool(invert)
        self.supports_masking = True
        if (mean is not None) != (variance is not None):
            raise ValueError("When setting values directly, both `mean` and `variance` must be "
                             f"set. Received: mean={mean} and variance={variance}")
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError("When setting values directly, `mean` and `variance` must have "
                                 f"the same shape. Received: mean shape {np.shape(mean)} and "
                                 f"variance shape {np.shape(variance)}")
            if len(np.shape(mean)) > len(self.axis):
                raise ValueError("The rank of `mean` must be less than or equal to the number "
                                 f"of axes ({len(self.axis)}). Received: mean shape "
                                 f"{np.shape(mean)} for axis {self.axis}")

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(f"Layer '{self.name}' (Normalization): all `axis` values must be in "
                             f"the range [-ndim, ndim). Received inputs with ndim={ndim}, while "
                             f"axis={self.axis}")
        self._keep_axis = tuple(sorted(d % ndim for d in self.axis))
        for d in self._keep_axis:
            if input_shape[d] is None:
                raise ValueError(f"Layer '{self.name}' (Normalization): all `axis` values to be "
                                 f"kept must have a known shape. Received axis={self.axis}, "
                                 f"inputs.shape={input_shape}, with unknown axis at index {d}")
        self._reduce_axis = tuple(d for d in range(ndim) if d not in self._keep_axis)
        self._broadcast_shape = tuple(input_shape[d] if d in self._keep_axis else 1
                                      for d in range(ndim))
        self._mean_and_var_shape = tuple(input_shape[d] for d in self._keep_axis)
        self._build_input_shape = input_shape
        shape = self._mean_and_var_shape
        if self.input_mean is None:
            mean, variance = torch.zeros(shape), torch.ones(shape)
        else:
            mean = self._kept_values(self.input_mean)
            variance = self._kept_values(self.input_variance)
        dtype = _compute_dtype(self)
        self.register_buffer("mean", mean.to(dtype))
        self.register_buffer("variance", variance.to(dtype))
        self.register_buffer("count", torch.zeros((), dtype=torch.int32))
        self.built = True

    def _kept_values(self, value) -> torch.Tensor:
        """A fixed mean/variance broadcast to the kept axes, aligned right to left (Keras)."""
        value = torch.as_tensor(np.asarray(value, dtype=np.float64))
        shape = self._mean_and_var_shape
        try:
            if value.ndim:
                value = value.reshape(*(1,) * (len(shape) - value.ndim), *value.shape)
            return value.broadcast_to(shape).clone()
        except RuntimeError as err:
            raise ValueError(f"Layer '{self.name}' (Normalization): `mean`/`variance` of shape "
                             f"{tuple(np.shape(self.input_mean))} cannot be broadcast to the kept "
                             f"axes' shape {shape}.") from err

    def call(self, inputs):
        x = inputs.to(_compute_dtype(self))
        mean = self.mean.reshape(self._broadcast_shape)
        std = torch.sqrt(self.variance).clamp_min(config.epsilon()).reshape(self._broadcast_shape)
        if self.invert:
            return mean + x * std
        return (x - mean) / std

    def adapt(self, data):
        """Compute `mean` and `variance` over `data`: a numpy array, a tensor, or an iterable of
        batches (arrays, tensors, or `(x, y)` tuples, e.g. a `DataLoader`).

        Arrays and tensors give `np.mean`/`np.var` (torch.mean/var) over the reduced axes;
        batches are merged with Keras' running formula."""
        if isinstance(data, (np.ndarray, torch.Tensor)):
            input_shape = tuple(data.shape)
            batches = None
        elif hasattr(data, "__iter__"):
            it = iter(data)
            first = next(it, None)
            if first is None:
                raise ValueError("adapt() received an empty iterable (no batches). Pass a "
                                 "non-empty iterable of arrays or tensors.")
            first = _extract_batch(first)
            if getattr(first, "shape", None) is None:
                raise TypeError("adapt() expects an iterable that yields arrays or tensors. Got "
                                f"an element of type {type(first).__name__}.")
            input_shape = tuple(first.shape)
            batches = itertools.chain([first], it)
        else:
            raise TypeError(f"Unsupported data type: {type(data)}. `adapt` supports numpy "
                            "arrays, tensors and iterables of batches.")
        if not self.built:
            self.build(input_shape)
            self._build_shapes = (None, *input_shape[1:])
        else:
            for d in self._keep_axis:
                if input_shape[d] != self._build_input_shape[d]:
                    raise ValueError(f"Layer '{self.name}' (Normalization) was built with "
                                     f"input_shape={self._build_input_shape}, but adapt() is "
                                     f"being called with data of an incompatible shape, "
                                     f"data.shape={input_shape}")
        axes = self._reduce_axis
        if isinstance(data, np.ndarray):
            mean, var = np.mean(data, axis=axes), np.var(data, axis=axes)
        elif isinstance(data, torch.Tensor):
            data = data.detach().to(_compute_dtype(self))
            mean = torch.mean(data, dim=axes) if axes else data
            var = torch.var(data, dim=axes, unbiased=False) if axes else torch.zeros_like(data)
        else:
            mean, var = self._merge_batches(batches)
        with torch.no_grad():
            self.mean.copy_(torch.as_tensor(np.asarray(mean) if not isinstance(mean, torch.Tensor)
                                            else mean).reshape(self.mean.shape))
            self.variance.copy_(torch.as_tensor(np.asarray(var) if not isinstance(var, torch.Tensor)
                                                else var).reshape(self.variance.shape))

    def _merge_batches(self, batches):
        """Keras' running mean/variance over batches (lack-of-fit sum of squares)."""
        dtype = _compute_dtype(self)
        total_mean = torch.zeros(self._mean_and_var_shape, dtype=dtype)
        total_var = torch.zeros(self._mean_and_var_shape, dtype=dtype)
        total_count = 0
        for batch in batches:
            batch = _extract_batch(batch)
            batch = torch.as_tensor(batch.detach().cpu() if isinstance(batch, torch.Tensor)
                                    else np.asarray(batch)).to(dtype)
            for d in self._keep_axis:
                if batch.shape[d] != self._build_input_shape[d]:
                    raise ValueError(f"adapt() yielded a batch with incompatible shape. Expected "
                                     f"{self._build_input_shape}, got {tuple(batch.shape)}.")
            axes = self._reduce_axis
            if axes:
                batch_mean = torch.mean(batch, dim=axes)
                batch_var = torch.var(batch, dim=axes, unbiased=False)
                batch_count = math.prod(batch.shape[d] for d in axes)
            else:
                batch_mean, batch_var, batch_count = batch, torch.zeros_like(batch), 1
            total_count += batch_count
            batch_weight = float(batch_count) / total_count
            existing_weight = 1.0 - batch_weight
            new_mean = total_mean * existing_weight + batch_mean * batch_weight
            total_var = ((total_var + (total_mean - new_mean) ** 2) * existing_weight
                         + (batch_var + (batch_mean - new_mean) ** 2) * batch_weight)
            total_mean = new_mean
        return total_mean, total_var

    def keras_weight_views(self):
        if not self.built or self.input_mean is not None:
            return []  # Keras keeps fixed mean/variance as constants, not weights
        return [WeightView("mean", self.mean), WeightView("variance", self.variance),
                WeightView("count", self.count)]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "invert": self.invert,
                "mean": np.array(self.input_mean).tolist(),
                "variance": np.array(self.input_variance).tolist()}


def _extract_batch(batch):
    """`x` of an `(x, y)` or `(x, y, sample_weight)` batch."""
    return batch[0] if isinstance(batch, tuple) else batch


def encode_categorical(inputs, output_mode, depth, dtype, count_weights=None):
    """Keras' `encode_categorical_inputs` for dense outputs.

    `one_hot` adds a `depth` axis (dropping a trailing axis of 1); `multi_hot` and `count`
    reduce axis 1 (axis 0 for rank-1 inputs). Values outside `[0, depth)` encode as zeros.
    multi_hot casts to integers first (1.7 -> 1); one_hot and count compare values exactly."""
    if output_mode == "int":
        return inputs.to(dtype)
    if inputs.ndim == 0:
        inputs = inputs.reshape(1)
    if output_mode == "one_hot":
        if inputs.ndim > 1 and inputs.shape[-1] == 1:
            inputs = inputs.squeeze(-1)
        classes = torch.arange(depth, device=inputs.device,
                               dtype=inputs.dtype if inputs.is_floating_point() else torch.int64)
        return (inputs.unsqueeze(-1) == classes).to(dtype)
    if output_mode == "multi_hot":
        inputs = inputs.to(torch.int32)
    if count_weights is not None:
        dtype = count_weights.dtype
    # Reduce axis 1 (0 for rank 1) with a scatter along the last axis: no one-hot tensor.
    reduction_axis = 1 if inputs.ndim > 1 else 0
    x = inputs.movedim(reduction_axis, -1)
    valid = (x >= 0) & (x < depth)
    if inputs.is_floating_point():
        valid &= x == torch.trunc(x)
    index = torch.where(valid, x, torch.zeros((), dtype=x.dtype, device=x.device)).long()
    src = valid.to(dtype)
    if count_weights is not None:
        src = src * count_weights.to(dtype).movedim(reduction_axis, -1)
    out = torch.zeros(*x.shape[:-1], depth, dtype=dtype, device=x.device)
    out.scatter_add_(-1, index, src)
    if output_mode == "multi_hot":
        out = (out > 0).to(dtype)
    return out


class CategoryEncoding(Layer):
    """Encodes integer category ids as dense vectors of size `num_tokens`.

    Args:
        num_tokens: Number of categories; inputs are ids in `[0, num_tokens)`.
        output_mode: `"multi_hot"` (1 for each id present in a sample; `"binary"` is an alias),
            `"one_hot"` (one vector per id) or `"count"` (occurrences, or summed `count_weights`).
        sparse: Must be False (kerastorch has no sparse outputs).

    Input shape: `(batch, ids)` (or `(ids,)`); multi_hot/count reduce axis 1, one_hot adds an
    axis (a trailing axis of 1 is dropped). Call with `count_weights=` (same shape as inputs) in
    count mode to sum weights instead of ones.
    """

    _convert_input_args = False  # as in Keras: ids stay as they come

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in _OUTPUT_MODES:
            raise ValueError(f"Unknown value for `output_mode`: expected one of {_OUTPUT_MODES}. "
                             f"Received: output_mode={output_mode!r}")
        if num_tokens is None:
            raise ValueError("`num_tokens` must be set to use this layer. If the number of tokens "
                             "is not known beforehand, use the IntegerLookup layer instead. "
                             "Received: num_tokens=None")
        if isinstance(num_tokens, bool) or not isinstance(num_tokens, (int, np.integer)) \
                or num_tokens < 1:
            raise ValueError(f"`num_tokens` must be an integer >= 1. "
                             f"Received: num_tokens={num_tokens!r}")
        if sparse:
            raise ValueError("kerastorch has no sparse tensors: CategoryEncoding needs "
                             "sparse=False. Received: sparse=True")
        self.num_tokens = int(num_tokens)
        self.output_mode = output_mode
        self.sparse = False
        self.built = True

    def call(self, inputs, count_weights=None):
        if count_weights is not None:
            if self.output_mode != "count":
                raise ValueError("`count_weights` is not used when `output_mode` is not "
                                 f"'count'. Received: count_weights={count_weights}")
            count_weights = torch.as_tensor(count_weights, device=inputs.device).to(
                _compute_dtype(self))
            if count_weights.shape != inputs.shape:
                raise ValueError(f"Layer '{self.name}' (CategoryEncoding): `count_weights` must "
                                 f"have the inputs' shape {tuple(inputs.shape)}. Received: "
                                 f"count_weights.shape={tuple(count_weights.shape)}")
        return encode_categorical(inputs, self.output_mode, self.num_tokens,
                                  _compute_dtype(self), count_weights)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if not input_shape:
            return (self.num_tokens,)
        if self.output_mode == "one_hot":
            if input_shape[-1] != 1 or len(input_shape) == 1:
                return (*input_shape, self.num_tokens)
            return (*input_shape[:-1], self.num_tokens)
        return (*input_shape[:-1], self.num_tokens)

    def get_config(self):
        return {**super().get_config(), "num_tokens": self.num_tokens,
                "output_mode": self.output_mode}


class Discretization(Layer):
    """Buckets continuous values by boundaries: bucket `i` holds `bins[i-1] <= x < bins[i]`.

    Args:
        bin_boundaries: Sorted list of boundaries (n boundaries -> n + 1 buckets); or
        num_bins: Number of buckets, boundaries learned by `adapt(data)` (approximate
            quantiles, Keras' algorithm: same boundaries as Keras).
        epsilon: Error tolerance of the quantile sketch used by `adapt` (default 0.01).
        output_mode: `"int"` (int32 bucket ids, same shape), `"one_hot"`, `"multi_hot"` or
            `"count"` (see `CategoryEncoding`).
        sparse: Must be False.

    State: none in Keras' weight list; the boundaries are a plain list attribute.
    """

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int",
                 sparse=False, dtype=None, name=None, **kwargs):
        super().__init__(dtype=dtype, name=name, **kwargs)
        if sparse:
            raise ValueError("kerastorch has no sparse tensors: Discretization needs "
                             "sparse=False. Received: sparse=True")
        if output_mode not in ("int", *_OUTPUT_MODES):
            raise ValueError("Unknown value for `output_mode`: expected one of "
                             f"{('int', *_OUTPUT_MODES)}. Received: output_mode={output_mode!r}")
        if num_bins is not None and num_bins < 0:
            raise ValueError("`num_bins` must be greater than or equal to 0. "
                             f"Received: num_bins={num_bins}")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError("Both `num_bins` and `bin_boundaries` should not be set. Received: "
                             f"num_bins={num_bins} and bin_boundaries={bin_boundaries}")
        if num_bins is None and bin_boundaries is None:
            raise ValueError("You need to set either `num_bins` or `bin_boundaries`. "
                             "Received: num_bins=None and bin_boundaries=None")
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = False
        self.bin_boundaries = bin_boundaries
        self.summary = None if bin_boundaries else np.array([[], []], dtype="float32")
        self.built = True

    @property
    def bin_boundaries(self):
        return self._bin_boundaries

    @bin_boundaries.setter
    def bin_boundaries(self, value):
        self._bin_boundaries = None if value is None else [float(b) for b in value]
        self._boundary_tensors = {}  # device -> float32 tensor of the boundaries

    def adapt(self, data, steps=None):
        """Learn `num_bins` bucket boundaries from `data` (array, tensor or iterable of
        batches; at most `steps` batches)."""
        if self.num_bins is None:
            raise ValueError("Cannot adapt a Discretization layer that has been initialized "
                             "with `bin_boundaries`, use `num_bins` instead.")
        self.reset_state()
        if isinstance(data, (np.ndarray, torch.Tensor)) or not hasattr(data, "__iter__"):
            self.update_state(data)
        else:
            for i, batch in enumerate(data):
                if steps is not None and i >= steps:
                    break
                self.update_state(batch)
        self.finalize_state()

    def update_state(self, data):
        if isinstance(data, torch.Tensor):
            data = data.detach().cpu().numpy()
        data = np.array(data).astype("float32")
        summary = _summarize(data, self.epsilon)
        self.summary = _merge_summaries(summary, self.summary, self.epsilon)

    def finalize_state(self):
        if self.num_bins is not None:
            self.bin_boundaries = _get_bin_boundaries(self.summary, self.num_bins).tolist()

    def reset_state(self):
        if self.num_bins is not None:
            self.summary = np.array([[], []], dtype="float32")

    def _boundaries(self, device) -> torch.Tensor:
        found = self._boundary_tensors.get(device)
        if found is None:
            found = torch.tensor(self._bin_boundaries, dtype=torch.float32, device=device)
            self._boundary_tensors[device] = found
        return found

    def call(self, inputs):
        if self._bin_boundaries is None:
            raise ValueError("You need to either pass the `bin_boundaries` argument at "
                             "construction time or call `adapt(dataset)` before you can start "
                             f"using the `Discretization` layer '{self.name}'.")
        x = inputs.to(torch.float32)
        # jnp.digitize(x, bins) (Keras) = torch.bucketize(x, bins, right=True).
        indices = torch.bucketize(x, self._boundaries(x.device), right=True, out_int32=True)
        if self.output_mode == "int":
            return indices
        return encode_categorical(indices, self.output_mode, len(self._bin_boundaries) + 1,
                                  _compute_dtype(self))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        depth = len(self._bin_boundaries) + 1 if self._bin_boundaries is not None \
            else self.num_bins
        if self.output_mode == "one_hot":
            if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
                return (*input_shape[:-1], depth)
            return (*input_shape, depth)
        if len(input_shape) >= 2:
            return (input_shape[0], *input_shape[2:], depth)
        return (depth,)

    def get_config(self):
        return {"bin_boundaries": self.bin_boundaries, "num_bins": self.num_bins,
                "epsilon": self.epsilon, "output_mode": self.output_mode, "sparse": self.sparse,
                "name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config_):
        config_ = dict(config_)
        if isinstance(config_.get("dtype"), dict):
            config_["dtype"] = config_["dtype"].get("config", {}).get("name")
        config_.pop("trainable", None)
        if config_.get("bin_boundaries") is not None and config_.get("num_bins") is not None:
            bin_boundaries = config_.pop("bin_boundaries")
            layer = cls(**config_)
            layer.bin_boundaries = bin_boundaries
            return layer
        return cls(**config_)


# Discretization.adapt's quantile sketch, computed as Keras computes it (numpy, on the host,
# the same float operations in the same order) so the boundaries equal Keras' to the last bit.
# A summary is a (2, n) array: sorted values and the weight (count) each one stands for.
def _summarize(values, epsilon):
    """One batch's summary: every `step`-th sorted value, each weighing `step`."""
    ordered = np.sort(np.ravel(values))
    step = max(ordered.size / (1.0 / epsilon), 1)  # samples per bucket of width epsilon
    picked = ordered[int(step - 1)::int(step)]
    return np.stack([picked, np.ones_like(picked) * step])


def _merge_summaries(prev_summary, next_summary, epsilon):
    merged = np.concatenate((prev_summary, next_summary), axis=1)
    merged = np.take(merged, np.argsort(merged[0]), axis=1)
    return _compress_summary(merged, epsilon)


def _get_bin_boundaries(summary, num_bins):
    return _compress_summary(summary, 1.0 / num_bins)[0, :-1]


def _compress_summary(summary, epsilon):
    """The summary resampled at the cumulative fractions epsilon, 2 epsilon, ... (left as it is
    when it already has fewer than 1 / epsilon entries)."""
    if summary.shape[1] * epsilon < 1:
        return summary
    targets = epsilon + np.arange(0.0, 1.0, epsilon)
    running = np.cumsum(summary[1])
    fraction = running / running[-1]
    values = np.interp(targets, fraction, summary[0])
    running_at = np.interp(targets, fraction, running)
    return np.stack((values, np.diff(running_at, prepend=0))).astype("float32")
