"""The regularization layers that draw noise in training: GaussianNoise,
GaussianDropout, AlphaDropout, SpatialDropout2D. Each is the identity at
inference (evaluate, predict). The noise is drawn in C++ from seeds that
`fmnistcpp.utils.set_random_seed` fixes (and `seed=`, if given), the same
whatever the number of threads; the numbers differ from TensorFlow's, the
distributions do not."""

from __future__ import annotations

from .layer import Layer


class GaussianNoise(Layer):
    """Adds zero-centred Gaussian noise of standard deviation `stddev`
    (between 0 and 1, as Keras) in training.

    >>> layer = fmnistcpp.layers.GaussianNoise(0.1)
    """

    _engine_kind = "GaussianNoise"

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        self._engine_config = dict(stddev=stddev, seed=seed)


class GaussianDropout(Layer):
    """Multiplies by Gaussian noise of mean 1 and standard deviation
    `sqrt(rate / (1 - rate))` in training; `rate` in [0, 1).

    >>> layer = fmnistcpp.layers.GaussianDropout(0.2)
    """

    _engine_kind = "GaussianDropout"

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self._engine_config = dict(rate=rate, seed=seed)


class AlphaDropout(Layer):
    """Dropout for SELU networks: dropped inputs become SELU's negative
    saturation value and the result is rescaled so that mean and variance
    are kept. `noise_shape` only None.

    >>> layer = fmnistcpp.layers.AlphaDropout(0.1)
    """

    _engine_kind = "AlphaDropout"

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self._engine_config = dict(rate=rate, noise_shape=noise_shape, seed=seed)


class SpatialDropout2D(Layer):
    """Dropout of whole feature maps: one draw per (sample, channel), kept
    maps scaled by 1 / (1 - rate). Input (batch, rows, cols, channels), or
    channels first with data_format="channels_first".

    >>> layer = fmnistcpp.layers.SpatialDropout2D(0.2)
    """

    _engine_kind = "SpatialDropout2D"

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        self._engine_config = dict(rate=rate, data_format=data_format, seed=seed)

    def get_config(self):
        # Keras's SpatialDropout2D takes no `trainable` argument, so its
        # config (and a file Keras is to load) has none.
        config = super().get_config()
        config.pop("trainable", None)
        return config
