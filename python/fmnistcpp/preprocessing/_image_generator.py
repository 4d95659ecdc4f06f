"""ImageDataGenerator and the legacy per-image functions (see image.py)."""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..utils.image_utils import array_to_img, img_to_array
from . import _affine


def _check_image(x, row_axis, col_axis, channel_axis):
    if len({row_axis, col_axis, channel_axis}) != 3:
        raise ValueError("'row_axis', 'col_axis', and 'channel_axis' must be distinct")
    bad = {row_axis, col_axis, channel_axis} - {0, 1, 2}
    if bad:
        raise ValueError(f"Invalid axis' indices: {bad}")
    if np.ndim(x) != 3:
        raise ValueError("Input arrays must be multi-channel 2D images.")
    if channel_axis not in (0, 2):
        raise ValueError("Channels are allowed and the first and last dimensions.")


def apply_affine_transform(x, theta=0, tx=0, ty=0, shear=0, zx=1, zy=1, row_axis=1, col_axis=2,
                           channel_axis=0, fill_mode="nearest", cval=0.0, order=1):
    """Rotates (degrees), shifts, shears (degrees) and zooms one 3-D image
    about its centre, as Keras's apply_affine_transform."""
    _check_image(x, row_axis, col_axis, channel_axis)
    x = np.asarray(x)
    m = _affine.transform_matrix(theta, tx, ty, shear, zx, zy, x.shape[row_axis],
                                 x.shape[col_axis])
    return _affine.affine_batch(x[None], [m], row_axis, col_axis, channel_axis, fill_mode,
                                cval, order)[0]


def random_rotation(x, rg, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest",
                    cval=0.0, interpolation_order=1):
    theta = np.random.uniform(-rg, rg)
    return apply_affine_transform(x, theta=theta, row_axis=row_axis, col_axis=col_axis,
                                  channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)


def random_shift(x, wrg, hrg, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest",
                 cval=0.0, interpolation_order=1):
    h, w = x.shape[row_axis], x.shape[col_axis]
    tx = np.random.uniform(-hrg, hrg) * h
    ty = np.random.uniform(-wrg, wrg) * w
    return apply_affine_transform(x, tx=tx, ty=ty, row_axis=row_axis, col_axis=col_axis,
                                  channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)


def random_shear(x, intensity, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest",
                 cval=0.0, interpolation_order=1):
    shear = np.random.uniform(-intensity, intensity)
    return apply_affine_transform(x, shear=shear, row_axis=row_axis, col_axis=col_axis,
                                  channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)


def random_zoom(x, zoom_range, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest",
                cval=0.0, interpolation_order=1):
    if len(zoom_range) != 2:
        raise ValueError(f"`zoom_range` should be a tuple or list of two floats. Received: "
                         f"{zoom_range}")
    zx, zy = (1, 1) if tuple(zoom_range) == (1, 1) else \
        np.random.uniform(zoom_range[0], zoom_range[1], 2)
    return apply_affine_transform(x, zx=zx, zy=zy, row_axis=row_axis, col_axis=col_axis,
                                  channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)


def apply_channel_shift(x, intensity, channel_axis=0):
    """Adds `intensity` to every channel, clipped to the image's range."""
    x = np.asarray(x)
    return np.clip(x + intensity, np.min(x), np.max(x))


def random_channel_shift(x, intensity_range, channel_axis=0):
    intensity = np.random.uniform(-intensity_range, intensity_range)
    return apply_channel_shift(x, intensity, channel_axis=channel_axis)


def apply_brightness_shift(x, brightness, scale=True):
    """Pillow's ImageEnhance.Brightness on one image, as Keras."""
    from PIL import ImageEnhance

    lo, hi = np.min(x), np.max(x)
    local_scale = (lo < 0) or (hi > 255)
    img = ImageEnhance.Brightness(array_to_img(x, scale=local_scale or scale)).enhance(brightness)
    x = img_to_array(img)
    if not scale and local_scale:
        x = x / 255 * (hi - lo) + lo
    return x


def random_brightness(x, brightness_range, scale=True):
    if len(brightness_range) != 2:
        raise ValueError(f"`brightness_range should be tuple or list of two floats. Received: "
                         f"{brightness_range}")
    u = np.random.uniform(brightness_range[0], brightness_range[1])
    return apply_brightness_shift(x, u, scale)


class ImageDataGenerator:
    """Real-time augmentation of image batches, as Keras's legacy
    `ImageDataGenerator` (`tf.keras.preprocessing.image.ImageDataGenerator`),
    with the same arguments and draws. `flow(x, y)` gives a PyDataset that
    fit, evaluate and predict take (with `steps_per_epoch` as Keras).

    Example:

    ```python
    datagen = ImageDataGenerator(rotation_range=10, width_shift_range=0.1,
                                 height_shift_range=0.1, zoom_range=0.1,
                                 horizontal_flip=True, validation_split=0.2)
    model.fit(datagen.flow(x, y, batch_size=64, subset="training"),
              validation_data=datagen.flow(x, y, batch_size=64, subset="validation"),
              epochs=10)
    ```
    """

    def __init__(self, featurewise_center=False, samplewise_center=False,
                 featurewise_std_normalization=False, samplewise_std_normalization=False,
                 zca_whitening=False, zca_epsilon=1e-6, rotation_range=0, width_shift_range=0.0,
                 height_shift_range=0.0, brightness_range=None, shear_range=0.0, zoom_range=0.0,
                 channel_shift_range=0.0, fill_mode="nearest", cval=0.0, horizontal_flip=False,
                 vertical_flip=False, rescale=None, preprocessing_function=None,
                 data_format=None, validation_split=0.0, interpolation_order=1, dtype=None):
        self.featurewise_center = featurewise_center
        self.samplewise_center = samplewise_center
        self.featurewise_std_normalization = featurewise_std_normalization
        self.samplewise_std_normalization = samplewise_std_normalization
        self.zca_whitening, self.zca_epsilon = zca_whitening, zca_epsilon
        self.rotation_range = rotation_range
        self.width_shift_range, self.height_shift_range = width_shift_range, height_shift_range
        self.shear_range = shear_range
        self.channel_shift_range = channel_shift_range
        if fill_mode not in _FILL_MODES:
            raise ValueError(f"fill_mode must be one of {_FILL_MODES}, got {fill_mode!r}")
        self.fill_mode, self.cval = fill_mode, cval
        self.horizontal_flip, self.vertical_flip = horizontal_flip, vertical_flip
        self.rescale = rescale
        self.preprocessing_function = preprocessing_function
        self.dtype = dtype or "float32"
        self.interpolation_order = interpolation_order
        data_format = data_format or "channels_last"
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError('`data_format` should be `"channels_last"` (channel after row and '
                             'column) or `"channels_first"` (channel before row and column). '
                             f"Received: {data_format}")
        self.data_format = data_format
        self.channel_axis, self.row_axis, self.col_axis = \
            (3, 1, 2) if data_format == "channels_last" else (1, 2, 3)
        if validation_split and not 0 < validation_split < 1:
            raise ValueError("`validation_split` must be strictly between 0 and 1.  Received: "
                             f"{validation_split}")
        self._validation_split = validation_split
        self.mean = self.std = self.zca_whitening_matrix = None
        if isinstance(zoom_range, (float, int)):
            self.zoom_range = [1 - zoom_range, 1 + zoom_range]
        elif len(zoom_range) == 2 and all(isinstance(v, (float, int)) for v in zoom_range):
            self.zoom_range = [zoom_range[0], zoom_range[1]]
        else:
            raise ValueError("`zoom_range` should be a float or a tuple or list of two floats. "
                             f"Received: {zoom_range}")
        overrides = [(zca_whitening and not featurewise_center, "featurewise_center", True,
                      "`zca_whitening`, which overrides setting of `featurewise_center`."),
                     (zca_whitening and featurewise_std_normalization,
                      "featurewise_std_normalization", False, "`zca_whitening` which overrides "
                      "setting of`featurewise_std_normalization`."),
                     (featurewise_std_normalization and not self.featurewise_center,
                      "featurewise_center", True, "`featurewise_std_normalization`, which "
                      "overrides setting of `featurewise_center`."),
                     (samplewise_std_normalization and not samplewise_center,
                      "samplewise_center", True, "`samplewise_std_normalization`, which "
                      "overrides setting of `samplewise_center`.")]
        for condition, attr, value, why in overrides:
            if condition:
                setattr(self, attr, value)
                warnings.warn("This ImageDataGenerator specifies " + why)
        if brightness_range is not None and (not isinstance(brightness_range, (tuple, list))
                                             or len(brightness_range) != 2):
            raise ValueError("`brightness_range should be tuple or list of two floats. "
                             f"Received: {brightness_range}")
        self.brightness_range = brightness_range

    def flow(self, x, y=None, batch_size=32, shuffle=True, sample_weight=None, seed=None,
             save_to_dir=None, save_prefix="", save_format="png", ignore_class_split=False,
             subset=None):
        from .image import NumpyArrayIterator

        return NumpyArrayIterator(x, y, self, batch_size=batch_size, shuffle=shuffle,
                                  sample_weight=sample_weight, seed=seed,
                                  data_format=self.data_format, save_to_dir=save_to_dir,
                                  save_prefix=save_prefix, save_format=save_format,
                                  ignore_class_split=ignore_class_split, subset=subset,
                                  dtype=self.dtype)

    def flow_from_directory(self, *args, **kwargs):
        raise NotImplementedError(
            "ImageDataGenerator.flow_from_directory is not supported by fmnistcpp: load the "
            "images into an array (fmnistcpp.utils.image_dataset_from_directory or "
            "load_img + img_to_array) and use flow(x, y)")

    def flow_from_dataframe(self, *args, **kwargs):
        raise NotImplementedError(
            "ImageDataGenerator.flow_from_dataframe is not supported by fmnistcpp: load the "
            "images into an array (load_img + img_to_array) and use flow(x, y)")

    # --- one image, as Keras ------------------------------------------------------------
    def standardize(self, x):
        """Normalises an image or batch in place (rescale, sample- and
        featurewise centring and scaling, ZCA), as Keras's standardize."""
        if self.preprocessing_function:
            x = self.preprocessing_function(x)
        if self.rescale:
            x *= self.rescale
        if self.samplewise_center:
            x -= np.mean(x, keepdims=True)
        if self.samplewise_std_normalization:
            x /= np.std(x, keepdims=True) + 1e-6
        return self._featurewise(x)

    def _featurewise(self, x):
        for flag, stat, apply in (("featurewise_center", "mean", lambda v: v - self.mean),
                                  ("featurewise_std_normalization", "std",
                                   lambda v: v / (self.std + 1e-6)),
                                  ("zca_whitening", "zca_whitening_matrix", self._zca)):
            if getattr(self, flag):
                if getattr(self, stat) is None:
                    warnings.warn(f"This ImageDataGenerator specifies `{flag}`, but it hasn't "
                                  "been fit on any training data. Fit it first by calling "
                                  "`.fit(numpy_data)`.")
                elif flag == "zca_whitening":
                    x = apply(x)
                else:
                    x[...] = apply(x)
        return x

    def _zca(self, x):
        flat = x.reshape(-1, math.prod(x.shape[-3:]))
        return np.reshape(flat @ self.zca_whitening_matrix, x.shape)

    def get_random_transform(self, img_shape, seed=None):
        """Random parameters for one image, drawn as Keras draws them."""
        if seed is not None:
            np.random.seed(seed)
        theta = np.random.uniform(-self.rotation_range, self.rotation_range) \
            if self.rotation_range else 0
        shifts = []
        for rng, axis in ((self.height_shift_range, self.row_axis - 1),
                          (self.width_shift_range, self.col_axis - 1)):
            if not rng:
                shifts.append(0)
                continue
            try:  # a list of pixel shifts or an int: a choice, with a sign
                t = np.random.choice(rng)
                t *= np.random.choice([-1, 1])
            except ValueError:  # a float: uniform
                t = np.random.uniform(-rng, rng)
            if np.max(rng) < 1:
                t *= img_shape[axis]
            shifts.append(t)
        shear = np.random.uniform(-self.shear_range, self.shear_range) if self.shear_range else 0
        if self.zoom_range[0] == 1 and self.zoom_range[1] == 1:
            zx, zy = 1, 1
        else:
            zx, zy = np.random.uniform(self.zoom_range[0], self.zoom_range[1], 2)
        flip_h = (np.random.random() < 0.5) * self.horizontal_flip
        flip_v = (np.random.random() < 0.5) * self.vertical_flip
        shift = None if self.channel_shift_range == 0 else \
            np.random.uniform(-self.channel_shift_range, self.channel_shift_range)
        brightness = None if self.brightness_range is None else \
            np.random.uniform(self.brightness_range[0], self.brightness_range[1])
        return {"theta": theta, "tx": shifts[0], "ty": shifts[1], "shear": shear, "zx": zx,
                "zy": zy, "flip_horizontal": flip_h, "flip_vertical": flip_v,
                "channel_shift_intensity": shift, "brightness": brightness}

    def apply_transform(self, x, transform_parameters):
        """Transforms one 3-D image with the given parameters."""
        return self._transform_batch(np.array(x)[None], [transform_parameters])[0]

    def random_transform(self, x, seed=None):
        return self.apply_transform(x, self.get_random_transform(x.shape, seed))

    # --- a batch at once ------------------------------------------------------------------
    def _transform_batch(self, x, params):
        """apply_transform on every image of x (N, *image) at once."""
        r, c, ch = self.row_axis - 1, self.col_axis - 1, self.channel_axis - 1
        h, w = x.shape[1 + r], x.shape[1 + c]
        matrices = [_affine.transform_matrix(p.get("theta", 0), p.get("tx", 0), p.get("ty", 0),
                                             p.get("shear", 0), p.get("zx", 1), p.get("zy", 1),
                                             h, w) for p in params]
        x = _affine.affine_batch(x, matrices, r, c, ch, self.fill_mode, self.cval,
                                 self.interpolation_order)
        shifts = [p.get("channel_shift_intensity") for p in params]
        for i, s in enumerate(shifts):
            if s is not None:  # a Python float: the image keeps its dtype, as in Keras
                x[i] = np.clip(x[i] + s, np.min(x[i]), np.max(x[i]))
        for key, axis in (("flip_horizontal", c), ("flip_vertical", r)):
            rows = [i for i, p in enumerate(params) if p.get(key, False)]
            if rows:
                x[rows] = np.flip(x[rows], axis=1 + axis)
        if any(p.get("brightness") is not None for p in params):
            x = np.stack([x[i] if p.get("brightness") is None else
                          apply_brightness_shift(x[i], p["brightness"], False)
                          for i, p in enumerate(params)])
        return x

    def _standardize_batch(self, x):
        """standardize on every image of x at once (no preprocessing_function:
        that one sees single images)."""
        if self.rescale:
            x *= self.rescale
        flat = x.reshape(len(x), -1)
        if self.samplewise_center:
            flat -= flat.mean(axis=1, keepdims=True)
        if self.samplewise_std_normalization:
            flat /= flat.std(axis=1, keepdims=True) + 1e-6
        return self._featurewise(flat.reshape(x.shape))

    def fit(self, x, augment=False, rounds=1, seed=None):
        """Computes the featurewise mean, std and ZCA matrix of sample data
        (rank 4), after `rescale` and, with `augment`, `rounds` random
        transforms of it."""
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 4:
            raise ValueError(f"Input to `.fit()` should have rank 4. Got array with shape: "
                             f"{x.shape}")
        if x.shape[self.channel_axis] not in (1, 3, 4):
            warnings.warn(f'Expected input to be images (as Numpy array) following the data '
                          f'format convention "{self.data_format}" (channels on axis '
                          f'{self.channel_axis}), i.e. expected either 1, 3 or 4 channels on '
                          f'axis {self.channel_axis}. However, it was passed an array with '
                          f'shape {x.shape} ({x.shape[self.channel_axis]} channels).')
        if seed is not None:
            np.random.seed(seed)
        x = np.copy(x)
        if self.rescale:
            x *= self.rescale
        if augment:
            params = [self.get_random_transform(x.shape[1:]) for _ in range(rounds * len(x))]
            x = self._transform_batch(np.concatenate([x] * rounds), params).astype(self.dtype)
        shape = [1, 1, 1]
        shape[self.channel_axis - 1] = x.shape[self.channel_axis]
        if self.featurewise_center:
            self.mean = np.mean(x, axis=(0, self.row_axis, self.col_axis)).reshape(shape)
            x -= self.mean
        if self.featurewise_std_normalization:
            self.std = np.std(x, axis=(0, self.row_axis, self.col_axis)).reshape(shape)
            x /= self.std + 1e-6
        if self.zca_whitening:
            n = len(x)
            u, s, _ = np.linalg.svd(np.reshape(x, (n, -1)).T, full_matrices=False)
            self.zca_whitening_matrix = (u * (np.sqrt(n) / (s + self.zca_epsilon))).dot(u.T)


_FILL_MODES = ("constant", "nearest", "reflect", "wrap")
