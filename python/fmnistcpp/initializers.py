"""Initial weights as Keras makes them: glorot_uniform kernels, zero biases.

Drawn with NumPy from the process-wide generator (see `_random`), so
`fmnistcpp.utils.set_random_seed` fixes them.
"""

from __future__ import annotations

import numpy as np

from . import _random


def _fans(shape):
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


class GlorotUniform:
    """Uniform in [-limit, limit], limit = sqrt(6 / (fan_in + fan_out))."""

    def __init__(self, seed=None):
        self.seed = seed

    def __call__(self, shape, dtype="float32"):
        fan_in, fan_out = _fans(shape)
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        rng = np.random.default_rng(self.seed) if self.seed is not None else _random.generator()
        return rng.uniform(-limit, limit, size=shape).astype(np.float32)

    def get_config(self):
        return {"seed": self.seed}


class Zeros:
    def __call__(self, shape, dtype="float32"):
        return np.zeros(shape, dtype=np.float32)

    def get_config(self):
        return {}


_BY_NAME = {"glorot_uniform": GlorotUniform, "zeros": Zeros}


def get(identifier):
    if isinstance(identifier, (GlorotUniform, Zeros)):
        return identifier
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]()
    raise NotImplementedError(
        f"Initializer {identifier!r} is not supported; supported: {', '.join(_BY_NAME)}."
    )


def name_of(initializer) -> str:
    return {GlorotUniform: "glorot_uniform", Zeros: "zeros"}[type(initializer)]
