"""Reshape."""

from __future__ import annotations

import math

import numpy as np

from .layer import Layer


class Reshape(Layer):
    """Gives each sample a new shape with the same number of values; one
    dimension may be -1 and is inferred.

    Args:
        target_shape: per-sample shape, e.g. `(28, 28, 1)`.

    Example:

    >>> layer = fmnistcpp.layers.Reshape((28, 28, 1), input_shape=(784,))
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        try:
            target = tuple(target_shape)
        except TypeError:
            target = None
        if target is None or any(
            isinstance(d, bool) or not isinstance(d, (int, np.integer)) for d in target
        ):
            raise ValueError(
                f"Reshape target_shape must be a tuple of positive ints with at most one -1, "
                f"got {target_shape!r}"
            )
        target = tuple(int(d) for d in target)
        if not target or sum(d == -1 for d in target) > 1 or any(d == 0 or d < -1 for d in target):
            raise ValueError(
                f"Reshape target_shape must be positive ints with at most one -1, got {target_shape!r}"
            )
        self.target_shape = target

    def compute_output_shape(self, input_shape):
        total = math.prod(input_shape)
        known = math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if total % known:
                raise ValueError(
                    f"cannot reshape input {tuple(input_shape)} to {self.target_shape}"
                )
            return tuple(total // known if d == -1 else d for d in self.target_shape)
        if known != total:
            raise ValueError(
                f"Reshape: total size of {self.target_shape} must equal that of the input "
                f"{tuple(input_shape)}"
            )
        return self.target_shape

    def _add_to_network(self, network):
        return network.add_reshape(list(self.output_shape))

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = self.target_shape
        return config
