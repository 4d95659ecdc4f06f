"""Convolutions: Conv2D, Conv1D, DepthwiseConv2D, SeparableConv2D and
Conv2DTranspose. Their shape rules, padding and argument checks are the
engine's (cpp/conv2d.cpp, conv1d.cpp, depthwise_conv2d.cpp,
separable_conv2d.cpp, conv2d_transpose.cpp); Python keeps what only Python
knows: each weight's initializer, regularizer and constraint."""

from __future__ import annotations

from .. import activations, constraints, initializers, regularizers
from .layer import Layer, reject_unsupported


class _Conv(Layer):
    """What the convolutions share: for each variable, the prefix of its
    Keras arguments (`kernel` -> kernel_initializer, kernel_regularizer,
    kernel_constraint), so the tables `Layer` reads are derived once."""

    _prefixes: dict = {"kernel": "kernel", "bias": "bias"}  # variable -> argument prefix
    _activation_attr = "activation"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._initializers = {v: f"{p}_initializer" for v, p in cls._prefixes.items()}
        cls._regularizers = {v: f"{p}_regularizer" for v, p in cls._prefixes.items()}
        cls._constraints = {v: f"{p}_constraint" for v, p in cls._prefixes.items()}

    def _weight_arguments(self, arguments: dict) -> None:
        """Keeps the initializers, regularizers and constraints of `arguments`
        (a subclass's __init__ locals)."""
        for prefix in self._prefixes.values():
            for suffix, module in (("initializer", initializers), ("regularizer", regularizers),
                                   ("constraint", constraints)):
                name = f"{prefix}_{suffix}"
                setattr(self, name, module.get(arguments[name]))

    def get_config(self):
        config = super().get_config()
        config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        for prefix in self._prefixes.values():
            for suffix, module in (("initializer", initializers), ("regularizer", regularizers),
                                   ("constraint", constraints)):
                name = f"{prefix}_{suffix}"
                config[name] = module.serialize(getattr(self, name))
        return config


class Conv2D(_Conv):
    """2-D convolution layer.

    Args:
        filters: number of output channels.
        kernel_size: int or (height, width).
        strides: int or (height, width), default 1.
        padding: 'valid' (default) or 'same' (Keras's split: the extra
            row/column of padding goes after).
        data_format: 'channels_last' (default) or 'channels_first'.
        dilation_rate: int or (height, width); not with strides > 1.
        groups: the input channels and filters split into this many
            groups, each convolved separately.
        activation: an activation name or function.
        use_bias: whether to add a bias per filter.
        kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, kernel_constraint, bias_constraint,
        activity_regularizer: as Dense.

    Input shape: `(batch, height, width, channels)`. Output shape:
    `(batch, new_height, new_width, filters)`. Weights: kernel
    `(kh, kw, channels / groups, filters)`, bias `(filters,)`.

    Example:

    >>> layer = fmnistcpp.layers.Conv2D(8, 3, activation="relu", input_shape=(28, 28, 1))
    """

    _engine_kind = "Conv2D"

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, lora_alpha=None,
                 **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        reject_unsupported("Conv2D", lora_rank=lora_rank, lora_alpha=lora_alpha)
        self._weight_arguments(locals())
        self._engine_config = dict(
            filters=filters, kernel_size=kernel_size, strides=strides, padding=padding,
            data_format=data_format, dilation_rate=dilation_rate, groups=groups,
            activation=activations.name_of(activation), use_bias=use_bias)


class Conv1D(_Conv):
    """1-D convolution over `(batch, steps, channels)`, e.g. an image's rows
    as a sequence. Arguments as Conv2D with one-element sizes; `padding`
    may also be 'causal' (all padding before the first step, so no output
    sees a later step). Weights: kernel `(k, channels / groups, filters)`,
    bias `(filters,)`.

    >>> layer = fmnistcpp.layers.Conv1D(16, 5, activation="relu", input_shape=(28, 28))
    """

    _engine_kind = "Conv1D"

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, lora_alpha=None,
                 **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        reject_unsupported("Conv1D", lora_rank=lora_rank, lora_alpha=lora_alpha)
        self._weight_arguments(locals())
        self._engine_config = dict(
            filters=filters, kernel_size=kernel_size, strides=strides, padding=padding,
            data_format=data_format, dilation_rate=dilation_rate, groups=groups,
            activation=activations.name_of(activation), use_bias=use_bias)


class DepthwiseConv2D(_Conv):
    """Depthwise 2-D convolution: each input channel convolved with its own
    `depth_multiplier` filters (no mixing between channels).

    Args:
        kernel_size, strides, padding, data_format, dilation_rate,
        activation, use_bias: as Conv2D (strides > 1 may be combined with
            dilation_rate > 1, as in Keras).
        depth_multiplier: filters per input channel (default 1).
        depthwise_initializer, depthwise_regularizer,
        depthwise_constraint: for the kernel; bias_*: for the bias.

    Output channels: `channels * depth_multiplier`. Weights (Keras's
    names): kernel `(kh, kw, channels, depth_multiplier)`, bias
    `(channels * depth_multiplier,)`.

    >>> layer = fmnistcpp.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same")
    """

    _engine_kind = "DepthwiseConv2D"
    _prefixes = {"kernel": "depthwise", "bias": "bias"}

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self._weight_arguments(locals())
        self._engine_config = dict(
            kernel_size=kernel_size, strides=strides, padding=padding,
            depth_multiplier=depth_multiplier, data_format=data_format,
            dilation_rate=dilation_rate, activation=activations.name_of(activation),
            use_bias=use_bias)


class SeparableConv2D(_Conv):
    """Depthwise-separable 2-D convolution: a depthwise convolution (each
    channel with `depth_multiplier` filters of its own), then a 1x1
    convolution to `filters` channels, then bias and activation.

    Args:
        filters, kernel_size, strides, padding, data_format, dilation_rate,
        activation, use_bias: as Conv2D (strides > 1 may be combined with
            dilation_rate > 1, as in Keras).
        depth_multiplier: depthwise filters per input channel (default 1).
        depthwise_*, pointwise_*, bias_*: initializer, regularizer and
            constraint of each weight.

    Weights, in Keras's order: depthwise_kernel `(kh, kw, channels,
    depth_multiplier)`, pointwise_kernel `(1, 1, channels *
    depth_multiplier, filters)`, bias `(filters,)`.

    >>> layer = fmnistcpp.layers.SeparableConv2D(32, 3, activation="relu", padding="same")
    """

    _engine_kind = "SeparableConv2D"
    _prefixes = {"depthwise_kernel": "depthwise", "pointwise_kernel": "pointwise",
                 "bias": "bias"}

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self._weight_arguments(locals())
        self._engine_config = dict(
            filters=filters, kernel_size=kernel_size, strides=strides, padding=padding,
            data_format=data_format, dilation_rate=dilation_rate,
            depth_multiplier=depth_multiplier, activation=activations.name_of(activation),
            use_bias=use_bias)


class Conv2DTranspose(_Conv):
    """Transposed 2-D convolution (the gradient of a Conv2D with respect to
    its input), which enlarges the image, e.g. in a decoder.

    Args:
        filters, kernel_size, strides, padding, data_format, dilation_rate,
        activation, use_bias, kernel_*, bias_*: as Conv2D (no groups).
        output_padding: None, or an int / (height, width) each smaller
            than its stride: extra rows/columns at the end of the output.

    Output size per axis (k the kernel size after dilation): 'valid':
    `(in - 1) * stride + k + output_padding` (None: `max(k, stride) - k`);
    'same': `in * stride` (None) or `(in - 1) * stride + k % 2 +
    output_padding`, as Keras on TensorFlow. Weights: kernel `(kh, kw,
    filters, channels)`, bias `(filters,)`.

    >>> layer = fmnistcpp.layers.Conv2DTranspose(16, 3, strides=2, padding="same")
    """

    _engine_kind = "Conv2DTranspose"

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 output_padding=None, data_format=None, dilation_rate=(1, 1), activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self._weight_arguments(locals())
        self._engine_config = dict(
            filters=filters, kernel_size=kernel_size, strides=strides, padding=padding,
            output_padding=output_padding, data_format=data_format,
            dilation_rate=dilation_rate, activation=activations.name_of(activation),
            use_bias=use_bias)


Convolution2D = Conv2D
Convolution1D = Conv1D
Convolution2DTranspose = Conv2DTranspose
SeparableConvolution2D = SeparableConv2D
