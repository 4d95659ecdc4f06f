"""Dropout."""

from __future__ import annotations

from .layer import Layer


class Dropout(Layer):
    """Sets a fraction `rate` of the inputs to 0 during training and scales
    the rest by 1 / (1 - rate); does nothing at inference (evaluate,
    predict). The mask is drawn in C++ from seeds that
    `fmnistcpp.utils.set_random_seed` fixes.

    Args:
        rate: float in [0, 1), the fraction to drop.

    Input shape: any. Output shape: same as input.

    Example:

    >>> layer = fmnistcpp.layers.Dropout(0.25)
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if noise_shape is not None:
            raise NotImplementedError("Dropout noise_shape is not supported")
        try:
            rate = float(rate)
        except (TypeError, ValueError):
            raise ValueError(f"Dropout rate must be a number in [0, 1), got {rate!r}") from None
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout rate must be in [0, 1), got {rate!r}")
        self.rate = rate
        self.seed = seed

    def _add_to_network(self, network):
        return network.add_dropout(self.rate)

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, seed=self.seed, noise_shape=None)
        return config
