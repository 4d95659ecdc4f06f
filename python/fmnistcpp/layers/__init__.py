"""Layers with Keras's names and arguments (`fmnistcpp.layers`)."""

from .activation import Activation
from .average_pooling2d import AveragePooling2D, AvgPool2D
from .batch_normalization import BatchNormalization
from .conv2d import Conv2D
from .dense import Dense
from .dropout import Dropout
from .flatten import Flatten
from .global_average_pooling2d import GlobalAveragePooling2D, GlobalAvgPool2D
from .input_layer import Input, InputLayer
from .layer import Layer
from .max_pooling2d import MaxPool2D, MaxPooling2D
from .reshape import Reshape
from .softmax import ReLU, Softmax

Convolution2D = Conv2D

_BY_NAME = {
    cls.__name__: cls
    for cls in (Activation, AveragePooling2D, BatchNormalization, Conv2D, Dense, Dropout, Flatten,
                GlobalAveragePooling2D, InputLayer, MaxPooling2D, Reshape, ReLU, Softmax)
}


def deserialize(config: dict):
    """Builds a layer from {'class_name': ..., 'config': {...}}."""
    name = config.get("class_name")
    if name not in _BY_NAME:
        raise ValueError(f"Unknown layer {name!r}; known layers: {', '.join(sorted(_BY_NAME))}")
    return _BY_NAME[name].from_config(dict(config.get("config", {})))


def serialize(layer) -> dict:
    return {"class_name": type(layer).__name__, "config": layer.get_config()}
