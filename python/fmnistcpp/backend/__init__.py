"""`fmnistcpp.backend`: the pieces Keras's backend gives layers and models
(variables, symbolic tensors, eager results), plus the few `keras.backend`
functions real code calls."""

from .tensor import EagerTensor, KerasTensor, Node, is_symbolic
from .variable import Variable


def clear_session(free_memory=True):
    """As keras.backend.clear_session: resets the automatic layer names
    (dense, dense_1, ... start again); fmnistcpp keeps no global graph, and
    a model's memory goes with its last reference whatever `free_memory`."""
    from ..layers.layer import reset_names

    reset_names()


def floatx() -> str:
    return "float32"


def image_data_format() -> str:
    return "channels_last"


__all__ = ["EagerTensor", "KerasTensor", "Node", "Variable", "clear_session", "floatx",
           "image_data_format", "is_symbolic"]

# A name Keras 3 has and fmnistcpp lacks gets an error saying so.
from .. import _missing  # noqa: E402

__getattr__ = _missing.module_getattr(__name__, "backend")
