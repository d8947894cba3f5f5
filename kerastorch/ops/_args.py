"""Argument checks shared by the ops: axes, int tuples, data formats."""

import operator

from kerastorch import config


def axis_index(axis, ndim: int) -> int:
    """`axis` (negative counts from the end) as an index in `[0, ndim)`."""
    axis = operator.index(axis)
    if axis < -ndim or axis >= ndim:
        raise ValueError(f"axis {axis} is out of bounds for an array with dimension {ndim}.")
    return axis % ndim if ndim else axis


def axis_indices(axis, ndim: int) -> tuple:
    """One axis or a list of them as a tuple of indices in `[0, ndim)`."""
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    return tuple(axis_index(a, ndim) for a in axes)


def data_format_of(data_format) -> str:
    """`"channels_last"` or `"channels_first"`; None means `config.image_data_format()`."""
    if data_format is None:
        return config.image_data_format()
    fmt = str(data_format).lower()
    if fmt not in ("channels_first", "channels_last"):
        raise ValueError("The `data_format` argument must be one of {'channels_first', "
                         f"'channels_last'}}. Received: data_format={data_format}")
    return fmt


def int_tuple(value, n: int, name: str, allow_zero: bool = False) -> tuple:
    """An int or `n` ints (`strides`, `kernel_size`, ...) as a tuple of `n` ints, each > 0
    (>= 0 with `allow_zero`); anything else is a ValueError naming the argument."""
    problem = f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value}"
    if isinstance(value, int):
        values = (value,) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise ValueError(problem) from None
        if len(values) != n:
            raise ValueError(problem)
        for v in values:
            try:
                int(v)
            except (TypeError, ValueError):
                raise ValueError(f"{problem} including element {v} of type {type(v)}") \
                    from None
    low = 0 if allow_zero else 1
    bad = {v for v in values if v < low}
    if bad:
        need = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{problem}, including values {bad} that do not satisfy "
                         f"`value {need}`")
    return values
