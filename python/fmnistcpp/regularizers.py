"""Weight regularizers with Keras's names: L1, L2, L1L2 (also as l1, l2,
l1_l2; the strings 'l1', 'l2', 'l1l2', as Keras 3). The C++ training loop
adds `l1 * sum|w| + l2 * sum(w**2)` of each trainable weight to the loss
(training and evaluate, as Keras's compute_loss adds `model.losses`) and
`l1 * sign(w) + 2 * l2 * w` to its gradient; these objects carry the
factors. As a layer's activity_regularizer they penalise its output."""

from __future__ import annotations

import math

import numpy as np


def _validate_float_arg(value, name):
    if (isinstance(value, bool) or not isinstance(value, (float, int))
            or math.isinf(value) or math.isnan(value) or value < 0):
        raise ValueError(f"Invalid value for argument {name}: expected a non-negative float."
                         f"Received: {name}={value}")
    return float(value)


class Regularizer:
    l1 = 0.0
    l2 = 0.0

    def __call__(self, x):
        x = np.asarray(x, dtype=np.float32)
        total = np.float32(0.0)
        if self.l1:
            total += np.float32(self.l1) * np.sum(np.abs(x), dtype=np.float32)
        if self.l2:
            total += np.float32(self.l2) * np.sum(np.square(x), dtype=np.float32)
        return total

    def get_config(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement get_config()")

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class L1(Regularizer):
    """`loss += l1 * reduce_sum(abs(x))`; default `l1=0.01` as Keras."""

    def __init__(self, l1=0.01):
        self.l1 = _validate_float_arg(0.01 if l1 is None else l1, name="l1")

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """`loss += l2 * reduce_sum(square(x))`; default `l2=0.01` as Keras."""

    def __init__(self, l2=0.01):
        self.l2 = _validate_float_arg(0.01 if l2 is None else l2, name="l2")

    def get_config(self):
        return {"l2": self.l2}


class L1L2(Regularizer):
    """Both penalties; Keras's defaults are 0.0 for each."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _validate_float_arg(0.0 if l1 is None else l1, name="l1")
        self.l2 = _validate_float_arg(0.0 if l2 is None else l2, name="l2")

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


# Keras 3 exports the classes under these names too; keras.regularizers.l1_l2
# is L1L2 with its 0.0 defaults (tf.keras 2's function defaulted to 0.01).
l1 = L1
l2 = L2
l1_l2 = L1L2

# The names Keras 3's get() takes (class names and their snake case: 'l1l2',
# not 'l1_l2'), compared lower-case; config dicts name the class.
_BY_NAME = {"l1": L1, "l2": L2, "l1l2": L1L2}


def get(identifier):
    """None, a regularizer object, 'l1' / 'l2' / 'l1l2', or a Keras config dict."""
    if identifier is None or type(identifier) in (L1, L2, L1L2):
        return identifier
    if isinstance(identifier, str) and identifier.lower() == "l1_l2":
        # Keras 3 cannot interpret it either; tf.keras 2 read it as 0.01 each.
        raise ValueError("Could not interpret regularizer identifier: 'l1_l2' (Keras 3 names it "
                         "'l1l2', which is L1L2(l1=0.0, l2=0.0); tf.keras 2's 'l1_l2' was "
                         "L1L2(l1=0.01, l2=0.01): pass that object)")
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    if isinstance(identifier, dict):
        cls = _BY_NAME.get(str(identifier.get("class_name", "")).lower())
        if cls is not None:
            return cls.from_config(identifier.get("config", {}) or {})
    # A real Keras L1 / L2 / L1L2 (code that imported it from Keras): from its config.
    if type(identifier).__name__.lower() in _BY_NAME and hasattr(identifier, "get_config") and \
            type(identifier).__module__.startswith(("keras", "tf_keras", "tensorflow")):
        return _BY_NAME[type(identifier).__name__.lower()].from_config(identifier.get_config())
    if callable(identifier) or isinstance(identifier, (str, dict, Regularizer)):
        raise NotImplementedError(
            f"regularizer {identifier!r} is not supported (the engine computes L1 and L2 "
            "penalties, not Python regularizers); supported: fmnistcpp.regularizers.L1 / L2 / "
            "L1L2 and 'l1', 'l2', 'l1l2'"
        )
    raise ValueError(f"Could not interpret regularizer identifier: {identifier!r}")


def serialize(regularizer):
    if regularizer is None:
        return None
    return {"module": "keras.regularizers", "class_name": type(regularizer).__name__,
            "config": regularizer.get_config(), "registered_name": None}

# A name Keras 3 has and fmnistcpp lacks gets an error saying so.
from . import _missing  # noqa: E402

__getattr__ = _missing.module_getattr(__name__, "regularizers")
