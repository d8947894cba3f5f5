"""Ops on symbolic tensors: `keras.ops.expand_dims(inputs, 1)` in a functional model records a
Keras op node (`ExpandDims`), as Keras 3 does, through `layers.symbolic_ops.symbolic_call`.

`symbolic(fn, module)` wraps a public op: with no `KerasTensor` among its arguments it calls
`fn` at once (one scan of the arguments); with one, it records the node. Keras' op classes take
the tensor arguments in `call` and the others in the constructor (`ExpandDims(axis)(x)`): the
arguments up to the last tensor-like one (a KerasTensor, or a parameter Keras names as a tensor)
become the node's call arguments, the rest its config, so the op's config reads as Keras'.
"""

import functools
import inspect

from kerastorch.ops.core import _is_keras_tensor

_MODULES = {"numpy": "keras.src.ops.numpy", "nn": "keras.src.ops.nn",
            "math": "keras.src.ops.math", "linalg": "keras.src.ops.linalg",
            "core": "keras.src.ops.core"}
# parameters Keras' op classes take in `call` even when given a constant (`ops.add(x, 2)`)
_TENSOR_PARAMS = frozenset({
    "x", "x1", "x2", "y", "a", "b", "inputs", "xs", "condition", "elements", "indices",
    "values", "updates", "target", "output", "logits", "labels", "mean", "variance", "offset",
    "scale", "kernel", "segment_ids", "predictions", "targets", "arr", "q", "k", "v", "query",
    "key", "value", "bias", "mask", "weights", "sample_weight"})
# ops that take callables, give Python values or convert: no node for these
NOT_SYMBOLIC = frozenset({
    "shape", "is_tensor", "convert_to_tensor", "convert_to_numpy", "custom_gradient", "cond",
    "while_loop", "fori_loop", "scan", "associative_scan", "map", "vectorized_map", "switch",
    "dtype", "jvp", "result_type"})


_SEQUENCES = (list, tuple)


def _is_kt(value) -> bool:
    """A KerasTensor, or a list/tuple holding one."""
    if isinstance(value, _SEQUENCES):
        return any(_is_keras_tensor(v) for v in value)
    return _is_keras_tensor(value)


def _class_name(fn_name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in fn_name.split("_") if part)


def symbolic(fn, namespace: str):
    """`fn` that records a Keras op node when an argument is a KerasTensor."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return fn
    class_name, module = _class_name(fn.__name__), _MODULES[namespace]

    @functools.wraps(fn)
    def op(*args, **kwargs):
        for a in args:  # the eager path: one type check per argument
            if _is_keras_tensor(a) or type(a) in _SEQUENCES and _is_kt(a):
                break
        else:
            if not kwargs or not any(_is_kt(v) for v in kwargs.values()):
                return fn(*args, **kwargs)
        from kerastorch.layers.symbolic_ops import symbolic_call
        given = signature.bind(*args, **kwargs).arguments
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()  # Keras' op configs list the constructor's defaults too
        names = list(signature.parameters)
        last = max(names.index(n) for n, v in given.items()
                   if _is_kt(v) or n in _TENSOR_PARAMS)
        call, config = [], {}
        for name, value in bound.arguments.items():
            kind = signature.parameters[name].kind
            if kind is inspect.Parameter.VAR_POSITIONAL:
                call.extend(value)
            elif kind is inspect.Parameter.VAR_KEYWORD:
                config.update(value)
            elif names.index(name) <= last and kind is not inspect.Parameter.KEYWORD_ONLY:
                call.append(value)
            else:
                config[name] = value
        if any(_is_kt(v) for v in config.values()):  # a tensor after a constant: all in call
            return symbolic_call(class_name, fn, args, kwargs, module=module)
        return symbolic_call(class_name, fn, call, {}, config=config, module=module)

    op.__wrapped_op__ = fn
    return op


def install(package, namespaces) -> None:
    """Wrap every public function of the `namespaces` modules ({name: module}) and of
    `package` (the flat `kerastorch.ops`), each function once."""
    wrapped = {}
    for namespace, module in namespaces.items():
        for name in list(vars(module)):
            fn = getattr(module, name)
            if name.startswith("_") or name in NOT_SYMBOLIC or not inspect.isfunction(fn):
                continue
            if id(fn) not in wrapped:
                wrapped[id(fn)] = symbolic(fn, namespace)
            setattr(module, name, wrapped[id(fn)])
    for name in list(vars(package)):
        fn = getattr(package, name)
        if inspect.isfunction(fn) and id(fn) in wrapped:
            setattr(package, name, wrapped[id(fn)])
