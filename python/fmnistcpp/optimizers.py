"""Optimizers with Keras's names and defaults. The update runs in C++
(cpp/optimizer.cpp) with Keras 3's arithmetic; these objects hold the
configuration and, once compiled into a model, read and write the live
learning rate and step count there.

``learning_rate`` may be a number or a
``fmnistcpp.optimizers.schedules.ExponentialDecay`` (evaluated per step in
C++); ``weight_decay=`` (decoupled, as Keras's base optimizer) works on every
optimizer."""

from __future__ import annotations

import math
import sys

from . import optimizers_schedules as schedules

sys.modules.setdefault(__name__ + ".schedules", schedules)


class Optimizer:
    def __init__(self, learning_rate, name, weight_decay=None, **kwargs):
        unsupported = {k: v for k, v in kwargs.items() if v not in (None, False)}
        unsupported.pop("jit_compile", None)
        for key in ("clipnorm", "clipvalue", "global_clipnorm",
                    "use_ema", "ema_momentum", "ema_overwrite_frequency",
                    "loss_scale_factor", "gradient_accumulation_steps"):
            if key in unsupported:
                raise NotImplementedError(f"{type(self).__name__}({key}=...) is not supported yet")
        if unsupported:
            raise TypeError(
                f"{type(self).__name__} got unexpected keyword argument(s): "
                f"{', '.join(sorted(unsupported))}"
            )
        if weight_decay is not None:
            weight_decay = _check_nonnegative(weight_decay, "weight_decay")
        self.weight_decay = weight_decay
        self._schedule = None
        # Other schedules run in Python: a LearningRateSchedule is called
        # with the step, any other callable with no arguments (Keras 3's
        # rule), before every batch (see _python_learning_rate).
        self._python_schedule = None
        if isinstance(learning_rate, schedules.ExponentialDecay):
            self._schedule = learning_rate
            self._learning_rate = float(learning_rate.initial_learning_rate)
        elif callable(learning_rate):
            self._python_schedule = learning_rate
            self._learning_rate = self._python_learning_rate(0)
        else:
            self._learning_rate = _check_lr(learning_rate)
        self.name = name
        self._network = None   # the engine network of the model compiled last
        self._built_for = None  # weakref to the model whose variables it updates

    def _attach(self, model, network) -> None:
        """Compile: the model's engine network runs this optimizer from now on
        (unless the optimizer already trains another model, see _claim)."""
        owner = self._built_for() if self._built_for is not None else None
        if owner is None or owner is model:
            self._network = network

    def _claim(self, model) -> None:
        """Keras's rule: an optimizer is built for the variables of the first
        model it trains and refuses any other."""
        import weakref

        owner = self._built_for() if self._built_for is not None else None
        if owner is None:
            self._built_for = weakref.ref(model)
            self._network = model._compiled_engine.network
        elif owner is not model:
            raise ValueError(
                f"This optimizer ({self.name}) was built for the variables of the model "
                f"{owner.name!r} and can only be called for the variables it was originally "
                f"built with; model {model.name!r} has other variables. When working with a new "
                "set of variables, you should recreate a new optimizer instance."
            )

    def _has_schedule(self) -> bool:
        """Keras keeps no learning_rate variable when a schedule sets it."""
        return self._schedule is not None or self._python_schedule is not None

    def _state_arrays_sizes(self) -> list:
        return list(self._network.optimizer_slot_sizes()) if self._network is not None else []

    def _engine_spec(self) -> tuple:
        """(Keras's class name, the arguments the engine's optimizer takes)."""
        return self._engine_class, self._engine_args()

    @property
    def learning_rate(self) -> float:
        """The rate the next step uses; with a schedule, the schedule at
        the current iteration count (as Keras's ``optimizer.learning_rate``)."""
        if self._python_schedule is not None:
            return self._python_learning_rate(self.iterations)
        if self._network is not None:
            return float(self._network.learning_rate)
        if self._schedule is not None:
            return float(self._schedule(0))
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(value, schedules.LearningRateSchedule) or callable(value):
            raise NotImplementedError("setting a schedule after construction is not supported")
        value = _check_lr(value)
        self._learning_rate = value
        self._schedule = None  # a number replaces a schedule, as in Keras
        self._python_schedule = None
        if self._network is not None:
            self._network.learning_rate = value

    lr = learning_rate

    @property
    def iterations(self) -> int:
        return int(self._network.iterations) if self._network is not None else 0

    _engine_class = None  # the engine optimizer's name

    def _engine_args(self) -> dict:
        raise NotImplementedError

    def _python_learning_rate(self, step: int) -> float:
        schedule = self._python_schedule
        value = schedule(step) if isinstance(schedule, schedules.LearningRateSchedule) \
            else schedule()
        return _check_lr(value)

    def _apply_python_schedule(self) -> None:
        """Sets the rate for the next step from the Python schedule."""
        self._network.learning_rate = self._python_learning_rate(self.iterations)

    def _common_engine_args(self) -> dict:
        args = dict(learning_rate=self._learning_rate, weight_decay=self.weight_decay or 0.0)
        if self._schedule is not None:
            args.update(decay_steps=float(self._schedule.decay_steps),
                        decay_rate=float(self._schedule.decay_rate),
                        staircase=bool(self._schedule.staircase))
        return args

    def get_config(self) -> dict:
        # A Python schedule is saved through its get_config when it has one
        # (Keras's own rule); a plain callable cannot be, and its current
        # value is saved instead.
        if self._schedule is not None:
            lr = schedules.serialize(self._schedule)
        elif isinstance(self._python_schedule, schedules.LearningRateSchedule):
            try:
                lr = schedules.serialize(self._python_schedule)
            except NotImplementedError:
                lr = self.learning_rate
        else:
            lr = self.learning_rate
        return {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"])
        return cls(**config)


def _check_lr(value) -> float:
    return _check_nonnegative(value, "learning_rate")


def _check_nonnegative(value, what) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{what} must be a finite number >= 0, got {value!r}")
    return value


class Adam(Optimizer):
    """Adam, as Keras 3: alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t),
    w -= alpha * m / (sqrt(v) + epsilon).

    Args:
        learning_rate: default 0.001.
        beta_1: default 0.9.
        beta_2: default 0.999.
        epsilon: default 1e-7.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, name="adam", **kwargs):
        if amsgrad:
            raise NotImplementedError("Adam(amsgrad=True) is not supported yet")
        super().__init__(learning_rate, name, **kwargs)
        for what, value in (("beta_1", beta_1), ("beta_2", beta_2)):
            if not 0.0 <= float(value) < 1.0:
                raise ValueError(f"Adam {what} must be in [0, 1), got {value!r}")
        if not float(epsilon) > 0:
            raise ValueError(f"Adam epsilon must be > 0, got {epsilon!r}")
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    _engine_class = "Adam"

    def _engine_args(self):
        return dict(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon,
                    **self._common_engine_args())

    def get_config(self):
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon,
                      amsgrad=False)
        return config


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum, as
    Keras 3.

    Args:
        learning_rate: default 0.01.
        momentum: default 0.0.
        nesterov: default False.
    """

    _engine_class = "SGD"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        try:
            momentum = float(momentum)
        except (TypeError, ValueError):
            raise ValueError(f"SGD momentum must be a number in [0, 1], got {momentum!r}") from None
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"SGD momentum must be in [0, 1], got {momentum!r}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def _engine_args(self):
        return dict(momentum=self.momentum, nesterov=self.nesterov, **self._common_engine_args())

    def get_config(self):
        config = super().get_config()
        config.update(momentum=self.momentum, nesterov=self.nesterov)
        return config


class AdamW(Adam):
    """Adam with decoupled weight decay, as Keras 3: before each Adam step
    every weight is shrunk, w -= w * weight_decay * lr.

    Args:
        learning_rate: default 0.001.
        weight_decay: default 0.004.
        beta_1, beta_2, epsilon: as Adam.
    """

    _engine_class = "AdamW"

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, name="adamw", **kwargs):
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: "
                             "weight_decay=None")
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, name=name,
                         weight_decay=weight_decay, **kwargs)


class RMSprop(Optimizer):
    """RMSprop, as Keras 3: v = rho * v + (1 - rho) * g^2,
    w -= lr * g / sqrt(v + epsilon) (centered: v - mean(g)^2 + epsilon),
    through a momentum accumulator when momentum > 0.

    Args:
        learning_rate: default 0.001.
        rho: default 0.9.
        momentum: default 0.0.
        epsilon: default 1e-7.
        centered: default False.
    """

    _engine_class = "RMSprop"

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, name="rmsprop", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        if not 0.0 <= float(rho) <= 1.0:
            raise ValueError(f"RMSprop rho must be in [0, 1], got {rho!r}")
        if not 0.0 <= float(momentum) <= 1.0:
            raise ValueError(f"RMSprop momentum must be in [0, 1], got {momentum!r}")
        if not float(epsilon) > 0:
            raise ValueError(f"RMSprop epsilon must be > 0, got {epsilon!r}")
        self.rho, self.momentum = float(rho), float(momentum)
        self.epsilon, self.centered = float(epsilon), bool(centered)

    def _engine_args(self):
        return dict(epsilon=self.epsilon, momentum=self.momentum, rho=self.rho,
                    centered=self.centered, **self._common_engine_args())

    def get_config(self):
        config = super().get_config()
        config.update(rho=self.rho, momentum=self.momentum, epsilon=self.epsilon,
                      centered=self.centered)
        return config


_BY_NAME = {"adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "sgd": SGD}
_NOT_YET = ("adagrad", "adadelta", "adamax", "nadam", "ftrl", "lion")
_KNOWN = "'adam', 'adamw', 'rmsprop', 'sgd'"


def get(identifier) -> Optimizer:
    """Resolves 'adam' / 'adamw' / 'rmsprop' / 'sgd' (any case), an
    optimizer object, or a config dict."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        cls = _BY_NAME.get(str(identifier.get("class_name", "")).lower())
        if cls is not None:
            return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in _BY_NAME:
            return _BY_NAME[key]()
        if key in _NOT_YET:
            raise NotImplementedError(
                f"optimizer {identifier!r} is not supported yet; supported: {_KNOWN}"
            )
    raise ValueError(f"Unknown optimizer {identifier!r}. Known optimizers: {_KNOWN}.")
