"""The activation layers: Activation, Softmax, ReLU, LeakyReLU, ELU, PReLU.
Their arguments are read and checked by the engine
(cpp/activation_layer.cpp, cpp/prelu.cpp)."""

from __future__ import annotations

import warnings

from .. import activations, constraints, initializers, regularizers
from .layer import Layer


class Activation(Layer):
    """Applies an activation function to its input.

    Args:
        activation: any of `fmnistcpp.activations` (a name or the function),
            or a TensorFlow function such as `tf.nn.relu`.

    Example:

    >>> layer = fmnistcpp.layers.Activation("relu")
    """

    _engine_kind = "Activation"
    _activation_attr = "activation"

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self._engine_config = dict(activation=activations.name_of(activation))


class Softmax(Layer):
    """Softmax along `axis` (one axis; -1 by default)."""

    _engine_kind = "Softmax"

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self._engine_config = dict(axis=axis)


class ReLU(Layer):
    """`keras.activations.relu` with the layer's `max_value`,
    `negative_slope` and `threshold` (all >= 0)."""

    _engine_kind = "ReLU"

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self._engine_config = dict(max_value=max_value, negative_slope=negative_slope,
                                   threshold=threshold)


class LeakyReLU(Layer):
    """x for x > 0, else negative_slope * x (default 0.3, as Keras's layer;
    the function's default is 0.2)."""

    _engine_kind = "LeakyReLU"

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:  # Keras 2's name, which Keras 3 still takes
            negative_slope = kwargs.pop("alpha")
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.")
        super().__init__(**kwargs)
        self._engine_config = dict(negative_slope=negative_slope)


class ELU(Layer):
    """x for x > 0, else alpha * (exp(x) - 1)."""

    _engine_kind = "ELU"

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self._engine_config = dict(alpha=alpha)


class PReLU(Layer):
    """relu(x) - alpha * relu(-x) with a learned `alpha` of the input's
    shape, shared (size 1) along `shared_axes` (counted with the batch as
    axis 0: `shared_axes=[1, 2]` gives one alpha per channel of an image).

    Args:
        alpha_initializer: default "Zeros".
        alpha_regularizer, alpha_constraint: as for any weight.
        shared_axes: None, an axis or a list of axes.
    """

    _engine_kind = "PReLU"
    _initializers = {"alpha": "alpha_initializer"}
    _regularizers = {"alpha": "alpha_regularizer"}
    _constraints = {"alpha": "alpha_constraint"}

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None,
                 alpha_constraint=None, shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        self._engine_config = dict(shared_axes=shared_axes)

    def get_config(self):
        config = super().get_config()
        axes = config.get("shared_axes")
        config.update(
            alpha_initializer=initializers.serialize(self.alpha_initializer),
            alpha_regularizer=regularizers.serialize(self.alpha_regularizer),
            alpha_constraint=constraints.serialize(self.alpha_constraint),
            shared_axes=None if axes is None else list(axes),
        )
        return config
