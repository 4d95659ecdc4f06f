"""`fmnistcpp.backend`: the pieces Keras's backend gives layers and models
(variables, symbolic tensors, eager results), plus the few `keras.backend`
functions real code calls."""

from .tensor import EagerTensor, KerasTensor, Node, is_symbolic
from .variable import Variable


def clear_session(free_memory=True):
    """As keras.backend.clear_session: resets the automatic layer names
    (dense, dense_1, ... start again) and the global dtype policy; fmnistcpp keeps no global graph, and
    a model's memory goes with its last reference whatever `free_memory`."""
    from .. import dtype_policies
    from ..layers.layer import reset_names

    reset_names()
    dtype_policies._global_policy = None  # Keras's clear_session resets the global policy too


# keras.backend exports these settings too (the same functions as keras.config's).
from ..config import (epsilon, floatx, image_data_format, set_epsilon,  # noqa: E402
                      set_floatx, set_image_data_format)


def is_keras_tensor(x) -> bool:
    return isinstance(x, KerasTensor)


__all__ = ["EagerTensor", "KerasTensor", "Node", "Variable", "clear_session", "epsilon",
           "floatx", "image_data_format", "is_keras_tensor", "is_symbolic", "set_epsilon",
           "set_floatx", "set_image_data_format"]

# A name Keras 3 has and fmnistcpp lacks gets an error saying so.
from .. import _missing  # noqa: E402

__getattr__ = _missing.module_getattr(__name__, "backend")
