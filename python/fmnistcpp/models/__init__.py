"""`fmnistcpp.models`, as keras.models."""

from ..saving.serialization import register_model_class
from .model import Functional, Model
from .sequential import Sequential

register_model_class("Sequential", Sequential)
register_model_class("Functional", Functional)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model from a `.keras` file (written here or by Keras 3) or a
    legacy Keras `.h5` file; compiled as saved when `compile=True`."""
    from ..saving import load_model as _load_model

    return _load_model(filepath, custom_objects=custom_objects, compile=compile,
                       safe_mode=safe_mode)


__all__ = ["Functional", "Model", "Sequential", "load_model"]
