"""Symbolic tensors and the nodes that connect them, as Keras 3's
`KerasTensor` and `ops/node.py`: calling a layer on a KerasTensor records a
Node (the layer, its input tensors, its output tensors) and returns new
KerasTensors; a functional Model is the graph of nodes between its inputs
and outputs. Nothing is computed in Python: the graph is handed to the C++
engine whole.

`EagerTensor` is what `model(x)` and `layer(x)` return on arrays: a NumPy
array that also answers `.numpy()`, as code written for TensorFlow calls it.
"""

from __future__ import annotations

import collections
import itertools

import numpy as np

KerasHistory = collections.namedtuple("KerasHistory",
                                      ["operation", "node_index", "tensor_index"])
_tensor_ids = itertools.count()


def _untraceable(what):
    def method(self, *args, **kwargs):
        raise TypeError(
            f"{what} of a symbolic tensor ({self.name}, shape {self.shape}) is not possible: it "
            "holds no values while the model is being built. A model's `call` that branches, "
            "loops or indexes on the data cannot be traced into fmnistcpp's C++ graph; write "
            "that part with layers, or compute it outside the model."
        )
    return method


class KerasTensor:
    """A symbolic tensor: a shape (batch axis None) and where it came from."""

    def __init__(self, shape, name=None, history=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = "float32"
        self.sparse = False
        self.name = name or f"keras_tensor_{next(_tensor_ids)}"
        self._keras_history = history

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self):
        return (f"<KerasTensor shape={self.shape}, dtype=float32, sparse=False, "
                f"name={self.name}>")

    # Arithmetic between symbolic tensors becomes the merge layer Keras's
    # ops would be; anything else has no C++ counterpart.
    def _merge(self, other, layer_name, reverse=False):
        from ..layers import merging

        if not isinstance(other, KerasTensor):
            raise NotImplementedError(
                f"{layer_name.lower()} of a symbolic tensor and {type(other).__name__} "
                f"{other!r:.40} is not supported in fmnistcpp models: only tensor-with-tensor "
                "arithmetic becomes a layer (for scaling use keras.layers.Rescaling, for "
                "other ops a layer that does them)"
            )
        args = [other, self] if reverse else [self, other]
        return getattr(merging, layer_name)()(args)

    def __add__(self, other):
        return self._merge(other, "Add")

    def __radd__(self, other):
        return self._merge(other, "Add", reverse=True)

    def __sub__(self, other):
        return self._merge(other, "Subtract")

    def __rsub__(self, other):
        return self._merge(other, "Subtract", reverse=True)

    def __mul__(self, other):
        return self._merge(other, "Multiply")

    def __rmul__(self, other):
        return self._merge(other, "Multiply", reverse=True)

    __bool__ = _untraceable("The truth value")
    __len__ = _untraceable("The length")
    __iter__ = _untraceable("Iterating over the elements")
    __float__ = _untraceable("Converting to float")
    __int__ = _untraceable("Converting to int")
    __index__ = _untraceable("Using as an index")
    __array__ = _untraceable("Converting to a NumPy array")
    numpy = _untraceable("Reading the values")
    __getitem__ = _untraceable("Indexing (use layers such as Reshape or Cropping2D)")
    __gt__ = _untraceable("Comparing the values")
    __lt__ = _untraceable("Comparing the values")
    __ge__ = _untraceable("Comparing the values")
    __le__ = _untraceable("Comparing the values")
    __hash__ = object.__hash__
    __eq__ = object.__eq__


class _TraceTraining:
    """What a subclassed model's `call` receives as `training` while it is
    traced: true, so `if training:` branches become part of the graph, and
    treated by layers as "follow the pass" (dropout acts in fit only)."""

    def __bool__(self):
        return True

    def __repr__(self):
        return "<training: set per pass>"


TRACE_TRAINING = _TraceTraining()


def is_symbolic(x) -> bool:
    return isinstance(x, KerasTensor)


def flatten(structure) -> list:
    """The tensors of a nested list/tuple/dict, in order."""
    if isinstance(structure, (list, tuple)):
        return [t for s in structure for t in flatten(s)]
    if isinstance(structure, dict):
        return [t for k in sorted(structure) for t in flatten(structure[k])]
    return [structure]


class Node:
    """One call of an operation (a layer or a model) on symbolic tensors.
    `training=False` records Keras's `layer(x, training=False)`: the call
    always runs in inference mode."""

    def __init__(self, operation, call_args, outputs, training=None):
        self.operation = operation
        self.arguments = call_args
        self.training = training
        self.input_tensors = [t for t in flatten(call_args) if isinstance(t, KerasTensor)]
        self.outputs = list(outputs)
        self.is_input = not self.input_tensors
        node_index = len(operation._inbound_nodes)
        operation._inbound_nodes.append(self)
        for t in self.input_tensors:
            if t._keras_history is not None:
                t._keras_history.operation._outbound_nodes.append(self)
        for i, out in enumerate(self.outputs):
            out._keras_history = KerasHistory(operation, node_index, i)

    @property
    def output_tensors(self) -> list:
        return self.outputs

    @property
    def parent_nodes(self) -> list:
        parents = []
        for t in self.input_tensors:
            op, index, _ = t._keras_history
            parents.append(op._inbound_nodes[index])
        return parents

    def __repr__(self):
        return f"<Node operation={self.operation.name}, id={id(self)}>"


class EagerTensor(np.ndarray):
    """An array result of `model(x)` / `layer(x)`; `.numpy()` returns it as
    a plain ndarray, as TensorFlow tensors do."""

    def numpy(self) -> np.ndarray:
        return np.asarray(self).view(np.ndarray)


def eager(array: np.ndarray) -> EagerTensor:
    return np.asarray(array).view(EagerTensor)
