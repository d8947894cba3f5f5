"""kerastorch's public surface equals Keras 3's: every public name of every public namespace of
the installed Keras exists in kerastorch's namespace of the same path, and every namespace is
reachable as an attribute (`kerastorch.export`, `kerastorch.ops.image`).

Names kerastorch leaves out on purpose are in `DELIBERATE`, with the reason. Names another
piece of work will bring are in `PENDING`, by the issue that owns them; that issue empties its
entry. A listed name that kerastorch now has fails the test too, so the lists only shrink.
"""

import importlib
import os
import pkgutil
import types

import pytest

import kerastorch

DELIBERATE = {
    "keras.layers": {
        "JaxLayer": "wraps a JAX function; kerastorch runs on torch only",
        "FlaxLayer": "wraps a Flax module; kerastorch runs on torch only",
        "TFSMLayer": "loads a TensorFlow SavedModel; needs TensorFlow",
    },
    "keras.callbacks": {
        "OrbaxCheckpoint": "Orbax checkpoints are JAX's format; ModelCheckpoint and "
                           "BackupAndRestore cover torch",
    },
}

_APPLICATION_MODULES = (
    "convnext", "densenet", "efficientnet", "efficientnet_v2", "imagenet_utils",
    "inception_resnet_v2", "inception_v3", "mobilenet", "mobilenet_v2", "mobilenet_v3", "nasnet",
    "resnet", "resnet50", "resnet_v2", "vgg16", "vgg19", "xception")

# Namespaces whose whole content another issue brings ("*": every name).
PENDING_NAMESPACES = {
    "keras.applications": "issue 14 (keras.applications)",
    **{f"keras.applications.{m}": "issue 14 (keras.applications)" for m in _APPLICATION_MODULES},
    "keras.distribution": "issue 17 (keras.distribution)",
    "keras.quantizers": "quantization (its own issue)",
    "keras.ops.image": "issue 13 (keras.ops.image)",
    "keras.distillation": "issue 13 (keras.distillation)",
    "keras.visualization": "issue 13 (keras.visualization)",
    "keras.wrappers": "issue 13 (keras.wrappers)",
    "keras.utils.bounding_boxes": "issue 13 (bounding boxes)",
    "keras.optimizers.legacy": "issue 16 (Keras 2 idioms)",
    "keras.legacy": "issue 16 (Keras 2 idioms)",
    "keras.legacy.saving": "issue 16 (Keras 2 idioms)",
    "keras.utils.legacy": "issue 16 (Keras 2 idioms)",
}

PENDING = {
    "keras": {
        "issue 13 (top-level names)": (
            "Function", "InputSpec", "Operation", "RematScope", "StatelessScope",
            "SymbolicScope", "device", "remat"),
        "quantization (its own issue)": ("Quantizer",),
    },
    "keras.dtype_policies": {
        "issue 13 (dtype policies)": ("DTypePolicyMap",),
        "quantization (its own issue)": (
            "AWQDTypePolicy", "GPTQDTypePolicy", "Int4DTypePolicy", "QuantizedDTypePolicy",
            "QuantizedFloat8DTypePolicy"),
    },
    "keras.export": {"issue 13 (ExportArchive)": ("ExportArchive",)},
    "keras.layers": {
        "issue 13 (text and lookup layers)": (
            "HashedCrossing", "Hashing", "IntegerLookup", "StringLookup", "TextVectorization"),
        "issue 13 (remaining layers)": (
            "AugMix", "ContrastLimitedAdaptiveHistogramEqualization", "ConvLSTM1D",
            "ConvLSTM2D", "ConvLSTM3D", "CutMix", "Equalization", "GroupQueryAttention",
            "InputSpec", "MaxNumBoundingBoxes", "MelSpectrogram", "MixUp", "Pipeline",
            "RandAugment", "RandomColorDegeneration", "RandomElasticTransform",
            "RandomErasing", "RandomGaussianBlur", "RandomPerspective", "RandomShear",
            "ReversibleEmbedding", "STFTSpectrogram", "Wrapper"),
    },
    "keras.ops": {"issue 13 (keras.ops.image)": ("rearrange",)},
    "keras.optimizers": {"issue 13 (optimizers)": (
        "Adafactor", "MultiOptimizer", "Muon", "OptimizerMap", "ScheduleFreeAdamW")},
    "keras.saving": {"issue 13 (KerasFileEditor)": ("KerasFileEditor",)},
    "keras.utils": {"issue 13 (FeatureSpace, audio)": (
        "FeatureSpace", "audio_dataset_from_directory")},
}


def _keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


def keras_namespaces(keras):
    """`keras` and every public sub-namespace of the installed Keras (its generated API).

    Walked by hand, importing only the public packages: `pkgutil.walk_packages` would import
    every package of `keras.src` too, and importing `keras.src.backend.numpy` rebinds
    `keras.src.backend.numpy` (the active backend's numpy module) for every later test."""
    names, todo = [], [("keras", keras.__path__)]
    while todo:
        name, path = todo.pop()
        names.append(name)
        for info in pkgutil.iter_modules(path):
            if info.ispkg and not info.name.startswith("_") and info.name not in ("src", "api"):
                full = f"{name}.{info.name}"
                todo.append((full, importlib.import_module(full).__path__))
    return sorted(names)


def public_names(module) -> list:
    return sorted(n for n in dir(module) if not n.startswith("_")
                  and not isinstance(getattr(module, n), types.ModuleType))


def _ours(path: str):
    """kerastorch's namespace for a Keras path, reached attribute by attribute (None: not
    reachable)."""
    obj = kerastorch
    for part in path.split(".")[1:]:
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def surface_gaps():
    keras = _keras()
    unreachable, missing = [], {}
    for path in keras_namespaces(keras):
        ours = _ours(path)
        if ours is None and path not in PENDING_NAMESPACES:
            unreachable.append(path)
        names = public_names(importlib.import_module(path))
        absent = [n for n in names if ours is None or not hasattr(ours, n)]
        if absent:
            missing[path] = absent
    return unreachable, missing


def _listed(path):
    listed = dict(DELIBERATE.get(path, {}))
    for owner, names in PENDING.get(path, {}).items():
        listed.update(dict.fromkeys(names, owner))
    return listed


def test_every_keras_namespace_is_reachable_as_an_attribute():
    unreachable, _ = surface_gaps()
    assert not unreachable, f"not reachable as attributes of kerastorch: {unreachable}"


def test_every_public_keras_name_exists_or_is_listed():
    _, missing = surface_gaps()
    unlisted = {}
    for path, names in missing.items():
        if path in PENDING_NAMESPACES:
            continue
        listed = _listed(path)
        rest = [n for n in names if n not in listed]
        if rest:
            unlisted[path] = rest
    assert not unlisted, f"public Keras names kerastorch lacks (add them or list them): " \
                         f"{unlisted}"


def test_the_lists_only_hold_names_still_missing():
    keras = _keras()
    stale = []
    for path in set(DELIBERATE) | set(PENDING):
        keras_names = set(public_names(importlib.import_module(path)))
        ours = _ours(path)
        for name in _listed(path):
            if name not in keras_names:
                stale.append(f"{path}.{name} (not in Keras)")
            elif ours is not None and hasattr(ours, name) and name not in \
                    DELIBERATE.get(path, {}):
                stale.append(f"{path}.{name} (kerastorch has it now: remove it from PENDING)")
    for path in PENDING_NAMESPACES:
        ours = _ours(path)
        if ours is not None and all(hasattr(ours, n)
                                    for n in public_names(importlib.import_module(path))):
            stale.append(f"{path} (complete now: remove it from PENDING_NAMESPACES)")
    assert keras is not None and not stale, stale
