"""`keras.Variable` over torch tensors, and Keras' name scopes (which make variable paths).

A layer's state stays torch-native (the parameters and buffers of the equivalent torch module);
a `Variable` is a Keras-facing handle on one of those tensors. See `Variable` for which of its
views is torch's and which Keras'.
"""

import contextlib

import numpy as np
import torch
from torch import nn

from kerastorch.utils.naming import uniquify

_AGGREGATIONS = (None, "none", "mean", "sum", "only_first_replica")
_SYNCHRONIZATIONS = (None, "none", "on_read", "on_write", "auto")
# Set on tensors that kerastorch's stateless functions return in torch's layout (the layout of
# `Variable.value`), so that `variable.assign(value)` writes them back without transposing.
_TORCH_LAYOUT = "_kerastorch_torch_layout"


# ---------------------------------------------------------------------- name scopes
class _Scope:
    __slots__ = ("name", "caller", "parent")

    def __init__(self, name, caller, parent):
        self.name, self.caller, self.parent = name, caller, parent


_SCOPES: list = []


def current_path() -> str:
    """The path of the innermost name scope (`"sequential/dense"`), `""` outside any."""
    parts: list = []
    for scope in _SCOPES:
        if scope.parent is not None:  # a layer's scope restarts from where it was first opened
            parts = [p for p in scope.parent.split("/") if p]
        parts.append(scope.name)
    return "/".join(parts)


@contextlib.contextmanager
def name_scope(name, caller=None, deduplicate=True, override_parent=None):
    """Open a sub-namespace of variable paths (Keras' `keras.name_scope`).

    Args:
        name: A string without `/`.
        caller: The object opening it (a layer); reopening the scope of the same caller and
            name directly inside itself does not nest it twice.
        deduplicate: Whether that de-duplication applies.
        override_parent: An absolute path the scope starts from, instead of the enclosing ones
            (default: the caller's `_parent_path`, where its scope was first opened).
    """
    if not isinstance(name, str) or "/" in name:
        raise ValueError("Argument `name` must be a string and cannot contain character `/`. "
                         f"Received: name={name}")
    if override_parent is None and deduplicate:
        override_parent = getattr(caller, "_parent_path", None)
    top = _SCOPES[-1] if _SCOPES else None
    if deduplicate and top is not None and caller is not None and top.caller is caller \
            and top.name == name:
        yield
        return
    _SCOPES.append(_Scope(name, caller, override_parent))
    try:
        yield
    finally:
        _SCOPES.pop()


def _join(prefix, name):
    return f"{prefix}/{name}" if prefix else name


# ---------------------------------------------------------------------- the Variable
def _unwrap(x):
    if isinstance(x, Variable):
        return x._keras()
    if isinstance(x, (list, tuple)) and any(isinstance(e, Variable) for e in x):
        return type(x)(_unwrap(e) for e in x)
    return x


def _ops():
    from kerastorch import ops
    return ops


def _callable_or_none(name):
    """A property holding a callable or None (`regularizer`, `constraint`)."""
    private = "_" + name

    def write(self, value):
        if value is not None and not callable(value):
            raise ValueError(f"Invalid value for attribute `{name}`. Expected a callable or "
                             f"`None`. Received: {name}={value}")
        setattr(self, private, value)

    return property(lambda self: getattr(self, private), write)


class Variable:
    """A Keras variable: named, path-addressed state you can read, assign and compute with.

    Two views of one piece of state:

    * torch's: `value` is the torch tensor that holds it. For a layer's weight that is the
      layer's own `nn.Parameter` (or buffer, when not trainable) in the torch module's layout
      (a Dense kernel is `weight`, `(out, in)`), the tensor `state_dict()`, `parameters()` and
      torch optimizers see, so `v.value.grad` is the gradient torch computed for it. The
      stateless functions (`model.stateless_call`, `optimizer.stateless_apply`,
      `metric.stateless_update_state`) take and return values in this layout, and so do
      gradients given to `optimizer.apply` (Keras-layout arrays are accepted where the two
      shapes differ); `assign` writes back what those functions returned as it is.
    * Keras': `shape`, `numpy()`, `__array__`, `assign`/`assign_add`/`assign_sub`, indexing, the
      arithmetic and comparison operators, `kerastorch.ops` calls and any torch function given
      the variable (through `__torch_function__`) all use Keras' layout (a Dense kernel is
      `(in, out)`), computed live from `value` so gradients flow to it. For most variables
      (biases, user weights from `add_weight`, `keras.Variable(...)`) the two layouts are the
      same tensor.

    Args:
        initializer: Initial value (array, tensor, number), or an initializer (name, instance or
            callable `fn(shape, dtype=None)`) called with `shape`.
        shape: Required with an initializer; checked against an initial value.
        dtype: Default: the initial value's dtype (numpy float64 and int64 narrow to float32 and
            int32, as in Keras), else `floatx()`.
        trainable: Whether training updates it (`value.requires_grad`).
        autocast, aggregation, synchronization: Keras' annotations, kept for the API.
        name: Default `variable`, made unique (`variable_1`, ...).

    Example:

    ```python
    v = keras.Variable(np.ones((2, 3)), name="v")
    v.assign_add(np.ones((2, 3)))   # in place, on v.value
    y = keras.ops.matmul(x, v)      # differentiable; v.value.grad after backward
    ```
    """

    __array_priority__ = 100  # `array <op> variable` defers to the variable's reflected op

    def __init__(self, initializer, shape=None, dtype=None, trainable=True, autocast=True,
                 aggregation="none", synchronization="auto", name=None, **kwargs):
        kwargs.pop("layout", None)
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to Variable: {kwargs}")
        name = name or uniquify("variable")
        if not isinstance(name, str) or "/" in name:
            raise ValueError("Argument `name` must be a string and cannot contain character "
                             f"`/`. Received: name={name}")
        if aggregation not in _AGGREGATIONS:
            raise ValueError("Invalid value for argument `aggregation`. Expected one of "
                             f"{_AGGREGATIONS}. Received: aggregation={aggregation}")
        if synchronization not in _SYNCHRONIZATIONS:
            raise ValueError("Invalid value for argument `synchronization`. Expected one of "
                             f"{_SYNCHRONIZATIONS}. Received: synchronization={synchronization}")
        tensor = _initial_value(initializer, shape, dtype, name)
        tensor = tensor.to(_default_device())
        if trainable and (tensor.is_floating_point() or tensor.is_complex()):
            tensor = nn.Parameter(tensor)
        self._setup({"value": tensor}, "value", name, _join(current_path(), name),
                    aggregation=aggregation or "none",
                    synchronization=synchronization or "none", autocast=autocast)
        self._standalone = True  # a layer it is assigned to adopts it (`self.w = Variable(...)`)

    def _setup(self, store, key, name, path, to_keras=None, from_keras=None, aggregation="none",
               synchronization="auto", autocast=True):
        self._store, self._key = store, key
        self._name, self._path = name, path
        self._to_keras, self._from_keras = to_keras, from_keras
        self._aggregation, self._synchronization = aggregation, synchronization
        self._autocast = bool(autocast)
        self._regularizer = self._constraint = None
        self._overwrite_with_gradient = False
        self._keras_shape = None  # (torch shape, Keras shape) of the latest translation

    @classmethod
    def _bound(cls, store, key, name, path, to_keras=None, from_keras=None, **kwargs):
        """A variable over `store[key]` (a module's `_parameters` or `_buffers`, a metric's or
        an optimizer's state): the tensor is looked up on each use, so `.to(device)`, loading a
        state dict or `torch.func.functional_call` swapping it keeps the variable valid."""
        var = cls.__new__(cls)
        var._setup(store, key, name, path, to_keras, from_keras, **kwargs)
        return var

    # ------------------------------------------------------------------ torch's view
    @property
    def value(self) -> torch.Tensor:
        """The torch tensor that holds the state, in torch's layout (see the class docs)."""
        return self._store[self._key]

    def _keras(self) -> torch.Tensor:
        """The state in Keras' layout, live (differentiable through `value`)."""
        value = self._store[self._key]
        return value if self._to_keras is None else self._to_keras(value)

    def _keras_detached(self) -> torch.Tensor:
        value = self._store[self._key].detach()
        return value if self._to_keras is None else self._to_keras(value)

    # ------------------------------------------------------------------ attributes
    @property
    def shape(self) -> tuple:
        """Keras' shape (a Dense kernel is `(in, out)`; `value.shape` is torch's)."""
        value = self._store[self._key]
        if self._to_keras is None:
            return tuple(value.shape)
        cached = self._keras_shape
        if cached is None or cached[0] != value.shape:
            cached = self._keras_shape = (value.shape, tuple(self._keras_detached().shape))
        return cached[1]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def dtype(self) -> str:
        from kerastorch.ops._dtypes import standardize_dtype
        return standardize_dtype(self._store[self._key].dtype)

    @property
    def name(self) -> str:
        return self._name

    @property
    def path(self) -> str:
        """Where the variable lives: `sequential/dense/kernel` (the name scopes it was made in)."""
        return self._path

    @property
    def trainable(self) -> bool:
        value = self._store[self._key]
        return isinstance(value, nn.Parameter) and value.requires_grad

    @trainable.setter
    def trainable(self, value):
        value = bool(value)
        tensor = self._store[self._key]
        if value and not isinstance(tensor, nn.Parameter):
            self._make_parameter()
        else:
            tensor.requires_grad_(value)
        owner = self.__dict__.get("_owner")
        if owner is not None:  # `layer.trainable = True` later keeps this one frozen
            keys = owner.__dict__.setdefault("_frozen_keys", set())
            (keys.discard if value else keys.add)(self._key)

    def _make_parameter(self):
        """A non-trainable variable made trainable: its buffer becomes a parameter (same key,
        same state-dict entry), so `parameters()` and optimizers see it."""
        tensor = self._store[self._key]
        param = nn.Parameter(tensor.detach(), requires_grad=True)
        owner = self.__dict__.get("_owner")
        if owner is not None and self._store is owner._buffers:
            del owner._buffers[self._key]
            owner._non_persistent_buffers_set.discard(self._key)
            owner._parameters[self._key] = param
            self._store = owner._parameters
        else:
            self._store[self._key] = param

    @property
    def aggregation(self):
        return self._aggregation

    @property
    def synchronization(self):
        return self._synchronization

    @property
    def autocast(self):
        return self._autocast

    regularizer = _callable_or_none("regularizer")
    constraint = _callable_or_none("constraint")

    @property
    def overwrite_with_gradient(self):
        return self._overwrite_with_gradient

    @overwrite_with_gradient.setter
    def overwrite_with_gradient(self, value):
        if not isinstance(value, bool):
            raise TypeError(f"`overwrite_with_gradient` must be a boolean. Received: {value}")
        self._overwrite_with_gradient = value

    # ------------------------------------------------------------------ reading
    def numpy(self) -> np.ndarray:
        """A copy of the value in Keras' layout."""
        t = self._keras_detached()
        if t.dtype == torch.bfloat16:
            return _ops().convert_to_numpy(t)
        return t.cpu().numpy().copy() if t.device.type == "cpu" else t.cpu().numpy()

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array.astype(dtype) if dtype is not None else array

    def __getitem__(self, idx):
        return self._keras()[idx]

    def __int__(self):
        self._check_scalar()
        return int(self._store[self._key].detach())

    def __float__(self):
        self._check_scalar()
        return float(self._store[self._key].detach())

    def _check_scalar(self):
        if self.ndim > 0:
            raise TypeError("Only scalar arrays can be converted to Python scalars. "
                            f"Got: shape={self.shape}")

    def __bool__(self):
        raise TypeError("A Keras Variable cannot be used as a boolean.")

    __hash__ = object.__hash__

    def __repr__(self):
        try:
            value = f", value={self.numpy()}"
        except Exception:  # e.g. a meta tensor
            value = ""
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}{value}>"

    # ------------------------------------------------------------------ writing
    def assign(self, value):
        """Set the value, given in Keras' layout (in place on `value`'s storage, no gradient).

        A tensor that kerastorch's stateless functions returned (in torch's layout, like
        `.value`) is written as it is. Returns the assigned value in Keras' layout.
        """
        target = self._store[self._key]
        if isinstance(value, Variable):
            new = value._keras_detached()
        elif type(value) is torch.Tensor and value.__dict__.get(_TORCH_LAYOUT):
            if tuple(value.shape) != tuple(target.shape):
                raise ValueError(self._shape_error(value.shape, tuple(target.shape)))
            with torch.no_grad():
                target.copy_(value.to(target.device, target.dtype))
            return self._keras_detached()
        else:
            new = value
        new = _as_tensor(new, target)
        if tuple(new.shape) != self.shape:
            raise ValueError(self._shape_error(new.shape, self.shape))
        if self._from_keras is not None:
            new = self._from_keras(new)
        with torch.no_grad():
            target.copy_(new)
        return self._keras_detached()

    def _shape_error(self, got, want):
        return (f"The shape of the target variable and the shape of the target value in "
                f"`variable.assign(value)` must match. Variable '{self.path}' has "
                f"variable.shape={tuple(want)}; received value.shape={tuple(got)}.")

    def assign_add(self, value):
        """`assign(self + value)`: in place, in Keras' layout."""
        return self.assign(_ops().add(self._keras_detached(), _unwrap(value)))

    def assign_sub(self, value):
        """`assign(self - value)`: in place, in Keras' layout."""
        return self.assign(_ops().subtract(self._keras_detached(), _unwrap(value)))

    def _to_value_layout(self, x, what="value", keep_graph=False) -> torch.Tensor:
        """`x` in `value`'s layout, device and dtype: a variable gives its value; a tensor or
        array shaped like `value` is taken as it is, one shaped like `shape` (Keras') is
        translated. Where both layouts have the same shape, torch's is meant. Detached unless
        `keep_graph` (a tensor then keeps its autograd history)."""
        target = self._store[self._key]
        if isinstance(x, Variable):
            x = x._store[x._key]
        if keep_graph and isinstance(x, torch.Tensor):
            x = x.to(target.device, target.dtype)
        else:
            x = _as_tensor(x, target)
        shape = tuple(x.shape)
        if shape == tuple(target.shape):
            return x
        if self._from_keras is not None and shape == self.shape:
            return self._from_keras(x)
        raise ValueError(f"Variable '{self.path}' has shape {self.shape} (Keras' layout) and "
                         f"{tuple(target.shape)} (torch's, `.value`); received a {what} of "
                         f"shape {shape}.")

    # ------------------------------------------------------------------ computing
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        args = [_unwrap(a) for a in args]
        kwargs = {k: _unwrap(v) for k, v in (kwargs or {}).items()}
        return func(*args, **kwargs)

    def __neg__(self):
        return _ops().negative(self._keras())

    def __pos__(self):
        return self._keras()

    def __abs__(self):
        return _ops().absolute(self._keras())

    def __invert__(self):
        return _ops().logical_not(self._keras()) if self.dtype == "bool" else \
            _ops().bitwise_invert(self._keras())

    def __round__(self, ndigits=None):
        return _ops().round(self._keras(), decimals=ndigits or 0)


def _binary(op_name, reflected=False):
    def method(self, other):
        fn = getattr(_ops(), op_name)
        other = _unwrap(other)
        return fn(other, self._keras()) if reflected else fn(self._keras(), other)
    method.__name__ = op_name
    return method


for _dunder, _op in (("add", "add"), ("sub", "subtract"), ("mul", "multiply"),
                     ("truediv", "true_divide"), ("floordiv", "floor_divide"), ("mod", "mod"),
                     ("pow", "power"), ("matmul", "matmul"), ("and", "logical_and"),
                     ("or", "logical_or"), ("xor", "logical_xor")):
    setattr(Variable, f"__{_dunder}__", _binary(_op))
    setattr(Variable, f"__r{_dunder}__", _binary(_op, reflected=True))
for _dunder, _op in (("eq", "equal"), ("ne", "not_equal"), ("lt", "less"),
                     ("le", "less_equal"), ("gt", "greater"), ("ge", "greater_equal")):
    setattr(Variable, f"__{_dunder}__", _binary(_op))
del _dunder, _op


# ---------------------------------------------------------------------- helpers
def _default_device():
    from kerastorch import config
    return config.device()


def _as_tensor(value, like: torch.Tensor) -> torch.Tensor:
    """`value` as a tensor with `like`'s device and dtype (no gradient)."""
    if isinstance(value, torch.Tensor):
        value = value.detach()
    elif isinstance(value, np.ndarray):
        value = torch.from_numpy(np.array(value))  # a copy: Keras' arrays may be read-only
    else:
        value = torch.as_tensor(np.asarray(value))
    return value.to(like.device, like.dtype)


def _initial_value(initializer, shape, dtype, name) -> torch.Tensor:
    from kerastorch import initializers
    from kerastorch.ops._dtypes import standardize_dtype, to_torch_dtype
    if isinstance(initializer, str):
        initializer = initializers.get(initializer)
    if isinstance(initializer, Variable):
        initializer = initializer._keras_detached().clone()
    if callable(initializer) and not isinstance(initializer, torch.Tensor):
        if shape is None:
            raise ValueError("When creating a Variable from an initializer, the `shape` "
                             f"argument should be specified. Received: initializer="
                             f"{initializer} and shape={shape}")
        shape = _check_shape(shape, name)
        torch_dtype = to_torch_dtype(standardize_dtype(dtype))
        value = _ops().convert_to_tensor(initializer(shape, dtype=torch_dtype))
        return value.detach().to(torch_dtype).clone()
    if dtype is not None:
        value = _ops().convert_to_tensor(initializer, dtype=standardize_dtype(dtype))
    else:
        value = _ops().convert_to_tensor(initializer)
    value = value.detach().clone()
    if shape is not None and tuple(_check_shape(shape, name)) != tuple(value.shape):
        raise ValueError(f"Variable '{name}': the initial value has shape "
                         f"{tuple(value.shape)}; received shape={tuple(shape)}.")
    return value


def _check_shape(shape, name) -> tuple:
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if any(d is None for d in shape):
        raise ValueError("Shapes used to initialize variables must be fully-defined (no `None` "
                         f"dimensions). Received: shape={shape} for variable path='{name}'")
    return tuple(int(d) for d in shape)


def mark_torch_layout(tensor: torch.Tensor) -> torch.Tensor:
    """Flag a value returned in `Variable.value`'s layout (see `Variable.assign`)."""
    tensor.__dict__[_TORCH_LAYOUT] = True
    return tensor


def wrap_tensor(tensor: torch.Tensor, name: str, path: str | None = None) -> Variable:
    """A variable over an existing tensor (a metric's state): same object, same storage."""
    return Variable._bound({"value": tensor}, "value", name, path or name)
