"""Conv2D: 2-D convolution over channels-last images."""

from __future__ import annotations

from .. import activations, initializers
from .. import regularizers
from .layer import (
    Layer,
    check_positive_int,
    normalize_padding,
    normalize_tuple,
    reject_unsupported,
    window_output_shape,
)


class Conv2D(Layer):
    """2-D convolution layer (channels last).

    Args:
        filters: number of output channels.
        kernel_size: int or (height, width).
        strides: int or (height, width), default 1.
        padding: 'valid' (default) or 'same' (Keras's split: the extra
            row/column of padding goes after).
        activation: 'relu', 'sigmoid', 'tanh', 'softmax', 'linear' or None.
        use_bias: whether to add a bias per filter.

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, new_height, new_width, filters)`.

    Weights: kernel `(kh, kw, channels, filters)`, bias `(filters,)`.

    Example:

    >>> layer = fmnistcpp.layers.Conv2D(8, 3, activation="relu", input_shape=(28, 28, 1))
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise NotImplementedError("Conv2D supports data_format='channels_last' only")
        if normalize_tuple(dilation_rate, "dilation_rate") != (1, 1):
            raise NotImplementedError("Conv2D dilation_rate other than 1 is not supported")
        if groups != 1:
            raise NotImplementedError("grouped Conv2D (groups > 1) is not supported")
        reject_unsupported("Conv2D", bias_regularizer=bias_regularizer,
                           activity_regularizer=activity_regularizer,
                           kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)  # L2 only, see regularizers
        self.filters = check_positive_int(filters, "Conv2D filters")
        self.kernel_size = normalize_tuple(kernel_size, "kernel_size")
        self.strides = normalize_tuple(strides, "strides")
        self.padding = normalize_padding(padding)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)

    def compute_output_shape(self, input_shape):
        return window_output_shape("Conv2D", input_shape, self.kernel_size, self.strides,
                                   self.padding, self.filters)

    def build(self, input_shape):
        super().build(input_shape)
        kh, kw = self.kernel_size
        kernel = self.kernel_initializer((kh, kw, int(input_shape[2]), self.filters))
        self._initial_weights = [kernel]
        if self.use_bias:
            self._initial_weights.append(self.bias_initializer((self.filters,)))

    def _add_to_network(self, network):
        return network.add_conv2d(
            self.filters, *self.kernel_size, *self.strides, self.padding, self.activation,
            self.use_bias,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            kernel_size=self.kernel_size,
            strides=self.strides,
            padding=self.padding,
            data_format="channels_last",
            dilation_rate=(1, 1),
            groups=1,
            activation=self.activation,
            use_bias=self.use_bias,
            kernel_initializer=initializers.name_of(self.kernel_initializer),
            bias_initializer=initializers.name_of(self.bias_initializer),
        )
        if self.kernel_regularizer is not None:  # Keras's serialized form
            config["kernel_regularizer"] = regularizers.serialize(self.kernel_regularizer)
        return config
