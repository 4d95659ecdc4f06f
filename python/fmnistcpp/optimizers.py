"""Optimizers with Keras's names and defaults. The update runs in C++
(cpp/optimizer.cpp) with Keras 3's arithmetic; these objects hold the
configuration and, once compiled into a model, read and write the live
learning rate and step count there."""

from __future__ import annotations

import math


class Optimizer:
    def __init__(self, learning_rate, name, **kwargs):
        unsupported = {k: v for k, v in kwargs.items() if v not in (None, False)}
        unsupported.pop("jit_compile", None)
        for key in ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm",
                    "use_ema", "ema_momentum", "ema_overwrite_frequency",
                    "loss_scale_factor", "gradient_accumulation_steps"):
            if key in unsupported:
                raise NotImplementedError(f"{type(self).__name__}({key}=...) is not supported yet")
        if unsupported:
            raise TypeError(
                f"{type(self).__name__} got unexpected keyword argument(s): "
                f"{', '.join(sorted(unsupported))}"
            )
        if callable(learning_rate):
            raise NotImplementedError("learning-rate schedules are not supported yet")
        self._learning_rate = _check_lr(learning_rate)
        self.name = name
        self._network = None

    @property
    def learning_rate(self) -> float:
        if self._network is not None:
            return float(self._network.learning_rate)
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        value = _check_lr(value)
        self._learning_rate = value
        if self._network is not None:
            self._network.learning_rate = value

    lr = learning_rate

    @property
    def iterations(self) -> int:
        return int(self._network.iterations) if self._network is not None else 0

    def _engine_args(self) -> dict:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"name": self.name, "learning_rate": self.learning_rate}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _check_lr(value) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"learning_rate must be a number, got {value!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"learning_rate must be a finite number >= 0, got {value!r}")
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

    def _engine_args(self):
        return dict(optimizer="adam", learning_rate=self._learning_rate, beta_1=self.beta_1,
                    beta_2=self.beta_2, epsilon=self.epsilon, momentum=0.0, nesterov=False)

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

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        if not 0.0 <= float(momentum) <= 1.0:
            raise ValueError(f"SGD momentum must be in [0, 1], got {momentum!r}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def _engine_args(self):
        return dict(optimizer="sgd", learning_rate=self._learning_rate, beta_1=0.9,
                    beta_2=0.999, epsilon=1e-7, momentum=self.momentum, nesterov=self.nesterov)

    def get_config(self):
        config = super().get_config()
        config.update(momentum=self.momentum, nesterov=self.nesterov)
        return config


_BY_NAME = {"adam": Adam, "sgd": SGD}
_NOT_YET = ("rmsprop", "adamw", "adagrad", "adadelta", "adamax", "nadam", "ftrl", "lion")


def get(identifier) -> Optimizer:
    """Resolves 'adam' / 'sgd' (any case), an optimizer object, or a config dict."""
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
                f"optimizer {identifier!r} is not supported yet; supported: 'adam', 'sgd'"
            )
    raise ValueError(f"Unknown optimizer {identifier!r}. Known optimizers: 'adam', 'sgd'.")
