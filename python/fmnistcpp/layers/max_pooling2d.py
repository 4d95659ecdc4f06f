"""MaxPooling2D."""

from __future__ import annotations

from .base_pooling2d import BasePooling2D


class MaxPooling2D(BasePooling2D):
    """Max pooling over 2-D windows (channels last).

    Args:
        pool_size: int or (height, width), default 2.
        strides: int or (height, width); defaults to pool_size.
        padding: 'valid' (default) or 'same'.

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, pooled_height, pooled_width, channels)`.

    Example:

    >>> layer = fmnistcpp.layers.MaxPooling2D(pool_size=2)
    """

    _kind = "max"


MaxPool2D = MaxPooling2D
