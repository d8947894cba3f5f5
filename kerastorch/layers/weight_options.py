"""Per-weight options of a layer: the `<weight>_initializer`, `<weight>_regularizer` and
`<weight>_constraint` arguments Keras layers take for each of their weights (`kernel`, `bias`,
`gamma`, ...), resolved once by Keras' getters and written back into `get_config()`."""

from kerastorch import constraints, initializers, regularizers

_KINDS = {"initializer": initializers, "regularizer": regularizers, "constraint": constraints}


def set_weight_options(layer, attr_prefix: str = "", **options) -> None:
    """Resolve each `<weight>_<kind>=value` with the getter of its kind and set it on `layer`
    as `attr_prefix + name` (MultiHeadAttention keeps them private with `"_"`)."""
    for name, value in options.items():
        setattr(layer, attr_prefix + name, _KINDS[name.rsplit("_", 1)[1]].get(value))


def weight_options_config(layer, *names, attr_prefix: str = "") -> dict:
    """`{name: serialized option}` for the named options, in the order given."""
    return {name: _KINDS[name.rsplit("_", 1)[1]].serialize(getattr(layer, attr_prefix + name))
            for name in names}
