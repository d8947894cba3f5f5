"""The word-index processing IMDB and Reuters share, exactly as Keras' loaders do it.

Keras loops over every word in Python; here the sequences are flattened into one numpy array,
processed with vectorised ops, and cut back into Python lists of ints, with the same result.
"""

from __future__ import annotations

import itertools
import json

import numpy as np


def _flatten(seqs):
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
    flat = np.fromiter(itertools.chain.from_iterable(seqs), dtype=np.int64,
                       count=int(lengths.sum()))
    return flat, lengths


def _split(flat, lengths):
    values = flat.tolist()
    ends = np.cumsum(lengths).tolist()
    out, start = [], 0
    for end in ends:
        out.append(values[start:end])
        start = end
    return out


def shift(seqs, start_char, index_from):
    """Adds `index_from` to every word and puts `start_char` (when not None) in front.

    Returns `(flat, lengths)`: all the words in one int64 array, and each sequence's length.
    """
    flat, lengths = _flatten(seqs)
    if index_from:
        flat = flat + index_from
    if start_char is not None:
        starts = np.cumsum(lengths) - lengths
        flat = np.insert(flat, starts, start_char)
        lengths = lengths + 1
    return flat, lengths


def drop_long(flat, lengths, labels, maxlen):
    """Keras' `remove_long_seq`: keeps the sequences *shorter* than `maxlen` (when truthy)."""
    labels = np.asarray(labels)
    if not maxlen:
        return flat, lengths, labels
    keep = lengths < maxlen
    flat = flat[np.repeat(keep, lengths)]
    return flat, lengths[keep], labels[keep]


def limit_vocabulary(flat, lengths, num_words, skip_top, oov_char):
    """Words outside `[skip_top, num_words)` become `oov_char`, or are dropped when it is None.

    As in Keras, `num_words=None` (or 0) means the largest index in the data, which is then
    itself outside the range. Returns the sequences as a list of lists of Python ints.
    """
    if not num_words:
        if not len(flat):
            raise ValueError("No words are left in the sequences: cannot infer `num_words`.")
        num_words = int(flat.max())
    inside = (flat >= skip_top) & (flat < num_words)
    if oov_char is not None:
        flat = np.where(inside, flat, oov_char)
    else:
        owner = np.repeat(np.arange(len(lengths)), lengths)
        lengths = np.bincount(owner[inside], minlength=len(lengths))
        flat = flat[inside]
    return _split(flat, lengths)


def to_object_array(seqs):
    """`np.array(seqs, dtype="object")`, as Keras returns the sequences."""
    return np.array(seqs, dtype="object")


def read_word_index(path: str) -> dict:
    """Reads a word index json file (`{"word": index}`)."""
    with open(path) as f:
        return json.load(f)
