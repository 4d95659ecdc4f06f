"""BatchNormalization, as Keras 3's (axis=-1)."""

from __future__ import annotations

import numpy as np

from .layer import Layer, reject_unsupported

_INIT_NAMES = {"zeros": "zeros", "Zeros": "zeros", "Zero": "zeros", "zero": "zeros",
               "ones": "ones", "Ones": "ones", "One": "ones", "one": "ones"}
_INIT_KERAS = {"zeros": "Zeros", "ones": "Ones"}


def _initializer(value, what):
    """'zeros' / 'ones', given as a name or Keras's serialized dict."""
    ident = value.get("class_name") if isinstance(value, dict) else value
    if ident not in _INIT_NAMES:
        raise NotImplementedError(
            f"BatchNormalization {what}={value!r} is not supported; supported: 'zeros', 'ones'"
        )
    return _INIT_NAMES[ident]


def _make(name, shape):
    return (np.zeros if name == "zeros" else np.ones)(shape, dtype=np.float32)


class BatchNormalization(Layer):
    """Normalises each channel (the last axis) to mean 0 and variance 1,
    then scales by `gamma` and shifts by `beta`.

    In training (`fit`) it uses the batch's mean and (biased) variance over
    every axis but the last, and updates
    `moving = moving * momentum + batch * (1 - momentum)`; in `evaluate` and
    `predict` it uses `moving_mean` and `moving_variance`:
    `gamma * (x - mean) / sqrt(var + epsilon) + beta`.

    Args:
        axis: only -1 (the channel axis, channels_last) is supported.
        momentum: of the moving statistics (0.99).
        epsilon: added to the variance (1e-3).
        center: learn `beta`.
        scale: learn `gamma`.
        beta_initializer, moving_mean_initializer: 'zeros' (default) or 'ones'.
        gamma_initializer, moving_variance_initializer: 'ones' (default) or 'zeros'.

    Weights, in Keras's order: gamma (if scale), beta (if center),
    moving_mean, moving_variance, each `(channels,)`; the moving ones are
    non-trainable (updated by the layer, not the optimizer) but are part of
    `get_weights` / `set_weights` and of saved files.

    Example:

    >>> layer = fmnistcpp.layers.BatchNormalization()
    """

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
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(f"BatchNormalization axis must be an int, got {axis!r}")
        self.axis = int(axis)
        try:
            self.momentum = float(momentum)
            self.epsilon = float(epsilon)
        except (TypeError, ValueError):
            raise ValueError("BatchNormalization momentum and epsilon must be numbers") from None
        if not 0.0 <= self.momentum <= 1.0:
            raise ValueError(f"BatchNormalization momentum must be in [0, 1], got {momentum!r}")
        if not self.epsilon > 0.0:
            raise ValueError(f"BatchNormalization epsilon must be positive, got {epsilon!r}")
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = _initializer(beta_initializer, "beta_initializer")
        self.gamma_initializer = _initializer(gamma_initializer, "gamma_initializer")
        self.moving_mean_initializer = _initializer(moving_mean_initializer,
                                                    "moving_mean_initializer")
        self.moving_variance_initializer = _initializer(moving_variance_initializer,
                                                        "moving_variance_initializer")

    def compute_output_shape(self, input_shape):
        rank = len(input_shape)
        if self.axis not in (-1, rank):
            raise NotImplementedError(
                f"BatchNormalization(axis={self.axis}) on inputs of shape {tuple(input_shape)}: "
                "only the last axis (axis=-1) is supported"
            )
        return tuple(input_shape)

    def build(self, input_shape):
        super().build(input_shape)
        c = int(input_shape[-1])
        w = []
        if self.scale:
            w.append(_make(self.gamma_initializer, (c,)))
        if self.center:
            w.append(_make(self.beta_initializer, (c,)))
        w.append(_make(self.moving_mean_initializer, (c,)))
        w.append(_make(self.moving_variance_initializer, (c,)))
        self._initial_weights = w

    def _add_to_network(self, network):
        return network.add_batch_normalization(self.momentum, self.epsilon, self.center,
                                               self.scale)

    def _weight_names(self):
        """Keras's variable names, in get_weights() order."""
        return (["gamma"] if self.scale else []) + (["beta"] if self.center else []) + [
            "moving_mean", "moving_variance"]

    @property
    def trainable_weights(self):
        return self.get_weights()[: int(self.scale) + int(self.center)]

    @property
    def non_trainable_weights(self):
        return self.get_weights()[int(self.scale) + int(self.center):]

    def get_config(self):
        config = super().get_config()

        def init(name):
            return {"module": "keras.initializers", "class_name": _INIT_KERAS[name],
                    "config": {}, "registered_name": None}

        config.update(
            axis=self.axis, momentum=self.momentum, epsilon=self.epsilon, center=self.center,
            scale=self.scale, beta_initializer=init(self.beta_initializer),
            gamma_initializer=init(self.gamma_initializer),
            moving_mean_initializer=init(self.moving_mean_initializer),
            moving_variance_initializer=init(self.moving_variance_initializer),
            beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
            gamma_constraint=None, synchronized=False,
        )
        return config
