"""The base class of fmnistcpp's layers.

A layer is described once, in C++: the engine layer registered under
Keras's class name checks the arguments (when the Python layer is made),
computes the output shape and creates the variables (when the layer is
built). The Python layer is a Keras-named configuration object holding a
handle to that C++ layer (`self._core`): it passes Keras's arguments on,
reads back their normalised values as attributes (`layer.kernel_size` is
`(3, 3)` for `kernel_size=3`), fills the variables with its initializers,
and records calls on symbolic tensors as graph nodes (the functional API).

The subclass's part is small; see `Dense` for the pattern:

    class Dense(Layer):
        _engine_kind = "Dense"                     # the C++ layer
        _initializers = {"kernel": "kernel_initializer", "bias": "bias_initializer"}

        def __init__(self, units, activation=None, ..., **kwargs):
            super().__init__(**kwargs)
            self.kernel_initializer = initializers.get(kernel_initializer)
            ...
            self._engine_config = dict(units=units, activation=activations.name(activation), ...)
"""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np

from .. import _core, _random, dtype_policies, initializers, regularizers
from ..backend import arrays as data
from ..backend.tensor import TRACE_TRAINING, KerasTensor, Node, eager, flatten
from ..backend.variable import Variable

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


def reset_names() -> None:
    _name_counts.clear()


def check_shape(shape, what="input shape") -> tuple:
    """A per-sample shape: a tuple of positive ints."""
    try:
        shape = tuple(shape)
    except TypeError:
        raise ValueError(f"{what} must be a tuple of positive ints, got {shape!r}") from None
    if not shape or any(
        isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d <= 0 for d in shape
    ):
        raise ValueError(f"{what} must be a tuple of positive ints, got {shape!r}")
    return tuple(int(d) for d in shape)


def engine_value(v):
    """A Keras argument as the engine takes it: NumPy scalars become Python
    numbers; anything the engine has no type for travels as its repr."""
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (list, tuple)):
        return tuple(engine_value(e) for e in v)
    return v


def reject_unsupported(layer: str, **arguments) -> None:
    """NotImplementedError for Keras arguments accepted by name but not
    implemented, when they are set."""
    for arg, value in arguments.items():
        if value is not None:
            raise NotImplementedError(f"{layer}({arg}=...) is not supported yet")


class _LayerMeta(type):
    """Creates the engine layer once the most derived __init__ has run, so
    the engine checks the arguments when the layer is made, as Keras does."""

    def __call__(cls, *args, **kwargs):
        layer = super().__call__(*args, **kwargs)
        layer._make_core()
        return layer


class Layer(metaclass=_LayerMeta):
    """Base layer.

    Args:
        name: the layer's name; unique names are generated from the class.
        trainable: whether the optimizer updates the layer's weights
            (changing it takes effect at the next compile, as in Keras).
        input_shape: per-sample input shape, accepted on a model's first
            layer as in Keras (same as putting `Input(shape)` first).
        dtype: the layer's dtype policy (a name, a `DTypePolicy` or its
            serialized dict): "float32", or "mixed_bfloat16" (convolutions
            and Dense compute in bfloat16, variables stay float32); None
            takes the global policy (`keras.config.set_dtype_policy`).
    """

    _engine_kind: str | None = None  # the C++ layer's registered name
    _initializers: dict = {}         # variable name -> attribute holding its initializer
    _regularizers: dict = {}         # variable name -> attribute holding its regularizer
    _constraints: dict = {}          # variable name -> attribute holding its constraint
    _activation_attr: str | None = None  # an engine arg shown as an activation function

    def __init__(self, name=None, trainable=True, dtype=None, input_shape=None,
                 batch_input_shape=None, input_dim=None, batch_size=None,
                 activity_regularizer=None, **kwargs):
        kwargs.pop("autocast", None)
        if kwargs:
            raise TypeError(
                f"{type(self).__name__} got unexpected keyword argument(s): "
                f"{', '.join(sorted(kwargs))}"
            )
        self._dtype_policy = self._checked_policy(dtype)
        if batch_input_shape is not None and input_shape is None:
            input_shape = tuple(batch_input_shape)[1:]
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        self.name = name or unique_name(_snake(type(self).__name__))
        self._trainable = bool(trainable)
        self.built = False
        self._input_shape_arg = check_shape(input_shape) if input_shape is not None else None
        self._inbound_nodes: list = []
        self._outbound_nodes: list = []
        self._core = None
        self._variables: list = []
        self._engine_config: dict = {}
        self._eager_networks: dict = {}
        self._built_shapes: list = []
        # Keras's base-layer argument: L1 / L2 of the output, added to the loss by the engine.
        self.activity_regularizer = regularizers.get(activity_regularizer)

    # --- the engine layer -------------------------------------------------------
    def _make_core(self) -> None:
        if self._engine_kind is None or self._core is not None:
            return
        args = {k: engine_value(v) for k, v in self._engine_config.items()}
        self._core = _core.make_layer(self._engine_kind, args)
        for key, value in self._core.config().items():  # the normalised arguments
            if key == self._activation_attr:
                from .. import activations

                value = activations.get(value)
            setattr(self, key, value)
        act = self.activity_regularizer
        if act is not None:
            self._core.set_activity_regularizer(float(act.l1), float(act.l2))
        if dtype_policies.engine_bfloat16(self._dtype_policy):
            self._core.set_compute_bfloat16(True)

    # --- dtype policy (Keras's layer.dtype_policy, compute_dtype, variable_dtype) ----------
    def _checked_policy(self, value):
        policy = dtype_policies.get(value)
        dtype_policies.check_supported(policy, f"{type(self).__name__}(dtype={policy.name!r})")
        return policy

    @property
    def dtype_policy(self):
        return self._dtype_policy

    @dtype_policy.setter
    def dtype_policy(self, value):
        self._dtype_policy = self._checked_policy(value)
        if self._core is not None:  # the engine rebuilds its primitives at the next pass
            self._core.set_compute_bfloat16(dtype_policies.engine_bfloat16(self._dtype_policy))

    @property
    def dtype(self) -> str:
        """Alias of `variable_dtype`, as in Keras."""
        return self._dtype_policy.variable_dtype

    @property
    def compute_dtype(self) -> str:
        return self._dtype_policy.compute_dtype

    @property
    def variable_dtype(self) -> str:
        return self._dtype_policy.variable_dtype

    @property
    def input_dtype(self) -> str:
        return self._dtype_policy.compute_dtype

    def _build_for(self, shapes: list) -> tuple:
        """Builds (or checks) the layer for per-sample input shapes; returns
        the per-sample output shape."""
        if self._core is None:
            raise NotImplementedError(f"{type(self).__name__} has no engine layer to build")
        out = tuple(self._core.build([list(s) for s in shapes]))
        if not self.built:
            self._built_shapes = [tuple(s) for s in shapes]
            self._variables = [Variable(h, self) for h in self._core.variables()]
            self._initialize_variables()
            self.built = True
        return out

    def _initialize_variables(self) -> None:
        for v in self._variables:
            attr = self._initializers.get(v.name)
            if attr is not None:
                # None: glorot_uniform, as Keras's add_weight for a float weight
                init = getattr(self, attr) or initializers.GlorotUniform()
                v.assign(init(v.shape))
            reg = getattr(self, self._regularizers[v.name], None) \
                if v.name in self._regularizers else None
            if reg is not None:
                v._handle.set_regularizer(float(getattr(reg, "l1", 0.0)),
                                          float(getattr(reg, "l2", 0.0)))
            con = getattr(self, self._constraints[v.name], None) \
                if v.name in self._constraints else None
            if con is not None:
                v._handle.set_constraint(*con._engine())

    def build(self, input_shape) -> None:
        """Builds the layer for `input_shape` (with the batch axis, as Keras:
        `layer.build((None, 784))`; a list of shapes for merge layers)."""
        self._build_for(_per_sample_shapes(input_shape))

    def compute_output_shape(self, input_shape):
        """Keras's output shape (batch axis included) for `input_shape`."""
        probe = _core.make_layer(self._engine_kind, self._core.config())
        out = probe.build([list(s) for s in _per_sample_shapes(input_shape)])
        return (None,) + tuple(out)

    # --- calling ---------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if not args and "inputs" not in kwargs:
            raise TypeError(f"{self.name} must be called on an input")
        inputs = args[0] if args else kwargs.pop("inputs")
        training = kwargs.pop("training", None)
        kwargs.pop("mask", None)
        if len(args) > 1 or kwargs:
            raise TypeError(f"{self.name} got unexpected call arguments: "
                            f"{', '.join(sorted(kwargs)) or str(len(args) - 1) + ' positional'}")
        flat = flatten(inputs)
        symbolic = [isinstance(t, KerasTensor) for t in flat]
        if any(symbolic):
            if not all(symbolic):
                raise ValueError(f"{self.name} was called on a mix of symbolic tensors and arrays")
            return self._symbolic_call(inputs, flat, training)
        return self._eager_call(flat, training)

    def _symbolic_call(self, inputs, flat, training):
        out = self._build_for(_known_shapes(flat, self.name))
        tensor = KerasTensor((None,) + out)
        Node(self, inputs, [tensor], training=call_training(training, self.name))
        return tensor

    def _eager_call(self, flat, training):
        arrays = [data.as_engine_array(a, f"{self.name}'s input") for a in flat]
        shapes = [a.shape[1:] for a in arrays]
        self._build_for(shapes)
        key = tuple(shapes)
        net = self._eager_networks.get(key)
        if net is None:
            net = _core.Network([list(s) for s in shapes])
            net.set_outputs([net.add(self._core, list(range(len(shapes))))])
            self._eager_networks[key] = net
        out = net.predict(arrays, max(len(arrays[0]), 1), None, 0.05, bool(training),
                          _random.next_seed())
        return eager(out[0])

    # --- graph connections ---------------------------------------------------------------
    def _node_attribute(self, attr: str, what: str):
        if not self._inbound_nodes:
            raise AttributeError(f"The layer {self.name} has never been called and thus has no "
                                 f"defined {what}.")
        values = getattr(self._inbound_nodes[0], attr)
        return values[0] if len(values) == 1 else list(values)

    @property
    def input(self):
        return self._node_attribute("input_tensors", "input")

    @property
    def output(self):
        return self._node_attribute("outputs", "output")

    # --- weights ---------------------------------------------------------------------
    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value) -> None:
        self._trainable = bool(value)

    @property
    def weights(self) -> list:
        """The layer's variables (Keras's order: gamma, beta, moving_mean,
        ...): objects with .numpy(), .shape, .assign()."""
        return list(self._variables)

    @property
    def variables(self) -> list:
        return self.weights

    @property
    def trainable_weights(self) -> list:
        return [v for v in self.weights if v.trainable] if self.trainable else []

    trainable_variables = trainable_weights

    @property
    def non_trainable_weights(self) -> list:
        if not self.trainable:
            return self.weights
        return [v for v in self.weights if not v.trainable]

    non_trainable_variables = non_trainable_weights

    def get_weights(self) -> list:
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights) -> None:
        weights = list(weights)
        current = self.weights
        if len(weights) != len(current):
            raise ValueError(
                f"Layer {self.name!r} expects {len(current)} weight arrays, got {len(weights)}"
            )
        arrays = []
        for i, (w, v) in enumerate(zip(weights, current)):
            try:
                w = np.asarray(w, dtype=np.float32)
            except (TypeError, ValueError):
                raise ValueError(
                    f"Layer {self.name!r} weight {i} must be a numeric array of shape "
                    f"{v.shape}, got {type(w).__name__} {w!r:.60}"
                ) from None
            if w.shape != v.shape:
                raise ValueError(
                    f"Layer {self.name!r} weight {i} expects shape {v.shape}, got {w.shape}"
                )
            arrays.append(w)
        for v, w in zip(current, arrays):  # all checked first: no half-set layer
            v.assign(w)

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"Layer {self.name!r} is not built yet: its input shape is unknown")
        return int(sum(v.size for v in self.weights))

    def add_weight(self, *args, **kwargs):
        raise NotImplementedError(
            f"{type(self).__name__}.add_weight: layers with weights of their own computed in "
            "Python cannot run in fmnistcpp's C++ engine; compose built-in layers instead"
        )

    # --- config ---------------------------------------------------------------------
    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": dtype_policies.serialize(self._dtype_policy)}
        if self._input_shape_arg is not None:
            config["batch_input_shape"] = (None,) + tuple(self._input_shape_arg)
        if self._core is not None:
            config.update(self._core.config())
        if self.activity_regularizer is not None:  # as Keras's base get_config
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def get_build_config(self):
        """Keras's build_config: the input shape(s) the layer was built for."""
        if not self.built:
            return None
        shapes = [[None, *s] for s in self._built_shapes]
        return {"input_shape": shapes[0] if len(shapes) == 1 else shapes}

    def __reduce__(self):
        # pickle / copy.deepcopy: the config, the shapes it was built for and
        # the weights (a layer alone; a model pickles as a whole, see Model).
        return (_restore_layer, (type(self), self.get_config(), self._built_shapes,
                                 self.get_weights() if self.built else []))

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _restore_layer(cls, config, built_shapes, weights):
    layer = cls.from_config(dict(config))
    if built_shapes:
        layer._build_for(built_shapes)
        layer.set_weights(weights)
    return layer


def call_training(training, name):
    """The `training` a call inside a model records. As in Keras 3, it is
    kept in the graph (and its saved config) but the mode of the pass wins:
    fit() trains every layer and predict() infers, whatever a call said
    (keras/src/models/functional.py, operation_fn); freezing a layer
    (trainable=False) is what keeps a BatchNormalization on its moving
    statistics during fit."""
    if training is None or training is TRACE_TRAINING:
        return None
    if isinstance(training, (bool, np.bool_)):
        return bool(training)
    raise ValueError(f"{name}: training must be True, False or None, got {training!r}")


def _per_sample_shapes(input_shape) -> list:
    """[(per-sample shape), ...] from Keras's shape(s) with the batch axis."""
    shape = tuple(input_shape)
    if shape and isinstance(shape[0], (list, tuple)):
        return [tuple(s)[1:] for s in shape]
    return [shape[1:]]


def _known_shapes(tensors, layer_name) -> list:
    shapes = []
    for t in tensors:
        shape = t.shape[1:]
        if any(d is None for d in shape):
            raise NotImplementedError(
                f"{layer_name} was called on a tensor of shape {t.shape}: fmnistcpp needs every "
                "dimension but the batch to be known"
            )
        shapes.append(shape)
    return shapes
