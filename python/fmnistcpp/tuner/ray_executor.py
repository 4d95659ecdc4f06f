"""`executor="ray"`: a tuner's trials run as Ray tasks, several at once.

The oracle stays in the driver (the process that called `search`) and
decides exactly as in-process; only each trial's build-and-fit moves to a
Ray worker process:

- the driver puts the hypermodel and fit's arguments (the training data)
  into Ray's object store once per search (`ray.put`); every task reads
  them from there, so no trial pickles the data again;
- a task asks Ray for `cpus_per_trial` CPUs and runs the engine with that
  many threads, so trials x threads never exceed the cluster's cores;
- the worker returns plain data: its fits' histories as dicts, the
  weights of the best epoch as `model.get_weights()`'s numpy arrays, the
  model's input shape and the hyperparameters. The driver rebuilds the
  model from the hypermodel and those weights and writes the checkpoint,
  `build_config.json` and `trial.json` itself, so the project directory
  is the in-process one and never has to be shared with other nodes;
- a Hyperband trial promoted from a parent gets the parent's best weights
  (read from the driver's checkpoint) through the object store;
- a worker that dies (killed process, lost node) is detected by the
  driver, reported, and its trial submitted again, at most
  `max_worker_retries` times (Ray's own task retries are turned off so the
  driver knows about each failure); a trial whose build or fit raises
  fails as in-process (the oracle's `max_retries_per_trial` applies);
- Ctrl-C in the driver cancels the running tasks (their workers are
  killed) and leaves the directory as an interrupted in-process search
  does: the running trials are run again when the search resumes.

The trials' seeds depend only on (seed, trial id, execution), so a seeded
search computes the same models wherever its trials run.
"""

from __future__ import annotations

import contextlib
import os

from . import _io
from .oracle import _check_int
from .trial import TrialStatus
from .tuner import (_FatalError, _SaveBestEpoch, _to_metrics, check_model, deepcopy_callbacks,
                    seeded_generator)
from ..callbacks.history import History

_DEFAULTS = {"max_concurrent_trials": None, "ray_address": None, "cpus_per_trial": 1,
             "max_worker_retries": 3}


def import_ray():
    """The `ray` module, or an ImportError saying how to install it."""
    try:
        import ray
    except ImportError as e:
        raise ImportError('executor="ray" needs Ray, which is not installed: '
                          'pip install "fmnistcpp[ray]"') from e
    return ray


def check_executor_options(executor, **options) -> dict:
    """The validated `executor="ray"` options of a Tuner (see `Tuner`).

    Raises:
        ValueError: a bad value, or a Ray option without executor="ray".
        ImportError: executor="ray" without Ray installed.
    """
    if executor not in (None, "ray"):
        raise ValueError(f'executor must be None (in-process) or "ray", got {executor!r}')
    if executor is None:
        given = [name for name, default in _DEFAULTS.items() if options[name] != default]
        if given:
            raise ValueError(f'{", ".join(given)} only apply with executor="ray"')
        return dict(_DEFAULTS)
    address = options["ray_address"]
    if address is not None and (not isinstance(address, str) or not address):
        raise ValueError('ray_address must be a cluster address such as "auto" or '
                         f'"10.0.0.5:6379", got {address!r}')
    import_ray()  # fail when the tuner is made, not when the search starts
    return {
        "max_concurrent_trials": _check_int(options["max_concurrent_trials"],
                                            "max_concurrent_trials", 1, allow_none=True),
        "ray_address": address,
        "cpus_per_trial": _check_int(options["cpus_per_trial"], "cpus_per_trial", 1),
        "max_worker_retries": _check_int(options["max_worker_retries"], "max_worker_retries",
                                         0),
    }


# --- the worker side ------------------------------------------------------------------------
class _KeepBestEpoch(_SaveBestEpoch):
    """Keeps the best epoch's weights in memory (the worker's node may not
    see the driver's directory); same rule as the in-process checkpoint."""

    def __init__(self, objective):
        super().__init__(objective, filepath=None)
        self.weights = None

    def _keep(self):
        self.weights = self.model.get_weights()


class _TrialRunner:
    """What every task needs besides its trial; put in the object store once."""

    def __init__(self, hypermodel, objective, executions_per_trial, seed, cpus_per_trial):
        self.hypermodel = hypermodel
        self.objective = objective
        self.executions_per_trial = executions_per_trial
        self.seed = seed
        self.cpus_per_trial = cpus_per_trial


def _set_weights(model, weights, input_shape):
    if not model.built:
        model.build((None,) + tuple(input_shape))
    model.set_weights(weights)


def _plain(result, objective):
    """run_trial's result for one execution as picklable data: a History
    becomes its `history` dict (the History itself points at its model)."""
    if isinstance(result, History):
        return ("history", {k: list(v) for k, v in result.history.items()})
    if isinstance(result, list):
        return ("list", [_plain(r, objective) for r in result])
    _to_metrics(result, objective)  # raises the in-process error for a wrong type
    return ("value", result)


def _unplain(item):
    kind, value = item
    if kind == "history":
        history = History()
        history.history = value
        return history
    if kind == "list":
        return [_unplain(v) for v in value]
    return value


def train_trial(runner, data, trial_id, hyperparameters, fit_overrides, parent):
    """Runs in a Ray worker: the trial's executions, as `Tuner.run_trial`
    does in-process. Returns plain data (see the module's docstring)."""
    import ray

    from .. import utils

    assigned = ray.get_runtime_context().get_assigned_resources().get("CPU")
    threads = max(1, int(assigned or runner.cpus_per_trial))
    previous_threads = utils.get_num_threads()
    utils.set_num_threads(threads)
    try:
        fit_args, fit_kwargs = data
        fit_kwargs = dict(fit_kwargs, **fit_overrides)
        callbacks = list(fit_kwargs.pop("callbacks", None) or [])
        keeper = _KeepBestEpoch(runner.objective)
        hp = hyperparameters
        results, input_shape = [], None
        for execution in range(runner.executions_per_trial):
            kwargs = dict(fit_kwargs, callbacks=deepcopy_callbacks(callbacks) + [keeper])
            with seeded_generator(runner.seed, trial_id, execution):
                model = check_model(runner.hypermodel.build(hp))
                if parent is not None:  # a promoted Hyperband trial
                    _set_weights(model, parent["weights"], parent["input_shape"])
                result = runner.hypermodel.fit(hp, model, *fit_args, **kwargs)
            if getattr(model, "built", False):
                input_shape = list(model.input_shape[1:])
            results.append(_plain(result, runner.objective))
        return {"results": results, "hyperparameters": hp, "weights": keeper.weights,
                "input_shape": input_shape, "pid": os.getpid(), "threads": threads}
    finally:
        utils.set_num_threads(previous_threads)


# --- the driver side ------------------------------------------------------------------------
@contextlib.contextmanager
def _connected(ray, address):
    """Ray as Ray finds it: an existing connection of this process, else
    `address` or RAY_ADDRESS, else a local cluster for this search (on
    this machine's CPUs, without the dashboard). Disconnects (and so
    stops a local cluster) at the end unless the connection was there."""
    if ray.is_initialized():
        yield
        return
    address = address or os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address)
    else:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
        ray.init(num_cpus=cpus or os.cpu_count() or 1, include_dashboard=False)
    try:
        yield
    finally:
        ray.shutdown()


def _capacity(ray, cpus_per_trial) -> int:
    """Trials of `cpus_per_trial` CPUs the live nodes hold at once."""
    node_cpus = [int(n.get("Resources", {}).get("CPU", 0)) for n in ray.nodes() if n.get("Alive")]
    capacity = sum(c // cpus_per_trial for c in node_cpus)
    if capacity == 0:
        raise ValueError(f"cpus_per_trial={cpus_per_trial}, but no node of the Ray cluster has "
                         f"that many CPUs (its nodes have {sorted(node_cpus)}): a trial could "
                         "never start")
    return capacity


def _check_supported(tuner):
    from .hyperband import Hyperband
    from .tuner import Tuner

    if type(tuner).run_trial not in (Tuner.run_trial, Hyperband.run_trial) or \
            type(tuner)._build_and_fit_model is not Tuner._build_and_fit_model:
        raise NotImplementedError(
            f'{type(tuner).__name__} overrides run_trial or _build_and_fit_model, which '
            'executor="ray" does not run in the workers: tune training in HyperModel.fit, or '
            "use executor=None")


class _Running:
    """A submitted trial: its slot (oracle tuner id), and the worker
    failures so far."""

    def __init__(self, slot, trial, parent_ref):
        self.slot, self.trial, self.parent_ref = slot, trial, parent_ref
        self.worker_failures = []


class _RaySearch:
    def __init__(self, tuner, ray, fit_args, fit_kwargs):
        self.tuner, self.ray, self.oracle = tuner, ray, tuner.oracle
        options = tuner._executor_options
        self.max_worker_retries = options["max_worker_retries"]
        cpus = options["cpus_per_trial"]
        slots = options["max_concurrent_trials"] or _capacity(ray, cpus)
        self.free_slots = [f"{tuner.tuner_id}_{i}" for i in reversed(range(slots))]
        self.running = {}  # ObjectRef -> _Running
        self.task = ray.remote(train_trial)
        self.cpus_per_trial = cpus
        fit_kwargs = dict(fit_kwargs)
        # Copies without the models earlier fits attached (models do not pickle).
        fit_kwargs["callbacks"] = deepcopy_callbacks(fit_kwargs.get("callbacks") or [])
        runner = _TrialRunner(tuner.hypermodel, tuner.oracle.objective,
                              tuner.executions_per_trial, tuner._seed, cpus)
        try:
            self.runner_ref = ray.put(runner)
            self.data_ref = ray.put((tuple(fit_args), fit_kwargs))
        except Exception as e:
            raise TypeError('executor="ray" sends the hypermodel and fit\'s arguments to the '
                            f"workers with cloudpickle, which failed: {type(e).__name__}: {e}"
                            ) from e

    def run(self):
        stopped = False
        try:
            while True:
                # A trial that failed can be queued for a retry after the
                # oracle said STOPPED; nothing else is asked of it then.
                while self.free_slots and (not stopped or self.oracle._retry_queue):
                    trial = self.oracle.create_trial(self.free_slots[-1])
                    if trial.status == TrialStatus.STOPPED:
                        stopped = True
                        break
                    if trial.status == TrialStatus.IDLE:  # waits for a running trial
                        break
                    self._start(self.free_slots.pop(), trial)
                if not self.running:
                    return
                [ref], _ = self.ray.wait(list(self.running), num_returns=1)
                self._collect(ref)
        except BaseException as e:
            self._cancel_running(isinstance(e, KeyboardInterrupt))
            raise

    def _start(self, slot, trial):
        self.tuner.on_trial_begin(trial)
        try:
            parent_ref = self._parent_weights(trial)
        except Exception as e:  # e.g. the parent's checkpoint is gone
            self._end(slot, trial, _raiser(e))
            return
        self._submit(_Running(slot, trial, parent_ref))

    def _parent_weights(self, trial):
        parent_id = self.tuner._parent_trial_id(trial)
        if parent_id is None:
            return None
        with seeded_generator(self.tuner._seed, parent_id, 0):  # as in-process
            model = self.tuner.load_model(self.oracle.get_trial(parent_id))
        return self.ray.put({"weights": model.get_weights(),
                             "input_shape": list(model.input_shape[1:])})

    def _submit(self, run):
        trial = run.trial
        # max_retries=0: the driver resubmits, so it knows of every failure.
        ref = self.task.options(num_cpus=self.cpus_per_trial, max_retries=0,
                                name=f"trial_{trial.trial_id}").remote(
            self.runner_ref, self.data_ref, trial.trial_id, trial.hyperparameters,
            self.tuner._trial_fit_kwargs(trial, {}), run.parent_ref)
        self.running[ref] = run

    def _collect(self, ref):
        ray = self.ray
        run = self.running.pop(ref)
        error = out = None
        try:
            out = ray.get(ref)
        except ray.exceptions.RayTaskError as e:  # build or fit raised: the trial fails
            error = e
            if isinstance(e, ray.exceptions.RaySystemError):
                error = RuntimeError(f"{e}\nThe worker could not load the trial's inputs: is "
                                     "the hypermodel's module importable on every node? "
                                     "(docs/RAY.md)")
        except ray.exceptions.RayError as e:  # the worker or its node died
            if self._worker_failed(run, e):
                return
            error = RuntimeError(
                f"the worker running trial {run.trial.trial_id} died "
                f"{len(run.worker_failures)} times (max_worker_retries="
                f"{self.max_worker_retries}): " + "; ".join(run.worker_failures))
        if isinstance(error, _FatalError):
            raise error
        if error is not None:
            self._end(run.slot, run.trial, _raiser(error))
            return
        if run.worker_failures:  # reported in the trial file and results_summary
            run.trial.message = (f"Its worker died {len(run.worker_failures)} time(s) before "
                                 "the trial completed: " + "; ".join(run.worker_failures))
        self._end(run.slot, run.trial, lambda: self._store(run.trial, out))

    def _worker_failed(self, run, e) -> bool:
        """Records a dead worker; resubmits the trial if retries are left."""
        reason = f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"
        run.worker_failures.append(reason)
        n = len(run.worker_failures)
        if n > self.max_worker_retries:
            return False
        print(f"Trial {run.trial.trial_id}: its worker died ({reason}); running the trial "
              f"again (retry {n} of {self.max_worker_retries})")
        self._submit(run)
        return True

    def _store(self, trial, out):
        """Writes what the worker sent where the in-process tuner writes it;
        returns run_trial's results."""
        trial.hyperparameters = out["hyperparameters"]
        shape = out["input_shape"]
        if shape is not None:
            _io.write_json(self.tuner._build_config_fname(trial.trial_id), {"input_shape": shape})
        if out["weights"] is not None:
            with seeded_generator(self.tuner._seed, trial.trial_id, 0):
                model = check_model(self.tuner.hypermodel.build(trial.hyperparameters))
            _set_weights(model, out["weights"], shape)
            model.save_weights(self.tuner._checkpoint_fname(trial.trial_id))
        return [_unplain(r) for r in out["results"]]

    def _end(self, slot, trial, get_results):
        self.free_slots.append(slot)
        self.tuner._try_update_trial(trial, get_results)
        self.tuner.on_trial_end(trial)

    def _cancel_running(self, interrupted):
        for ref in self.running:
            try:
                self.ray.cancel(ref, force=True)  # kills the worker: fit does not poll
            except Exception as e:  # the original error matters more
                print(f"could not cancel a Ray task: {type(e).__name__}: {e}")
        if interrupted and self.running:
            ids = ", ".join(sorted(r.trial.trial_id for r in self.running.values()))
            print(f"Search interrupted: cancelled trial(s) {ids}. Create the tuner again (with "
                  "overwrite=False) and call search() to resume: they will run again.")
        self.running = {}


def _raiser(error):
    def raise_it():
        raise error
    return raise_it


def run_trials(tuner, fit_args, fit_kwargs):
    """`Tuner.search`'s loop with executor="ray"."""
    ray = import_ray()
    _check_supported(tuner)
    with _connected(ray, tuner._executor_options["ray_address"]):
        _RaySearch(tuner, ray, fit_args, fit_kwargs).run()
