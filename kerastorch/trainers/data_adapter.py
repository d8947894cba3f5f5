"""Compatibility name: the data adapters live in `kerastorch.trainers.data_adapters`."""

from kerastorch.trainers.data_adapters import *  # noqa: F401,F403
