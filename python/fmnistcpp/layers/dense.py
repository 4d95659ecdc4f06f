"""Dense: `activation(inputs @ kernel + bias)`."""

from __future__ import annotations

from .. import activations, initializers
from .. import regularizers
from .layer import Layer, check_positive_int, reject_unsupported


class Dense(Layer):
    """Densely connected layer.

    Args:
        units: output size.
        activation: 'relu', 'sigmoid', 'tanh', 'softmax', 'linear' or None.
        use_bias: whether to add a bias vector.
        kernel_initializer: 'glorot_uniform' (default) or 'zeros'.
        bias_initializer: 'zeros' (default) or 'glorot_uniform'.

    Input shape: `(batch, features)` — put a `Flatten` before it for images.
    Output shape: `(batch, units)`.

    Weights: kernel `(features, units)`, bias `(units,)`, as in Keras.

    Example:

    >>> layer = fmnistcpp.layers.Dense(128, activation="relu")
    """

    def __init__(
        self,
        units,
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
        reject_unsupported("Dense", bias_regularizer=bias_regularizer,
                           activity_regularizer=activity_regularizer,
                           kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)  # L2 only, see regularizers
        self.units = check_positive_int(units, "Dense units")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise NotImplementedError(
                f"Dense on inputs of shape {tuple(input_shape)} (applied to the last axis) is not "
                "supported; add a Flatten layer before it"
            )
        return (self.units,)

    def build(self, input_shape):
        super().build(input_shape)
        kernel = self.kernel_initializer((int(input_shape[0]), self.units))
        self._initial_weights = [kernel]
        if self.use_bias:
            self._initial_weights.append(self.bias_initializer((self.units,)))

    def _add_to_network(self, network):
        return network.add_dense(self.units, self.activation, self.use_bias)

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            activation=self.activation,
            use_bias=self.use_bias,
            kernel_initializer=initializers.name_of(self.kernel_initializer),
            bias_initializer=initializers.name_of(self.bias_initializer),
        )
        if self.kernel_regularizer is not None:  # Keras's serialized form
            config["kernel_regularizer"] = regularizers.serialize(self.kernel_regularizer)
        return config
