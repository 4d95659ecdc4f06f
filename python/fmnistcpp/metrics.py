"""Keras 3's metrics (keras.metrics): classes, functions and string names.
Their state is accumulated in C++ (cpp/metrics.hpp) over a whole pass, so
fit/evaluate report Keras's epoch value; the classes carry Keras's
arguments, and `update_state` / `result` / `reset_state` on arrays run
the same C++ accumulators."""

from __future__ import annotations

import re

import numpy as np

from . import _core, losses
from .backend import arrays as data


def _snake(name):
    """keras.src.utils.naming.to_snake_case."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


class Metric:
    """keras.metrics.Metric. `direction` ('up' / 'down', Keras's
    `_direction`) tells the monitoring callbacks which way is better."""

    _kind = None      # the engine's metric
    sparse = False    # labels are class indices rather than the output's shape
    direction = "up"

    def __init__(self, name=None, dtype=None):
        if dtype not in (None, "float32"):
            raise NotImplementedError(f"metric dtype={dtype!r}: the engine computes in float32")
        self.name = name or losses._unique_name(_snake(type(self).__name__))
        self.dtype = "float32"
        self._state = None  # the C++ accumulator behind update_state, made at the first call
        if self._kind is not None:
            _core.make_metric(self._kind, self._arguments())  # Keras checks arguments up front

    @property
    def _direction(self):
        return self.direction

    def _arguments(self) -> dict:
        return {}

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def engine_spec(self, output_shape=None) -> tuple:
        """(the engine's metric name, its arguments) for an output of
        `output_shape` (per sample)."""
        if self._kind is None:
            raise NotImplementedError(
                f"{type(self).__name__} computes in Python, which the C++ engine cannot run; "
                f"use one of the built-in metrics: {', '.join(_CLASSES)}")
        args = losses._normalise_axis(dict(self._arguments()), 1 + len(output_shape or ()))
        if output_shape:
            args["last_axis_size"] = int(output_shape[-1])
        return self._kind, args

    def _result_shape(self, output_shape) -> tuple:
        """The shape of result() for this output: () for one number."""
        return ()

    # --- Keras's stateful API on arrays -----------------------------------------------
    def update_state(self, y_true, y_pred, sample_weight=None):
        pred = np.asarray(data.to_array(y_pred, "y_pred"), dtype=np.float32)
        if pred.ndim == 1:
            pred = pred[:, None]
        y = _labels_like(y_true, pred, self.sparse, self.name)
        w = None
        if sample_weight is not None:
            w = data.as_sample_weight(sample_weight, len(pred))
        if self._state is None:
            kind, args = self.engine_spec(pred.shape[1:])
            self._state = (_core.make_metric(kind, args), pred.shape[1:])
        elif self._state[1] != pred.shape[1:]:
            raise ValueError(f"metric {self.name!r} was updated with predictions of shape "
                             f"{self._state[1]} per sample, now {pred.shape[1:]}")
        self._state[0].update(np.ascontiguousarray(pred.reshape(len(pred), -1)), y, w)

    def result(self):
        if self._state is None:
            return np.float32(0.0)
        values = self._state[0].results()
        shape = self._result_shape(self._state[1])
        return np.asarray(values, np.float32).reshape(shape) if shape else np.float32(values[0])

    def reset_state(self):
        if self._state is not None:
            self._state[0].reset()

    def __call__(self, y_true, y_pred, sample_weight=None):
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def _labels_like(y_true, pred, sparse, what):
    """Labels as the C++ metric reads them: int32 (N,) indices, or float32
    of the prediction's shape (Keras's squeeze_or_expand_to_same_rank)."""
    y = data.to_array(y_true, "y_true")
    data._check_real(y, "y_true")
    if sparse:
        if y.ndim == pred.ndim and y.shape[-1] == 1:
            y = y[..., 0]
        if y.shape != (len(pred),) or pred.ndim != 2:
            raise ValueError(f"{what} expects integer labels of shape ({len(pred)},) for "
                             f"predictions (N, classes), got labels {y.shape}, predictions "
                             f"{pred.shape}")
        return np.ascontiguousarray(np.round(y), dtype=np.int32)
    y = np.asarray(y, dtype=np.float32)
    if y.ndim == pred.ndim - 1 and pred.shape[-1] == 1:
        y = y[..., None]
    if y.shape != pred.shape:
        raise ValueError(f"{what} expects labels of the predictions' shape {pred.shape}, got "
                         f"{y.shape}")
    return np.ascontiguousarray(y.reshape(len(pred), -1))


def _metric_class(cls_name, kind, default_name, direction, doc, sparse=False, **arguments):
    """A Keras metric class whose arguments are `name`, `dtype` and the given
    keyword arguments (with their defaults), all in get_config."""
    def __init__(self, name=default_name, dtype=None, **kwargs):
        unknown = set(kwargs) - set(arguments)
        if unknown:
            raise TypeError(f"{cls_name}() got unexpected arguments {sorted(unknown)}")
        for key, default in arguments.items():
            setattr(self, key, kwargs.get(key, default))
        Metric.__init__(self, name=name, dtype=dtype)

    def _arguments(self):
        return {key: getattr(self, key) for key in arguments}

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, **self._arguments()}

    return type(cls_name, (Metric,), {
        "__init__": __init__, "_arguments": _arguments, "get_config": get_config,
        "_kind": kind, "sparse": sparse, "direction": direction, "__doc__": doc,
        "__module__": __name__})


Accuracy = _metric_class("Accuracy", "accuracy", "accuracy", "up",
                         "How often predictions equal labels exactly (not argmax: the string "
                         "'accuracy' in compile picks the right accuracy by the shapes).")
BinaryAccuracy = _metric_class("BinaryAccuracy", "binary_accuracy", "binary_accuracy", "up",
                               "How often (y_pred > threshold) equals the 0/1 label.",
                               threshold=0.5)
CategoricalAccuracy = _metric_class("CategoricalAccuracy", "categorical_accuracy",
                                    "categorical_accuracy", "up",
                                    "How often argmax(y_pred) equals argmax(y_true).")
SparseCategoricalAccuracy = _metric_class(
    "SparseCategoricalAccuracy", "sparse_categorical_accuracy", "sparse_categorical_accuracy",
    "up", "How often argmax(y_pred) equals the integer label.", sparse=True)
TopKCategoricalAccuracy = _metric_class(
    "TopKCategoricalAccuracy", "top_k_categorical_accuracy", "top_k_categorical_accuracy", "up",
    "How often the one-hot label's class is among the k highest predictions.", k=5)
SparseTopKCategoricalAccuracy = _metric_class(
    "SparseTopKCategoricalAccuracy", "sparse_top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy", "up",
    "How often the integer label is among the k highest predictions.", sparse=True, k=5,
    from_sorted_ids=False)
_sparse_top_k_config = SparseTopKCategoricalAccuracy.get_config
SparseTopKCategoricalAccuracy.get_config = lambda self: {  # Keras lists from_sorted_ids only when set
    k: v for k, v in _sparse_top_k_config(self).items()
    if k != "from_sorted_ids" or self.from_sorted_ids}

MeanSquaredError = _metric_class("MeanSquaredError", "mean_squared_error", "mean_squared_error",
                                 "down", "The mean of keras.losses.mean_squared_error.")
MeanAbsoluteError = _metric_class("MeanAbsoluteError", "mean_absolute_error",
                                  "mean_absolute_error", "down",
                                  "The mean of keras.losses.mean_absolute_error.")
MeanAbsolutePercentageError = _metric_class(
    "MeanAbsolutePercentageError", "mean_absolute_percentage_error",
    "mean_absolute_percentage_error", "down", "The mean of the percentage error.")
MeanSquaredLogarithmicError = _metric_class(
    "MeanSquaredLogarithmicError", "mean_squared_logarithmic_error",
    "mean_squared_logarithmic_error", "down", "The mean of the squared logarithmic error.")
RootMeanSquaredError = _metric_class("RootMeanSquaredError", "root_mean_squared_error",
                                     "root_mean_squared_error", "down",
                                     "sqrt(mean((y_true - y_pred)^2)) over the pass.")
CosineSimilarity = _metric_class("CosineSimilarity", "cosine_similarity", "cosine_similarity",
                                 "up", "The mean cosine similarity (positive, unlike the loss).",
                                 axis=-1)
CosineSimilarity.get_config = Metric.get_config  # Keras's omits axis
LogCoshError = _metric_class("LogCoshError", "log_cosh", "logcosh", "down",
                             "The mean of keras.losses.log_cosh.")
KLDivergence = _metric_class("KLDivergence", "kl_divergence", "kl_divergence", "down",
                             "The mean of keras.losses.kl_divergence.")
Poisson = _metric_class("Poisson", "poisson", "poisson", "down",
                        "The mean of keras.losses.poisson.")
Hinge = _metric_class("Hinge", "hinge", "hinge", "down", "The mean of keras.losses.hinge.")
SquaredHinge = _metric_class("SquaredHinge", "squared_hinge", "squared_hinge", "down",
                             "The mean of keras.losses.squared_hinge.")
CategoricalHinge = _metric_class("CategoricalHinge", "categorical_hinge", "categorical_hinge",
                                 "down", "The mean of keras.losses.categorical_hinge.")
BinaryCrossentropy = _metric_class(
    "BinaryCrossentropy", "binary_crossentropy", "binary_crossentropy", "down",
    "The mean binary cross-entropy, from the model's output as it is (probabilities).",
    from_logits=False, label_smoothing=0)
CategoricalCrossentropy = _metric_class(
    "CategoricalCrossentropy", "categorical_crossentropy", "categorical_crossentropy", "down",
    "The mean categorical cross-entropy of the output's probabilities.",
    from_logits=False, label_smoothing=0, axis=-1)
SparseCategoricalCrossentropy = _metric_class(
    "SparseCategoricalCrossentropy", "sparse_categorical_crossentropy",
    "sparse_categorical_crossentropy", "down",
    "The mean sparse categorical cross-entropy of the output's probabilities.", sparse=True,
    from_logits=False, ignore_class=None, axis=-1)


from .metrics_confusion import AUC, F1Score, FBetaScore, Precision, Recall  # noqa: E402
from .metrics_functions import (  # noqa: E402
    MeanMetricWrapper, binary_accuracy, categorical_accuracy, deserialize, get,
    resolve_accuracy, serialize, sparse_categorical_accuracy, sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy, _CLASSES)
from .losses import (  # noqa: E402,F401  (Keras exports the loss functions as metrics too)
    binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
    categorical_hinge, hinge, huber, kl_divergence, log_cosh,
    mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
    mean_squared_logarithmic_error, poisson, sparse_categorical_crossentropy, squared_hinge)

# A name Keras 3 has and fmnistcpp lacks gets an error saying so.
from . import _missing  # noqa: E402

__getattr__ = _missing.module_getattr(__name__, "metrics")
