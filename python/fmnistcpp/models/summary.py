"""`model.summary()`'s table, drawn like Keras 3's."""

from __future__ import annotations


def _fmt_bytes(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n:.2f} B"


def _shape(s) -> str:
    return "(None, " + ", ".join(str(d) for d in s) + ")" if s is not None else "?"


def render(model_name: str, rows: list, trainable: int, optimizer_params: int = 0,
           non_trainable: int = 0) -> str:
    """rows: (name_and_type, output_shape, params)."""
    widths = [max(31, *(len(r[0]) + 2 for r in rows)) if rows else 31,
              max(22, *(len(r[1]) + 2 for r in rows)) if rows else 22, 13]

    def line(left, mid, right, fill):
        return left + mid.join(fill * (w + 2) for w in widths) + right

    def row(cells, edge="│", align=("<", "<", ">")):
        return edge + edge.join(f" {c:{a}{w}} " for c, w, a in zip(cells, widths, align)) + edge

    out = [f'Model: "{model_name}"', line("┏", "┳", "┓", "━"),
           row(("Layer (type)", "Output Shape", "Param #"), "┃"), line("┡", "╇", "┩", "━")]
    for i, r in enumerate(rows):
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


def rows_for(layers) -> list:
    return [(f"{l.name} ({type(l).__name__})", _shape(l.output_shape),
             l.count_params() if l.built else 0) for l in layers]
