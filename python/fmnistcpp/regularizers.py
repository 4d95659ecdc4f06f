"""Weight regularizers with Keras's names. Only L2 on Dense/Conv2D kernels
(``kernel_regularizer=``): the C++ training loop adds ``l2 * sum(w**2)`` to
the loss (training and evaluate, as Keras's compute_loss adds
``model.losses``) and ``2 * l2 * w`` to the kernel's gradient."""

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
    def __call__(self, x):
        return 0.0

    def get_config(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement get_config()")

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class L2(Regularizer):
    """``loss += l2 * reduce_sum(square(x))``; default ``l2=0.01`` as Keras."""

    def __init__(self, l2=0.01):
        l2 = 0.01 if l2 is None else l2
        self.l2 = _validate_float_arg(l2, name="l2")

    def __call__(self, x):
        x = np.asarray(x, dtype=np.float32)
        return np.float32(self.l2) * np.sum(np.square(x), dtype=np.float32)

    def get_config(self):
        return {"l2": self.l2}


l2 = L2

_BY_NAME = {"l2": L2}


def get(identifier):
    """None, an L2 object, 'l2', or a Keras config dict -> a regularizer (or None)."""
    if identifier is None or isinstance(identifier, L2):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    if isinstance(identifier, dict) and str(identifier.get("class_name", "")).lower() == "l2":
        return L2.from_config(identifier.get("config", {}))
    if isinstance(identifier, Regularizer) or callable(identifier) or isinstance(
            identifier, (str, dict)):
        raise NotImplementedError(
            f"regularizer {identifier!r} is not supported yet; supported: "
            "fmnistcpp.regularizers.L2 / l2 / 'l2'"
        )
    raise ValueError(f"Could not interpret regularizer identifier: {identifier!r}")


def serialize(regularizer):
    if regularizer is None:
        return None
    return {"module": "keras.regularizers", "class_name": type(regularizer).__name__,
            "config": regularizer.get_config(), "registered_name": None}
