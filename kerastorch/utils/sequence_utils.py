"""`keras.utils.pad_sequences` (numpy, as Keras)."""

import numpy as np


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0):
    """Pad (and truncate) sequences to one length; a numpy array `(num_samples, maxlen, ...)`.

    Args:
        sequences: List of sequences (each a list or array; items may be arrays of one shape).
        maxlen: Length to pad/truncate to (default: the longest sequence).
        dtype: dtype of the output (`"int32"` by default; `object` or a string dtype for text).
        padding: `"pre"` or `"post"`: pad before or after each sequence.
        truncating: `"pre"` or `"post"`: drop values from the start or the end of longer
            sequences.
        value: The padding value (float or string).
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    num_samples = len(sequences)
    lengths, sample_shape, first = [], (), True
    for x in sequences:
        try:
            lengths.append(len(x))
            if first and len(x):
                sample_shape = np.asarray(x).shape[1:]
                first = False
        except TypeError as e:
            raise ValueError("`sequences` must be a list of iterables. "
                             f"Found non-iterable: {x}") from e
    if maxlen is None:
        maxlen = np.max(lengths) if lengths else 0
    is_dtype_str = np.issubdtype(dtype, np.str_)
    if isinstance(value, str) and dtype is not object and not is_dtype_str:
        raise ValueError(f"`dtype` {dtype} is not compatible with `value`'s type: "
                         f"{type(value)}\nYou should set `dtype=object` for variable length "
                         "strings.")
    out = np.full((num_samples, maxlen) + sample_shape, value, dtype=dtype)
    for idx, seq in enumerate(sequences):
        if not len(seq):
            continue  # an empty sequence is all padding (and checks no option, as in Keras)
        if truncating not in ("pre", "post"):
            raise ValueError(f'Truncating type "{truncating}" not understood')
        # (Keras' slices: with maxlen=0, "pre" keeps the whole sequence)
        kept = np.asarray(seq[-maxlen:] if truncating == "pre" else seq[:maxlen], dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError(f"Shape of sample {kept.shape[1:]} of sequence at position {idx} "
                             f"is different from expected shape {sample_shape}")
        if padding not in ("pre", "post"):
            raise ValueError(f'Padding type "{padding}" not understood')
        row = out[idx]
        if padding == "post":
            row[:len(kept)] = kept
        else:
            row[len(row) - len(kept):] = kept
    return out
