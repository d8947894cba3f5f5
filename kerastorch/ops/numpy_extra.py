"""`keras.ops.get_item` (defined at Keras' ops level)."""

from kerastorch.ops.core import convert_to_tensor


def get_item(x, key):
    """`x[key]`."""
    return convert_to_tensor(x)[key]
