"""The base of fmnistcpp's optimizers (`fmnistcpp.optimizers.Optimizer`).

An optimizer object holds Keras's arguments; the C++ engine's optimizer
(cpp/optimizer.cpp) checks them when the object is made, as Keras does,
and runs the update, owning the state. Once compiled into a model, the
object reads and writes that engine optimizer's learning rate and step
count.

Every optimizer takes Keras's base arguments: `weight_decay` (decoupled,
w -= w * weight_decay * lr before each update), one of `clipnorm`
(per variable), `global_clipnorm` or `clipvalue`, and `use_ema` with
`ema_momentum` and `ema_overwrite_frequency` (the moving average of the
weights, copied into the model at the end of `fit`, as Keras does).
`learning_rate` may be a number, a `schedules.ExponentialDecay` (evaluated
per step in C++), any other `LearningRateSchedule` or a callable taking no
argument (evaluated in Python before each batch).
"""

from __future__ import annotations

import math
import warnings
import weakref

from . import _core
from . import optimizers_schedules as schedules


class _Checked(type):
    """Has the engine check the arguments once the most derived __init__
    has run, so a bad one fails when the optimizer is made, as in Keras."""

    def __call__(cls, *args, **kwargs):
        optimizer = super().__call__(*args, **kwargs)
        _core.check_optimizer(optimizer._engine_class, optimizer._engine_args())
        return optimizer


class Optimizer(metaclass=_Checked):
    _engine_class = None    # the engine optimizer's (and Keras's) class name
    _hyperparameters = ()   # the class's own arguments, in Keras's get_config order

    def __init__(self, learning_rate, name, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, **kwargs):
        kwargs.pop("jit_compile", None)  # Keras 2's; nothing to compile here
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.")
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.use_ema, self.ema_momentum = bool(use_ema), ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
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

    # --- the engine --------------------------------------------------------------------
    def _engine_spec(self) -> tuple:
        """(Keras's class name, the arguments the engine's optimizer takes)."""
        return self._engine_class, self._engine_args()

    def _engine_args(self) -> dict:
        args = dict(learning_rate=self._learning_rate, weight_decay=self.weight_decay,
                    clipnorm=self.clipnorm, clipvalue=self.clipvalue,
                    global_clipnorm=self.global_clipnorm, use_ema=self.use_ema,
                    ema_momentum=self.ema_momentum,
                    ema_overwrite_frequency=self.ema_overwrite_frequency,
                    loss_scale_factor=self.loss_scale_factor,
                    gradient_accumulation_steps=self.gradient_accumulation_steps)
        if self._schedule is not None:
            args.update(decay_steps=float(self._schedule.decay_steps),
                        decay_rate=float(self._schedule.decay_rate),
                        staircase=bool(self._schedule.staircase))
        args.update({key: getattr(self, key) for key in self._hyperparameters})
        return args

    def _attach(self, model, network) -> None:
        """Compile: the model's engine network runs this optimizer from now on
        (unless the optimizer already trains another model, see _claim)."""
        owner = self._built_for() if self._built_for is not None else None
        if owner is None or owner is model:
            self._network = network

    def _claim(self, model) -> None:
        """Keras's rule: an optimizer is built for the variables of the first
        model it trains and refuses any other."""
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

    def finalize_variable_values(self, var_list=None):
        """With use_ema, the weights take their moving averages (what `fit`
        does at its end, as Keras's)."""
        if self.use_ema and self._network is not None and self.iterations > 0:
            self._network.finalize_optimizer()

    # --- learning rate and step count ----------------------------------------------------
    @property
    def learning_rate(self) -> float:
        """The rate the next step uses; with a schedule, the schedule at
        the current iteration count (as Keras's `optimizer.learning_rate`)."""
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

    def _python_learning_rate(self, step: int) -> float:
        schedule = self._python_schedule
        value = schedule(step) if isinstance(schedule, schedules.LearningRateSchedule) \
            else schedule()
        return _check_lr(value)

    def _apply_python_schedule(self) -> None:
        """Sets the rate for the next step from the Python schedule."""
        self._network.learning_rate = self._python_learning_rate(self.iterations)

    # --- configuration -------------------------------------------------------------------
    def get_config(self) -> dict:
        """Keras's get_config: the base arguments, then the class's own."""
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
        config = {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                  "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
                  "clipvalue": self.clipvalue, "use_ema": self.use_ema,
                  "ema_momentum": self.ema_momentum,
                  "ema_overwrite_frequency": self.ema_overwrite_frequency,
                  "loss_scale_factor": self.loss_scale_factor,
                  "gradient_accumulation_steps": self.gradient_accumulation_steps}
        config.update({key: getattr(self, key) for key in self._hyperparameters})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"])
        return cls(**config)


def _check_lr(value) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"learning_rate must be a number, got {value!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"learning_rate must be a finite number >= 0, got {value!r}")
    return value
