"""`keras.utils.Progbar`: Keras 3's public progress bar, same API and same output.

(The trainers draw their bars with `kerastorch.utils.progbar`, which fetches numbers from the
device only when it redraws; this class is the one user code constructs.)
"""

import math
import os
import sys
import time

import numpy as np

from kerastorch.utils.io_utils import print_msg


class Progbar:
    """Displays a progress bar.

    Args:
        target: Total number of steps expected, None if unknown.
        width: Progress bar width on screen.
        verbose: Verbosity mode, 0 (silent), 1 (verbose), 2 (semi-verbose).
        interval: Minimum visual progress update interval (in seconds).
        stateful_metrics: Names of metrics shown as-is (the others are averaged over steps).
        stateless_metrics: Names of metrics averaged over steps (the others shown as-is).
            Give at most one of `stateful_metrics` and `stateless_metrics`.
        unit_name: Display name for step counts (usually "step" or "sample").
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None,
                 stateless_metrics=None, unit_name="step"):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError("Only one of `stateful_metrics` or `stateless_metrics` can be "
                             "provided.")
        self.target, self.width, self.verbose = target, width, verbose
        self.interval, self.unit_name = interval, unit_name
        if stateless_metrics is not None:
            self.stateful_metrics, self.stateless_metrics = None, set(stateless_metrics)
        else:
            self.stateful_metrics = set(stateful_metrics or ())
            self.stateless_metrics = None
        self._dynamic_display = ((hasattr(sys.stdout, "isatty") and sys.stdout.isatty())
                                 or "ipykernel" in sys.modules or "posix" in sys.modules
                                 or "PYCHARM_HOSTED" in os.environ)
        self._seen_so_far = 0
        self._values, self._values_order = {}, []
        self._start = time.time()
        self._last_update = 0
        self._time_at_epoch_start = self._start
        self._time_after_first_step = None
        self._prev_total_width = 0

    def _stateless(self, name):
        if self.stateful_metrics is not None:
            return name not in self.stateful_metrics
        return name in self.stateless_metrics

    def update(self, current, values=None, finalize=None):
        """Updates the progress bar.

        Args:
            current: Index of current step.
            values: List of tuples `(name, value_for_last_step)`. Metrics in
                `stateful_metrics` are shown as-is, others as their average over steps.
            finalize: Whether this is the last update (default: `current >= target`).
        """
        if finalize is None:
            finalize = False if self.target is None else current >= self.target
        for k, v in values or []:
            if hasattr(v, "detach"):  # a torch tensor (any device): its value, as numpy
                v = v.detach().cpu().numpy()
            if k not in self._values_order:
                self._values_order.append(k)
            if self._stateless(k) and not finalize:
                base = max(current - self._seen_so_far, 1)
                if k not in self._values:
                    self._values[k] = [v * base, base]
                else:
                    self._values[k][0] += v * base
                    self._values[k][1] += base
            else:
                self._values[k] = [v, 1]
        self._seen_so_far = current
        now = time.time()
        time_per_unit = self._estimate_step_duration(current, now)
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            self._draw(current, now, time_per_unit, finalize)
        elif self.verbose == 2 and finalize and self.target is not None and self.target > 0:
            digits = int(math.log10(self.target)) + 1
            info = f"%{digits}d/%d" % (current, self.target) + f" - {now - self._start:.0f}s"
            info += f" -{self._format_time(time_per_unit, self.unit_name)}"
            for k in self._values_order:
                avg = self._average(k)
                info += f" - {k}: {avg:.4f}" if avg > 1e-3 else f" - {k}: {avg:.4e}"
            print_msg(info + "\n", line_break=False)
        self._last_update = now

    def _average(self, k):
        values, count = self._values[k]
        if not isinstance(values, float):
            values = np.mean(values)
        return values / max(1, count)

    def _draw(self, current, now, time_per_unit, finalize):
        message = ("\b" * self._prev_total_width + "\r") if self._dynamic_display else "\n"
        special = 0
        if self.target is not None and self.target > 0:
            digits = int(math.log10(self.target)) + 1
            bar = f"\x1b[1m{f'%{digits}d/%d' % (current, self.target)}\x1b[0m "
            special += 8
            prog_width = int(self.width * float(current) / self.target)
            if prog_width > 0:
                bar += f"\33[32m{'━' * prog_width}\x1b[0m"
                special += 9
            bar += f"\33[37m{'━' * (self.width - prog_width)}\x1b[0m"
            special += 9
        else:
            bar = f"{int(current):7d}/Unknown"
        message += bar
        # the time left while running, the time taken once done (or with no known target)
        known = self.target is not None and self.target > 0 and not finalize
        when = _clock(time_per_unit * (self.target - current)) if known else \
            f"{now - self._start:.0f}s"
        info = f" \x1b[1m{when}\x1b[0m"
        special += 8
        info += self._format_time(time_per_unit, self.unit_name)
        for k in self._values_order:
            avg = self._average(k)
            info += f" - {k}: {avg:.4f}" if abs(avg) > 1e-3 else f" - {k}: {avg:.4e}"
        message += info
        total_width = len(bar) + len(info) - special
        if self._prev_total_width > total_width:
            message += " " * (self._prev_total_width - total_width)
        if finalize:
            message += "\n"
        print_msg(message, line_break=False)
        self._prev_total_width = total_width

    def add(self, n, values=None):
        """Advance by `n` steps (`update(seen_so_far + n, values)`)."""
        self.update(self._seen_so_far + n, values)

    def _format_time(self, time_per_unit, unit_name):
        if time_per_unit >= 1 or time_per_unit == 0:
            return f" {time_per_unit:.0f}s/{unit_name}"
        if time_per_unit >= 1e-3:
            return f" {time_per_unit * 1000.0:.0f}ms/{unit_name}"
        return f" {time_per_unit * 1000000.0:.0f}us/{unit_name}"

    def _estimate_step_duration(self, current, now):
        if not current:
            return 0
        if self._time_after_first_step is not None and current > 1:
            per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return per_unit


def _clock(seconds) -> str:
    """`1:02:03`, `2:03` or `45s`, whole seconds (truncated)."""
    s = int(seconds)
    if seconds > 3600:
        return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
    if seconds > 60:
        return f"{s // 60}:{s % 60:02d}"
    return f"{s}s"
