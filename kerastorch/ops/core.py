"""`keras.ops` core: tensor conversion, casts, shapes, slicing, scatter and control flow.

Eager only: every op takes numpy arrays, Python scalars/lists or torch tensors and returns torch
tensors on `kerastorch.config.device()`. Conversion follows Keras on JAX (the oracle): Python
floats and float64 numpy arrays become `floatx()`-precision float32, Python ints and int64 numpy
arrays int32 (an explicit `dtype=` is honoured, float64 included). Symbolic `KerasTensor`s are
refused with a `TypeError` (use the op inside a `Layer` or `layers.Lambda`).
"""

import builtins
import sys

import numpy as np
import torch
from torch.utils import _pytree as pytree

from kerastorch import config
from kerastorch.ops._dtypes import result_type, standardize_dtype, to_torch_dtype
from kerastorch.variables import Variable

_NARROW_NUMPY = {np.dtype("float64"): "float32", np.dtype("int64"): "int32",
                 np.dtype("uint64"): "uint32", np.dtype("complex128"): "complex64"}


def get_device():
    return config.device()


def _symbolic_error(x):
    """A TypeError naming the public op that received a `KerasTensor`."""
    op, frame = "an op", sys._getframe(1)
    while frame is not None:  # the outermost kerastorch.ops / kerastorch.random frame
        module = frame.f_globals.get("__name__", "")
        if module.startswith(("kerastorch.ops", "kerastorch.random")):
            op = f"{module.replace('kerastorch.', 'keras.').split('.')[0]}.ops." \
                 f"{frame.f_code.co_name}" if module.startswith("kerastorch.ops") else \
                 f"keras.random.{frame.f_code.co_name}"
        frame = frame.f_back
    return TypeError(
        f"{op} received a symbolic KerasTensor ({x!r}). kerastorch's ops run eagerly on "
        "torch tensors: put the computation in a `Layer` subclass's `call()` or wrap it in "
        "`keras.layers.Lambda(...)` to use it in a functional model.")


def _is_keras_tensor(x):
    return type(x).__name__ == "KerasTensor"


def _python_dtype(items):
    return result_type(*[getattr(item, "dtype", type(item)) for item in items])


def _scalar_dtype(x) -> torch.dtype:
    """Keras' dtype of a Python scalar: bool, int32 (int64 when it does not fit), floatx,
    complex64."""
    if isinstance(x, bool):
        return torch.bool
    if isinstance(x, int):
        return torch.int32 if -(2**31) <= x < 2**31 else torch.int64
    return config.float_dtype() if isinstance(x, float) else torch.complex64


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """Converts `x` (array, scalar, nested list, tensor) to a torch tensor on the device.

    Args:
        x: The value.
        dtype: Keras dtype name (or any dtype-like); `None` infers it as Keras on JAX does.
        sparse, ragged: Not supported by torch; `True` raises `ValueError`.
    """
    if sparse:
        raise ValueError("`sparse=True` is not supported by kerastorch.ops.")
    if ragged:
        raise ValueError("`ragged=True` is not supported by kerastorch.ops.")
    device = config.device()
    if isinstance(x, torch.Tensor):
        return x.to(device=device, dtype=None if dtype is None else to_torch_dtype(dtype))
    if isinstance(x, (bool, int, float, complex)):
        return torch.tensor(x, device=device, dtype=_scalar_dtype(x) if dtype is None
                            else to_torch_dtype(dtype))
    if _is_keras_tensor(x):
        raise _symbolic_error(x)
    if isinstance(x, Variable):  # its Keras-layout value, live (differentiable)
        return convert_to_tensor(x._keras(), dtype=dtype)
    if hasattr(x, "value") and isinstance(getattr(x, "value"), torch.Tensor):
        return convert_to_tensor(x.value, dtype=dtype)  # Variable-like
    if isinstance(x, (list, tuple)):
        flat = pytree.tree_leaves(list(x))
        if builtins.any(isinstance(e, (torch.Tensor, Variable)) for e in flat):
            return torch.stack([convert_to_tensor(e, dtype=dtype) for e in x])
        if builtins.any(_is_keras_tensor(e) for e in flat):
            raise _symbolic_error(next(e for e in flat if _is_keras_tensor(e)))
        if dtype is None:
            dtype = _python_dtype(flat)
        return torch.as_tensor(np.asarray(x), dtype=to_torch_dtype(dtype), device=device)
    x = np.asarray(x)
    if dtype is None:
        if x.dtype == object:
            raise TypeError(f"Cannot convert {type(x).__name__} to a tensor.")
        dtype = _NARROW_NUMPY.get(x.dtype, x.dtype)
        if standardize_dtype(x.dtype) == "bfloat16":
            x, dtype = x.astype(np.float32), "bfloat16"
    if x.dtype == np.uint32 or x.dtype == np.uint16:
        x = x.astype(np.int64)
    return torch.as_tensor(x, device=device).to(to_torch_dtype(dtype))


def convert_to_numpy(x):
    """A numpy array with `x`'s values (bfloat16 via ml_dtypes when available)."""
    if isinstance(x, (list, tuple)):
        return np.array([convert_to_numpy(e) for e in x])
    if not isinstance(x, torch.Tensor):
        if _is_keras_tensor(x):
            raise _symbolic_error(x)
        return np.asarray(x)
    x = x.detach().cpu()
    if x.dtype == torch.bfloat16:
        try:
            import ml_dtypes
            return x.float().numpy().astype(ml_dtypes.bfloat16)
        except ImportError:
            return x.float().numpy()
    return x.resolve_conj().numpy()


def is_tensor(x):
    """Whether `x` is a torch tensor (Keras: a backend-native tensor)."""
    return isinstance(x, torch.Tensor)


def shape(x):
    """`x`'s shape as a tuple of ints (a `KerasTensor`'s static shape, `None` for unknown)."""
    return tuple(x.shape) if hasattr(x, "shape") else tuple(np.shape(x))


def dtype(x):
    """`x`'s dtype as Keras' standardized string (`"float32"`)."""
    return standardize_dtype(convert_to_tensor(x).dtype)


def cast(x, dtype):
    """`x` converted to `dtype`."""
    dt = to_torch_dtype(dtype)
    if isinstance(x, torch.Tensor):
        x = convert_to_tensor(x)
        return x if x.dtype == dt else x.to(dt)
    return convert_to_tensor(x, dtype)


def saturate_cast(x, dtype):
    """Casts to `dtype`, clipping values to its range first (no overflow wrap-around)."""
    x = convert_to_tensor(x)
    out = to_torch_dtype(dtype)
    info_in = torch.finfo(x.dtype) if x.dtype.is_floating_point else (
        torch.iinfo(x.dtype) if x.dtype != torch.bool else None)
    info_out = torch.finfo(out) if out.is_floating_point else (
        torch.iinfo(out) if out != torch.bool else None)
    if info_in is None or info_out is None:
        return x.to(out)
    lo, hi = builtins.max(info_in.min, info_out.min), builtins.min(info_in.max, info_out.max)
    if x.dtype.is_floating_point:
        lo_t = torch.tensor(lo, dtype=x.dtype)
        hi_t = torch.tensor(hi, dtype=x.dtype)
        if lo_t < lo:  # rounding in x.dtype went past the limit: step back inside
            lo_t = torch.nextafter(lo_t, torch.zeros_like(lo_t))
        if hi_t > hi:
            hi_t = torch.nextafter(hi_t, torch.zeros_like(hi_t))
        lo, hi = lo_t.item(), hi_t.item()
    return torch.clamp(x, lo, hi).to(out)


def stop_gradient(variable):
    """`variable` detached from autograd."""
    return convert_to_tensor(variable).detach()


def unstack(x, num=None, axis=0):
    """Splits `x` along `axis` into a list of tensors."""
    x = convert_to_tensor(x)
    if num is not None and x.shape[axis] != num:
        raise ValueError(f"Cannot unstack axis {axis} of size {x.shape[axis]} into num={num}.")
    return list(x.unbind(axis))


def slice(inputs, start_indices, shape):
    """`inputs[start:start + shape]` along every axis."""
    inputs = convert_to_tensor(inputs)
    if isinstance(start_indices, torch.Tensor):
        start_indices = start_indices.tolist()
    if isinstance(shape, torch.Tensor):
        shape = shape.tolist()
    start_indices = [int(s) for s in np.asarray(start_indices).reshape(-1)]
    return inputs[tuple(builtins.slice(s, s + int(n)) for s, n in zip(start_indices, shape))]


def slice_update(inputs, start_indices, updates):
    """A copy of `inputs` with the block starting at `start_indices` replaced by `updates`."""
    inputs = convert_to_tensor(inputs)
    updates = convert_to_tensor(updates, dtype=inputs.dtype)
    if isinstance(start_indices, torch.Tensor):
        start_indices = start_indices.tolist()
    start_indices = [int(s) for s in np.asarray(start_indices).reshape(-1)]
    outputs = inputs.clone()
    outputs[tuple(builtins.slice(s, s + n) for s, n in zip(start_indices, updates.shape))] = \
        updates
    return outputs


def scatter(indices, values, shape):
    """Zeros of `shape` with `values` added at `indices` (duplicates accumulate)."""
    indices = convert_to_tensor(indices).long()
    values = convert_to_tensor(values)
    shape = tuple(int(s) for s in shape)
    out = torch.zeros(shape, dtype=values.dtype, device=values.device)
    depth = indices.shape[-1]
    indices = indices.reshape(-1, depth)
    values = values.reshape((-1,) + shape[depth:])
    out.index_put_(tuple(indices.T), values, accumulate=True)
    return out


def scatter_update(inputs, indices, updates, reduction=None):
    """A copy of `inputs` with `updates` written (or reduced: `"add"`, `"max"`, `"min"`,
    `"mul"`) at `indices` (shape `(num_updates, index_depth)`)."""
    inputs = convert_to_tensor(inputs)
    indices = convert_to_tensor(indices).long()
    updates = convert_to_tensor(updates, dtype=inputs.dtype)
    idx = tuple(indices.reshape(-1, indices.shape[-1]).T)
    out = inputs.clone()
    if reduction is None:
        out[idx] = updates
        return out
    if reduction == "add":
        return out.index_put_(idx, updates, accumulate=True)
    ops = {"max": "amax", "min": "amin", "mul": "prod"}
    if reduction not in ops:
        raise ValueError(f"Unsupported reduction: {reduction!r}. Expected None, 'add', 'max', "
                         "'min' or 'mul'.")
    # Flatten the indexed axes to one, then scatter_reduce along it (duplicates reduce too).
    depth = len(idx)
    lead = inputs.shape[:depth]
    flat = torch.zeros_like(idx[0])
    for i, n in zip(idx, lead):
        flat = flat * n + i
    tail = inputs.shape[depth:]
    target = out.reshape((-1,) + tuple(tail))
    src = updates.reshape((-1,) + tuple(tail))
    index = flat.reshape((-1,) + (1,) * len(tail)).expand_as(src)
    target.scatter_reduce_(0, index, src, reduce=ops[reduction], include_self=True)
    return target.reshape(inputs.shape)


def cond(pred, true_fn, false_fn):
    """`true_fn()` if `pred` else `false_fn()` (eager Python branch)."""
    return true_fn() if bool(pred) else false_fn()


def switch(index, branches, *operands):
    """`branches[index](*operands)`, with `index` clamped to the valid range."""
    i = builtins.min(builtins.max(int(index), 0), len(branches) - 1)
    return branches[i](*operands)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Runs `loop_vars = body(*loop_vars)` while `cond(*loop_vars)` (and the count allows)."""
    is_tuple = isinstance(loop_vars, (tuple, list))
    loop_vars = tuple(loop_vars) if is_tuple else (loop_vars,)
    loop_vars = pytree.tree_map(convert_to_tensor, loop_vars)
    step = 0
    while (maximum_iterations is None or step < maximum_iterations) and bool(cond(*loop_vars)):
        loop_vars = body(*loop_vars)
        loop_vars = tuple(loop_vars) if isinstance(loop_vars, (list, tuple)) else (loop_vars,)
        step += 1
    return loop_vars if is_tuple else loop_vars[0]


def fori_loop(lower, upper, body_fun, init_val):
    """`val = body_fun(i, val)` for `i` in `range(lower, upper)`."""
    val = init_val
    for i in range(int(lower), int(upper)):
        val = body_fun(i, val)
    return val


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """`carry, y = f(carry, x)` over the leading axis of `xs`; returns `(carry, stacked ys)`."""
    if not callable(f):
        raise TypeError(f"`f` should be a callable. Received: f={f}")
    if xs is None and length is None:
        raise ValueError("Got no `xs` to scan over and `length` not provided.")
    xs_flat, xs_spec = pytree.tree_flatten(xs) if xs is not None else ([], None)
    xs_flat = [convert_to_tensor(e) for e in xs_flat]
    n = int(length) if length is not None else xs_flat[0].shape[0]
    carry = pytree.tree_map(convert_to_tensor, init)
    ys = []
    steps = range(n - 1, -1, -1) if reverse else range(n)
    for i in steps:
        x = pytree.tree_unflatten([e[i] for e in xs_flat], xs_spec) if xs_flat else None
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys = ys[::-1]
    if not ys or ys[0] is None:
        return carry, None
    leaves = [pytree.tree_flatten(y)[0] for y in ys]
    spec = pytree.tree_flatten(ys[0])[1]
    stacked = [torch.stack([convert_to_tensor(v) for v in col]) for col in zip(*leaves)]
    return carry, pytree.tree_unflatten(stacked, spec)


def map(f, xs):
    """`f` applied to each slice of `xs` along the leading axis, results stacked."""
    return scan(lambda _, x: ((), f(x)), (), xs)[1]


def vectorized_map(function, elements):
    """`function` mapped over the leading axis of `elements` (`torch.vmap`)."""
    return torch.vmap(function)(elements)


def associative_scan(f, elems, reverse=False, axis=0):
    """Inclusive scan of the associative `f` along `axis` (sequential on torch)."""
    flat, spec = pytree.tree_flatten(elems)
    flat = [convert_to_tensor(e) for e in flat]
    if reverse:
        flat = [torch.flip(e, (axis,)) for e in flat]
    n = flat[0].shape[axis]
    acc = [e.select(axis, 0) for e in flat]
    outs = [[a] for a in acc]
    for i in range(1, n):
        cur = pytree.tree_unflatten([e.select(axis, i) for e in flat], spec)
        acc = pytree.tree_flatten(f(pytree.tree_unflatten(acc, spec), cur))[0]
        for o, a in zip(outs, acc):
            o.append(a)
    out = [torch.stack(o, dim=axis) for o in outs]
    if reverse:
        out = [torch.flip(e, (axis,)) for e in out]
    return pytree.tree_unflatten(out, spec)


class custom_gradient:
    """Decorator: `f(*args)` returns `(output, grad_fn)`, `grad_fn(*args, upstream)` the
    gradients of the inputs (`keras.ops.custom_gradient`)."""

    def __init__(self, f):
        self.forward_fn = f

    def __call__(self, *args, **kwargs):
        return _CustomGradientFunction.apply(self.forward_fn, *args, **kwargs)


class _CustomGradientFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, forward_fn, *args, **kwargs):
        ctx.save_for_backward(*args)
        output, ctx.grad_fn = forward_fn(*args, **kwargs)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        args = ctx.saved_tensors
        try:
            grads = ctx.grad_fn(*args, upstream=grad_output)
        except TypeError:
            grads = ctx.grad_fn(grad_output)
        if not isinstance(grads, (tuple, list)):
            grads = (grads,)
        return (None,) + tuple(grads)
