"""Losses with Keras's names. Both are cross-entropies computed in C++ (see
cpp/cross_entropy.hpp for how the softmax output and the clipping follow
Keras 3 exactly); the classes here carry the configuration."""

from __future__ import annotations


class Loss:
    sparse = False

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name=None, ignore_class=None):
        if label_smoothing:
            raise NotImplementedError("label_smoothing is not supported yet")
        if axis != -1:
            raise NotImplementedError("cross-entropy over axis=-1 only")
        if reduction not in ("sum_over_batch_size", "auto", None):
            raise NotImplementedError(f"reduction={reduction!r}: only 'sum_over_batch_size'")
        if ignore_class is not None:
            raise NotImplementedError("ignore_class is not supported")
        self.from_logits = bool(from_logits)
        self.name = name or self._default_name

    def get_config(self):
        return {"name": self.name, "from_logits": self.from_logits, "reduction": "sum_over_batch_size"}

    def engine_spec(self) -> tuple:
        """(the engine's loss name, its arguments)."""
        return self._default_name, {"from_logits": self.from_logits}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(**config)

    def __call__(self, *args, **kwargs):
        raise NotImplementedError(
            "fmnistcpp losses are computed by the C++ engine during fit/evaluate; "
            "they cannot be called on arrays directly."
        )


class CategoricalCrossentropy(Loss):
    """Cross-entropy with one-hot labels `(batch, classes)`.

    Args:
        from_logits: whether the model outputs logits rather than
            probabilities (a softmax output is always treated as logits,
            exactly as Keras does).
    """

    _default_name = "categorical_crossentropy"


class SparseCategoricalCrossentropy(Loss):
    """Cross-entropy with integer labels `(batch,)` in [0, classes).

    Args:
        from_logits: whether the model outputs logits rather than
            probabilities.
    """

    sparse = True
    _default_name = "sparse_categorical_crossentropy"


def categorical_crossentropy(y_true=None, y_pred=None, from_logits=False):
    """Name for `compile(loss=...)`, like keras.losses.categorical_crossentropy."""
    raise NotImplementedError("pass this function to compile(loss=...); it is not callable")


def sparse_categorical_crossentropy(y_true=None, y_pred=None, from_logits=False):
    """Name for `compile(loss=...)`, like keras.losses.sparse_categorical_crossentropy."""
    raise NotImplementedError("pass this function to compile(loss=...); it is not callable")


_BY_NAME = {
    "categorical_crossentropy": CategoricalCrossentropy,
    "CategoricalCrossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "SparseCategoricalCrossentropy": SparseCategoricalCrossentropy,
}


def get(identifier) -> Loss:
    """Resolves a loss given as a string, a loss object or a loss function."""
    if isinstance(identifier, Loss):
        return identifier
    if callable(identifier) and getattr(identifier, "__name__", None) in _BY_NAME:
        identifier = identifier.__name__
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]()
    if isinstance(identifier, dict) and identifier.get("class_name") in _BY_NAME:
        return _BY_NAME[identifier["class_name"]].from_config(identifier.get("config", {}))
    raise ValueError(
        f"Unknown loss {identifier!r}. Known losses: 'categorical_crossentropy', "
        "'sparse_categorical_crossentropy' (strings, functions or their classes)."
    )
