"""Learning-rate schedules with Keras's names (``keras.optimizers.schedules``,
reached here as ``fmnistcpp.optimizers.schedules``).

``ExponentialDecay`` is evaluated per optimizer step in C++
(cpp/optimizer.cpp, Optimizer::learning_rate) with Keras's float32
arithmetic; calling it from Python gives the same value."""

from __future__ import annotations

import math

import numpy as np


class LearningRateSchedule:
    """Base class, as Keras's: ``schedule(step) -> learning rate``."""

    def __call__(self, step):
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, step)`."
        )

    def get_config(self):
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `get_config()`."
        )

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``, the
    exponent floored with ``staircase=True``. ``step`` is the optimizer's
    iteration count before the update, as in Keras.

    Args:
        initial_learning_rate: a number.
        decay_steps: a number > 0.
        decay_rate: a number.
        staircase: default False.
        name: default "ExponentialDecay".
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        for what, value in (("initial_learning_rate", initial_learning_rate),
                            ("decay_steps", decay_steps), ("decay_rate", decay_rate)):
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
                    or not math.isfinite(float(value)):
                raise ValueError(f"ExponentialDecay {what} must be a finite number, "
                                 f"got {value!r}")
        if decay_steps <= 0:
            raise ValueError(f"Argument `decay_steps` must be > 0. Received: "
                             f"decay_steps={decay_steps}")
        if initial_learning_rate < 0:
            raise ValueError("ExponentialDecay initial_learning_rate must be >= 0, got "
                             f"{initial_learning_rate!r}")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = bool(staircase)
        self.name = name

    def __call__(self, step):
        # All float32, as Keras casts every operand to the initial rate's dtype.
        f = np.float32
        p = f(step) / f(self.decay_steps)
        if self.staircase:
            p = np.floor(p)
        return f(f(self.initial_learning_rate) * np.power(f(self.decay_rate), p, dtype=f))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


def serialize(schedule) -> dict:
    return {"module": "keras.optimizers.schedules", "class_name": type(schedule).__name__,
            "config": schedule.get_config(), "registered_name": None}


def deserialize(config):
    if isinstance(config, dict) and config.get("class_name") == "ExponentialDecay":
        return ExponentialDecay.from_config(config.get("config", {}))
    raise ValueError(f"Unknown learning-rate schedule {config!r}; known: ExponentialDecay")
