"""Keras's recurrent layers: SimpleRNN, LSTM, GRU (cpp/recurrent.hpp).

They read inputs of shape (batch, timesteps, features), as Fashion-MNIST
scripts feed images: 28 rows of 28 pixels. The arguments are checked by
the engine; what oneDNN's cells do not compute (other gate activations,
dropout inside the cell, stateful, return_state) is a NotImplementedError
naming what is supported.
"""

from __future__ import annotations

import numpy as np

from .. import activations, constraints, initializers, regularizers
from ..backend.variable import Variable
from .layer import Layer, _snake

_WEIGHTS = ("kernel", "recurrent", "bias")


class _CellVariable(Variable):
    """A recurrent layer's variable: Keras 3 keeps it on the layer's cell, so
    its path is lstm/lstm_cell/kernel (and bidirectional/forward_lstm/
    lstm_cell/kernel inside a Bidirectional)."""

    def __init__(self, handle, layer, inner=None):
        super().__init__(handle, layer)
        self._inner = inner

    @property
    def path(self) -> str:
        rnn = self._inner or self._layer
        cell = f"{_snake(type(rnn).__name__)}_cell"
        prefix = f"{self._layer.name}/{rnn.name}" if self._inner is not None else self._layer.name
        return f"{prefix}/{cell}/{self.name}"


class _Recurrent(Layer):
    _initializers = {"kernel": "kernel_initializer", "recurrent_kernel": "recurrent_initializer",
                     "bias": "_bias_init"}
    _regularizers = {"kernel": "kernel_regularizer", "recurrent_kernel": "recurrent_regularizer",
                     "bias": "bias_regularizer"}
    _constraints = {"kernel": "kernel_constraint", "recurrent_kernel": "recurrent_constraint",
                    "bias": "bias_constraint"}
    _activation_attr = "activation"

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, zero_output_for_mask=False,
                 **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        # Python-only settings, kept for the config: `seed` draws dropout masks
        # (no dropout runs here), `unroll` changes nothing in a fused primitive,
        # and without masking zero_output_for_mask has no effect.
        self.seed = seed
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self._engine_config = dict(
            units=units, activation=activations.name_of(activation), use_bias=use_bias,
            dropout=dropout, recurrent_dropout=recurrent_dropout,
            return_sequences=return_sequences, return_state=return_state,
            go_backwards=go_backwards, stateful=stateful)

    @property
    def _bias_init(self):
        return self.bias_initializer

    def get_config(self):
        config = super().get_config()
        config.update(unroll=self.unroll, zero_output_for_mask=self.zero_output_for_mask)
        config.setdefault("activity_regularizer", None)  # Keras's RNN configs list it
        for key in _WEIGHTS:
            config[f"{key}_initializer"] = initializers.serialize(
                getattr(self, f"{key}_initializer"))
            config[f"{key}_regularizer"] = regularizers.serialize(
                getattr(self, f"{key}_regularizer"))
            config[f"{key}_constraint"] = constraints.serialize(getattr(self, f"{key}_constraint"))
        return config

    def _build_for(self, shapes):
        out = super()._build_for(shapes)
        self._variables = [v if isinstance(v, _CellVariable) else _CellVariable(v._handle, self)
                           for v in self._variables]
        return out

    def _weights_subgroups(self):
        # Keras 3 keeps the variables on the layer's cell: `.keras` weight files
        # hold them under <layer>/cell/vars (saving/weights_h5.py)
        return [("cell", len(self.weights))]


class _GatedRecurrent(_Recurrent):
    """LSTM and GRU: a recurrent_activation besides the activation."""

    def _make_core(self):
        super()._make_core()
        if isinstance(getattr(self, "recurrent_activation", None), str):
            self.recurrent_activation = activations.get(self.recurrent_activation)

    def get_config(self):
        config = super().get_config()
        config["seed"] = self.seed  # Keras's LSTM and GRU list it, its SimpleRNN does not
        return config


class SimpleRNN(_Recurrent):
    """Fully connected RNN: h_t = activation(x_t @ kernel + bias + h_{t-1} @
    recurrent_kernel), from a zero state.

    Args:
        units: size of the state (and of the output).
        activation: 'tanh' (default), 'relu' or 'sigmoid'.
        use_bias, kernel/recurrent/bias initializers (glorot_uniform,
            orthogonal, zeros), regularizers and constraints: as Keras.
        return_sequences: output every step's state (batch, timesteps,
            units) instead of the last one (batch, units).
        go_backwards: read the sequence from its end (the output sequence
            is then in processing order, as Keras's).
        dropout, recurrent_dropout: only 0 (NotImplementedError otherwise).
        return_state, stateful: only False.

    Weights: kernel (features, units), recurrent_kernel (units, units),
    bias (units,).

    Example:

    >>> layer = fmnistcpp.layers.SimpleRNN(64)
    """

    _engine_kind = "SimpleRNN"


class LSTM(_GatedRecurrent):
    """Long Short-Term Memory (Hochreiter 1997), Keras 3's LSTM with the
    gates i, f, c, o.

    Args:
        units: size of the state (and of the output).
        activation: 'tanh' only; recurrent_activation: 'sigmoid' only (the
            defaults; oneDNN's cell computes them).
        unit_forget_bias: initialise the forget gate's bias to 1 (default).
        use_bias, kernel/recurrent/bias initializers (glorot_uniform,
            orthogonal, zeros), regularizers and constraints: as Keras.
        return_sequences, go_backwards: as Keras.
        dropout, recurrent_dropout: only 0; return_state, stateful: only False.

    Weights: kernel (features, 4 * units), recurrent_kernel (units,
    4 * units), bias (4 * units,).

    Example:

    >>> model = fmnistcpp.Sequential([fmnistcpp.Input((28, 28)),
    ...                               fmnistcpp.layers.LSTM(128),
    ...                               fmnistcpp.layers.Dense(10, activation="softmax")])
    """

    _engine_kind = "LSTM"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True,
                 kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False,
                 zero_output_for_mask=False, **kwargs):
        super().__init__(
            units, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
            dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
            return_sequences=return_sequences, return_state=return_state,
            go_backwards=go_backwards, stateful=stateful, unroll=unroll,
            zero_output_for_mask=zero_output_for_mask, **kwargs)
        self._engine_config["recurrent_activation"] = activations.name_of(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)

    @property
    def _bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer

        def forget_bias_one(shape, dtype=None):  # as Keras's LSTMCell.build
            units = shape[0] // 4
            init = self.bias_initializer
            return np.concatenate([np.asarray(init((units,)), np.float32),
                                   np.ones((units,), np.float32),
                                   np.asarray(init((2 * units,)), np.float32)])

        return forget_bias_one

    def get_config(self):
        config = super().get_config()
        config["unit_forget_bias"] = self.unit_forget_bias
        return config


class GRU(_GatedRecurrent):
    """Gated Recurrent Unit (Cho et al. 2014), Keras 3's GRU with the gates
    z (update), r (reset), h.

    Args:
        units: size of the state (and of the output).
        activation: 'tanh' only; recurrent_activation: 'sigmoid' only.
        reset_after: apply the reset gate after the recurrent product
            (default True, the cuDNN-compatible form with an input and a
            recurrent bias: bias shape (2, 3 * units)); False: before it,
            bias (3 * units,).
        use_bias, initializers, regularizers, constraints, return_sequences,
            go_backwards: as Keras. dropout, recurrent_dropout: only 0;
            return_state, stateful: only False.

    Weights: kernel (features, 3 * units), recurrent_kernel (units,
    3 * units), bias.

    Example:

    >>> layer = fmnistcpp.layers.GRU(64, return_sequences=True)
    """

    _engine_kind = "GRU"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False,
                 zero_output_for_mask=False, reset_after=True, **kwargs):
        super().__init__(
            units, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
            dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
            return_sequences=return_sequences, return_state=return_state,
            go_backwards=go_backwards, stateful=stateful, unroll=unroll,
            zero_output_for_mask=zero_output_for_mask, **kwargs)
        self._engine_config["recurrent_activation"] = activations.name_of(recurrent_activation)
        self._engine_config["reset_after"] = reset_after


class Bidirectional(Layer):
    """Runs a recurrent layer over the sequence forwards and backwards and
    merges the two outputs, as Keras's Bidirectional.

    Args:
        layer: an LSTM, GRU or SimpleRNN (its go_backwards must be False);
            a copy named forward_<name> runs forwards, another with
            go_backwards=True named backward_<name> backwards.
        merge_mode: 'concat' (default: the last axis doubles), 'sum', 'mul'
            or 'ave'; None (two outputs) is NotImplementedError.
        backward_layer: accepted when it is the layer's backward copy (as
            saved configs hold it); a different layer is NotImplementedError.

    Weights: the forward layer's (kernel, recurrent_kernel, bias), then the
    backward layer's, each with its own initial values.

    Example:

    >>> layer = fmnistcpp.layers.Bidirectional(fmnistcpp.layers.LSTM(64))
    """

    _engine_kind = "Bidirectional"
    _initializers = _Recurrent._initializers
    _regularizers = _Recurrent._regularizers
    _constraints = _Recurrent._constraints

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        super().__init__(**kwargs)
        from . import deserialize

        if isinstance(layer, dict):  # a saved config
            layer = deserialize(layer)
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `Bidirectional` layer with a "
                             f"`keras.layers.Layer` instance. Received: {layer}")
        if not isinstance(layer, _Recurrent):
            raise NotImplementedError(f"Bidirectional wraps LSTM, GRU or SimpleRNN in fmnistcpp, "
                                      f"got {type(layer).__name__}")
        if weights is not None:
            raise NotImplementedError("Bidirectional(weights=...) is not supported; call "
                                      "set_weights after building the layer")
        # As Keras: copies named forward_/backward_<name>, the backward one with
        # go_backwards=True, both with zero_output_for_mask = return_sequences
        config = dict(layer.get_config(), zero_output_for_mask=layer.return_sequences)
        self.forward_layer = type(layer).from_config(
            dict(config, name=f"forward_{layer.name.removeprefix('forward_')}"))
        self.backward_layer = type(layer).from_config(
            dict(config, name=f"backward_{layer.name.removeprefix('backward_')}",
                 go_backwards=True))
        if backward_layer is not None:
            if isinstance(backward_layer, dict):
                backward_layer = deserialize(backward_layer)
            def same(cfg):
                return dict(cfg, name=None, zero_output_for_mask=None)

            if type(backward_layer) is not type(layer) or \
                    same(backward_layer.get_config()) != same(self.backward_layer.get_config()):
                raise NotImplementedError(
                    "Bidirectional(backward_layer=...) is supported only as the forward layer's "
                    "copy with go_backwards=True (what Keras makes by default)")
            self.backward_layer = backward_layer  # as Keras: the given one, with its name
            backward_layer.zero_output_for_mask = layer.return_sequences
        self.merge_mode = merge_mode
        for attr in ("kernel_initializer", "recurrent_initializer", "kernel_regularizer",
                     "recurrent_regularizer", "bias_regularizer", "kernel_constraint",
                     "recurrent_constraint", "bias_constraint"):
            setattr(self, attr, getattr(layer, attr))
        self._wrapped = layer
        self._engine_config = dict(layer._engine_config, layer=type(layer).__name__,
                                   merge_mode=merge_mode)

    @property
    def _bias_init(self):
        return self._wrapped._bias_init

    def _make_core(self):
        super()._make_core()
        self.merge_mode = self._core.config()["merge_mode"]
        self.layer = self._wrapped  # the engine's "layer" is the class name; Python keeps the object

    def get_config(self):
        def spec(inner):
            return {"module": "keras.layers", "class_name": type(inner).__name__,
                    "config": inner.get_config(), "registered_name": None}

        config = {"name": self.name, "trainable": self.trainable, "dtype": "float32",
                  "merge_mode": self.merge_mode, "layer": spec(self.forward_layer),
                  "backward_layer": spec(self.backward_layer)}
        if self._input_shape_arg is not None:
            config["batch_input_shape"] = (None,) + tuple(self._input_shape_arg)
        return config

    def _build_for(self, shapes):
        out = super()._build_for(shapes)
        half = len(self._variables) // 2
        for i, v in enumerate(self._variables):  # Keras's paths name each direction's layer
            inner = self.forward_layer if i < half else self.backward_layer
            if not isinstance(v, _CellVariable):
                self._variables[i] = _CellVariable(v._handle, self, inner)
        return out

    def _weights_subgroups(self):
        # Keras 3's weight file: <layer>/forward_layer/cell/vars, <layer>/backward_layer/cell/vars
        half = len(self.weights) // 2
        return [("forward_layer/cell", half), ("backward_layer/cell", half)]
