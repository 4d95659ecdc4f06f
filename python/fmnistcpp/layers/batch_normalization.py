"""BatchNormalization, as Keras 3's (axis=-1)."""

from __future__ import annotations

from .. import initializers
from .layer import Layer, reject_unsupported


class BatchNormalization(Layer):
    """Normalises each channel (the last axis) to mean 0 and variance 1,
    then scales by `gamma` and shifts by `beta`.

    In training (`fit`) it uses the batch's mean and (biased) variance over
    every axis but the last, and updates
    `moving = moving * momentum + batch * (1 - momentum)`; in `evaluate` and
    `predict`, and in training when the layer is frozen (`trainable=False`,
    as Keras), it uses `moving_mean` and `moving_variance`.

    Args:
        axis: only -1 (the channel axis, channels_last) is supported.
        momentum: of the moving statistics (0.99).
        epsilon: added to the variance (1e-3).
        center: learn `beta`. scale: learn `gamma`.
        beta_initializer, gamma_initializer, moving_mean_initializer,
        moving_variance_initializer: Keras's initializers.

    Weights, in Keras's order: gamma (if scale), beta (if center),
    moving_mean, moving_variance, each `(channels,)`; the moving ones are
    non-trainable (updated by the layer, not the optimizer).

    Example:

    >>> layer = fmnistcpp.layers.BatchNormalization()
    """

    _engine_kind = "BatchNormalization"
    _initializers = {"gamma": "gamma_initializer", "beta": "beta_initializer",
                     "moving_mean": "moving_mean_initializer",
                     "moving_variance": "moving_variance_initializer"}

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, renorm=False,
                 renorm_clipping=None, renorm_momentum=0.99, **kwargs):
        super().__init__(**kwargs)
        reject_unsupported("BatchNormalization", beta_regularizer=beta_regularizer,
                           gamma_regularizer=gamma_regularizer, beta_constraint=beta_constraint,
                           gamma_constraint=gamma_constraint, renorm_clipping=renorm_clipping)
        if renorm:
            raise NotImplementedError("BatchNormalization(renorm=True) is not supported")
        if synchronized:
            raise NotImplementedError("BatchNormalization(synchronized=True) is not supported")
        if isinstance(axis, (list, tuple)):
            if len(axis) != 1:
                raise NotImplementedError("BatchNormalization over several axes is not supported")
            axis = axis[0]
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self._engine_config = dict(axis=axis, momentum=momentum, epsilon=epsilon, center=center,
                                   scale=scale)

    def get_config(self):
        config = super().get_config()
        config.update(
            beta_initializer=initializers.serialize(self.beta_initializer),
            gamma_initializer=initializers.serialize(self.gamma_initializer),
            moving_mean_initializer=initializers.serialize(self.moving_mean_initializer),
            moving_variance_initializer=initializers.serialize(self.moving_variance_initializer),
            beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
            gamma_constraint=None, synchronized=False,
        )
        return config
