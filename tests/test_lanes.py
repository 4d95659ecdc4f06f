"""Training on lanes (cpp/lanes.cpp, issue 16): when other processes share
the cores, each thread runs the whole pass on its own rows of the batch on
its own copy of the layers, and the network sums their weight gradients.

The step on lanes must be the step on the team: same loss, same gradient up
to summation order. `_core._set_forced_lanes(n)` makes every step that can
run on n lanes do so, so these checks do not depend on the machine's load;
the last test checks that a busy machine turns lanes on by itself."""

import json
import os

import numpy as np
import pytest

import fmnistcpp as keras
from fmnistcpp import _core, layers
from _isolated import run_isolated


@pytest.fixture
def forced_lanes():
    def force(n):
        _core._set_forced_lanes(n)
    yield force
    _core._set_forced_lanes(0)


def _lane_steps():
    return _core.thread_team_state()["lane_steps"]


CNN = [layers.Conv2D, dict(filters=4, kernel_size=3, activation="relu")], \
      [layers.MaxPooling2D, dict(pool_size=2)], \
      [layers.Conv2D, dict(filters=6, kernel_size=3, activation="relu")], \
      [layers.Flatten, {}], \
      [layers.Dense, dict(units=16, activation="relu")], \
      [layers.Dense, dict(units=10, activation="softmax")]
MLP = [layers.Flatten, {}], \
      [layers.Dense, dict(units=32, activation="relu")], \
      [layers.Dense, dict(units=10, activation="softmax")]
WITH_BN = [layers.Flatten, {}], \
          [layers.Dense, dict(units=32)], \
          [layers.BatchNormalization, {}], \
          [layers.Dense, dict(units=10, activation="softmax")]


def _model(specs, input_shape=(12, 12, 1)):
    keras.utils.set_random_seed(3)
    m = keras.Sequential([keras.Input(input_shape)] + [cls(**kw) for cls, kw in specs])
    m.compile(keras.optimizers.SGD(learning_rate=0.1), "sparse_categorical_crossentropy")
    return m


def _data(n, shape=(12, 12, 1)):
    rng = np.random.default_rng(7)
    return rng.random((n,) + shape, dtype=np.float32), rng.integers(0, 10, n)


def _one_step(specs, lanes, n, forced_lanes, streamed=False, shape=(12, 12, 1)):
    """(loss, weights before, weights after) of one SGD step on n rows."""
    m = _model(specs, shape)
    x, y = _data(n, shape)
    before = [w.copy() for w in m.get_weights()]
    forced_lanes(lanes)
    if streamed:
        loss = float(m.train_on_batch(x, y))
    else:
        loss = m.fit(x, y, batch_size=n, epochs=1, shuffle=False, verbose=0).history["loss"][0]
    forced_lanes(0)
    return loss, before, m.get_weights()


def _assert_same_step(team, lanes):
    loss_t, before_t, after_t = team
    loss_l, before_l, after_l = lanes
    # The loss is computed once, on the whole batch, in both: only the
    # forward pass's summation order differs (float32, ~1e-7 relative).
    assert loss_l == pytest.approx(loss_t, rel=1e-5)
    for b_t, b_l, a_t, a_l in zip(before_t, before_l, after_t, after_l):
        np.testing.assert_array_equal(b_t, b_l)
        step_t, step_l = a_t - b_t, a_l - b_l
        # The update is lr * gradient; the lanes' gradient is a sum of
        # per-lane sums, the team's oneDNN's own order: float32 rounding,
        # ~1e-6 of the largest entry. 1e-4 of it leaves room for
        # cancellation and still fails on a gradient missing a lane's rows
        # (that would be ~50 % off) or scaled by the lane's row count.
        scale = max(float(np.max(np.abs(step_t))), 1e-12)
        np.testing.assert_allclose(step_l, step_t, rtol=0, atol=1e-4 * scale)


@pytest.mark.parametrize("specs", [CNN, MLP], ids=["cnn", "mlp"])
@pytest.mark.parametrize("lanes,n", [(2, 64), (3, 50), (4, 64)],
                         ids=["2-lanes", "3-lanes-uneven", "4-lanes"])
def test_one_step_on_lanes_is_the_team_step(specs, lanes, n, forced_lanes):
    team = _one_step(specs, 0, n, forced_lanes)
    steps = _lane_steps()
    on_lanes = _one_step(specs, lanes, n, forced_lanes)
    assert _lane_steps() == steps + 1  # the step did run on lanes
    _assert_same_step(team, on_lanes)


# On 28 x 28 images the first Dense's kernel is tall against the batch
# (784 or 2 704 rows >= 4 x lanes x rows of the batch): the lanes leave its
# weight gradient to the network, which computes it once for the whole
# batch (lanes.cpp, defer_lane_weight_gradients); the second Dense's
# 32 or 16 rows are not, and are summed over the lanes as before.
TALL_CNN = [layers.Conv2D, dict(filters=4, kernel_size=3, activation="relu")], \
           [layers.Flatten, {}], \
           [layers.Dense, dict(units=16, activation="relu")], \
           [layers.Dense, dict(units=10, activation="softmax")]


@pytest.mark.parametrize("specs", [TALL_CNN, MLP], ids=["cnn", "mlp"])
@pytest.mark.parametrize("lanes,n", [(2, 64), (3, 50)], ids=["2-lanes", "3-lanes-uneven"])
def test_a_tall_dense_gets_the_batch_weight_gradient(specs, lanes, n, forced_lanes):
    team = _one_step(specs, 0, n, forced_lanes, shape=(28, 28, 1))
    steps, products = _lane_steps(), _core._kernel_row_split_calls()
    on_lanes = _one_step(specs, lanes, n, forced_lanes, shape=(28, 28, 1))
    assert _lane_steps() == steps + 1
    # one deferred weight gradient; in a lane the forward product is oneDNN's
    assert _core._kernel_row_split_calls() == products + 1
    _assert_same_step(team, on_lanes)


def test_train_on_batch_runs_on_lanes(forced_lanes):
    team = _one_step(MLP, 0, 40, forced_lanes, streamed=True)
    steps = _lane_steps()
    on_lanes = _one_step(MLP, 2, 40, forced_lanes, streamed=True)
    assert _lane_steps() == steps + 1
    _assert_same_step(team, on_lanes)


def test_several_epochs_on_lanes_track_the_team(forced_lanes):
    """Lanes copy the network's weights before every step: a lane left on
    old weights would drift away from the team within a few steps."""
    x, y = _data(640)
    runs = {}
    for lanes in (0, 2):
        m = _model(CNN)
        forced_lanes(lanes)
        h = m.fit(x, y, batch_size=64, epochs=3, shuffle=False, verbose=0)
        forced_lanes(0)
        runs[lanes] = (h.history["loss"], m.get_weights())
    # 30 SGD steps: rounding differences grow, but stay far below a real
    # difference (the first step alone moves the loss by ~1e-2).
    np.testing.assert_allclose(runs[2][0], runs[0][0], rtol=1e-4)
    for a, b in zip(runs[0][1], runs[2][1]):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-4 * max(1.0, float(np.max(np.abs(a)))))


def test_dropout_on_lanes_trains_like_the_team(forced_lanes):
    """Masks come from per-lane seeds, so the runs differ step by step;
    what must hold is that both learn alike."""
    specs = list(CNN[:-1]) + [[layers.Dropout, dict(rate=0.3)], CNN[-1]]
    x, y = _data(640)
    y = (x.reshape(640, -1).mean(axis=1) * 40).astype(int) % 10  # learnable labels
    losses = {}
    for lanes in (0, 2):
        m = _model(specs)
        forced_lanes(lanes)
        steps = _lane_steps()
        losses[lanes] = m.fit(x, y, batch_size=64, epochs=4, verbose=0).history["loss"]
        ran = _lane_steps() - steps
        forced_lanes(0)
        assert ran == (40 if lanes else 0)
    assert losses[2][-1] < losses[2][0]
    # 4 epochs of 10 steps from the same weights: the two differ only in
    # which units dropped; 15 % is several times the spread between seeds.
    assert losses[2][-1] == pytest.approx(losses[0][-1], rel=0.15)


def test_a_batch_normalization_model_stays_on_the_team(forced_lanes):
    steps = _lane_steps()
    team = _one_step(WITH_BN, 0, 64, forced_lanes)
    forced = _one_step(WITH_BN, 2, 64, forced_lanes)
    assert _lane_steps() == steps  # batch statistics need the whole batch
    assert forced[0] == team[0]
    for a, b in zip(team[2], forced[2]):
        np.testing.assert_array_equal(a, b)


def test_a_bfloat16_model_stays_on_the_team(forced_lanes):
    """Under mixed_bfloat16 lanes cost more than they win (lanes.cpp,
    lanes_for); on a CPU without bf16 kernels the model computes float32
    and may run on lanes."""
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        m = _model(MLP)
        x, y = _data(64)
        steps = _lane_steps()
        forced_lanes(2)
        m.fit(x, y, batch_size=64, epochs=1, verbose=0)
        forced_lanes(0)
        computes_bf16 = any(l._core.computes_bfloat16 for l in m.layers
                            if getattr(l, "_core", None) is not None)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert _lane_steps() == (steps if computes_bf16 else steps + 1)


def test_forced_lanes_rejects_negative_counts():
    with pytest.raises(ValueError, match="0 .automatic. or positive"):
        _core._set_forced_lanes(-1)


BUSY = """
import json, subprocess, sys, time
import numpy as np, fmnistcpp as keras
from fmnistcpp import layers, _core
keras.utils.set_num_threads(2)
rng = np.random.default_rng(0)
x = rng.random((2000, 28, 28, 1), dtype=np.float32)
y = rng.integers(0, 10, 2000)
if {cnn}:   # steps of tens of ms on one thread: worth lanes
    body = [layers.Conv2D(32, 3, activation="relu"), layers.Conv2D(32, 3, activation="relu"),
            layers.Flatten(), layers.Dense(10, activation="softmax")]
else:       # sub-millisecond steps: a lane waiting out a scheduler slice costs more
    body = [layers.Flatten(), layers.Dense(64, activation="relu"),
            layers.Dense(10, activation="softmax")]
m = keras.Sequential([keras.Input((28, 28, 1))] + body)
m.compile("adam", "sparse_categorical_crossentropy")
# busy processes in our own session: the scheduler shares per thread there
hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range({hogs})]
try:
    time.sleep(0.5)
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 4.0:
        m.fit(x, y, batch_size=64, epochs=1, verbose=0)
finally:
    for h in hogs: h.kill()
print(json.dumps(_core.thread_team_state()))
"""


@pytest.mark.skipif(not 2 <= len(os.sched_getaffinity(0)) <= 3,
                    reason="two busy threads per core leave a team of one clearly short of a "
                           "core on 2-3 cores")
@pytest.mark.parametrize("cnn", [True, False], ids=["long-steps", "short-steps"])
def test_busy_processes_in_our_session_turn_lanes_on_for_long_steps(cnn):
    # Two busy processes per core, not one: with n + 1 threads on n cores
    # the scheduler often settles with our thread alone on a core (2 + 1 on
    # two cores), which then gets a whole core, and rightly no lanes (seen
    # in a quarter of runs). With 2n + 1 threads no thread gets more than
    # half a core.
    cores = len(os.sched_getaffinity(0))
    state = json.loads(run_isolated(BUSY.format(hogs=2 * cores, cnn=cnn),
                                    timeout=240).splitlines()[-1])
    assert state["last_team_size"] == 1
    assert state["lanes_wanted"] is True  # the team of one was short of a core either way
    if cnn:
        assert state["lane_steps"] > 0
    else:
        assert state["lane_steps"] == 0
