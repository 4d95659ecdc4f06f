"""Keras's progress bar: the same line format (`1500/1500 ━━━━━━━━━━━━━━━━━━━━
3s 2ms/step - accuracy: 0.8234 - loss: 0.5012`), redrawn in place in a
terminal and in Jupyter, and one line per epoch with verbose=2. The
values shown are the running means the C++ loop reports."""

from __future__ import annotations

import math
import os
import sys
import time


def _dynamic_display() -> bool:
    return (hasattr(sys.stdout, "isatty") and sys.stdout.isatty()) or "ipykernel" in sys.modules


def _format_value(v) -> str:
    if getattr(v, "ndim", 0):  # a metric with several numbers: Keras shows their mean
        v = float(sum(v.ravel()) / v.size)
    return f"{v:.4f}" if abs(v) > 1e-3 else f"{v:.4e}"


def _format_time(seconds_per_unit: float, unit: str) -> str:
    if seconds_per_unit >= 1 or seconds_per_unit == 0:
        return f" {seconds_per_unit:.0f}s/{unit}"
    if seconds_per_unit >= 1e-3:
        return f" {seconds_per_unit * 1e3:.0f}ms/{unit}"
    return f" {seconds_per_unit * 1e6:.0f}us/{unit}"


class Progbar:
    """Progress bar for `target` steps.

    Args:
        target: total number of steps.
        width: bar width in characters.
        verbose: 1 for the live bar, 2 for one line at the end, 0 silent.
        interval: minimum seconds between redraws.
        unit_name: 'step' as in Keras.
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, unit_name="step"):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self._dynamic = _dynamic_display()
        self._colors = self._dynamic and not os.environ.get("NO_COLOR")
        self._start = time.time()
        self._last_update = 0.0
        self._prev_width = 0
        self._values: dict = {}

    def update(self, current, values=None, finalize=None):
        """Shows progress `current` with `values` as (name, value) pairs."""
        if finalize is None:
            finalize = current >= self.target
        for k, v in values or ():
            self._values[k] = v
        now = time.time()
        per_unit = (now - self._start) / current if current else 0.0
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            self._last_update = now
            digits = int(math.log10(max(self.target, 1))) + 1
            count = f"{current:{digits}d}/{self.target}"
            filled = int(self.width * current / max(self.target, 1))
            if self._colors:
                bar = (f"\x1b[1m{count}\x1b[0m \x1b[32m{'━' * filled}\x1b[0m"
                       f"\x1b[37m{'━' * (self.width - filled)}\x1b[0m")
            else:
                bar = f"{count} {'━' * self.width}" if finalize else \
                      f"{count} {'━' * filled}{' ' * (self.width - filled)}"
            if finalize:
                info = f" {now - self._start:.0f}s"
            else:
                eta = per_unit * (self.target - current)
                info = f" {eta // 60:.0f}:{eta % 60:02.0f}" if eta > 60 else f" {eta:.0f}s"
            info += _format_time(per_unit, self.unit_name)
            for k, v in self._values.items():
                info += f" - {k}: {_format_value(v)}"
            visible = len(count) + 1 + self.width + len(info)
            pad = " " * max(self._prev_width - visible, 0)
            self._prev_width = visible
            if self._dynamic:
                sys.stdout.write("\r" + bar + info + pad + ("\n" if finalize else ""))
            elif finalize:
                sys.stdout.write(bar + info + "\n")
            sys.stdout.flush()
        elif self.verbose == 2 and finalize:
            digits = int(math.log10(max(self.target, 1))) + 1
            line = f"{current:{digits}d}/{self.target} - {now - self._start:.0f}s -"
            line += _format_time(per_unit, self.unit_name)
            for k, v in self._values.items():
                line += f" - {k}: {_format_value(v)}"
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
