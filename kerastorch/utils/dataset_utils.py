"""Datasets from arrays and folders: `timeseries_dataset_from_array`,
`image_dataset_from_directory`, `text_dataset_from_directory`, `split_dataset`.

Keras returns `tf.data` datasets; here each is a `PyDataset` of numpy batches (so `fit`,
`evaluate` and `predict` take it, and `for x, y in ds` iterates its batches) with the same
samples, labels and batches. Shuffling: files are ordered exactly as Keras orders them
(`numpy.random.RandomState(seed)`), time windows as Keras' start positions; Keras' extra
`tf.data` shuffle buffer has no equivalent, so each later epoch is a fresh seeded permutation.
"""

import os
import random

import numpy as np
import torch

from kerastorch.utils.io_utils import print_msg
from kerastorch.utils.py_dataset import PyDataset

IMAGE_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


class ArrayDataset(PyDataset):
    """Batches of `batch_size` samples drawn from in-memory items.

    Args:
        load: `load(indices) -> batch` (numpy arrays, or a tuple of them).
        num_samples: Number of samples.
        batch_size: Samples per batch (`None`: one sample per item, no batch axis).
        shuffle: Re-permute the samples after each epoch (seeded by `seed`).
    """

    def __init__(self, load, num_samples, batch_size, shuffle=False, seed=None):
        super().__init__()
        self._load, self._n, self.batch_size = load, num_samples, batch_size
        self._order = np.arange(num_samples)
        self._shuffle, self._rng = shuffle, np.random.RandomState(seed)

    def __len__(self):
        return self.num_batches

    @property
    def num_batches(self):
        if self.batch_size is None:
            return self._n
        return -(-self._n // self.batch_size)

    def __getitem__(self, index):
        if index < 0 or index >= self.num_batches:
            raise IndexError(f"Batch index {index} is out of range for a dataset of "
                             f"{self.num_batches} batches.")
        if self.batch_size is None:
            batch = self._load(self._order[index:index + 1])
            return tuple(b[0] for b in batch) if isinstance(batch, tuple) else batch[0]
        return self._load(self._order[index * self.batch_size:(index + 1) * self.batch_size])

    def __iter__(self):
        for i in range(self.num_batches):
            yield self[i]

    def on_epoch_end(self):
        if self._shuffle:
            self._order = self._rng.permutation(self._n)

    def take(self, count):
        """The first `count` batches (as `tf.data.Dataset.take`), as a list."""
        return [self[i] for i in range(min(count, self.num_batches))]


# ---------------------------------------------------------------------------- timeseries
def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1,
                                  sampling_rate=1, batch_size=128, shuffle=False, seed=None,
                                  start_index=None, end_index=None):
    """Sliding windows over `data`: batches of `(batch, sequence_length, ...)` sequences.

    Sequence `i` is `data[start_index + p : ... : sampling_rate]` (`sequence_length` steps)
    for start position `p = i * sequence_stride`; its target is `targets[start_index + p]`.
    Args as Keras: `targets` may be None; `shuffle` permutes the windows
    (`numpy.random.RandomState(seed)`, as Keras); `start_index`/`end_index` bound the rows used
    (`end_index` excluded).
    """
    if start_index:
        if start_index < 0:
            raise ValueError("`start_index` must be 0 or greater. "
                             f"Received: start_index={start_index}")
        if start_index >= len(data):
            raise ValueError("`start_index` must be lower than the length of the data. "
                             f"Received: start_index={start_index}, for data of length "
                             f"{len(data)}")
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError("`end_index` must be higher than `start_index`. Received: "
                             f"start_index={start_index}, and end_index={end_index} ")
        if end_index >= len(data):
            raise ValueError("`end_index` must be lower than the length of the data. "
                             f"Received: end_index={end_index}, for data of length {len(data)}")
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: end_index={end_index}")
    for name, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if value <= 0:
            raise ValueError(f"`{name}` must be higher than 0. Received: {name}={value}")
        if value >= len(data):
            raise ValueError(f"`{name}` must be lower than the length of the data. Received: "
                             f"{name}={value}, for data of length {len(data)}")
    start_index = start_index or 0
    end_index = end_index if end_index is not None else len(data)
    num_seqs = end_index - start_index - (sequence_length - 1) * sampling_rate
    if targets is not None:
        num_seqs = min(num_seqs, len(targets))
    starts = np.arange(0, max(num_seqs, 0), sequence_stride)
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(starts)
    window = np.asarray(data)[start_index:end_index]
    offsets = np.arange(0, sequence_length * sampling_rate, sampling_rate)
    target_rows = None if targets is None else np.asarray(targets)[start_index:end_index]

    def load(idx):
        pos = starts[idx]
        x = window[pos[:, None] + offsets[None, :]]
        return x if target_rows is None else (x, target_rows[pos])

    return ArrayDataset(load, len(starts), batch_size, shuffle=shuffle, seed=seed)


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
                                 pad_to_aspect_ratio=False, data_format=None, verbose=True):
    """Batches of images (float32, resized to `image_size`) and labels from a folder tree.

    `directory/class_a/*.png`, `directory/class_b/*.png` with `labels="inferred"` gives labels
    0, 1 (class names sorted). `label_mode`: `"int"` (int32 `(batch,)`), `"categorical"`
    (one-hot float32), `"binary"` (float32 `(batch, 1)`), None (images only). The dataset has
    `class_names` and `file_paths`; `subset="both"` returns `(train, validation)`.
    """
    from kerastorch import config
    from kerastorch.layers.preprocessing_image.image_ops import resize_images
    from kerastorch.utils.image_utils import load_img

    modes = {"rgb": "rgb", "rgba": "rgba", "grayscale": "grayscale"}
    if color_mode not in modes:
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
            img = resize_images(torch.from_numpy(img), image_size, interpolation=interpolation,
                                crop_to_aspect_ratio=crop_to_aspect_ratio,
                                pad_to_aspect_ratio=pad_to_aspect_ratio).numpy()
        return img.transpose(2, 0, 1) if data_format == "channels_first" else img

    return _from_directory(directory, labels, label_mode, class_names, batch_size, shuffle,
                           seed, validation_split, subset, follow_links, verbose, IMAGE_FORMATS,
                           load_one, "image")


def text_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                class_names=None, batch_size=32, max_length=None, shuffle=True,
                                seed=None, validation_split=None, subset=None,
                                follow_links=False, verbose=True):
    """Batches of texts (numpy arrays of `str`) and labels from `.txt` files in a folder tree.

    As `image_dataset_from_directory`; `max_length` truncates each text to that many characters.
    """
    def load_one(path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        return np.asarray(text if max_length is None else text[:max_length], dtype=object)

    return _from_directory(directory, labels, label_mode, class_names, batch_size, shuffle,
                           seed, validation_split, subset, follow_links, verbose, (".txt",),
                           load_one, "text")


# ---------------------------------------------------------------------------- split
class SampleDataset(torch.utils.data.Dataset):
    """A list of samples (each an array or a tuple of arrays) as a torch `Dataset`."""

    def __init__(self, samples):
        self.samples = samples

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        return self.samples[index]


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None):
    """Split a dataset into a left and a right part (Keras' order and sizes).

    Args:
        dataset: An array, a list/tuple of arrays (split along their first axis together), or
            a torch `Dataset`/iterable of samples.
        left_size: Int (samples) or float in (0, 1) (fraction, rounded); default: the rest.
        right_size: Likewise for the right part.
        shuffle: Shuffle the samples first (Python's `random.seed(seed)`, as Keras).
        seed: Seed for the shuffle.

    Returns:
        `(left, right)`, each a torch `Dataset` of samples (tuples when `dataset` is a tuple).
    """
    if right_size is None and left_size is None:
        raise ValueError("At least one of the `left_size` or `right_size` must be specified. "
                         "Received: left_size=None and right_size=None")
    if isinstance(dataset, np.ndarray) or torch.is_tensor(dataset):
        samples = list(dataset)
    elif isinstance(dataset, (list, tuple)):
        samples = list(zip(*dataset))
    elif hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__"):
        samples = [dataset[i] for i in range(len(dataset))]
    elif hasattr(dataset, "__iter__"):
        samples = list(dataset)
    else:
        raise TypeError("The `dataset` argument must be an array, a list/tuple of arrays or a "
                        f"torch Dataset. Received: dataset={dataset} of type {type(dataset)}")
    if not samples:
        raise ValueError("Received an empty dataset.")
    if shuffle:
        if seed is None:
            seed = random.randint(0, int(1e6))
        random.seed(seed)
        random.shuffle(samples)
    left, right = _rescale_split_sizes(left_size, right_size, len(samples))
    return SampleDataset(samples[:left]), SampleDataset(samples[-right:])


def _rescale_split_sizes(left_size, right_size, total):
    for name, size in (("left_size", left_size), ("right_size", right_size)):
        if size is not None and type(size) not in (int, float):
            raise TypeError(f"Invalid `{name}` Type. Expected: int or float or None, "
                            f"Received: type({name})={type(size)}.")
        if (type(size) is int and not 0 < size < total) or \
                (type(size) is float and not 0 < size < 1):
            raise ValueError(f"`{name}` should be either a positive integer smaller than "
                             f"{total}, or a float within the range `[0, 1]`. "
                             f"Received: {name}={size}")
    if type(left_size) is float and type(right_size) is float and left_size + right_size > 1:
        raise ValueError("The sum of `left_size` and `right_size` is greater than 1. It must "
                         "be less than or equal to 1.")
    left = round(left_size * total) if type(left_size) is float else left_size
    right = round(right_size * total) if type(right_size) is float else right_size
    if left is None:
        left = total - right
    elif right is None:
        right = total - left
    if left + right > total:
        raise ValueError(f"The sum of `left_size` and `right_size` should be smaller than the "
                         f"{total}. Received: left_size + right_size = {left + right}and "
                         f"total_length = {total}")
    for split, side in ((left, "left"), (right, "right")):
        if split == 0:
            raise ValueError(f"With `dataset` of length={total}, `left_size`={left_size} and "
                             f"`right_size`={right_size}.Resulting {side} side dataset split "
                             "will be empty. Adjust any of the aforementioned parameters")
    return int(left), int(right)
