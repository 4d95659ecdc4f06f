"""Conv2D: 2-D convolution over channels-last images."""

from __future__ import annotations

from .. import activations, constraints, initializers, regularizers
from .layer import Layer


class Conv2D(Layer):
    """2-D convolution layer (channels last).

    Args:
        filters: number of output channels.
        kernel_size: int or (height, width).
        strides: int or (height, width), default 1.
        padding: 'valid' (default) or 'same' (Keras's split: the extra
            row/column of padding goes after).
        activation: an activation name or function.
        use_bias: whether to add a bias per filter.
        kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer: as Dense.

    Input shape: `(batch, height, width, channels)`. Output shape:
    `(batch, new_height, new_width, filters)`. Weights: kernel
    `(kh, kw, channels, filters)`, bias `(filters,)`.

    Example:

    >>> layer = fmnistcpp.layers.Conv2D(8, 3, activation="relu", input_shape=(28, 28, 1))
    """

    _engine_kind = "Conv2D"
    _initializers = {"kernel": "kernel_initializer", "bias": "bias_initializer"}
    _regularizers = {"kernel": "kernel_regularizer", "bias": "bias_regularizer"}
    _constraints = {"kernel": "kernel_constraint", "bias": "bias_constraint"}
    _activation_attr = "activation"

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self._engine_config = dict(
            filters=filters, kernel_size=kernel_size, strides=strides, padding=padding,
            data_format=data_format, dilation_rate=dilation_rate, groups=groups,
            activation=activations.name_of(activation), use_bias=use_bias)

    def get_config(self):
        config = super().get_config()
        config.update(
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            kernel_constraint=constraints.serialize(self.kernel_constraint),
            bias_constraint=constraints.serialize(self.bias_constraint),
        )
        return config


Convolution2D = Conv2D
