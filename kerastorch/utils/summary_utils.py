"""`model.summary()`: Keras 3's table (rows, shapes, parameter counts and totals)."""

import textwrap

# Content widths Keras 3 (rich) uses on an 80-column terminal.
_SEQUENTIAL_WIDTHS = (31, 22, 13)
_FUNCTIONAL_WIDTHS = (29, 20, 9, 20)


def readable_memory_size(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def _bytes(tensors) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def format_shape(shape) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, list) or (isinstance(shape, tuple) and shape
                                   and isinstance(shape[0], (tuple, list))):
        return "[" + ", ".join(format_shape(s) for s in shape) + "]"
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _table(header, rows, widths, align):
    def line(left, fill, mid, right):
        return left + mid.join(fill * (w + 2) for w in widths) + right

    def cells(values, edge):
        wrapped = [textwrap.wrap(str(v), w, break_on_hyphens=False) or [""]
                   for v, w in zip(values, widths)]
        out = []
        for i in range(max(len(c) for c in wrapped)):
            parts = []
            for c, w, a in zip(wrapped, widths, align):
                text = c[i] if i < len(c) else ""
                parts.append(" " + (text.rjust(w) if a == "right" else text.ljust(w)) + " ")
            out.append(edge + edge.join(parts) + edge)
        return out

    lines = [line("┏", "━", "┳", "┓"), *cells(header, "┃"),
             line("┡", "━", "╇", "┩")]
    for i, row in enumerate(rows):
        if i:
            lines.append(line("├", "─", "┼", "┤"))
        lines.extend(cells(row, "│"))
    lines.append(line("└", "─", "┴", "┘"))
    return lines


def summary_lines(model, rows, connected=False) -> list[str]:
    """`rows`: (name, class, output_shape, params or None when unbuilt[, connected_to])."""
    header = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if connected else [])
    widths = _FUNCTIONAL_WIDTHS if connected else _SEQUENTIAL_WIDTHS
    align = ["left", "left", "right", "left"]
    body = []
    for row in rows:
        name, cls, shape, params = row[:4]
        cells = [f"{name} ({cls})", format_shape(shape),
                 "0 (unbuilt)" if params is None else f"{params:,}"]
        if connected:
            cells.append(row[4])
        body.append(cells)
    # Keras' variables, as Keras sizes them (a GRU bias is one (2, 3u) variable in Keras and
    # two torch vectors here).
    trainable_ids = model._trainable_tensor_ids()
    views = [(v.keras_value(), id(v.tensor) in trainable_ids) for v in model._all_weight_views()]
    weights = [t for t, _ in views]
    trainable = [t for t, is_trainable in views if is_trainable]
    non_trainable = [t for t, is_trainable in views if not is_trainable]
    count = lambda ts: sum(t.numel() for t in ts)  # noqa: E731
    return [
        f'Model: "{model.name}"',
        *_table(header, body, widths, align),
        f" Total params: {count(weights):,} ({readable_memory_size(_bytes(weights))})",
        f" Trainable params: {count(trainable):,} ({readable_memory_size(_bytes(trainable))})",
        f" Non-trainable params: {count(non_trainable):,} "
        f"({readable_memory_size(_bytes(non_trainable))})",
    ]
