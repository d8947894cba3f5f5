"""What a layer becomes in plain PyTorch: a list of `Step`s, and the tensor layout it leaves.

A `Step` is one operation written two ways: `expr`, a Python expression over `{x}` for the
generated module's `forward` (stateless steps are written functionally, so the generated module
has submodules only where Keras has weights), and `ctor`, the torch module that does the same
inside an `nn.Sequential` (None where torch has no module for it: then `to_torch` falls back
to a generated module).

Layouts. Keras keeps images channels_last; torch's convolutions, pooling and batch norm want
channels first. A tensor is tracked as `LAST` (Keras' own layout) or `FIRST` (Keras' tensor
with its last axis moved to position 1); a permute step is inserted only where the layout a
layer needs differs from the one it gets, so a convnet permutes once on the way in and once
before `Flatten`.
"""

LAST, FIRST = "last", "first"


class Step:
    """One torch operation: `expr` (uses `{x}`), `ctor` (module for nn.Sequential, or None);
    `key` is set on steps that own weights (the Keras layer's name: state dict prefix)."""

    __slots__ = ("expr", "ctor", "key", "suffix")

    def __init__(self, expr, ctor=None, key=None, suffix=None):
        self.expr, self.ctor, self.key, self.suffix = expr, ctor, key, suffix


class Unsupported(NotImplementedError):
    """A layer (or configuration) without a PyTorch translation."""


def permute_step(rank, src, dst):
    """A step moving a rank-`rank` tensor from layout `src` to `dst` (empty if equal)."""
    if src == dst or rank <= 2:
        return []
    dims = permute_dims(rank, src, dst)
    return [Step(f"{{x}}.permute{dims}", f"Permute({list(dims)})", suffix="permute")]


def permute_dims(rank, src, dst):
    if src == dst or rank <= 2:
        return None
    return (0, rank - 1, *range(1, rank - 1)) if dst == FIRST else (0, *range(2, rank), 1)


# ---------------------------------------------------------------------- activations
# Keras activation name -> (functional expression, torch module or None).
ACTIVATIONS = {
    "relu": ("torch.relu({x})", "nn.ReLU()"),
    "sigmoid": ("torch.sigmoid({x})", "nn.Sigmoid()"),
    "tanh": ("torch.tanh({x})", "nn.Tanh()"),
    "softmax": ("torch.softmax({x}, dim=-1)", "nn.Softmax(dim=-1)"),
    "log_softmax": ("torch.log_softmax({x}, dim=-1)", "nn.LogSoftmax(dim=-1)"),
    "elu": ("F.elu({x})", "nn.ELU()"),
    "selu": ("F.selu({x})", "nn.SELU()"),
    "celu": ("F.celu({x})", "nn.CELU()"),
    "softplus": ("F.softplus({x})", "nn.Softplus()"),
    "softsign": ("F.softsign({x})", "nn.Softsign()"),
    "silu": ("F.silu({x})", "nn.SiLU()"),
    "gelu": ("F.gelu({x})", "nn.GELU()"),
    "relu6": ("F.relu6({x})", "nn.ReLU6()"),
    "leaky_relu": ("F.leaky_relu({x}, 0.2)", "nn.LeakyReLU(0.2)"),  # Keras' slope is 0.2
    "hard_sigmoid": ("F.hardsigmoid({x})", "nn.Hardsigmoid()"),  # Keras 3: relu6(x + 3) / 6
    "hard_silu": ("F.hardswish({x})", "nn.Hardswish()"),
    "mish": ("F.mish({x})", "nn.Mish()"),
    "log_sigmoid": ("F.logsigmoid({x})", "nn.LogSigmoid()"),
    "tanh_shrink": ("F.tanhshrink({x})", "nn.Tanhshrink()"),
    "hard_tanh": ("F.hardtanh({x})", "nn.Hardtanh()"),
    "exponential": ("torch.exp({x})", None),
}


def activation_name(fn, owner):
    """The Keras name of activation `fn` (a built-in), or Unsupported naming `owner`."""
    from kerastorch import activations
    if fn is None:
        return "linear"
    try:
        name = activations.serialize(fn)
    except ValueError:  # a lambda
        name = None
    if name == "linear":
        return "linear"
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise Unsupported(f"Layer '{owner.name}' ({type(owner).__name__}): activation "
                          f"{getattr(fn, '__name__', fn)!r} has no PyTorch translation.")
    return name


def activation_steps(fn, owner):
    name = activation_name(fn, owner)
    if name == "linear":
        return []
    expr, ctor = ACTIVATIONS[name]
    return [Step(expr, ctor, suffix=name)]
