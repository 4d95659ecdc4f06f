"""`Objective`: the metric a search optimises and its direction.

A string objective gets its direction the way keras-tuner infers it
(`keras_tuner/src/engine/metrics_tracking.py`, `infer_metric_direction`):
the `val_` and `weighted_` prefixes are dropped, `loss` (and the other
losses and error metrics) is minimised, accuracy-like metrics are
maximised, and any other name cannot be inferred: pass an `Objective`.
"""

from __future__ import annotations

import math

# Names keras-tuner maximises (Keras's accuracy/precision/recall/AUC metrics,
# in both the function and the snake_case class spelling).
_MAX_METRICS = {
    "acc", "accuracy", "binary_accuracy", "categorical_accuracy",
    "sparse_categorical_accuracy", "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy", "precision", "recall", "auc", "true_positives",
    "true_negatives", "sensitivity_at_specificity", "specificity_at_sensitivity",
}
# Names it minimises: the losses and error metrics Keras knows.
_MIN_METRICS = {
    "loss", "crossentropy", "ce", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "binary_crossentropy", "mean_squared_error", "mse",
    "mean_absolute_error", "mae", "mean_absolute_percentage_error", "mape",
    "mean_squared_logarithmic_error", "msle", "hinge", "squared_hinge", "categorical_hinge",
    "kl_divergence", "kld", "kullback_leibler_divergence", "logcosh", "log_cosh", "poisson",
    "huber", "root_mean_squared_error", "false_positives", "false_negatives",
}


def infer_metric_direction(name: str):
    """'min', 'max', or None when the direction of `name` is not known."""
    base = name[4:] if name.startswith("val_") else name
    if base.startswith("weighted_"):
        base = base[9:]
    if base in _MAX_METRICS:
        return "max"
    if base in _MIN_METRICS:
        return "min"
    return None


class Objective:
    """The metric to optimise and whether larger or smaller is better.

    Args:
        name: a key of the logs `fit` reports, e.g. `"val_accuracy"`.
        direction: `"min"` or `"max"`.

    Example:

    >>> tuner = fmnistcpp.tuner.RandomSearch(
    ...     build_model, objective=fmnistcpp.tuner.Objective("val_loss", "min"),
    ...     max_trials=5)
    """

    def __init__(self, name, direction):
        if not isinstance(name, str) or not name:
            raise ValueError(f"Objective name must be a non-empty string, got {name!r}")
        if direction not in ("min", "max"):
            raise ValueError(f"Objective direction must be 'min' or 'max', got {direction!r}")
        self.name = name
        self.direction = direction

    def has_value(self, logs) -> bool:
        return self.name in (logs or {})

    def get_value(self, logs):
        return logs[self.name]

    def better_than(self, a, b) -> bool:
        """Whether value `a` is strictly better than `b` (NaN never is)."""
        if a is None or (isinstance(a, float) and math.isnan(a)):
            return False
        if b is None or (isinstance(b, float) and math.isnan(b)):
            return True
        return a > b if self.direction == "max" else a < b

    def get_config(self) -> dict:
        return {"name": self.name, "direction": self.direction}

    @classmethod
    def from_config(cls, config):
        return cls(config["name"], config["direction"])

    def __eq__(self, other):
        return isinstance(other, Objective) and (self.name, self.direction) == \
            (other.name, other.direction)

    def __str__(self):
        return f'Objective(name="{self.name}", direction="{self.direction}")'

    __repr__ = __str__


def create_objective(objective) -> Objective:
    """An `Objective` from a string or an `Objective`.

    Raises:
        ValueError: the direction of a string objective cannot be inferred,
            or the objective is neither a string nor an `Objective`.
    """
    if isinstance(objective, Objective):
        return objective
    if isinstance(objective, (list, tuple)):
        raise NotImplementedError("several objectives are not supported by fmnistcpp.tuner; "
                                  "pass one string or Objective")
    if not isinstance(objective, str) or not objective:
        raise ValueError("objective must be a metric name such as 'val_accuracy' or a "
                         f"fmnistcpp.tuner.Objective, got {objective!r}")
    direction = infer_metric_direction(objective)
    if direction is None:
        raise ValueError(
            f'Could not infer optimization direction ("min" or "max") for unknown metric '
            f'"{objective}". Please specify the objective as a `fmnistcpp.tuner.Objective`, '
            f'for example `fmnistcpp.tuner.Objective("{objective}", direction="min")`.')
    return Objective(objective, direction)
