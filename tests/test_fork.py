"""fork() after training: libgomp's worker threads do not exist in the
child, and before the fix the child's first predict waited for them forever.
Now the forking thread computes on one thread in the child, with one
RuntimeWarning, and every other case keeps all threads. See
cpp/fork_guard.hpp.

Each case runs in a child interpreter with a timeout (tests/_isolated.py),
so a hang fails the test. Two OpenMP threads are asked for explicitly: with
one (scripts/sanitize.sh's default) there is no worker to lose.
Does not import Keras/TensorFlow (scripts/sanitize.sh runs it under ASan).
"""

import pytest

from _isolated import run_isolated

TWO_THREADS = {"OMP_NUM_THREADS": "2"}

SETUP = """
import os, sys, threading, warnings
import multiprocessing as mp
import numpy as np
import fmnistcpp as keras
from fmnistcpp import layers

rng = np.random.default_rng(0)
x = rng.random((600, 28, 28, 1), dtype=np.float32)
y = rng.integers(0, 10, 600)

def make(kind):
    keras.utils.set_random_seed(1)
    body = {"dense": [layers.Flatten(), layers.Dense(64, activation="relu")],
            "conv": [layers.Conv2D(8, 3, activation="relu"), layers.MaxPooling2D(),
                     layers.Flatten()]}[kind]
    m = keras.Sequential([layers.Input((28, 28, 1))] + body +
                         [layers.Dense(10, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy")
    return m

def threads():
    return len(os.listdir("/proc/self/task"))

def in_child(body):
    # Runs body() in a forked child; returns its exit status (0: passed).
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            body()
            status = 0
        except BaseException:
            import traceback; traceback.print_exc()
        finally:
            sys.stdout.flush(); sys.stderr.flush()
            os._exit(status)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

# Single-threaded and two-threaded runs may add float32 terms in another
# order (the GEMM splits its reductions by thread); over at most 784 terms
# that moves a softmax output by far less than 1e-5.
TOL = dict(rtol=1e-5, atol=1e-6)
"""


@pytest.mark.parametrize("kind", ["dense", "conv"])
def test_fork_after_training_predicts_and_trains_in_the_child(kind):
    out = run_isolated(SETUP + f"""
model = make("{kind}")
model.fit(x, y, batch_size=32, epochs=1, verbose=0)
ref = model.predict(x, verbose=0)

def child():
    before = threads()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        np.testing.assert_allclose(model.predict(x, verbose=0), ref, **TOL)
        np.testing.assert_allclose(model(x[:5]), ref[:5], **TOL)
        model.fit(x, y, batch_size=32, epochs=1, verbose=0)
        model.evaluate(x, y, verbose=0)
        assert np.isfinite(model.predict(x[:7], verbose=0)).all()
    ours = [w for w in caught if "forked" in str(w.message)]
    assert len(ours) == 1 and ours[0].category is RuntimeWarning, [str(w.message) for w in caught]
    assert threads() == before, "the child started threads on the forking thread"
    # and a fork of the fork works the same way
    assert in_child(lambda: model.predict(x, verbose=0)) == 0

assert in_child(child) == 0
# the parent is untouched: still every thread, same outputs
np.testing.assert_array_equal(model.predict(x, verbose=0), ref)
print("ok")
""", timeout=120, env=TWO_THREADS)
    assert out.strip() == "ok"


def test_fork_before_training_keeps_every_thread():
    # A fork before the engine ever ran (a worker pool made up front) has no
    # lost threads: the child trains on two threads and is not warned.
    out = run_isolated(SETUP + """
model = make("conv")

def child():
    before = threads()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert threads() > before, "no OpenMP worker started in the child"

assert in_child(child) == 0
print("ok")
""", timeout=120, env=TWO_THREADS)
    assert out.strip() == "ok"


def test_fork_from_a_thread_that_never_ran_the_engine_keeps_every_thread():
    # Only the thread whose pool was copied is held to one thread: a fork
    # made from another thread (which had started no team) keeps two.
    out = run_isolated(SETUP + """
model = make("dense")
model.fit(x, y, batch_size=32, epochs=1, verbose=0)
ref = model.predict(x, verbose=0)

def child():
    before = threads()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(model.predict(x, verbose=0), ref, **TOL)
    assert threads() > before

status = []
forker = threading.Thread(target=lambda: status.append(in_child(child)))
forker.start(); forker.join()
assert status == [0], status
print("ok")
""", timeout=120, env=TWO_THREADS)
    assert out.strip() == "ok"


def test_multiprocessing_fork_pool_after_training():
    # The usual way to fork: a multiprocessing Pool with the 'fork' start
    # method, made after training, each worker predicting a slice.
    out = run_isolated(SETUP + """
model = make("conv")
model.fit(x, y, batch_size=32, epochs=1, verbose=0)
ref = model.predict(x, verbose=0)

def predict_rows(bounds):
    warnings.simplefilter("ignore", RuntimeWarning)
    return model.predict(x[bounds[0]:bounds[1]], verbose=0)

with mp.get_context("fork").Pool(2) as pool:
    parts = pool.map(predict_rows, [(0, 150), (150, 300), (300, 450), (450, 600)])
np.testing.assert_allclose(np.concatenate(parts), ref, **TOL)
print("ok")
""", timeout=120, env=TWO_THREADS)
    assert out.strip() == "ok"
