"""Keras' automatic layer names: `dense`, `dense_1`, `dense_2`, ..."""

import re
from collections import defaultdict

_counts: dict[str, int] = defaultdict(int)


def to_snake_case(name: str) -> str:
    """Keras' rule: `Conv2D` -> `conv2d`, `MaxPooling2D` -> `max_pooling2d`, `ReLU` -> `re_lu`."""
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def uniquify(base: str) -> str:
    """First use of `base` returns it unchanged, later ones `base_1`, `base_2`, ..."""
    n = _counts[base]
    _counts[base] += 1
    return base if n == 0 else f"{base}_{n}"


def reset_uids() -> None:
    """Restart automatic naming (Keras: `keras.backend.clear_session()`)."""
    _counts.clear()
