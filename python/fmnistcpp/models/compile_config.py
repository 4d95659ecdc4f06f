"""What `compile` means for each model output, by Keras 3's rules
(trainers/compile_utils.py): `loss` is one loss for every output, a list
(one per output, None for none) or a dict by output name; `loss_weights`
and `metrics` likewise (a single-output model takes a flat metrics list).
The result is one Target per output that has a loss, which the engine
receives as (loss name, arguments, weight, metric specs)."""

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

    def engine_spec(self) -> dict:
        return {"output": self.output, "loss": self.loss.engine_spec(), "weight": self.weight,
                "metrics": [m.engine_spec() for m in self.metrics],
                "weighted_metrics": [m.engine_spec() for m in self.weighted_metrics]}


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


def _metric_list(value, what) -> list:
    if value is None:
        return []
    if isinstance(value, (str, metrics_module.Metric)) or callable(value):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{what} must be a list of metrics, got {type(value).__name__}")
    return [metrics_module.get(m) for m in value]


def resolve(output_names, loss, loss_weights, metrics, weighted_metrics) -> list:
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
        target = Target(i, name, loss_obj, weight,
                        _metric_list(metric_per_output[i], "metrics"),
                        _metric_list(weighted_per_output[i], "weighted_metrics"))
        for m in target.metrics + target.weighted_metrics:
            if m.sparse is not None and m.sparse != loss_obj.sparse:
                want = "integer" if m.sparse else "one-hot"
                have = "integer" if loss_obj.sparse else "one-hot"
                raise ValueError(f"metric {m.name!r} expects {want} labels but loss "
                                 f"{loss_obj.name!r} uses {have} labels")
        targets.append(target)
    if not targets:
        raise ValueError("compile needs a loss for at least one output")
    return targets


def log_names(targets, multi_output: bool) -> tuple:
    """(names of the per-target losses, names of the metrics in engine
    order): Keras prefixes a multi-output model's metrics with the output
    name and logs per-output losses when there are several."""
    loss_names = [f"{t.output_name}_loss" for t in targets] if len(targets) > 1 else []
    prefix = (lambda t: f"{t.output_name}_") if multi_output else (lambda t: "")
    metric_names = [prefix(t) + m.name for t in targets for m in t.metrics]
    metric_names += [prefix(t) + m.name for t in targets for m in t.weighted_metrics]
    return loss_names, metric_names
