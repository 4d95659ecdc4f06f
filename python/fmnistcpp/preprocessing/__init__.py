"""`fmnistcpp.preprocessing`, as `tf.keras.preprocessing`: `image` holds
the legacy ImageDataGenerator."""

from . import image

__all__ = ["image"]
