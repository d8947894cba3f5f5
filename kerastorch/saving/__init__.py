"""Saving and loading: torch state dicts now; Keras' `.keras`/`.h5` formats later."""
