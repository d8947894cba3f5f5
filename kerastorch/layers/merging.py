"""Merging layers: `Concatenate`, `Add`, `Subtract`, `Multiply`, `Average`, `Maximum`,
`Minimum`, `Dot`, called on a list of tensors (`Add()([a, b])`), and their functional forms
(`add([a, b])`, ...).

Inputs of different ranks are aligned as Keras aligns them: the lower-rank ones get size-1 axes
inserted after the batch axis (not torch's leading-axis broadcasting). Masks: the output mask is
the OR of the input masks when every input has one; `Maximum`/`Minimum` ignore masked entries
and `Multiply` treats them as 1, as in Keras.
"""

import torch
import torch.nn.functional as F

from kerastorch.layers.layer import Layer


class Merge(Layer):
    """Base of the element-wise merging layers; subclasses define `_merge_function`."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _merge_function(self, inputs, masks):
        raise NotImplementedError

    def _not_a_list(self, what):
        return ValueError(f"Layer '{self.name}' ({type(self).__name__}) should be called on a "
                          f"list of inputs. Received: {what} (not a list)")

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or not input_shape or \
                not isinstance(input_shape[0], (list, tuple)):
            raise self._not_a_list(f"input_shape={input_shape}")
        batch_sizes = {s[0] for s in input_shape if s} - {None}
        if len(batch_sizes) > 1:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) cannot merge tensors "
                             f"with different batch sizes. Received tensors with shapes "
                             f"{[tuple(s) for s in input_shape]}")
        self._elementwise_shape(input_shape)  # validates broadcasting
        self.built = True

    def call(self, inputs, mask=None):
        if not isinstance(inputs, (list, tuple)):
            raise self._not_a_list(f"inputs of shape {tuple(getattr(inputs, 'shape', ()))}")
        masks = mask if isinstance(mask, (list, tuple)) else [None] * len(inputs)
        ndims = [x.dim() for x in inputs]
        if len(set(ndims)) > 1:  # Keras: missing axes go after the batch axis
            top = max(ndims)
            inputs = [x.reshape(x.shape[0], *([1] * (top - x.dim())), *x.shape[1:])
                      for x in inputs]
        return self._merge_function(list(inputs), list(masks))

    def _elementwise_shape(self, input_shape):
        out = tuple(input_shape[0][1:])
        for shape in input_shape[1:]:
            out = self._broadcast(out, tuple(shape[1:]), input_shape)
        return out

    def _broadcast(self, shape1, shape2, all_shapes):
        if len(shape1) < len(shape2):
            shape1, shape2 = shape2, shape1
        if not shape2:
            return shape1
        out = list(shape1[:-len(shape2)])
        for i, j in zip(shape1[-len(shape2):], shape2):
            if i is None or j is None:
                out.append(None)
            elif i == 1 or j == 1:
                out.append(j if i == 1 else i)
            elif i != j:
                raise ValueError(f"Layer '{self.name}' ({type(self).__name__}): inputs have "
                                 f"incompatible shapes. Received shapes "
                                 f"{[tuple(s) for s in all_shapes]}")
            else:
                out.append(i)
        return tuple(out)

    def compute_output_shape(self, input_shape):
        batch_sizes = {s[0] for s in input_shape} - {None}
        batch = batch_sizes.pop() if len(batch_sizes) == 1 else None
        return (batch, *self._elementwise_shape(input_shape))

    def compute_mask(self, inputs, mask=None):
        if mask is None or not isinstance(mask, (list, tuple)):
            return None
        if any(m is None for m in mask):
            return None
        out = mask[0]
        for m in mask[1:]:
            out = out | m
        return out


def _expand_mask(mask, x):
    return None if mask is None else mask.unsqueeze(-1).expand(x.shape)


def _masked_reduce(op, inputs, masks):
    """Keras' `_apply_merge_op_and_or_mask`: a masked entry takes the other operand's value."""
    output, output_mask = None, None
    for x, mask in zip(inputs, masks):
        mask = _expand_mask(mask, x)
        if output is None:
            output, output_mask = x, mask
            continue
        if mask is not None:
            x = torch.where(mask, x, output)
        if output_mask is not None:
            output = torch.where(output_mask, output, x)
        output_mask = output_mask | mask if mask is not None and output_mask is not None \
            else None
        output = op(output, x)
    return output


class Add(Merge):
    """Element-wise sum of a list of tensors: `Add()([a, b, c])`."""

    def _merge_function(self, inputs, masks):
        output = inputs[0]
        for x in inputs[1:]:
            output = output + x
        return output


class Subtract(Merge):
    """`a - b` for a list of exactly two tensors."""

    def build(self, input_shape):
        super().build(input_shape)
        if len(input_shape) != 2:
            raise ValueError(f"Layer '{self.name}' (Subtract) should be called on exactly 2 "
                             f"inputs. Received: input_shape={input_shape}")

    def _merge_function(self, inputs, masks):
        if len(inputs) != 2:
            raise ValueError(f"Layer '{self.name}' (Subtract) should be called on exactly 2 "
                             f"inputs. Received {len(inputs)} inputs.")
        return inputs[0] - inputs[1]


class Multiply(Merge):
    """Element-wise product of a list of tensors; masked entries count as 1, and where every
    input is masked the output is 0 (Keras' rule)."""

    def _merge_function(self, inputs, masks):
        all_masked = all(m is not None for m in masks)
        output, output_mask = None, None
        for x, mask in zip(inputs, masks):
            if mask is not None:
                mask = _expand_mask(mask, x)
                x = torch.where(mask, x, 1.0)
                if all_masked:
                    output_mask = mask if output_mask is None else output_mask | mask
            output = x if output is None else output * x
        if all_masked:
            output = torch.where(output_mask, output, 0.0)
        return output


class Average(Merge):
    """Element-wise mean of a list of tensors."""

    def _merge_function(self, inputs, masks):
        output = inputs[0]
        for x in inputs[1:]:
            output = output + x
        return output / len(inputs)


class Maximum(Merge):
    """Element-wise maximum of a list of tensors (masked entries ignored)."""

    def _merge_function(self, inputs, masks):
        if all(m is None for m in masks):
            output = inputs[0]
            for x in inputs[1:]:
                output = torch.maximum(output, x)
            return output
        return _masked_reduce(torch.maximum, inputs, masks)


class Minimum(Merge):
    """Element-wise minimum of a list of tensors (masked entries ignored)."""

    def _merge_function(self, inputs, masks):
        if all(m is None for m in masks):
            output = inputs[0]
            for x in inputs[1:]:
                output = torch.minimum(output, x)
            return output
        return _masked_reduce(torch.minimum, inputs, masks)


class Concatenate(Merge):
    """Concatenates a list of tensors along `axis` (default -1); the other axes must match.

    Args:
        axis: The concatenation axis (batch axis included in the count).
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or not input_shape or \
                not isinstance(input_shape[0], (list, tuple)):
            raise self._not_a_list(f"input_shape={input_shape}")
        ranks = {len(s) for s in input_shape}
        ok = len(ranks) == 1
        if ok:
            rank = ranks.pop()
            axis = self.axis % rank if -rank <= self.axis < rank else None
            ok = axis is not None and all(
                len({s[i] for s in input_shape} - {None}) <= 1
                for i in range(rank) if i != axis)
        if not ok:
            raise ValueError(f"Layer '{self.name}' (Concatenate) requires inputs with matching "
                             "shapes except for the concatenation axis "
                             f"(axis={self.axis}). Received: input_shape="
                             f"{[tuple(s) for s in input_shape]}")
        self.built = True

    def call(self, inputs, mask=None):
        if not isinstance(inputs, (list, tuple)):
            raise self._not_a_list(f"inputs of shape {tuple(getattr(inputs, 'shape', ()))}")
        return torch.cat(list(inputs), dim=self.axis)

    def compute_output_shape(self, input_shape):
        out = list(input_shape[0])
        for shape in input_shape[1:]:
            if out[self.axis] is None or shape[self.axis] is None:
                out[self.axis] = None
                break
            out[self.axis] += shape[self.axis]
        return tuple(out)

    def compute_mask(self, inputs, mask=None):
        if mask is None or not isinstance(mask, (list, tuple)) or all(m is None for m in mask):
            return None
        masks = []
        for x, m in zip(inputs, mask):
            if m is None:
                m = torch.ones_like(x, dtype=torch.bool)
            elif m.dim() < x.dim():
                m = m.unsqueeze(-1).expand(x.shape)
            masks.append(m)
        return torch.cat(masks, dim=self.axis).any(dim=-1)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Dot(Merge):
    """Batched dot product of two tensors along `axes`: for `(batch, n)` inputs, `(batch, 1)`
    sums of products; for `(batch, t, d)` x `(batch, d, u)` with `axes=(2, 1)`, a batched
    matmul.

    Args:
        axes: Int or a pair of ints: the axis of each input to contract (not 0, the batch).
        normalize: If True, L2-normalise both inputs along `axes` first (cosine similarity).
    """

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axes, int):
            if not isinstance(axes, (list, tuple)):
                raise TypeError("Invalid type for argument `axes`: it should be a list or an "
                                f"int. Received: axes={axes}")
            if len(axes) != 2:
                raise ValueError("Invalid format for argument `axes`: it should contain two "
                                 f"elements. Received: axes={axes}")
            if not isinstance(axes[0], int) or not isinstance(axes[1], int):
                raise ValueError("Invalid format for argument `axes`: list elements should be "
                                 f"integers. Received: axes={axes}")
        self.axes = axes
        self.normalize = normalize
        self.supports_masking = True

    def _resolve_axes(self, ndim1, ndim2):
        axes = (self.axes, self.axes) if isinstance(self.axes, int) else self.axes
        return [a % n if a < 0 else a for a, n in zip(axes, (ndim1, ndim2))]

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2 or \
                not isinstance(input_shape[0], (list, tuple)):
            raise ValueError(f"Layer '{self.name}' (Dot) should be called on a list of 2 "
                             f"inputs. Received: input_shape={input_shape}")
        shape1, shape2 = input_shape
        a1, a2 = self._resolve_axes(len(shape1), len(shape2))
        if 0 in (a1, a2):
            raise ValueError(f"Layer '{self.name}' (Dot) cannot contract the batch axis 0. "
                             f"Received: axes={self.axes}")
        if a1 >= len(shape1) or a2 >= len(shape2) or shape1[a1] != shape2[a2]:
            raise ValueError(f"Layer '{self.name}' (Dot): incompatible input shapes for "
                             f"axes={self.axes}: {tuple(shape1)} and {tuple(shape2)}")
        self.built = True

    def call(self, inputs, mask=None):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(f"Layer '{self.name}' (Dot) should be called on exactly 2 inputs.")
        x, y = inputs
        a1, a2 = self._resolve_axes(x.dim(), y.dim())
        if self.normalize:
            x = F.normalize(x, dim=a1, eps=1e-7)
            y = F.normalize(y, dim=a2, eps=1e-7)
        # Keras' batch_dot: x's contracted axis last, y's second; one bmm on flattened rest.
        x = x.movedim(a1, -1)
        y = y.movedim(a2, 1)
        rest_x, rest_y = x.shape[1:-1], y.shape[2:]
        out = torch.bmm(x.reshape(x.shape[0], -1, x.shape[-1]),
                        y.reshape(y.shape[0], y.shape[1], -1))
        out = out.reshape(x.shape[0], *rest_x, *rest_y)
        return out.unsqueeze(-1) if out.dim() == 1 else out

    def compute_output_shape(self, input_shape):
        shape1, shape2 = list(input_shape[0]), list(input_shape[1])
        a1, a2 = self._resolve_axes(len(shape1), len(shape2))
        shape1.pop(a1)
        shape2.pop(a2)
        shape2.pop(0)
        out = shape1 + shape2
        return tuple(out + [1] if len(out) == 1 else out)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


# ---------------------------------------------------------------------- functional forms
def add(inputs, **kwargs):
    """`Add(**kwargs)(inputs)`."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """`Subtract(**kwargs)(inputs)`."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """`Multiply(**kwargs)(inputs)`."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """`Average(**kwargs)(inputs)`."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """`Maximum(**kwargs)(inputs)`."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """`Minimum(**kwargs)(inputs)`."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """`Concatenate(axis=axis, **kwargs)(inputs)`."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, **kwargs):
    """`Dot(axes=axes, **kwargs)(inputs)`."""
    return Dot(axes=axes, **kwargs)(inputs)
