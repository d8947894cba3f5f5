"""`keras.tree`: utilities over nested structures, with Keras 3's semantics (as on JAX).

Nodes are exactly `list`, `tuple`, `dict`, `collections.OrderedDict`, `collections.defaultdict`,
`collections.deque`, namedtuples and struct sequences (`time.struct_time`,
`torch.return_types.*`); anything else (tensors, arrays, strings, sets, subclasses of `list` or
`dict`) is a leaf, and so is `None` unless `none_is_leaf=False` says otherwise. Dicts and
defaultdicts are walked in sorted key order (keys of mixed types sort by type name first) and
rebuilt in their own key order; OrderedDicts keep their order.
"""

import collections
import warnings

__all__ = [
    "MAP_TO_NONE", "assert_same_paths", "assert_same_structure", "flatten", "flatten_with_path",
    "is_nested", "lists_to_tuples", "map_shape_structure", "map_structure",
    "map_structure_up_to", "pack_sequence_as", "traverse",
]


class MAP_TO_NONE:
    """Returned by a `traverse` function to put `None` in place of a sub-structure."""


_DICT_KINDS = ("dict", "OrderedDict", "defaultdict")
_EXPECTED = {
    "list": "list", "tuple": "tuple", "deque": "collections.deque",
    "namedtuple": "collections.namedtuple", "structseq": "PyStructSequence type",
    **dict.fromkeys(_DICT_KINDS,
                    "dict, collections.OrderedDict, or collections.defaultdict"),
}


def _is_namedtuple_type(cls) -> bool:
    if not issubclass(cls, tuple):
        return False
    fields = getattr(cls, "_fields", None)
    return (isinstance(fields, tuple) and all(type(f) is str for f in fields)
            and callable(getattr(cls, "_make", None))
            and callable(getattr(cls, "_asdict", None)))


def _is_structseq_type(cls) -> bool:
    counts = ("n_fields", "n_sequence_fields", "n_unnamed_fields")
    if cls.__bases__ != (tuple,) or not all(isinstance(getattr(cls, c, None), int)
                                            for c in counts):
        return False
    return not cls.__flags__ & (1 << 10)  # struct sequences cannot be subclassed


_EXACT = {list: "list", tuple: "tuple", dict: "dict", collections.OrderedDict: "OrderedDict",
          collections.defaultdict: "defaultdict", collections.deque: "deque"}


def _kind(x, none_is_leaf=True):
    """The node kind of `x`, or None when `x` is a leaf."""
    if x is None:
        return None if none_is_leaf else "none"
    cls = type(x)
    kind = _EXACT.get(cls)
    if kind is not None:
        return kind
    if issubclass(cls, tuple):
        if _is_namedtuple_type(cls):
            return "namedtuple"
        if _is_structseq_type(cls):
            return "structseq"
    return None


def _sorted_keys(keys) -> list:
    """Keys in sorted order; mixed types by (type name, key); insertion order if neither works."""
    keys = list(keys)
    try:
        return sorted(keys)
    except TypeError:
        pass
    try:
        return sorted(keys, key=lambda k: (f"{type(k).__module__}.{type(k).__qualname__}", k))
    except TypeError:
        return keys


class _Spec:
    """The shape of one node of a structure: its kind, what rebuilds it, and its children."""

    __slots__ = ("kind", "cls", "keys", "order", "extra", "children", "num_leaves")

    def __init__(self, kind, cls=None, keys=None, order=None, extra=None, children=()):
        self.kind, self.cls, self.keys, self.order, self.extra = kind, cls, keys, order, extra
        self.children = list(children)
        self.num_leaves = 1 if kind is None else sum(c.num_leaves for c in self.children)


_LEAF = _Spec(None)


def _node_parts(x, kind):
    """(path keys, children, spec keys, rebuild order, extra) of the node `x`."""
    if kind in _DICT_KINDS:
        keys = list(x) if kind == "OrderedDict" else _sorted_keys(x)
        extra = x.default_factory if kind == "defaultdict" else None
        return keys, [x[k] for k in keys], keys, list(x), extra
    if kind == "none":
        return [], [], None, None, None
    children = list(x)
    extra = x.maxlen if kind == "deque" else None
    return list(range(len(children))), children, None, None, extra


def _flatten(x, none_is_leaf=True, is_leaf=None, leaves=None, paths=None, path=()):
    """Appends the leaves of `x` (and their paths) and returns the structure's spec."""
    if is_leaf is not None and is_leaf(x):
        kind = None
    else:
        kind = _kind(x, none_is_leaf)
    if kind is None:
        leaves.append(x)
        if paths is not None:
            paths.append(path)
        return _LEAF
    path_keys, children, keys, order, extra = _node_parts(x, kind)
    specs = [_flatten(c, none_is_leaf, is_leaf, leaves, paths, path + (k,))
             for k, c in zip(path_keys, children)]
    return _Spec(kind, type(x), keys, order, extra, specs)


def _flatten_up_to(spec, x, none_is_leaf, out):
    """Appends the sub-structures of `x` found where `spec` has leaves; ValueError on any
    mismatch of node types, lengths or keys above them."""
    if spec.kind is None:
        out.append(x)
        return
    if spec.kind == "none":
        if x is not None:
            raise ValueError(f"Expected None, got {x!r}.")
        return
    kind = _kind(x, none_is_leaf)
    if spec.kind in _DICT_KINDS:
        if kind not in _DICT_KINDS:
            raise ValueError(f"Expected an instance of {_EXPECTED[spec.kind]}, got {x!r}.")
        if set(spec.keys) != set(x):
            expected, got = set(spec.keys), set(x)
            msg = (f"dictionary key mismatch; expected key(s): {list(spec.keys)}, "
                   f"got key(s): {_sorted_keys(got)}")
            if expected - got:
                msg += f", missing key(s): {_sorted_keys(expected - got)}"
            if got - expected:
                msg += f", extra key(s): {_sorted_keys(got - expected)}"
            raise ValueError(f"{msg}; {spec.kind}: {x!r}.")
        children = [x[k] for k in spec.keys]
    else:
        if kind != spec.kind:
            raise ValueError(f"Expected an instance of {_EXPECTED[spec.kind]}, got {x!r}.")
        if kind in ("namedtuple", "structseq") and type(x) is not spec.cls:
            label = "namedtuple" if kind == "namedtuple" else "PyStructSequence"
            raise ValueError(f"{label} type mismatch; expected type: {spec.cls!r}, "
                             f"got type: {type(x)!r}; tuple: {x!r}.")
        children = list(x)
        if len(children) != len(spec.children):
            label = {"namedtuple": "namedtuple", "structseq": "PyStructSequence"}.get(kind, kind)
            shown = "tuple" if kind in ("namedtuple", "structseq") else kind
            raise ValueError(f"{label} arity mismatch; expected: {len(spec.children)}, "
                             f"got: {len(children)}; {shown}: {x!r}.")
    for child_spec, child in zip(spec.children, children):
        _flatten_up_to(child_spec, child, none_is_leaf, out)


def _unflatten(spec, leaves):
    """Rebuilds the structure of `spec` from an iterator of leaves."""
    if spec.kind is None:
        return next(leaves)
    kind = spec.kind
    if kind == "none":
        return None
    children = [_unflatten(c, leaves) for c in spec.children]
    if kind in _DICT_KINDS:
        by_key = dict(zip(spec.keys, children))
        items = [(k, by_key[k]) for k in spec.order]
        if kind == "defaultdict":
            return collections.defaultdict(spec.extra, items)
        return spec.cls(items)
    if kind == "list":
        return children
    if kind == "tuple":
        return tuple(children)
    if kind == "deque":
        return collections.deque(children, maxlen=spec.extra)
    if kind == "namedtuple":
        return spec.cls(*children)
    return spec.cls(children)


def _pack(spec, flat: list):
    if len(flat) < spec.num_leaves:
        raise ValueError(f"Too few leaves for PyTreeSpec; expected: {spec.num_leaves}, "
                         f"got: {len(flat)}.")
    if len(flat) > spec.num_leaves:
        raise ValueError(f"Too many leaves for PyTreeSpec; expected: {spec.num_leaves}.")
    return _unflatten(spec, iter(flat))


def _check_callable(func, name="func"):
    if not callable(func):
        raise TypeError(f"`{name}` must be callable. Received: {name}={func!r} "
                        f"of type {type(func).__name__}")


def is_nested(structure) -> bool:
    """True when `structure` is a list, tuple, dict-like, deque, namedtuple or struct sequence."""
    return _kind(structure) is not None


def flatten(structure) -> list:
    """The leaves of `structure` in order (dicts by sorted key); a leaf gives `[leaf]`."""
    leaves = []
    _flatten(structure, leaves=leaves)
    return leaves


def flatten_with_path(structure) -> list:
    """`(path, leaf)` pairs; a path is the tuple of indices and keys leading to the leaf."""
    leaves, paths = [], []
    _flatten(structure, leaves=leaves, paths=paths)
    return list(zip(paths, leaves))


def _map(func, structures, none_is_leaf, check_leaves, is_leaf=None):
    first, *others = structures
    leaves = []
    spec = _flatten(first, none_is_leaf, is_leaf, leaves)
    columns = [leaves]
    for other in others:
        column = []
        _flatten_up_to(spec, other, none_is_leaf, column)
        columns.append(column)
    results = []
    for args in zip(*columns):
        if check_leaves and any(_kind(a, none_is_leaf) is not None for a in args):
            raise ValueError("Structures don't have the same nested structure.")
        results.append(func(*args))
    return _unflatten(spec, iter(results))


def map_structure(func, *structures, none_is_leaf=True):
    """`func` applied to the leaves of `structures` (which must share one layout); the result
    has that layout. With `none_is_leaf=False`, `None`s are kept as they are."""
    _check_callable(func)
    if not isinstance(none_is_leaf, bool):
        raise TypeError(f"`none_is_leaf` must be a bool. Received: none_is_leaf={none_is_leaf!r}")
    if not structures:
        raise ValueError("Must provide at least one structure")
    if len(structures) == 1 and not is_nested(structures[0]):
        if structures[0] is None and not none_is_leaf:
            return None
        return func(structures[0])
    return _map(func, structures, none_is_leaf, check_leaves=len(structures) > 1)


def map_structure_up_to(shallow_structure, func, *structures):
    """`func` applied to the sub-structures of `structures` found at the leaves of
    `shallow_structure` (deeper parts are passed whole). The result has its layout."""
    _check_callable(func)
    if not structures:
        raise ValueError("Must provide at least one structure")

    def call(shallow, *args):
        if _kind(shallow, none_is_leaf=False) is not None:
            raise ValueError("Structures don't have the same nested structure.")
        return func(*args)

    return _map(call, (shallow_structure,) + structures, True, check_leaves=False)


def assert_same_structure(a, b, check_types=None):
    """ValueError unless `a` and `b` have the same nodes (types, lengths, keys) in the same
    places. `check_types` is deprecated and has no effect."""
    if check_types is not None:
        if check_types:
            message = ("The `check_types` argument is deprecated and no longer has any effect, "
                       "please remove.")
        else:
            message = ("The `check_types` argument is deprecated and no longer has any effect. "
                       "For a looser check, use `keras.tree.assert_same_paths()`, which "
                       "considers `list`, `tuple`, `namedtuple` and `deque` as matching")
        warnings.warn(message, DeprecationWarning, stacklevel=2)

    def both_leaves(x, y):
        if is_nested(x) or is_nested(y):
            raise ValueError("Structures don't have the same nested structure.")

    _map(both_leaves, (a, b), True, check_leaves=False)


def assert_same_paths(a, b):
    """ValueError unless `a` and `b` have the same leaf paths (node types are not compared)."""
    paths_a = {p for p, _ in flatten_with_path(a)}
    paths_b = {p for p, _ in flatten_with_path(b)}
    if paths_a == paths_b:
        return
    message = "`a` and `b` don't have the same paths."
    if paths_a - paths_b:
        message += f"\nPaths in `a` missing in `b`:\n{paths_a - paths_b}"
    if paths_b - paths_a:
        message += f"\nPaths in `b` missing in `a`:\n{paths_b - paths_a}"
    raise ValueError(message)


def pack_sequence_as(structure, flat_sequence):
    """The items of `flat_sequence` put into the layout of `structure` (the inverse of
    `flatten`: dicts take their values in sorted key order)."""
    try:
        flat = list(flat_sequence)
    except TypeError:
        raise TypeError("`flat_sequence` must be an iterable. Received: "
                        f"flat_sequence={flat_sequence!r} of type "
                        f"{type(flat_sequence).__name__}") from None
    spec = _flatten(structure, leaves=[])
    return _pack(spec, flat)


def traverse(func, structure, top_down=True):
    """Calls `func` on every sub-structure, parents first (`top_down`) or children first.

    A non-None return value replaces that sub-structure (top-down, its children are then not
    visited); `MAP_TO_NONE` replaces it with `None`; `None` keeps it.
    """
    _check_callable(func)
    return _traverse(func, structure, bool(top_down))


def _traverse(func, structure, top_down):
    def children_done():
        kind = _kind(structure)
        if kind is None:
            return structure
        _, children, keys, order, extra = _node_parts(structure, kind)
        done = [_traverse(func, c, top_down) for c in children]
        spec = _Spec(kind, type(structure), keys, order, extra, [_LEAF] * len(done))
        return _unflatten(spec, iter(done))

    if top_down:
        result = func(structure)
        if result is None:
            return children_done()
    else:
        structure = children_done()
        result = func(structure)
        if result is None:
            return structure
    return None if result is MAP_TO_NONE else result


def lists_to_tuples(structure):
    """`structure` with every list turned into a tuple."""
    return traverse(lambda s: tuple(s) if isinstance(s, list) else None, structure,
                    top_down=False)


def _is_shape(x) -> bool:
    return isinstance(x, (list, tuple)) and all(e is None or isinstance(e, int) for e in x)


def map_shape_structure(func, structure):
    """`map_structure` where lists and tuples of ints and Nones count as leaves (shapes)."""
    _check_callable(func)
    return _map(func, (structure,), True, check_leaves=False, is_leaf=_is_shape)
