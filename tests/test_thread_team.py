"""Threads on a busy machine (issue 16): the OpenMP wait policy fmnistcpp
gives libgomp at import (python/fmnistcpp/_threads.py) and the team that
shrinks while other processes keep the cores busy (cpp/thread_team.hpp).

No timings here (benchmarks are not timed tests): the checks are what
libgomp was told (omp_display_env), that the user's own settings win and
leak nowhere, and which team the engine ran on beside busy processes."""

import os
import subprocess
import sys
import textwrap

import pytest

import fmnistcpp
from _isolated import run_isolated

DISPLAY = """
import ctypes, os, sys
sys.stderr.flush()
ctypes.CDLL("libgomp.so.1").omp_display_env(1)   # verbose: GOMP_SPINCOUNT included
"""


def _gomp_settings(code, env):
    """(stdout, {name: value}) of what libgomp printed at the end of `code`."""
    full = dict(os.environ)
    for v in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT"):
        full.pop(v, None)
    full.update(env)
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code) + DISPLAY],
                          capture_output=True, text=True, env=full, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    settings = {}
    for line in proc.stderr.splitlines():
        if " = " in line:
            k, v = line.strip().split(" = ", 1)
            settings[k.strip()] = v.strip().strip("'")
    return proc.stdout, settings


def test_import_bounds_the_spin_and_leaves_the_environment_clean():
    out, gomp = _gomp_settings("""
import os, fmnistcpp
print(fmnistcpp._threads.state()["spin_count"], "GOMP_SPINCOUNT" in os.environ)
""", {})
    from fmnistcpp import _threads

    assert gomp["GOMP_SPINCOUNT"] == str(_threads.SPIN_COUNT)
    assert out.split() == [str(_threads.SPIN_COUNT), "False"]  # read by libgomp, then removed


@pytest.mark.parametrize("var,value,expect", [
    ("OMP_WAIT_POLICY", "ACTIVE", ("OMP_WAIT_POLICY", "ACTIVE")),
    ("GOMP_SPINCOUNT", "1234", ("GOMP_SPINCOUNT", "1234")),
])
def test_the_users_wait_policy_wins(var, value, expect):
    out, gomp = _gomp_settings("""
import os, fmnistcpp
print(fmnistcpp._threads.state()["reason"].split(":")[0], os.environ[%r])
""" % var, {var: value})
    assert gomp[expect[0]] == expect[1]
    assert out.split() == ["user", value]  # kept in the environment too


def test_libgomp_loaded_first_keeps_its_own_settings():
    out, gomp = _gomp_settings("""
import ctypes
ctypes.CDLL("libgomp.so.1")   # another library brought OpenMP in first
import fmnistcpp
print(fmnistcpp._threads.state()["spin_count"])
""", {})
    assert out.split() == ["None"]
    assert gomp["GOMP_SPINCOUNT"] == "300000"  # libgomp's own default, untouched


# --- the team beside busy processes -------------------------------------------------------

TEAM = """
import json, subprocess, sys, time
import numpy as np, fmnistcpp as keras
from fmnistcpp import layers
keras.utils.set_num_threads(2)
keras.utils.set_adaptive_threads({adaptive})
rng = np.random.default_rng(0)
x = rng.random((4000, 28, 28), dtype=np.float32)
y = rng.integers(0, 10, 4000)
m = keras.Sequential([keras.Input((28, 28)), layers.Flatten(),
                      layers.Dense(256, activation="relu"), layers.Dense(10, activation="softmax")])
m.compile("adam", "sparse_categorical_crossentropy")
seen = []
class Team(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        seen.append(keras.utils.get_num_threads())   # the team of the batch just run
# two busy processes: they keep both cores of a 2-core machine busy
hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range({hogs})]
try:
    time.sleep(0.5)
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 2.0:
        m.fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[Team()])
finally:
    for h in hogs: h.kill()
print(json.dumps(dict(seen=sorted(set(seen)), after=keras.utils.get_num_threads(),
                      state=keras._core.thread_team_state())))
"""


def _team(adaptive, hogs=2):
    import json

    return json.loads(run_isolated(TEAM.format(adaptive=adaptive, hogs=hogs),
                                   timeout=240).splitlines()[-1])


@pytest.mark.skipif(len(os.sched_getaffinity(0)) > 4,
                    reason="two busy processes do not fill a machine with more than 4 cores")
def test_team_shrinks_beside_busy_processes_and_comes_back():
    r = _team(True, hogs=len(os.sched_getaffinity(0)))
    assert 1 in r["seen"]                       # ran on one thread while the cores were taken
    assert r["state"]["others_busy_cores"] >= 0.5
    assert r["after"] == 2                      # the caller's count is given back after fit


def test_fixed_team_when_adaptation_is_off():
    r = _team(False, hogs=len(os.sched_getaffinity(0)))
    assert r["seen"] == [2] and r["after"] == 2


@pytest.mark.parametrize("bad", ["yes", 1.0, None])
def test_set_adaptive_threads_rejects_non_booleans(bad):
    before = fmnistcpp.utils.get_adaptive_threads()
    with pytest.raises(TypeError, match="True or False"):
        fmnistcpp.utils.set_adaptive_threads(bad)
    assert fmnistcpp.utils.get_adaptive_threads() == before


def test_small_layers_run_on_the_calling_thread():
    """A layer whose batch is too little work to pay for waking a second
    thread is prepared for, and runs on, the calling thread alone
    (team_for_work in cpp/thread_team.cpp): seed 002's Dense 128 -> 10 at
    batch 32 is 32 x 129 x 10 = 41 280 multiply-adds, its 784 -> 128
    layer 3.2 million; Flatten, which does not count its work, keeps the
    team. The same layer at a batch of 1 024 gets the team,
    and one thread set means one thread for every layer. Training is the
    same whichever team a layer ran on: checked against a run on one
    thread, to float32 round-off of a different summation order."""
    import numpy as np

    import fmnistcpp as keras
    from fmnistcpp import architectures

    rng = np.random.default_rng(0)
    x = rng.random((1024, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 1024)
    threads, adaptive = keras.utils.get_num_threads(), keras.utils.get_adaptive_threads()
    weights = {}
    try:
        keras.utils.set_adaptive_threads(False)  # a busy CI machine must not shrink the team
        for n in (2, 1):
            keras.utils.set_num_threads(n)
            keras.utils.set_random_seed(0)
            model, cfg = architectures.seed002_mlp()
            architectures.compile_model(model, cfg)
            network = model._engine().network
            model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)
            # Flatten (a view), Dense 784 -> 128, Dense 128 -> 10
            assert network.layer_teams() == ([2, 2, 1] if n == 2 else [1, 1, 1])
            weights[n] = model.get_weights()
            model.predict(x, batch_size=1024, verbose=0)
            assert network.layer_teams() == ([2, 2, 2] if n == 2 else [1, 1, 1])
    finally:
        keras.utils.set_num_threads(threads)
        keras.utils.set_adaptive_threads(adaptive)
    for a, b in zip(weights[2], weights[1]):
        # 32 Adam steps from the same start: different reduction orders in
        # the 784 -> 128 layer's GEMMs leave differences of a few float32
        # ulps per step, far below the lr 1e-3 steps themselves.
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-4)
