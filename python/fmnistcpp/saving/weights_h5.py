"""Keras 3's weights file layout (`model.weights.h5` inside a `.keras`
archive, and `.weights.h5` files from `save_weights`):

    /vars                     attrs name=<model name>       (model's own: none)
    /layers/<snake class>/vars/0, 1, ...   attrs name=<layer name>
    /optimizer/vars           attrs name=<optimizer name>

Layers are addressed by their class name in snake case made unique in
order (conv2d, conv2d_1, ...), as keras.src.saving.saving_lib does, not by
the layers' own names. The optimizer's state (Adam's moments, the step
count) is not saved: fmnistcpp keeps it inside the C++ engine, so the file
holds a fresh optimizer state (step 0, zero moments) with the right shapes,
and a loaded model, in Keras or here, restarts the optimizer from it.
"""

from __future__ import annotations

import h5py
import numpy as np

from . import h5_safety
from .serialization import to_snake_case


def _unique(name, used):
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


def _layer_paths(model, prefix="layers"):
    """(path, layer) for every layer of the model, nested models expanded,
    in Keras's naming; a nested Sequential yields itself too."""
    from ..models.sequential import Sequential

    used = {}
    for layer in model.layers:
        path = f"{prefix}/{_unique(to_snake_case(type(layer).__name__), used)}"
        yield path, layer
        if isinstance(layer, Sequential):
            yield from _layer_paths(layer, path + "/layers")


def write_weights(model, h5file: h5py.File) -> None:
    """Writes the model's weights into an open, empty h5py File."""
    from ..models.sequential import Sequential

    h5file.create_group("vars").attrs["name"] = model.name
    h5file.create_group("layers")
    for path, layer in _layer_paths(model):
        group = h5file.create_group(path).create_group("vars")
        group.attrs["name"] = layer.name
        if isinstance(layer, Sequential):
            continue
        weights = layer.get_weights() if layer.built else []
        for i, w in enumerate(weights):
            group.create_dataset(str(i), data=np.asarray(w, dtype=np.float32))
    if model.optimizer is not None:
        _write_fresh_optimizer(model, h5file.create_group("optimizer").create_group("vars"))


def _write_fresh_optimizer(model, group) -> None:
    """Writes the optimizer's variables in Keras's order (iteration,
    learning_rate, then per weight Adam's momentum and velocity or SGD's
    momentum) holding a *fresh* state: step 0 and zero moments. The C++
    engine does not expose its optimizer state, so this is what training
    resumes from in Keras, exactly as in fmnistcpp after loading."""
    from .. import optimizers

    opt = model.optimizer
    group.attrs["name"] = opt.name
    group.create_dataset("0", data=np.int64(0))
    index = 1
    if getattr(opt, "_schedule", None) is None:  # with a schedule Keras has no lr variable
        group.create_dataset("1", data=np.float32(opt.learning_rate))
        index = 2
    if not model.built:
        return
    weights = model.trainable_weights  # Keras's optimizer has no slots for moving statistics
    if isinstance(opt, optimizers.Adam):
        # Keras 3 creates momentum and velocity per weight, in turn.
        layout = [w for w in weights for _ in range(2)]
    elif isinstance(opt, optimizers.RMSprop):
        # Keras 3 creates all velocities, then all momentums, then averages.
        kinds = 1 + (opt.momentum > 0) + bool(opt.centered)
        layout = [w for _ in range(kinds) for w in weights]
    elif isinstance(opt, optimizers.SGD) and opt.momentum:
        layout = list(weights)
    else:
        layout = []
    for w in layout:
        group.create_dataset(str(index), data=np.zeros(w.shape, dtype=np.float32))
        index += 1


def read_weights(model, h5file: h5py.File, where: str) -> None:
    """Sets the model's weights from a Keras 3 weights file."""
    from ..models.sequential import Sequential

    if h5_safety.lookup(h5file, "layers", where) is None:
        keys = ", ".join(sorted(h5_safety.members(h5file, where))) or "nothing"
        raise ValueError(
            f"{where} is not a Keras 3 weights file: it has no 'layers' group (it holds {keys})"
        )
    if not model.built:
        raise ValueError(f"cannot load weights from {where}: the model is not built yet "
                         "(give it an Input or call build() first)")
    weights = []
    for path, layer in _layer_paths(model):
        if isinstance(layer, Sequential):
            continue
        expected = layer.get_weights()
        if not expected:
            continue
        what = f"layer {layer.name!r} ({type(layer).__name__})"
        if h5_safety.lookup(h5file, path + "/vars", where, what) is None:
            raise ValueError(
                f"{where} has no weights for {what}, expected at '{path}/vars'; the file "
                "was saved from a different architecture"
            )
        group = h5_safety.group(h5file, path + "/vars", where, f"the weights of {what}")
        count = len(h5_safety.members(group, where))
        if count != len(expected):
            raise ValueError(
                f"{where}: layer {layer.name!r} ({type(layer).__name__}) expects "
                f"{len(expected)} weight arrays, the file has {count} at '{path}/vars'"
            )
        for i, e in enumerate(expected):
            weight = f"layer {layer.name!r} weight {i}"
            ds = h5_safety.dataset(group, str(i), where, weight)
            weights.append(h5_safety.read_array(ds, e.shape, where, weight))
    model.set_weights(weights)
