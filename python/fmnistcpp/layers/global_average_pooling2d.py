"""GlobalAveragePooling2D."""

from __future__ import annotations

from .layer import Layer


class GlobalAveragePooling2D(Layer):
    """The mean over height and width of each channel.

    Args:
        data_format: only 'channels_last' (the default) is supported.
        keepdims: keep the spatial axes (as size 1).

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, channels)`, or `(batch, 1, 1, channels)` with
    keepdims=True.

    Example:

    >>> layer = fmnistcpp.layers.GlobalAveragePooling2D()
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise NotImplementedError("GlobalAveragePooling2D supports channels_last only")
        self.keepdims = bool(keepdims)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                "GlobalAveragePooling2D expects inputs of shape (height, width, channels), got "
                f"{tuple(input_shape)}"
            )
        c = input_shape[2]
        return (1, 1, c) if self.keepdims else (c,)

    def _add_to_network(self, network):
        return network.add_global_average_pooling2d(self.keepdims)

    def get_config(self):
        config = super().get_config()
        config.update(data_format="channels_last", keepdims=self.keepdims)
        return config


GlobalAvgPool2D = GlobalAveragePooling2D
