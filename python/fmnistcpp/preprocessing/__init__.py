"""`fmnistcpp.preprocessing`, as `tf.keras.preprocessing`: `image` holds
the legacy ImageDataGenerator."""

from . import image

__all__ = ["image"]

# A name Keras 3 has and fmnistcpp lacks gets an error saying so.
from .. import _missing  # noqa: E402

__getattr__ = _missing.module_getattr(__name__, "preprocessing")
