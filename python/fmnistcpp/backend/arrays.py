"""Turning what users pass to fit/evaluate/predict into what the engine
reads: one C-contiguous array per model input (float32 read in place;
uint8 and float64 kept as they are and converted by the engine a batch at
a time, so no float32 copy of the whole dataset is made), int32 class
indices for losses that take them, float32 targets of the output's shape
for the others. Checked and
converted once per call, so the C++ loop only reads views."""

from __future__ import annotations

import numpy as np

from .. import _core

_ENGINE_DTYPES = (np.float32, np.float64, np.uint8)


def _check_real(arr: np.ndarray, what: str) -> None:
    """Real numbers (or bools) only: strings, objects and complex values are
    refused rather than cast (numpy would drop imaginary parts silently)."""
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"{what} must be numeric (int, float or bool), got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise ValueError(f"{what} must hold real numbers, got complex dtype {arr.dtype}")


def to_array(x, what: str) -> np.ndarray:
    try:
        return np.asarray(x)
    except Exception as e:  # ragged lists and the like
        raise ValueError(f"{what} could not be turned into an array: {e}") from None


def as_engine_array(x, what: str = "x") -> np.ndarray:
    """A numeric, finite, C-contiguous array in a dtype the engine reads."""
    if x is None:
        raise ValueError(f"{what} is required")
    arr = to_array(x, what)
    _check_real(arr, what)
    if arr.dtype.type not in _ENGINE_DTYPES:
        arr = arr.astype(np.float32)
    elif not arr.dtype.isnative:  # big-endian data (e.g. read from a file as '>f4')
        arr = arr.astype(arr.dtype.newbyteorder("="))
    arr = np.ascontiguousarray(arr)
    # float64 beyond float32's range would become infinity in the engine.
    if _core.first_non_finite(arr) >= 0:
        raise ValueError(f"{what} contains NaN or infinity (after conversion to float32)")
    return arr


def as_input(x, sample_shape: tuple, what: str = "x") -> np.ndarray:
    """One model input: an engine array of shape (samples, *sample_shape).
    As Keras, a missing or extra trailing axis of size 1 is adjusted
    ((N, 28, 28) feeds a (28, 28, 1) input)."""
    if x is None:
        raise ValueError(f"{what} is required")
    arr = to_array(x, what)
    _check_real(arr, what)
    expected = f"(samples, {', '.join(map(str, sample_shape))})"
    if arr.ndim == 0:
        raise ValueError(f"{what} is a scalar ({x!r:.40}), expected an array of shape {expected}")
    if arr.shape[0] == 0:
        raise ValueError(f"{what} is empty (shape {arr.shape}): expected shape {expected}")
    rank = len(sample_shape) + 1
    if arr.ndim == rank - 1 and sample_shape[-1] == 1 and arr.shape[1:] == sample_shape[:-1]:
        arr = arr[..., None]
    elif arr.ndim == rank + 1 and arr.shape[-1] == 1 and arr.shape[1:-1] == tuple(sample_shape):
        arr = arr[..., 0]
    if tuple(arr.shape[1:]) != tuple(sample_shape):
        raise ValueError(f"{what} has shape {arr.shape}, the model expects {expected}")
    return as_engine_array(arr, what)


def structure(value, names: list, what: str) -> list:
    """A list with one entry per model input/output from a single value, a
    list/tuple, or a dict keyed by name."""
    if len(names) == 1:
        if isinstance(value, dict):
            if set(value) != set(names):
                raise ValueError(f"{what}: expected the key {names[0]!r}, got {sorted(value)}")
            return [value[names[0]]]
        if isinstance(value, (list, tuple)) and value and all(
                isinstance(v, np.ndarray) and v.ndim >= 1 for v in value):
            if len(value) == 1 and value[0].ndim > 1:
                return [value[0]]
            if len(value) > 1 and value[0].ndim > 1:
                raise ValueError(f"the model has 1 input ({names[0]!r}) but {what.split()[0]} "
                                 f"is a list of {len(value)} arrays")
        return [value]
    if isinstance(value, dict):
        missing = [n for n in names if n not in value]
        if missing:
            raise ValueError(f"{what} has no entry for {', '.join(map(repr, missing))} "
                             f"(the model's names: {names})")
        return [value[n] for n in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(f"the model has {len(names)} {what.split()[-1]}s ({names}), got a "
                             f"{type(value).__name__} of {len(value)}")
        return list(value)
    raise ValueError(f"the model has {len(names)} {what.split()[-1]}s ({names}): pass a list or "
                     f"a dict of {len(names)} arrays, got {type(value).__name__}")


def as_labels(y, n: int, output_shape: tuple, sparse: bool, what: str = "y",
              loss: str = "sparse_categorical_crossentropy") -> np.ndarray:
    """Labels for one output, as its loss reads them: int32 class indices
    (N,) (also given as (N, 1)) when `sparse`, else float32 targets of the
    output's shape (N, *output_shape); as Keras's
    squeeze_or_expand_to_same_rank, (N,) labels fit an (N, 1) output and a
    trailing axis of 1 is dropped."""
    if y is None:
        raise ValueError(f"{what} is required for training and evaluation")
    arr = to_array(y, what)
    _check_real(arr, what)
    if arr.ndim == 0 or arr.shape[0] != n:
        raise ValueError(f"x has {n} samples but {what} has "
                         f"{arr.shape[0] if arr.ndim else 'no batch axis'}")
    shape = tuple(output_shape)
    if sparse:
        classes = shape[-1]
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 1:
            raise ValueError(
                f"{loss} expects integer labels of shape ({n},), got {what} of shape "
                f"{arr.shape}; for one-hot labels use categorical_crossentropy"
            )
        if not np.issubdtype(arr.dtype, np.integer):
            bad = ~np.isfinite(arr) | (arr != np.round(arr))
            if bad.any():
                raise ValueError(
                    f"{what} must hold integer class indices in [0, {classes}) for {loss}, got "
                    f"{float(arr[bad][0])!r} at index {int(np.flatnonzero(bad)[0])}"
                )
        lo, hi = arr.min(), arr.max()
        if lo < 0 or hi >= classes:
            raise ValueError(f"{what} holds labels in [{lo}, {hi}], expected in [0, {classes})")
        return np.ascontiguousarray(arr, dtype=np.int32)
    if arr.shape[1:] == shape[:-1] and shape[-1] == 1:
        arr = arr[..., None]
    elif arr.shape[1:] == shape + (1,):
        arr = arr[..., 0]
    if arr.shape[1:] != shape:
        expected = f"({n}, {', '.join(map(str, shape))})"
        hint = ("; for integer labels use sparse_categorical_crossentropy or "
                "fmnistcpp.utils.to_categorical") if loss == "categorical_crossentropy" else ""
        kind = "one-hot labels" if loss == "categorical_crossentropy" else "labels"
        raise ValueError(f"{loss} expects {kind} of shape {expected} (the output's shape), got "
                         f"{what} of shape {arr.shape}{hint}")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        raise ValueError(f"{what} contains NaN or infinity")
    return arr


def as_sample_weight(w, n: int, what: str = "sample_weight") -> np.ndarray:
    arr = to_array(w, what)
    _check_real(arr, what)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.shape != (n,):
        raise ValueError(f"{what} must have shape ({n},), one weight per sample, got {arr.shape}")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise ValueError(f"{what} must hold finite weights >= 0")
    return arr


def class_weights(class_weight, labels: np.ndarray) -> np.ndarray:
    """Keras's class_weight_to_sample_weights: the weight of each sample's
    class (one-hot rows by their argmax, a single 0/1 column rounded), 1
    for classes not in the dict."""
    if not isinstance(class_weight, dict):
        raise ValueError(f"class_weight must be a dict {{class index: weight}}, got "
                         f"{type(class_weight).__name__}")
    if labels.ndim > 1 and labels.shape[-1] != 1:
        classes = np.argmax(labels.reshape(len(labels), -1), axis=-1)
    else:  # class indices, or one 0/1 column (Keras rounds it)
        classes = np.round(labels.reshape(len(labels))).astype(np.int64)
    out = np.ones(len(classes), dtype=np.float32)
    for c, w in class_weight.items():
        try:
            out[classes == int(c)] = float(w)
        except (TypeError, ValueError):
            raise ValueError(f"class_weight must map class indices to numbers, got "
                             f"{c!r}: {w!r}") from None
    return out


def check_batch_size(batch_size, default=32) -> int:
    if batch_size is None:
        return default
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    return int(min(batch_size, 2**62))  # the engine clamps to the data anyway


def check_count(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {value!r}")
    return int(value)
