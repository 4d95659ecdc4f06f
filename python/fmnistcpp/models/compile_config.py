"""What `compile` means for each model output, by Keras 3's rules
(trainers/compile_utils.py): `loss` is one loss for every output, a list
(one per output, None for none) or a dict by output name; `loss_weights`
and `metrics` likewise (a single-output model takes a flat metrics list).
The result is one Target per output that has a loss, which the engine
receives as (loss name, arguments, weight, metric specs). The strings
'accuracy' / 'acc' become the accuracy the output's shape and labels call
for (compile_utils.get_metric), which needs the output shapes; before the
model is built only the names are checked."""

from __future__ import annotations

import dataclasses

from .. import losses, metrics as metrics_module


@dataclasses.dataclass
class Target:
    output: int          # index into the model's outputs
    output_name: str
    loss: object         # fmnistcpp.losses.Loss
    weight: float
    metrics: list
    weighted_metrics: list
    output_shape: tuple = None  # per sample; None before the model is built

    def engine_spec(self) -> dict:
        shape = self.output_shape
        return {"output": self.output, "loss": self.loss.engine_spec(shape), "weight": self.weight,
                "metrics": [m.engine_spec(shape) for m in self.metrics],
                "weighted_metrics": [m.engine_spec(shape) for m in self.weighted_metrics]}


def _per_output(value, names, what, default=None):
    """One entry per output from a single value, a list or a dict."""
    if value is None:
        return [default] * len(names)
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise ValueError(f"compile({what}=...) names {unknown}, which are not outputs of the "
                             f"model; its outputs are {names}")
        return [value.get(n, default) for n in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(f"compile({what}=...) has {len(value)} entries for {len(names)} "
                             f"outputs {names}; give one per output or a dict by output name")
        return list(value)
    return [value] * len(names)


def _metric_list(value, what, output_shape, loss) -> list:
    if value is None:
        return []
    if isinstance(value, (str, metrics_module.Metric)) or callable(value):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{what} must be a list of metrics, got {type(value).__name__}")
    out = []
    for m in value:
        if isinstance(m, str) and m.lower() in ("accuracy", "acc"):
            out.append(metrics_module.resolve_accuracy(m, output_shape, loss))
            continue
        metric = metrics_module.get(m)
        if isinstance(m, str):
            metric.name = m  # Keras names a metric given as a string by the string
        out.append(metric)
    return out


def _check_target(name, loss, metrics, shape):
    """What the engine cannot do with this output, said at compile."""
    if loss.reduction in (None, "none"):
        raise NotImplementedError(
            f"loss {loss.name!r} has reduction={loss.reduction!r}: training needs one number per "
            "batch; reduction='sum' gives the same gradients")
    loss.engine_spec(shape)  # refuses losses written in Python
    for m in metrics:
        m.engine_spec(shape)
        if m.sparse != loss.sparse:
            want = "integer" if m.sparse else "one-hot (output-shaped)"
            have = "integer" if loss.sparse else "one-hot (output-shaped)"
            raise ValueError(f"metric {m.name!r} expects {want} labels but loss "
                             f"{loss.name!r} uses {have} labels")
    if shape is None:
        return
    if loss.sparse:
        if len(shape) != 1:
            raise NotImplementedError(
                f"output {name!r} has shape {tuple(shape)} per sample; class-index labels are "
                "supported for outputs of shape (classes,): use one-hot labels with "
                "categorical_crossentropy")
        losses._check_ignore_class(getattr(loss, "ignore_class", None), shape[-1])
    for m in metrics:
        if isinstance(m, metrics_module.FBetaScore) and len(shape) != 1:
            raise ValueError(f"{type(m).__name__} expects 2D inputs with shape (batch_size, "
                             f"output_dim); output {name!r} has shape (batch, "
                             f"{', '.join(map(str, shape))})")


def resolve(output_names, loss, loss_weights, metrics, weighted_metrics,
            output_shapes=None) -> list:
    if loss is None:
        raise ValueError("compile needs a loss, e.g. loss='sparse_categorical_crossentropy'")
    single = len(output_names) == 1
    loss_per_output = [loss] if single and not isinstance(loss, dict) else \
        _per_output(loss, output_names, "loss")
    if single and isinstance(loss, (list, tuple)) and len(loss) == 1:
        loss_per_output = [loss[0]]
    weights = _per_output(loss_weights, output_names, "loss_weights", default=1.0)
    if single and not isinstance(metrics, dict):
        metric_per_output = [metrics]
    else:
        metric_per_output = _per_output(metrics, output_names, "metrics")
    if single and not isinstance(weighted_metrics, dict):
        weighted_per_output = [weighted_metrics]
    else:
        weighted_per_output = _per_output(weighted_metrics, output_names, "weighted_metrics")
    targets = []
    for i, name in enumerate(output_names):
        if loss_per_output[i] is None:
            if metric_per_output[i] or weighted_per_output[i]:
                raise NotImplementedError(f"metrics on output {name!r}, which has no loss, are "
                                          "not supported")
            continue
        loss_obj = losses.get(loss_per_output[i])
        try:
            weight = float(weights[i])
        except (TypeError, ValueError):
            raise ValueError(f"loss_weights must be numbers, got {weights[i]!r}") from None
        shape = None if output_shapes is None else tuple(output_shapes[i])
        target = Target(i, name, loss_obj, weight,
                        _metric_list(metric_per_output[i], "metrics", shape, loss_obj),
                        _metric_list(weighted_per_output[i], "weighted_metrics", shape, loss_obj),
                        shape)
        _check_target(name, loss_obj, target.metrics + target.weighted_metrics, shape)
        targets.append(target)
    if not targets:
        raise ValueError("compile needs a loss for at least one output")
    return targets


def log_names(targets, multi_output: bool) -> tuple:
    """(names of the per-target losses, names of the metrics in engine
    order, each metric's result shape): Keras prefixes a multi-output
    model's metrics with the output name, logs per-output losses when
    there are several, and tells repeated names apart as
    CompileMetrics.result does (name_1, ...; weighted_name for a weighted
    metric that repeats an unweighted one)."""
    loss_names = [f"{t.output_name}_loss" for t in targets] if len(targets) > 1 else []
    prefix = (lambda t: f"{t.output_name}_") if multi_output else (lambda t: "")
    seen, names, shapes = {}, [], []
    for weighted in (False, True):
        for t in targets:
            for m in (t.weighted_metrics if weighted else t.metrics):
                name = prefix(t) + m.name
                if name in seen and weighted:
                    name = prefix(t) + "weighted_" + m.name
                if name in seen:
                    seen[name] += 1
                    name = f"{name}_{seen[name] - 1}"
                else:
                    seen[name] = 1
                names.append(name)
                shapes.append(m._result_shape(t.output_shape))
    return loss_names, names, shapes
