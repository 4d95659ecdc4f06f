"""Analytic FLOP counts of the seed models, from their layer shapes.

``layer_specs`` walks a Keras-style layer list (class name + config, as
``layer.get_config()`` gives it) and records each layer's input and output
shape; ``train_flops`` turns that into floating-point operations per
sample; the PyTorch worker of ``compare_frameworks.py`` builds its mirror
models from the same specs.
"""

from __future__ import annotations

from typing import Iterable, List, Sequence, Tuple


def _pair(v) -> Tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _out(size: int, k: int, s: int, padding: str) -> int:
    if padding == "same":
        return -(-size // s)
    if padding != "valid":
        raise ValueError(f"unsupported padding {padding!r}")
    return (size - k) // s + 1


def layer_specs(layers: Iterable[Tuple[str, dict]], input_shape: Sequence[int]) -> List[dict]:
    """Shapes of each layer: ``[{"kind", "config", "in", "out"}, ...]``.

    ``layers``: ``(class_name, config)`` pairs (Conv2D, Dense, MaxPooling2D,
    AveragePooling2D, Flatten, Dropout, Activation, Reshape); ``input_shape``
    without the batch axis, channels last (``(28, 28, 1)`` or ``(28, 28)``).
    """
    shape = tuple(int(d) for d in input_shape)
    specs = []
    for kind, cfg in layers:
        if kind == "Conv2D":
            h, w, _ = shape
            (kh, kw), (sh, sw) = _pair(cfg["kernel_size"]), _pair(cfg.get("strides", 1))
            pad = cfg.get("padding", "valid")
            out = (_out(h, kh, sh, pad), _out(w, kw, sw, pad), int(cfg["filters"]))
        elif kind in ("MaxPooling2D", "AveragePooling2D"):
            h, w, c = shape
            kh, kw = _pair(cfg.get("pool_size", 2))
            sh, sw = _pair(cfg.get("strides") or (kh, kw))
            pad = cfg.get("padding", "valid")
            out = (_out(h, kh, sh, pad), _out(w, kw, sw, pad), c)
        elif kind == "Dense":
            out = shape[:-1] + (int(cfg["units"]),)
        elif kind == "Flatten":
            n = 1
            for d in shape:
                n *= d
            out = (n,)
        elif kind == "Reshape":
            out = tuple(int(d) for d in cfg["target_shape"])
        elif kind in ("Dropout", "Activation", "Softmax", "BatchNormalization", "InputLayer"):
            out = shape
        else:
            raise ValueError(f"layer_specs: unsupported layer {kind}")
        specs.append({"kind": kind, "config": dict(cfg), "in": shape, "out": out})
        shape = out
    return specs


def forward_macs(spec: dict) -> int:
    """Multiply-accumulates of one layer's forward pass for one sample (0 if none)."""
    if spec["kind"] == "Conv2D":
        ho, wo, cout = spec["out"]
        kh, kw = _pair(spec["config"]["kernel_size"])
        return ho * wo * cout * kh * kw * spec["in"][-1]
    if spec["kind"] == "Dense":
        rows = 1
        for d in spec["in"][:-1]:
            rows *= d
        return rows * spec["in"][-1] * spec["out"][-1]
    return 0


def train_flops(specs: List[dict]) -> dict:
    """Floating-point operations per sample of inference and of a training step.

    Counts only the convolutions and dense layers (the GEMM-shaped work):
    forward = 2 * MACs per layer. A training step is forward + backward-data
    (gradient w.r.t. the layer input, same MACs as forward) + backward-weights
    (same MACs again), i.e. 3x forward, except that the first weighted layer
    needs no backward-data pass (nothing upstream wants its input gradient).
    Bias adds, activations, pooling, dropout, the loss and the optimizer
    update are left out (they are O(activations + parameters), not O(MACs)).

    Returns ``{"forward": flops, "train": flops, "layers": [per-layer forward flops]}``.
    """
    per_layer = [2 * forward_macs(s) for s in specs]
    forward = sum(per_layer)
    first = next((f for f in per_layer if f), 0)
    return {"forward": forward, "train": 3 * forward - first, "layers": per_layer}


def model_specs(model_name: str) -> Tuple[List[dict], dict]:
    """``(layer_specs, defaults)`` of one of fmnistcpp's seed architectures."""
    from fmnistcpp import architectures

    model, cfg = architectures.build(model_name)
    pairs = [(type(l).__name__, l.get_config()) for l in model.layers]
    return layer_specs(pairs, cfg["input_shape"]), cfg
