"""Activation."""

from __future__ import annotations

from .. import activations
from .layer import Layer


class Activation(Layer):
    """Applies an activation function to its input.

    Args:
        activation: 'relu', 'sigmoid', 'tanh', 'softmax' or 'linear'.

    Input shape: any. Output shape: same as input.

    Example:

    >>> layer = fmnistcpp.layers.Activation("relu")
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def _add_to_network(self, network):
        return network.add_activation(self.activation)

    def get_config(self):
        config = super().get_config()
        config["activation"] = self.activation
        return config
