"""`image_dataset_from_directory` and `text_dataset_from_directory`: a folder tree of files
(one subfolder per class) -> an `ArrayDataset` of batches (CPU tensors; texts as `str`
arrays), files in Keras' order.

Keras returns `tf.data` datasets; here the files are listed and shuffled exactly as Keras
lists them (`index_directory`, `numpy.random.RandomState(seed)`), split the same way
(`validation_split`, `subset`), and labelled the same way (`label_mode`). Keras' extra
`tf.data` shuffle buffer has no equivalent: later epochs are fresh seeded permutations.
"""

import os

import numpy as np
import torch

from kerastorch.utils.dataset_utils import ArrayDataset, _check_format
from kerastorch.utils.io_utils import print_msg

IMAGE_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


# ---------------------------------------------------------------------------- directories
def _check_validation_split(validation_split, subset, shuffle, seed):
    if validation_split and not 0 < validation_split < 1:
        raise ValueError("`validation_split` must be between 0 and 1, received: "
                         f"{validation_split}")
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError('`subset` must be either "training", "validation" or "both", '
                         f"received: {subset}")
    if validation_split and shuffle and seed is None:
        raise ValueError("If using `validation_split` and shuffling the data, you must provide "
                         "a `seed` argument, to make sure that there is no overlap between the "
                         "training and validation subset.")


def index_directory(directory, labels, formats, class_names=None, shuffle=True, seed=None,
                    follow_links=False, verbose=True):
    """`(file_paths, labels, class_names)` in Keras' order (Keras' `index_directory`)."""
    if labels == "inferred":
        subdirs = [d for d in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")]
        if class_names is not None:
            if not set(class_names).issubset(set(subdirs)):
                raise ValueError("The `class_names` passed did not match the names of the "
                                 "subdirectories of the target directory. Expected: "
                                 f"{subdirs} (or a subset of it), but received: "
                                 f"class_names={class_names}")
            subdirs = class_names
    else:
        subdirs = [""]
        if class_names is not None:
            raise ValueError("When `labels=None` (no labels), argument `class_names` cannot be "
                             "specified." if labels is None else
                             "When argument `labels` is specified, argument `class_names` "
                             "cannot be specified (the `class_names` will be the sorted list "
                             "of labels).")
    class_names = subdirs
    filenames, label_list = [], []
    for index, subdir in enumerate(subdirs):
        folder = os.path.join(directory, subdir)
        dirname = os.path.basename(folder)
        walk = sorted(os.walk(folder, followlinks=follow_links), key=lambda w: w[0])
        for root, _, files in walk:
            for fname in sorted(files):
                if fname.lower().endswith(formats):
                    path = os.path.join(root, fname)
                    filenames.append(os.path.join(dirname, os.path.relpath(path, folder)))
                    label_list.append(index)
    if labels == "inferred":
        labels = np.asarray(label_list, dtype="int32")
    elif labels is None:
        class_names = None
    else:
        if len(labels) != len(filenames):
            raise ValueError("Expected the lengths of `labels` to match the number of files in "
                             f"the target directory. len(labels) is {len(labels)} while we "
                             f"found {len(filenames)} files in directory {directory}.")
        class_names = [str(label) for label in sorted(set(labels))]
        labels = np.asarray(labels)
    if verbose:
        print_msg(f"Found {len(filenames)} files." if labels is None else
                  f"Found {len(filenames)} files belonging to {len(class_names)} classes.")
    paths = [os.path.join(directory, f) for f in filenames]
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(paths)
        if labels is not None:
            np.random.RandomState(seed).shuffle(labels)
    return paths, labels, class_names


def _split(samples, labels, validation_split, subset):
    if not validation_split:
        return samples, labels
    n_val = int(validation_split * len(samples))
    if subset == "training":
        print_msg(f"Using {len(samples) - n_val} files for training.")
        return samples[:-n_val], None if labels is None else labels[:-n_val]
    print_msg(f"Using {n_val} files for validation.")
    return samples[-n_val:], None if labels is None else labels[-n_val:]


def _encode_labels(labels, label_mode, num_classes):
    if label_mode == "binary":
        return np.asarray(labels, "float32")[:, None]
    if label_mode == "categorical":
        return np.eye(num_classes, dtype="float32")[np.asarray(labels)]
    return np.asarray(labels)


def _from_directory(directory, labels, label_mode, class_names, batch_size, shuffle, seed,
                    validation_split, subset, follow_links, verbose, formats, load_one, kind):
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError("`labels` argument should be a list/tuple of integer labels, of the "
                             f"same size as the number of {kind} files in the target directory. "
                             'Pass `labels="inferred"` to infer them from the subdirectory '
                             f"names, or `labels=None` for no labels. Received: labels={labels}")
        if class_names:
            raise ValueError('You can only pass `class_names` if `labels="inferred"`. Received: '
                             f"labels={labels}, and class_names={class_names}")
    if label_mode not in {"int", "categorical", "binary", None}:
        raise ValueError('`label_mode` argument must be one of "int", "categorical", "binary", '
                         f"or None. Received: label_mode={label_mode}")
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    _check_validation_split(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    paths, labels, class_names = index_directory(
        directory, labels, formats=formats, class_names=class_names, shuffle=shuffle, seed=seed,
        follow_links=follow_links, verbose=verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={class_names}")
    num_classes = len(class_names) if class_names else 0

    def make(subset_name, shuffle_epochs):
        sub_paths, sub_labels = _split(paths, labels, validation_split, subset_name)
        if not sub_paths:
            raise ValueError(f"No {subset_name or ''} {kind}s found in directory {directory}. "
                             f"Allowed formats: {formats}".replace("  ", " "))
        encoded = None if sub_labels is None else _encode_labels(sub_labels, label_mode,
                                                                 num_classes)

        def load(idx):
            x = np.stack([load_one(sub_paths[i]) for i in idx])
            return x if encoded is None else (x, encoded[idx])

        ds = ArrayDataset(load, len(sub_paths), batch_size, shuffle=shuffle_epochs, seed=seed)
        ds.class_names, ds.file_paths = class_names, list(sub_paths)
        return ds

    if subset == "both":
        return make("training", shuffle), make("validation", False)
    return make(subset, shuffle and subset != "validation")


def image_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                 class_names=None, color_mode="rgb", batch_size=32,
                                 image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear",
                                 follow_links=False, crop_to_aspect_ratio=False,
                                 pad_to_aspect_ratio=False, data_format=None, format="tf",
                                 verbose=True):
    """Batches of images (float32, resized to `image_size`) and labels from a folder tree.

    `directory/class_a/*.png`, `directory/class_b/*.png` with `labels="inferred"` gives labels
    0, 1 (class names sorted). `label_mode`: `"int"` (int32 `(batch,)`), `"categorical"`
    (one-hot float32), `"binary"` (float32 `(batch, 1)`), None (images only). The dataset has
    `class_names` and `file_paths`; `subset="both"` returns `(train, validation)`.
    """
    from kerastorch import config
    from kerastorch.layers.preprocessing_image.image_ops import resize_images
    from kerastorch.utils.image_utils import load_img

    _check_format(format)
    if color_mode not in ("rgb", "rgba", "grayscale"):
        raise ValueError('`color_mode` must be one of {"rgb", "rgba", "grayscale"}. '
                         f"Received: color_mode={color_mode}")
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    elif not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError("Invalid `image_size` value. Expected a tuple of 2 integers. "
                         f"Received: image_size={image_size}")
    interpolation = interpolation.lower()
    supported = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5")
    if interpolation not in supported:
        raise ValueError(f"Argument `interpolation` should be one of {supported}. "
                         f"Received: interpolation={interpolation}")
    data_format = data_format or config.image_data_format()

    def load_one(path):
        img = np.asarray(load_img(path, color_mode=color_mode), dtype="float32")
        if img.ndim == 2:
            img = img[:, :, None]
        if img.shape[:2] != tuple(image_size):
            if interpolation == "area":  # TF's area resize: torch's adaptive average
                if crop_to_aspect_ratio or pad_to_aspect_ratio:
                    raise NotImplementedError("`interpolation='area'` with crop or pad to "
                                              "aspect ratio is not supported in kerastorch.")
                t = torch.from_numpy(img).permute(2, 0, 1)[None]
                img = torch.nn.functional.interpolate(t, size=tuple(image_size), mode="area")
                img = img[0].permute(1, 2, 0).numpy()
            else:
                img = resize_images(torch.from_numpy(img), image_size,
                                    interpolation=interpolation,
                                    crop_to_aspect_ratio=crop_to_aspect_ratio,
                                    pad_to_aspect_ratio=pad_to_aspect_ratio).numpy()
        return img.transpose(2, 0, 1) if data_format == "channels_first" else img

    return _from_directory(directory, labels, label_mode, class_names, batch_size, shuffle,
                           seed, validation_split, subset, follow_links, verbose, IMAGE_FORMATS,
                           load_one, "image")


def text_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                class_names=None, batch_size=32, max_length=None, shuffle=True,
                                seed=None, validation_split=None, subset=None,
                                follow_links=False, format="tf", verbose=True):
    """Batches of texts (numpy arrays of `str`) and labels from `.txt` files in a folder tree.

    As `image_dataset_from_directory`; `max_length` truncates each text to that many characters.
    """
    _check_format(format)
    def load_one(path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        return np.asarray(text if max_length is None else text[:max_length], dtype=object)

    return _from_directory(directory, labels, label_mode, class_names, batch_size, shuffle,
                           seed, validation_split, subset, follow_links, verbose, (".txt",),
                           load_one, "text")
