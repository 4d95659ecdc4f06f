"""`HyperParameters`: the search space and one point of it.

A build function asks it for values (`hp.Int("units", 32, 512, step=32)`).
The first call with a name registers that hyperparameter in the space and
returns its chosen value, or its default when no value was chosen yet; the
tuner fills `values` with a sampled configuration before each trial.
"""

from __future__ import annotations

import copy

from .hyperparameter import TYPES, Boolean, Choice, Fixed, Float, HyperParameter, Int


class HyperParameters:
    """A search space (`space`) and the values chosen in it (`values`).

    Example:

    >>> hp = fmnistcpp.tuner.HyperParameters()
    >>> units = hp.Int("units", min_value=32, max_value=512, step=32)
    >>> lr = hp.Choice("learning_rate", values=[1e-2, 1e-3, 1e-4])
    >>> hp.values
    {'units': 32, 'learning_rate': 0.01}
    >>> hp2 = fmnistcpp.tuner.HyperParameters.from_config(hp.get_config())
    >>> hp2.get("units")
    32
    """

    def __init__(self):
        self._hps: dict = {}  # name -> HyperParameter, in registration order
        self.values: dict = {}

    # --- the space -------------------------------------------------------------
    @property
    def space(self) -> list:
        """The registered hyperparameters, in the order they were first asked for."""
        return list(self._hps.values())

    def _exists(self, name, conditions=None) -> bool:
        return name in self._hps

    def is_active(self, hp) -> bool:
        """Always True: fmnistcpp.tuner has no conditional hyperparameters."""
        name = hp.name if isinstance(hp, HyperParameter) else hp
        return name in self._hps or name in self.values

    def _retrieve(self, hp: HyperParameter):
        existing = self._hps.get(hp.name)
        if existing is None:
            self._hps[hp.name] = hp
        elif type(existing) is not type(hp):
            raise ValueError(
                f"hyperparameter {hp.name!r} is already registered as "
                f"{type(existing).__name__}, cannot register it again as {type(hp).__name__}")
        if hp.name not in self.values:
            self.values[hp.name] = self._hps[hp.name].default
        return self.values[hp.name]

    def Int(self, name, min_value, max_value, step=None, sampling="linear", default=None,
            **kwargs):
        """Registers an integer in [min_value, max_value] and returns its value.
        See `fmnistcpp.tuner.hyperparameter.Int`."""
        return self._retrieve(Int(name, min_value, max_value, step=step, sampling=sampling,
                                  default=default, **kwargs))

    def Float(self, name, min_value, max_value, step=None, sampling="linear", default=None,
              **kwargs):
        """Registers a float in [min_value, max_value] and returns its value.
        See `fmnistcpp.tuner.hyperparameter.Float`."""
        return self._retrieve(Float(name, min_value, max_value, step=step, sampling=sampling,
                                    default=default, **kwargs))

    def Choice(self, name, values, ordered=None, default=None, **kwargs):
        """Registers a choice among `values` and returns the chosen one."""
        return self._retrieve(Choice(name, values, ordered=ordered, default=default, **kwargs))

    def Boolean(self, name, default=False, **kwargs):
        """Registers a boolean and returns its value."""
        return self._retrieve(Boolean(name, default=default, **kwargs))

    def Fixed(self, name, value, **kwargs):
        """Registers a fixed value and returns it."""
        return self._retrieve(Fixed(name, value, **kwargs))

    def conditional_scope(self, parent_name, parent_values):
        raise NotImplementedError("conditional hyperparameters are not supported by "
                                  "fmnistcpp.tuner")

    # --- values -----------------------------------------------------------------
    def get(self, name):
        """The value of `name`: the chosen one, else its default.

        Raises:
            KeyError: no hyperparameter or value has that name.
        """
        if name in self.values:
            return self.values[name]
        if name in self._hps:
            return self._hps[name].default
        raise KeyError(f"{name} does not exist.")

    def __getitem__(self, name):
        return self.get(name)

    def __contains__(self, name):
        return name in self._hps or name in self.values

    def ensure_active_values(self):
        """Gives every registered hyperparameter without a value its default."""
        for hp in self.space:
            self.values.setdefault(hp.name, hp.default)

    # --- copying and merging --------------------------------------------------------
    def merge(self, hps, overwrite=True):
        """Adds hyperparameters (a list, or another `HyperParameters` with its
        values) to this one; with overwrite=False, existing ones are kept."""
        if isinstance(hps, HyperParameters):
            space, values = hps.space, hps.values
        else:
            space, values = list(hps), {}
        for hp in space:
            if overwrite or hp.name not in self._hps:
                self._hps[hp.name] = copy.deepcopy(hp)
        for name, value in values.items():
            if overwrite or name not in self.values:
                self.values[name] = value

    def copy(self) -> "HyperParameters":
        return HyperParameters.from_config(self.get_config())

    def get_config(self) -> dict:
        """A JSON-serialisable dict: `{"space": [...], "values": {...}}`."""
        return {
            "space": [{"class_name": type(hp).__name__, "config": hp.get_config()}
                      for hp in self.space],
            "values": dict(self.values),
        }

    @classmethod
    def from_config(cls, config) -> "HyperParameters":
        """Rebuilds a `HyperParameters` from `get_config()`'s dict.

        Raises:
            ValueError: the dict is not a HyperParameters config.
        """
        if not isinstance(config, dict) or not isinstance(config.get("space"), list) \
                or not isinstance(config.get("values"), dict):
            raise ValueError("not a HyperParameters config: expected a dict with a 'space' "
                             f"list and a 'values' dict, got {str(config)[:200]}")
        hps = cls()
        for spec in config["space"]:
            try:
                hp_cls = TYPES[spec["class_name"]]
                hp = hp_cls.from_config(spec["config"])
            except (KeyError, TypeError) as e:
                raise ValueError(f"not a hyperparameter config: {spec!r} ({e})") from None
            hps._hps[hp.name] = hp
        hps.values = dict(config["values"])
        return hps

    def __repr__(self):
        return f"<HyperParameters values={self.values}>"

    def __eq__(self, other):
        return isinstance(other, HyperParameters) and self.get_config() == other.get_config()
