"""Keras's Model: functional (`Model(inputs, outputs)`), subclassed
(`class Net(Model)` with a `call`, traced once on symbolic inputs into the
same graph), and the base of Sequential. A model is also a layer: called on
symbolic tensors it becomes one node of an outer graph (the engine expands
it in place); called on arrays it runs its forward pass in C++."""

from __future__ import annotations

import inspect

from .. import _random
from ..backend.tensor import TRACE_TRAINING, KerasTensor, Node, eager, flatten
from ..layers.input_layer import Input, InputLayer
from ..layers.layer import Layer, call_training, unique_name
from ..backend import arrays as data
from .graph import Engine, Graph
from .trainer import Trainer


class Model(Trainer, Layer):
    """A model: layers connected as a graph, with Keras's compile / fit /
    evaluate / predict / summary / save.

    Functional:

    >>> inputs = fmnistcpp.Input((28, 28, 1))
    >>> x = fmnistcpp.layers.Conv2D(8, 3, activation="relu")(inputs)
    >>> outputs = fmnistcpp.layers.Dense(10, activation="softmax")(
    ...     fmnistcpp.layers.Flatten()(x))
    >>> model = fmnistcpp.Model(inputs, outputs)

    Subclassed: define the layers in `__init__` and compose them in
    `call(self, x)`; the call is traced once on symbolic inputs (the first
    fit/predict gives the input shape), so it may not branch on the data.
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs):
            return super().__new__(Functional)
        return super().__new__(cls)

    def __init__(self, *args, name=None, trainable=True, **kwargs):
        if args or "inputs" in kwargs:  # a subclass calling super().__init__(inputs, outputs)
            Functional.__init__(self, *args, name=name, trainable=trainable, **kwargs)
            return
        Layer.__init__(self, name=name or unique_name(_default_name(type(self))),
                       trainable=trainable, **kwargs)
        self._init_model()

    def _init_model(self):
        self._init_trainer()
        self._graph = None
        self._engine_cache = None
        self._tracked: list = []  # layers assigned as attributes (subclassed models)
        self._input_struct = None
        self._output_struct = None

    def __setattr__(self, name, value):
        # Keras tracks the layers a subclassed model assigns, in order.
        if name.startswith("_"):
            pass
        elif isinstance(value, Layer) and "_tracked" in self.__dict__ and \
                value not in self._tracked:
            self._tracked.append(value)
        elif isinstance(value, (list, tuple)) and "_tracked" in self.__dict__:
            for v in value:
                if isinstance(v, Layer) and v not in self._tracked:
                    self._tracked.append(v)
        object.__setattr__(self, name, value)

    # --- structure ----------------------------------------------------------------
    def _model_built(self) -> bool:
        return self._graph is not None

    def _graph_for_engine(self) -> Graph:
        if self._graph is None:
            raise ValueError(f"model {self.name!r} is not built yet: call it on data or an "
                             "Input first")
        return self._graph

    def _engine(self) -> Engine:
        if self._engine_cache is None:
            self._engine_cache = Engine(self._graph_for_engine())
        return self._engine_cache

    def _set_graph(self, inputs, outputs, input_struct=None, output_struct=None):
        self._graph = Graph(flatten(inputs), flatten(outputs))
        self._input_struct = inputs if input_struct is None else input_struct
        self._output_struct = outputs if output_struct is None else output_struct
        self._engine_cache = None
        self.built = True

    def _ensure_built_for(self, x) -> None:
        """A subclassed model is traced on the first data it sees."""
        if self._graph is not None:
            return
        xs = x if isinstance(x, (list, tuple)) and x and hasattr(x[0], "shape") and \
            getattr(x[0], "ndim", 0) > 1 else [x]
        shapes = []
        for a in xs:
            arr = data.to_array(a, "x")
            if arr.ndim < 2:
                raise ValueError(f"x of shape {arr.shape} has no sample axis; the model's input "
                                 "shape is unknown, so build it first or give it an Input")
            shapes.append(arr.shape[1:])
        self.build([(None,) + tuple(s) for s in shapes] if len(shapes) > 1 else
                   (None,) + tuple(shapes[0]))

    def build(self, input_shape=None):
        """Traces `call` on symbolic inputs of `input_shape` (batch axis
        first, as Keras: `model.build((None, 28, 28, 1))`)."""
        if self._graph is not None:
            return
        if input_shape is None:
            raise ValueError("build needs an input shape, e.g. model.build((None, 28, 28, 1))")
        shape = tuple(input_shape)
        multiple = bool(shape) and isinstance(shape[0], (list, tuple))
        shapes = [tuple(s) for s in shape] if multiple else [shape]
        inputs = [Input(s[1:] if len(s) >= 2 and s[0] is None else s) for s in shapes]
        self._trace(inputs if multiple else inputs[0])

    def _trace(self, inputs):
        if type(self).call is Model.call:
            raise NotImplementedError(f"{type(self).__name__} defines no call(): a subclassed "
                                      "model composes its layers in call(self, inputs)")
        kwargs = {}
        if "training" in inspect.signature(self.call).parameters:
            kwargs["training"] = TRACE_TRAINING
        outputs = self.call(inputs, **kwargs)
        if not all(isinstance(t, KerasTensor) for t in flatten(outputs)):
            raise ValueError(f"{type(self).__name__}.call must return the outputs of layers "
                             "(symbolic tensors)")
        self._set_graph(inputs, outputs)

    def call(self, inputs, training=None):
        raise NotImplementedError

    @property
    def layers(self) -> list:
        if self._graph is not None and not self._tracked:
            return self._graph.layers
        return list(self._tracked)

    def get_layer(self, name=None, index=None):
        """A layer by name or by index into `model.layers`, as Keras."""
        if index is not None and name is not None:
            raise ValueError("Provide only a layer name or a layer index, not both.")
        if index is not None:
            if not isinstance(index, int) or not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only "
                                 f"has {len(self.layers)} layers.")
            return self.layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError(f"No such layer: {name}. Existing layers are: "
                             f"{[l.name for l in self.layers]}.")
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    def _leaf_layers(self) -> list:
        leaves = []
        for layer in self.layers:
            if isinstance(layer, Model):
                leaves.extend(layer._leaf_layers())
            elif not isinstance(layer, InputLayer):
                leaves.append(layer)
        return leaves

    @property
    def inputs(self) -> list:
        return list(self._graph_for_engine().inputs)

    @property
    def outputs(self) -> list:
        return list(self._graph_for_engine().outputs)

    @property
    def input(self):
        inputs = self.inputs
        return inputs[0] if len(inputs) == 1 else inputs

    @property
    def output(self):
        outputs = self.outputs
        return outputs[0] if len(outputs) == 1 else outputs

    @property
    def input_shape(self):
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_names(self) -> list:
        return [t._keras_history.operation.name for t in self.outputs]

    def _input_names(self) -> list:
        if self._graph is None:
            return ["input"]
        return [t._keras_history.operation.name for t in self.inputs]

    def _pack_outputs(self, arrays):
        if isinstance(self._output_struct, dict):
            return dict(zip(sorted(self._output_struct), arrays))
        if isinstance(self._output_struct, (list, tuple)):
            return list(arrays)
        return arrays[0]

    # --- calling ----------------------------------------------------------------------
    def _symbolic_call(self, inputs, flat, training):
        self._ensure_graph_for_symbolic(inputs, flat)
        graph = self._graph
        if len(flat) != len(graph.inputs):
            raise ValueError(f"model {self.name!r} has {len(graph.inputs)} inputs, called on "
                             f"{len(flat)} tensors")
        for t, want in zip(flat, graph.inputs):
            if tuple(t.shape[1:]) != tuple(want.shape[1:]):
                raise ValueError(f"model {self.name!r} expects inputs of shape {want.shape}, "
                                 f"got {t.shape}")
        outs = [KerasTensor(t.shape) for t in graph.outputs]
        Node(self, inputs, outs, training=call_training(training, self.name))
        if isinstance(self._output_struct, (list, tuple)):
            return list(outs)
        if isinstance(self._output_struct, dict):
            return dict(zip(sorted(self._output_struct), outs))
        return outs[0]

    def _ensure_graph_for_symbolic(self, inputs, flat):
        if self._graph is None:
            self._trace([Input(t.shape[1:]) for t in flat] if len(flat) > 1 else
                        Input(flat[0].shape[1:]))

    def _eager_call(self, flat, training):
        xs = self._inputs(flat if len(flat) > 1 else flat[0])
        n = len(xs[0])
        outs = self._engine().network.predict(xs, max(n, 1), None, 0.05, bool(training),
                                              _random.next_seed())
        return self._pack_outputs([eager(o) for o in outs])

    # --- weights ------------------------------------------------------------------------
    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value) -> None:
        # As Keras: setting it sets every layer's flag too.
        self._trainable = bool(value)
        for layer in self.layers:
            layer.trainable = value

    @property
    def weights(self) -> list:
        out, seen = [], set()
        for layer in self.layers:
            for v in layer.weights:
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out

    def get_weights(self) -> list:
        """All weights in Keras's order and layouts (per layer, kernel then bias)."""
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights):
        """Sets all weights; shapes must match get_weights() exactly."""
        if not self.built:
            raise ValueError("the model is not built yet: give it an input shape first")
        weights = list(weights)
        expected = self.weights
        if len(weights) != len(expected):
            raise ValueError(f"set_weights expected {len(expected)} arrays, got {len(weights)}")
        import numpy as np

        arrays = []
        for i, (w, v) in enumerate(zip(weights, expected)):
            if np.shape(w) != v.shape:
                raise ValueError(f"weight {i} has shape {np.shape(w)}, expected {v.shape}")
            try:
                arrays.append(np.asarray(w, dtype=np.float32))
            except (TypeError, ValueError):
                raise ValueError(f"weight {i} must be a numeric array of shape "
                                 f"{v.shape}") from None
        for v, a in zip(expected, arrays):
            v.assign(a)

    def count_params(self) -> int:
        if not self.built:
            raise ValueError("the model is not built yet: its input shape is unknown")
        return int(sum(v.size for v in self.weights))

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Prints Keras's summary table: layer, output shape, params (and
        "Connected to" for functional models), then the totals."""
        from . import summary

        if not self.built:
            raise ValueError(
                "This model has not yet been built. Build it by giving the first layer an "
                "input_shape or an Input, or call build() / fit() first."
            )
        text = summary.render_model(self)
        if print_fn is None:
            print(text)
        else:  # Keras hands print_fn the whole table at once, ending in a newline
            print_fn(text + "\n")

    # --- config / saving ------------------------------------------------------------------
    def get_config(self) -> dict:
        from ..saving import serialization

        return serialization.model_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ..saving import serialization

        return serialization.functional_from_config(config)

    def to_json(self, **kwargs) -> str:
        """The architecture as Keras 3's JSON (no weights): what
        `models.model_from_json` and Keras's own read back."""
        import json

        from ..saving import serialization

        return json.dumps(serialization.model_to_keras(self), **kwargs)

    def save(self, filepath, overwrite=True, zipped=None, **kwargs):
        """Saves the model to `filepath`: `.keras` (Keras 3's format, which
        real Keras loads) or legacy `.h5`. Architecture, weights, compile
        settings and optimizer state are saved. The write is atomic: a
        failure or Ctrl-C leaves any previous file intact."""
        from ..saving import save_model

        if zipped is False:
            raise NotImplementedError("save(zipped=False) is not supported")
        if kwargs:
            raise TypeError(f"save got unexpected keyword argument(s): {', '.join(sorted(kwargs))}")
        save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath, overwrite=True):
        """Saves the weights to a `.weights.h5` file (Keras 3's layout), atomically."""
        from ..saving import save_weights

        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        """Loads weights from a `.weights.h5`, `.keras` or legacy `.h5` file
        into this (built) model; the architecture must match."""
        from ..saving import load_weights

        load_weights(self, filepath, skip_mismatch=skip_mismatch)

    def __reduce__(self):
        # pickle / copy.deepcopy (Ray, joblib, multiprocessing need them; Keras
        # 3 supports both): the model as the bytes of a .keras archive, which
        # carries architecture, weights, compile settings and optimizer state.
        # A subclassed model comes back as the functional model it traced to.
        from ..saving import model_from_bytes, model_to_bytes

        if not self.built:
            raise ValueError(f"model {self.name!r} is not built yet and cannot be pickled; "
                             "build it (or give it an Input) first")
        return (model_from_bytes, (model_to_bytes(self),))

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


class Functional(Model):
    """`Model(inputs, outputs)`: the graph of layer calls between them."""

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        Layer.__init__(self, name=name or unique_name("functional"), trainable=trainable,
                       **kwargs)
        self._init_model()
        if isinstance(inputs, dict):
            inputs_list = [inputs[k] for k in sorted(inputs)]
        else:
            inputs_list = flatten(inputs)
        for t in inputs_list:
            if isinstance(t, KerasTensor) and t._keras_history is not None and \
                    not isinstance(t._keras_history.operation, InputLayer):
                raise NotImplementedError(
                    "a Model's inputs must be keras.Input tensors (a model starting from an "
                    "intermediate tensor is not supported)"
                )
        self._set_graph(inputs_list, flatten(outputs) if not isinstance(outputs, dict) else
                        [outputs[k] for k in sorted(outputs)], inputs, outputs)

    def _ensure_built_for(self, x) -> None:
        return


def _default_name(cls) -> str:
    from ..layers.layer import _snake

    return _snake(cls.__name__) if cls.__name__ not in ("Model",) else "functional"
