"""Turning what users pass to fit/evaluate/predict into what the engine
reads: float32 C-contiguous x of the model's sample shape, int32 labels
for sparse losses, float32 one-hot rows for categorical ones. Converted
once per call, so the C++ loop only reads views."""

from __future__ import annotations

import numpy as np


def as_inputs(x, sample_shape: tuple, what: str = "x") -> np.ndarray:
    if x is None:
        raise ValueError(f"{what} is required")
    if isinstance(x, (list, tuple, dict)) and len(x) and not _is_numeric_sequence(x):
        raise NotImplementedError(f"{what}: only a single NumPy array input is supported")
    try:
        arr = np.asarray(x)
    except Exception as e:  # ragged lists and the like
        raise ValueError(f"{what} could not be turned into an array: {e}") from None
    _check_real(arr, what)
    expected = f"(samples, {', '.join(map(str, sample_shape))})"
    if arr.ndim == 0:
        raise ValueError(f"{what} is a scalar ({x!r:.40}), expected an array of shape {expected}")
    if arr.shape[0] == 0:
        raise ValueError(f"{what} is empty (shape {arr.shape}): expected shape {expected}")
    if tuple(arr.shape[1:]) != tuple(sample_shape):
        raise ValueError(
            f"{what} has shape {arr.shape}, the model expects (samples, "
            f"{', '.join(map(str, sample_shape))})"
        )
    with np.errstate(over="ignore"):  # values beyond float32 become inf, refused below
        arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        raise ValueError(f"{what} contains NaN or infinity (after conversion to float32)")
    return arr


def _check_real(arr: np.ndarray, what: str) -> None:
    """Real numbers (or bools) only: strings, objects and complex values are
    refused rather than cast (numpy would drop imaginary parts silently)."""
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"{what} must be numeric (int, float or bool), got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise ValueError(f"{what} must hold real numbers, got complex dtype {arr.dtype}")


def _is_numeric_sequence(x) -> bool:
    return not isinstance(x, dict) and not any(isinstance(e, np.ndarray) and e.ndim > 1
                                               for e in x[:1])


def as_labels(y, n: int, classes: int, sparse: bool, what: str = "y") -> np.ndarray:
    if y is None:
        raise ValueError(f"{what} is required for training and evaluation")
    try:
        arr = np.asarray(y)
    except Exception as e:  # ragged lists and the like
        raise ValueError(f"{what} could not be turned into an array: {e}") from None
    _check_real(arr, what)
    if arr.ndim == 0 or arr.shape[0] != n:
        raise ValueError(f"x has {n} samples but {what} has "
                         f"{arr.shape[0] if arr.ndim else 'no batch axis'}")
    if sparse:
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 1:
            raise ValueError(
                f"sparse_categorical_crossentropy expects integer labels of shape ({n},), got "
                f"{what} of shape {arr.shape}; for one-hot labels use categorical_crossentropy"
            )
        if not np.issubdtype(arr.dtype, np.integer):
            bad = ~np.isfinite(arr) | (arr != np.round(arr))
            if bad.any():
                raise ValueError(
                    f"{what} must hold integer class indices in [0, {classes}) for "
                    f"sparse_categorical_crossentropy, got {float(arr[bad][0])!r} at index "
                    f"{int(np.flatnonzero(bad)[0])}"
                )
        lo, hi = arr.min(), arr.max()
        if lo < 0 or hi >= classes:
            raise ValueError(f"{what} holds labels in [{lo}, {hi}], expected in [0, {classes})")
        return np.ascontiguousarray(arr, dtype=np.int32)
    if arr.ndim != 2 or arr.shape[1] != classes:
        raise ValueError(
            f"categorical_crossentropy expects one-hot labels of shape ({n}, {classes}), got "
            f"{what} of shape {arr.shape}; for integer labels use "
            "sparse_categorical_crossentropy or fmnistcpp.utils.to_categorical"
        )
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        raise ValueError(f"{what} contains NaN or infinity")
    return arr


def check_batch_size(batch_size, default=32) -> int:
    if batch_size is None:
        return default
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    # Past the sample count any size is one batch of all (the engine clamps it,
    # as Keras's batching does); the engine takes an int64.
    return min(int(batch_size), 2**63 - 1)
