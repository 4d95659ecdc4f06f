"""plot_model / model_to_dot, as keras.utils': the model's layers as a pydot
graph (the same node tables and edges as Keras draws), rendered by
Graphviz's `dot` program (Debian's `graphviz` package)."""

from __future__ import annotations

import os


def _pydot():
    try:
        import pydot
    except ImportError as e:
        raise ImportError("You must install pydot (`pip install pydot`, or "
                          "`pip install 'fmnistcpp[plot]'`) for `plot_model` to work.") from e
    return pydot


def _check_graphviz(pydot):
    try:
        pydot.Dot.create(pydot.Dot())
    except (OSError, pydot.PydotException) as e:
        raise ImportError("You must install graphviz (its `dot` program: `apt-get install "
                          "graphviz` on Debian) for `plot_model` to work.") from e


def _shape(tensors):
    try:
        value = tensors() if callable(tensors) else tensors
    except (AttributeError, ValueError):
        return "?"
    if isinstance(value, (list, tuple)):  # Keras prints the list of shapes
        return str([tuple(t.shape) for t in value])
    return str(tuple(value.shape))


def _label(layer, show_layer_names, show_shapes, show_dtype, show_layer_activations,
           show_trainable):
    kind = type(layer).__name__
    extras = int(show_dtype) + int(show_trainable) + (2 if show_shapes else 0)
    span = max(1, extras)
    title = f"<b>{layer.name}</b> ({kind})" if show_layer_names else f"<b>{kind}</b>"
    html = ('<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">'
            f'<tr><td colspan="{span}" bgcolor="black"><font point-size="16" color="white">'
            f"{title}</font></td></tr>")
    activation = getattr(layer, "activation", None)
    if show_layer_activations and activation is not None:
        name = getattr(activation, "name", None) or getattr(activation, "__name__", None) \
            or str(activation)
        html += (f'<tr><td bgcolor="white" colspan="{span}"><font point-size="14">'
                 f"Activation: <b>{name}</b></font></td></tr>")
    cells = []
    cell = '<td bgcolor="white"><font point-size="14">{}: <b>{}</b></font></td>'
    if show_shapes:
        if kind != "InputLayer":
            cells.append(cell.format("Input shape", _shape(lambda: layer.input)))
        cells.append(cell.format("Output shape", _shape(lambda: layer.output)))
    if show_dtype:
        cells.append(cell.format("Output dtype", "float32"))
    if show_trainable and getattr(layer, "weights", None):
        colour, text = ("forestgreen", "Trainable") if layer.trainable else \
            ("firebrick", "Non-trainable")
        cells.append(f'<td bgcolor="{colour}"><font point-size="14" color="white">'
                     f"<b>{text}</b></font></td>")
    if cells:
        html += f"<tr>{''.join(cells)}</tr>"
    return html + "</table>>"


def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True, rankdir="TB",
                 expand_nested=False, dpi=200, subgraph=False, show_layer_activations=False,
                 show_trainable=False, splines="ortho", **kwargs):
    """The model as a `pydot.Dot` graph: one node per layer (a table with
    its name, class and, with show_shapes, input and output shapes)."""
    from ..models.model import Model
    from ..models.sequential import Sequential

    if not model.built:
        raise ValueError("This model has not yet been built. Build the model first by calling "
                         "`build()` or by calling the model on a batch of data.")
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
    if expand_nested or subgraph:
        raise NotImplementedError("model_to_dot(expand_nested=True) is not supported by "
                                  "fmnistcpp: plot the nested model on its own")
    pydot = _pydot()
    dot = pydot.Dot()
    for key, value in (("rankdir", rankdir), ("concentrate", True), ("dpi", dpi),
                       ("splines", splines)):
        dot.set(key, value)
    dot.set_node_defaults(shape="record")
    options = (show_layer_names, show_shapes, show_dtype, show_layer_activations, show_trainable)

    def add(layer):
        node = pydot.Node(str(id(layer)), label=_label(layer, *options))
        for key, value in (("fontname", "Helvetica"), ("border", "0"), ("margin", "0")):
            node.set(key, value)
        dot.add_node(node)

    def edge(src, dst):
        if not dot.get_edge(str(id(src)), str(id(dst))):
            e = pydot.Edge(str(id(src)), str(id(dst)))
            e.set("penwidth", "2")
            dot.add_edge(e)

    if isinstance(model, Sequential):
        layers = model.layers
        for layer in layers:
            add(layer)
        for a, b in zip(layers, layers[1:]):
            edge(a, b)
        return dot
    if type(model).call is not Model.call:  # subclassed: one box, as Keras draws it
        add(model)
        return dot
    graph = model._graph
    for layer in graph.operations:
        add(layer)
    for node in graph.nodes:
        for t in node.input_tensors:
            edge(t._keras_history.operation, node.operation)
    return dot


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False,
               show_layer_names=False, rankdir="TB", expand_nested=False, dpi=200,
               show_layer_activations=False, show_trainable=False, splines="ortho", **kwargs):
    """Draws the model into `to_file` (the format from its extension,
    default PNG), as keras.utils.plot_model; returns an IPython Image in
    a notebook.

    Example:

    ```python
    fmnistcpp.utils.plot_model(model, to_file="model.png", show_shapes=True)
    ```
    """
    if not model.built:
        raise ValueError("This model has not yet been built. Build the model first by calling "
                         "`build()` or by calling the model on a batch of data.")
    pydot = _pydot()
    _check_graphviz(pydot)
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                       show_layer_names=show_layer_names, rankdir=rankdir,
                       expand_nested=expand_nested, dpi=dpi,
                       show_layer_activations=show_layer_activations,
                       show_trainable=show_trainable, splines=splines, **kwargs)
    to_file = str(os.fspath(to_file))
    extension = os.path.splitext(to_file)[1][1:] or "png"
    dot.write(to_file, format=extension)
    if extension != "pdf":
        try:
            from IPython import display

            return display.Image(filename=to_file)
        except ImportError:
            pass
    return None
