"""The base class of fmnistcpp's layers.

A layer here is a description plus its weights: Python checks arguments,
computes shapes, makes initial weights in `build` (as Keras does) and
round-trips its config; the numbers are computed by the C++ network the
owning model builds from the layers (`_add_to_network`). Once a layer
belongs to a built model its weights live in C++, and `get_weights` /
`set_weights` read and write them there.
"""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np

_name_counts: defaultdict = defaultdict(int)


def _snake(name: str) -> str:
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    s = re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()
    return s.replace("2_d", "2d")


def unique_name(base: str) -> str:
    """Keras's naming: dense, dense_1, dense_2, ..."""
    n = _name_counts[base]
    _name_counts[base] += 1
    return base if n == 0 else f"{base}_{n}"


def check_positive_int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def normalize_tuple(value, what: str, n: int = 2) -> tuple:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value,) * n
    try:
        value = tuple(value)
    except TypeError:
        raise ValueError(f"{what} must be an int or a tuple of {n} ints, got {value!r}") from None
    if len(value) != n:
        raise ValueError(f"{what} must be an int or a tuple of {n} ints, got {value!r}")
    return tuple(check_positive_int(v, what) for v in value)


def reject_unsupported(layer: str, **arguments) -> None:
    """NotImplementedError for Keras arguments we accept by name but do not
    implement yet (regularizers, constraints), when they are set."""
    for arg, value in arguments.items():
        if value is not None:
            raise NotImplementedError(f"{layer}({arg}=...) is not supported yet")


def window_output_shape(layer: str, input_shape, window, strides, padding, channels) -> tuple:
    """Keras's output shape of a 2-D window op (convolution or pooling):
    ceil(size / stride) with 'same', (size - window) // stride + 1 with
    'valid'. Mirrors window_geometry in cpp/conv2d.cpp."""
    if len(input_shape) != 3:
        raise ValueError(
            f"{layer} expects inputs of shape (height, width, channels), got {tuple(input_shape)}"
        )
    out = []
    for size, k, s in zip(input_shape[:2], window, strides):
        n = -(-size // s) if padding == "same" else (size - k) // s + 1
        if n <= 0:
            raise ValueError(
                f"{layer} window {tuple(window)} is larger than its input {tuple(input_shape)} "
                "with padding='valid'"
            )
        out.append(n)
    return (out[0], out[1], channels)


def normalize_padding(padding) -> str:
    p = str(padding).lower()
    if p not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    return p


class Layer:
    """Base layer.

    Args:
        name: the layer's name; unique names are generated from the class.
        input_shape: per-sample input shape, accepted on a model's first
            layer as in Keras (same as putting `Input(shape)` first).
        trainable: only True is supported.
        dtype: only float32 is supported.
    """

    def __init__(self, name=None, input_shape=None, trainable=True, dtype=None, **kwargs):
        batch_input_shape = kwargs.pop("batch_input_shape", None)
        if kwargs:
            raise TypeError(
                f"{type(self).__name__} got unexpected keyword argument(s): "
                f"{', '.join(sorted(kwargs))}"
            )
        if not trainable:
            raise NotImplementedError("trainable=False (frozen layers) is not supported yet")
        if dtype not in (None, "float32", np.float32):
            raise NotImplementedError(f"dtype={dtype!r}: only float32 is supported")
        if batch_input_shape is not None and input_shape is None:
            input_shape = tuple(batch_input_shape)[1:]
        self.name = name or unique_name(_snake(type(self).__name__))
        self.trainable = True
        self.built = False
        self._input_shape_arg = _check_shape(input_shape) if input_shape is not None else None
        self.input_shape = None
        self.output_shape = None
        self._initial_weights: list[np.ndarray] = []
        self._model = None  # the Sequential whose C++ network holds our weights
        self._weight_offset = 0

    # --- shape and weights -------------------------------------------------
    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """Per-sample output shape (no batch axis)."""
        return tuple(input_shape)

    def build(self, input_shape: tuple) -> None:
        """Checks the input shape and makes initial weights."""
        self.input_shape = tuple(input_shape)
        self.output_shape = self.compute_output_shape(self.input_shape)
        self.built = True

    def _add_to_network(self, network) -> tuple:
        """Appends this layer's C++ counterpart; returns its output shape."""
        raise NotImplementedError

    def get_weights(self) -> list:
        if self._model is not None and self._model._network is not None:
            all_weights = self._model._network.get_weights()
            return all_weights[self._weight_offset : self._weight_offset + self._num_weights()]
        return [w.copy() for w in self._initial_weights]

    def set_weights(self, weights) -> None:
        weights = list(weights)
        current = self.get_weights()
        if len(weights) != len(current):
            raise ValueError(
                f"Layer {self.name!r} expects {len(current)} weight arrays, got {len(weights)}"
            )
        arrays = []
        for i, (w, c) in enumerate(zip(weights, current)):
            try:
                w = np.asarray(w, dtype=np.float32)
            except (TypeError, ValueError):
                raise ValueError(
                    f"Layer {self.name!r} weight {i} must be a numeric array of shape "
                    f"{c.shape}, got {type(w).__name__} {w!r:.60}"
                ) from None
            if w.shape != c.shape:
                raise ValueError(
                    f"Layer {self.name!r} weight {i} expects shape {c.shape}, got {w.shape}"
                )
            arrays.append(w)
        if self._model is not None and self._model._network is not None:
            all_weights = self._model._network.get_weights()
            all_weights[self._weight_offset : self._weight_offset + len(arrays)] = arrays
            self._model._network.set_weights(all_weights)
        else:
            self._initial_weights = [a.copy() for a in arrays]

    def _num_weights(self) -> int:
        return len(self._initial_weights)

    @property
    def weights(self) -> list:
        return self.get_weights()

    trainable_weights = weights

    @property
    def non_trainable_weights(self) -> list:
        return []

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"Layer {self.name!r} is not built yet: its input shape is unknown")
        return int(sum(w.size for w in self.get_weights()))

    # --- config ---------------------------------------------------------------
    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable, "dtype": "float32"}
        if self._input_shape_arg is not None:
            config["batch_input_shape"] = (None,) + tuple(self._input_shape_arg)
        return config

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __call__(self, *args, **kwargs):
        raise NotImplementedError(
            "Calling layers on tensors (the functional API) is not supported; "
            "put layers in a fmnistcpp.Sequential model."
        )

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _check_shape(shape) -> tuple:
    try:
        shape = tuple(shape)
    except TypeError:
        raise ValueError(f"input shape must be a tuple of positive ints, got {shape!r}") from None
    if not shape or any(
        isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d <= 0 for d in shape
    ):
        raise ValueError(f"input shape must be a tuple of positive ints, got {shape!r}")
    return tuple(int(d) for d in shape)
