"""Activation, Softmax and ReLU as layers."""

from __future__ import annotations

from .. import activations
from .layer import Layer


class Activation(Layer):
    """Applies an activation function to its input.

    Example:

    >>> layer = fmnistcpp.layers.Activation("relu")
    """

    _engine_kind = "Activation"
    _activation_attr = "activation"

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self._engine_config = dict(activation=activations.name_of(activation))


class Softmax(Layer):
    """Softmax over the last axis (`axis=-1` only)."""

    _engine_kind = "Softmax"

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self._engine_config = dict(axis=axis)


class ReLU(Layer):
    """max(x, 0); Keras's defaults only (max_value=None, negative_slope=0,
    threshold=0)."""

    _engine_kind = "ReLU"

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self._engine_config = dict(max_value=max_value, negative_slope=negative_slope,
                                   threshold=threshold)
