"""Weight constraints with Keras's names (keras.constraints): MaxNorm,
NonNeg, UnitNorm, MinMaxNorm (and max_norm, non_neg, unit_norm,
min_max_norm). The C++ training loop applies a layer's kernel_constraint /
bias_constraint (gamma_constraint, ...) to the weight after every optimizer
step, as Keras's optimizer does; calling a constraint on an array computes
the same thing with NumPy."""

from __future__ import annotations

import numpy as np

_EPSILON = np.float32(1e-7)  # Keras's backend.epsilon()


def _norms(w, axis):
    return np.sqrt(np.sum(np.square(w), axis=axis, keepdims=True))


def _axes(axis):
    return [int(a) for a in (axis if isinstance(axis, (list, tuple)) else [axis])]


class Constraint:
    """Base class. A subclass written in Python cannot run inside the C++
    training loop; see `get`."""

    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def _engine(self):
        """(Keras class name, min_value, max_value, rate, axes) for the engine."""
        raise NotImplementedError


class MaxNorm(Constraint):
    """Scales each weight vector (the axes in `axis`, 0: each unit's
    incoming weights for Dense, [0, 1, 2] for Conv2D) down to norm
    `max_value` when it is longer."""

    def __init__(self, max_value=2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        w = np.asarray(w, dtype=np.float32)
        norms = _norms(w, tuple(_axes(self.axis)))
        desired = np.clip(norms, 0, self.max_value)
        return w * (desired / (_EPSILON + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}

    def _engine(self):
        return "MaxNorm", 0.0, float(self.max_value), 1.0, _axes(self.axis)


class NonNeg(Constraint):
    """Sets negative weights to 0."""

    def __call__(self, w):
        return np.maximum(np.asarray(w, dtype=np.float32), 0)

    def _engine(self):
        return "NonNeg", 0.0, 0.0, 1.0, []


class UnitNorm(Constraint):
    """Scales each weight vector (over `axis`) to norm 1."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = np.asarray(w, dtype=np.float32)
        return w / (_EPSILON + _norms(w, tuple(_axes(self.axis))))

    def get_config(self):
        return {"axis": self.axis}

    def _engine(self):
        return "UnitNorm", 0.0, 0.0, 1.0, _axes(self.axis)


class MinMaxNorm(Constraint):
    """Moves each weight vector's norm (over `axis`) into
    [min_value, max_value]: `rate` 1 clips it there, smaller rates move it
    that fraction of the way."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w):
        w = np.asarray(w, dtype=np.float32)
        norms = _norms(w, tuple(_axes(self.axis)))
        desired = (np.float32(self.rate) * np.clip(norms, self.min_value, self.max_value)
                   + np.float32(1 - self.rate) * norms)
        return w * (desired / (_EPSILON + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}

    def _engine(self):
        return ("MinMaxNorm", float(self.min_value), float(self.max_value), float(self.rate),
                _axes(self.axis))


max_norm = MaxNorm
non_neg = NonNeg
unit_norm = UnitNorm
min_max_norm = MinMaxNorm

_CLASSES = (MaxNorm, NonNeg, UnitNorm, MinMaxNorm)
_BY_NAME = {cls.__name__: cls for cls in _CLASSES}
_BY_NAME.update(max_norm=MaxNorm, non_neg=NonNeg, unit_norm=UnitNorm, min_max_norm=MinMaxNorm)


def get(identifier):
    """None, a constraint object, a name ('max_norm', 'NonNeg', ...) or a
    Keras config dict."""
    if identifier is None or type(identifier) in _CLASSES:
        return identifier
    if isinstance(identifier, type) and identifier in _CLASSES:
        return identifier()
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]()
    if isinstance(identifier, dict) and identifier.get("class_name") in _BY_NAME:
        return _BY_NAME[identifier["class_name"]].from_config(dict(identifier.get("config") or {}))
    if callable(identifier) or isinstance(identifier, (str, dict)):
        raise NotImplementedError(
            f"constraint {identifier!r} is not supported: the C++ training loop applies "
            "MaxNorm, NonNeg, UnitNorm and MinMaxNorm only. For another constraint, apply it "
            "from a callback after each batch, e.g. on_train_batch_end: "
            "`v.assign(my_constraint(v.numpy()))` for the layer's weight v"
        )
    raise ValueError(f"Could not interpret constraint identifier: {identifier!r}")


def serialize(constraint):
    if constraint is None:
        return None
    return {"module": "keras.constraints", "class_name": type(constraint).__name__,
            "config": constraint.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    return get(config)

# A name Keras 3 has and fmnistcpp lacks gets an error saying so.
from . import _missing  # noqa: E402

__getattr__ = _missing.module_getattr(__name__, "constraints")
