"""Keras 3's losses (keras.losses): classes, functions and string names.
Every loss is computed in C++ (cpp/loss.hpp: the per-row kernels, Keras's
reductions and mask, and how a softmax or sigmoid output is read from its
logits as Keras does); the classes here carry Keras's arguments, and
calling a loss or a loss function on arrays runs the same C++ code."""

from __future__ import annotations

import numpy as np

from . import _core
from .backend import arrays as data

_REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight")


def _unique_name(base):
    from .layers.layer import unique_name  # Keras numbers names across layers and metrics
    return unique_name(base)


class Loss:
    """keras.losses.Loss: `name`, `reduction` ('sum_over_batch_size' (the
    default, the mean), 'sum', 'mean', 'mean_with_sample_weight', or
    'none'/None for per-sample values when called on arrays), `dtype`.
    Subclasses that only override `call()` are Python code the C++ engine
    cannot run: compile refuses them."""

    _fn = None       # the engine's loss: Keras's function name
    sparse = False   # labels are class indices rather than the output's shape

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in _REDUCTIONS:
            raise ValueError("Invalid value for argument `reduction`. Expected one of "
                             f"{set(_REDUCTIONS)}. Received: reduction={reduction}")
        if dtype not in (None, "float32"):
            raise NotImplementedError(f"loss dtype={dtype!r}: the engine computes in float32")
        self.name = name or _unique_name(_snake(type(self).__name__))
        self.reduction = reduction
        self.dtype = "float32"

    def _arguments(self) -> dict:
        """The loss function's arguments (Keras's `fn_kwargs`)."""
        return {}

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def engine_spec(self, output_shape=None) -> tuple:
        """(the engine's loss name, its arguments) for an output of
        `output_shape` (per sample)."""
        if self._fn is None:
            raise NotImplementedError(
                f"{type(self).__name__} computes its loss in Python (call()), which the C++ "
                f"engine cannot run; use one of the built-in losses: {', '.join(_FUNCTIONS)}")
        args = _normalise_axis(dict(self._arguments()), 1 + len(output_shape or ()))
        args["reduction"] = "none" if self.reduction is None else self.reduction
        if output_shape:
            args["last_axis_size"] = int(output_shape[-1])
        return self._fn, args

    def __call__(self, y_true, y_pred, sample_weight=None):
        """Keras's loss value: a float32 scalar, or the (weighted) per-sample
        values for reduction 'none'."""
        kind, args = self.engine_spec()
        values, reduced, shape = _run(kind, args, y_true, y_pred, sample_weight, self.sparse)
        if self.reduction in (None, "none"):
            return values.reshape(shape)
        return np.float32(reduced)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def _snake(name):
    from .layers.layer import _snake as snake
    return snake(name)


def _normalise_axis(args, rank):
    # Only the last axis is supported (in C++); its positive spelling is the same axis.
    if "axis" in args and args["axis"] == rank - 1 and rank > 1:
        args["axis"] = -1
    return args


def _run(kind, args, y_true, y_pred, sample_weight, sparse):
    """(per-row values, reduced loss, their shape) for arrays, shaped as Keras
    shapes them (squeeze_or_expand_to_same_rank) and split into rows of the
    last axis."""
    p = data.to_array(y_pred, "y_pred")
    data._check_real(p, "y_pred")
    p = np.asarray(p, dtype=np.float32)
    if p.ndim == 0:
        raise ValueError("y_pred must have at least one axis")
    y = data.to_array(y_true, "y_true")
    data._check_real(y, "y_true")
    if p.ndim == 1:  # one sample: the values reduce to a scalar
        p = p[None]
        if y.ndim == 1 and not sparse:
            y = y[None]
    shape = p.shape[:-1]
    args = _normalise_axis(dict(args), p.ndim)
    if sparse:
        if y.ndim == p.ndim and y.shape[-1] == 1:
            y = y[..., 0]
        if y.shape != shape and y.size == int(np.prod(shape)) and y.ndim == 1:
            y = y.reshape(shape)
        if y.shape != shape:
            raise ValueError(f"{kind} expects integer labels of shape {shape}, got {y.shape}")
        y = np.ascontiguousarray(np.round(y).astype(np.int64).reshape(-1))
        _check_ignore_class(args.get("ignore_class"), p.shape[-1])
        y = y.astype(np.int32)
    else:
        y = np.asarray(y, dtype=np.float32)
        y, p = _same_rank(y, p)
        if y.shape != p.shape:
            raise ValueError(f"{kind}: y_true of shape {y.shape} does not match y_pred of shape "
                             f"{p.shape}")
        shape = p.shape[:-1]
    rows_shape = (-1, p.shape[-1])
    w = None
    if sample_weight is not None:
        w = np.asarray(sample_weight, dtype=np.float32)
        if w.ndim == len(shape) + 1 and w.shape[-1] == 1:
            w = w[..., 0]
        while w.ndim < len(shape):
            w = w[..., None]
        w = np.ascontiguousarray(np.broadcast_to(w, shape).reshape(-1))
    args = dict(args, last_axis_size=int(p.shape[-1]))
    values, reduced = _core.loss_call(kind, args, np.ascontiguousarray(p.reshape(rows_shape)),
                                      y if sparse else np.ascontiguousarray(y.reshape(rows_shape)),
                                      w)
    return np.asarray(values), reduced, shape


def _check_ignore_class(ignore_class, classes):
    if ignore_class is not None and not 0 <= ignore_class < classes:
        raise NotImplementedError(
            f"ignore_class={ignore_class} outside the {classes} classes: fmnistcpp's labels are "
            f"class indices in [0, {classes}). Give the samples to ignore sample_weight=0 with "
            "reduction='mean_with_sample_weight', which is the same loss")


def _same_rank(y, p):
    """Keras's squeeze_or_expand_to_same_rank(y_true, y_pred)."""
    if y.ndim == p.ndim + 1 and y.shape[-1] == 1:
        y = y[..., 0]
    elif p.ndim == y.ndim + 1 and p.shape[-1] == 1:
        y = y[..., None]
    return y, p
# --- classes (keras/src/losses/losses.py) -----------------------------------------------


def _loss_class(cls_name, fn, default_name, doc, sparse=False):
    """A Keras loss class without arguments beyond Loss's."""
    def __init__(self, reduction="sum_over_batch_size", name=default_name, dtype=None):
        Loss.__init__(self, name=name, reduction=reduction, dtype=dtype)
    return type(cls_name, (Loss,), {"__init__": __init__, "_fn": fn, "sparse": sparse,
                                    "__doc__": doc, "__module__": __name__})


MeanSquaredError = _loss_class("MeanSquaredError", "mean_squared_error", "mean_squared_error",
                               "mean((y_true - y_pred)^2) over the last axis.")
MeanAbsoluteError = _loss_class("MeanAbsoluteError", "mean_absolute_error",
                                "mean_absolute_error", "mean(|y_true - y_pred|).")
MeanAbsolutePercentageError = _loss_class(
    "MeanAbsolutePercentageError", "mean_absolute_percentage_error",
    "mean_absolute_percentage_error", "100 * mean(|(y_true - y_pred) / max(|y_true|, 1e-7)|).")
MeanSquaredLogarithmicError = _loss_class(
    "MeanSquaredLogarithmicError", "mean_squared_logarithmic_error",
    "mean_squared_logarithmic_error",
    "mean((log(max(y_pred, 1e-7) + 1) - log(max(y_true, 1e-7) + 1))^2).")
LogCosh = _loss_class("LogCosh", "log_cosh", "log_cosh", "mean(log(cosh(y_pred - y_true))).")
Hinge = _loss_class("Hinge", "hinge", "hinge",
                    "mean(max(1 - y_true * y_pred, 0)); 0/1 labels become -1/1.")
SquaredHinge = _loss_class("SquaredHinge", "squared_hinge", "squared_hinge",
                           "mean(max(1 - y_true * y_pred, 0)^2); 0/1 labels become -1/1.")
CategoricalHinge = _loss_class("CategoricalHinge", "categorical_hinge", "categorical_hinge",
                               "max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0).")
KLDivergence = _loss_class("KLDivergence", "kl_divergence", "kl_divergence",
                           "sum(y_true * log(y_true / y_pred)), both clipped to [1e-7, 1].")
Poisson = _loss_class("Poisson", "poisson", "poisson",
                      "mean(y_pred - y_true * log(y_pred + 1e-7)).")


class CosineSimilarity(Loss):
    """-sum(l2_normalize(y_true) * l2_normalize(y_pred)) over `axis` (the last)."""

    _fn = "cosine_similarity"

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.axis = axis

    def _arguments(self):
        return {"axis": self.axis}


class Huber(Loss):
    """0.5 * e^2 where |e| <= delta, delta * |e| - 0.5 * delta^2 elsewhere.
    get_config includes `delta` (Keras's omits it, so a saved Huber(2.0)
    would come back as Huber(1.0); Keras's from_config accepts it)."""

    _fn = "huber"

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.delta = delta

    def _arguments(self):
        return {"delta": self.delta}

    def get_config(self):
        return {**super().get_config(), "delta": self.delta}


class _CrossEntropy(Loss):
    _keys = ("from_logits", "label_smoothing", "axis")

    def __init__(self, name, reduction, dtype, **kwargs):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        for key, value in kwargs.items():
            setattr(self, key, value)

    def _arguments(self):
        return {k: getattr(self, k) for k in self._keys}

    def get_config(self):
        return {**super().get_config(), **self._arguments()}


class BinaryCrossentropy(_CrossEntropy):
    """Binary cross-entropy, mean over the last axis; labels 0/1 (or soft)
    of the output's shape, or (N,) for an (N, 1) output. A sigmoid (or
    softmax) output is read from its logits, as Keras does."""

    _fn = "binary_crossentropy"

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(name, reduction, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class BinaryFocalCrossentropy(_CrossEntropy):
    """(1 - p_t)^gamma * binary cross-entropy, optionally weighted by
    alpha / 1 - alpha (apply_class_balancing)."""

    _fn = "binary_focal_crossentropy"
    _keys = ("from_logits", "label_smoothing", "axis", "apply_class_balancing", "alpha", "gamma")

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_focal_crossentropy", dtype=None):
        super().__init__(name, reduction, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma)


class CategoricalCrossentropy(_CrossEntropy):
    """Cross-entropy with one-hot (or soft) labels `(batch, classes)`;
    label_smoothing mixes them with the uniform distribution. A softmax
    output is read from its logits, as Keras does."""

    _fn = "categorical_crossentropy"

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(name, reduction, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(_CrossEntropy):
    """Cross-entropy with integer labels `(batch,)` in [0, classes).
    ignore_class (a class index) drops those samples from the loss."""

    _fn = "sparse_categorical_crossentropy"
    sparse = True
    _keys = ("from_logits", "ignore_class", "axis")

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 axis=-1, name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(name, reduction, dtype, from_logits=from_logits,
                         ignore_class=ignore_class, axis=axis)

    def get_config(self):  # Keras's has no axis
        return {"name": self.name, "reduction": self.reduction, "from_logits": self.from_logits,
                "ignore_class": self.ignore_class}


# --- functions: per-sample values, as keras.losses.<fn>(y_true, y_pred) ----------------


def _function(cls, fn_name, **defaults):
    def fn(y_true, y_pred, **kwargs):
        loss = cls(**{**defaults, **kwargs}, reduction="none")
        kind, args = loss.engine_spec()
        values, _, shape = _run(kind, args, y_true, y_pred, None, loss.sparse)
        return values.reshape(shape)
    fn.__name__ = fn.__qualname__ = fn_name
    fn.__doc__ = f"Keras's {fn_name}(y_true, y_pred): one value per sample. {cls.__doc__}"
    fn._loss_class = cls
    return fn


mean_squared_error = _function(MeanSquaredError, "mean_squared_error")
mean_absolute_error = _function(MeanAbsoluteError, "mean_absolute_error")
mean_absolute_percentage_error = _function(MeanAbsolutePercentageError,
                                           "mean_absolute_percentage_error")
mean_squared_logarithmic_error = _function(MeanSquaredLogarithmicError,
                                           "mean_squared_logarithmic_error")
cosine_similarity = _function(CosineSimilarity, "cosine_similarity")
huber = _function(Huber, "huber")
log_cosh = _function(LogCosh, "log_cosh")
hinge = _function(Hinge, "hinge")
squared_hinge = _function(SquaredHinge, "squared_hinge")
categorical_hinge = _function(CategoricalHinge, "categorical_hinge")
kl_divergence = _function(KLDivergence, "kl_divergence")
poisson = _function(Poisson, "poisson")
binary_crossentropy = _function(BinaryCrossentropy, "binary_crossentropy")
binary_focal_crossentropy = _function(BinaryFocalCrossentropy, "binary_focal_crossentropy")
categorical_crossentropy = _function(CategoricalCrossentropy, "categorical_crossentropy")
sparse_categorical_crossentropy = _function(SparseCategoricalCrossentropy,
                                            "sparse_categorical_crossentropy")
# Keras 2 (tf.keras) spelled these as module attributes too; Keras 3 keeps
# them as strings only. The same functions, so old scripts run.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh

_FUNCTIONS = {f.__name__: f for f in (
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_logarithmic_error, cosine_similarity, huber, log_cosh, hinge, squared_hinge,
    categorical_hinge, kl_divergence, poisson, binary_crossentropy, binary_focal_crossentropy,
    categorical_crossentropy, sparse_categorical_crossentropy)}
_CLASSES = {c.__name__: c for c in (
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, CosineSimilarity, Huber, LogCosh, Hinge, SquaredHinge,
    CategoricalHinge, KLDivergence, Poisson, BinaryCrossentropy, BinaryFocalCrossentropy,
    CategoricalCrossentropy, SparseCategoricalCrossentropy)}
# Keras 3's string aliases (keras/src/losses/__init__.py).
_ALIASES = {"bce": "binary_crossentropy", "BCE": "binary_crossentropy", "kld": "kl_divergence",
            "KLD": "kl_divergence", "mae": "mean_absolute_error", "MAE": "mean_absolute_error",
            "mse": "mean_squared_error", "MSE": "mean_squared_error",
            "mape": "mean_absolute_percentage_error", "MAPE": "mean_absolute_percentage_error",
            "msle": "mean_squared_logarithmic_error", "MSLE": "mean_squared_logarithmic_error"}
# Keras losses the engine does not have, with what to use instead.
_UNSUPPORTED = {
    "CategoricalFocalCrossentropy": "CategoricalCrossentropy (or BinaryFocalCrossentropy)",
    "categorical_focal_crossentropy": "categorical_crossentropy",
    "Dice": "BinaryCrossentropy", "dice": "binary_crossentropy",
    "Tversky": "BinaryCrossentropy", "tversky": "binary_crossentropy",
    "CTC": "no alternative (sequence models are outside fmnistcpp)", "ctc": "none",
    "Circle": "CategoricalCrossentropy", "circle": "categorical_crossentropy",
    "CategoricalGeneralizedCrossEntropy": "CategoricalCrossentropy",
    "categorical_generalized_cross_entropy": "categorical_crossentropy"}
_BY_NAME = {**_CLASSES, **_FUNCTIONS, **{a: _FUNCTIONS[f] for a, f in _ALIASES.items()}}


def _from_function(fn, name=None) -> Loss:
    """A loss function as compile gets it: Keras wraps it with the
    function's default arguments, named by the string or the function."""
    return fn._loss_class(name=name or fn.__name__)


def get(identifier) -> Loss:
    """A Loss from a string name, a loss object, a loss function (ours, or
    Keras's/tf.keras's by name) or a serialized config."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier.lower() in ("crossentropy", "ce"):
            raise NotImplementedError(
                f"loss={identifier!r}: Keras picks the cross-entropy from the first batch's label "
                "shape; name it: 'binary_crossentropy', 'sparse_categorical_crossentropy' or "
                "'categorical_crossentropy'")
        if identifier in _UNSUPPORTED:
            raise NotImplementedError(f"the loss {identifier!r} is not supported; use "
                                      f"{_UNSUPPORTED[identifier]}")
        if identifier in _BY_NAME:
            obj = _BY_NAME[identifier]
            return obj() if isinstance(obj, type) else _from_function(obj, identifier)
    elif callable(identifier):
        name = getattr(identifier, "__name__", None)
        if getattr(identifier, "_loss_class", None) is not None:
            return _from_function(identifier)
        if name in _FUNCTIONS and getattr(identifier, "__module__", "").startswith(
                ("keras", "tensorflow", "tf_keras")):
            return _from_function(_FUNCTIONS[name])
        if hasattr(identifier, "get_config") and type(identifier).__name__ in _CLASSES:
            raise ValueError(f"{identifier!r} is a Keras (TensorFlow) loss object; use "
                             f"fmnistcpp.losses.{type(identifier).__name__} instead")
        raise NotImplementedError(
            f"the loss {name or identifier!r} is Python code, which the C++ engine cannot run; "
            f"use one of the built-in losses: {', '.join(_FUNCTIONS)}")
    raise ValueError(f"Unknown loss {identifier!r}. Known losses: {', '.join(_FUNCTIONS)}, "
                     f"their classes ({', '.join(_CLASSES)}) and the names "
                     f"{', '.join(_ALIASES)}.")


def serialize(loss):
    """Keras 3's serialized form: a string stays a string, a function is
    {"class_name": "function", ...}, an object its class and config."""
    if isinstance(loss, str):
        return loss
    if isinstance(loss, Loss):
        return {"module": "keras.losses", "class_name": type(loss).__name__,
                "config": loss.get_config(), "registered_name": None}
    name = getattr(loss, "__name__", None)
    if name in _FUNCTIONS:
        return {"module": "builtins", "class_name": "function", "config": name,
                "registered_name": "function"}
    raise ValueError(f"cannot serialize the loss {loss!r}")


def deserialize(config, custom_objects=None):
    """The inverse of serialize, also for Keras 2 (tf.keras) files."""
    if isinstance(config, str):
        return get(config)
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"cannot read the loss config {config!r}")
    cls_name = str(config["class_name"]).split(">")[-1]
    inner = config.get("config")
    if cls_name == "function" and isinstance(inner, str):
        # Keras gives the function back (compile then names the loss by it).
        if inner not in _FUNCTIONS:
            raise ValueError(f"the loss function {inner!r} is not supported; supported: "
                             f"{', '.join(_FUNCTIONS)}")
        return _FUNCTIONS[inner]
    if cls_name in _UNSUPPORTED:
        raise NotImplementedError(f"the loss {cls_name!r} is not supported; use "
                                  f"{_UNSUPPORTED[cls_name]}")
    if cls_name not in _CLASSES:
        raise ValueError(f"the loss {cls_name!r} is not supported; supported: "
                         f"{', '.join(_CLASSES)}")
    import inspect
    cls = _CLASSES[cls_name]
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    kwargs = {k: v for k, v in (inner or {}).items() if k in accepted}
    if kwargs.get("reduction") == "auto":  # Keras 2's default
        kwargs["reduction"] = "sum_over_batch_size"
    return cls(**kwargs)

# A name Keras 3 has and fmnistcpp lacks gets an error saying so.
from . import _missing  # noqa: E402

__getattr__ = _missing.module_getattr(__name__, "losses")
