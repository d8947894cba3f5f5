"""The `keras` import alias: make `import keras` and `import keras.X.Y` give kerastorch.

`install_keras_alias()` puts a finder first on `sys.meta_path`. `keras` and `keras.X.Y` are then
the very module objects `kerastorch` and `kerastorch.X.Y` (so `keras.layers.Dense is
kerastorch.layers.Dense`). Every public kerastorch module that imports cleanly is aliased in
`sys.modules` at once; anything else (private modules, modules added later) resolves through
the finder on first import. Nothing is written to disk, and only this process is affected.

The project ships no top-level `keras` package: the real Keras may be installed beside
kerastorch, and the alias only takes effect when asked for.
"""

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import pkgutil
import sys
import types

_ALIAS = "keras"
_TARGET = "kerastorch"


def _target_name(fullname):
    return _TARGET + fullname[len(_ALIAS):]


def _is_alias_name(fullname):
    return fullname == _ALIAS or fullname.startswith(_ALIAS + ".")


def _is_ours(module):
    name = getattr(module, "__name__", None) or ""
    return name == _TARGET or name.startswith(_TARGET + ".")


class _AliasLoader(importlib.abc.Loader):
    """Hands back the already-imported kerastorch module instead of creating a new one."""

    def __init__(self, module):
        self._module = module
        self._spec = getattr(module, "__spec__", None)

    def create_module(self, spec):
        return self._module

    def exec_module(self, module):
        # The import system has just set `module.__spec__` to the alias' spec; give the
        # module back its own, so kerastorch's submodule imports and reloads are unaffected.
        if self._spec is not None:
            module.__spec__ = self._spec


class _KerasAliasFinder(importlib.abc.MetaPathFinder):
    """Resolves `keras` and `keras.*` to `kerastorch` and `kerastorch.*`."""

    def find_spec(self, fullname, path=None, target=None):
        if not _is_alias_name(fullname):
            return None
        module = _import_target(fullname)
        is_package = hasattr(module, "__path__")
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(module),
                                              is_package=is_package)


def _import_target(fullname):
    """Imports (or finds) the kerastorch module that `keras.X.Y` stands for."""
    target = _target_name(fullname)
    if target in sys.modules:
        return sys.modules[target]
    parent, _, child = target.rpartition(".")
    try:
        found = importlib.util.find_spec(target)
    except ModuleNotFoundError:
        found = None  # A parent is missing: the message below is the useful one.
    if found is None:
        # A module object kept as an attribute (e.g. `from . import _ops as ops`) also counts.
        attr = getattr(sys.modules.get(parent), child, None) if parent else None
        if isinstance(attr, types.ModuleType):
            return attr
        raise ModuleNotFoundError(
            f"No module named {fullname!r}: the `keras` alias is installed, and kerastorch has "
            f"no `{fullname[len(_ALIAS) + 1:] or _ALIAS}` yet (looked for {target!r}). "
            "Uninstall the alias (kerastorch.compat.uninstall_keras_alias()) to use the real "
            "Keras.",
            name=fullname,
        )
    return importlib.import_module(target)


_FINDER = _KerasAliasFinder()


def _public_modules(package):
    """Yields every public (no `_` in any part) module under `package` that imports cleanly."""
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        if info.name.rpartition(".")[2].startswith("_"):
            continue
        try:
            module = importlib.import_module(info.name)
        except Exception:  # A broken module fails later, at its own `import keras.X`.
            continue
        yield module
        if info.ispkg:
            yield from _public_modules(module)


def install_keras_alias():
    """Makes `import keras` and every `import keras.X.Y` resolve to kerastorch in this process.

    Afterwards `sys.modules["keras.datasets.mnist"] is kerastorch.datasets.mnist`, and
    `from keras.layers import Dense` gives kerastorch's `Dense`. Calling it again is harmless.
    A `keras.X` that kerastorch lacks raises `ModuleNotFoundError` saying so.

    Returns:
        The `kerastorch` module (so `keras = install_keras_alias()` also works).

    Raises:
        RuntimeError: The real `keras` (or one of its modules) is already imported; its objects
            cannot be swapped for kerastorch's. Install the alias before anything imports
            Keras, or write `import kerastorch as keras`.
    """
    real = sorted(name for name, module in list(sys.modules.items())
                  if _is_alias_name(name) and module is not None and not _is_ours(module))
    if real:
        origin = getattr(sys.modules.get(real[0]), "__file__", None) or "?"
        raise RuntimeError(
            f"The real `keras` is already imported ({real[0]!r} from {origin}), so the alias "
            "to kerastorch cannot be installed. Call kerastorch.install_keras_alias() before "
            "anything imports keras, or write `import kerastorch as keras`."
        )
    kerastorch = importlib.import_module(_TARGET)
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    sys.modules[_ALIAS] = kerastorch
    for module in _public_modules(kerastorch):
        sys.modules.setdefault(_ALIAS + module.__name__[len(_TARGET):], module)
    return kerastorch


def uninstall_keras_alias():
    """Undoes `install_keras_alias()`: removes the finder and every `keras*` alias entry.

    Modules that imported `keras` while the alias was on keep their kerastorch references.
    """
    while _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    for name, module in list(sys.modules.items()):
        if _is_alias_name(name) and _is_ours(module):
            del sys.modules[name]


def keras_alias_installed():
    """Whether `install_keras_alias()` is in effect in this process."""
    return _FINDER in sys.meta_path
