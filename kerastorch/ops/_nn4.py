"""keras.ops.nn, part 4 (CTC loss and decoding).

Adapted from Keras 3's torch backend (`keras/src/backend/torch/nn.py`, Apache 2.0), with Keras'
dtype rules; numbers checked against Keras on JAX in tests/conformance/test_ops_keras.py.
"""

import builtins  # noqa: F401
import math  # noqa: F401

import numpy as np  # noqa: F401
import torch
import torch.nn.functional as tnn  # noqa: F401

from kerastorch.ops import _dtypes as dtypes  # noqa: F401
from kerastorch.ops._utils import (  # noqa: F401
    canonicalize_axis, cast, check_conv_input_channels, check_conv_transpose_input_channels,
    compute_adaptive_pooling_window_sizes, compute_conv_transpose_output_crops_for_torch,
    convert_to_tensor, get_device, is_tensor, slice_along_axis, standardize_data_format,
    standardize_dtype, standardize_tuple, to_torch_dtype, to_tuple_or_list,
)
from kerastorch.ops._shim import backend, config  # noqa: F401


def ctc_loss(target, output, target_length, output_length, mask_index=0):
    target = convert_to_tensor(target)
    output = convert_to_tensor(output)
    target_length = convert_to_tensor(target_length)
    output_length = convert_to_tensor(output_length)

    # Ensure that the dtype promotion behavior matches that of `tf.nn.ctc_loss`
    dtype = backend.result_type(output.dtype, "float32")
    output = cast(output, dtype)

    output = torch.transpose(output, 1, 0)
    logits = tnn.log_softmax(output, dim=-1)
    loss = tnn.ctc_loss(
        logits,
        target,
        output_length,
        target_length,
        blank=mask_index,
        reduction="none",
    )
    return loss


def _ctc_greedy_decode(
    inputs,
    sequence_lengths,
    merge_repeated=True,
    mask_index=None,
):
    inputs = convert_to_tensor(inputs)
    sequence_lengths = convert_to_tensor(sequence_lengths, dtype="int32")
    batch_size, max_length, num_classes = inputs.shape

    if mask_index is None:
        mask_index = num_classes - 1

    indices = torch.argmax(inputs, axis=-1)
    indices = cast(indices, "int32")
    scores = torch.max(inputs, axis=-1)[0]

    seqlen_mask = torch.arange(max_length, device=indices.device)[None, :]
    seqlen_mask = seqlen_mask >= sequence_lengths[:, None]

    indices = torch.where(seqlen_mask, mask_index, indices)
    scores = torch.where(seqlen_mask, 0.0, scores)

    if merge_repeated:
        repeat = indices[:, 1:] == indices[:, :-1]
        repeat = tnn.pad(repeat, (1, 0, 0, 0))
        indices = torch.where(repeat, mask_index, indices)

    # We set to -1 for blank labels
    invalid_mask = indices == mask_index
    indices = torch.where(invalid_mask, -1, indices)

    # We rearrange the indices by moving `mask_index` to the end of the array
    order = torch.unsqueeze(
        torch.arange(max_length, device=indices.device), dim=0
    )  # [1, N]
    order = torch.tile(order, (batch_size, 1))  # [B, N]
    order = torch.where(invalid_mask, max_length, order)
    order = torch.argsort(order, dim=-1)
    indices = torch.take_along_dim(indices, order, dim=-1)

    scores = -torch.sum(scores, axis=1)[:, None]
    indices = torch.unsqueeze(indices, dim=0)
    return indices, scores


# Knuth's multiplicative hash constant. Used as the polynomial base in
# `_unique_padded`; int64 overflow during exponentiation is intentional
# since we only need a deterministic path -> hash mapping.
_KNUTH_HASH_CONSTANT = 2654435769


def _unique_padded(paths, size, pad):
    """Hash-based row-dedup, padded to a fixed leading size with `pad` rows.

    Mirrors `jax.numpy.unique(..., size=size, fill_value=pad, axis=0,
    return_inverse=True)` in observable behavior: the unique rows come
    first, followed by `(size - n_unique)` rows filled with `pad`, and
    `inverse` maps each input row to its index in the unique output.

    Internally avoids `torch.unique(dim=0)` (which sorts the full row
    tensor every call and dominates beam-search runtime) by hashing each
    path to int64 and deduplicating along that 1D axis. Collisions are
    detected by an explicit row-equality check on adjacent same-hash
    entries, so correctness does not rely on a collision-free hash.
    """
    n, t = paths.shape
    device = paths.device

    # Polynomial hash. Shift values to non-negative so all-`pad` rows
    # don't collapse to zero. Adjacent same-hash rows are verified for
    # equality below, so collisions stay correct.
    p = paths.to(torch.int64) + 1
    powers = _KNUTH_HASH_CONSTANT ** torch.arange(
        t, dtype=torch.int64, device=device
    )
    hashes = (p * powers).sum(dim=1)

    order = torch.argsort(hashes, stable=True)
    sorted_paths = paths[order]
    sorted_hashes = hashes[order]

    adj_hash_eq = sorted_hashes[1:] == sorted_hashes[:-1]
    adj_row_eq = (sorted_paths[1:] == sorted_paths[:-1]).all(dim=1)
    is_dup = adj_hash_eq & adj_row_eq
    is_first = torch.cat(
        [torch.ones(1, dtype=torch.bool, device=device), ~is_dup]
    )

    cum_first = torch.cumsum(is_first.to(torch.int64), dim=0) - 1
    inverse = torch.empty(n, dtype=torch.int64, device=device)
    inverse[order] = cum_first

    unique = sorted_paths[is_first]
    n_unique = unique.shape[0]
    if n_unique < size:
        pad_rows = torch.full(
            (size - n_unique, t),
            pad,
            dtype=unique.dtype,
            device=device,
        )
        unique = torch.cat([unique, pad_rows], dim=0)
    return unique, inverse


def _merge_scores(inverse, scores, num_uniques):
    """Log-space scatter-add of `scores` into `num_uniques` buckets."""
    scores_max = scores.max()
    scores_exp = torch.exp(scores - scores_max)
    out = torch.zeros(num_uniques, dtype=scores.dtype, device=scores.device)
    out.scatter_add_(0, inverse, scores_exp)
    return torch.log(out) + scores_max


def _ctc_beam_search_decode(
    inputs,
    sequence_lengths,
    beam_width=100,
    top_paths=1,
    mask_index=None,
):
    """Beam search CTC decoding for the torch backend.

    Direct port of `keras/src/backend/jax/nn.py::_ctc_beam_search_decode`.
    The semantics (tie-breaking, log-space score merging, blank/emit
    score tracks) match the JAX reference implementation; correctness is
    prioritized over throughput, so the batch dimension is iterated in
    Python rather than vmapped.
    """
    inputs = convert_to_tensor(inputs)
    sequence_lengths = convert_to_tensor(sequence_lengths, dtype="int32")

    batch_size, max_seq_len, num_classes = inputs.shape
    inputs = tnn.log_softmax(inputs, dim=-1)

    if mask_index is None:
        mask_index = num_classes - 1

    # Tie-breaking: jnp.argsort doesn't accept an `order` parameter, so
    # the JAX impl flips classes so the desired ordering falls out of the
    # default ascending argsort. We mirror that here for parity.
    inputs = torch.flip(inputs, dims=[2])
    mask_index = num_classes - mask_index - 1

    _pad = -1
    device = inputs.device

    # Precompute per-batch seqlen masks on CPU so the inner loop avoids
    # a GPU->CPU sync on every timestep.
    seqlen_cpu = sequence_lengths.detach().cpu().tolist()
    num_init_paths = min(num_classes, beam_width)

    paths_per_batch = []
    scores_per_batch = []
    for b in range(batch_size):
        x = inputs[b]
        seq_len_b = int(seqlen_cpu[b])

        init_paths = torch.full(
            (2 * beam_width, max_seq_len),
            _pad,
            dtype=torch.int32,
            device=device,
        )

        max_classes = torch.argsort(x[0], stable=True)[-num_init_paths:]
        init_classes = torch.where(
            max_classes == mask_index, _pad, max_classes.to(torch.int32)
        )
        init_paths[:num_init_paths, 0] = init_classes

        init_scores = torch.full(
            (2 * beam_width,),
            float("-inf"),
            dtype=inputs.dtype,
            device=device,
        )
        init_scores[:num_init_paths] = x[0, max_classes]

        paths = init_paths
        scores = init_scores
        masked = paths[:, 0] == _pad

        # Only iterate timesteps within this sequence's length.
        for t in range(1, seq_len_b):
            paths, scores, masked = _ctc_beam_extend(
                paths, scores, masked, x[t], num_classes, mask_index, _pad
            )
            paths, scores, masked = _ctc_beam_prune(
                paths, scores, masked, num_classes, beam_width, _pad
            )

        # Final dedup + top_paths selection.
        paths_unique, inverse = _unique_padded(
            paths, size=2 * num_classes * beam_width, pad=_pad
        )
        scores = _merge_scores(inverse, scores, paths_unique.shape[0])

        top_indices = torch.argsort(scores, stable=True)[-top_paths:].flip(0)
        paths_per_batch.append(paths_unique[top_indices])
        scores_per_batch.append(scores[top_indices])

    paths = torch.stack(paths_per_batch, dim=0)
    scores = torch.stack(scores_per_batch, dim=0)

    # Convert classes back from the flipped representation.
    paths = torch.where(paths == _pad, _pad, num_classes - paths - 1)
    paths = paths.permute(1, 0, 2)
    return paths, scores


def _ctc_beam_extend(paths, scores, masked, x, num_classes, mask_index, _pad):
    """Extend each beam with every possible class for a single timestep."""
    paths = paths.repeat_interleave(num_classes, dim=0)
    scores = scores.repeat_interleave(num_classes)
    masked = masked.repeat_interleave(num_classes)

    is_pad = paths == _pad
    path_tail_index = is_pad.to(torch.int32).argmax(dim=1)
    arange = torch.arange(paths.shape[0], device=paths.device)
    path_tails = paths[arange, path_tail_index - 1]
    path_tails = torch.where(path_tail_index == 0, _pad, path_tails)

    classes = torch.arange(num_classes, device=paths.device, dtype=paths.dtype)
    classes = classes.clone()
    classes[mask_index] = _pad
    classes = classes.repeat(paths.shape[0] // num_classes)

    prev_masked = masked
    masked = classes == _pad

    masked_repeat = (~prev_masked) & (path_tails == classes)
    classes = torch.where(masked_repeat, _pad, classes)
    paths[arange, path_tail_index] = classes

    scores = scores + x.repeat(paths.shape[0] // num_classes)
    return paths, scores, masked


def _ctc_beam_prune(paths, scores, masked, num_classes, beam_width, _pad):
    """Dedup + score-merge + keep top `beam_width` (emit, blank) tracks."""
    paths_unique, inverse = _unique_padded(
        paths, size=2 * num_classes * beam_width, pad=_pad
    )

    emit_scores = torch.where(masked, float("-inf"), scores)
    mask_scores = torch.where(masked, scores, float("-inf"))

    n_uniques = paths_unique.shape[0]
    emit_scores = _merge_scores(inverse, emit_scores, n_uniques)
    mask_scores = _merge_scores(inverse, mask_scores, n_uniques)

    total_scores = torch.logaddexp(emit_scores, mask_scores)
    top_indices = torch.argsort(total_scores, stable=True)[-beam_width:]

    paths_top = paths_unique[top_indices]
    emit_scores_top = emit_scores[top_indices]
    mask_scores_top = mask_scores[top_indices]

    paths = paths_top.repeat(2, 1)
    scores = torch.cat([emit_scores_top, mask_scores_top])
    masked_out = torch.cat(
        [
            torch.zeros(beam_width, dtype=torch.bool, device=paths.device),
            torch.ones(beam_width, dtype=torch.bool, device=paths.device),
        ]
    )
    return paths, scores, masked_out


def ctc_decode(
    inputs,
    sequence_lengths,
    strategy="greedy",
    beam_width=100,
    top_paths=1,
    merge_repeated=True,
    mask_index=0,
):
    inputs = convert_to_tensor(inputs)
    dtype = backend.result_type(inputs.dtype, "float32")
    inputs = cast(inputs, dtype)

    if strategy == "greedy":
        return _ctc_greedy_decode(
            inputs,
            sequence_lengths,
            merge_repeated=merge_repeated,
            mask_index=mask_index,
        )
    elif strategy == "beam_search":
        return _ctc_beam_search_decode(
            inputs,
            sequence_lengths,
            beam_width=beam_width,
            top_paths=top_paths,
            mask_index=mask_index,
        )
    else:
        raise ValueError(
            f"Invalid strategy {strategy}. Supported values are "
            "'greedy' and 'beam_search'."
        )
