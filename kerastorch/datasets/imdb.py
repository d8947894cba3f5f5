"""IMDB movie review sentiment classification dataset, as `keras.datasets.imdb`."""

import numpy as np

from kerastorch.datasets import _fetch
from kerastorch.datasets import _sequences as seq
from kerastorch.datasets._cache import DatasetFormatError

_URL = _fetch.KERAS_ORIGIN + "imdb.npz"
_SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
_INDEX_URL = _fetch.KERAS_ORIGIN + "imdb_word_index.json"
_INDEX_MD5 = "bfafd718b763782e994055a2d397834f"


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113,
              start_char=1, oov_char=2, index_from=3, **kwargs):
    """Loads the IMDB dataset: 25,000 training and 25,000 test movie reviews, labelled by
    sentiment (1 positive, 0 negative), each a list of word indices.

    Words are indexed by how often they occur in the data ("3" is the 3rd most frequent);
    0 is the padding index.

    Looks for `path` in `$KERASTORCH_HOME/datasets` (default `~/.kerastorch/datasets`), then in
    Keras' cache (`$KERAS_HOME/datasets`, default `~/.keras`), then downloads Keras' `imdb.npz`
    into the kerastorch cache and checks its sha256 sum. The file holds ragged `dtype=object`
    arrays, stored by numpy as pickles (Keras' format); they are read with an unpickler that
    only rebuilds numpy arrays.

    Args:
        path: File name to look for in both caches (a path with a folder is read from there
            only).
        num_words: Keep only the `num_words` most frequent words; the others become
            `oov_char`. `None` keeps all (as in Keras, the largest index then also becomes
            `oov_char`).
        skip_top: The `skip_top` most frequent words become `oov_char`.
        maxlen: Keep only the sequences shorter than `maxlen` (after `start_char` is added);
            `None` keeps all.
        seed: Seed of the `np.random.RandomState` that shuffles the training, then the test
            reviews.
        start_char: Put in front of every sequence; `None` puts nothing.
        oov_char: Replaces the words cut by `num_words` / `skip_top`; `None` drops them.
        index_from: Added to every word index.
        **kwargs: Accepted and ignored, as in Keras.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: `x_*` object arrays of lists of ints, `y_*`
        integer label arrays.

    Raises:
        ValueError: `maxlen` leaves no sequence.
        kerastorch.datasets.DatasetNotFoundError: Nothing local and the download failed.
        kerastorch.datasets.DatasetFormatError: The file is damaged; the message names it.
    """
    file = _fetch.fetch_file("IMDB", path, "imdb.npz", _URL, _SHA256)
    f = _fetch.read_npz(file, ("x_train", "y_train", "x_test", "y_test"))
    x_train, labels_train = f["x_train"], f["y_train"]
    x_test, labels_test = f["x_test"], f["y_test"]
    if len(x_train) != len(labels_train) or len(x_test) != len(labels_test):
        raise DatasetFormatError(
            f"{file} holds {len(x_train)} training and {len(x_test)} test sequences but "
            f"{len(labels_train)} and {len(labels_test)} labels."
        )

    rng = np.random.RandomState(seed)
    indices = np.arange(len(x_train))
    rng.shuffle(indices)
    x_train, labels_train = x_train[indices], labels_train[indices]
    indices = np.arange(len(x_test))
    rng.shuffle(indices)
    x_test, labels_test = x_test[indices], labels_test[indices]

    flat_tr, len_tr = seq.shift(x_train, start_char, index_from)
    flat_te, len_te = seq.shift(x_test, start_char, index_from)
    if maxlen:
        flat_tr, len_tr, labels_train = seq.drop_long(flat_tr, len_tr, labels_train, maxlen)
        flat_te, len_te, labels_test = seq.drop_long(flat_te, len_te, labels_test, maxlen)
        if not len(len_tr) or not len(len_te):
            raise ValueError(
                "After filtering for sequences shorter than maxlen="
                f"{str(maxlen)}, no sequence was kept. Increase maxlen."
            )
    xs = seq.limit_vocabulary(np.concatenate([flat_tr, flat_te]),
                              np.concatenate([len_tr, len_te]), num_words, skip_top, oov_char)
    labels = np.concatenate([labels_train, labels_test])
    idx = len(len_tr)
    return ((seq.to_object_array(xs[:idx]), labels[:idx]),
            (seq.to_object_array(xs[idx:]), labels[idx:]))


def get_word_index(path="imdb_word_index.json"):
    """Returns the IMDB word index, a dict `{word: index}` (index 1 is the most frequent word;
    add `index_from` to match `load_data`'s sequences).

    Looks for `path` in `$KERASTORCH_HOME/datasets`, then Keras' cache, then downloads
    Keras' `imdb_word_index.json` into the kerastorch cache.
    """
    file = _fetch.fetch_file("IMDB word index", path, "imdb_word_index.json", _INDEX_URL,
                             _INDEX_MD5)
    return seq.read_word_index(file)
