"""keras.ops.nn CTC (connectionist temporal classification) on torch tensors: `ctc_loss` over
torch's fused `F.ctc_loss`, and `ctc_decode` by greedy (best class per frame) or beam search,
the beam search following Keras-on-JAX step by step (its lexicographic path order and stable
sorts decide ties) with the whole batch advanced at once.
"""

import torch
import torch.nn.functional as F

from kerastorch.ops._dtypes import result_type, to_torch_dtype
from kerastorch.ops.core import convert_to_tensor

_PAD = -1  # an empty path slot, and the label reported for blanks


def _at_least_float32(x):
    return x.to(to_torch_dtype(result_type(x.dtype, "float32")))


def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """Per-sample CTC negative log-likelihood of the padded labels `target` under the logits
    `output` (batch, frames, classes), blank `mask_index`, in at least float32."""
    # An impossible alignment (labels too long for the frames) gives inf, as in Keras' torch
    # backend; Keras on JAX scores forbidden steps -1e5 and gives about 1e5.
    target = convert_to_tensor(target, "int32")
    output = _at_least_float32(convert_to_tensor(output))
    target_length = convert_to_tensor(target_length, "int32")
    output_length = convert_to_tensor(output_length, "int32")
    log_probs = torch.log_softmax(output, dim=-1).transpose(0, 1)  # torch: (frames, batch, ...)
    return F.ctc_loss(log_probs, target, output_length, target_length, blank=mask_index,
                      reduction="none")


def _greedy(inputs, lengths, merge_repeated, mask_index):
    batch, frames, _ = inputs.shape
    scores, labels = torch.max(inputs, dim=-1)  # the first best class on ties, as argmax
    past = torch.arange(frames, device=inputs.device)[None, :] >= lengths[:, None]
    labels = torch.where(past, mask_index, labels)
    scores = torch.where(past, 0, scores)
    if merge_repeated:
        repeat = torch.zeros_like(past)
        repeat[:, 1:] = labels[:, 1:] == labels[:, :-1]
        labels = torch.where(repeat, mask_index, labels)
    blank = labels == mask_index
    # the kept labels first, in their order; the blanks (as -1) after them
    order = torch.argsort(blank.to(torch.int32), dim=1, stable=True)
    labels = torch.gather(torch.where(blank, _PAD, labels), 1, order)
    return labels.to(torch.int32).unsqueeze(0), -torch.sum(scores, dim=1, keepdim=True)


def _distinct_rows(paths):
    """The distinct rows of each batch entry of `paths` (batch, n, length), sorted
    lexicographically as `jnp.unique(axis=0)` sorts them (the pad -1 first).

    Returns the distinct rows of all entries one after the other (entry 0's first), where each
    entry's rows start (`starts`), how many it has (`counts`), and each input row's index among
    its entry's distinct rows (`inverse`, batch by n)."""
    batch, n, length = paths.shape
    entry = torch.arange(batch, device=paths.device).view(batch, 1, 1).expand(batch, n, 1)
    keyed = torch.cat([entry, paths], dim=2).reshape(batch * n, length + 1)
    rows, inverse = torch.unique(keyed, dim=0, sorted=True, return_inverse=True)
    counts = torch.bincount(rows[:, 0], minlength=batch)
    starts = torch.cumsum(counts, 0) - counts
    return rows[:, 1:], starts, counts, inverse.view(batch, n) - starts[:, None]


def _merge(scores, inverse, size):
    """Log-sum-exp of `scores` (batch, n) into `size` slots per entry by `inverse`; slots no
    row reaches hold -inf."""
    top = torch.amax(scores, dim=1, keepdim=True)
    total = torch.zeros(scores.shape[0], size, dtype=scores.dtype, device=scores.device)
    total.scatter_add_(1, inverse, torch.exp(scores - top))
    return torch.log(total) + top


def _pick(rows, starts, counts, index):
    """The distinct rows at `index` (batch, k) of each entry; past an entry's count, pad rows
    (jnp.unique's fill value)."""
    valid = index < counts[:, None]
    flat = torch.clamp(starts[:, None] + index, max=rows.shape[0] - 1)
    return torch.where(valid[..., None], rows[flat], _PAD)


def _extend(paths, scores, masked, logp, classes):
    """Every path (batch, r, length) continued by every class: a blank, or a repeat of the
    last label right after it (no blank between), leaves the path as it is."""
    num_classes = classes.shape[0]
    r = paths.shape[1]
    paths = paths.repeat_interleave(num_classes, dim=1)
    scores = scores.repeat_interleave(num_classes, dim=1) + logp.repeat(1, r)
    after_label = ~masked.repeat_interleave(num_classes, dim=1)
    tail = torch.argmax((paths == _PAD).to(torch.int32), dim=2, keepdim=True)
    last = torch.gather(paths, 2, torch.clamp(tail - 1, min=0))
    last = torch.where(tail == 0, _PAD, last).squeeze(2)
    new = classes.repeat(r).expand_as(last)
    masked = new == _PAD
    new = torch.where(after_label & (last == new), _PAD, new)
    return paths.scatter(2, tail, new.unsqueeze(2)), scores, masked


def _prune(paths, scores, masked, width):
    """Merge equal paths (their blank-ended and label-ended scores apart) and keep the `width`
    best; each kept path comes twice: label-ended score first, blank-ended second."""
    rows, starts, counts, inverse = _distinct_rows(paths)
    size = paths.shape[1]
    ninf = torch.tensor(float("-inf"), dtype=scores.dtype, device=scores.device)
    emit = _merge(torch.where(masked, ninf, scores), inverse, size)
    blank = _merge(torch.where(masked, scores, ninf), inverse, size)
    best = torch.argsort(torch.logaddexp(emit, blank), dim=1, stable=True)[:, -width:]
    kept = _pick(rows, starts, counts, best)
    scores = torch.cat([torch.gather(emit, 1, best), torch.gather(blank, 1, best)], dim=1)
    masked = torch.zeros_like(scores, dtype=torch.bool)
    masked[:, width:] = True
    return torch.cat([kept, kept], dim=1), scores, masked


def _beam_search(inputs, lengths, beam_width, top_paths, mask_index):
    batch, frames, num_classes = inputs.shape
    device = inputs.device
    # Keras reverses the classes so that its ascending stable sorts prefer, on ties, the
    # higher original class; the labels are turned back at the end.
    logp = torch.flip(torch.log_softmax(inputs, dim=-1), dims=[2])
    blank = num_classes - 1 - mask_index
    width = beam_width
    first = logp[:, 0]
    n_init = min(num_classes, width)
    init = torch.argsort(first, dim=1, stable=True)[:, -n_init:]
    paths = torch.full((batch, 2 * width, frames), _PAD, dtype=torch.long, device=device)
    paths[:, :n_init, 0] = torch.where(init == blank, _PAD, init)
    scores = torch.full((batch, 2 * width), float("-inf"), dtype=logp.dtype, device=device)
    scores[:, :n_init] = torch.gather(first, 1, init)
    masked = paths[:, :, 0] == _PAD
    classes = torch.arange(num_classes, device=device)
    classes[blank] = _PAD
    for t in range(1, frames):
        # a path holds at most t labels before frame t: columns t + 1 on are pads everywhere
        step = _extend(paths[:, :, :t + 1], scores, masked, logp[:, t], classes)
        new_paths, new_scores, new_masked = _prune(*step, width)
        active = (t < lengths)[:, None]
        paths[:, :, :t + 1] = torch.where(active[..., None], new_paths, paths[:, :, :t + 1])
        scores = torch.where(active, new_scores, scores)
        masked = torch.where(active, new_masked, masked)
    rows, starts, counts, inverse = _distinct_rows(paths)
    merged = _merge(scores, inverse, scores.shape[1])
    best = torch.argsort(merged, dim=1, stable=True)[:, -top_paths:].flip(1)
    decoded = _pick(rows, starts, counts, best)
    decoded = torch.where(decoded == _PAD, _PAD, num_classes - 1 - decoded)
    return decoded.permute(1, 0, 2).to(torch.int32), torch.gather(merged, 1, best)


def ctc_decode(inputs, sequence_lengths, strategy="greedy", beam_width=100, top_paths=1,
               merge_repeated=True, mask_index=0):
    """Decodes CTC logits (batch, frames, classes), `"greedy"` or `"beam_search"`, into
    `(paths, scores)`: int32 labels padded with -1, and each path's score as in Keras."""
    inputs = _at_least_float32(convert_to_tensor(inputs))
    lengths = convert_to_tensor(sequence_lengths, "int32")
    if mask_index is None:
        mask_index = inputs.shape[-1] - 1
    if strategy == "greedy":
        return _greedy(inputs, lengths, merge_repeated, mask_index)
    if strategy == "beam_search":
        return _beam_search(inputs, lengths, beam_width, top_paths, mask_index)
    raise ValueError(f"Invalid strategy {strategy}. Supported values are 'greedy' and "
                     "'beam_search'.")
