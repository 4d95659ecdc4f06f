"""What MaxPooling2D and AveragePooling2D share."""

from __future__ import annotations

import math

from .layer import Layer, normalize_padding, normalize_tuple


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
        if len(input_shape) != 3:
            raise ValueError(
                f"{type(self).__name__} expects inputs of shape (height, width, channels), "
                f"got {tuple(input_shape)}"
            )
        out = []
        for size, k, s in zip(input_shape[:2], self.pool_size, self.strides):
            n = math.ceil(size / s) if self.padding == "same" else (size - k) // s + 1
            if n <= 0:
                raise ValueError(
                    f"{type(self).__name__} pool_size {self.pool_size} is larger than its input "
                    f"{tuple(input_shape)} with padding='valid'"
                )
            out.append(n)
        return (out[0], out[1], input_shape[2])

    def _add_to_network(self, network):
        return network.add_pooling2d(self._kind, *self.pool_size, *self.strides, self.padding)

    def get_config(self):
        config = super().get_config()
        config.update(pool_size=self.pool_size, strides=self.strides, padding=self.padding,
                      data_format="channels_last")
        return config
