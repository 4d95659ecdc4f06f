"""`model.summary()`'s table, drawn like Keras 3's: layer, output shape and
parameter count per layer (nested models as one row), plus Keras's
"Connected to" column for functional models, then the totals."""

from __future__ import annotations


def _fmt_bytes(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n:.2f} B"


def _shape(shape) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return "[" + ", ".join(_shape(s) for s in shape) + "]"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _output_shape(layer):
    from ..layers.input_layer import InputLayer

    if isinstance(layer, InputLayer):
        return layer.batch_shape
    if not layer._inbound_nodes:
        return None
    outs = [t.shape for t in layer._inbound_nodes[0].outputs]
    return outs[0] if len(outs) == 1 else outs


def _connections(layer, graph_nodes) -> list:
    """Keras's `name[node][tensor]` for each input of the layer's node in
    this graph."""
    for node in layer._inbound_nodes:
        if node in graph_nodes:
            return [f"{t._keras_history.operation.name}[{t._keras_history.node_index}]"
                    f"[{t._keras_history.tensor_index}]" for t in node.input_tensors]
    return []


def render_model(model) -> str:
    from .model import Functional, Model
    from .sequential import Sequential

    functional = isinstance(model, Functional) or (
        isinstance(model, Model) and not isinstance(model, Sequential) and not model._tracked)
    graph_nodes = set(model._graph.nodes) if functional else set()
    rows = []
    for layer in model.layers:
        params = layer.count_params() if layer.built else 0
        connected = (_connections(layer, graph_nodes) or ["-"]) if functional else None
        rows.append((f"{layer.name} ({type(layer).__name__})", _shape(_output_shape(layer)),
                     params, connected))
    weights = model.weights
    trainable = sum(v.size for v in model.trainable_weights)
    non_trainable = sum(v.size for v in weights) - trainable
    return render(model.name, rows, trainable, _optimizer_variable_count(model), non_trainable,
                  functional)


def _optimizer_variable_count(model) -> int:
    """Keras counts the optimizer's variables once it has been used: the
    step count, the learning rate (unless a schedule sets it) and the state
    the engine's optimizer keeps."""
    opt = model.optimizer
    if opt is None or opt._network is None or opt.iterations == 0:
        return 0
    state = opt._state_arrays_sizes()
    return sum(state) + 1 + (0 if opt._has_schedule() else 1)


def render(model_name: str, rows: list, trainable: int, optimizer_params: int = 0,
           non_trainable: int = 0, functional: bool = False) -> str:
    """rows: (name_and_type, output_shape, params, connections or None)."""
    widths = [max([31] + [len(r[0]) + 2 for r in rows]),
              max([22] + [len(r[1]) + 2 for r in rows]), 13]
    if functional:
        widths.append(max([22] + [len(c) + 2 for r in rows for c in r[3]]))
    headers = ("Layer (type)", "Output Shape", "Param #", "Connected to")[:len(widths)]
    align = ("<", "<", ">", "<")[:len(widths)]

    def line(left, mid, right, fill):
        return left + mid.join(fill * (w + 2) for w in widths) + right

    def row(cells, edge="│"):
        return edge + edge.join(f" {c:{a}{w}} " for c, w, a in zip(cells, widths, align)) + edge

    out = [f'Model: "{model_name}"', line("┏", "┳", "┓", "━"), row(headers, "┃"),
           line("┡", "╇", "┩", "━")]
    for i, r in enumerate(rows):
        if functional:
            connections = r[3]
            out.append(row((r[0], r[1], f"{r[2]:,}", connections[0] +
                            ("," if len(connections) > 1 else ""))))
            for j, c in enumerate(connections[1:], 1):
                out.append(row(("", "", "", c + ("," if j + 1 < len(connections) else ""))))
        else:
            out.append(row((r[0], r[1], f"{r[2]:,}")))
        if i + 1 < len(rows):
            out.append(line("├", "┼", "┤", "─"))
    out.append(line("└", "┴", "┘", "─"))
    total = trainable + non_trainable + optimizer_params
    out.append(f" Total params: {total:,} ({_fmt_bytes(total * 4)})")
    out.append(f" Trainable params: {trainable:,} ({_fmt_bytes(trainable * 4)})")
    out.append(f" Non-trainable params: {non_trainable:,} ({_fmt_bytes(non_trainable * 4)})")
    if optimizer_params:
        out.append(f" Optimizer params: {optimizer_params:,} ({_fmt_bytes(optimizer_params * 4)})")
    return "\n".join(out)
