"""MaxPooling2D, AveragePooling2D, their 1-D forms, GlobalMaxPooling2D and
GlobalAveragePooling2D. Their shape rules and checks are the engine's
(cpp/pooling2d.cpp, cpp/global_max_pooling2d.cpp,
cpp/global_average_pooling2d.cpp)."""

from __future__ import annotations

from .layer import Layer


class _Pooling2D(Layer):
    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        self._engine_config = dict(pool_size=pool_size, strides=strides, padding=padding,
                                   data_format=data_format)


class MaxPooling2D(_Pooling2D):
    """Max pooling over 2-D windows.

    Args:
        pool_size: int or (height, width), default 2.
        strides: int or (height, width); defaults to pool_size.
        padding: 'valid' (default) or 'same'.
        data_format: 'channels_last' (default) or 'channels_first'.

    Example:

    >>> layer = fmnistcpp.layers.MaxPooling2D(pool_size=2)
    """

    _engine_kind = "MaxPooling2D"


class AveragePooling2D(_Pooling2D):
    """Average pooling over 2-D windows; with 'same' padding the average is
    over the cells inside the image, as in Keras. Arguments as MaxPooling2D."""

    _engine_kind = "AveragePooling2D"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        # no default pool_size, as Keras
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class GlobalAveragePooling2D(Layer):
    """The mean over height and width of each channel: `(batch, channels)`,
    or `(batch, 1, 1, channels)` with `keepdims=True`."""

    _engine_kind = "GlobalAveragePooling2D"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self._engine_config = dict(data_format=data_format, keepdims=keepdims)


class _Pooling1D(Layer):
    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        self._engine_config = dict(pool_size=pool_size, strides=strides, padding=padding,
                                   data_format=data_format)


class MaxPooling1D(_Pooling1D):
    """Max pooling over windows of steps of `(batch, steps, channels)`.
    Arguments as MaxPooling2D with one-element sizes."""

    _engine_kind = "MaxPooling1D"


class AveragePooling1D(_Pooling1D):
    """Average pooling over windows of steps; arguments as MaxPooling1D."""

    _engine_kind = "AveragePooling1D"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        # no default pool_size, as Keras
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class GlobalMaxPooling2D(Layer):
    """The maximum over height and width of each channel: `(batch,
    channels)`, or `(batch, 1, 1, channels)` with `keepdims=True`. Its
    gradient is shared equally by tied maxima, as TensorFlow's reduce_max."""

    _engine_kind = "GlobalMaxPooling2D"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self._engine_config = dict(data_format=data_format, keepdims=keepdims)


MaxPool2D = MaxPooling2D
MaxPool1D = MaxPooling1D
AvgPool1D = AveragePooling1D
GlobalMaxPool2D = GlobalMaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
