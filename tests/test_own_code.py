"""kerastorch holds only code its team wrote: no run of 6 or more normalized code lines equal to
the installed Keras source (comments, blank lines and imports ignored).

Keras' behaviour, names and numbers are followed; its text is not carried over. The few Keras
strings kept word for word are user-facing error messages users match on; each is listed in
`KEPT_KERAS_STRINGS` with the reason.

Run as a script to see every matching run: `python tests/test_own_code.py`.
"""

import hashlib
import io
import os
import pathlib
import re
import sys
import tokenize

import pytest

WINDOW = 6
ROOT = pathlib.Path(__file__).resolve().parents[1] / "kerastorch"

# Normalized lines that may equal Keras' (user-facing error texts kept as an interface).
KEPT_KERAS_STRINGS = {
}


def normalized_lines(source: str) -> list:
    """The code lines of `source`, each stripped and with runs of spaces made one; comments,
    blank lines and import statements dropped. Lines of a multi-line string count one by one."""
    lines = {}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []
    logical, skip_logical = [], False
    for tok in tokens:
        if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                        tokenize.DEDENT, tokenize.ENCODING, tokenize.ENDMARKER):
            if tok.type == tokenize.NEWLINE:
                logical, skip_logical = [], False
            continue
        if not logical:
            skip_logical = tok.type == tokenize.NAME and tok.string in ("import", "from")
        logical.append(tok)
        if skip_logical:
            continue
        parts = tok.string.split("\n")
        for offset, part in enumerate(parts):
            lines.setdefault(tok.start[0] + offset, []).append(part)
    out = []
    for number in sorted(lines):
        text = re.sub(r"\s+", " ", " ".join(lines[number])).strip()
        if text and text not in KEPT_KERAS_STRINGS:
            out.append((number, text))
    return out


def _digest(texts) -> bytes:
    return hashlib.blake2b("\n".join(texts).encode(), digest_size=12).digest()


def keras_windows(keras_src: pathlib.Path) -> set:
    windows = set()
    for path in keras_src.rglob("*.py"):
        texts = [t for _, t in normalized_lines(path.read_text(errors="replace"))]
        for i in range(len(texts) - WINDOW + 1):
            windows.add(_digest(texts[i:i + WINDOW]))
    return windows


def matching_runs(root: pathlib.Path, windows: set) -> dict:
    """{file: [(first line, last line), ...]} of runs equal to Keras' source."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        numbered = normalized_lines(path.read_text())
        hit = [False] * len(numbered)
        for i in range(len(numbered) - WINDOW + 1):
            if _digest([t for _, t in numbered[i:i + WINDOW]]) in windows:
                hit[i:i + WINDOW] = [True] * WINDOW
        runs, start = [], None
        for i, flag in enumerate(hit + [False]):
            if flag and start is None:
                start = i
            elif not flag and start is not None:
                runs.append((numbered[start][0], numbered[i - 1][0], i - start))
                start = None
        if runs:
            found[str(path.relative_to(root.parent))] = runs
    return found


def _keras_src():
    try:
        import importlib.util
        spec = importlib.util.find_spec("keras")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return None
    src = pathlib.Path(list(spec.submodule_search_locations)[0]) / "src"
    return src if src.is_dir() else None


def test_no_run_of_six_lines_equals_keras_source():
    src = _keras_src()
    if src is None:
        pytest.skip("Keras is not installed")
    found = matching_runs(ROOT, keras_windows(src))
    total = sum(n for runs in found.values() for *_, n in runs)
    report = "\n".join(f"{f}: lines {a}-{b} ({n} lines)" for f, runs in found.items()
                       for a, b, n in runs)
    assert not found, f"{total} code lines equal Keras' source:\n{report}"


if __name__ == "__main__":
    src = _keras_src()
    found = matching_runs(ROOT, keras_windows(src))
    for f, runs in found.items():
        n = sum(r[2] for r in runs)
        print(f"{n:6d}  {f}  " + ", ".join(f"{a}-{b}" for a, b, _ in runs[:8])
              + (" ..." if len(runs) > 8 else ""))
    print("total matching lines:", sum(r[2] for runs in found.values() for r in runs))
    sys.exit(1 if found else 0)
