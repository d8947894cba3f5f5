"""Keras 3's progress bar drawn with tqdm.

`verbose=1`: `3/3 ━━━━━━━━━━━━━━━━━━━━ 0s 83ms/step - acc: 0.3750 - loss: 1.5367`, redrawn at
most every `interval` seconds (reading the numbers is the only host sync of a training step, so it
happens only when the bar is redrawn). `verbose=2`: one line when the loop ends.
"""

import sys
import time

from tqdm import tqdm


def format_logs(logs, verbose=1) -> str:
    return "".join(f" - {k}: {_fmt(v, verbose)}" for k, v in logs.items())


def _fmt(value, verbose=1) -> str:
    # A vector result (e.g. per-class F1) shows as its mean, as Keras' bar shows it.
    value = float(value.mean()) if getattr(value, "ndim", 0) else float(value)
    # Keras: `abs(v) > 1e-3` on the bar (verbose=1), `v > 1e-3` on the verbose=2 line; else
    # scientific (so 0 shows as 0.0000e+00).
    fixed = abs(value) > 1e-3 if verbose == 1 else value > 1e-3
    return f"{value:.4f}" if fixed else f"{value:.4e}"


def _per_step(seconds: float, unit: str) -> str:
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}:{secs:02d}"
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"


class Progbar:
    """Progress over `target` steps.

    Args:
        target: Number of steps (None when unknown).
        verbose: 0 silent, 1 redrawn bar, 2 one line at the end.
        interval: Minimum seconds between redraws.
    """

    def __init__(self, target, verbose=1, unit_name="step", interval=0.05, file=None):
        self.target, self.verbose, self.unit = target, verbose, unit_name
        self.interval = interval
        self.file = file or sys.stdout
        self.start = time.perf_counter()
        self._next_draw = self.start
        self._bar = None
        # Like Keras: redraw in place on a terminal; elsewhere (logs, pipes) only the last line.
        isatty = getattr(self.file, "isatty", None)
        self._dynamic = bool(isatty and isatty())
        if verbose == 1:
            self._bar = tqdm(total=target, file=self.file, ascii="─━", leave=False,
                             bar_format="{n_fmt}/{total_fmt} {bar:20} {desc}", delay=1e9,
                             mininterval=0, miniters=1, dynamic_ncols=False, ncols=200)

    def due(self) -> bool:
        """Whether the next `update` would redraw (callers fetch numbers only then)."""
        return self._dynamic and self._bar is not None and \
            time.perf_counter() >= self._next_draw

    def update(self, current, logs=None, finalize=False):
        """Show `current` steps done with `logs` (a dict of numbers or a callable making one)."""
        if self.verbose == 0 or not (finalize or self.due()):
            return
        now = time.perf_counter()
        elapsed = now - self.start
        per_step = elapsed / current if current else 0.0
        logs = logs() if callable(logs) else (logs or {})
        if self.verbose == 2:
            if finalize:
                print(f"{current}/{self.target or current} - {_duration(elapsed)} - "
                      f"{_per_step(per_step, self.unit)}{format_logs(logs, 2)}", file=self.file,
                      flush=True)
            return
        if finalize:
            timing = f"{_duration(elapsed)} {_per_step(per_step, self.unit)}"
        else:
            eta = per_step * ((self.target or current) - current)
            timing = f"{_duration(eta)} {_per_step(per_step, self.unit)}"
        self._bar.set_description_str(timing + format_logs(logs), refresh=False)
        self._bar.n = current
        if self.target is None:
            self._bar.total = current
        if finalize:  # the last line stays, on a terminal or not
            line = str(self._bar)
            self._bar.close()
            self._bar = None
            print(line, file=self.file, flush=True)
            return
        self._bar.refresh()
        self._next_draw = now + self.interval

    def close(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
