"""What MaxPooling2D and AveragePooling2D share."""

from __future__ import annotations

from .layer import Layer, normalize_padding, normalize_tuple, window_output_shape


class BasePooling2D(Layer):
    _kind = ""  # "max" or "average"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise NotImplementedError(f"{type(self).__name__} supports channels_last only")
        self.pool_size = normalize_tuple(pool_size, "pool_size")
        self.strides = normalize_tuple(strides, "strides") if strides is not None else self.pool_size
        self.padding = normalize_padding(padding)

    def compute_output_shape(self, input_shape):
        return window_output_shape(type(self).__name__, input_shape, self.pool_size,
                                   self.strides, self.padding,
                                   input_shape[2] if len(input_shape) == 3 else None)

    def _add_to_network(self, network):
        return network.add_pooling2d(self._kind, *self.pool_size, *self.strides, self.padding)

    def get_config(self):
        config = super().get_config()
        config.update(pool_size=self.pool_size, strides=self.strides, padding=self.padding,
                      data_format="channels_last")
        return config
