"""Datasets, shaped like `keras.datasets`.

Example:

>>> from fmnistcpp.datasets import fashion_mnist
>>> (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
"""

from . import fashion_mnist

__all__ = ["fashion_mnist"]

# A name Keras 3 has and fmnistcpp lacks gets an error saying so.
from .. import _missing  # noqa: E402

__getattr__ = _missing.module_getattr(__name__, "datasets")
