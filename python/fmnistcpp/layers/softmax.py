"""Softmax."""

from __future__ import annotations

from .layer import Layer


class Softmax(Layer):
    """Softmax over the last axis.

    Args:
        axis: only -1 (the last axis) is supported.

    Input shape: any. Output shape: same as input.

    Example:

    >>> layer = fmnistcpp.layers.Softmax()
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if axis != -1:
            raise NotImplementedError("Softmax supports axis=-1 only")
        self.axis = -1

    def _add_to_network(self, network):
        return network.add_activation("softmax")

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class ReLU(Layer):
    """max(x, 0). Only the default arguments of Keras's ReLU are supported."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None or negative_slope != 0.0 or threshold != 0.0:
            raise NotImplementedError("ReLU supports the default arguments only")

    def _add_to_network(self, network):
        return network.add_activation("relu")
