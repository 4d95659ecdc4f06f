"""Dense: `activation(inputs @ kernel + bias)`."""

from __future__ import annotations

from .. import activations, constraints, initializers, regularizers
from .layer import Layer, reject_unsupported


class Dense(Layer):
    """Densely connected layer.

    Args:
        units: output size.
        activation: an activation name or function ('relu', 'softmax', ...).
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: Keras's initializers.
        kernel_regularizer, bias_regularizer: L1 / L2 / L1L2.

    Input shape: `(batch, features)`; put a `Flatten` before it for images.
    Output shape: `(batch, units)`. Weights: kernel `(features, units)`,
    bias `(units,)`, as in Keras.

    Example:

    >>> layer = fmnistcpp.layers.Dense(128, activation="relu")
    """

    _engine_kind = "Dense"
    _initializers = {"kernel": "kernel_initializer", "bias": "bias_initializer"}
    _regularizers = {"kernel": "kernel_regularizer", "bias": "bias_regularizer"}
    _constraints = {"kernel": "kernel_constraint", "bias": "bias_constraint"}
    _activation_attr = "activation"

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, **kwargs):
        super().__init__(**kwargs)
        reject_unsupported("Dense", lora_rank=lora_rank)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self._engine_config = dict(units=units, activation=activations.name_of(activation),
                                   use_bias=use_bias)

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
