"""Optimizers with Keras 3's names, arguments and defaults. The update runs
in C++ (cpp/optimizer*.cpp) with Keras's float32 arithmetic in Keras's
order; see `Optimizer` (optimizers_base.py) for what every optimizer takes:
weight_decay, clipnorm / global_clipnorm / clipvalue, use_ema, schedules.

`get` also takes the optimizer objects of Keras and of `tf.keras` (code that
imported only its optimizer from TensorFlow): they are converted from their
`get_config()` to the fmnistcpp class of the same name, which is what the
model then trains with and saves (the Keras object itself is not updated).
"""

from __future__ import annotations

import sys

from . import optimizers_schedules as schedules
from .optimizers_base import Optimizer

sys.modules.setdefault(__name__ + ".schedules", schedules)


class Adam(Optimizer):
    """Adam: alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t),
    w -= alpha * m / (sqrt(v) + epsilon); with amsgrad, v is the running
    maximum of the second moment.

    Args: learning_rate (0.001), beta_1 (0.9), beta_2 (0.999), epsilon
    (1e-7), amsgrad (False), and the base arguments.
    """

    _engine_class = "Adam"
    _hyperparameters = ("beta_1", "beta_2", "epsilon", "amsgrad")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, name="adam", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.amsgrad = bool(amsgrad)


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.004): before each step
    every weight is shrunk, w -= w * weight_decay * lr."""

    _engine_class = "AdamW"

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, name="adamw", **kwargs):
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: "
                             "weight_decay=None")
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, name=name,
                         weight_decay=weight_decay, **kwargs)


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum.

    Args: learning_rate (0.01), momentum (0.0, in [0, 1]), nesterov (False).
    """

    _engine_class = "SGD"
    _hyperparameters = ("momentum", "nesterov")

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self.momentum, self.nesterov = momentum, bool(nesterov)


class RMSprop(Optimizer):
    """RMSprop: v = rho * v + (1 - rho) * g^2, w -= lr * g / sqrt(v +
    epsilon) (centered: v - mean(g)^2 + epsilon), through a momentum
    accumulator when momentum > 0.

    Args: learning_rate (0.001), rho (0.9), momentum (0.0), epsilon (1e-7),
    centered (False).
    """

    _engine_class = "RMSprop"
    _hyperparameters = ("rho", "momentum", "epsilon", "centered")

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, name="rmsprop", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self.rho, self.momentum, self.epsilon = rho, momentum, epsilon
        self.centered = bool(centered)


class Adagrad(Optimizer):
    """Adagrad: acc += g^2, w -= lr * g / sqrt(acc + epsilon).

    Args: learning_rate (0.001), initial_accumulator_value (0.1), epsilon
    (1e-7).
    """

    _engine_class = "Adagrad"
    _hyperparameters = ("initial_accumulator_value", "epsilon")

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 name="adagrad", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self.initial_accumulator_value, self.epsilon = initial_accumulator_value, epsilon


class Adadelta(Optimizer):
    """Adadelta: running averages (rate rho) of g^2 and of the squared
    updates; w += lr * delta.

    Args: learning_rate (0.001), rho (0.95), epsilon (1e-7).
    """

    _engine_class = "Adadelta"
    _hyperparameters = ("rho", "epsilon")

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, name="adadelta", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self.rho, self.epsilon = rho, epsilon


class Adamax(Optimizer):
    """Adamax: Adam with the infinity norm, u = max(beta_2 * u, |g|),
    w -= lr * m / ((1 - beta_1^t) * (u + epsilon)).

    Args: learning_rate (0.001), beta_1 (0.9), beta_2 (0.999), epsilon (1e-7).
    """

    _engine_class = "Adamax"
    _hyperparameters = ("beta_1", "beta_2", "epsilon")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name="adamax", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon


class Nadam(Optimizer):
    """Nadam: Adam with Nesterov momentum and Keras's momentum schedule
    (beta_1 * (1 - 0.5 * 0.96^t), their running product kept as state).

    Args: learning_rate (0.001), beta_1 (0.9), beta_2 (0.999), epsilon (1e-7).
    """

    _engine_class = "Nadam"
    _hyperparameters = ("beta_1", "beta_2", "epsilon")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name="nadam", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon


class Ftrl(Optimizer):
    """FTRL-proximal, as Keras's: an accumulator (initial value
    initial_accumulator_value) and a linear term per weight, with L1, L2
    and L2-shrinkage regularization and the `beta` term.

    Args: learning_rate (0.001), learning_rate_power (-0.5, <= 0),
    initial_accumulator_value (0.1), l1_regularization_strength,
    l2_regularization_strength, l2_shrinkage_regularization_strength, beta
    (all 0.0, >= 0).
    """

    _engine_class = "Ftrl"
    _hyperparameters = ("learning_rate_power", "initial_accumulator_value",
                        "l1_regularization_strength", "l2_regularization_strength",
                        "l2_shrinkage_regularization_strength", "beta")

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5,
                 initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0,
                 beta=0.0, name="ftrl", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta


class Lion(Optimizer):
    """Lion: w -= lr * sign(beta_1 * m + (1 - beta_1) * g), then
    m = beta_2 * m + (1 - beta_2) * g.

    Args: learning_rate (0.001), beta_1 (0.9, in (0, 1]), beta_2 (0.99).
    """

    _engine_class = "Lion"
    _hyperparameters = ("beta_1", "beta_2")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, name="lion", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self.beta_1, self.beta_2 = beta_1, beta_2


_CLASSES = (Adadelta, Adagrad, Adam, AdamW, Adamax, Ftrl, Lion, Nadam, RMSprop, SGD)
_BY_NAME = {cls.__name__.lower(): cls for cls in _CLASSES}  # (sorted)
_KNOWN = ", ".join(cls.__name__ for cls in _CLASSES)
# Keras 3 optimizers without an fmnistcpp counterpart.
_NOT_HERE = ("adafactor", "lamb", "muon", "schedulefreeadamw", "lossscaleoptimizer",
             "multioptimizer")
# Keys of Keras 2 (tf.keras / tf_keras) optimizer configs that mean nothing here.
_IGNORED_KEYS = ("jit_compile", "is_legacy_optimizer")


def _not_here(name):
    return NotImplementedError(f"the optimizer {name!r} is not supported; supported: {_KNOWN}")


def deserialize(config, custom_objects=None):
    """An optimizer from Keras's serialized form {"class_name": ...,
    "config": {...}} (Keras 3's, or Keras 2's with `lr` and `decay`)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"cannot read the optimizer config {config!r}")
    name = str(config["class_name"]).split(">")[-1]
    cls = _BY_NAME.get(name.lower())
    if cls is None:
        raise _not_here(name)
    kwargs = {k: v for k, v in dict(config.get("config") or {}).items()
              if k not in _IGNORED_KEYS}
    if "lr" in kwargs and "learning_rate" not in kwargs:
        kwargs["learning_rate"] = kwargs.pop("lr")
    if isinstance(kwargs.get("learning_rate"), dict):
        kwargs["learning_rate"] = schedules.deserialize(kwargs["learning_rate"])
    return cls(**kwargs)


def serialize(optimizer) -> dict:
    return {"module": "keras.optimizers", "class_name": type(optimizer).__name__,
            "config": optimizer.get_config(), "registered_name": None}


def _from_keras_object(optimizer):
    """A Keras / tf.keras optimizer object as the fmnistcpp one of its class."""
    name = type(optimizer).__name__
    if name.lower() not in _BY_NAME:
        raise _not_here(name)
    try:
        config = optimizer.get_config()
    except Exception as e:  # noqa: BLE001 (Keras's own failure, e.g. a custom schedule)
        raise ValueError(f"cannot read the configuration of the Keras optimizer {name} ({e}); "
                         f"use fmnistcpp.optimizers.{name} instead") from None
    try:
        return deserialize({"class_name": name, "config": config})
    except (ValueError, TypeError) as e:
        raise ValueError(f"cannot convert the Keras optimizer {name}: {e}; use "
                         f"fmnistcpp.optimizers.{name} instead") from None


def _is_keras_optimizer(obj) -> bool:
    module = type(obj).__module__ or ""
    return module.startswith(("keras", "tensorflow", "tf_keras")) and hasattr(obj, "get_config")


def get(identifier) -> Optimizer:
    """An optimizer from a name ('adam', 'nadam', ... in any case), an
    optimizer object (fmnistcpp's, or Keras's / tf.keras's, converted), or a
    serialized dict."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in _BY_NAME:
            return _BY_NAME[key]()
        if key in _NOT_HERE:
            raise _not_here(identifier)
    elif _is_keras_optimizer(identifier):
        return _from_keras_object(identifier)
    raise ValueError(f"Unknown optimizer {identifier!r}. Known optimizers: "
                     f"{', '.join(repr(name) for name in _BY_NAME)} (any case).")


__all__ = ["Optimizer", "schedules", "get", "serialize", "deserialize",
           *(cls.__name__ for cls in _CLASSES)]

# A name Keras 3 has and fmnistcpp lacks gets an error saying so.
from . import _missing  # noqa: E402

__getattr__ = _missing.module_getattr(__name__, "optimizers")
