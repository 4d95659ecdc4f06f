"""Flatten."""

from __future__ import annotations

import math

from .layer import Layer


class Flatten(Layer):
    """Flattens each sample, in channels-last (H, W, C) order as Keras.

    Input shape: `(batch, ...)`. Output shape: `(batch, product of the rest)`.

    Example:

    >>> layer = fmnistcpp.layers.Flatten(input_shape=(28, 28))
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise NotImplementedError("Flatten supports data_format='channels_last' only")

    def compute_output_shape(self, input_shape):
        return (int(math.prod(input_shape)),)

    def _add_to_network(self, network):
        return network.add_reshape([])

    def get_config(self):
        config = super().get_config()
        config["data_format"] = "channels_last"
        return config
