"""Ops on KerasTensors (`x / 255.0`, `a + b`, `x[:, :2]`) as plain-torch expressions.

`op_expression(prog, op, node, var_of)` writes one op node of a functional graph as a Python
expression over the variables of its tensor arguments; constants are written inline (numbers,
slices) or, for arrays, as non-persistent buffers (they follow `.to(device)` and stay out of
the state dict). Elementwise ops keep the layout of their inputs when all of them share it;
the others (`Matmul`, `GetItem`) work on Keras' channels_last layout.
"""

import numbers

import numpy as np
import torch

from kerastorch.export.steps import LAST, Unsupported, permute_dims

BINARY = {"Add": "{} + {}", "Subtract": "{} - {}", "Multiply": "{} * {}",
          "TrueDivide": "{} / {}", "Divide": "{} / {}", "FloorDivide": "{} // {}",
          "Mod": "{} % {}", "Power": "{} ** {}", "Less": "{} < {}", "LessEqual": "{} <= {}",
          "Greater": "{} > {}", "GreaterEqual": "{} >= {}", "NotEqual": "{} != {}",
          "Matmul": "torch.matmul({}, {})", "LogicalAnd": "torch.logical_and({}, {})",
          "LogicalOr": "torch.logical_or({}, {})", "LogicalXor": "torch.logical_xor({}, {})"}
UNARY = {"Negative": "-{}", "Absolute": "torch.abs({})", "LogicalNot": "torch.logical_not({})"}
_LOGICAL = ("LogicalAnd", "LogicalOr", "LogicalXor")
_ELEMENTWISE = (set(BINARY) | set(UNARY)) - {"Matmul"}


def _int_text(value):
    if not isinstance(value, numbers.Integral):
        raise Unsupported(f"GetItem with slice bound {value!r}: not translated.")
    return repr(int(value))


def _index_text(key):
    if isinstance(key, list):
        key = tuple(key)
    if isinstance(key, tuple):
        return ", ".join(_index_text(k) for k in key) if key else "()"
    if key is None:
        return "None"
    if key is Ellipsis:
        return "..."
    if isinstance(key, slice):
        text = ":".join("" if v is None else _int_text(v) for v in (key.start, key.stop))
        return text + (f":{_int_text(key.step)}" if key.step is not None else "")
    if isinstance(key, numbers.Integral) and not isinstance(key, bool):
        return repr(int(key))
    raise Unsupported(f"GetItem with key {key!r}: only ints, slices, None and ... are "
                      "translated.")


def _constant(prog, op, value, index):
    if isinstance(value, bool) or isinstance(value, numbers.Number):
        value = value.item() if isinstance(value, np.generic) else value
        text = repr(value) if not isinstance(value, float) or np.isfinite(value) else \
            f"float({str(value)!r})"
        return f"({text})" if text.startswith("-") else text
    if isinstance(value, (np.ndarray, torch.Tensor)):
        array = np.asarray(value.detach().cpu() if isinstance(value, torch.Tensor) else value)
        name = f"{op.name}_const{index}"
        prog.init_lines.append((
            f"self.register_buffer({name!r}, torch.tensor({array.tolist()!r}, "
            f"dtype=torch.{array.dtype}), persistent=False)",
            f"constant of op '{op.name}'"))
        return f"self.{name}" if name.isidentifier() else f"getattr(self, {name!r})"
    raise Unsupported(f"Op '{op.name}' ({type(op).__name__}) has a constant of type "
                      f"{type(value).__name__}: not translated.")


def op_expression(prog, op, node, var_of):
    """(expression, layout) of the op node `node`; `var_of`: id(KerasTensor) -> (variable,
    shape, layout)."""
    kind = type(op).__name__
    if kind not in BINARY and kind not in UNARY and kind != "GetItem" or node.kwargs \
            or op.op_config:
        raise Unsupported(f"Op '{op.name}' ({kind}) has no PyTorch translation in "
                          "kerastorch.export.")
    tensors = [var_of[id(a)] for a in node.args if id(a) in var_of]
    layouts = {layout for _, _, layout in tensors}
    ranks = {len(shape) for _, shape, _ in tensors}
    keep = kind in _ELEMENTWISE and len(layouts) == 1 and len(ranks) == 1 and all(
        id(a) in var_of or isinstance(a, numbers.Number) for a in node.args)
    layout = layouts.pop() if keep else LAST
    if kind in _LOGICAL and len(tensors) != len(node.args):
        raise Unsupported(f"Op '{op.name}' ({kind}) with a constant argument is not "
                          "translated.")

    def text(i, arg):
        if id(arg) not in var_of:
            return _constant(prog, op, arg, i)
        name, shape, cur = var_of[id(arg)]
        dims = permute_dims(len(shape), cur, layout)
        return name if dims is None else f"{name}.permute{dims}"

    if kind == "GetItem":
        return f"{text(0, node.args[0])}[{_index_text(node.args[1])}]", LAST
    operands = [text(i, a) for i, a in enumerate(node.args)]
    return (BINARY.get(kind) or UNARY[kind]).format(*operands), layout
