"""Keras 3's activations (`keras.activations`), by Keras's names.

A layer's `activation=` takes any of them as a string, as one of these
functions, or as the TensorFlow function code passes without thinking
(`tf.nn.relu`, `tf.nn.softmax`, whose name is `softmax_v2`, ...); the C++
engine runs it (cpp/activation.cpp), fused into the producing primitive
where oneDNN can. The functions here are callable on arrays (computed by
that same C++ code, float32, returning an array that also answers
`.numpy()` as a TensorFlow tensor does) and on symbolic tensors (they then
add the matching layer, as Keras's do).
"""

from __future__ import annotations

import numpy as np

from . import _core
from .backend.tensor import KerasTensor, eager

# Keras's names (keras/src/activations/__init__.py). glu and threshold are
# functions on arrays only: no layer can use them (the engine says why).
KNOWN = tuple(_core.activation_names()) + ("glu", "threshold")
# Other names the same functions go by: Keras's aliases, and TensorFlow's
# own functions' __name__ (tf.nn.softmax is softmax_v2, tf.exp is exp).
_ALIASES = {"swish": "silu", "hard_swish": "hard_silu", "softmax_v2": "softmax",
            "log_softmax_v2": "log_softmax", "exp": "exponential", "identity": "linear",
            "None": "linear"}
# Where a function passed by object may come from: a function of the same
# name elsewhere (a user's own `def relu(x)`) could compute anything else.
_TRUSTED_MODULES = ("fmnistcpp", "keras", "tensorflow", "tf_keras")


def _unknown(identifier, why=""):
    return ValueError(
        f"Unknown activation {identifier!r}{why}. Known activations: {', '.join(KNOWN)} "
        "(and the aliases swish, hard_swish); the activation layers LeakyReLU, ELU, ReLU, "
        "PReLU and Softmax take arguments."
    )


def name_of(identifier) -> str:
    """The Keras name of an activation given as a string, None, a serialized
    dict, or a function (fmnistcpp.activations.relu, keras.activations.relu,
    tf.nn.relu, ...). A ValueError for anything else."""
    if identifier is None:
        return "linear"
    if isinstance(identifier, dict):  # {"module": "keras.activations", "config": "relu", ...}
        config = identifier.get("config")
        identifier = config if isinstance(config, str) else identifier.get("class_name")
    if not isinstance(identifier, str) and callable(identifier):
        if hasattr(identifier, "get_config") and not isinstance(identifier, type):
            raise NotImplementedError(
                f"a layer object as an activation ({type(identifier).__name__}) is not "
                "supported: give the layer activation=None and put that layer after it")
        module = getattr(identifier, "__module__", None) or ""
        name = getattr(identifier, "__name__", None)
        if not module.startswith(_TRUSTED_MODULES):
            raise _unknown(name or identifier, f" (a function from {module or 'nowhere'}: "
                           "custom activations cannot run in the C++ engine)")
        identifier = name
    if isinstance(identifier, str):
        identifier = _ALIASES.get(identifier, identifier)
        if identifier in KNOWN:
            return identifier
    raise _unknown(identifier)


def get(identifier):
    """The activation function for an identifier, as keras.activations.get."""
    return globals()[name_of(identifier)]


def serialize(activation) -> str:
    """A built-in activation serializes as its name, as in Keras."""
    return name_of(activation)


def deserialize(config, custom_objects=None):
    return get(config)


# --- the functions ---------------------------------------------------------------------
def _apply(name, x, axis=None, **args):
    """keras.activations.<name>(x, **args): along `axis` for the row-wise
    ones (None: over all of x, as Keras's softmax)."""
    if isinstance(x, KerasTensor):
        return _symbolic(name, x, axis, args)
    x = np.asarray(x, dtype=np.float32)
    if axis is None:
        if name in ("softmax", "log_softmax", "sparsemax"):
            return eager(_core.activation_forward(name, args, x.reshape(1, -1)).reshape(x.shape))
        return eager(_core.activation_forward(name, args, np.ascontiguousarray(x)))
    moved = np.ascontiguousarray(np.moveaxis(x, axis, -1))
    return eager(np.moveaxis(_core.activation_forward(name, args, moved), -1, axis))


def _symbolic(name, x, axis, args):
    """The layer Keras's function amounts to, called on the symbolic x."""
    from . import layers

    if name == "relu" and args:
        return layers.ReLU(**args)(x)
    if name == "leaky_relu":
        return layers.LeakyReLU(**args)(x)
    if name == "elu":
        return layers.ELU(**args)(x)
    if name == "softmax":
        return layers.Softmax(axis=-1 if axis is None else axis)(x)
    defaults = {"gelu": {"approximate": False}, "celu": {"alpha": 1.0}, "squareplus": {"b": 4},
                "soft_shrink": {"threshold": 0.5}, "hard_shrink": {"threshold": 0.5}}
    if args != defaults.get(name, {}) or axis not in (None, -1):
        raise NotImplementedError(
            f"keras.activations.{name} with arguments {args} on a symbolic tensor is not "
            "supported; use the default arguments or an activation layer")
    return layers.Activation(name)(x)


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    args = {}
    if negative_slope != 0.0 or max_value is not None or threshold != 0.0:
        args = dict(negative_slope=negative_slope, max_value=max_value, threshold=threshold)
    return _apply("relu", x, **args)


def leaky_relu(x, negative_slope=0.2):
    return _apply("leaky_relu", x, negative_slope=negative_slope)


def relu6(x):
    return _apply("relu6", x)


def softmax(x, axis=-1):
    return _apply("softmax", x, axis=axis)


def log_softmax(x, axis=-1):
    return _apply("log_softmax", x, axis=axis)


def sparsemax(x, axis=-1):
    return _apply("sparsemax", x, axis=axis)


def elu(x, alpha=1.0):
    return _apply("elu", x, alpha=alpha)


def celu(x, alpha=1.0):
    return _apply("celu", x, alpha=alpha)


def selu(x):
    return _apply("selu", x)


def gelu(x, approximate=False):
    return _apply("gelu", x, approximate=bool(approximate))


def silu(x):
    return _apply("silu", x)


def hard_silu(x):
    return _apply("hard_silu", x)


def mish(x):
    return _apply("mish", x)


def sigmoid(x):
    return _apply("sigmoid", x)


def hard_sigmoid(x):
    return _apply("hard_sigmoid", x)


def sparse_sigmoid(x):
    return _apply("sparse_sigmoid", x)


def log_sigmoid(x):
    return _apply("log_sigmoid", x)


def tanh(x):
    return _apply("tanh", x)


def hard_tanh(x):
    return _apply("hard_tanh", x)


def tanh_shrink(x):
    return _apply("tanh_shrink", x)


def softplus(x):
    return _apply("softplus", x)


def softsign(x):
    return _apply("softsign", x)


def sparse_plus(x):
    return _apply("sparse_plus", x)


def squareplus(x, b=4):
    return _apply("squareplus", x, b=b)


def soft_shrink(x, threshold=0.5):
    return _apply("soft_shrink", x, threshold=threshold)


def hard_shrink(x, threshold=0.5):
    return _apply("hard_shrink", x, threshold=threshold)


def exponential(x):
    return _apply("exponential", x)


def linear(x):
    if isinstance(x, KerasTensor):
        return x
    return eager(np.asarray(x, dtype=np.float32))


def glu(x, axis=-1):
    """x1 * sigmoid(x2) for the two halves of `axis` (arrays only)."""
    x = np.asarray(x, dtype=np.float32)
    if x.shape[axis] % 2:
        raise ValueError(f"axis size must be divisible by 2. Received: x.shape={x.shape} "
                         f"with axis={axis}")
    a, b = np.split(x, 2, axis=axis)
    return eager(a * np.asarray(sigmoid(b)))


def threshold(x, threshold, default_value):
    """where(x > threshold, x, default_value) (arrays only)."""
    x = np.asarray(x, dtype=np.float32)
    return eager(np.where(x > threshold, x, np.float32(default_value)).astype(np.float32))


swish = silu
hard_swish = hard_silu

# A name Keras 3 has and fmnistcpp lacks gets an error saying so.
from . import _missing  # noqa: E402

__getattr__ = _missing.module_getattr(__name__, "activations")
