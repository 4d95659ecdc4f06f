"""Translation between fmnistcpp objects and Keras 3's serialized configs
(the `config.json` of a `.keras` file, the `model_config` /
`training_config` of a legacy `.h5` file). Writing produces Keras 3's
exact form; reading accepts Keras 3's and Keras 2's (tf.keras) forms."""

from __future__ import annotations

import inspect
import re

from .. import losses, metrics as metrics_module, optimizers
from ..layers import _BY_NAME as LAYER_CLASSES

SUPPORTED_LAYERS = sorted(set(LAYER_CLASSES) | {"Sequential", "MaxPool2D", "AvgPool2D",
                                                "Convolution2D", "GlobalAvgPool2D"})
_LAYER_ALIASES = {"MaxPool2D": "MaxPooling2D", "AvgPool2D": "AveragePooling2D",
                  "Convolution2D": "Conv2D", "GlobalAvgPool2D": "GlobalAveragePooling2D"}

_DTYPE_POLICY = {"module": "keras", "class_name": "DTypePolicy",
                 "config": {"name": "float32"}, "registered_name": None}
_INITIALIZERS = {
    "glorot_uniform": {"module": "keras.initializers", "class_name": "GlorotUniform",
                       "config": {"seed": None}, "registered_name": None},
    "zeros": {"module": "keras.initializers", "class_name": "Zeros", "config": {},
              "registered_name": None},
}
_INITIALIZER_NAMES = {"GlorotUniform": "glorot_uniform", "glorot_uniform": "glorot_uniform",
                      "Zeros": "zeros", "zeros": "zeros", "Zero": "zeros"}
_UNUSED_WHEN_NONE = ("kernel_regularizer", "bias_regularizer", "activity_regularizer",
                     "kernel_constraint", "bias_constraint")


def to_snake_case(name: str) -> str:
    """keras.src.utils.naming.to_snake_case."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _listify(value):
    if isinstance(value, (tuple, list)):
        return [_listify(v) for v in value]
    if isinstance(value, dict):
        return {k: _listify(v) for k, v in value.items()}
    return value


# --- writing --------------------------------------------------------------------------
def model_to_keras(model) -> dict:
    """The Keras 3 serialized form of a Sequential (module, class_name,
    config, registered_name, build_config)."""
    from ..models.sequential import Sequential

    layers = []
    if model._input_shape is not None:
        layers.append({
            "module": "keras.layers", "class_name": "InputLayer",
            "config": {"batch_shape": [None, *model._input_shape], "dtype": "float32",
                       "sparse": False, "ragged": False, "name": "input_layer",
                       "optional": False},
            "registered_name": None,
        })
    for layer in model.layers:
        if isinstance(layer, Sequential):
            layers.append(model_to_keras(layer))
        else:
            layers.append(layer_to_keras(layer))
    config = {"name": model.name, "trainable": True, "dtype": dict(_DTYPE_POLICY),
              "layers": layers}
    out = {"module": "keras", "class_name": "Sequential", "config": config,
           "registered_name": None}
    if model._input_shape is not None:
        shape = [None, *model._input_shape]
        config["build_input_shape"] = shape
        out["build_config"] = {"input_shape": shape}
    return out


def layer_to_keras(layer) -> dict:
    cls = type(layer).__name__
    config = _listify(layer.get_config())
    config.pop("batch_input_shape", None)  # the model's InputLayer carries the shape
    config["dtype"] = dict(_DTYPE_POLICY)
    for key in ("kernel_initializer", "bias_initializer"):
        if key in config:
            config[key] = dict(_INITIALIZERS[config[key]])
    if cls in ("Conv2D", "Dense"):
        for key in _UNUSED_WHEN_NONE:
            config.setdefault(key, None)
    if cls == "ReLU":
        config.update(max_value=None, negative_slope=0.0, threshold=0.0)
    out = {"module": "keras.layers", "class_name": cls, "config": config,
           "registered_name": None}
    if layer.built and layer.input_shape is not None:
        out["build_config"] = {"input_shape": [None, *layer.input_shape]}
    return out


def compile_to_keras(model) -> dict | None:
    """Keras 3's compile_config, or None for an uncompiled model."""
    if model._compile_args is None:
        return None
    return {
        "optimizer": optimizer_to_keras(model.optimizer),
        "loss": loss_to_keras(model.loss),
        "loss_weights": None,
        "metrics": [metric_to_keras(m) for m in model.compiled_metrics] or None,
        "weighted_metrics": None,
        "run_eagerly": False,
        "steps_per_execution": 1,
        "jit_compile": False,
    }


def optimizer_to_keras(opt) -> dict:
    config = {"name": opt.name, "learning_rate": float(opt.learning_rate),
              "weight_decay": None, "clipnorm": None, "global_clipnorm": None,
              "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
              "ema_overwrite_frequency": None, "loss_scale_factor": None,
              "gradient_accumulation_steps": None}
    cfg = opt.get_config()
    if not isinstance(cfg.get("learning_rate"), dict):  # a schedule is saved as itself
        cfg.pop("learning_rate", None)
    config.update(cfg)
    return {"module": "keras.optimizers", "class_name": type(opt).__name__, "config": config,
            "registered_name": None}


def loss_to_keras(loss):
    if isinstance(loss, str):
        return loss
    if isinstance(loss, losses.Loss):
        config = loss.get_config()
        if loss.sparse:
            config.setdefault("ignore_class", None)
        else:
            config.update(label_smoothing=0.0, axis=-1)
        return {"module": "keras.losses", "class_name": type(loss).__name__, "config": config,
                "registered_name": None}
    name = getattr(loss, "__name__", None)
    if name:
        return name
    raise ValueError(f"cannot serialize the loss {loss!r}")


def metric_to_keras(metric):
    if type(metric) is metrics_module.Accuracy:
        return metric.name  # 'accuracy' / 'acc', as the user wrote it
    config = dict(metric.get_config())
    config["dtype"] = "float32"
    return {"module": "keras.metrics", "class_name": type(metric).__name__, "config": config,
            "registered_name": None}


# --- reading --------------------------------------------------------------------------
def model_from_keras(spec, where="the file"):
    """A fmnistcpp Sequential from Keras's serialized Sequential."""
    from ..models.sequential import Sequential

    if not isinstance(spec, dict):
        raise ValueError(f"{where}: the model config is not a JSON object")
    cls = spec.get("class_name")
    if cls != "Sequential":
        raise ValueError(
            f"{where} holds a {cls!r} model; fmnistcpp loads Sequential models only "
            f"(supported layers: {', '.join(SUPPORTED_LAYERS)})"
        )
    config = spec.get("config", {})
    if isinstance(config, list):  # very old Keras: the config is the layer list
        config = {"layers": config}
    layer_specs = config.get("layers")
    if not isinstance(layer_specs, list):
        raise ValueError(f"{where}: the Sequential config has no 'layers' list")
    model = Sequential(name=config.get("name"))
    first = True
    for layer_spec in layer_specs:
        if not isinstance(layer_spec, dict) or "class_name" not in layer_spec:
            raise ValueError(f"{where}: a layer entry has no 'class_name': {layer_spec!r}")
        if layer_spec["class_name"] == "Sequential":
            model.add(model_from_keras(layer_spec, where))
        else:
            model.add(layer_from_keras(layer_spec, where))
        first = False
    del first
    build_shape = config.get("build_input_shape") or (spec.get("build_config") or {}).get(
        "input_shape")
    if not model.built and build_shape is not None and model.layers:
        model.build(tuple(build_shape))
    return model


def layer_from_keras(spec: dict, where="the file"):
    cls_name = spec["class_name"]
    cls_name = _LAYER_ALIASES.get(cls_name, cls_name)
    if cls_name not in LAYER_CLASSES:
        raise ValueError(
            f"{where} uses the layer class {spec['class_name']!r}, which fmnistcpp does not "
            f"support; supported layers: {', '.join(SUPPORTED_LAYERS)}"
        )
    cls = LAYER_CLASSES[cls_name]
    config = dict(spec.get("config") or {})
    name = config.get("name")
    _check_dtype(config.pop("dtype", None), cls_name, name, where)
    if cls_name == "InputLayer":
        shape = config.get("batch_shape") or config.get("batch_input_shape")
        if shape is None and config.get("shape") is not None:
            shape = [None, *config["shape"]]
        if shape is None:
            raise ValueError(f"{where}: InputLayer {name!r} has no batch_shape")
        return cls(shape=tuple(shape)[1:], name=name)
    for key in ("kernel_initializer", "bias_initializer"):
        if key in config:
            config[key] = _initializer_name(config[key], cls_name, name, where)
    if "activation" in config:
        config["activation"] = _activation_name(config["activation"])
    accepted = set(inspect.signature(cls.__init__).parameters) | {
        "name", "input_shape", "trainable", "batch_input_shape"}
    accepted.discard("kwargs")
    kwargs = {}
    for key, value in config.items():
        if key in accepted:
            kwargs[key] = value
        elif value not in (None, False, {}, []) and key not in ("build_config",):
            raise ValueError(
                f"{where}: layer {name!r} ({cls_name}) has the setting {key}={value!r}, "
                "which fmnistcpp does not support"
            )
    for key in ("kernel_size", "strides", "pool_size", "dilation_rate", "target_shape",
                "batch_input_shape"):
        if isinstance(kwargs.get(key), list):
            kwargs[key] = tuple(kwargs[key])
    try:
        return cls(**kwargs)
    except (NotImplementedError, TypeError, ValueError) as exc:
        raise ValueError(f"{where}: cannot rebuild layer {name!r} ({cls_name}): {exc}") from exc


def _check_dtype(dtype, cls_name, name, where):
    if isinstance(dtype, dict):
        dtype = (dtype.get("config") or {}).get("name")
    if dtype not in (None, "float32"):
        raise ValueError(
            f"{where}: layer {name!r} ({cls_name}) uses dtype {dtype!r}; fmnistcpp supports "
            "float32 only"
        )


def _initializer_name(value, cls_name, name, where):
    if isinstance(value, dict):
        ident = value.get("class_name")
        config = value.get("config") or {}
        if ident in ("GlorotUniform", "glorot_uniform") and config.get("seed") is not None:
            return "glorot_uniform"  # the weights come from the file anyway
    else:
        ident = value
    if ident in _INITIALIZER_NAMES:
        return _INITIALIZER_NAMES[ident]
    # The weights are loaded from the file, so the initializer only matters
    # for re-initialization; fall back to Keras's defaults rather than fail.
    return "zeros" if "bias" in str(ident).lower() else "glorot_uniform"


def _activation_name(value):
    if isinstance(value, dict):  # {"module": "keras.activations", "class_name": "function", "config": "relu"}
        cfg = value.get("config")
        value = cfg if isinstance(cfg, str) else value.get("class_name")
    if value is None:
        return "linear"
    return value


_OPT_IGNORED = {"ema_momentum", "ema_overwrite_frequency", "jit_compile", "is_legacy_optimizer",
                "loss_scale_factor", "gradient_accumulation_steps"}
_OPT_UNSUPPORTED = {"weight_decay", "clipnorm", "clipvalue", "global_clipnorm", "use_ema",
                    "decay"}


def optimizer_from_keras(spec, where="the file"):
    if isinstance(spec, str):
        return optimizers.get(spec)
    if not isinstance(spec, dict):
        raise ValueError(f"{where}: cannot read the optimizer config {spec!r}")
    cls_name = str(spec.get("class_name", "")).split(">")[-1]
    cls = optimizers._BY_NAME.get(cls_name.lower())
    if cls is None:
        raise ValueError(
            f"{where}: the optimizer {spec.get('class_name')!r} is not supported; supported "
            "optimizers: Adam, AdamW, RMSprop, SGD (load with compile=False to skip it)"
        )
    config = dict(spec.get("config") or {})
    if "lr" in config and "learning_rate" not in config:
        config["learning_rate"] = config.pop("lr")
    kwargs = {}
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self", "kwargs"}
    for key, value in config.items():
        if key in accepted:
            kwargs[key] = value
        elif key in _OPT_UNSUPPORTED and value not in (None, False, 0, 0.0):
            raise ValueError(
                f"{where}: the optimizer setting {key}={value!r} is not supported "
                "(load with compile=False to skip the optimizer)"
            )
    if isinstance(kwargs.get("learning_rate"), dict):
        try:
            kwargs["learning_rate"] = optimizers.schedules.deserialize(kwargs["learning_rate"])
        except (ValueError, NotImplementedError, TypeError, KeyError) as e:
            raise ValueError(f"{where}: the learning-rate schedule cannot be read ({e}); "
                             "load with compile=False to skip the optimizer") from None
    return cls(**kwargs)


def loss_from_keras(spec, where="the file"):
    if isinstance(spec, dict) and "class_name" in spec:
        cls_name = spec["class_name"]
        if cls_name in ("function",) and isinstance(spec.get("config"), str):
            return losses.get(spec["config"])
        if cls_name not in losses._BY_NAME:
            raise ValueError(f"{where}: the loss {cls_name!r} is not supported; supported: "
                             "categorical_crossentropy, sparse_categorical_crossentropy")
        config = spec.get("config") or {}
        kwargs = {k: v for k, v in config.items()
                  if k in ("name", "from_logits", "label_smoothing", "axis", "ignore_class")}
        return losses._BY_NAME[cls_name](**kwargs)
    try:
        return losses.get(spec)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from exc


def metrics_from_keras(spec, where="the file"):
    if spec is None:
        return []
    if isinstance(spec, dict):
        raise ValueError(f"{where}: per-output metrics are not supported")
    out = []
    for m in spec:
        if isinstance(m, list):  # Keras 2 nests metrics per output
            out.extend(metrics_from_keras(m, where))
            continue
        if isinstance(m, dict):
            cls_name = m.get("class_name")
            config = m.get("config") or {}
            cls = getattr(metrics_module, str(cls_name), None)
            if not (isinstance(cls, type) and issubclass(cls, metrics_module.Metric)):
                raise ValueError(f"{where}: the metric {cls_name!r} is not supported")
            kwargs = {"name": config.get("name")}
            if "k" in config:
                kwargs["k"] = config["k"]
            out.append(cls(**kwargs))
        else:
            try:
                out.append(metrics_module.get(m))
            except ValueError as exc:
                raise ValueError(f"{where}: {exc}") from exc
    return out


def compile_from_keras(model, compile_config: dict, where="the file"):
    """Compiles `model` as Keras's compile_from_config does."""
    optimizer = optimizer_from_keras(compile_config.get("optimizer", "rmsprop"), where)
    loss = compile_config.get("loss")
    if loss is None:
        return
    if not (isinstance(loss, str) and loss in losses._BY_NAME):
        loss = loss_from_keras(loss, where)
    metrics = metrics_from_keras(compile_config.get("metrics"), where)
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
