"""The process-wide random state behind initial weights, shuffling and
dropout. `fmnistcpp.utils.set_random_seed` makes all three reproducible:
the C++ engine draws nothing by itself, it receives one seed per epoch
from here."""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng()


def seed(value: int) -> None:
    global _generator
    _generator = np.random.default_rng(value)


def generator() -> np.random.Generator:
    return _generator


def next_seed() -> int:
    return int(_generator.integers(0, 2**63 - 1))
