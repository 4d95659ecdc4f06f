"""ZeroPadding2D, Cropping2D and UpSampling2D. Their shape rules and checks
are the engine's (cpp/zero_padding2d.cpp, cpp/cropping2d.cpp,
cpp/up_sampling2d.cpp)."""

from __future__ import annotations

from .layer import Layer


class ZeroPadding2D(Layer):
    """Rows and columns of zeros around an image.

    Args:
        padding: an int (every side), (rows, columns) (symmetric), or
            ((top, bottom), (left, right)); default 1.
        data_format: 'channels_last' (default) or 'channels_first'.

    >>> layer = fmnistcpp.layers.ZeroPadding2D(((1, 0), (2, 2)))
    """

    _engine_kind = "ZeroPadding2D"

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self._engine_config = dict(padding=padding, data_format=data_format)


class Cropping2D(Layer):
    """Rows and columns cut off an image's edges.

    Args:
        cropping: an int (every side), (rows, columns) (symmetric), or
            ((top, bottom), (left, right)); default none.
        data_format: 'channels_last' (default) or 'channels_first'.

    >>> layer = fmnistcpp.layers.Cropping2D(((2, 2), (4, 4)))
    """

    _engine_kind = "Cropping2D"

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self._engine_config = dict(cropping=cropping, data_format=data_format)


class UpSampling2D(Layer):
    """An image enlarged by integer factors.

    Args:
        size: int or (rows, columns), default 2.
        data_format: 'channels_last' (default) or 'channels_first'.
        interpolation: 'nearest' (default: each pixel repeated) or
            'bilinear' (TensorFlow's resize with half-pixel centres);
            Keras's other methods raise NotImplementedError.

    >>> layer = fmnistcpp.layers.UpSampling2D(2)
    """

    _engine_kind = "UpSampling2D"

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self._engine_config = dict(size=size, data_format=data_format,
                                   interpolation=interpolation)
