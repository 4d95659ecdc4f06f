"""`fmnistcpp.preprocessing.image`: Keras's legacy ImageDataGenerator
(keras/src/legacy/preprocessing/image.py, what `tf.keras.preprocessing.image`
gives), with the same random draws and the same pixels for the same
parameters, but each batch transformed at once: one
`scipy.ndimage.map_coordinates` call interpolates every image of the batch
(SciPy is already installed as scikit-learn's dependency), flips and
normalisation are array operations. Random parameters are drawn per
sample from NumPy's global generator in Keras's order, so `flow(seed=...)`
gives Keras's batches."""

from __future__ import annotations

import threading
import warnings

import numpy as np

from ..utils.image_utils import array_to_img, img_to_array, load_img, save_img
from ..utils.py_dataset import PyDataset


class Iterator(PyDataset):
    """Batches of `n` samples: `__getitem__` (a PyDataset, as fit reads it)
    and `next()` (endless, as Keras 2 code loops over it)."""

    white_list_formats = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")

    def __init__(self, n, batch_size, shuffle, seed, **kwargs):
        super().__init__(**kwargs)
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.n, self.batch_size, self.seed, self.shuffle = n, int(batch_size), seed, shuffle
        self.batch_index = 0
        self.total_batches_seen = 0
        self.lock = threading.Lock()
        self.index_array = None
        self.index_generator = self._flow_index()

    def _set_index_array(self):
        self.index_array = np.random.permutation(self.n) if self.shuffle else np.arange(self.n)

    def __getitem__(self, idx):
        if idx >= len(self):
            raise ValueError(f"Asked to retrieve element {idx}, but the Sequence has length "
                             f"{len(self)}")
        if self.seed is not None:
            np.random.seed(self.seed + self.total_batches_seen)
        self.total_batches_seen += 1
        if self.index_array is None:
            self._set_index_array()
        rows = self.index_array[self.batch_size * idx:self.batch_size * (idx + 1)]
        return self._get_batches_of_transformed_samples(rows)

    def __len__(self):
        return (self.n + self.batch_size - 1) // self.batch_size

    def on_epoch_end(self):
        self._set_index_array()

    def reset(self):
        self.batch_index = 0

    def _flow_index(self):
        self.reset()
        while True:
            if self.seed is not None:
                np.random.seed(self.seed + self.total_batches_seen)
            if self.batch_index == 0:
                self._set_index_array()
            start = (self.batch_index * self.batch_size) % self.n if self.n else 0
            self.batch_index = self.batch_index + 1 if self.n > start + self.batch_size else 0
            self.total_batches_seen += 1
            yield self.index_array[start:start + self.batch_size]

    def __iter__(self):
        return self

    def __next__(self):
        with self.lock:
            rows = next(self.index_generator)
        return self._get_batches_of_transformed_samples(rows)

    def _get_batches_of_transformed_samples(self, index_array):
        raise NotImplementedError


class NumpyArrayIterator(Iterator):
    """The iterator `ImageDataGenerator.flow` returns."""

    def __init__(self, x, y, image_data_generator, batch_size=32, shuffle=False,
                 sample_weight=None, seed=None, data_format=None, save_to_dir=None,
                 save_prefix="", save_format="png", subset=None, ignore_class_split=False,
                 dtype=None):
        self.dtype = dtype or "float32"
        x_misc = []
        if isinstance(x, (tuple, list)):
            x_misc = [np.asarray(a) for a in (x[1] if isinstance(x[1], list) else [x[1]])]
            x = x[0]
            for a in x_misc:
                if len(x) != len(a):
                    raise ValueError("All of the arrays in `x` should have the same length. "
                                     f"Found a pair with: len(x[0]) = {len(x)}, "
                                     f"len(x[?]) = {len(a)}")
        if y is not None and len(x) != len(y):
            raise ValueError("`x` (images tensor) and `y` (labels) should have the same length. "
                             f"Found: x.shape = {np.asarray(x).shape}, "
                             f"y.shape = {np.asarray(y).shape}")
        if sample_weight is not None and len(x) != len(sample_weight):
            raise ValueError("`x` (images tensor) and `sample_weight` should have the same "
                             f"length. Found: x.shape = {np.asarray(x).shape}, "
                             f"sample_weight.shape = {np.asarray(sample_weight).shape}")
        if subset is not None:
            if subset not in ("training", "validation"):
                raise ValueError(f'Invalid subset name: {subset}; expected "training" or '
                                 '"validation".')
            # Keras: the validation subset is the FIRST fraction.
            at = int(len(x) * image_data_generator._validation_split)
            if y is not None and not ignore_class_split and not np.array_equal(
                    np.unique(y[:at]), np.unique(y[at:])):
                raise ValueError("Training and validation subsets have different number of "
                                 "classes after the split. If your numpy arrays are sorted by "
                                 "the label, you might want to shuffle them.")
            part = slice(None, at) if subset == "validation" else slice(at, None)
            x, x_misc = x[part], [a[part] for a in x_misc]
            y = None if y is None else y[part]
            sample_weight = None if sample_weight is None else sample_weight[part]
        self.x = np.asarray(x, dtype=self.dtype)
        self.x_misc = x_misc
        if self.x.ndim != 4:
            raise ValueError("Input data in `NumpyArrayIterator` should have rank 4. You passed "
                             f"an array with shape {self.x.shape}")
        self.data_format = data_format or "channels_last"
        axis = 3 if self.data_format == "channels_last" else 1
        if self.x.shape[axis] not in (1, 3, 4):
            warnings.warn(f'NumpyArrayIterator is set to use the data format convention '
                          f'"{self.data_format}" (channels on axis {axis}), i.e. expected '
                          f'either 1, 3, or 4 channels on axis {axis}. However, it was passed '
                          f'an array with shape {self.x.shape} ({self.x.shape[axis]} channels).')
        self.y = None if y is None else np.asarray(y)
        self.sample_weight = None if sample_weight is None else np.asarray(sample_weight)
        self.image_data_generator = image_data_generator
        self.save_to_dir, self.save_prefix, self.save_format = save_to_dir, save_prefix, save_format
        super().__init__(self.x.shape[0], batch_size, shuffle, seed)

    def _get_batches_of_transformed_samples(self, index_array):
        gen = self.image_data_generator
        batch = self.x[index_array].astype(self.dtype, copy=True)
        if gen.preprocessing_function is not None or gen.brightness_range is not None:
            # A preprocessing_function sees one image at a time and may draw
            # random numbers itself; the brightness shift goes through Pillow
            # image by image and sets each image's dtype: keep Keras's order.
            for i in range(len(batch)):
                params = gen.get_random_transform(batch[i].shape)
                batch[i] = gen.standardize(gen.apply_transform(batch[i], params))
        else:
            params = [gen.get_random_transform(batch.shape[1:]) for _ in range(len(batch))]
            batch = gen._standardize_batch(gen._transform_batch(batch, params))
            batch = batch.astype(self.dtype, copy=False)  # Keras stores into a float32 batch
        if self.save_to_dir:
            import os

            for i, j in enumerate(index_array):
                name = f"{self.save_prefix}_{j}_{np.random.randint(1e4)}.{self.save_format}"
                array_to_img(batch[i], self.data_format, scale=True).save(
                    os.path.join(self.save_to_dir, name))
        misc = [a[index_array] for a in self.x_misc]
        out = (batch if not misc else [batch] + misc,)
        if self.y is None:
            return out[0]
        out += (self.y[index_array],)
        if self.sample_weight is not None:
            out += (self.sample_weight[index_array],)
        return out


from ._image_generator import ImageDataGenerator, apply_affine_transform  # noqa: E402
from ._image_generator import (apply_brightness_shift, apply_channel_shift,  # noqa: E402
                               random_brightness, random_channel_shift, random_rotation,
                               random_shear, random_shift, random_zoom)

__all__ = [
    "ImageDataGenerator", "Iterator", "NumpyArrayIterator", "apply_affine_transform",
    "apply_brightness_shift", "apply_channel_shift", "array_to_img", "img_to_array",
    "load_img", "random_brightness", "random_channel_shift", "random_rotation", "random_shear",
    "random_shift", "random_zoom", "save_img",
]

# A name Keras 3 has and fmnistcpp lacks gets an error saying so.
from .. import _missing  # noqa: E402

__getattr__ = _missing.module_getattr(__name__, "preprocessing.image")
