"""A layer's weight as Keras 3's `keras.Variable` presents it: `.numpy()`,
`.shape`, `.dtype`, `.name`, `.path`, `.trainable`, `.assign()`, and NumPy
conversion. The values live in the C++ layer (one copy, shared by every
model the layer belongs to); this object is a handle on them."""

from __future__ import annotations

import numpy as np


class Variable:
    def __init__(self, handle, layer):
        self._handle = handle  # fmnistcpp._core.Variable
        self._layer = layer

    @property
    def name(self) -> str:
        return self._handle.name

    @property
    def path(self) -> str:
        return f"{self._layer.name}/{self.name}"

    @property
    def shape(self) -> tuple:
        return tuple(self._handle.shape)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    dtype = "float32"

    @property
    def trainable(self) -> bool:
        """As Keras: False for statistics the layer updates itself (moving
        mean/variance) and for the weights of a frozen layer."""
        return bool(self._handle.trainable) and self._layer.trainable

    def numpy(self) -> np.ndarray:
        return self._handle.numpy()

    @property
    def value(self) -> np.ndarray:
        return self.numpy()

    def assign(self, value):
        self._handle.assign(np.asarray(value, dtype=np.float32))
        return self

    def assign_add(self, delta):
        return self.assign(self.numpy() + np.asarray(delta, dtype=np.float32))

    def assign_sub(self, delta):
        return self.assign(self.numpy() - np.asarray(delta, dtype=np.float32))

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, index):
        return self.numpy()[index]

    def _same(self, other) -> bool:
        return isinstance(other, Variable) and self._handle.same_as(other._handle)

    def __repr__(self):
        return (f"<Variable path={self.path}, shape={self.shape}, dtype=float32, "
                f"value={np.array2string(self.numpy(), threshold=6, edgeitems=2)}>")
