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


def floatx() -> str:
    return "float32"


def image_data_format() -> str:
    return "channels_last"


__all__ = ["EagerTensor", "KerasTensor", "Node", "Variable", "clear_session", "floatx",
           "image_data_format", "is_symbolic"]
