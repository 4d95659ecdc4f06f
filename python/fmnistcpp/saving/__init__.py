"""Saving and loading models in Keras's file formats.

- `.keras` (Keras 3's native zip format: config.json, metadata.json,
  model.weights.h5): written by `model.save`, read by `load_model`, and
  interchangeable with real Keras's `keras.models.load_model` / `model.save`.
- `.h5` / `.hdf5` (legacy Keras HDF5 with `model_config` and
  `model_weights`): read (tf.keras 2 and Keras 3 files) and written.
- `.weights.h5` (Keras 3's `save_weights` format): `save_weights` /
  `load_weights`.

Every write is atomic (`atomic.py`: a temp file in the same directory,
fsynced, then `os.replace`d over the target), so an exception, a crash or
Ctrl-C during the write leaves any previous file intact; the exceptions
(read-only files and directories, symlinks, temp files left by a kill) are
described there. Model files are untrusted input: `h5_safety.py` refuses
what would read other files (HDF5 links, external storage, virtual
datasets) and bombs, and names what is malformed.

The optimizer's configuration is saved (a loaded model is compiled as
Keras does), its state (Adam's moments, the step count) is not: training a
loaded model restarts the optimizer from a fresh state.
"""

from __future__ import annotations

import os

from . import h5_safety, keras_archive, legacy_h5, weights_h5
from .atomic import atomic_path
from .serialization import SUPPORTED_LAYERS

_ZIP_MAGIC = b"PK\x03\x04"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def _path(filepath) -> str:
    try:
        return os.fspath(filepath)
    except TypeError:
        raise ValueError(f"filepath must be a str or os.PathLike, got {filepath!r}") from None


def _check_overwrite(path, overwrite):
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path!r} already exists and overwrite=False")


def save_model(model, filepath, overwrite=True) -> None:
    """Saves `model` to a `.keras` (recommended) or legacy `.h5` file, atomically."""
    path = _path(filepath)
    lower = path.lower()
    if lower.endswith(".keras"):
        writer = keras_archive.write
    elif lower.endswith((".h5", ".hdf5")) and not lower.endswith(".weights.h5"):
        writer = legacy_h5.write
    else:
        raise ValueError(
            f"Invalid filepath extension for saving: {path!r}. Please add either a `.keras` "
            "extension for the native Keras format (recommended) or a `.h5` extension "
            "(legacy HDF5); use model.save_weights for a `.weights.h5` file."
        )
    _check_overwrite(path, overwrite)
    with atomic_path(path) as tmp:
        writer(model, tmp)


def _sniff(path) -> bytes:
    if not os.path.exists(path):
        raise ValueError(f"File not found: filepath={path}. Please ensure the file is an "
                         "accessible `.keras` or `.h5` file.")
    if os.path.isdir(path):
        raise ValueError(f"{path!r} is a directory; a TensorFlow SavedModel directory cannot be "
                         "loaded, only `.keras` and `.h5` files")
    with open(path, "rb") as f:
        head = f.read(8)
    if not head:
        raise ValueError(f"{path!r} is empty (0 bytes): not a valid .keras or .h5 file")
    return head


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model saved by `model.save` here or in Keras (`.keras`, `.h5`)."""
    path = _path(filepath)
    head = _sniff(path)
    lower = path.lower()
    if custom_objects:
        raise ValueError("custom_objects are not supported: fmnistcpp loads models made of its "
                         f"supported layers only ({', '.join(SUPPORTED_LAYERS)})")
    if lower.endswith(".keras"):
        if not head.startswith(_ZIP_MAGIC):
            what = " (it is an HDF5 file: rename it to .h5)" if head == _HDF5_MAGIC else ""
            raise ValueError(f"{path!r} is not a valid .keras file: it is not a zip archive"
                             f"{what}; the file may be truncated or corrupt")
        return keras_archive.load(path, compile=compile)
    if lower.endswith(".weights.h5"):
        raise ValueError(f"{path!r} holds only weights (a .weights.h5 file); build the model "
                         "and call model.load_weights on it instead")
    if lower.endswith((".h5", ".hdf5")):
        if head != _HDF5_MAGIC:
            raise ValueError(f"{path!r} is not a valid HDF5 file (bad signature); it may be "
                             "truncated, corrupt or in a different format")
        return legacy_h5.load(path, compile=compile)
    raise ValueError(
        f"File format not supported: filepath={path}. fmnistcpp loads `.keras` files "
        "(Keras 3's format) and legacy `.h5` / `.hdf5` files."
    )


def save_weights(model, filepath, overwrite=True) -> None:
    """Writes the model's weights in Keras 3's `.weights.h5` layout, atomically."""
    import h5py

    path = _path(filepath)
    if not path.endswith(".weights.h5"):
        raise ValueError(f"The filename must end in `.weights.h5`. Received: filepath={path}")
    if not model.built:
        raise ValueError("the model is not built yet, so it has no weights to save")
    _check_overwrite(path, overwrite)
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            weights_h5.write_weights(model, f)


def load_weights(model, filepath, skip_mismatch=False) -> None:
    """Loads weights from a `.weights.h5`, `.keras` or legacy `.h5` file."""
    import h5py

    if skip_mismatch:
        raise NotImplementedError("load_weights(skip_mismatch=True) is not supported")
    path = _path(filepath)
    head = _sniff(path)
    lower = path.lower()
    if lower.endswith(".keras"):
        if not head.startswith(_ZIP_MAGIC):
            raise ValueError(f"{path!r} is not a valid .keras file: it is not a zip archive "
                             "(truncated or corrupt)")
        keras_archive.load_weights(path, model)
        return
    if not lower.endswith((".h5", ".hdf5")):
        raise ValueError(f"File format not supported: filepath={path}. load_weights reads "
                         "`.weights.h5`, `.keras` and legacy `.h5` files.")
    if head != _HDF5_MAGIC:
        raise ValueError(f"{path!r} is not a valid HDF5 file (bad signature); it may be "
                         "truncated, corrupt or in a different format")
    with legacy_h5.open_h5(path) as f:
        if h5_safety.lookup(f, "layers", repr(path)) is not None:
            weights_h5.read_weights(model, f, repr(path))
            # Keras's load_weights restores a compiled model's optimizer too
            if model.compiled:
                weights_h5.read_optimizer(model, f, repr(path))
            return
    legacy_h5.load_weights(path, model)


def model_to_bytes(model) -> bytes:
    """The model as the bytes of a `.keras` archive (for pickling)."""
    import io

    buffer = io.BytesIO()
    keras_archive.write(model, buffer)
    return buffer.getvalue()


def model_from_bytes(data: bytes, compile=True):
    """A model from `model_to_bytes`'s bytes (for unpickling)."""
    import io

    return keras_archive.load(io.BytesIO(data), compile=compile)


__all__ = ["save_model", "load_model", "save_weights", "load_weights", "model_to_bytes",
           "model_from_bytes"]

# A name Keras 3 has and fmnistcpp lacks gets an error saying so.
from .. import _missing  # noqa: E402

__getattr__ = _missing.module_getattr(__name__, "saving")
