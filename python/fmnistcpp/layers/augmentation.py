"""Image augmentation layers, as Keras 3's: RandomFlip, RandomRotation,
RandomZoom, RandomTranslation, RandomContrast. They transform each image
of a training batch with its own random draw (in C++, from seeds that
`fmnistcpp.utils.set_random_seed` and `seed=` fix, the same whatever the
thread count) and are the identity in evaluate and predict. Called directly
on an array they augment, as Keras's do (`training` defaults to True);
`layer(x, training=False)` returns x.

The arguments mean what they mean in Keras: factors are fractions (of a
full turn for RandomRotation, of the image size for RandomTranslation;
RandomZoom's positive factors zoom out), `fill_mode` is one of "reflect",
"wrap", "constant", "nearest", `interpolation` "bilinear" or "nearest".
Images are (batch, height, width, channels)."""

from __future__ import annotations

from .layer import Layer


class _Augmentation(Layer):
    def _eager_call(self, flat, training):
        return super()._eager_call(flat, True if training is None else training)


class RandomFlip(_Augmentation):
    """Flips each image with probability 1/2: `mode` "horizontal"
    (left-right), "vertical" (upside down) or "horizontal_and_vertical"
    (both at once, as Keras).

    >>> layer = fmnistcpp.layers.RandomFlip("horizontal")
    """

    _engine_kind = "RandomFlip"

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self._engine_config = dict(mode=mode, seed=seed, data_format=data_format)


class _AffineAugmentation(_Augmentation):
    def _affine_config(self, fill_mode, interpolation, seed, fill_value, data_format):
        return dict(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                    fill_value=fill_value, data_format=data_format)


class RandomRotation(_AffineAugmentation):
    """Rotates each image by a random angle of `factor` turns: 0.1 means
    up to +-36 degrees, (-0.1, 0.2) from -36 to +72.

    >>> layer = fmnistcpp.layers.RandomRotation(0.1)
    """

    _engine_kind = "RandomRotation"

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self._engine_config = dict(factor=factor, **self._affine_config(
            fill_mode, interpolation, seed, fill_value, data_format))


class RandomZoom(_AffineAugmentation):
    """Zooms each image by a random factor: `height_factor` 0.2 scales the
    height by 0.8 .. 1.2 of the view (positive values zoom out, negative
    zoom in); `width_factor` likewise, or None to keep the aspect ratio.

    >>> layer = fmnistcpp.layers.RandomZoom(0.1)
    """

    _engine_kind = "RandomZoom"

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        self._engine_config = dict(height_factor=height_factor, width_factor=width_factor,
                                   **self._affine_config(fill_mode, interpolation, seed,
                                                         fill_value, data_format))


class RandomTranslation(_AffineAugmentation):
    """Shifts each image by random fractions of its height and width
    (`height_factor`, `width_factor`: a number f for -f .. f, or a pair).

    >>> layer = fmnistcpp.layers.RandomTranslation(0.1, 0.1)
    """

    _engine_kind = "RandomTranslation"

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        self._engine_config = dict(height_factor=height_factor, width_factor=width_factor,
                                   **self._affine_config(fill_mode, interpolation, seed,
                                                         fill_value, data_format))


class RandomContrast(_Augmentation):
    """Scales each image's deviation from its per-channel mean by a random
    factor from [1 - lower, 1 + upper] and clips to `value_range`. As in
    Keras 3, a number f means (0, f), so the contrast only grows; pass a
    pair (f, f) for 1 - f .. 1 + f. `value_range` defaults to (0, 255).

    >>> layer = fmnistcpp.layers.RandomContrast((0.2, 0.2), value_range=(0, 1))
    """

    _engine_kind = "RandomContrast"

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self._engine_config = dict(factor=factor, value_range=value_range, seed=seed,
                                   data_format=data_format)
