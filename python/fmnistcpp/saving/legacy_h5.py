"""The legacy Keras HDF5 format (`model.save('m.h5')` in tf.keras 2 and
Keras 3): root attributes `model_config` (JSON) and `training_config`,
weights under `model_weights/<layer name>/...` listed by the attributes
`layer_names` (group) and `weight_names` (per layer)."""

from __future__ import annotations

import json

import h5py
import numpy as np

from . import h5_safety, serialization

KERAS_VERSION = "3.15.1"


def open_h5(path):
    try:
        return h5py.File(path, "r")
    except (OSError, RuntimeError) as exc:
        raise ValueError(
            f"{path!r} is not a readable HDF5 file (truncated, corrupt or a different "
            f"format): {exc}"
        ) from exc


def read_layer_weights(group, where) -> list:
    """[(layer name, [datasets])] in file order from a `model_weights`-style
    group; the datasets are checked (h5_safety) but not read yet."""
    if not h5_safety.has_attr(group, "layer_names", where):
        raise ValueError(f"{where} has no 'layer_names' attribute: not a Keras HDF5 weights file")
    out = []
    for name in h5_safety.names_attr(group, "layer_names", where):
        if h5_safety.lookup(group, name, where, f"layer {name!r}") is None:
            raise ValueError(f"{where}: weights of layer {name!r} are missing (truncated file?)")
        g = h5_safety.group(group, name, where, f"the weights of layer {name!r}")
        arrays = [h5_safety.dataset(g, wname, where, f"weight {wname!r} of layer {name!r}")
                  for wname in h5_safety.names_attr(g, "weight_names", where)]
        out.append((name, arrays))
    return out


def _weights_group(f, where):
    if h5_safety.lookup(f, "model_weights", where) is None:
        return f
    return h5_safety.group(f, "model_weights", where, "the model's weights")


def assign(model, layer_weights, where) -> None:
    """Sets the weights of the model's layers that have weights, in order
    (a nested model is one layer holding all its weights), as Keras's
    load_weights_from_hdf5_group matches them."""
    if not model.built:
        raise ValueError(f"cannot load weights from {where}: the model is not built yet")
    file_layers = [(n, a) for n, a in layer_weights if a]
    ours = [l for l in serialization.saved_layers(model) if l.get_weights()]
    if len(file_layers) != len(ours):
        raise ValueError(
            f"{where} has weights for {len(file_layers)} layers "
            f"({', '.join(n for n, _ in file_layers)}), the model has {len(ours)} layers "
            "with weights"
        )
    weights = []
    for (name, arrays), layer in zip(file_layers, ours):
        expected = layer.get_weights()
        if len(arrays) != len(expected) or any(a.shape != e.shape
                                               for a, e in zip(arrays, expected)):
            raise ValueError(
                f"{where}: weights of layer {name!r} have shapes "
                f"{[a.shape for a in arrays]}, layer {layer.name!r} expects "
                f"{[e.shape for e in expected]}"
            )
        weights.append((layer, [h5_safety.read_array(a, e.shape, where,
                                                     f"weight {i} of layer {name!r}")
                                for i, (a, e) in enumerate(zip(arrays, expected))]))
    for layer, arrays in weights:  # all read and checked first: no half-loaded model
        layer.set_weights(arrays)


def load(path, compile=True):
    where = repr(str(path))
    with open_h5(path) as f:
        model_config = h5_safety.text_attr(f, "model_config", where)
        if model_config is None:
            raise ValueError(
                f"{where} has no 'model_config' attribute: it is not a Keras HDF5 model "
                "(a weights-only file? use model.load_weights)"
            )
        try:
            config = json.loads(model_config)
        except (ValueError, RecursionError) as exc:
            raise ValueError(f"{where}: model_config is not valid JSON ({exc})") from exc
        model = serialization.model_from_keras(config, where)
        layer_weights = read_layer_weights(_weights_group(f, where), where)
        if model.built:
            assign(model, layer_weights, where)
        training = h5_safety.text_attr(f, "training_config", where)
        if compile and training is not None:
            try:
                training = json.loads(training)
            except (ValueError, RecursionError) as exc:
                raise ValueError(f"{where}: training_config is not valid JSON ({exc})") from exc
            if not isinstance(training, dict):
                raise ValueError(f"{where}: training_config should be a JSON object, found "
                                 f"{type(training).__name__}")
            compile_config = dict(training)
            compile_config["optimizer"] = training.get("optimizer_config", "rmsprop")
            serialization.compile_from_keras(model, compile_config, where)
    return model


def load_weights(path, model) -> None:
    where = repr(str(path))
    with open_h5(path) as f:
        assign(model, read_layer_weights(_weights_group(f, where), where), where)


def _weight_names(layer, prefix=""):
    """(name, array) of a layer's weights as Keras 3 names them in legacy
    files: layer/variable, or model/layer/variable inside a nested model."""
    if serialization.is_model(layer):
        out = []
        for inner in serialization.saved_layers(layer):
            out += _weight_names(inner, f"{prefix}{layer.name}/")
        return out
    return [(f"{prefix}{v.path}", v.numpy()) for v in layer.weights]  # path: layer/variable


def write(model, path) -> None:
    """Writes the legacy HDF5 format, as Keras 3's `model.save('m.h5')`."""
    spec = serialization.model_to_keras(model)
    model_config = {"class_name": spec["class_name"], "config": spec["config"]}
    with h5py.File(path, "w") as f:
        f.attrs["backend"] = "tensorflow"
        f.attrs["keras_version"] = KERAS_VERSION
        f.attrs["model_config"] = json.dumps(model_config)
        compile_config = serialization.compile_to_keras(model)
        if compile_config is not None:
            training = dict(compile_config)
            opt = training.pop("optimizer")
            training["optimizer_config"] = {"class_name": opt["class_name"],
                                            "config": opt["config"]}
            f.attrs["training_config"] = json.dumps(training)
        g = f.create_group("model_weights")
        g.attrs["backend"] = "tensorflow"
        g.attrs["keras_version"] = KERAS_VERSION
        names = []
        for layer in serialization.saved_layers(model):
            names.append(layer.name)
            lg = g.create_group(layer.name)
            weight_names = []
            for full, w in _weight_names(layer):
                lg.create_dataset(full, data=np.asarray(w, dtype=np.float32))
                weight_names.append(full)
            lg.attrs["weight_names"] = np.array(weight_names, dtype=h5py.string_dtype()) \
                if weight_names else np.array([], dtype=np.float64)
        g.attrs["layer_names"] = np.array(names, dtype=h5py.string_dtype())
        tl = g.create_group("top_level_model_weights")
        tl.attrs["weight_names"] = np.array([], dtype=np.float64)
