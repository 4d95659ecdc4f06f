"""The hyperparameter types: `Int`, `Float`, `Choice`, `Boolean`, `Fixed`.

Each type maps a probability in [0, 1) to a value (`prob_to_value`) and
back (`value_to_prob`) with keras-tuner's formulas, so a search seeded the
same way samples the same values as `keras_tuner` does. `random_sample(seed)`
draws the probability from `random.Random(seed)`, as keras-tuner.
"""

from __future__ import annotations

import math
import numbers
import random

_SAMPLINGS = ("linear", "log", "reverse_log")


def prob_to_index(prob, n_index):
    """The 0-based bucket of `prob` when [0, 1) is cut into `n_index` equal parts."""
    index = int(math.floor(prob / (1.0 / n_index)))
    return min(index, int(n_index) - 1)  # prob very close to 1


def index_to_prob(index, n_index):
    """The centre of bucket `index` of `n_index` equal parts of [0, 1)."""
    return (index + 0.5) / n_index


def _check_name(name):
    if not isinstance(name, str) or not name:
        raise ValueError(f"a hyperparameter name must be a non-empty string, got {name!r}")
    return name


def _no_conditions(kwargs, cls):
    conditional = [kwargs.pop(k, None) for k in ("parent_name", "parent_values", "conditions")]
    if any(c is not None and c != [] for c in conditional):
        raise NotImplementedError(
            f"{cls}: conditional hyperparameters (parent_name / parent_values) are not "
            "supported by fmnistcpp.tuner")
    if kwargs:
        raise TypeError(f"{cls} got unexpected keyword argument(s): {', '.join(sorted(kwargs))}")


class HyperParameter:
    """Base class of the hyperparameter types.

    Args:
        name: the hyperparameter's name, unique in its search space.
        default: the value used when no value was chosen for it.
    """

    def __init__(self, name, default=None):
        self.name = _check_name(name)
        self._default = default

    @property
    def default(self):
        return self._default

    def get_config(self) -> dict:
        return {"name": self.name, "default": self.default, "conditions": []}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.pop("conditions", None):
            raise NotImplementedError("conditional hyperparameters are not supported")
        return cls(**config)

    def random_sample(self, seed=None):
        """A random value; the same `seed` gives the same value."""
        return self.prob_to_value(float(random.Random(seed).random()))

    def prob_to_value(self, prob):
        raise NotImplementedError

    def value_to_prob(self, value):
        raise NotImplementedError

    def __eq__(self, other):
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self):
        return hash((type(self).__name__, self.name))


class _Numerical(HyperParameter):
    """Shared range logic of `Int` and `Float` (keras-tuner's `Numerical`)."""

    def __init__(self, name, min_value, max_value, step=None, sampling="linear", default=None):
        super().__init__(name=name, default=default)
        self.min_value = min_value
        self.max_value = max_value
        self.step = step
        if sampling is None:
            sampling = "linear"
        if not isinstance(sampling, str) or sampling.lower() not in _SAMPLINGS:
            raise ValueError(f"{type(self).__name__}({name!r}): sampling must be one of "
                             f"{_SAMPLINGS}, got {sampling!r}")
        self.sampling = sampling.lower()
        kind = type(self).__name__
        if min_value > max_value:
            raise ValueError(f"{kind}({name!r}): min_value {min_value} is greater than "
                             f"max_value {max_value}")
        if self.sampling != "linear" and min_value <= 0:
            raise ValueError(f"{kind}({name!r}): sampling={self.sampling!r} needs min_value > 0, "
                             f"got {min_value}")
        if step is not None:
            if self.sampling == "linear" and step <= 0:
                raise ValueError(f"{kind}({name!r}): step must be > 0, got {step}")
            if self.sampling != "linear" and step <= 1:
                raise ValueError(f"{kind}({name!r}): with sampling={self.sampling!r} step is a "
                                 f"multiplier and must be > 1, got {step}")
        if default is not None and not min_value <= default <= max_value:
            raise ValueError(f"{kind}({name!r}): default {default} is outside "
                             f"[{min_value}, {max_value}]")

    def _sample_numerical_value(self, prob, max_value=None):
        max_value = self.max_value if max_value is None else max_value
        lo = self.min_value
        if self.sampling == "linear":
            return prob * (max_value - lo) + lo
        if self.sampling == "log":
            return lo * math.pow(max_value / lo, prob)
        return max_value + lo - lo * math.pow(max_value / lo, 1 - prob)

    def _numerical_to_prob(self, value, max_value=None):
        max_value = self.max_value if max_value is None else max_value
        lo = self.min_value
        if max_value == lo:
            return 0.5
        if self.sampling == "linear":
            return (value - lo) / (max_value - lo)
        if self.sampling == "log":
            return math.log(value / lo) / math.log(max_value / lo)
        return 1.0 - math.log((max_value + lo - value) / lo) / math.log(max_value / lo)

    def _n_steps(self):
        # keras-tuner computes `(max - min) // step + 1`; for floats that
        # can drop max_value (0.5 // 0.1 == 4.0), so a relative tolerance
        # keeps max_value reachable. Integers give the same counts.
        if self.sampling == "linear":
            return int(math.floor((self.max_value - self.min_value) / self.step + 1e-9)) + 1
        return int(math.floor(math.log(self.max_value / self.min_value, self.step) + 1e-9)) + 1

    def _sample_with_step(self, prob):
        index = prob_to_index(prob, self._n_steps())
        if self.sampling == "linear":
            return self.min_value + index * self.step
        if self.sampling == "log":
            return self.min_value * math.pow(self.step, index)
        return self.max_value + self.min_value - self.min_value * math.pow(self.step, index)

    def _to_prob_with_step(self, value):
        if self.sampling == "linear":
            index = (value - self.min_value) // self.step
        elif self.sampling == "log":
            index = math.log(value / self.min_value, self.step)
        else:
            index = math.log((self.max_value - value + self.min_value) / self.min_value, self.step)
        return index_to_prob(index, self._n_steps())

    @property
    def default(self):
        return self._default if self._default is not None else self.min_value

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(min_value=self.min_value, max_value=self.max_value, step=self.step,
                      sampling=self.sampling)
        return config


def _check_int(value, what, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or int(value) != value:
        raise ValueError(f"Int({name!r}): {what} must be an integer, got {value!r}")
    return int(value)


class Int(_Numerical):
    """An integer hyperparameter; `max_value` is included.

    Args:
        name: the hyperparameter's name.
        min_value: lower bound, inclusive.
        max_value: upper bound, inclusive.
        step: distance between two values (`sampling="linear"`, default 1)
            or factor between them (`"log"`, `"reverse_log"`; default: any
            integer in the range).
        sampling: `"linear"`, `"log"` or `"reverse_log"`: how [0, 1) is
            mapped onto the range.
        default: value used when none was chosen; `min_value` if None.

    Example:

    >>> hp = fmnistcpp.tuner.HyperParameters()
    >>> hp.Int("units", min_value=32, max_value=512, step=32)
    32
    """

    def __init__(self, name, min_value, max_value, step=None, sampling="linear", default=None,
                 **kwargs):
        _no_conditions(kwargs, "Int")
        if step is not None:
            step = _check_int(step, "step", name)
        elif sampling in ("linear", None):
            step = 1
        default = None if default is None else _check_int(default, "default", name)
        super().__init__(name, _check_int(min_value, "min_value", name),
                         _check_int(max_value, "max_value", name), step=step,
                         sampling=sampling, default=default)

    def prob_to_value(self, prob):
        if self.step is None:
            # +1 so that max_value can be drawn (prob < 1).
            return int(self._sample_numerical_value(prob, self.max_value + 1))
        return int(self._sample_with_step(prob))

    def value_to_prob(self, value):
        if self.step is None:
            return self._numerical_to_prob(value + 0.5, self.max_value + 1)
        return self._to_prob_with_step(value)

    def get_config(self) -> dict:
        config = super().get_config()
        config["default"] = self._default  # keras-tuner shows None when unset
        return config

    def __repr__(self):
        return (f"Int(name: '{self.name}', min_value: {self.min_value}, max_value: "
                f"{self.max_value}, step: {self.step}, sampling: {self.sampling}, "
                f"default: {self.default})")


def _check_float(value, what, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"Float({name!r}): {what} must be a finite number, got {value!r}")
    return float(value)


class Float(_Numerical):
    """A floating-point hyperparameter in [min_value, max_value].

    Args:
        name: the hyperparameter's name.
        min_value: lower bound.
        max_value: upper bound.
        step: if given, only `min_value + k * step` (`"linear"`) or
            `min_value * step ** k` (`"log"`) are drawn; else any value.
        sampling: `"linear"`, `"log"` or `"reverse_log"`.
        default: value used when none was chosen; `min_value` if None.

    Example:

    >>> hp = fmnistcpp.tuner.HyperParameters()
    >>> hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")
    0.0001
    """

    def __init__(self, name, min_value, max_value, step=None, sampling="linear", default=None,
                 **kwargs):
        _no_conditions(kwargs, "Float")
        step = None if step is None else _check_float(step, "step", name)
        default = None if default is None else _check_float(default, "default", name)
        super().__init__(name, _check_float(min_value, "min_value", name),
                         _check_float(max_value, "max_value", name), step=step,
                         sampling=sampling, default=default)

    def prob_to_value(self, prob):
        if self.step is None:
            return float(self._sample_numerical_value(prob))
        return float(self._sample_with_step(prob))

    def value_to_prob(self, value):
        if self.step is None:
            return self._numerical_to_prob(value)
        return self._to_prob_with_step(value)

    def __repr__(self):
        return (f"Float(name: '{self.name}', min_value: '{self.min_value}', max_value: "
                f"'{self.max_value}', step: '{self.step}', sampling: '{self.sampling}', "
                f"default: '{self.default}')")


class Choice(HyperParameter):
    """One value out of a list.

    Args:
        name: the hyperparameter's name.
        values: non-empty list of int, float, str or bool values, all of one type.
        ordered: whether the values have an order (default: True for
            numbers; must be False for strings and booleans).
        default: value used when none was chosen; `values[0]` if None.

    Example:

    >>> hp = fmnistcpp.tuner.HyperParameters()
    >>> hp.Choice("learning_rate", values=[1e-2, 1e-3, 1e-4])
    0.01
    """

    def __init__(self, name, values, ordered=None, default=None, **kwargs):
        _no_conditions(kwargs, "Choice")
        super().__init__(name=name, default=default)
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or len(values) == 0:
            raise ValueError(f"Choice({name!r}): values must be a non-empty list, got {values!r}")
        values = list(values)
        types = {type(v) for v in values}
        if len(types) > 1:
            raise ValueError(f"Choice({name!r}): all values must be of one type, got {values!r} "
                             f"with types {sorted(t.__name__ for t in types)}")
        first = values[0]
        if isinstance(first, bool):
            conv = bool
        elif isinstance(first, str):
            conv = str
        elif isinstance(first, numbers.Integral):
            conv = int
        elif isinstance(first, numbers.Real):
            conv = float
        else:
            raise ValueError(f"Choice({name!r}): values must be int, float, str or bool, got "
                             f"{type(first).__name__}")
        self.values = [conv(v) for v in values]
        if len(set(self.values)) != len(self.values):
            raise ValueError(f"Choice({name!r}): values must be distinct, got {self.values!r}")
        if default is not None:
            if default not in self.values:
                raise ValueError(f"Choice({name!r}): default {default!r} is not one of the "
                                 f"values {self.values!r}")
            default = conv(default)
        self._default = default
        numeric = conv in (int, float)
        if ordered and not numeric:
            raise ValueError(f"Choice({name!r}): ordered must be False for non-numeric values")
        self.ordered = numeric if ordered is None else bool(ordered)

    @property
    def default(self):
        return self.values[0] if self._default is None else self._default

    def prob_to_value(self, prob):
        return self.values[prob_to_index(prob, len(self.values))]

    def value_to_prob(self, value):
        return index_to_prob(self.values.index(value), len(self.values))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(values=list(self.values), ordered=self.ordered)
        return config

    def __repr__(self):
        return (f"Choice(name: '{self.name}', values: {self.values}, ordered: {self.ordered}, "
                f"default: {self.default})")


class Boolean(HyperParameter):
    """True or False.

    Args:
        name: the hyperparameter's name.
        default: value used when none was chosen (False).

    Example:

    >>> hp = fmnistcpp.tuner.HyperParameters()
    >>> hp.Boolean("dropout")
    False
    """

    def __init__(self, name, default=False, **kwargs):
        _no_conditions(kwargs, "Boolean")
        if not isinstance(default, bool):
            raise ValueError(f"Boolean({name!r}): default must be True or False, got {default!r}")
        super().__init__(name=name, default=default)

    def prob_to_value(self, prob):
        return bool(prob >= 0.5)

    def value_to_prob(self, value):
        return 0.75 if value else 0.25

    def __repr__(self):
        return f"Boolean(name: '{self.name}', default: {self.default})"


class Fixed(HyperParameter):
    """A value that does not change (recorded with the trial's values).

    Args:
        name: the hyperparameter's name.
        value: an int, float, str or bool.

    Example:

    >>> hp = fmnistcpp.tuner.HyperParameters()
    >>> hp.Fixed("optimizer", "adam")
    'adam'
    """

    def __init__(self, name, value, **kwargs):
        kwargs.pop("default", None)
        _no_conditions(kwargs, "Fixed")
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            value = int(value)
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):
            value = float(value)
        elif not isinstance(value, (str, bool)):
            raise ValueError(f"Fixed({name!r}): value must be int, float, str or bool, got "
                             f"{type(value).__name__}")
        super().__init__(name=name, default=value)
        self.value = value

    def prob_to_value(self, prob):
        return self.value

    def value_to_prob(self, value):
        return 0.5

    def get_config(self) -> dict:
        return {"name": self.name, "conditions": [], "value": self.value}

    def __repr__(self):
        return f"Fixed(name: {self.name}, value: {self.value})"


TYPES = {cls.__name__: cls for cls in (Int, Float, Choice, Boolean, Fixed)}
