"""`HyperModel`: builds (and optionally fits) a model for a set of hyperparameters."""

from __future__ import annotations


class HyperModel:
    """Subclass it and override `build(hp)`; override `fit` to tune fit's
    arguments (e.g. the batch size) too.

    Args:
        name: optional name.
        tunable: kept for keras-tuner compatibility.

    Example:

    >>> class MLP(fmnistcpp.tuner.HyperModel):
    ...     def build(self, hp):
    ...         model = fmnistcpp.Sequential([
    ...             fmnistcpp.layers.Flatten(input_shape=(28, 28)),
    ...             fmnistcpp.layers.Dense(hp.Int("units", 32, 512, step=32),
    ...                                    activation="relu"),
    ...             fmnistcpp.layers.Dense(10, activation="softmax")])
    ...         model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    ...         return model
    ...     def fit(self, hp, model, *args, **kwargs):
    ...         return model.fit(*args, batch_size=hp.Choice("batch_size", [32, 64]),
    ...                          **kwargs)
    """

    def __init__(self, name=None, tunable=True):
        self.name = name
        self.tunable = tunable

    def build(self, hp):
        """Returns a compiled model for the hyperparameters `hp`."""
        raise NotImplementedError

    def fit(self, hp, model, *args, **kwargs):
        """Trains `model`; returns its History (default: `model.fit(*args, **kwargs)`)."""
        return model.fit(*args, **kwargs)

    def declare_hyperparameters(self, hp):
        raise NotImplementedError


class _FunctionHyperModel(HyperModel):
    """Wraps a `build(hp)` function."""

    def __init__(self, build):
        super().__init__(name=getattr(build, "__name__", None))
        self._build = build

    def build(self, hp):
        return self._build(hp)


def get_hypermodel(hypermodel) -> HyperModel:
    """A `HyperModel` from a HyperModel or a `build(hp)` callable.

    Raises:
        ValueError: `hypermodel` is neither.
    """
    if isinstance(hypermodel, HyperModel):
        return hypermodel
    if callable(hypermodel) and not isinstance(hypermodel, type):
        return _FunctionHyperModel(hypermodel)
    raise ValueError(
        "The `hypermodel` argument should be either a callable with signature `build(hp)` "
        f"returning a compiled model, or an instance of `HyperModel`; got {hypermodel!r}")
