"""`to_categorical` and `normalize`, as `keras.utils` has them.

Both follow Keras' split: a numpy array (or list) in gives a numpy array out, computed with numpy
as Keras does; a `torch.Tensor` in gives a tensor out, computed as Keras' backend ops do.
"""

import numpy as np
import torch

from kerastorch import config


def to_categorical(x, num_classes=None):
    """Converts a class vector (integers) to a one-hot class matrix.

    A trailing axis of size 1 is dropped first, so labels of shape `(n, 1)` give `(n,
    num_classes)`, as in Keras. Numpy/list input gives a `float64` numpy array (Keras' numpy
    path); a `torch.Tensor` gives a tensor of `kerastorch.config.floatx()` on the same device,
    with all-zero rows for labels outside `[0, num_classes)` (Keras' backend `one_hot`).
    Numpy input keeps Keras' quirk that a negative label `-k` counts from the end.

    Args:
        x: Array-like of class indices in `[0, num_classes)`.
        num_classes: Number of classes; `None` (or 0) means `max(x) + 1`.

    Returns:
        The one-hot array, of shape `x.shape + (num_classes,)` (after the squeeze above).

    Example:

    >>> to_categorical([0, 2, 1], num_classes=3)
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]])
    """
    if isinstance(x, torch.Tensor):
        if x.ndim > 1 and x.shape[-1] == 1:
            x = x.reshape(x.shape[:-1])
        x = x.long()
        if not num_classes:
            num_classes = int(x.max()) + 1
        classes = torch.arange(int(num_classes), device=x.device)
        return (x.unsqueeze(-1) == classes).to(config.float_dtype())

    x = np.array(x, dtype="int64")
    # a trailing axis of 1 (a column of labels) is dropped from the output's leading shape
    input_shape = x.shape[:-1] if x.ndim > 1 and x.shape[-1] == 1 else x.shape
    x = x.ravel()
    if not num_classes:
        num_classes = int(np.max(x)) + 1
    num_classes = int(num_classes)
    if x.size and (x.max() >= num_classes or x.min() < -num_classes):
        bad = x[(x >= num_classes) | (x < -num_classes)][0]
        raise IndexError(
            f"to_categorical: every class index must be in [0, num_classes). Received: class "
            f"{bad} with num_classes={num_classes}"
        )
    categorical = np.zeros((x.shape[0], num_classes))
    categorical[np.arange(x.shape[0]), x] = 1
    return categorical.reshape(input_shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """Scales `x` to unit `order`-norm along `axis`.

    Numpy input: `x / norm`, where an all-zero slice keeps norm 1 (stays zero), as Keras'
    numpy path. `axis=None` treats the whole array as one vector; Keras mishandles `axis=0`
    and `axis=None` here (it re-inserts the norm's axis last), kerastorch does not.
    Tensor input: Keras' `ops.normalize`: `order=2` gives `x * min(rsqrt(sum(x**2)), 1/eps)`,
    other orders `x / max(norm, eps)`, with `eps = kerastorch.config.epsilon()`.

    Args:
        x: Numpy array, array-like, or `torch.Tensor`.
        axis: Axis along which to normalize (`None`: all of them, numpy input only).
        order: Norm order, e.g. 2 for L2 (tensor input: an int >= 1).

    Returns:
        A normalized copy of `x`, of the same kind and shape.
    """
    if isinstance(x, torch.Tensor):
        if not isinstance(order, int) or order < 1:
            raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order}")
        if x.ndim == 0:
            x = x.unsqueeze(0)
        if not torch.is_floating_point(x):
            x = x.to(config.float_dtype())
        eps = config.epsilon()
        if order == 2:
            inv_norm = torch.rsqrt(torch.sum(torch.square(x), dim=axis, keepdim=True))
            return x * torch.clamp(inv_norm, max=1.0 / eps)
        norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
        return x / torch.clamp(norm, min=eps)

    x = np.asarray(x)
    if axis is None:
        norm = np.linalg.norm(x.reshape(-1), order)
        return x / (norm if norm != 0 else 1)
    norm = np.linalg.norm(x, order, axis, keepdims=True)
    norm[norm == 0] = 1
    return x / norm
