"""Compile settings in Keras 3's serialized form (the `compile_config` of
a `.keras` file, the `training_config` of a legacy `.h5`): optimizer,
loss(es), loss weights, metrics. Reading accepts Keras 3's and Keras 2's
(tf.keras) forms."""

from __future__ import annotations

from .. import losses, metrics as metrics_module, optimizers


def _map(structure, leaf):
    """leaf() applied to every entry of a loss/metric structure (a value, a
    list per output or of metrics, a dict by output name), None kept."""
    if structure is None:
        return None
    if isinstance(structure, dict) and "class_name" not in structure:
        return {k: _map(v, leaf) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return [_map(v, leaf) for v in structure]
    return leaf(structure)


def compile_to_keras(model) -> dict | None:
    """Keras 3's compile_config, or None for an uncompiled model."""
    if not model.compiled:
        return None
    loss, loss_weights, metrics, weighted = model._compile_request
    return {
        "optimizer": optimizer_to_keras(model.optimizer),
        "loss": _map(loss, loss_to_keras),
        "loss_weights": loss_weights,
        "metrics": _map(metrics, lambda m: metric_to_keras(metrics_module.get(m))) or None,
        "weighted_metrics": _map(weighted, lambda m: metric_to_keras(metrics_module.get(m))),
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


def optimizer_from_keras(spec, where="the file"):
    """The optimizer of a compile_config / training_config (Keras 3's or
    Keras 2's form); optimizers.deserialize reads it."""
    if isinstance(spec, str):
        return optimizers.get(spec)
    try:
        return optimizers.deserialize(spec)
    except (ValueError, NotImplementedError, TypeError, KeyError) as e:
        raise ValueError(f"{where}: the optimizer cannot be read ({e}); load with "
                         "compile=False to skip the optimizer") from None


def _loss_leaf(spec, where):
    if isinstance(spec, str) and spec in losses._BY_NAME:
        return spec
    return loss_from_keras(spec, where)


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
    if isinstance(spec, (dict, str)):  # one metric
        spec = [spec]
    out = []
    for m in spec:
        if isinstance(m, list):  # Keras 2 nests metrics per output
            out.extend(metrics_from_keras(m, where))
            continue
        if m is None:
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


def _metrics_structure(spec, where):
    """Keras's metrics: a flat list (one output), a list per output, or a
    dict by output name."""
    if spec is None:
        return None
    if isinstance(spec, dict) and "class_name" not in spec:
        return {k: (metrics_from_keras(v if isinstance(v, list) else [v], where)
                    if v is not None else None) for k, v in spec.items()}
    return metrics_from_keras(spec, where) if not any(isinstance(m, list) for m in spec) else \
        [metrics_from_keras(m, where) if m is not None else None for m in spec]


def compile_from_keras(model, compile_config: dict, where="the file"):
    """Compiles `model` as Keras's compile_from_config does."""
    optimizer = optimizer_from_keras(compile_config.get("optimizer", "rmsprop"), where)
    loss = compile_config.get("loss")
    if loss is None:
        return
    loss = _map(loss, lambda l: _loss_leaf(l, where))
    n_outputs = len(model.outputs) if model.built else 1
    metrics = compile_config.get("metrics")
    if n_outputs > 1 and isinstance(metrics, list) and metrics and \
            not isinstance(metrics[0], list) and len(metrics) != n_outputs:
        metrics = None  # Keras 2 files list the metrics of all outputs flat
    model.compile(optimizer=optimizer, loss=loss,
                  loss_weights=compile_config.get("loss_weights"),
                  metrics=_metrics_structure(metrics, where),
                  weighted_metrics=_metrics_structure(compile_config.get("weighted_metrics"),
                                                      where))
