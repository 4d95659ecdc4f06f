"""Concurrent use of one model from several threads, a shared optimizer,
and memory bounds (issue 15). The engine holds one lock per batch
(cpp/engine_lock.hpp), so calls from several threads interleave at batch
boundaries and each gets the result it would get alone. Each threaded test
runs in a child interpreter with a timeout, so a deadlock fails the test
instead of hanging the suite, and a crash is a failure, not a dead pytest."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fmnistcpp

TIMEOUT = 240  # s; each child finishes in a few seconds on an idle 2-core machine


def _run(code: str):
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


PRELUDE = """
import threading, numpy as np, fmnistcpp as keras
from fmnistcpp import layers
rng = np.random.default_rng(0)
x = rng.random((2000, 12, 12, 1), dtype=np.float32)
y = rng.integers(0, 10, 2000)
def make():
    m = keras.Sequential([keras.Input((12, 12, 1)), layers.Conv2D(8, 3, activation="relu"),
                          layers.MaxPooling2D(), layers.Flatten(), layers.Dropout(0.2),
                          layers.Dense(10, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return m
def run_all(fns):
    errors, threads = [], []
    def wrap(f):
        try:
            f()
        except BaseException as e:
            errors.append(repr(e))
    for f in fns:
        threads.append(threading.Thread(target=wrap, args=(f,)))
    for t in threads: t.start()
    for t in threads: t.join()
    assert not errors, errors
"""


def test_concurrent_predicts_give_the_single_thread_answer():
    _run(PRELUDE + """
model = make()
want = model.predict(x, batch_size=64, verbose=0)
results = [None] * 4
def job(i, bs):
    def f():
        for _ in range(5):
            results[i] = model.predict(x, batch_size=bs, verbose=0)
    return f
run_all([job(i, bs) for i, bs in enumerate((64, 1, 300, 2000))])
for r in results:
    np.testing.assert_allclose(r, want, atol=1e-6)
print("ok")
""")


def test_fit_beside_predict_evaluate_and_another_fit():
    _run(PRELUDE + """
model = make()
other = make()
logs = {}
def fit():
    logs["fit"] = model.fit(x, y, epochs=2, batch_size=32, verbose=0).history["loss"]
def fit_other():
    logs["other"] = other.fit(x, y, epochs=2, batch_size=50, verbose=0).history["loss"]
def predict():
    for _ in range(10):
        p = model.predict(x[:500], verbose=0)
        assert p.shape == (500, 10) and np.isfinite(p).all()
        np.testing.assert_allclose(p.sum(axis=1), 1, atol=1e-5)
def evaluate():
    for _ in range(5):
        loss, acc = model.evaluate(x[:500], y[:500], verbose=0)
        assert np.isfinite(loss) and 0 <= acc <= 1
run_all([fit, fit_other, predict, evaluate])
assert all(np.isfinite(logs["fit"])) and all(np.isfinite(logs["other"]))
print("ok")
""")


def test_two_fits_of_one_model_both_finish():
    _run(PRELUDE + """
model = make()
out = []
run_all([lambda: out.append(model.fit(x[:1000], y[:1000], epochs=1, verbose=0)),
         lambda: out.append(model.fit(x[1000:], y[1000:], epochs=1, verbose=0))])
assert len(out) == 2 and model.optimizer.iterations == 2 * 32
print("ok")
""")


def test_predict_from_a_callback_inside_fit_still_works():
    _run(PRELUDE + """
model = make()
seen = []
class Peek(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if batch % 20 == 0:
            seen.append(self.model.predict(x[:8], verbose=0).shape)
    def on_epoch_end(self, epoch, logs=None):
        self.model.fit(x[:64], y[:64], epochs=1, verbose=0)  # re-entrant fit
model.fit(x, y, epochs=2, batch_size=32, callbacks=[Peek()], verbose=0)
assert seen and all(s == (8, 10) for s in seen)
print("ok")
""")


def test_one_optimizer_in_two_models_is_refused_as_keras_does():
    opt = fmnistcpp.optimizers.Adam()
    x = np.random.default_rng(1).random((16, 4), dtype=np.float32)
    y = np.arange(16) % 3

    def make():
        m = fmnistcpp.Sequential([fmnistcpp.Input((4,)),
                                  fmnistcpp.layers.Dense(3, activation="softmax")])
        m.compile(opt, "sparse_categorical_crossentropy")
        return m

    first, second = make(), make()
    first.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match="recreate a new optimizer instance"):
        second.fit(x, y, verbose=0)
    first.fit(x, y, verbose=0)  # its own model still trains, and counts its steps
    assert first.optimizer.iterations == 2


def test_predict_with_batch_size_one_on_a_wide_model_stays_small():
    """Inference runs chunks of up to 256 rows, but no more than 64 MB of
    activations: batch_size=1 on a wide conv model must not take hundreds
    of MB (before: 256 rows x 28x28x256 x 4 B = 205 MB for one layer)."""
    out = _run("""
import resource, numpy as np, fmnistcpp as keras
from fmnistcpp import layers
model = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(256, 3, padding="same"),
                          layers.Conv2D(256, 3, padding="same"), layers.GlobalAveragePooling2D(),
                          layers.Dense(10, activation="softmax")])
x = np.random.default_rng(0).random((300, 28, 28, 1), dtype=np.float32)
model.predict(x[:2], batch_size=1, verbose=0)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
p = model.predict(x, batch_size=1, verbose=0)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) / 1024)
""")
    grown_mb = float(out.strip().splitlines()[-1])
    # activations capped at 64 MB (two conv outputs share the budget) plus
    # oneDNN's scratch; 205 MB or more would mean the cap is gone
    assert grown_mb < 120, grown_mb
