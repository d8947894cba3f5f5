"""keras.ops.vectorize: turn a function of single elements (or, given a generalized-ufunc
signature such as `"(m,n),(n)->(m)"`, of arrays with those core axes) into one over arrays
whose leading "loop" axes broadcast against each other, as numpy's and JAX's `vectorize` do.

Each loop axis is one `torch.vmap` level. An argument whose loop axis has size 1 (or that
lacks it) is not mapped at that level but shared, so nothing is broadcast in memory; an axis
of size 1 in every argument is added back to the result at the end. Arguments listed in
`excluded` (positions or keyword names) and `None` arguments are passed to the function as
they are; keyword arguments are never vectorized.
"""

import functools
import re

import torch

from kerastorch.ops.core import convert_to_tensor

__all__ = ["vectorize"]

_GROUP = r"\((?:\w+(?:,\w+)*)?\)"
_SIDE = re.compile(rf"{_GROUP}(?:,{_GROUP})*")


def parse_signature(signature: str):
    """`"(m,n),(n)->(m)"` as `([("m", "n"), ("n",)], [("m",)])`: the core axis names of each
    input and of each output."""
    sides = re.sub(r"\s+", "", signature).split("->")
    if len(sides) != 2 or not all(_SIDE.fullmatch(side) for side in sides):
        raise ValueError(f"not a valid gufunc signature: {signature}")
    inputs, outputs = (
        [tuple(name for name in group.split(",") if name)
         for group in re.findall(r"\(([^()]*)\)", side)]
        for side in sides)
    return inputs, outputs


def _note_sizes(sizes: dict, shape, names, where: str) -> None:
    """Record the sizes of the core axes `names` (the last axes of `shape`) in `sizes`,
    refusing a name seen before with another size."""
    for name, size in zip(names, tuple(shape)[len(shape) - len(names):]):
        known = sizes.setdefault(name, size)
        if known != size:
            raise ValueError(f"inconsistent size for core dimension {name!r}: {size} vs "
                             f"{known} {where}")


def _check_outputs(out, sizes: dict, core_outputs, where: str) -> None:
    """The function's result against the signature's outputs: their number and core axes."""
    if len(core_outputs) > 1 and not isinstance(out, tuple):
        raise TypeError(f"output must be a tuple when multiple outputs are expected, got: "
                        f"{out!r} {where}")
    results = out if isinstance(out, (tuple, list)) else (out,)
    if len(results) != len(core_outputs):
        raise TypeError(f"wrong number of output arguments: expected {len(core_outputs)}, "
                        f"got {len(results)} {where}")
    sizes = dict(sizes)  # output-only names may differ from one call to the next
    for result, names in zip(results, core_outputs):
        shape = tuple(getattr(result, "shape", ()))
        if len(shape) != len(names):
            raise ValueError(f"output shape {shape} does not match core dimensions {names} "
                             f"{where}")
        _note_sizes(sizes, shape, names, where)


def _unsqueeze(result, axes):
    if isinstance(result, (tuple, list)):
        return type(result)(_unsqueeze(r, axes) for r in result)
    for axis in axes:
        result = result.unsqueeze(axis)
    return result


def vectorize(pyfunc, *, excluded=None, signature=None):
    """`pyfunc` mapped over the broadcast loop axes of its (tensor) arguments.

    Args:
        pyfunc: The function of single elements (or of core-axis arrays).
        excluded: Positions (ints) and keyword names (strs) of arguments passed through
            unchanged.
        signature: Optional generalized-ufunc signature (`"(n),(n)->()"`) naming the core
            axes of each input and output; by default every input and output is a scalar.
    """
    if not callable(pyfunc):
        raise ValueError("Expected argument `pyfunc` to be a callable. "
                         f"Received: pyfunc={pyfunc}")
    excluded = frozenset(() if excluded is None else excluded)
    if any(not isinstance(e, (int, str)) for e in excluded):
        raise TypeError("vectorize can only exclude integer or string arguments. "
                        f"Received: excluded={set(excluded)}")
    if any(isinstance(e, int) and e < 0 for e in excluded):
        raise ValueError(f"excluded={set(excluded)} contains negative numbers")
    core_inputs, core_outputs = (None, None) if signature is None else \
        parse_signature(signature)
    where = f"on vectorized function with excluded={set(excluded)} and signature={signature!r}"

    @functools.wraps(pyfunc)
    def vectorized(*args, **kwargs):
        mapped = [i for i in range(len(args)) if i not in excluded]
        cores = [()] * len(mapped) if core_inputs is None else core_inputs
        if len(cores) != len(mapped):
            raise TypeError(f"wrong number of positional arguments: expected {len(cores)}, "
                            f"got {len(mapped)} {where}")
        positions, tensors, loops, sizes = [], [], [], {}
        for i, names in zip(mapped, cores):
            if args[i] is None:  # passed through, as an excluded argument
                if names:
                    raise ValueError(f"Cannot pass None at location {i} with "
                                     f"signature={signature}")
                continue
            t = convert_to_tensor(args[i])
            if t.ndim < len(names):
                raise ValueError(f"input with shape {tuple(t.shape)} does not have enough "
                                 f"dimensions for all core dimensions {names} {where}")
            _note_sizes(sizes, t.shape, names, where)
            positions.append(i)
            tensors.append(t)
            loops.append(tuple(t.shape[:t.ndim - len(names)]))
        try:
            loop_shape = torch.broadcast_shapes(*loops) if loops else ()
        except RuntimeError:
            raise ValueError(f"the loop axes of the inputs, {loops}, do not broadcast "
                             f"{where}") from None

        def element_fn(*elements):
            full = list(args)
            for i, e in zip(positions, elements):
                full[i] = e
            out = pyfunc(*full, **kwargs)
            if core_outputs is not None:
                _check_outputs(out, sizes, core_outputs, where)
            return out

        # Per argument, the loop axes it carries (size > 1); size-1 axes are squeezed away.
        rank = len(loop_shape)
        carried, squeezed = [], []
        for t, loop in zip(tensors, loops):
            pad = rank - len(loop)
            carried.append({pad + j for j, n in enumerate(loop) if n != 1})
            ones = tuple(j for j, n in enumerate(loop) if n == 1)
            squeezed.append(t.squeeze(ones) if ones else t)
        fn, shared_axes = element_fn, []
        for axis in reversed(range(rank)):  # the innermost vmap maps the last loop axis
            in_dims = tuple(0 if axis in c else None for c in carried)
            if all(d is None for d in in_dims):
                shared_axes.append(axis)
            else:
                fn = torch.vmap(fn, in_dims=in_dims)
        result = fn(*squeezed)
        return _unsqueeze(result, sorted(shared_axes)) if shared_axes else result

    return vectorized
