"""Accuracy metrics with Keras's names, counted in C++ during the batch
loop. The classes carry configuration (name, k)."""

from __future__ import annotations


class Metric:
    sparse = None  # None: follows the loss's label format; True/False: fixed
    top_k = 0      # 0: argmax equality; k >= 1: target within the top k

    direction = "up"  # for monitoring callbacks: higher is better

    def __init__(self, name=None, dtype=None):
        self.name = name or self._default_name

    def get_config(self):
        return {"name": self.name}

    def engine_spec(self) -> tuple:
        """(the engine's metric name, its arguments)."""
        if self.top_k:
            return "top_k_accuracy", {"k": self.top_k}
        return "accuracy", {}


class Accuracy(Metric):
    """Keras's string 'accuracy'/'acc': argmax accuracy for the label format
    the loss uses (sparse or one-hot)."""

    _default_name = "accuracy"


class SparseCategoricalAccuracy(Metric):
    sparse = True
    _default_name = "sparse_categorical_accuracy"


class CategoricalAccuracy(Metric):
    sparse = False
    _default_name = "categorical_accuracy"


class SparseTopKCategoricalAccuracy(Metric):
    """Whether the integer label is among the k highest predictions."""

    sparse = True
    _default_name = "sparse_top_k_categorical_accuracy"

    def __init__(self, k=5, name=None, dtype=None):
        super().__init__(name=name)
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        self.top_k = k

    def get_config(self):
        return {"name": self.name, "k": self.top_k}


class TopKCategoricalAccuracy(SparseTopKCategoricalAccuracy):
    """Whether the one-hot label's class is among the k highest predictions."""

    sparse = False
    _default_name = "top_k_categorical_accuracy"


_BY_NAME = {
    "accuracy": Accuracy,
    "acc": Accuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
}


def get(identifier) -> Metric:
    """Resolves a metric given as a string or an object; strings keep the
    spelling the user wrote as the metric's name ('acc' stays 'acc')."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str) and identifier in _BY_NAME:
        cls = _BY_NAME[identifier]
        return cls(name=identifier) if cls is Accuracy else cls()
    raise ValueError(
        f"Unknown metric {identifier!r}. Known metrics: {', '.join(repr(n) for n in _BY_NAME)}, "
        "or their classes."
    )
