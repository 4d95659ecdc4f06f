"""Keras's merge layers (Add, Subtract, Multiply, Average, Maximum,
Minimum, Concatenate) and their functional forms (`layers.add([a, b])`).
They take a list of tensors; shapes are checked by the engine
(cpp/merge.cpp)."""

from __future__ import annotations

from .layer import Layer


class _Merge(Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._engine_config = {}


class Add(_Merge):
    """inputs[0] + inputs[1] + ..."""
    _engine_kind = "Add"


class Subtract(_Merge):
    """inputs[0] - inputs[1] (exactly two inputs)."""
    _engine_kind = "Subtract"


class Multiply(_Merge):
    """The elementwise product of the inputs."""
    _engine_kind = "Multiply"


class Average(_Merge):
    """The elementwise mean of the inputs."""
    _engine_kind = "Average"


class Maximum(_Merge):
    """The elementwise maximum of the inputs."""
    _engine_kind = "Maximum"


class Minimum(_Merge):
    """The elementwise minimum of the inputs."""
    _engine_kind = "Minimum"


class Concatenate(Layer):
    """Joins the inputs along `axis` (-1, the channels, by default)."""

    _engine_kind = "Concatenate"

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self._engine_config = dict(axis=axis)


def add(inputs, **kwargs):
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)
