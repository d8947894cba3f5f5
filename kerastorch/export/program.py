"""A Keras model as a plain-torch program: submodules (with their constructors), forward lines,
and, for a stack of modules, the `nn.Sequential` equivalent.

`build_program(model)` walks a built `Sequential` or functional model once; `module_source`
renders the program as the source of an `nn.Module` subclass whose state dict keys are the
kerastorch model's (`Sequential`/functional models register each layer under its name, and
each layer keeps the names of its torch twin).
"""

import inspect
import keyword
import re

from kerastorch.export import layers as T
from kerastorch.export.steps import LAST, Unsupported, permute_dims

RESERVED = {"self", "torch", "nn", "F", "np", "math", "x", "super"}
MERGES = {"Add": " + ", "Subtract": " - ", "Multiply": " * "}


class Program:
    def __init__(self, name):
        self.name = name
        self.modules = []  # (key, ctor, comment)
        self.init_lines = []  # extra lines after the modules (code, comment)
        self.inputs = []  # (variable, keras shape)
        self.lines = []  # (code, comment)
        self.output = "x"
        self.sequential = None  # [(key, ctor)] when the model is a plain stack of modules


def _needs_parens(expr):
    depth = 0
    for ch in expr:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and ch in " +-*/@<>=":
            return True
    return False


def compose(template, inner, module_ref):
    """`template` with `{x}` -> `inner` (parenthesised where precedence needs it), `{m}` ->
    `module_ref`."""
    i = template.index("{x}")
    before, after = template[:i], template[i + 3:]
    plain = (before.endswith(("(", "[", ", ")) and after.startswith((")", ",", "]"))) or \
        (not before and not after)
    if not plain and _needs_parens(inner):
        inner = f"({inner})"
    return before.replace("{m}", module_ref) + inner + after.replace("{m}", module_ref)


def identifier(name, taken):
    """A fresh Python identifier close to `name`."""
    base = re.sub(r"\W", "_", name)
    if not base or base[0].isdigit() or keyword.iskeyword(base) or base in RESERVED:
        base = "v_" + base
    ident, k = base, 1
    while ident in taken:
        ident, k = f"{base}_{k}", k + 1
    taken.add(ident)
    return ident


def attribute_ok(key):
    """Whether `self.<key>` can name the submodule (not a keyword nor an nn.Module attribute)."""
    from torch import nn
    return key.isidentifier() and not keyword.iskeyword(key) and not hasattr(nn.Module, key) \
        and key != "training"


def module_ref(key):
    return f"self.{key}" if attribute_ok(key) else f"self._modules[{key!r}]"


def describe(layer):
    """`Dense(units=64, activation='relu')`: the layer's non-default constructor arguments."""
    try:
        config = layer.get_config()
        params = inspect.signature(type(layer).__init__).parameters
    except Exception:  # noqa: BLE001 - a description is best effort
        return type(layer).__name__
    parts = []
    for name, p in params.items():
        if name in ("self", "name", "dtype", "trainable") or p.kind in (p.VAR_KEYWORD,
                                                                          p.VAR_POSITIONAL):
            continue
        if name not in config:
            continue
        value = config[name]
        default = p.default
        if isinstance(value, (list, tuple)) and not isinstance(default, (list, tuple)) and \
                len(set(value)) == 1 and value and value[0] == default:
            continue
        if p.default is not p.empty and (value == default or (
                isinstance(default, tuple) and isinstance(value, (list, tuple))
                and tuple(value) == default)):
            continue
        if default is None and value in ("linear", "channels_last"):
            continue  # what None resolves to
        if isinstance(value, dict):
            continue  # initializers, regularizers: not part of the forward pass
        parts.append(f"{name}={tuple(value) if isinstance(value, list) else value!r}")
    return f"{type(layer).__name__}({', '.join(parts)})"


# ---------------------------------------------------------------------- building
def build_program(model):
    from kerastorch.models.functional import Functional
    from kerastorch.models.sequential import Sequential
    if isinstance(model, Sequential):
        return _sequential_program(model)
    if isinstance(model, Functional):
        return _functional_program(model)
    raise Unsupported(f"Model '{model.name}' ({type(model).__name__}) is a subclassed model: "
                      "its `call` is Python code that kerastorch.export cannot translate. Use "
                      "`torch.export` (model.export(..., format='torch')) instead.")


def _check_layer(model, layer):
    from kerastorch.models.model import Model
    if isinstance(layer, Model):
        raise Unsupported(f"Model '{model.name}': nested model '{layer.name}' is not "
                          "translated; build the model from layers.")


def _sequential_program(model):
    if not model.built:
        raise ValueError(f"Model '{model.name}' is not built: call it on data or give it an "
                         "`Input` before exporting.")
    prog = Program(model.name)
    shape = tuple(model._batch_input_shape)
    prog.inputs = [("x", shape)]
    layout, expr = LAST, "x"
    seq, seq_ok, keys = [], True, set()
    for layer in model.layers:
        _check_layer(model, layer)
        steps, layout = T.translate(layer, shape, layout)
        shape = tuple(layer.compute_output_shape(shape))
        if not steps:
            continue
        expr = "x"
        for step in steps:
            expr = _apply(prog, layer, step, expr)
        prog.lines.append((f"x = {expr}", _line_comment(layer, steps)))
        # nn.Sequential form: one module per step, the weighted one under the layer's name.
        for step in steps:
            if step.ctor is None or (step.key is not None and step.expr != "{m}({x})"):
                seq_ok = False
                break
            key = step.key or (layer.name if len(steps) == 1 else f"{layer.name}_{step.suffix}")
            while key in keys:
                key += "_"
            keys.add(key)
            seq.append((key, step.ctor))
    dims = permute_dims(len(shape), layout, LAST)
    if dims is not None:
        prog.lines.append((f"x = x.permute{dims}", "back to Keras' channels_last layout"))
        seq.append(("output_permute", f"Permute({list(dims)})"))
    prog.sequential = seq if seq_ok else None
    return prog


def _line_comment(layer, steps):
    """The layer's name; with its description when no `__init__` line shows it already."""
    if any(step.key is not None for step in steps):
        return layer.name
    return f"{layer.name}: {describe(layer)}"


def _apply(prog, layer, step, expr):
    """Register the step's module (if it has weights) and return the composed expression."""
    ref = ""
    if step.key is not None:
        ref = module_ref(step.key)
        if any(key == step.key for key, _, _ in prog.modules):  # a shared layer: called again
            return compose(step.expr, expr, ref)
        prog.modules.append((step.key, step.ctor, describe(layer)))
        for name in T.rnn_frozen_bias(layer):
            prog.init_lines.append((f"{ref}.{name}.requires_grad_(False)",
                                    f"Keras' {type(layer).__name__} has one bias: {name} "
                                    "stays 0"))
    return compose(step.expr, expr, ref)


def _functional_program(model):
    from kerastorch.export.ops import op_expression
    from kerastorch.layers.symbolic_ops import SymbolicOp
    from kerastorch.models.functional import _flatten
    prog = Program(model.name)
    taken = set()
    var_of = {}  # id(KerasTensor) -> (variable, shape, layout)
    for t in model._flat_inputs:
        name = identifier(t._keras_history[0].name, taken)
        var_of[id(t)] = (name, tuple(t.shape), LAST)
        prog.inputs.append((name, tuple(t.shape)))
    for node in model._nodes:
        layer = node.layer
        _check_layer(model, layer)
        ins = _flatten((node.args, node.kwargs))
        extra = {k: v for k, v in node.kwargs.items() if _flatten(v) == [] and v is not None}
        if extra:
            raise Unsupported(f"Layer '{layer.name}' is called with {sorted(extra)}: not "
                              "translated.")
        if len(node.outputs) != 1:
            raise Unsupported(f"Layer '{layer.name}' ({type(layer).__name__}) has "
                              f"{len(node.outputs)} outputs: not translated.")
        out_t = node.outputs[0]
        values = [var_of[id(t)] for t in ins]
        if isinstance(layer, SymbolicOp):  # `x * 2`, `x[:, :1]`...
            expr, layout = op_expression(prog, layer, node, var_of)
            steps = None
        elif len(values) == 1 and type(layer) in T.TRANSLATORS:
            var, shape, layout = values[0]
            steps, layout = T.translate(layer, shape, layout)
            expr = var
            for step in steps:
                expr = _apply(prog, layer, step, expr)
        else:
            expr, layout = _merge(layer, values)
            steps = []
        if expr.isidentifier():  # Identity and friends: reuse the variable
            var_of[id(out_t)] = (expr, tuple(out_t.shape), layout)
            continue
        name = identifier(layer.name, taken)
        comment = f"{layer.name} ({type(layer).__name__})" if steps is None else \
            _line_comment(layer, steps)
        prog.lines.append((f"{name} = {expr}", comment))
        var_of[id(out_t)] = (name, tuple(out_t.shape), layout)

    def out_expr(structure):
        if isinstance(structure, dict):
            return "{" + ", ".join(f"{k!r}: {out_expr(v)}" for k, v in structure.items()) + "}"
        if isinstance(structure, (list, tuple)):
            return "[" + ", ".join(out_expr(v) for v in structure) + "]"
        var, shape, layout = var_of[id(structure)]
        dims = permute_dims(len(shape), layout, LAST)
        return var if dims is None else f"{var}.permute{dims}"

    prog.output = out_expr(model._outputs_struct)
    order = {key: i for i, key in enumerate(model._modules)}  # the model's state dict order
    prog.modules.sort(key=lambda entry: order.get(entry[0], len(order)))
    return prog


def _merge(layer, values):
    """Merging layers on several variables: (expression, layout)."""
    from kerastorch import layers as L
    kind = type(layer).__name__
    layouts = {layout for _, _, layout in values}
    layout = layouts.pop() if len(layouts) == 1 else LAST

    def var(v):
        name, shape, cur = v
        dims = permute_dims(len(shape), cur, layout)
        return name if dims is None else f"{name}.permute{dims}"

    names = [var(v) for v in values]
    if kind in MERGES and type(layer) in (L.Add, L.Subtract, L.Multiply):
        return MERGES[kind].join(names), layout
    if type(layer) is L.Average:
        return f"({' + '.join(names)}) / {len(names)}", layout
    if type(layer) in (L.Maximum, L.Minimum):
        fn = "torch.maximum" if kind == "Maximum" else "torch.minimum"
        expr = names[0]
        for n in names[1:]:
            expr = f"{fn}({expr}, {n})"
        return expr, layout
    if type(layer) is L.Concatenate:
        layout = LAST
        names = [var(v) for v in values]
        return f"torch.cat([{', '.join(names)}], dim={layer.axis})", LAST
    raise Unsupported(f"Layer '{layer.name}' ({kind}) has no PyTorch translation in "
                      "kerastorch.export.")


# ---------------------------------------------------------------------- rendering
def class_name(model_name):
    parts = re.split(r"\W|_", model_name)
    name = "".join(p[:1].upper() + p[1:] for p in parts if p) or "Model"
    return name if name.isidentifier() and not name[0].isdigit() else "Model" + name


def module_source(prog, cls):
    """The `nn.Module` class of `prog`, named `cls`, as source lines."""
    out = [f"class {cls}(nn.Module):",
           f'    """Keras model {prog.name!r} in plain PyTorch. Inputs and outputs are laid out',
           "    as in Keras (images channels_last). Call `.eval()` for Keras' inference mode",
           '    (Dropout off, BatchNorm on its moving statistics)."""', "",
           "    def __init__(self):", "        super().__init__()"]
    for key, ctor, comment in prog.modules:
        target = f"self.{key}" if attribute_ok(key) else None
        line = (f"        {target} = {ctor}" if target else
                f"        self.add_module({key!r}, {ctor})")
        out.append(_with_comment(line, comment))
    for code, comment in prog.init_lines:
        out.append(_with_comment(f"        {code}", comment))
    args = ", ".join(name for name, _ in prog.inputs)
    shapes = ", ".join(f"{name}: {_shape_text(shape)}" for name, shape in prog.inputs)
    out += ["", f"    def forward(self, {args}):  # {shapes}"]
    for code, comment in prog.lines:
        out.append(_with_comment(f"        {code}", comment))
    out.append(f"        return {prog.output}")
    return out


def _shape_text(shape):
    return "(" + ", ".join("batch" if i == 0 and d is None else ("?" if d is None else str(d))
                           for i, d in enumerate(shape)) + ")"


def _with_comment(line, comment):
    return f"{line}  # {comment}" if comment else line

