"""The Keras 3 `.keras` format: a zip archive holding

    metadata.json     {"keras_version": ..., "date_saved": ...}
    config.json       the model's serialized config, build_config and compile_config
    model.weights.h5  the weights (see weights_h5)

Files written here load with `keras.models.load_model`; files Keras writes
load here (for the layers fmnistcpp supports)."""

from __future__ import annotations

import datetime
import io
import json
import zipfile

import h5py

from . import h5_safety, serialization, weights_h5

KERAS_VERSION = "3.15.1"  # the Keras format version we write
CONFIG = "config.json"
METADATA = "metadata.json"
WEIGHTS = "model.weights.h5"


def write(model, path) -> None:
    """Writes `model` as a .keras archive to `path` (not atomic on its own)."""
    config = serialization.model_to_keras(model)
    compile_config = serialization.compile_to_keras(model)
    if compile_config is not None:
        config["compile_config"] = compile_config
    metadata = {"keras_version": KERAS_VERSION,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        weights_h5.write_weights(model, f)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr(METADATA, json.dumps(metadata))
        z.writestr(CONFIG, json.dumps(config))
        z.writestr(WEIGHTS, buffer.getvalue())


def _open(path):
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{path!r} is not a valid .keras file: it is not a zip archive (truncated, corrupt, "
            "or a different format)"
        )
    try:
        return zipfile.ZipFile(path, "r")
    except (zipfile.BadZipFile, OSError) as exc:
        raise ValueError(f"{path!r} is not a valid .keras file: {exc}") from exc


def _read_member(z, path, name, limit=h5_safety.CONFIG_LIMIT):
    if name not in z.namelist():
        raise ValueError(
            f"{path!r} is not a valid .keras file: the archive has no {name} "
            f"(it holds: {', '.join(z.namelist()) or 'nothing'})"
        )
    return h5_safety.read_zip_member(z, name, limit, repr(path))


def read_config(z, path) -> dict:
    raw = _read_member(z, path, CONFIG)
    try:
        config = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"{path!r}: config.json is not valid JSON ({exc})") from exc
    if not isinstance(config, dict):
        raise ValueError(f"{path!r}: config.json does not hold a model config")
    return config


def load_weights_from_archive(z, path, model, optimizer=False) -> None:
    raw = _read_member(z, path, WEIGHTS, h5_safety.weights_member_limit(model))
    try:
        f = h5py.File(io.BytesIO(raw), "r")
    except (OSError, RuntimeError) as exc:
        raise ValueError(f"{path!r}: model.weights.h5 is not a readable HDF5 file ({exc})") from exc
    with f:
        weights_h5.read_weights(model, f, f"{path!r} (its {WEIGHTS})")
        if optimizer:
            weights_h5.read_optimizer(model, f, f"{path!r} (its {WEIGHTS})")


def load(path, compile=True):
    with _open(path) as z:
        config = read_config(z, path)
        model = serialization.model_from_keras(config, f"{path!r}")
        if not model.built and config.get("build_config"):
            model.build(tuple(config["build_config"]["input_shape"]))
        compiled = bool(compile and config.get("compile_config"))
        if compiled:
            serialization.compile_from_keras(model, config["compile_config"], f"{path!r}")
        if model.built:
            load_weights_from_archive(z, path, model, optimizer=compiled)
    return model


def load_weights(path, model) -> None:
    with _open(path) as z:
        load_weights_from_archive(z, path, model, optimizer=model.compiled)
