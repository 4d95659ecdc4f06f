"""Learning-rate schedules with Keras's names (``keras.optimizers.schedules``,
reached here as ``fmnistcpp.optimizers.schedules``).

``ExponentialDecay`` is evaluated per optimizer step in C++
(cpp/optimizer.cpp, Optimizer::learning_rate) with Keras's float32
arithmetic; calling it from Python gives the same value. The others are
evaluated in Python before each batch (optimizers_base.Optimizer), in
float32 as Keras casts every operand to the initial rate's dtype."""

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


def _check_number(schedule, what, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
            or not math.isfinite(float(value)):
        raise ValueError(f"{schedule} {what} must be a finite number, got {value!r}")


def _check_steps(what, value):
    if value <= 0:
        raise ValueError(f"Argument `{what}` must be > 0. Received: {what}={value}")


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
            _check_number("ExponentialDecay", what, value)
        _check_steps("decay_steps", decay_steps)
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


_F = np.float32


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[i]`` while ``boundaries[i-1] < step <= boundaries[i]``:
    ``values[0]`` up to and including the first boundary, ``values[-1]``
    after the last."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and "
                f"values={values} of length {len(values)}.")
        for b in boundaries:
            _check_number("PiecewiseConstantDecay", "boundaries", b)
        for v in values:
            _check_number("PiecewiseConstantDecay", "values", v)
        self.boundaries, self.values, self.name = boundaries, values, name

    def __call__(self, step):
        index = int(np.searchsorted(np.asarray(self.boundaries), step, side="left"))
        return _F(self.values[index])

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """From ``initial_learning_rate`` to ``end_learning_rate`` as
    ``(1 - step / decay_steps) ** power``; held at the end (or, with
    ``cycle=True``, decay_steps stretched to the next multiple above step)."""

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name="PolynomialDecay"):
        for what, value in (("initial_learning_rate", initial_learning_rate),
                            ("decay_steps", decay_steps),
                            ("end_learning_rate", end_learning_rate), ("power", power)):
            _check_number("PolynomialDecay", what, value)
        _check_steps("decay_steps", decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.end_learning_rate, self.power = end_learning_rate, power
        self.cycle, self.name = bool(cycle), name

    def __call__(self, step):
        step, steps = _F(step), _F(self.decay_steps)
        if self.cycle:
            steps = steps * (_F(1) if step == 0 else np.ceil(step / steps))
        else:
            step = min(step, steps)
        p = step / steps
        initial, end = _F(self.initial_learning_rate), _F(self.end_learning_rate)
        return _F((initial - end) * np.power(_F(1) - p, _F(self.power)) + end)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``, the
    fraction floored with ``staircase=True``."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        for what, value in (("initial_learning_rate", initial_learning_rate),
                            ("decay_steps", decay_steps), ("decay_rate", decay_rate)):
            _check_number("InverseTimeDecay", what, value)
        _check_steps("decay_steps", decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase, self.name = decay_rate, bool(staircase), name

    def __call__(self, step):
        p = _F(step) / _F(self.decay_steps)
        if self.staircase:
            p = np.floor(p)
        return _F(_F(self.initial_learning_rate) / (_F(1) + _F(self.decay_rate) * p))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


def _cosine(fraction, alpha):
    return (_F(1) - _F(alpha)) * (_F(0.5) * (_F(1) + np.cos(_F(math.pi) * fraction))) + _F(alpha)


class CosineDecay(LearningRateSchedule):
    """Half a cosine from the rate down to ``alpha`` times it over
    ``decay_steps``, then held; with ``warmup_target``, first a linear rise
    from ``initial_learning_rate`` to it over ``warmup_steps``."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        for what, value in (("initial_learning_rate", initial_learning_rate),
                            ("decay_steps", decay_steps), ("alpha", alpha),
                            ("warmup_steps", warmup_steps)):
            _check_number("CosineDecay", what, value)
        if warmup_target is not None:
            _check_number("CosineDecay", "warmup_target", warmup_target)
        _check_steps("decay_steps", decay_steps)
        self.initial_learning_rate, self.decay_steps, self.alpha = (
            initial_learning_rate, decay_steps, alpha)
        self.name, self.warmup_target, self.warmup_steps = name, warmup_target, warmup_steps

    def __call__(self, step):
        step, steps = _F(step), _F(self.decay_steps)
        initial = _F(self.initial_learning_rate)
        if self.warmup_target is None:
            return _F(initial * _cosine(min(step, steps) / steps, self.alpha))
        target, warmup = _F(self.warmup_target), _F(self.warmup_steps)
        step = min(step, steps + warmup)
        if step < warmup:
            return _F((target - initial) * (step / warmup) + initial)
        return _F(target * _cosine((step - warmup) / steps, self.alpha))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay restarted (SGDR): periods of ``first_decay_steps``
    growing by ``t_mul``, each restart's peak scaled by ``m_mul``."""

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0,
                 alpha=0.0, name="SGDRDecay"):
        for what, value in (("initial_learning_rate", initial_learning_rate),
                            ("first_decay_steps", first_decay_steps), ("t_mul", t_mul),
                            ("m_mul", m_mul), ("alpha", alpha)):
            _check_number("CosineDecayRestarts", what, value)
        _check_steps("first_decay_steps", first_decay_steps)
        self.initial_learning_rate, self.first_decay_steps = (
            initial_learning_rate, first_decay_steps)
        self._t_mul, self._m_mul, self.alpha, self.name = t_mul, m_mul, alpha, name

    def __call__(self, step):
        fraction = _F(step) / _F(self.first_decay_steps)
        t_mul = _F(self._t_mul)
        if t_mul == 1:
            restart = np.floor(fraction)
            fraction = fraction - restart
        else:  # the periods form a geometric series: which one holds step
            restart = np.floor(np.log(_F(1) - fraction * (_F(1) - t_mul)) / np.log(t_mul))
            done = (_F(1) - np.power(t_mul, restart)) / (_F(1) - t_mul)
            fraction = (fraction - done) / np.power(t_mul, restart)
        peak = np.power(_F(self._m_mul), restart)
        alpha = _F(self.alpha)
        decayed = (_F(1) - alpha) * (_F(0.5) * peak * (_F(1) + np.cos(_F(math.pi) * fraction)))
        return _F(_F(self.initial_learning_rate) * (decayed + alpha))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self._t_mul,
                "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}


_SCHEDULES = {cls.__name__: cls for cls in (
    ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay, InverseTimeDecay, CosineDecay,
    CosineDecayRestarts)}


def serialize(schedule) -> dict:
    return {"module": "keras.optimizers.schedules", "class_name": type(schedule).__name__,
            "config": schedule.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    name = config.get("class_name") if isinstance(config, dict) else None
    if name in _SCHEDULES:
        return _SCHEDULES[name].from_config(config.get("config", {}))
    raise ValueError(f"Unknown learning-rate schedule {config!r}; known: "
                     f"{', '.join(_SCHEDULES)}")

# A name Keras 3 has and fmnistcpp lacks gets an error saying so.
from . import _missing  # noqa: E402

__getattr__ = _missing.module_getattr(__name__, "optimizers.schedules")
