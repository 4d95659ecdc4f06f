"""MonitorCallback: the base of callbacks that watch one quantity of the
logs, as keras.callbacks.MonitorCallback."""

from __future__ import annotations

import warnings

import numpy as np

from .callback import Callback


class MonitorCallback(Callback):
    """Base class for callbacks that monitor a quantity and decide whether a
    new value is an improvement (ModelCheckpoint, ReduceLROnPlateau).

    Args:
        monitor: quantity to watch, default 'val_loss'.
        mode: 'auto', 'min' or 'max'. In 'auto' mode the direction comes from
            the name: losses are minimised, the model's compiled metrics
            (accuracy, top-k) are maximised; any other name raises.
        baseline: initial "best" value; None takes the first value seen.
        min_delta: smallest change that counts as an improvement.
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(
                f"{self.__class__.__name__} mode '{mode}' is unknown, fallback to auto mode.",
                stacklevel=2,
            )
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _set_monitor_op(self):
        if self.mode == "min":
            self.monitor_op = np.less
        elif self.mode == "max":
            self.monitor_op = np.greater
        else:
            metric_name = self.monitor.removeprefix("val_")
            if metric_name == "loss":
                self.monitor_op = np.less
            direction = (getattr(self.model, "_metric_directions", None) or {}).get(metric_name)
            if direction == "up":
                self.monitor_op = np.greater
            elif direction == "down":
                self.monitor_op = np.less
            if self.monitor_op is None:
                raise ValueError(
                    f"{self.__class__.__name__} callback received monitor={self.monitor}, "
                    "but Keras isn't able to automatically determine whether that metric "
                    "should be maximized or minimized. Pass `mode='max'` in order to "
                    "monitor based on the highest metric value, or pass `mode='min'` in "
                    "order to use the lowest value."
                )
        if self.monitor_op is np.less:
            self.min_delta *= -1

    def _is_improvement(self, monitor_value, reference_value):
        if reference_value is None:
            return True
        return bool(self.monitor_op(monitor_value - self.min_delta, reference_value))
