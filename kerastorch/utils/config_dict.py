"""`keras.utils.Config`: a dict whose keys are also attributes, which can be frozen."""

import copy
import difflib
import json

_OWN = frozenset({"_config", "_frozen"})  # the object's own state; every other name is a key


class Config:
    """A mutable (until `freeze()`) mapping with attribute access: `config.lr = 0.1`.

    Iterating gives the keys sorted; `keys()`, `values()` and `items()` keep insertion order.

    Args:
        **kwargs: The initial entries.
    """

    def __init__(self, **kwargs):
        object.__setattr__(self, "_config", kwargs)
        object.__setattr__(self, "_frozen", False)

    # ------------------------------------------------------------------ freezing
    @property
    def frozen(self):
        return self._frozen

    def freeze(self):
        """Make the config read-only."""
        object.__setattr__(self, "_frozen", True)

    def unfreeze(self):
        object.__setattr__(self, "_frozen", False)

    def _mutable(self) -> dict:
        if self._frozen:
            raise ValueError("Cannot mutate attribute(s) because the config is frozen.")
        return self._config

    # ------------------------------------------------------------------ attribute access
    def __setattr__(self, name, value):
        if name in _OWN or hasattr(type(self), name):
            object.__setattr__(self, name, value)
        else:
            self._mutable()[name] = value

    def __getattr__(self, name):  # reached only when `name` is not a real attribute
        entries = self.__dict__.get("_config")
        if entries is not None and name in entries:
            return entries[name]
        hint = difflib.get_close_matches(name, list(entries or ()), n=1, cutoff=0.7)
        raise AttributeError(f"Unknown attribute: '{name}'."
                             + (f" Did you mean '{hint[0]}'?" if hint else ""))

    # ------------------------------------------------------------------ the mapping
    def __getitem__(self, key):
        return self._config[key]

    def __setitem__(self, key, item):
        self._mutable()[key] = item

    def __delitem__(self, key):
        del self._mutable()[key]

    def __contains__(self, item):
        return item in self._config

    def __len__(self):
        return len(self._config)

    def __iter__(self):
        return iter(sorted(self._config))

    # the dict's views, in insertion order
    def keys(self): return self._config.keys()
    def values(self): return self._config.values()
    def items(self): return self._config.items()
    def get(self, keyname, value=None): return self._config.get(keyname, value)

    def pop(self, *args):
        return self._mutable().pop(*args)

    def update(self, *args, **kwargs):
        return self._mutable().update(*args, **kwargs)

    def as_dict(self):
        return copy.copy(self._config)

    def to_json(self):
        return json.dumps(self._config)

    def __repr__(self):
        return f"<Config {self._config}>"
