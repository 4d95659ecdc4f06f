"""AveragePooling2D."""

from __future__ import annotations

from .base_pooling2d import BasePooling2D


class AveragePooling2D(BasePooling2D):
    """Average pooling over 2-D windows (channels last); with 'same' padding
    the average is over the cells inside the image, as in Keras.

    Args:
        pool_size: int or (height, width), default 2.
        strides: int or (height, width); defaults to pool_size.
        padding: 'valid' (default) or 'same'.

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, pooled_height, pooled_width, channels)`.
    """

    _kind = "average"


AvgPool2D = AveragePooling2D
