"""Dropout."""

from __future__ import annotations

from .layer import Layer


class Dropout(Layer):
    """Sets a fraction `rate` of the inputs to 0 during training and scales
    the rest by 1 / (1 - rate); does nothing at inference (evaluate,
    predict). The mask is drawn in C++ from seeds that
    `fmnistcpp.utils.set_random_seed` fixes (and `seed=`, if given).

    Example:

    >>> layer = fmnistcpp.layers.Dropout(0.25)
    """

    _engine_kind = "Dropout"

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self._engine_config = dict(rate=rate, noise_shape=noise_shape, seed=seed)
