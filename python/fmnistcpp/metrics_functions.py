"""Keras's metric functions (keras.metrics.binary_accuracy(y_true, y_pred)
and the loss functions), MeanMetricWrapper, the string names, and how
compile resolves them (keras/src/trainers/compile_utils.py, get_metric)."""

from __future__ import annotations

import inspect

import numpy as np

from . import _core, losses
from . import metrics as m
from .metrics_confusion import AUC, F1Score, FBetaScore, Precision, Recall


def _values(kind, args, y_true, y_pred, sparse, shape_of):
    pred = np.asarray(y_pred, dtype=np.float32)
    if pred.ndim == 1:
        pred = pred[:, None]
    y = m._labels_like(y_true, pred, sparse, kind)
    args = dict(args, last_axis_size=int(pred.shape[-1]))
    out = _core.metric_values(kind, args, np.ascontiguousarray(pred.reshape(len(pred), -1)), y)
    return np.asarray(out).reshape(shape_of(pred))


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where (y_pred > threshold) equals y_true, elementwise."""
    return _values("binary_accuracy", {"threshold": threshold}, y_true, y_pred, False,
                   lambda p: p.shape)


def categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) equals argmax(y_true), per sample."""
    return _values("categorical_accuracy", {}, y_true, y_pred, False, lambda p: p.shape[:-1])


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) equals the integer label, per sample."""
    return _values("sparse_categorical_accuracy", {}, y_true, y_pred, True,
                   lambda p: p.shape[:-1])


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot label's class is in the top k, per sample."""
    return _values("top_k_categorical_accuracy", {"k": k}, y_true, y_pred, False,
                   lambda p: p.shape[:-1])


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the integer label is in the top k, per sample."""
    return _values("sparse_top_k_categorical_accuracy",
                   {"k": k, "from_sorted_ids": from_sorted_ids}, y_true, y_pred, True,
                   lambda p: p.shape[:-1])


# Each metric function and the class that accumulates its mean.
_FUNCTION_CLASSES = {
    binary_accuracy: m.BinaryAccuracy, categorical_accuracy: m.CategoricalAccuracy,
    sparse_categorical_accuracy: m.SparseCategoricalAccuracy,
    top_k_categorical_accuracy: m.TopKCategoricalAccuracy,
    sparse_top_k_categorical_accuracy: m.SparseTopKCategoricalAccuracy}
_FUNCTIONS = {f.__name__: f for f in _FUNCTION_CLASSES}
_FUNCTIONS.update({name: fn for name, fn in losses._FUNCTIONS.items()
                   if name not in ("cosine_similarity",)})


class MeanMetricWrapper(m.Metric):
    """The mean of a metric or loss function (one of Keras's), with its
    keyword arguments. Wrapping a loss makes the direction 'down'; an
    accuracy function has no direction, as in Keras."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        fn_name = getattr(fn, "__name__", None)
        if _FUNCTIONS.get(fn_name) is not fn and not (
                fn_name in _FUNCTIONS and getattr(fn, "__module__", "").startswith(
                    ("keras", "tensorflow", "tf_keras"))):
            raise NotImplementedError(
                f"the metric function {fn_name or fn!r} is Python code, which the C++ engine "
                f"cannot run; use one of: {', '.join(_FUNCTIONS)}")
        self._fn = _FUNCTIONS[fn_name]
        self._fn_kwargs = kwargs
        if self._fn in _FUNCTION_CLASSES:
            template = _FUNCTION_CLASSES[self._fn]
            self._kind, self.direction = template._kind, None
        else:
            template = self._fn._loss_class
            self._kind, self.direction = self._fn.__name__, "down"
        self.sparse = template.sparse
        super().__init__(name=name or m._snake(fn_name), dtype=dtype)

    def _arguments(self):
        return dict(self._fn_kwargs)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype,
                "fn": losses.serialize(self._fn) if self._fn not in _FUNCTION_CLASSES else
                {"module": "builtins", "class_name": "function", "config": self._fn.__name__,
                 "registered_name": "function"}, **self._fn_kwargs}


_CLASSES = {c.__name__: c for c in (
    m.Accuracy, m.BinaryAccuracy, m.CategoricalAccuracy, m.SparseCategoricalAccuracy,
    m.TopKCategoricalAccuracy, m.SparseTopKCategoricalAccuracy, m.MeanSquaredError,
    m.MeanAbsoluteError, m.MeanAbsolutePercentageError, m.MeanSquaredLogarithmicError,
    m.RootMeanSquaredError, m.CosineSimilarity, m.LogCoshError, m.KLDivergence, m.Poisson,
    m.Hinge, m.SquaredHinge, m.CategoricalHinge, m.BinaryCrossentropy,
    m.CategoricalCrossentropy, m.SparseCategoricalCrossentropy, Precision, Recall, AUC,
    F1Score, FBetaScore)}
# Keras 3's names (keras/src/metrics/__init__.py): the classes, their snake
# case, and a few aliases; all give classes.
_BY_NAME = {**_CLASSES, **{m._snake(n): c for n, c in _CLASSES.items()},
            **{a: _CLASSES[c] for a, c in (
                ("bce", "BinaryCrossentropy"), ("BCE", "BinaryCrossentropy"),
                ("mse", "MeanSquaredError"), ("MSE", "MeanSquaredError"),
                ("mae", "MeanAbsoluteError"), ("MAE", "MeanAbsoluteError"),
                ("mape", "MeanAbsolutePercentageError"), ("MAPE", "MeanAbsolutePercentageError"),
                ("msle", "MeanSquaredLogarithmicError"),
                ("MSLE", "MeanSquaredLogarithmicError"))}}
_UNSUPPORTED = {
    "R2Score": "MeanSquaredError", "IoU": "Precision/Recall", "MeanIoU": "Precision/Recall",
    "BinaryIoU": "Precision/Recall", "OneHotIoU": "Precision/Recall",
    "OneHotMeanIoU": "Precision/Recall", "TruePositives": "Precision/Recall",
    "FalsePositives": "Precision/Recall", "TrueNegatives": "Precision/Recall",
    "FalseNegatives": "Precision/Recall", "PrecisionAtRecall": "AUC(curve='PR')",
    "RecallAtPrecision": "AUC(curve='PR')", "SensitivityAtSpecificity": "AUC",
    "SpecificityAtSensitivity": "AUC", "PearsonCorrelation": "CosineSimilarity",
    "ConcordanceCorrelation": "MeanSquaredError", "Mean": "a built-in metric",
    "Sum": "a built-in metric"}
_UNSUPPORTED.update({m._snake(k): v for k, v in list(_UNSUPPORTED.items())})


def get(identifier) -> m.Metric:
    """keras.metrics.get: a Metric from a string (a class name, its snake
    case or an alias: 'accuracy' is the exact-equality Accuracy here, as in
    Keras; compile picks by shapes), an object, one of Keras's metric
    functions, or a serialized config."""
    if isinstance(identifier, m.Metric):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier in _UNSUPPORTED:
            raise NotImplementedError(f"the metric {identifier!r} is not supported; use "
                                      f"{_UNSUPPORTED[identifier]}")
        if identifier in _BY_NAME:
            return _BY_NAME[identifier]()
    elif inspect.isclass(identifier) and issubclass(identifier, m.Metric):
        return identifier()
    elif callable(identifier):
        if hasattr(identifier, "get_config") and type(identifier).__name__ in _CLASSES:
            raise ValueError(f"{identifier!r} is a Keras (TensorFlow) metric object; use "
                             f"fmnistcpp.metrics.{type(identifier).__name__} instead")
        return MeanMetricWrapper(identifier)
    raise ValueError(f"Unknown metric {identifier!r}. Known metrics: 'accuracy', 'acc', "
                     f"{', '.join(repr(n) for n in _BY_NAME)}, their classes and the "
                     f"functions {', '.join(_FUNCTIONS)}.")


def resolve_accuracy(identifier: str, output_shape, loss) -> m.Metric:
    """Keras's compile rule for the strings 'accuracy' / 'acc' (any case):
    BinaryAccuracy when the output has one unit, SparseCategoricalAccuracy
    when the labels are class indices, else CategoricalAccuracy; named as
    written."""
    if output_shape is not None and output_shape[-1] == 1:
        return m.BinaryAccuracy(name=identifier)
    if loss.sparse:
        return m.SparseCategoricalAccuracy(name=identifier)
    return m.CategoricalAccuracy(name=identifier)


def serialize(metric):
    """Keras 3's form: a string stays, a function is {"class_name":
    "function", ...}, an object its class and config."""
    if isinstance(metric, str):
        return metric
    if isinstance(metric, MeanMetricWrapper):
        return {"module": "builtins", "class_name": "function", "config": metric._fn.__name__,
                "registered_name": "function"}
    if isinstance(metric, m.Metric):
        return {"module": "keras.metrics", "class_name": type(metric).__name__,
                "config": metric.get_config(), "registered_name": None}
    name = getattr(metric, "__name__", None)
    if name in _FUNCTIONS:
        return {"module": "builtins", "class_name": "function", "config": name,
                "registered_name": "function"}
    raise ValueError(f"cannot serialize the metric {metric!r}")


def deserialize(config, custom_objects=None):
    """The inverse of serialize, also for Keras 2 (tf.keras) files."""
    if isinstance(config, str):
        return config if config.lower() in ("accuracy", "acc") else get(config)
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"cannot read the metric config {config!r}")
    cls_name = str(config["class_name"]).split(">")[-1]
    inner = config.get("config")
    if cls_name == "function" and isinstance(inner, str):
        if inner not in _FUNCTIONS:
            raise ValueError(f"the metric function {inner!r} is not supported")
        return _FUNCTIONS[inner]
    if cls_name in _UNSUPPORTED:
        raise NotImplementedError(f"the metric {cls_name!r} is not supported; use "
                                  f"{_UNSUPPORTED[cls_name]}")
    if cls_name == "MeanMetricWrapper" and isinstance(inner, dict):
        fn = deserialize(inner.get("fn"))
        extra = {k: v for k, v in inner.items() if k not in ("fn", "name", "dtype")}
        return MeanMetricWrapper(fn, name=inner.get("name"), **extra)
    if cls_name not in _CLASSES:
        raise ValueError(f"the metric {cls_name!r} is not supported; supported: "
                         f"{', '.join(_CLASSES)}")
    cls = _CLASSES[cls_name]
    kwargs = dict(inner or {})
    kwargs.pop("dtype", None)
    if cls is AUC and "thresholds" in kwargs:
        kwargs.pop("num_thresholds", None)
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise ValueError(f"cannot read the {cls_name} config {inner!r}: {e}") from None
