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
        "metrics": _map(metrics, metric_to_keras) or None,
        "weighted_metrics": _map(weighted, metric_to_keras),
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
    return losses.serialize(loss)


def metric_to_keras(metric):
    return metrics_module.serialize(metric)


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
        return spec  # kept as written, as Keras keeps it
    return loss_from_keras(spec, where)


def loss_from_keras(spec, where="the file"):
    try:
        return losses.deserialize(spec)
    except (ValueError, NotImplementedError) as exc:
        raise type(exc)(f"{where}: {exc}") from exc


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
        try:
            if isinstance(m, str):  # kept as written: compile resolves 'accuracy' by shape
                if m.lower() not in ("accuracy", "acc"):
                    metrics_module.get(m)
                out.append(m)
            else:
                out.append(metrics_module.deserialize(m))
        except (ValueError, NotImplementedError) as exc:
            raise type(exc)(f"{where}: {exc}") from exc
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
