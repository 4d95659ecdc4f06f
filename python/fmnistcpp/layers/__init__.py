"""Layers with Keras's names and arguments (`fmnistcpp.layers`)."""

from .activation import ELU, PReLU, Activation, LeakyReLU, ReLU, Softmax
from .augmentation import (RandomContrast, RandomFlip, RandomRotation, RandomTranslation,
                           RandomZoom)
from .batch_normalization import BatchNormalization
from .conv2d import (Conv1D, Conv2D, Conv2DTranspose, Convolution1D, Convolution2D,
                     Convolution2DTranspose, DepthwiseConv2D, SeparableConv2D,
                     SeparableConvolution2D)
from .dense import Dense
from .dropout import Dropout
from .input_layer import Input, InputLayer
from .layer import Layer
from .layer_normalization import LayerNormalization
from .merging import (Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract, add,
                      average, concatenate, maximum, minimum, multiply, subtract)
from .noise import AlphaDropout, GaussianDropout, GaussianNoise, SpatialDropout2D
from .pooling import (AveragePooling1D, AveragePooling2D, AvgPool1D, AvgPool2D,
                      GlobalAveragePooling2D, GlobalAvgPool2D, GlobalMaxPool2D,
                      GlobalMaxPooling2D, MaxPool1D, MaxPool2D, MaxPooling1D, MaxPooling2D)
from .preprocessing import Normalization, Rescaling
from .recurrent import GRU, LSTM, Bidirectional, SimpleRNN
from .reshaping import Flatten, Reshape
from .reshaping2d import Cropping2D, UpSampling2D, ZeroPadding2D

# Every class a saved config may name, by Keras's class name (aliases
# included, as Keras registers them).
_BY_NAME = {
    cls.__name__: cls
    for cls in (Activation, Add, Average, AveragePooling2D, BatchNormalization, Concatenate,
                Conv2D, Dense, Dropout, Flatten, GlobalAveragePooling2D, InputLayer, Maximum,
                MaxPooling2D, Minimum, Multiply, ReLU, Reshape, Softmax, Subtract)
}
_BY_NAME.update({cls.__name__: cls for cls in (
    AlphaDropout, GaussianDropout, GaussianNoise, LayerNormalization, Normalization, RandomContrast,
    RandomFlip, RandomRotation, RandomTranslation, RandomZoom, Rescaling, SpatialDropout2D)})
# conv-layers: convolutions, padding / cropping / upsampling, more pooling
_BY_NAME.update({cls.__name__: cls for cls in (
    AveragePooling1D, Conv1D, Conv2DTranspose, Cropping2D, DepthwiseConv2D, GlobalMaxPooling2D,
    MaxPooling1D, SeparableConv2D, UpSampling2D, ZeroPadding2D)})
_BY_NAME.update(Convolution1D=Conv1D, Convolution2DTranspose=Conv2DTranspose,
                SeparableConvolution2D=SeparableConv2D, GlobalMaxPool2D=GlobalMaxPooling2D,
                MaxPool1D=MaxPooling1D, AvgPool1D=AveragePooling1D)
_BY_NAME.update({cls.__name__: cls for cls in (ELU, LeakyReLU, PReLU)})
_BY_NAME.update({cls.__name__: cls for cls in (Bidirectional, GRU, LSTM, SimpleRNN)})  # recurrent
_BY_NAME.update(MaxPool2D=MaxPooling2D, AvgPool2D=AveragePooling2D, Convolution2D=Conv2D,
                GlobalAvgPool2D=GlobalAveragePooling2D)


def deserialize(config: dict, custom_objects=None):
    """A layer from {'class_name': ..., 'config': {...}}."""
    name = config.get("class_name")
    if name not in _BY_NAME:
        raise ValueError(f"Unknown layer {name!r}; known layers: {', '.join(sorted(_BY_NAME))}")
    return _BY_NAME[name].from_config(dict(config.get("config", {})))


def serialize(layer) -> dict:
    return {"class_name": type(layer).__name__, "config": layer.get_config()}

# A name Keras 3 has and fmnistcpp lacks gets an error saying so.
from .. import _missing  # noqa: E402

__getattr__ = _missing.module_getattr(__name__, "layers")
