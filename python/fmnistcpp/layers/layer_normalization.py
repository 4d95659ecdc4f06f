"""LayerNormalization, as Keras 3's."""

from __future__ import annotations

import warnings

from .. import constraints, initializers, regularizers
from .layer import Layer


class LayerNormalization(Layer):
    """Normalises each sample over `axis` to mean 0 and variance 1, then
    scales by `gamma` and shifts by `beta` (both spanning the normalised
    axes). Unlike BatchNormalization it uses no batch statistics, so it
    behaves the same in training and inference.

    Args:
        axis: the axis or list of axes to normalise over, counted with the
            batch axis (-1: the last; [1, 2, 3]: a whole image). The axes
            must be adjacent.
        epsilon: added to the variance (1e-3).
        center: learn `beta`. scale: learn `gamma`.
        beta_initializer, gamma_initializer: Keras's initializers.
        beta_regularizer, gamma_regularizer: L1 / L2 / L1L2.
        beta_constraint, gamma_constraint: MaxNorm, NonNeg, UnitNorm,
            MinMaxNorm (applied after each optimizer step).
        rms_scaling: Keras's deprecated flag: out = x / sqrt(var + eps) *
            gamma (no centring, no beta); Keras warns that it scales by the
            variance, not the root mean square, and so does this layer.

    Example:

    >>> layer = fmnistcpp.layers.LayerNormalization()
    """

    _engine_kind = "LayerNormalization"
    _initializers = {"gamma": "gamma_initializer", "beta": "beta_initializer"}
    _regularizers = {"gamma": "gamma_regularizer", "beta": "beta_regularizer"}
    _constraints = {"gamma": "gamma_constraint", "beta": "beta_constraint"}

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 rms_scaling=False, **kwargs):
        if rms_scaling:
            warnings.warn("You passed `rms_scaling=True`, which is deprecated. This argument "
                          "incorrectly scales the input by the variance, not the root mean "
                          "square. To correctly use RMS Normalization, please use "
                          "`keras.layers.RMSNormalization` instead.")
        super().__init__(**kwargs)
        if not isinstance(axis, (int, list, tuple)) or isinstance(axis, bool):
            raise TypeError("Expected an int or a list/tuple of ints for the argument 'axis', "
                            f"but received: {axis!r}")
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self._engine_config = dict(axis=list(axis) if isinstance(axis, tuple) else axis,
                                   epsilon=epsilon, center=center, scale=scale,
                                   rms_scaling=bool(rms_scaling))

    def get_config(self):
        config = super().get_config()
        config.update(
            beta_initializer=initializers.serialize(self.beta_initializer),
            gamma_initializer=initializers.serialize(self.gamma_initializer),
            beta_regularizer=regularizers.serialize(self.beta_regularizer),
            gamma_regularizer=regularizers.serialize(self.gamma_regularizer),
            beta_constraint=constraints.serialize(self.beta_constraint),
            gamma_constraint=constraints.serialize(self.gamma_constraint),
        )
        return config
