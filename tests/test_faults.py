"""Faults: exceptions raised inside callbacks (including the ones the C++
batch loop calls back into) reach the caller unchanged and leave a usable
model; repeated fit/predict does not grow resident memory.

Does not import Keras/TensorFlow (scripts/sanitize.sh runs it under ASan).
"""

import gc
import os

import numpy as np
import pytest

import fmnistcpp as keras
from fmnistcpp import layers

RNG = np.random.default_rng(0)
X = RNG.random((96, 6, 6, 1), dtype=np.float32)
Y = RNG.integers(0, 4, 96)


class Boom(Exception):
    """A user's own exception type, which must not be wrapped or replaced."""


def cnn():
    m = keras.Sequential([
        layers.Input((6, 6, 1)),
        layers.Conv2D(3, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dropout(0.2),
        layers.Dense(4, activation="softmax"),
    ])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


class RaiseAt(keras.callbacks.Callback):
    def __init__(self, hook, at, exc):
        super().__init__()
        self.hook, self.at, self.exc, self.calls = hook, at, exc, 0

    def _maybe_raise(self, index):
        self.calls += 1
        if index == self.at:
            raise self.exc


class RaiseOnEpochEnd(RaiseAt):
    def on_epoch_end(self, epoch, logs=None):
        self._maybe_raise(epoch)


class RaiseOnBatchEnd(RaiseAt):
    def on_train_batch_end(self, batch, logs=None):
        self._maybe_raise(batch)


class RaiseOnBatchBegin(RaiseAt):
    def on_train_batch_begin(self, batch, logs=None):
        self._maybe_raise(batch)


def _assert_usable(m):
    for w in m.get_weights():
        assert np.isfinite(w).all()
    p = m.predict(X, verbose=0)
    assert p.shape == (len(X), 4) and np.isfinite(p).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    loss = m.evaluate(X, Y, verbose=0)[0]
    assert np.isfinite(loss)
    history = m.fit(X, Y, batch_size=16, epochs=1, verbose=0)  # trains again
    assert np.isfinite(history.history["loss"][0])


@pytest.mark.parametrize("cls, at", [
    pytest.param(RaiseOnEpochEnd, 0, id="on_epoch_end_first"),
    pytest.param(RaiseOnEpochEnd, 1, id="on_epoch_end_second"),
    pytest.param(RaiseOnBatchEnd, 0, id="on_train_batch_end_first"),
    pytest.param(RaiseOnBatchEnd, 3, id="on_train_batch_end_middle"),
    pytest.param(RaiseOnBatchEnd, 5, id="on_train_batch_end_last"),
    pytest.param(RaiseOnBatchBegin, 2, id="on_train_batch_begin"),
])
@pytest.mark.parametrize("exc", [
    pytest.param(Boom("user error 42"), id="custom"),
    pytest.param(KeyError("missing"), id="KeyError"),
    pytest.param(ZeroDivisionError("division by zero"), id="ZeroDivisionError"),
])
@pytest.mark.parametrize("verbose", [0, 2])
def test_callback_exception_propagates_unchanged(cls, at, exc, verbose):
    m = cnn()
    cb = cls("", at, exc)
    with pytest.raises(type(exc)) as info:
        m.fit(X, Y, batch_size=16, epochs=3, verbose=verbose, callbacks=[cb])
    assert info.value is exc  # the very object, not a copy or a wrapper
    assert type(info.value) is type(exc)
    assert cb.calls == at + 1  # stopped right there, no further hook calls
    _assert_usable(m)


def test_callback_exception_in_validation_epoch():
    m = cnn()
    cb = RaiseOnEpochEnd("", 0, Boom("after validation"))
    with pytest.raises(Boom, match="after validation"):
        m.fit(X, Y, batch_size=16, epochs=2, validation_split=0.25, verbose=0, callbacks=[cb])
    _assert_usable(m)


def test_keyboard_interrupt_from_batch_hook_keeps_model():
    """KeyboardInterrupt (what Ctrl-C raises) from inside the C++ loop."""
    m = cnn()
    with pytest.raises(KeyboardInterrupt):
        m.fit(X, Y, batch_size=16, epochs=2, verbose=0,
              callbacks=[RaiseOnBatchEnd("", 2, KeyboardInterrupt())])
    _assert_usable(m)


def test_weights_after_exception_are_those_of_the_completed_batches():
    """An exception at batch k leaves the k+1 updates already applied and no partial update:
    a fresh run stopped at the same batch gives the same weights."""
    results = []
    for _ in range(2):
        keras.utils.set_random_seed(7)
        m = cnn()
        with pytest.raises(Boom):
            m.fit(X, Y, batch_size=16, epochs=1, verbose=0,
                  callbacks=[RaiseOnBatchEnd("", 2, Boom())])
        results.append(m.get_weights())
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


# --- memory -----------------------------------------------------------------------------
PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


@pytest.mark.skipif(os.environ.get("FMNISTCPP_SANITIZED") == "1",
                    reason="ASan's allocator quarantine holds freed memory by design")
def test_repeated_fit_predict_does_not_grow_rss():
    """20 rounds of fit + predict + evaluate on one model, then of fresh models.

    Round 0 is a warm-up (oneDNN primitive caches, JIT kernels, numpy and
    allocator pools). Afterwards each round allocates ~1 MB of arrays (the
    converted x, predictions, gradients' workspace); a leak of any of them
    per round would add >= 20 MB. The slack allows 8 MB for glibc arena
    fragmentation and Python's own caches."""
    x = RNG.random((1024, 12, 12, 1), dtype=np.float32)
    y = RNG.integers(0, 4, 1024)

    def model():
        m = keras.Sequential([layers.Input((12, 12, 1)), layers.Conv2D(8, 3, activation="relu"),
                              layers.MaxPooling2D(2), layers.Flatten(), layers.Dropout(0.3),
                              layers.Dense(4, activation="softmax")])
        m.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
        return m

    m = model()

    def round_(m):
        m.fit(x, y, batch_size=64, epochs=1, verbose=0, validation_split=0.1)
        m.predict(x.astype(np.float64), verbose=0)  # conversion path too
        m.evaluate(x, y, verbose=0)

    for _ in range(2):  # warm-up: caches and pools reach their steady size
        round_(m)
        round_(model())
    gc.collect()
    start = _rss_bytes()
    samples = []
    for _ in range(20):
        round_(m)
        round_(model())  # building and dropping networks must free them too
        gc.collect()
        samples.append(_rss_bytes())
    growth = samples[-1] - start
    slack = 8 * 2**20
    assert growth < slack, (
        f"RSS grew by {growth / 2**20:.1f} MB over 20 rounds "
        f"(per round: {[round((s - start) / 2**20, 1) for s in samples]})"
    )
