"""fmnistcpp.tuner with executor="ray": trials as Ray tasks on a local cluster.

Every search here is compared with what the in-process search does
(tests/test_tuner.py checks that one against keras-tuner). The trials run
in other processes, so the hypermodel `Recorder` leaves a record file per
fit (pid, engine threads, times, values, the weights the fit started from)
for the tests to read back. The data are the first 600 Fashion-MNIST
images and 1-3 epochs: enough to tell a learning rate of 1e-3 from 1e-6,
small enough that the whole file runs in about a minute on 2 cores.
"""

import glob
import json
import os
import pickle
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

# Ray's nodes otherwise take this machine's network address: keep the test
# clusters on 127.0.0.1 (read when Ray is imported).
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
if os.environ.get("CI"):
    import ray  # CI installs fmnistcpp[test], which has Ray: never skip there
else:
    ray = pytest.importorskip("ray")

import fmnistcpp as keras
from fmnistcpp import tuner as kt

# This module is not importable by the workers (pytest put it on sys.path):
# cloudpickle sends its functions and classes by value.
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])

N = 600
TESTS_DIR = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def data():
    (x, y), _ = keras.datasets.fashion_mnist.load_data()
    return (x[:N] / 255.0).astype(np.float32), y[:N]


@pytest.fixture(scope="module")
def cluster():
    """A 2-CPU local cluster shared by the tests (the tuner uses a
    connection it finds and leaves it open)."""
    assert not ray.is_initialized()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()
    assert not ray.is_initialized()


def build_mlp(hp, units=(16, 32), rates=(1e-6, 1e-3)):
    model = keras.Sequential([
        keras.layers.Flatten(input_shape=(28, 28)),
        keras.layers.Dense(hp.Choice("units", list(units)), activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(
                      learning_rate=hp.Choice("learning_rate", list(rates))),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def build_six(hp):  # 6 configurations: a 6-trial search tries each once
    return build_mlp(hp, units=(16, 32, 64))


class Recorder(kt.HyperModel):
    """build_mlp (or `build`); every fit writes a record file into `folder`.

    barrier: a fit waits (up to 60 s) until this many fits have started.
    hold: seconds a fit sleeps before training, so that overlaps show.
    kills: {units: n}: the first n fits of that configuration kill their
        own process (SIGKILL) mid-trial.
    block_after: fits after the first `block_after` wait (up to 120 s)
        while the file `folder/block` exists.
    """

    def __init__(self, folder, build=build_mlp, barrier=0, hold=0.0, kills=None,
                 block_after=None):
        super().__init__()
        self.folder, self._build, self.barrier, self.hold = str(folder), build, barrier, hold
        self.kills, self.block_after = kills or {}, block_after
        os.makedirs(self.folder, exist_ok=True)

    def build(self, hp):
        return self._build(hp)

    def _mark(self, kind):
        """Leaves the file kind_<n> holding this pid; returns n, 1 for the
        first of its kind. os.link fails on an existing name, so two fits
        marking at once get different n, and a file is never seen empty."""
        tmp = os.path.join(self.folder, f".{kind}.{os.getpid()}.{time.time_ns()}")
        with open(tmp, "w") as f:
            f.write(str(os.getpid()))
        n = 1
        while True:
            try:
                os.link(tmp, os.path.join(self.folder, f"{kind}_{n}"))
            except FileExistsError:
                n += 1
                continue
            os.unlink(tmp)
            return n

    def fit(self, hp, model, *args, **kwargs):
        record = dict(pid=os.getpid(), ppid=os.getppid(), threads=keras.utils.get_num_threads(),
                      values=dict(hp.values), epochs=kwargs.get("epochs"),
                      initial_epoch=kwargs.get("initial_epoch", 0),
                      weights=model.get_weights(), start=time.time(), met_barrier=None)
        started = self._mark("started")
        units = hp.values["units"]
        if self._mark(f"attempt{units}") <= self.kills.get(units, 0):
            os.kill(os.getpid(), signal.SIGKILL)
        if self.barrier:  # generous: Ray's workers run at nice 15 on a busy machine
            deadline = time.time() + 60
            while len(glob.glob(os.path.join(self.folder, "started_*"))) < self.barrier \
                    and time.time() < deadline:
                time.sleep(0.02)
            record["met_barrier"] = time.time() < deadline
        if self.block_after is not None and started > self.block_after:
            self._mark("blocked")
            # Longer than the Ctrl-C test waits for this: the search is still
            # running whenever that test sends SIGINT.
            deadline = time.time() + 120
            while os.path.exists(os.path.join(self.folder, "block")) and time.time() < deadline:
                time.sleep(0.05)
        time.sleep(self.hold)
        history = model.fit(*args, **kwargs)
        record["end"] = time.time()
        path = os.path.join(self.folder, f"record_{time.time_ns()}_{os.getpid()}.pkl")
        with open(path + ".tmp", "wb") as f:
            pickle.dump(record, f)
        os.replace(path + ".tmp", path)  # readers never see half a file
        return history


def records(folder):
    out = []
    for path in sorted(glob.glob(os.path.join(str(folder), "record_*.pkl"))):
        with open(path, "rb") as f:
            out.append(pickle.load(f))
    return sorted(out, key=lambda r: r["start"])


def trial_states(project_dir):
    states = {}
    for path in glob.glob(os.path.join(str(project_dir), "trial_*", "trial.json")):
        state = json.loads(open(path).read())
        states[state["trial_id"]] = state
    return states


def layout(project_dir):
    return sorted(os.path.relpath(os.path.join(d, f), project_dir)
                  for d, _, files in os.walk(project_dir) for f in files)


def wait_until(condition, timeout, what, folder=None):
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            seen = sorted(os.listdir(folder)) if folder else ""
            raise AssertionError(f"timed out after {timeout} s waiting for {what} {seen}")
        time.sleep(0.05)


def parent_pid():
    return os.getppid()


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# --- connecting -------------------------------------------------------------------------------
# First in the file: it needs Ray not to be connected yet (the `cluster`
# fixture connects for the rest of the module).
def test_a_local_cluster_is_started_for_the_search_and_stopped_after(tmp_path, data,
                                                                     monkeypatch):
    x, y = data
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert not ray.is_initialized()
    tuner = kt.RandomSearch(Recorder(tmp_path / "rec"), objective="val_accuracy", max_trials=2,
                            seed=3, directory=tmp_path, project_name="local", executor="ray")
    tuner.search(x, y, epochs=1, validation_split=0.2, verbose=0)
    assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED"] * 2
    fits = records(tmp_path / "rec")
    assert len(fits) == 2 and all(r["pid"] != os.getpid() for r in fits)
    # The cluster was the search's own: disconnected, and its raylet (the
    # workers' parent process) stopped.
    assert not ray.is_initialized()
    wait_until(lambda: not any(pid_alive(r["ppid"]) for r in fits), 20, "the raylet to exit")


def test_ray_address_and_RAY_ADDRESS_find_a_running_cluster(tmp_path, cluster):
    """Another driver process reaches this module's cluster by RAY_ADDRESS,
    then by ray_address=, and disconnects after each search."""
    address = ray.get_runtime_context().gcs_address
    raylet = ray.get(ray.remote(parent_pid).remote())
    script = f"""
import os, sys
sys.path.insert(0, {TESTS_DIR!r})
import numpy as np, ray, test_tuner_ray as t
from fmnistcpp import tuner as kt
x = np.random.default_rng(0).random((40, 28, 28), dtype=np.float32)
y = np.arange(40) % 10
for name in ("env", "arg"):
    kwargs = {{}} if name == "env" else {{"ray_address": os.environ.pop("RAY_ADDRESS")}}
    tuner = kt.RandomSearch(t.Recorder(os.path.join({str(tmp_path)!r}, name)),
                            objective="val_accuracy", max_trials=1, directory={str(tmp_path)!r},
                            project_name=name, executor="ray", **kwargs)
    tuner.search(x, y, epochs=1, validation_split=0.25, verbose=0)
    print(name, ray.is_initialized(), [t.status for t in tuner.oracle.trials.values()])
"""
    env = dict(os.environ, RAY_ADDRESS=address)
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "env False ['COMPLETED']" in run.stdout and "arg False ['COMPLETED']" in run.stdout
    for name in ("env", "arg"):
        [fit] = records(tmp_path / name)
        assert fit["ppid"] == raylet  # a worker of this module's cluster ran it


# --- where and how trials run -----------------------------------------------------------------
@pytest.mark.parametrize("cpus_per_trial", [1, 2])
def test_trials_run_in_workers_with_the_cpus_ray_gives_them(tmp_path, data, cluster,
                                                            cpus_per_trial):
    """2 CPUs: two 1-CPU trials run at once; two 2-CPU trials one after the
    other, although max_concurrent_trials allows 2 (trials x threads <= cores)."""
    x, y = data
    hypermodel = Recorder(tmp_path / "rec", barrier=2 if cpus_per_trial == 1 else 0,
                          hold=0 if cpus_per_trial == 1 else 1.0)
    tuner = kt.RandomSearch(hypermodel, objective="val_accuracy", max_trials=2, seed=4,
                            directory=tmp_path, project_name="p", executor="ray",
                            max_concurrent_trials=2, cpus_per_trial=cpus_per_trial)
    tuner.search(x, y, epochs=1, validation_split=0.2, verbose=0)
    fits = records(tmp_path / "rec")
    assert len(fits) == 2
    assert all(r["pid"] != os.getpid() for r in fits)  # not in the driver
    assert all(r["threads"] == cpus_per_trial for r in fits)  # the engine's threads
    if cpus_per_trial == 1:
        assert all(r["met_barrier"] for r in fits)  # both were running at once
        assert len({r["pid"] for r in fits}) == 2
    else:
        first, second = fits
        assert second["start"] >= first["end"]  # Ray queued the second
    assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED"] * 2


# --- same results, same files -----------------------------------------------------------------
def test_random_search_tries_and_scores_what_the_in_process_search_does(tmp_path, data, cluster,
                                                                         monkeypatch, capsys):
    x, y = data
    puts = []
    real_put = ray.put
    monkeypatch.setattr(ray, "put", lambda value, **kw: puts.append(value) or real_put(value, **kw))

    def contains_x(obj):
        if obj is x:
            return True
        if isinstance(obj, (tuple, list)):
            return any(contains_x(o) for o in obj)
        return isinstance(obj, dict) and any(contains_x(o) for o in obj.values())

    tuners, summaries = {}, {}
    for executor in (None, "ray"):
        extra = {"executor": "ray", "max_concurrent_trials": 2} if executor else {}
        tuner = kt.RandomSearch(build_six, objective="val_accuracy", max_trials=6, seed=20,
                                directory=tmp_path, project_name=str(executor), **extra)
        tuner.search(x, y, epochs=2, validation_split=0.2, verbose=0)
        tuners[executor] = tuner
        capsys.readouterr()
        tuner.results_summary()
        summaries[executor] = capsys.readouterr().out.splitlines()[2:]  # past "Results in"

    assert sum(contains_x(p) for p in puts) == 1  # the data went to the object store once
    local, remote = (sorted(tuners[e].oracle.trials.items()) for e in (None, "ray"))
    assert [(i, t.hyperparameters.values) for i, t in local] == \
        [(i, t.hyperparameters.values) for i, t in remote]
    # (seed 20 draws all 6 configurations; some seeds give up after 20 repeats)
    assert len({tuple(sorted(t.hyperparameters.values.items())) for _, t in remote}) == 6
    # Each trial's weights and shuffling are seeded from (seed, trial id), so the
    # models are the same ones; the engine gives the same results at 1 thread
    # (the workers) and 2 (this process) for this MLP, so scores match exactly.
    assert [t.score for _, t in local] == [t.score for _, t in remote]
    assert summaries[None] == summaries["ray"]
    assert layout(tmp_path / "None") == layout(tmp_path / "ray")
    # The checkpoint the driver wrote from the shipped weights is the best epoch.
    best = tuners["ray"].get_best_models()[0]
    _, val_acc = best.evaluate(x[480:], y[480:], verbose=0)
    assert val_acc == pytest.approx(tuners["ray"].oracle.get_best_trials()[0].score, abs=1e-9)
    assert tuners["ray"].get_best_hyperparameters()[0]["learning_rate"] == 1e-3


def test_hyperband_keeps_its_schedule_and_promotes_from_the_parents_weights(tmp_path, data,
                                                                             cluster):
    x, y = data
    tuners = {}
    for executor in (None, "ray"):
        extra = {"executor": "ray", "max_concurrent_trials": 2} if executor else {}
        tuner = kt.Hyperband(Recorder(tmp_path / f"rec_{executor}"), objective="val_accuracy",
                             max_epochs=3, factor=3, seed=2, directory=tmp_path,
                             project_name=str(executor), **extra)
        tuner.search(x, y, epochs=50, validation_split=0.2, verbose=0)
        tuners[executor] = tuner

    def schedule(tuner):
        return [tuple(t.hyperparameters.values[k] for k in ("tuner/bracket", "tuner/round",
                                                              "tuner/epochs",
                                                              "tuner/initial_epoch"))
                for t in tuner.oracle.trials.values()]

    # Bracket 1: 3 trials of 1 epoch, the best continued to epoch 3; bracket 0:
    # 2 trials of 3 epochs. With 2 trials at once the oracle starts bracket 0
    # while bracket 1 waits for its last trial, so only the order differs.
    assert sorted(schedule(tuners["ray"])) == sorted(schedule(tuners[None])) == \
        sorted([(1, 0, 1, 0)] * 3 + [(1, 1, 3, 1)] + [(0, 0, 3, 0)] * 2)

    def fresh_values(tuner):  # the random draws, in the order they were made
        return [{k: v for k, v in t.hyperparameters.values.items() if not k.startswith("tuner/")}
                for t in tuner.oracle.trials.values()
                if "tuner/trial_id" not in t.hyperparameters.values]

    assert fresh_values(tuners["ray"]) == fresh_values(tuners[None])

    tuner = tuners["ray"]
    trials = list(tuner.oracle.trials.values())
    [promoted] = [t for t in trials if "tuner/trial_id" in t.hyperparameters.values]
    round0 = [t for t in trials if t.hyperparameters.values["tuner/bracket"] == 1
              and t.hyperparameters.values["tuner/round"] == 0]
    parent_id = promoted.hyperparameters["tuner/trial_id"]
    assert parent_id == max(round0, key=lambda t: t.score).trial_id
    assert all(t.status == "COMPLETED" for t in trials)
    # The promoted trial's worker started from the parent's best-epoch weights.
    [fit] = [r for r in records(tmp_path / "rec_ray") if "tuner/trial_id" in r["values"]]
    assert (fit["epochs"], fit["initial_epoch"]) == (3, 1)
    assert fit["pid"] != os.getpid()
    parent = tuner.load_model(tuner.oracle.get_trial(parent_id))
    assert len(fit["weights"]) == len(parent.get_weights()) == 4
    for start, w in zip(fit["weights"], parent.get_weights()):
        np.testing.assert_array_equal(start, w)
    best = tuner.oracle.get_best_trials()[0]
    _, val_acc = tuner.get_best_models()[0].evaluate(x[480:], y[480:], verbose=0)
    assert val_acc == pytest.approx(best.score, abs=1e-9)


# --- faults -----------------------------------------------------------------------------------
def build_units(hp):
    return build_mlp(hp, units=(16, 32, 64), rates=(1e-3,))


def test_a_killed_worker_is_retried_up_to_the_limit_and_reported(tmp_path, data, cluster,
                                                                 capsys):
    """units=16 kills its worker once (retried, completes); units=32 every
    time (fails after max_worker_retries=1 retry); units=64 is healthy."""
    x, y = data
    tuner = kt.RandomSearch(Recorder(tmp_path / "rec", build=build_units, kills={16: 1, 32: 9}),
                            objective="val_accuracy", max_trials=3, seed=5, directory=tmp_path,
                            project_name="kill", executor="ray", max_concurrent_trials=2,
                            max_worker_retries=1)
    tuner.search(x, y, epochs=1, validation_split=0.2, verbose=0)
    out = capsys.readouterr().out
    by_units = {t.hyperparameters["units"]: t for t in tuner.oracle.trials.values()}
    assert {u: t.status for u, t in by_units.items()} == \
        {16: "COMPLETED", 32: "FAILED", 64: "COMPLETED"}
    assert "worker died 1 time(s)" in by_units[16].message
    assert "died 2 times (max_worker_retries=1)" in by_units[32].message
    assert "WorkerCrashedError" in by_units[32].message
    assert by_units[64].message is None
    assert out.count("running the trial again (retry 1 of 1)") == 2
    # What the trial files say is what the tuner says (a resumed search sees it).
    states = trial_states(tmp_path / "kill")
    assert sorted(s["status"] for s in states.values()) == ["COMPLETED", "COMPLETED", "FAILED"]
    attempts = {u: len(glob.glob(str(tmp_path / "rec" / f"attempt{u}_*"))) for u in by_units}
    assert attempts == {16: 2, 32: 2, 64: 1}
    assert [r["values"]["units"] for r in records(tmp_path / "rec")].count(16) == 1


def build_no_64(hp):
    model = build_units(hp)
    if hp["units"] == 64:  # not the default, which the search space is read with
        raise ValueError("no 64 today")
    return model


def test_a_trial_whose_build_raises_fails_as_in_process(tmp_path, data, cluster):
    x, y = data
    tuner = kt.RandomSearch(build_no_64, objective="val_accuracy", max_trials=3, seed=5,
                            directory=tmp_path, project_name="raise", executor="ray")
    tuner.search(x, y, epochs=1, validation_split=0.2, verbose=0)
    by_units = {t.hyperparameters["units"]: t for t in tuner.oracle.trials.values()}
    assert by_units[64].status == "FAILED"
    assert "ValueError: no 64 today" in by_units[64].message
    assert "build_no_64" in by_units[64].message  # the worker's traceback
    assert by_units[16].status == by_units[32].status == "COMPLETED"


def test_ctrl_c_cancels_running_trials_and_the_search_resumes(tmp_path, data, cluster):
    x, y = data
    folder = tmp_path / "rec"
    args = dict(objective="val_accuracy", max_trials=3, seed=9, directory=tmp_path,
                project_name="intr", executor="ray", max_concurrent_trials=2)
    hypermodel = Recorder(folder, block_after=1)
    (folder / "block").write_text("")

    def press_ctrl_c():  # once one trial is done and two hang in their fits
        wait_until(lambda: len(records(folder)) == 1 and
                   len(glob.glob(str(folder / "blocked_*"))) == 2, 60, "two blocked fits",
                   folder)
        os.kill(os.getpid(), signal.SIGINT)

    presser = threading.Thread(target=press_ctrl_c, daemon=True)
    presser.start()
    with pytest.raises(KeyboardInterrupt):
        kt.RandomSearch(hypermodel, **args).search(x, y, epochs=1, validation_split=0.2,
                                                   verbose=0)
    presser.join()
    blocked = [int(open(p).read()) for p in glob.glob(str(folder / "blocked_*"))]
    # Cancelled: the workers running them are gone (the block file is still there).
    wait_until(lambda: not any(pid_alive(pid) for pid in blocked), 20, "cancelled workers")
    states = trial_states(tmp_path / "intr")
    assert sorted(s["status"] for s in states.values()) == ["COMPLETED", "RUNNING", "RUNNING"]
    interrupted = [s["hyperparameters"]["values"] for s in states.values()
                   if s["status"] == "RUNNING"]

    (folder / "block").unlink()
    before = len(records(folder))
    tuner = kt.RandomSearch(Recorder(folder), **args)
    tuner.search(x, y, epochs=1, validation_split=0.2, verbose=0)
    rerun = [r["values"] for r in records(folder)[before:]]
    assert sorted(map(str, rerun)) == sorted(map(str, interrupted))  # only those two
    assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED"] * 3


# --- arguments --------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, match", [
    (dict(executor="dask"), "executor must be None"),
    (dict(max_concurrent_trials=2), 'only apply with executor="ray"'),
    (dict(executor="ray", max_concurrent_trials=0), "max_concurrent_trials"),
    (dict(executor="ray", cpus_per_trial=0), "cpus_per_trial"),
    (dict(executor="ray", max_worker_retries=-1), "max_worker_retries"),
    (dict(executor="ray", ray_address=6379), "ray_address"),
])
def test_bad_executor_arguments_raise(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        kt.RandomSearch(build_mlp, objective="val_accuracy", max_trials=2, directory=tmp_path,
                        **kwargs)


def test_more_cpus_per_trial_than_a_node_has_raises(tmp_path, data, cluster):
    x, y = data
    tuner = kt.RandomSearch(build_mlp, objective="val_accuracy", max_trials=1,
                            directory=tmp_path, executor="ray", cpus_per_trial=3)
    with pytest.raises(ValueError, match=r"cpus_per_trial=3, but no node .* \[2\]"):
        tuner.search(x, y, epochs=1, validation_split=0.2, verbose=0)


def test_a_tuner_overriding_run_trial_is_refused(tmp_path, data, cluster):
    class Custom(kt.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            return {"val_accuracy": 0.5}

    tuner = Custom(build_mlp, objective="val_accuracy", max_trials=1, directory=tmp_path,
                   executor="ray")
    with pytest.raises(NotImplementedError, match="HyperModel.fit"):
        tuner.search(*data, epochs=1, validation_split=0.2, verbose=0)
