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


def clone_model(model, input_tensors=None, clone_function=None, call_function=None,
                recursive=False, **kwargs):
    """A new model of the same architecture with new layers and freshly
    initialised weights (copy them with `set_weights`), as Keras's."""
    from ..saving import serialization

    if input_tensors is not None or clone_function is not None or call_function is not None \
            or kwargs:
        raise NotImplementedError(
            "clone_model with input_tensors, clone_function or call_function is not supported: "
            "clone the model, then build the changed model from its layers' configs")
    if not isinstance(model, Model):
        raise ValueError(f"clone_model expects a fmnistcpp model, got {type(model).__name__}")
    if type(model).get_config is not Model.get_config and \
            type(model).get_config is not Sequential.get_config:
        # A subclassed model with its own config: its class rebuilds it, as in Keras.
        return type(model).from_config(model.get_config())
    if not model.built:
        raise ValueError(f"model {model.name!r} is not built yet: build it (or give it an "
                         "Input) before cloning")
    # Sequential, functional, or subclassed without a config of its own: the
    # architecture it traced to (as pickle keeps it).
    return serialization.model_from_keras(serialization.model_to_keras(model),
                                          where="clone_model")


__all__ = ["Functional", "Model", "Sequential", "clone_model", "load_model", "model_from_json"]

# A name Keras 3 has and fmnistcpp lacks gets an error saying so.
from .. import _missing  # noqa: E402

__getattr__ = _missing.module_getattr(__name__, "models")
