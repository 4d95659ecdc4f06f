"""Activations, as Keras names them. Layers hand the name to the C++ engine
(which fuses elementwise ones into the producing primitive); the functions
here are what `keras.activations.relu` & co. are, usable as layer
arguments and callable on arrays."""

from __future__ import annotations

import numpy as np

from . import _core

KNOWN = tuple(_core.activation_names())
# Names TensorFlow's own functions carry, which code passes without thinking
# (tf.nn.softmax is softmax_v2).
_ALIASES = {"softmax_v2": "softmax", "None": "linear"}


def name_of(identifier) -> str:
    """The canonical name of an activation given as a string, None, or a
    function (keras.activations.relu, tf.nn.relu, ...)."""
    if identifier is None:
        return "linear"
    if callable(identifier):
        identifier = getattr(identifier, "__name__", None)
    if isinstance(identifier, str):
        identifier = _ALIASES.get(identifier, identifier)
        if identifier in KNOWN:
            return identifier
    raise ValueError(
        f"Unknown activation {identifier!r}. Known activations: {', '.join(KNOWN)}."
    )


def get(identifier):
    """The activation function for an identifier, as keras.activations.get."""
    return globals()[name_of(identifier)]


def serialize(activation) -> str:
    return name_of(activation)


def linear(x):
    return np.asarray(x, dtype=np.float32)


def relu(x):
    return np.maximum(np.asarray(x, dtype=np.float32), np.float32(0))


def sigmoid(x):
    x = np.asarray(x, dtype=np.float32)
    return (1 / (1 + np.exp(-x))).astype(np.float32)


def tanh(x):
    return np.tanh(np.asarray(x, dtype=np.float32))


def softmax(x, axis=-1):
    x = np.asarray(x, dtype=np.float32)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return (e / e.sum(axis=axis, keepdims=True)).astype(np.float32)
