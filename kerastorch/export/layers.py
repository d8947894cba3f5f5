"""Per-layer translations: Keras layer -> torch steps (see `steps.py`).

Each translator takes `(layer, shape, layout)` — the Keras input shape (batch first, `None` for
the batch) and the layout the input arrives in — and returns `(steps, layout_out)`. Only exact
kerastorch classes are translated (a user subclass may override `call`).
"""

from kerastorch import layers as L
from kerastorch.export.steps import (FIRST, LAST, Step, Unsupported, activation_name,
                                     activation_steps, permute_step)

TRANSLATORS = {}


def translator(*classes):
    def add(fn):
        for cls in classes:
            TRANSLATORS[cls] = fn
        return fn
    return add


def translate(layer, shape, layout):
    """(steps, layout) of `layer` on an input of Keras `shape` arriving in `layout`."""
    fn = TRANSLATORS.get(type(layer))
    if fn is None:
        raise Unsupported(f"Layer '{layer.name}' ({type(layer).__name__}) has no PyTorch "
                          "translation in kerastorch.export.")
    return fn(layer, tuple(shape), layout)


def _to(layout, want, shape):
    return permute_step(len(shape), layout, want)


def _tuple(values):
    values = tuple(values)
    return values[0] if len(set(values)) == 1 else values


def _channels_last(layer):
    return getattr(layer, "data_format", "channels_last") == "channels_last"


# ---------------------------------------------------------------------- core
@translator(L.InputLayer, L.Identity)
def _identity(layer, shape, layout):
    return [], layout


@translator(L.Dense)
def _dense(layer, shape, layout):
    steps = _to(layout, LAST, shape)
    steps.append(Step("{m}({x})", f"nn.Linear({shape[-1]}, {layer.units}"
                      f"{'' if layer.use_bias else ', bias=False'})", key=layer.name))
    return steps + activation_steps(layer.activation, layer), LAST


@translator(L.Activation)
def _activation(layer, shape, layout):
    name = activation_name(layer.activation, layer)
    if name in ("softmax", "log_softmax"):  # acts on the last axis: needs Keras' layout
        return _to(layout, LAST, shape) + activation_steps(layer.activation, layer), LAST
    return activation_steps(layer.activation, layer), layout


@translator(L.ReLU)
def _relu(layer, shape, layout):
    slope, top, threshold = layer.negative_slope, layer.max_value, layer.threshold
    if not slope and not threshold and top is None:
        return [Step("torch.relu({x})", "nn.ReLU()", suffix="relu")], layout
    if not slope and not threshold and top == 6:
        return [Step("F.relu6({x})", "nn.ReLU6()", suffix="relu6")], layout
    if not threshold and top is None:
        return [Step(f"F.leaky_relu({{x}}, {float(slope)!r})", f"nn.LeakyReLU({float(slope)!r})",
                     suffix="leaky_relu")], layout
    if not slope and not threshold:
        return [Step(f"torch.clamp({{x}}, 0.0, {float(top)!r})",
                     f"nn.Hardtanh(0.0, {float(top)!r})", suffix="relu")], layout
    raise Unsupported(f"Layer '{layer.name}' (ReLU) with threshold={threshold} and "
                      f"negative_slope={slope} has no PyTorch translation.")


@translator(L.LeakyReLU)
def _leaky(layer, shape, layout):
    s = float(layer.negative_slope)
    return [Step(f"F.leaky_relu({{x}}, {s!r})", f"nn.LeakyReLU({s!r})", suffix="leaky_relu")], \
        layout


@translator(L.ELU)
def _elu(layer, shape, layout):
    a = float(layer.alpha)
    return [Step(f"F.elu({{x}}, {a!r})", f"nn.ELU({a!r})", suffix="elu")], layout


@translator(L.Softmax)
def _softmax(layer, shape, layout):
    axis = layer.axis
    if not isinstance(axis, int):
        raise Unsupported(f"Layer '{layer.name}' (Softmax): axis={axis!r} (a tuple) has no "
                          "PyTorch module.")
    return _to(layout, LAST, shape) + [Step(f"torch.softmax({{x}}, dim={axis})",
                                            f"nn.Softmax(dim={axis})", suffix="softmax")], LAST


@translator(L.Dropout)
def _dropout(layer, shape, layout):
    if layer.noise_shape is not None:
        raise Unsupported(f"Layer '{layer.name}' (Dropout): noise_shape has no PyTorch twin.")
    p = float(layer.rate)
    return [Step(f"F.dropout({{x}}, {p!r}, self.training)", f"nn.Dropout({p!r})",
                 suffix="dropout")], layout


@translator(L.SpatialDropout1D, L.SpatialDropout2D, L.SpatialDropout3D)
def _spatial_dropout(layer, shape, layout):
    rank = len(shape) - 2
    want = FIRST if _channels_last(layer) else LAST
    p = float(layer.rate)
    fn = {1: "dropout1d", 2: "dropout2d", 3: "dropout3d"}[rank]
    mod = {1: "Dropout1d", 2: "Dropout2d", 3: "Dropout3d"}[rank]
    return _to(layout, want, shape) + [Step(f"F.{fn}({{x}}, {p!r}, self.training)",
                                            f"nn.{mod}({p!r})", suffix="dropout")], want


@translator(L.Flatten)
def _flatten(layer, shape, layout):
    if not _channels_last(layer) and len(shape) > 2:
        raise Unsupported(f"Layer '{layer.name}' (Flatten, channels_first) is not translated.")
    return _to(layout, LAST, shape) + [Step("torch.flatten({x}, 1)", "nn.Flatten()",
                                            suffix="flatten")], LAST


@translator(L.Reshape)
def _reshape(layer, shape, layout):
    target = tuple(layer.compute_output_shape(shape)[1:])
    if any(d is None for d in target):
        target = tuple(layer.target_shape)
        ctor = None
    else:
        ctor = f"nn.Unflatten(1, {target})" if len(shape) == 2 else None
    steps = _to(layout, LAST, shape)
    steps.append(Step(f"{{x}}.reshape(-1, {', '.join(map(str, target))})", ctor,
                      suffix="reshape"))
    return steps, LAST


@translator(L.Embedding)
def _embedding(layer, shape, layout):
    if layer.mask_zero:
        raise Unsupported(f"Layer '{layer.name}' (Embedding): mask_zero=True (masking) has no "
                          "PyTorch translation.")
    return [Step("{m}({x}.long())", f"nn.Embedding({layer.input_dim}, {layer.output_dim})",
                 key=layer.name)], LAST


@translator(L.Rescaling)
def _rescaling(layer, shape, layout):
    scale, offset = layer.scale, layer.offset
    if not all(isinstance(v, (int, float)) for v in (scale, offset)):
        raise Unsupported(f"Layer '{layer.name}' (Rescaling): non-scalar scale/offset.")
    expr = f"{{x}} * {float(scale)!r}" + (f" + {float(offset)!r}" if offset else "")
    return [Step(expr, None, suffix="rescaling")], layout


# ---------------------------------------------------------------------- convolution & pooling
@translator(L.Conv1D, L.Conv2D, L.Conv3D)
def _conv(layer, shape, layout):
    rank = layer.rank
    want = FIRST if _channels_last(layer) else LAST
    steps = _to(layout, want, shape)
    spatial = layer._spatial(shape)
    pads = layer._pads_for(None if None in spatial else spatial)
    if pads is None:
        raise Unsupported(f"Layer '{layer.name}' ({type(layer).__name__}): padding='same' with "
                          "strides needs a known input size.")
    padding, fpad = pads
    if fpad is not None:  # Keras' extra cell of `same` (or `causal`) padding goes at the end
        steps.append(Step(f"F.pad({{x}}, {fpad})", f"nn.ZeroPad{rank}d({fpad})", suffix="pad"))
    in_ch = layer._in_channels(shape)
    args = [str(in_ch), str(layer.filters), f"kernel_size={_tuple(layer.kernel_size)}"]
    if max(layer.strides) > 1:
        args.append(f"stride={_tuple(layer.strides)}")
    if any(padding):
        args.append(f"padding={_tuple(padding)}")
    if max(layer.dilation_rate) > 1:
        args.append(f"dilation={_tuple(layer.dilation_rate)}")
    if layer.groups > 1:
        args.append(f"groups={layer.groups}")
    if not layer.use_bias:
        args.append("bias=False")
    steps.append(Step("{m}({x})", f"nn.Conv{rank}d({', '.join(args)})", key=layer.name))
    return steps + activation_steps(layer.activation, layer), want


@translator(L.MaxPooling1D, L.MaxPooling2D, L.MaxPooling3D,
            L.AveragePooling1D, L.AveragePooling2D, L.AveragePooling3D)
def _pool(layer, shape, layout):
    rank, is_max = layer.rank, layer._max
    want = FIRST if _channels_last(layer) else LAST
    steps = _to(layout, want, shape)
    spatial = layer._spatial(shape)
    if layer.padding == "valid":
        kernel, strides, padding, ceil_mode, crop = (layer.pool_size, layer.strides,
                                                     (0,) * rank, False, None)
    else:
        if None in spatial:
            raise Unsupported(f"Layer '{layer.name}' ({type(layer).__name__}): padding='same' "
                              "needs a known input size.")
        kernel, strides, padding, ceil_mode, crop = layer._params_for(spatial)
    args = [f"kernel_size={_tuple(kernel)}", f"stride={_tuple(strides)}"]
    if any(padding):
        args.append(f"padding={_tuple(padding)}")
    if ceil_mode:
        args.append("ceil_mode=True")
    if not is_max and (any(padding) or ceil_mode):
        args.append("count_include_pad=False")  # Keras averages the valid cells only
    kind = "max" if is_max else "avg"
    fn = f"F.{kind}_pool{rank}d({{x}}, {', '.join(args)})"
    mod = f"nn.{'Max' if is_max else 'Avg'}Pool{rank}d({', '.join(args)})"
    steps.append(Step(fn, mod, suffix=f"{kind}_pool"))
    if crop is not None:  # stride-1 `same` with an odd total: torch pads one more at the front
        index = ", ".join(":" if c.start is None else f"{c.start}:" for c in crop)
        steps.append(Step(f"{{x}}[{index}]", None, suffix="crop"))
    return steps, want


@translator(L.GlobalAveragePooling1D, L.GlobalAveragePooling2D, L.GlobalAveragePooling3D,
            L.GlobalMaxPooling1D, L.GlobalMaxPooling2D, L.GlobalMaxPooling3D)
def _global_pool(layer, shape, layout):
    rank = layer.rank
    is_max = "Max" in type(layer).__name__
    cur = layout if _channels_last(layer) else LAST
    first = cur == FIRST or not _channels_last(layer)
    dims = tuple(range(2, rank + 2)) if first else tuple(range(1, rank + 1))
    keep = ", keepdim=True" if layer.keepdims else ""
    expr = (f"torch.amax({{x}}, dim={dims}{keep})" if is_max
            else f"torch.mean({{x}}, dim={dims}{keep})")
    ctor = None
    if first:
        mod = f"nn.Adaptive{'Max' if is_max else 'Avg'}Pool{rank}d(1)"
        ctor = mod if layer.keepdims else f"nn.Sequential({mod}, nn.Flatten())"
    out = cur if layer.keepdims else LAST
    return [Step(expr, ctor, suffix="global_pool")], out


@translator(L.ZeroPadding1D, L.ZeroPadding2D, L.ZeroPadding3D)
def _zero_pad(layer, shape, layout):
    rank = len(shape) - 2
    want = FIRST if _channels_last(layer) else LAST
    flat = []
    for before, after in reversed(layer.padding if rank > 1 else [layer.padding]):
        flat += [before, after]
    pad = tuple(flat)
    return _to(layout, want, shape) + [Step(f"F.pad({{x}}, {pad})", f"nn.ZeroPad{rank}d({pad})",
                                            suffix="pad")], want


@translator(L.UpSampling2D)
def _upsampling(layer, shape, layout):
    if layer.interpolation != "nearest":
        raise Unsupported(f"Layer '{layer.name}' (UpSampling2D): interpolation="
                          f"{layer.interpolation!r} is not translated (only 'nearest').")
    want = FIRST if _channels_last(layer) else LAST
    size = tuple(layer.size)
    return _to(layout, want, shape) + [Step(
        f"F.interpolate({{x}}, scale_factor={size}, mode='nearest')",
        f"nn.Upsample(scale_factor={size}, mode='nearest')", suffix="upsample")], want


# ---------------------------------------------------------------------- normalization
@translator(L.BatchNormalization)
def _batch_norm(layer, shape, layout):
    rank = len(shape)
    axis = layer._axis
    if layer.center != layer.scale:
        raise Unsupported(f"Layer '{layer.name}' (BatchNormalization): center != scale has no "
                          "nn.BatchNorm twin.")
    if rank == 2 or axis == 1:
        want = LAST
        if axis != 1:
            raise Unsupported(f"Layer '{layer.name}' (BatchNormalization): axis={layer.axis}.")
    elif axis == rank - 1:
        want = FIRST
    else:
        raise Unsupported(f"Layer '{layer.name}' (BatchNormalization): axis={layer.axis} on a "
                          f"rank-{rank} input.")
    dim = {2: 1, 3: 1, 4: 2, 5: 3}[rank]
    args = [str(shape[axis]), f"eps={layer.epsilon!r}", f"momentum={1 - layer.momentum:.6g}"]
    if not layer.scale:
        args.append("affine=False")
    # Keras' momentum m is torch's 1 - m. In training Keras updates the moving variance with
    # the biased batch variance, torch with the unbiased one (n / (n - 1) apart).
    return _to(layout, want, shape) + [Step("{m}({x})", f"nn.BatchNorm{dim}d("
                                            f"{', '.join(args)})", key=layer.name)], want


@translator(L.LayerNormalization)
def _layer_norm(layer, shape, layout):
    axes = layer.axis if isinstance(layer.axis, (list, tuple)) else [layer.axis]
    rank = len(shape)
    if sorted(a % rank for a in axes) != [rank - 1] or layer.center != layer.scale \
            or getattr(layer, "rms_scaling", False):
        raise Unsupported(f"Layer '{layer.name}' (LayerNormalization): only axis=-1 with "
                          "center == scale has an nn.LayerNorm twin.")
    args = f"{shape[-1]}, eps={layer.epsilon!r}" + ("" if layer.scale else
                                                    ", elementwise_affine=False")
    return _to(layout, LAST, shape) + [Step("{m}({x})", f"nn.LayerNorm({args})",
                                            key=layer.name)], LAST


# ---------------------------------------------------------------------- recurrent
@translator(L.LSTM, L.GRU, L.SimpleRNN)
def _rnn(layer, shape, layout):
    kind = type(layer).__name__
    cell = layer.cell
    if layer.return_state or layer.stateful:
        raise Unsupported(f"Layer '{layer.name}' ({kind}): return_state/stateful are not "
                          "translated.")
    if not layer._fusable():
        raise Unsupported(f"Layer '{layer.name}' ({kind}): only Keras' default activations "
                          "(and reset_after=True for GRU) match torch's nn.LSTM/nn.GRU/nn.RNN.")
    args = [str(shape[-1]), str(cell.units), "batch_first=True"]
    if not cell.use_bias:
        args.append("bias=False")
    module = {"LSTM": "nn.LSTM", "GRU": "nn.GRU", "SimpleRNN": "nn.RNN"}[kind]
    if kind == "SimpleRNN" and activation_name(cell.activation, layer) == "relu":
        args.append("nonlinearity='relu'")
    x = "{x}.flip(1)" if layer.go_backwards else "{x}"
    expr = f"{{m}}({x})[0]" + ("" if layer.return_sequences else "[:, -1]")
    return _to(layout, LAST, shape) + [Step(expr, f"{module}({', '.join(args)})",
                                            key=layer.name)], LAST


def rnn_frozen_bias(layer):
    """torch names of biases a Keras RNN does not have (kept at zero, not trained)."""
    if type(layer) in (L.LSTM, L.SimpleRNN) and layer.cell.use_bias:
        return ["bias_hh_l0"]
    return []
