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


def model_from_json(json_string, custom_objects=None):
    """A new, unbuilt-weights model from the JSON of `Model.to_json` (ours or
    Keras 3's)."""
    import json

    from ..saving import serialization

    try:
        spec = json.loads(json_string)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"model_from_json expects the JSON text of model.to_json() ({exc})") \
            from exc
    return serialization.model_from_keras(spec, where="the JSON")


__all__ = ["Functional", "Model", "Sequential", "load_model", "model_from_json"]
