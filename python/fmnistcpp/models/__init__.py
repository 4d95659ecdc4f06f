"""`fmnistcpp.models`, as keras.models."""

from .sequential import Sequential

Model = Sequential


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    raise NotImplementedError(
        "load_model (the Keras .keras / .h5 formats) is not available yet"
    )


__all__ = ["Model", "Sequential", "load_model"]
