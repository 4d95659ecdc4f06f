"""Sequential: Keras's linear stack of layers, the linear case of the
functional graph. As in Keras 3, once the input shape is known (an Input
first, `input_shape=` on the first layer, `build()`, or the first data)
the layers are called one after another on a symbolic input, which makes
the graph the engine runs; `layer.output`, `model.inputs` and feature-map
models then work as for any functional model."""

from __future__ import annotations

from ..backend.tensor import KerasTensor
from ..layers.input_layer import InputLayer
from ..layers.layer import Layer, check_shape, unique_name
from ..backend import arrays as data
from .model import Model


class Sequential(Model):
    """A linear stack of layers, with Keras's `compile` / `fit` / `evaluate`
    / `predict` / `summary`.

    Args:
        layers: list of layers (an `Input` first, or `input_shape=` on the
            first layer, fixes the input shape; otherwise `build()` or the
            first call to fit/predict does). A model may be nested as a layer.
        name: the model's name.

    Example:

    >>> model = fmnistcpp.Sequential([
    ...     fmnistcpp.layers.Flatten(input_shape=(28, 28)),
    ...     fmnistcpp.layers.Dense(128, activation="relu"),
    ...     fmnistcpp.layers.Dense(10, activation="softmax"),
    ... ])
    >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
    ...               metrics=["accuracy"])
    >>> history = model.fit(x_train, y_train, epochs=5, validation_split=0.2)
    """

    def __init__(self, layers=None, trainable=True, name=None):
        Layer.__init__(self, name=name or unique_name("sequential"), trainable=trainable)
        self._init_model()
        self._layers: list = []  # an InputLayer first once the input shape is known
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_rebuild()

    # --- structure ------------------------------------------------------------------
    def add(self, layer, rebuild=True):
        """Appends a layer (or a model) to the stack."""
        if isinstance(layer, KerasTensor) and isinstance(
                getattr(layer._keras_history, "operation", None), InputLayer):
            layer = layer._keras_history.operation  # keras.Input(...) first
        if not isinstance(layer, Layer):
            raise TypeError(
                f"Sequential.add expects a fmnistcpp layer, got {type(layer).__name__} "
                "(Keras layers from another library cannot be mixed in)"
            )
        if layer is self:
            raise ValueError("a model cannot contain itself")
        if isinstance(layer, InputLayer):
            if self._layers:
                raise ValueError("an Input layer can only be the first layer of a Sequential")
        elif not self._layers:
            shape = layer._input_shape_arg
            if shape is None and isinstance(layer, Model) and layer._graph is not None and \
                    len(layer.inputs) == 1:
                shape = layer.inputs[0].shape[1:]
            if shape is not None:
                self._layers.append(InputLayer(shape=shape))
        self._layers.append(layer)
        if rebuild:
            self._maybe_rebuild()
        else:
            self._graph, self._engine_cache, self.built = None, None, False

    def pop(self, rebuild=True):
        """Removes the last layer."""
        if not self.layers:
            raise TypeError("There are no layers in the model.")
        layer = self._layers.pop()
        self._graph, self._engine_cache, self.built = None, None, False
        if rebuild:
            self._maybe_rebuild()
        return layer

    def _maybe_rebuild(self):
        if self._layers and isinstance(self._layers[0], InputLayer) and len(self._layers) > 1:
            self.build()

    @property
    def layers(self) -> list:
        return [l for l in self._layers if not isinstance(l, InputLayer)]

    def build(self, input_shape=None):
        """Builds the model for `input_shape` (with the batch axis, as Keras:
        `model.build((None, 28, 28))`)."""
        if input_shape is not None:
            shape = tuple(input_shape)
            if len(shape) >= 2 and shape[0] is None:
                shape = shape[1:]
            shape = check_shape(shape)
            if self._layers and isinstance(self._layers[0], InputLayer):
                if self._layers[0].shape != shape:
                    raise ValueError(f"the model's input shape is {self._layers[0].shape}, "
                                     f"cannot build it for {shape}")
            else:
                self._layers.insert(0, InputLayer(shape=shape))
        if not self._layers or not isinstance(self._layers[0], InputLayer):
            raise ValueError("build needs an input shape, e.g. model.build((None, 28, 28))")
        if len(self._layers) < 2:
            return
        inputs = self._layers[0].output_tensor
        x = inputs
        for layer in self._layers[1:]:
            x = layer(x)
        self._set_graph(inputs, x)

    def _ensure_built_for(self, x) -> None:
        if self._graph is not None:
            return
        if not self.layers:
            raise ValueError("the model has no layers")
        arr = data.to_array(x, "x")
        if arr.ndim < 2:
            raise ValueError(f"x of shape {arr.shape} has no sample axis; the model's input "
                             "shape is unknown, so give it an Input or input_shape=")
        try:
            self.build((None,) + tuple(int(d) for d in arr.shape[1:]))
        except Exception:  # leave the model as it was: unbuilt, shape unknown
            if self._layers and isinstance(self._layers[0], InputLayer):
                self._layers.pop(0)
            self._graph, self._engine_cache, self.built = None, None, False
            raise

    def _ensure_graph_for_symbolic(self, inputs, flat):
        if self._graph is None:
            self.build((None,) + tuple(flat[0].shape[1:]))

    def count_params(self) -> int:
        if not self.built:
            raise ValueError("the model is not built yet: its input shape is unknown")
        return super().count_params()

    def get_config(self) -> dict:
        from ..saving import serialization

        return serialization.sequential_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ..saving import serialization

        return serialization.sequential_from_config(config)

    def __repr__(self):
        return f"<Sequential name={self.name}, built={self.built}>"
