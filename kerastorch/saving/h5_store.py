"""Keras 3's weights layout (`model.weights.h5`, `*.weights.h5`), read and written for
kerastorch models.

Keras 3 (`keras/src/saving/saving_lib.py`, `H5IOStore`) stores each layer's own variables as
datasets `<path>/vars/0`, `<path>/vars/1`, ... in the layer's Keras order, the group carrying the
layer's name as attribute `name`. Paths follow the object graph, not layer names: a model's
layers are under `layers/<snake_case(ClassName)>` made unique per container (`layers/dense`,
`layers/dense_1`), sub-layers under their attribute name (`bidirectional/forward_layer`),
RNN weights under `cell`, the optimizer under `optimizer/vars` (iterations, learning rate, then
the slot variables per trainable variable). The model's own variables are under `vars`.

Datasets are written with HDF5's fletcher32 checksum (chunked storage; scalars, which HDF5 cannot
chunk, are written plainly), verified by HDF5 on every read, Keras' included; `.weights.h5`
files also end in `file_safety.seal`'s sha256 trailer, checked before HDF5 parses them.

kerastorch layers keep torch-native state; `keras_weight_views()` translates. Where kerastorch's
module tree differs from Keras' object graph (fused RNNs keep no `cell` module, attention keeps
its projections on the layer), `layer_entries` says where Keras puts them.
"""

import re
import warnings
from typing import NamedTuple

import numpy as np
import torch

from kerastorch.saving.file_safety import SavedFileError, file_error, read_errors


class Entry(NamedTuple):
    path: str  # the group holding `vars`; "" for the model itself
    layer: object  # whose name goes in the `name` attribute / error messages
    views: list  # WeightViews, Keras order


def to_snake_case(name: str) -> str:
    """Keras' `naming.to_snake_case` (the container path names depend on it exactly)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _join(path, name):
    return f"{path}/{name}" if path else name


def _name_key(name):  # Keras visits private attributes last
    return f"~{name}" if name.startswith("_") else name


def _unique(name, used):
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


# Keras attribute names for kerastorch sub-modules that are named otherwise.
_RENAMED_CHILDREN = {"MultiHeadAttention": {"out_proj": "output_dense"}}


def layer_entries(model) -> list:
    """Every `(path, layer, views)` group Keras 3 writes for `model`, in Keras' visiting order."""
    out = []
    _walk(model, "", out, set())
    return out


def _children(layer):
    """`(attribute name, child)` pairs in Keras' order; a child may be a list (container)."""
    from kerastorch.layers.layer import Layer
    from kerastorch.models.functional import Functional
    from kerastorch.models.model import Model
    from kerastorch.models.sequential import Sequential

    if isinstance(layer, (Sequential, Functional)):
        return [("layers", list(layer.layers))]
    renamed = _RENAMED_CHILDREN.get(type(layer).__name__, {})
    pairs = []
    for name, child in layer.named_children():
        if isinstance(child, Layer):
            pairs.append((renamed.get(name, name), child))
        elif isinstance(child, (torch.nn.ModuleList, torch.nn.ModuleDict)):
            items = child.values() if isinstance(child, torch.nn.ModuleDict) else child
            pairs.append((name, [c for c in items if isinstance(c, Layer)]))
    if isinstance(layer, Model):
        pairs.append(("layers", list(layer.layers)))
    return sorted(pairs, key=lambda p: _name_key(p[0]))


def _walk(layer, path, out, visited):
    if id(layer) in visited:
        return
    visited.add(id(layer))
    from kerastorch.layers.attention import MultiHeadAttention
    from kerastorch.layers.recurrent import _FusedRNN

    views = list(layer.keras_weight_views())
    if isinstance(layer, _FusedRNN):  # Keras: the variables belong to `layer.cell`
        out.append(Entry(path, layer, []))
        out.append(Entry(_join(path, "cell"), layer.cell, views))
        return
    if isinstance(layer, MultiHeadAttention):  # Keras: four EinsumDense sub-layers
        out.append(Entry(path, layer, []))
        for part in ("query", "key", "value"):
            mine = [v for v in views if v.name.startswith(part + "/")]
            out.append(Entry(_join(path, f"{part}_dense"), layer, mine))
        views = []
    else:
        out.append(Entry(path, layer, views))
    for name, child in _children(layer):
        child_path = _join(path, name)
        if isinstance(child, list):
            used = {}
            for item in child:
                _walk(item, _join(child_path, _unique(to_snake_case(type(item).__name__), used)),
                      out, visited)
        else:
            _walk(child, child_path, out, visited)


# ---------------------------------------------------------------------- writing
def _numpy(t) -> np.ndarray:
    return t.detach().cpu().numpy()


def create_dataset(group, name, value):
    """`group[name] = value`, with a fletcher32 checksum over the stored bytes where HDF5 can
    keep one (numeric arrays with at least one element; not scalars or strings)."""
    value = np.asarray(value)
    checked = value.ndim > 0 and value.size > 0 and value.dtype.kind in "biufc"
    return group.create_dataset(name, data=value, fletcher32=checked)


def write_model(h5file, model, include_optimizer=True) -> None:
    """Write `model`'s weights (and its optimizer's variables) into an open h5py File."""
    for entry in layer_entries(model):
        group = h5file.require_group(_join(entry.path, "vars"))
        group.attrs["name"] = entry.layer.name
        if overrides(entry.layer, "save_own_variables"):
            entry.layer.save_own_variables(_WriteStore(group))
            continue
        for key, view in zip(_dataset_keys(entry), entry.views):
            create_dataset(group, key, _numpy(view.keras_value()))
    optimizer = getattr(model, "optimizer", None)
    if include_optimizer and optimizer is not None and hasattr(optimizer, "get_config"):
        group = h5file.require_group("optimizer/vars")
        group.attrs["name"] = optimizer.name
        for i, value in enumerate(optimizer_keras_values(model, optimizer)):
            create_dataset(group, str(i), value)


def overrides(layer, hook) -> bool:
    """True when `layer`'s class has its own `hook` (a saving hook of Keras' `Layer`)."""
    from kerastorch.layers.layer import Layer
    method = getattr(type(layer), hook, None)
    return method is not None and method is not getattr(Layer, hook, None)


class _WriteStore:
    """What a user's `save_own_variables(store)` writes into: `store[key] = array`."""

    def __init__(self, group):
        self.group = group

    def __setitem__(self, key, value):
        value = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value
        if key in self.group:
            del self.group[key]
        create_dataset(self.group, str(key), np.asarray(value))


class _ReadStore:
    """What a user's `load_own_variables(store)` reads: `store[key]` (numpy), `keys()`."""

    def __init__(self, values):
        self.values = values

    def __getitem__(self, key):
        return self.values[str(key)]

    def __contains__(self, key):
        return str(key) in self.values

    def __len__(self):
        return len(self.values)

    def keys(self):
        return self.values.keys()

    def items(self):
        return self.values.items()


def _trainable_views(model) -> list:
    ids = model._trainable_tensor_ids()
    return [v for v in model._all_weight_views() if id(v.tensor) in ids]


class _SlotsAsParams:
    """Within the block, each optimized parameter's storage is its slot `name` (so the layers'
    Keras views read or write the slot in Keras' layout)."""

    def __init__(self, optimizer, name):
        self.params = list(optimizer._params)
        self.slots = optimizer._slots[name]

    def __enter__(self):
        self.saved = [p.data for p in self.params]
        for p, s in zip(self.params, self.slots):
            p.data = s
        return self

    def __exit__(self, *exc):
        for p, d in zip(self.params, self.saved):
            p.data = d


def optimizer_keras_values(model, optimizer) -> list:
    """Keras' optimizer variables: iterations, learning rate (unless a schedule), then for each
    slot group, each trainable variable (Keras order), each slot: in Keras' layout."""
    values = [np.asarray(optimizer._iterations, dtype=np.int64)]
    if optimizer._schedule is None:
        values.append(np.asarray(optimizer._hyper["lr"], dtype=np.float32))
    if not optimizer.built:
        return values
    views = _trainable_views(model)
    for group in optimizer._all_slot_groups():
        per_slot = {}
        for name in group:
            with _SlotsAsParams(optimizer, name):
                per_slot[name] = [_numpy(v.keras_value()).copy() for v in views]
        for i in range(len(views)):
            values.extend(per_slot[name][i] for name in group)
    return values


# ---------------------------------------------------------------------- reading
def _vars_group(h5file, path, source="weights file"):
    """The `vars` group at `path`, or None; refuses links (Keras' `safe_get_h5_group`)."""
    import h5py
    current = h5file
    for part in [p for p in path.split("/") if p] + ["vars"]:
        if part not in current:
            return None
        link = current.get(part, getlink=True)
        if isinstance(link, (h5py.ExternalLink, h5py.SoftLink)):
            raise SavedFileError(f"{source}: not allowed: H5 file with {type(link).__name__} "
                                 f"at '{path}/{part}'.")
        current = current[part]
        if not isinstance(current, h5py.Group):
            raise SavedFileError(f"{source}: invalid H5 file: '{path}/{part}' is not a group.")
    return current


def _dataset_keys(entry) -> list:
    """Dataset names of a layer's variables: "0", "1", ... (Keras' default), or the variable
    names for layers that store them by name (Keras' TorchModuleWrapper: state_dict keys)."""
    if getattr(entry.layer, "_h5_keys_are_names", False):
        return [v.name for v in entry.views]
    return [str(i) for i in range(len(entry.views))]


def _read_group(group, source, where, keys=None) -> list:
    import h5py
    if group is None:
        return []
    values = []
    for i in range(len(group)):
        key = keys[i] if keys is not None and i < len(keys) else str(i)
        if key not in group or not isinstance(group[key], h5py.Dataset):
            want = keys if keys is not None else f"0..{len(group)-1}"
            raise SavedFileError(f"{source}: '{where}/vars' should hold datasets {want}; found "
                                 f"{sorted(group.keys())}.")
        ds = group[key]
        if ds.external or ds.is_virtual:
            raise SavedFileError(f"{source}: not allowed: external or virtual dataset at "
                                 f"'{where}/vars/{key}'.")
        values.append(np.asarray(ds[()]))
    return values


def _read_named(group, source, where) -> dict:
    """Every dataset of a `vars` group by name (for a layer's own `load_own_variables`)."""
    import h5py
    values = {}
    for key in group:
        ds = group[key]
        if not isinstance(ds, h5py.Dataset) or ds.external or ds.is_virtual:
            raise SavedFileError(f"{source}: '{where}/vars/{key}' is not a plain dataset.")
        values[key] = np.asarray(ds[()])
    return values


def read_model(h5file, model, source="weights file", skip_mismatch=False,
               load_optimizer=True) -> None:
    """Load `model`'s weights from an open h5py File written by Keras 3 or kerastorch.

    Every layer is checked before any weight changes: a layer whose saved variables are missing
    or shaped otherwise raises (naming the layer, the variable and both shapes), or with
    `skip_mismatch=True` is skipped with a warning, as in Keras.
    """
    plan, problems, hooks = [], [], []
    for entry in layer_entries(model):
        where = entry.path or "(model)"
        if overrides(entry.layer, "load_own_variables"):
            group = _vars_group(h5file, entry.path, source)
            hooks.append((entry, {} if group is None else _read_named(group, source, where)))
            continue
        keys = _dataset_keys(entry) if getattr(entry.layer, "_h5_keys_are_names", False) \
            else None
        values = _read_group(_vars_group(h5file, entry.path, source), source, entry.path, keys)
        problem = None
        if len(values) != len(entry.views):
            problem = (f"Layer '{entry.layer.name}' expected {len(entry.views)} variables, but "
                       f"received {len(values)} variables during loading (at '{where}'). "
                       f"Expected: {[v.name for v in entry.views]}")
        else:
            for view, value in zip(entry.views, values):
                want = tuple(view.keras_value().shape)
                if tuple(value.shape) != want:
                    problem = (f"Layer '{entry.layer.name}': variable '{view.name}' has shape "
                               f"{tuple(value.shape)} in the file but {want} in the model.")
                    break
        if problem:
            problems.append(problem)
        else:
            plan.append((entry, values))
    if problems:
        msg = (f"{source} does not fit model '{model.name}': {len(problems)} layer(s) could not "
               "be loaded.\n" + "\n".join(problems))
        if not skip_mismatch:
            raise SavedFileError(msg)
        warnings.warn(msg, stacklevel=3)
    for entry, values in plan:
        for view, value in zip(entry.views, values):
            view.assign(value)
    for entry, values in hooks:  # the layer's own `load_own_variables`
        entry.layer.load_own_variables(_ReadStore(values))
    optimizer = getattr(model, "optimizer", None)
    if load_optimizer and optimizer is not None and hasattr(optimizer, "get_config"):
        saved = _vars_group(h5file, "optimizer", source)
        if saved is not None:
            load_optimizer_values(model, optimizer, _read_group(saved, source, "optimizer"),
                                  source)


def load_optimizer_values(model, optimizer, values, source="weights file") -> None:
    """Inverse of `optimizer_keras_values`; builds the optimizer on the model's parameters
    first (as the first training step would). A count mismatch warns and skips, as in Keras."""
    if not values:
        return
    if not optimizer.built and len(values) > 2:
        optimizer.build(list(model.parameters()))
    expected = len(optimizer_keras_values(model, optimizer))
    if len(values) != expected:
        warnings.warn(f"Skipping variable loading for optimizer '{optimizer.name}', because it "
                      f"has {expected} variables whereas the saved optimizer has {len(values)} "
                      "variables.", stacklevel=3)
        return
    optimizer._iterations = int(values[0])
    start = 1
    if optimizer._schedule is None:
        optimizer._hyper["lr"] = float(values[1])
        start = 2
    if not optimizer.built:
        return
    views = _trainable_views(model)
    rest = values[start:]
    k = 0
    for group in optimizer._all_slot_groups():
        per_slot = {name: [] for name in group}
        for _ in views:
            for name in group:
                per_slot[name].append(rest[k])
                k += 1
        for name in group:
            with _SlotsAsParams(optimizer, name):
                for view, value in zip(views, per_slot[name]):
                    want = tuple(view.keras_value().shape)
                    if tuple(value.shape) != want:
                        raise SavedFileError(
                            f"{source}: optimizer '{optimizer.name}': slot '{name}' of variable "
                            f"'{view.name}' has shape {tuple(value.shape)} in the file but "
                            f"{want} in the model.")
                    view.assign(value)


# ---------------------------------------------------------------------- weights files
UNREADABLE = "the HDF5 data could not be read (truncated or corrupted?)"


def open_file(path):
    """`path` open for reading with h5py, once its sha256 trailer (when it has one) matched."""
    import h5py

    from kerastorch.saving.file_safety import LOW_LEVEL_ERRORS, check_seal
    check_seal(path)
    try:
        return h5py.File(path, "r")
    except LOW_LEVEL_ERRORS as err:
        raise file_error(path, "not a readable HDF5 file (truncated or corrupted?)", err) from err


def save_weights(model, path) -> None:
    """`model.save_weights("x.weights.h5")`: Keras 3's layout, written atomically and sealed
    with a sha256 trailer."""
    import h5py

    from kerastorch.saving.file_safety import atomic_write, seal
    if not getattr(model, "built", True):
        raise ValueError("You are saving a model that has not yet been built. Try building "
                         "the model first by calling it on some data or by using `build()`.")
    with atomic_write(path) as tmp:
        with h5py.File(tmp, "w") as f:
            write_model(f, model)
        seal(tmp)


def load_weights(model, path, skip_mismatch=False) -> None:
    """Read Keras 3's `.weights.h5` layout into `model` (checked before anything changes)."""
    from kerastorch.saving.file_safety import require_file
    path = require_file(path)
    if not getattr(model, "built", True):
        raise ValueError("You are loading weights into a model that has not yet been built. "
                         "Try building the model first by calling it on some data or by using "
                         "`build()`.")
    with read_errors(path, UNREADABLE), open_file(path) as f:
        if "model_weights" in f or "layer_names" in f.attrs:  # Keras 2 / tf.keras layout
            from kerastorch.saving import legacy_h5
            legacy_h5.load_weights_from_group(f, model, path, skip_mismatch)
        else:
            read_model(f, model, f"'{path}'", skip_mismatch)
