"""Registration of custom classes and functions for deserialization (Keras'
`object_registration`): `register_keras_serializable` (registered name `"package>Name"`),
`get_registered_object`, `get_registered_name`, `get_custom_objects`, `custom_object_scope`.
"""

import contextvars
import inspect

_GLOBAL_CUSTOM_OBJECTS: dict = {}  # registered name -> object
_GLOBAL_CUSTOM_NAMES: dict = {}  # object -> registered name
_SCOPE = contextvars.ContextVar("kerastorch_custom_objects", default={})


def register_keras_serializable(package="Custom", name=None):
    """Decorator: make a class or function findable by `"package>name"` when deserializing.

    >>> @register_keras_serializable(package="MyLayers")
    ... class Scale(kerastorch.layers.Layer): ...
    """
    def decorator(obj):
        registered = f"{package}>{name or obj.__name__}"
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method. "
                             f"Received: {obj!r}")
        _GLOBAL_CUSTOM_OBJECTS[registered] = obj
        _GLOBAL_CUSTOM_NAMES[obj] = registered
        return obj
    return decorator


def get_registered_name(obj) -> str:
    """`"package>Name"` for a registered object, else its `__name__`."""
    return _GLOBAL_CUSTOM_NAMES.get(obj, getattr(obj, "__name__", None))


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The object registered as `name` (scope, global registry, `custom_objects`,
    `module_objects`, in that order), or None."""
    for source in (_SCOPE.get(), _GLOBAL_CUSTOM_OBJECTS, custom_objects or {},
                   module_objects or {}):
        if name in source:
            return source[name]
    return None


def get_custom_objects() -> dict:
    """The global registry itself (mutable, as in Keras)."""
    return _GLOBAL_CUSTOM_OBJECTS


class CustomObjectScope:
    """`with CustomObjectScope({"MyLayer": MyLayer}):` makes the names visible to deserialization
    inside the block (nested scopes add to the outer ones)."""

    def __init__(self, *custom_objects):
        self.custom_objects = {}
        for objects in custom_objects:
            self.custom_objects.update(objects or {})
        self._token = None

    def __enter__(self):
        self._token = _SCOPE.set({**_SCOPE.get(), **self.custom_objects})
        return self

    def __exit__(self, *exc):
        _SCOPE.reset(self._token)


custom_object_scope = CustomObjectScope
