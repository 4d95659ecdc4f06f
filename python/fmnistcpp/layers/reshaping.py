"""Flatten and Reshape: views of the same memory (no copy in the engine)."""

from __future__ import annotations

from .layer import Layer


class Flatten(Layer):
    """Flattens each sample in channels-last (H, W, C) order, as Keras.

    Example:

    >>> layer = fmnistcpp.layers.Flatten(input_shape=(28, 28))
    """

    _engine_kind = "Flatten"

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self._engine_config = dict(data_format=data_format)


class Reshape(Layer):
    """Gives each sample a new shape with the same number of values; one
    dimension may be -1 and is inferred.

    Example:

    >>> layer = fmnistcpp.layers.Reshape((28, 28, 1), input_shape=(784,))
    """

    _engine_kind = "Reshape"

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self._engine_config = dict(target_shape=target_shape)
