"""Input: a model's symbolic input (Keras's `keras.Input` / `InputLayer`)."""

from __future__ import annotations

from ..backend.tensor import KerasTensor, Node
from .layer import Layer, check_shape


class InputLayer(Layer):
    """Holds a model input's per-sample shape and its symbolic tensor;
    computes nothing.

    Args:
        shape: per-sample shape, e.g. `(28, 28, 1)` (no batch axis).
        batch_shape: the same with the batch axis first, as Keras saves it.
    """

    def __init__(self, shape=None, batch_size=None, name=None, input_shape=None,
                 batch_shape=None, dtype=None, sparse=None, ragged=None, optional=False,
                 input_tensor=None, **kwargs):
        if batch_shape is not None and shape is None:
            shape = tuple(batch_shape)[1:]
        shape = shape if shape is not None else input_shape
        if shape is None:
            raise ValueError("Input needs a shape, e.g. Input(shape=(28, 28, 1))")
        if sparse or ragged:
            raise NotImplementedError("sparse or ragged inputs are not supported")
        if input_tensor is not None:
            raise NotImplementedError("InputLayer(input_tensor=...) is not supported")
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.shape = check_shape(shape)
        self.batch_shape = (None,) + self.shape
        self._input_shape_arg = self.shape
        self.built = True
        self._built_shapes = [self.shape]
        self.output_tensor = KerasTensor(self.batch_shape, name=self.name)
        Node(self, [], [self.output_tensor])

    def get_config(self):
        return {"batch_shape": self.batch_shape, "dtype": "float32", "sparse": False,
                "ragged": False, "name": self.name, "optional": False}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        shape = config.pop("batch_shape", None) or config.pop("batch_input_shape", None)
        return cls(batch_shape=shape, name=config.get("name"))

    def get_build_config(self):
        return None


def Input(shape=None, batch_size=None, name=None, dtype=None, sparse=None, batch_shape=None,
          tensor=None, optional=False, **kwargs):
    """Keras's `Input(shape)`: a symbolic tensor to build a model from (and,
    first in a Sequential, its input shape)."""
    layer = InputLayer(shape=shape, batch_size=batch_size, name=name, dtype=dtype, sparse=sparse,
                       batch_shape=batch_shape, input_tensor=tensor, **kwargs)
    return layer.output_tensor
