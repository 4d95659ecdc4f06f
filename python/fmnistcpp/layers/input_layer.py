"""Input: declares a model's per-sample input shape."""

from __future__ import annotations

from .layer import Layer, _check_shape


class InputLayer(Layer):
    """Holds the input shape of a Sequential model; computes nothing.

    Args:
        shape: per-sample shape, e.g. `(28, 28, 1)` (no batch axis).

    Example:

    >>> model = fmnistcpp.Sequential([fmnistcpp.Input((28, 28)), fmnistcpp.layers.Flatten()])
    """

    def __init__(self, shape=None, batch_size=None, name=None, input_shape=None, **kwargs):
        shape = shape if shape is not None else input_shape
        if shape is None:
            raise ValueError("Input needs a shape, e.g. Input(shape=(28, 28, 1))")
        super().__init__(name=name, **kwargs)
        self.shape = _check_shape(shape)
        self._input_shape_arg = self.shape
        self.build(self.shape)

    def get_config(self):
        return {"name": self.name, "batch_shape": (None,) + self.shape, "dtype": "float32"}

    @classmethod
    def from_config(cls, config):
        shape = config.get("batch_shape") or config.get("batch_input_shape")
        return cls(shape=tuple(shape)[1:], name=config.get("name"))


def Input(shape=None, batch_size=None, name=None, dtype=None, **kwargs):
    """Keras's `Input(shape)`: in a Sequential it fixes the input shape."""
    if dtype not in (None, "float32"):
        raise NotImplementedError(f"Input dtype={dtype!r}: only float32 is supported")
    return InputLayer(shape=shape, batch_size=batch_size, name=name, **kwargs)
