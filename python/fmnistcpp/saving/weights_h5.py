"""Keras 3's weights file layout (`model.weights.h5` inside a `.keras`
archive, and `.weights.h5` files from `save_weights`):

    /vars                     attrs name=<model name>       (model's own: none)
    /layers/<snake class>/vars/0, 1, ...   attrs name=<layer name>
    /layers/<snake class>/layers/...       (a nested model's layers)
    /optimizer/vars/0 (iteration), 1 (learning_rate), then the optimizer's
                              state in Keras's order

Layers are addressed by their class name in snake case made unique in
order (conv2d, conv2d_1, ...; a functional model lists its inputs as
input_layer), as keras.src.saving.saving_lib does, not by the layers' own
names. The optimizer's state is the engine's, in Keras's order, so a model
resumes training where it stopped, here or in Keras.
"""

from __future__ import annotations

import warnings

import h5py
import numpy as np

from . import h5_safety
from .serialization import is_model, is_sequential, saved_layers, to_snake_case


def _unique(name, used):
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


def _saved_class(layer) -> str:
    if is_model(layer):
        return "Sequential" if is_sequential(layer) else "Functional"
    return type(layer).__name__


def _layer_paths(model, prefix="layers"):
    """(path, layer) for every layer of the model, nested models expanded,
    in Keras's naming; a nested model yields itself too."""
    used = {}
    for layer in saved_layers(model):
        path = f"{prefix}/{_unique(to_snake_case(_saved_class(layer)), used)}"
        yield path, layer
        if is_model(layer):
            yield from _layer_paths(layer, path + "/layers")


def _var_groups(layer, path, weights=None):
    """(group path, weights) where Keras 3 keeps a layer's variables: its own
    `vars`, or its sub-layers' (an RNN's cell, a Bidirectional's two RNNs),
    as the layer's `_weights_subgroups` lists them."""
    weights = layer.get_weights() if weights is None else weights
    subgroups = getattr(layer, "_weights_subgroups", None)
    if subgroups is None:
        return [(f"{path}/vars", weights)]
    out, start = [], 0
    for sub, count in subgroups():
        out.append((f"{path}/{sub}/vars", weights[start:start + count]))
        start += count
    return out


def write_weights(model, h5file: h5py.File) -> None:
    """Writes the model's weights (and its optimizer's state) into an open,
    empty h5py File."""
    h5file.create_group("vars").attrs["name"] = model.name
    h5file.create_group("layers")
    for path, layer in _layer_paths(model):
        group = h5file.create_group(path).create_group("vars")
        group.attrs["name"] = layer.name
        if is_model(layer):
            continue
        for vars_path, weights in _var_groups(layer, path):
            if vars_path != f"{path}/vars":
                group = h5file.create_group(vars_path)
                group.attrs["name"] = vars_path.split("/")[-2]
            for i, w in enumerate(weights):
                group.create_dataset(str(i), data=np.asarray(w, dtype=np.float32))
    if model.optimizer is not None:
        _write_optimizer(model, h5file.create_group("optimizer").create_group("vars"))


def _write_optimizer(model, group) -> None:
    """The optimizer's variables in Keras's order: iteration, learning_rate
    (none when a schedule sets it), then its state per trainable weight."""
    opt = model.optimizer
    group.attrs["name"] = opt.name
    iterations, state = model._optimizer_state()
    group.create_dataset("0", data=np.int64(iterations))
    index = 1
    if not opt._has_schedule():
        group.create_dataset("1", data=np.float32(opt.learning_rate))
        index = 2
    for array in state:
        group.create_dataset(str(index), data=np.asarray(array, dtype=np.float32))
        index += 1


def read_optimizer(model, h5file, where: str) -> None:
    """Restores the optimizer's step count and state from a weights file,
    when the file has them in the layout this model's optimizer keeps;
    otherwise warns, as Keras does, and keeps a fresh state. Read through
    h5_safety like the weights: only arrays of the shapes expected."""
    if model.optimizer is None or h5_safety.lookup(h5file, "optimizer/vars", where) is None:
        return
    group = h5_safety.group(h5file, "optimizer/vars", where, "the optimizer's state")
    opt = model.optimizer
    _, fresh = model._optimizer_state()
    first = 1 if opt._has_schedule() else 2
    names = {k for k in h5_safety.members(group, where)}
    if names <= {str(i) for i in range(first)} and fresh:
        # an optimizer that never ran: nothing but its step count and rate (an
        # optimizer without state, plain SGD, goes on to read its step count)
        return
    if names != {str(i) for i in range(first + len(fresh))}:
        warnings.warn(f"Skipping variable loading for optimizer '{opt.name}': {where} holds "
                      f"{len(names)} optimizer variables, this optimizer keeps "
                      f"{first + len(fresh)}; it starts fresh")
        return
    what = "the optimizer's step count"
    iterations = int(h5_safety.read_array(h5_safety.dataset(group, "0", where, what), (), where,
                                          what, as_dtype=np.int64))
    values = []
    for i, f in enumerate(fresh):
        what = f"optimizer variable {first + i}"
        values.append(h5_safety.read_array(h5_safety.dataset(group, str(first + i), where, what),
                                           f.shape, where, what))
    if not model._set_optimizer_state(iterations, values):
        warnings.warn(f"Skipping variable loading for optimizer '{opt.name}': {where} holds "
                      "state arrays this optimizer cannot take; it starts fresh")


def read_weights(model, h5file: h5py.File, where: str) -> None:
    """Sets the model's weights from a Keras 3 weights file."""
    if h5_safety.lookup(h5file, "layers", where) is None:
        keys = ", ".join(sorted(h5_safety.members(h5file, where))) or "nothing"
        raise ValueError(
            f"{where} is not a Keras 3 weights file: it has no 'layers' group (it holds {keys})"
        )
    if not model.built:
        raise ValueError(f"cannot load weights from {where}: the model is not built yet "
                         "(give it an Input or call build() first)")
    assignments = []
    for path, layer in _layer_paths(model):
        if is_model(layer):
            continue
        expected = layer.get_weights()
        if not expected:
            continue
        what = f"layer {layer.name!r} ({type(layer).__name__})"
        arrays = []
        for vars_path, group_weights in _var_groups(layer, path, expected):
            if h5_safety.lookup(h5file, vars_path, where, what) is None:
                raise ValueError(
                    f"{where} has no weights for {what}, expected at '{vars_path}'; the file "
                    "was saved from a different architecture"
                )
            group = h5_safety.group(h5file, vars_path, where, f"the weights of {what}")
            count = len(h5_safety.members(group, where))
            if count != len(group_weights):
                raise ValueError(
                    f"{where}: layer {layer.name!r} ({type(layer).__name__}) expects "
                    f"{len(group_weights)} weight arrays, the file has {count} at '{vars_path}'"
                )
            for i, e in enumerate(group_weights):
                weight = f"layer {layer.name!r} weight {len(arrays)}"
                ds = h5_safety.dataset(group, str(i), where, weight)
                arrays.append(h5_safety.read_array(ds, e.shape, where, weight))
        assignments.append((layer, arrays))
    for layer, arrays in assignments:  # all read and checked first: no half-loaded model
        layer.set_weights(arrays)
