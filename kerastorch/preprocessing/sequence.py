"""`keras.preprocessing.sequence`."""

from kerastorch.utils.sequence_utils import pad_sequences as pad_sequences
