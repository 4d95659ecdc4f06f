"""`fmnistcpp.utils`, as keras.utils: to_categorical, normalize,
set_random_seed, PyDataset / Sequence, plot_model, the image helpers,
Progbar, and the engine's thread count."""

from __future__ import annotations

import random

import numpy as np

from .. import _random
from .progbar import Progbar
from .image_utils import array_to_img, img_to_array, load_img, save_img
from .model_visualization import model_to_dot, plot_model
from .py_dataset import PyDataset, Sequence


def to_categorical(x, num_classes=None):
    """One-hot encodes integer labels, as keras.utils.to_categorical.

    Args:
        x: array-like of class indices (a trailing axis of size 1 is dropped).
        num_classes: number of classes; default max(x) + 1.

    Returns:
        float32 array of shape `x.shape + (num_classes,)`.

    Example:

    >>> fmnistcpp.utils.to_categorical([0, 2], 3)
    array([[1., 0., 0.], [0., 0., 1.]], dtype=float32)
    """
    x = np.asarray(x)
    if x.size and not np.issubdtype(x.dtype, np.integer):
        if not np.all(np.isfinite(x)) or np.any(x != np.round(x)):
            raise ValueError("to_categorical expects integer class indices")
    x = x.astype(np.int64)
    if x.ndim > 1 and x.shape[-1] == 1:
        x = x.reshape(x.shape[:-1])
    if x.size and x.min() < 0:
        raise ValueError(f"to_categorical expects indices >= 0, got {x.min()}")
    if num_classes is None:
        num_classes = int(x.max()) + 1 if x.size else 0
    elif x.size and x.max() >= num_classes:
        raise ValueError(f"label {x.max()} is out of range for num_classes={num_classes}")
    out = np.zeros(x.shape + (num_classes,), dtype=np.float32)
    np.put_along_axis(out, x[..., None], 1.0, axis=-1)
    return out


def normalize(x, axis=-1, order=2):
    """x divided by its `order`-norm along `axis` (zero norms left as 1), as
    keras.utils.normalize on a NumPy array."""
    x = np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis or -1)


def image_dataset_from_directory(*args, **kwargs):
    raise NotImplementedError(
        "utils.image_dataset_from_directory is not supported by fmnistcpp (Keras's returns a "
        "tf.data.Dataset): use tf.keras.utils.image_dataset_from_directory, whose dataset "
        "fmnistcpp's fit and predict take as they are, or load the files into arrays with "
        "utils.load_img and utils.img_to_array")


def get_file(*args, **kwargs):
    raise NotImplementedError(
        "utils.get_file is not supported by fmnistcpp, which never downloads: put the file on "
        "disk and open it by path (fmnistcpp.datasets.fashion_mnist.load_data() needs no "
        "download)")


def set_random_seed(seed):
    """Seeds Python's `random`, NumPy's global generator and fmnistcpp's own
    (initial weights, shuffling, dropout masks): runs after it are
    bit-reproducible."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    _random.seed(int(seed))


def set_num_threads(n):
    """Number of threads the C++ engine (oneDNN and its own loops) uses."""
    from .. import _core

    _core.set_num_threads(int(n))


def get_num_threads() -> int:
    from .. import _core

    return int(_core.get_num_threads())


def set_adaptive_threads(enabled):
    """Whether fit/evaluate/predict run on fewer threads while other
    processes keep cores busy (default True), up to ``get_num_threads()``.

    A team that waits at every parallel region for a descheduled thread is
    many times slower than one thread on a busy machine (docs/PERFORMANCE.md,
    "Threads under load"). Where the cores are shared per thread (a busy
    process in the same session) and one thread gets clearly less than a
    core, training instead runs each thread on its own rows of the batch
    ("lanes", same section, second pass). Results can differ in the last
    bits between team sizes and lanes, and dropout masks differ on lanes,
    so a run that must repeat bit for bit on a machine whose load changes
    sets this to False."""
    from .. import _core

    if not isinstance(enabled, (bool, int)) or isinstance(enabled, float):
        raise TypeError(f"set_adaptive_threads expects True or False, got {enabled!r}")
    _core.set_adaptive_threads(bool(enabled))


def get_adaptive_threads() -> bool:
    from .. import _core

    return bool(_core.get_adaptive_threads())


__all__ = ["Progbar", "PyDataset", "Sequence", "array_to_img", "get_file",
           "image_dataset_from_directory", "img_to_array", "load_img", "model_to_dot",
           "normalize", "plot_model", "save_img", "get_adaptive_threads", "get_num_threads", "set_adaptive_threads", "set_num_threads", "set_random_seed", "to_categorical"]

# A name Keras 3 has and fmnistcpp lacks gets an error saying so.
from .. import _missing  # noqa: E402

__getattr__ = _missing.module_getattr(__name__, "utils")
