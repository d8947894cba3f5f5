"""One string-registry mechanism for activations, losses, metrics, optimizers, initializers, ...

`Registry.get` accepts what Keras' `*.get(identifier)` accepts: `None`, a callable or instance,
a registered name, or a Keras config dict `{"class_name": ..., "config": {...}}`.
"""

import difflib
import inspect


class Registry:
    def __init__(self, kind: str):
        self.kind = kind
        self._by_name: dict[str, object] = {}

    def register(self, *names: str):
        """Decorator: register `obj` under `names` (default: its `__name__`)."""

        def add(obj):
            for name in names or (obj.__name__,):
                if name in self._by_name and self._by_name[name] is not obj:
                    raise ValueError(f"Duplicate {self.kind} name {name!r}.")
                self._by_name[name] = obj
            return obj

        return add

    def __contains__(self, name) -> bool:
        return name in self._by_name

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def lookup(self, name: str):
        """The registered object itself (a class is not instantiated)."""
        if name in self._by_name:
            return self._by_name[name]
        # a user's object: `register_keras_serializable` ("package>name") or a custom object
        # scope (`custom_objects` of load_model, clone_model, model_from_json ...)
        from kerastorch.saving.object_registration import get_registered_object
        found = get_registered_object(name) if isinstance(name, str) else None
        if found is not None:
            return found
        close = difflib.get_close_matches(str(name), list(self._by_name), n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"Unknown {self.kind} identifier: {name!r}.{hint}")

    def get(self, identifier, **kwargs):
        """Resolve an identifier; a registered class is instantiated with `kwargs`."""
        if identifier is None or (callable(identifier) and not inspect.isclass(identifier)):
            return identifier
        if isinstance(identifier, dict):
            return self.deserialize(identifier)
        if inspect.isclass(identifier):
            return identifier(**kwargs)
        if not isinstance(identifier, str):
            raise TypeError(
                f"Could not interpret {self.kind} identifier: {identifier!r} "
                f"(expected a string, a callable or a config dict)."
            )
        found = self.lookup(identifier)
        return found(**kwargs) if inspect.isclass(found) else found

    def deserialize(self, config, custom_objects=None):
        """`{"class_name": "Adam", "config": {...}}` (or a bare name) -> `Adam(**config)`.

        `custom_objects` (name -> class or function) are searched first.
        """
        if isinstance(config, str):
            config = {"class_name": config, "config": {}}
        if not isinstance(config, dict):
            raise ValueError(f"Could not deserialize a {self.kind}: expected a dict or a string. "
                             f"Received: config={config!r}")
        name = config.get("registered_name") or config.get("class_name")
        if custom_objects and name in custom_objects:
            found = custom_objects[name]
            inner = config.get("config") or {}
            return found.from_config(inner) if hasattr(found, "from_config") else found
        if "class_name" not in config:
            raise ValueError(f"A {self.kind} config needs a 'class_name'. Received: {config!r}")
        found = self.lookup(config.get("registered_name") or config["class_name"])
        inner = config.get("config") or {}
        if inspect.isclass(found):
            return found.from_config(inner) if hasattr(found, "from_config") else found(**inner)
        return found


def serialize(obj):
    """Keras-style config of a registered object: a name for functions, a dict for objects."""
    if obj is None:
        return None
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return obj.__name__
    if hasattr(obj, "get_config"):
        return {
            "module": _keras_module(obj),
            "class_name": type(obj).__name__,
            "config": obj.get_config(),
            "registered_name": None,
        }
    raise TypeError(f"Cannot serialize {obj!r}: it has no get_config().")


def _keras_module(obj) -> str:
    # kerastorch.optimizers.adam -> keras.optimizers (Keras' public module names)
    parts = type(obj).__module__.split(".")
    return "keras." + parts[1] if len(parts) > 1 and parts[0] == "kerastorch" else parts[0]
