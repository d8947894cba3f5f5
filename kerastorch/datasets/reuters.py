"""Reuters newswire topic classification dataset, as `keras.datasets.reuters`."""

import numpy as np

from kerastorch.datasets import _fetch
from kerastorch.datasets import _sequences as seq
from kerastorch.datasets._cache import DatasetFormatError

_URL = _fetch.KERAS_ORIGIN + "reuters.npz"
_SHA256 = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
_INDEX_URL = _fetch.KERAS_ORIGIN + "reuters_word_index.json"
_INDEX_MD5 = "4d44cc38712099c9e383dc6e5f11a921"

_LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas",
    "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs",
    "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2,
              seed=113, start_char=1, oov_char=2, index_from=3):
    """Loads the Reuters newswire dataset: 11,228 newswires labelled over 46 topics, each a
    list of word indices, split into training and test sets by `test_split`.

    Words are indexed by how often they occur in the data ("3" is the 3rd most frequent);
    0 is the padding index.

    Looks for `path` in `$KERASTORCH_HOME/datasets` (default `~/.kerastorch/datasets`), then in
    Keras' cache (`$KERAS_HOME/datasets`, default `~/.keras`), then downloads Keras'
    `reuters.npz` into the kerastorch cache and checks its sha256 sum. The file holds ragged
    `dtype=object` arrays, stored by numpy as pickles (Keras' format); they are read with an
    unpickler that only rebuilds numpy arrays.

    Args:
        path: File name to look for in both caches (a path with a folder is read from there
            only).
        num_words: Keep only the `num_words` most frequent words; the others become
            `oov_char`. `None` keeps all (as in Keras, the largest index then also becomes
            `oov_char`).
        skip_top: The `skip_top` most frequent words become `oov_char`.
        maxlen: Keep only the sequences shorter than `maxlen` (after `start_char` is added);
            `None` keeps all.
        test_split: Fraction of the (shuffled) newswires put in the test set; the first
            `int(n * (1 - test_split))` are the training set.
        seed: Seed of the `np.random.RandomState` that shuffles the newswires.
        start_char: Put in front of every sequence; `None` puts nothing.
        oov_char: Replaces the words cut by `num_words` / `skip_top`; `None` drops them.
        index_from: Added to every word index.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: `x_*` object arrays of lists of ints, `y_*`
        integer topic arrays (0-45, see `get_label_names()`).

    Raises:
        kerastorch.datasets.DatasetNotFoundError: Nothing local and the download failed.
        kerastorch.datasets.DatasetFormatError: The file is damaged; the message names it.
    """
    file = _fetch.fetch_file("Reuters", path, "reuters.npz", _URL, _SHA256)
    f = _fetch.read_npz(file, ("x", "y"))
    xs, labels = f["x"], f["y"]
    if len(xs) != len(labels):
        raise DatasetFormatError(
            f"{file} holds {len(xs)} sequences but {len(labels)} labels."
        )

    rng = np.random.RandomState(seed)
    indices = np.arange(len(xs))
    rng.shuffle(indices)
    xs, labels = xs[indices], labels[indices]

    flat, lengths = seq.shift(xs, start_char, index_from)
    flat, lengths, labels = seq.drop_long(flat, lengths, labels, maxlen)
    xs = seq.limit_vocabulary(flat, lengths, num_words, skip_top, oov_char)
    idx = int(len(xs) * (1 - test_split))
    return ((seq.to_object_array(xs[:idx]), np.array(labels[:idx])),
            (seq.to_object_array(xs[idx:]), np.array(labels[idx:])))


def get_word_index(path="reuters_word_index.json"):
    """Returns the Reuters word index, a dict `{word: index}`.

    Index 1 is the most frequent word ("the"); in `load_data`'s sequences it is
    `1 + index_from` (4 by default), as 0, 1 and 2 are padding, start and out-of-vocabulary.

    Looks for `path` in `$KERASTORCH_HOME/datasets`, then Keras' cache, then downloads
    Keras' `reuters_word_index.json` into the kerastorch cache.
    """
    file = _fetch.fetch_file("Reuters word index", path, "reuters_word_index.json", _INDEX_URL,
                             _INDEX_MD5)
    return seq.read_word_index(file)


def get_label_names():
    """The 46 topic names, as a tuple indexed by label (`get_label_names()[3] == "earn"`)."""
    return _LABEL_NAMES
