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
from .layer import Layer

_WEIGHTS = ("kernel", "recurrent", "bias")


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

    # Keras 3 keeps the variables on the layer's cell: `.keras` weight files
    # hold them under <layer>/cell/vars (saving/weights_h5.py).
    _weights_subgroup = "cell"


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
