"""`Tuner`: runs the trials an oracle proposes, with fmnistcpp models.

Follows keras-tuner's `engine/base_tuner.py` and `engine/tuner.py`:

- the build function is called once up front on an empty
  `HyperParameters`, which registers the search space;
- each trial builds a model from its values and trains it with
  `model.fit(*fit_args, **fit_kwargs)` (the C++ engine does the
  training), `executions_per_trial` times; the callbacks are deep-copied
  for every execution, so each trial has its own `EarlyStopping` state;
- a callback saves the weights of the best epoch (by the objective) to
  `trial_<id>/checkpoint.weights.h5`; the trial's score is the objective's
  value at the best epoch of each execution, averaged over executions;
- a trial that raises is marked failed (its traceback is kept in the trial
  file) and the search goes on, unless `max_consecutive_failed_trials`
  trials failed in a row;
- everything lives in `directory/project_name/`: `oracle.json`,
  `tuner0.json`, and per trial `trial.json`, the checkpoint and
  `build_config.json`. Creating the tuner again with `overwrite=False`
  reloads it and `search` continues where it stopped.

One addition: with a `seed`, fmnistcpp's random generator (initial weights,
shuffling, dropout) is reseeded from (seed, trial, execution) before each
model is built, and put back afterwards, so a seeded search is
reproducible. keras-tuner's seed only drives the choice of values.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import numbers
import os
import shutil
import statistics
import traceback

import numpy as np

from .. import _random
from ..callbacks.callback import Callback
from ..callbacks.history import History
from . import _io
from .hypermodel import get_hypermodel
from .oracle import Oracle, _check_int
from .trial import TrialStatus


class _FatalError(ValueError):
    """An error that stops the search instead of failing one trial."""


class _SaveBestEpoch(Callback):
    """Saves the weights whenever the objective improves (keras-tuner's
    `tuner_utils.SaveBestEpoch`); shared by a trial's executions."""

    def __init__(self, objective, filepath):
        super().__init__()
        self.objective = objective
        self.filepath = filepath
        self.best_value = None

    def on_epoch_end(self, epoch, logs=None):
        if not self.objective.has_value(logs):
            self._keep()
            return
        value = float(self.objective.get_value(logs))
        if self.objective.better_than(value, self.best_value):
            self.best_value = value
            self._keep()

    def _keep(self):
        self.model.save_weights(self.filepath)


def check_model(model):
    """Raises ValueError unless `model` looks like a compiled fmnistcpp model."""
    if not all(hasattr(model, a) for a in ("fit", "save_weights", "load_weights")):
        raise ValueError("the build function must return a compiled fmnistcpp model, got "
                         f"{type(model).__name__}")
    return model


def deepcopy_callbacks(callbacks):
    """Fresh copies of a search's callbacks for one execution.

    Raises:
        _FatalError: a callback cannot be deep-copied.
    """
    # A callback that was used before points at its model, which holds
    # C++ state: the copies get no model (fit sets it).
    memo = {id(cb.model): None for cb in callbacks if getattr(cb, "model", None) is not None}
    try:
        return copy.deepcopy(list(callbacks), memo)
    except Exception as e:
        raise _FatalError(
            "All callbacks used during a search should be deep-copyable (since they are "
            f"reused across trials). It is not possible to do `copy.deepcopy({callbacks})`"
            f": {e}") from e


@contextlib.contextmanager
def seeded_generator(seed, trial_id, execution):
    """With a `seed` (None: unseeded search), fmnistcpp's random generator is
    reseeded from (seed, trial, execution) inside the block and put back
    after it."""
    saved = _random._generator
    if seed is not None:
        seq = np.random.SeedSequence([seed, int(trial_id), execution])
        _random.seed(int(seq.generate_state(1, np.uint64)[0] >> 1))
    try:
        yield
    finally:
        _random._generator = saved


def _best_epoch(history: History, objective):
    """(metrics at the best epoch, its index) of one fit, as keras-tuner's
    `_get_best_value_and_best_epoch_from_history`: the first epoch with the
    best objective value."""
    per_epoch = collections.defaultdict(dict)
    for name, values in history.history.items():
        for epoch, value in enumerate(values):
            per_epoch[epoch][name] = value
    if not per_epoch:
        return {}, 0
    best = 0
    for epoch, metrics in per_epoch.items():
        if objective.name in metrics and objective.better_than(
                metrics[objective.name], per_epoch[best].get(objective.name)):
            best = epoch
    return per_epoch[best], best


def _to_metrics(results, objective):
    """The metrics dict and best step of `run_trial`'s results: a History,
    a dict, a number, or a list of these (averaged)."""
    if isinstance(results, list):
        if not results:
            raise ValueError("run_trial returned an empty list")
        parts = [_to_metrics(r, objective) for r in results]
        collected = collections.defaultdict(list)
        for metrics, _ in parts:
            for name, value in metrics.items():
                collected[name].append(value)
        return ({k: float(np.mean(v)) for k, v in collected.items()},
                int(statistics.mean(step for _, step in parts)))
    if isinstance(results, History):
        return _best_epoch(results, objective)
    if isinstance(results, dict):
        return dict(results), 0
    if isinstance(results, numbers.Real) and not isinstance(results, bool):
        return {objective.name: float(results)}, 0
    raise ValueError("run_trial / HyperModel.fit must return a History, a dict of metrics, a "
                     f"number, or a list of these; got {type(results).__name__}")


class Tuner:
    """Base class of `RandomSearch` and `Hyperband`: the search loop, the
    models' checkpoints and the results.

    Args:
        oracle: the `Oracle` that proposes the trials.
        hypermodel: a `build(hp)` function returning a compiled fmnistcpp
            model, or a `HyperModel`.
        directory: where the project folder is made (default ".").
        project_name: the project folder's name (default "untitled_project").
        overwrite: if False, an existing project of that name is reloaded
            and the search resumes; if True it is deleted first.
        executions_per_trial: models trained per trial (the score is their
            mean).
        tuner_id: name of this tuner's state file (default "tuner0").
        executor: None (the default) runs the trials one after another in
            this process; "ray" runs each trial's build-and-fit as a Ray
            task in a worker process, up to `max_concurrent_trials` at once
            (see `fmnistcpp.tuner.ray_executor` and docs/RAY.md).
        max_concurrent_trials: with executor="ray", trials running at once
            (default: as many as the cluster's CPUs hold at
            `cpus_per_trial` each).
        ray_address: with executor="ray", the cluster to connect to (default:
            `RAY_ADDRESS`, else a local cluster started for the search). A
            process already connected with `ray.init` uses that connection.
        cpus_per_trial: with executor="ray", CPUs Ray reserves for a trial;
            its engine runs that many threads.
        max_worker_retries: with executor="ray", how often a trial whose
            worker process or node died is run again before it fails.
    """

    def __init__(self, oracle, hypermodel=None, directory=None, project_name=None,
                 overwrite=False, executions_per_trial=1, tuner_id=None, logger=None,
                 distribution_strategy=None, executor=None, max_concurrent_trials=None,
                 ray_address=None, cpus_per_trial=1, max_worker_retries=3, **kwargs):
        for arg, value in (("logger", logger), ("distribution_strategy", distribution_strategy)):
            if value is not None:
                raise NotImplementedError(f"{arg}= is not supported by fmnistcpp.tuner")
        for arg in ("max_model_size", "optimizer", "loss", "metrics"):
            if kwargs.pop(arg, None) is not None:
                raise NotImplementedError(f"{arg}= is not supported: compile the model in the "
                                          "build function")
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected keyword argument(s): "
                            f"{', '.join(sorted(kwargs))}")
        from .ray_executor import check_executor_options  # it imports this module

        self.executor = executor
        self._executor_options = check_executor_options(
            executor, max_concurrent_trials=max_concurrent_trials, ray_address=ray_address,
            cpus_per_trial=cpus_per_trial, max_worker_retries=max_worker_retries)
        if not isinstance(oracle, Oracle):
            raise ValueError(f"oracle must be a fmnistcpp.tuner Oracle, got {oracle!r}")
        self.oracle = oracle
        self.hypermodel = get_hypermodel(hypermodel)
        self.executions_per_trial = _check_int(executions_per_trial, "executions_per_trial", 1)
        self.directory = "." if directory is None else os.fspath(directory)
        self.project_name = "untitled_project" if project_name is None else str(project_name)
        if not self.project_name or os.sep in self.project_name or self.project_name in (".", ".."):
            raise ValueError(f"project_name must be a plain folder name, got {project_name!r}")
        self.tuner_id = tuner_id or "tuner0"
        self._seeded = oracle._seed_given
        self._trial_seeds = {}

        if overwrite and os.path.isdir(self.project_dir):
            shutil.rmtree(self.project_dir)
        os.makedirs(self.project_dir, exist_ok=True)
        self.oracle._set_project_dir(self.project_dir)
        self._populate_initial_space()
        if not overwrite and os.path.exists(self.oracle._oracle_fname()):
            print(f"Reloading Tuner from {self._tuner_fname()}")
            self.reload()

    # --- files -------------------------------------------------------------------
    @property
    def project_dir(self) -> str:
        return os.path.join(self.directory, self.project_name)

    def get_trial_dir(self, trial_id) -> str:
        return self.oracle._get_trial_dir(trial_id)

    def _tuner_fname(self):
        return os.path.join(self.project_dir, f"{self.tuner_id}.json")

    def _checkpoint_fname(self, trial_id):
        return os.path.join(self.get_trial_dir(trial_id), "checkpoint.weights.h5")

    def _build_config_fname(self, trial_id):
        return os.path.join(self.get_trial_dir(trial_id), "build_config.json")

    def save(self):
        self.oracle.save()
        _io.write_json(self._tuner_fname(), {"tuner_id": self.tuner_id})

    def reload(self):
        self.oracle.reload()

    # --- the search space -----------------------------------------------------------
    def _populate_initial_space(self):
        hp = self.oracle.get_space()
        try:
            self.hypermodel.declare_hyperparameters(hp)
        except NotImplementedError:
            self.hypermodel.build(hp)
        self.oracle.update_space(hp)

    def search_space_summary(self, extended=False):
        """Prints the hyperparameters of the search space, as keras-tuner."""
        print("Search space summary")
        hp = self.oracle.get_space()
        print(f"Default search space size: {len(hp.space)}")
        for p in hp.space:
            config = p.get_config()
            name = config.pop("name")
            print(f"{name} ({type(p).__name__})")
            print(config)

    # --- the loop -------------------------------------------------------------------
    def search(self, *fit_args, **fit_kwargs):
        """Runs trials until the oracle stops: each trial builds a model and
        trains it with `model.fit(*fit_args, **fit_kwargs)`.

        Args:
            *fit_args, **fit_kwargs: `fit`'s arguments, e.g. `x, y,
                epochs=10, validation_split=0.2, callbacks=[...]`. The
                objective must be among fit's logs (`val_...` objectives
                need validation data). `verbose` also sets how much the
                search prints.

        Raises:
            RuntimeError: `max_consecutive_failed_trials` trials failed in a row.
        """
        callbacks = fit_kwargs.get("callbacks")
        if callbacks is not None and not isinstance(callbacks, (list, tuple)):
            raise ValueError("callbacks must be a list of fmnistcpp.callbacks.Callback, got "
                             f"{type(callbacks).__name__}")
        if "verbose" in fit_kwargs:
            self.oracle.verbose = fit_kwargs["verbose"]
        self.on_search_begin()
        if self.executor == "ray":
            from . import ray_executor

            ray_executor.run_trials(self, fit_args, fit_kwargs)
        else:
            self._run_trials_in_process(fit_args, fit_kwargs)
        self.on_search_end()

    def _run_trials_in_process(self, fit_args, fit_kwargs):
        while True:
            trial = self.oracle.create_trial(self.tuner_id)
            if trial.status == TrialStatus.STOPPED:
                break
            if trial.status == TrialStatus.IDLE:
                if not self.oracle.ongoing_trials:  # nothing can change: stop
                    break
                continue
            self.on_trial_begin(trial)
            self._try_run_and_update_trial(trial, *fit_args, **fit_kwargs)
            self.on_trial_end(trial)

    def _try_run_and_update_trial(self, trial, *fit_args, **fit_kwargs):
        self._try_update_trial(trial, lambda: self.run_trial(trial, *fit_args, **fit_kwargs))

    def _try_update_trial(self, trial, get_results):
        """Records `get_results()` (run_trial's results) in the oracle, or
        marks the trial failed if it raises."""
        try:
            results = get_results()
            metrics, step = _to_metrics(results, self.oracle.objective)
            self.oracle.update_trial(trial.trial_id, metrics, step=step)
            trial.status = TrialStatus.COMPLETED
        except _FatalError:
            raise
        except Exception as e:  # the trial fails, the search goes on (keras-tuner)
            trial.status = TrialStatus.INVALID
            trial.message = traceback.format_exc()
            print(f"Trial {trial.trial_id} failed: {type(e).__name__}: {e}")

    def run_trial(self, trial, *fit_args, **fit_kwargs):
        """Trains the trial's model(s); returns the list of their Histories."""
        checkpoint = _SaveBestEpoch(self.oracle.objective, self._checkpoint_fname(trial.trial_id))
        original_callbacks = list(fit_kwargs.pop("callbacks", None) or [])
        histories = []
        for execution in range(self.executions_per_trial):
            kwargs = dict(fit_kwargs)
            kwargs["callbacks"] = self._deepcopy_callbacks(original_callbacks) + [checkpoint]
            with self._seeded_models(trial, execution):
                histories.append(self._build_and_fit_model(trial, *fit_args, **kwargs))
        return histories

    def _build_and_fit_model(self, trial, *fit_args, **fit_kwargs):
        hp = trial.hyperparameters
        model = self._try_build(hp)
        results = self.hypermodel.fit(hp, model, *fit_args, **fit_kwargs)
        if getattr(model, "built", False):
            _io.write_json(self._build_config_fname(trial.trial_id),
                           {"input_shape": list(model.input_shape[1:])})
        return results

    def _try_build(self, hp):
        return check_model(self._build_hypermodel(hp))

    def _build_hypermodel(self, hp):
        return self.hypermodel.build(hp)

    def _deepcopy_callbacks(self, callbacks):
        return deepcopy_callbacks(callbacks)

    @property
    def _seed(self):
        """The seed of each trial's models (None: not seeded)."""
        return self.oracle.seed if self._seeded else None

    def _seeded_models(self, trial, execution):
        return seeded_generator(self._seed, trial.trial_id, execution)

    def _trial_fit_kwargs(self, trial, fit_kwargs):
        """fit's keyword arguments for `trial` (Hyperband sets its epochs)."""
        return dict(fit_kwargs)

    def _parent_trial_id(self, trial):
        """The trial whose best weights `trial` starts from (None: fresh)."""
        return None

    # --- hooks ----------------------------------------------------------------------
    def on_search_begin(self):
        """Called before the first trial."""

    def on_search_end(self):
        """Called after the last trial."""

    def on_trial_begin(self, trial):
        """Called before a trial is run."""

    def on_trial_end(self, trial):
        """Called after a trial: ends it in the oracle and saves the project."""
        self.oracle.end_trial(trial)
        self.save()

    # --- results --------------------------------------------------------------------
    def load_model(self, trial):
        """The trial's model, rebuilt from its values, with the weights of its
        best epoch."""
        model = self._try_build(trial.hyperparameters)
        self._load_checkpoint(model, trial.trial_id)
        return model

    def _load_checkpoint(self, model, trial_id):
        path = self._checkpoint_fname(trial_id)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"trial {trial_id} has no saved weights ({path!r}); was it "
                                    "completed?")
        if not model.built:
            build_path = self._build_config_fname(trial_id)
            config = _io.read_json(build_path, "build config")
            model.build((None,) + tuple(config["input_shape"]))
        model.load_weights(path)

    def get_best_models(self, num_models=1):
        """The best models of the search, best first: rebuilt and loaded with
        the weights of their best epoch. (Retraining with
        `get_best_hyperparameters` on all the data usually does better.)"""
        return [self.load_model(t) for t in self.oracle.get_best_trials(num_models)]

    def get_best_hyperparameters(self, num_trials=1):
        """The `HyperParameters` of the best trials, best first.

        Example:

        >>> best_hp = tuner.get_best_hyperparameters()[0]
        >>> model = tuner.hypermodel.build(best_hp)
        """
        return [t.hyperparameters for t in self.oracle.get_best_trials(num_trials)]

    def results_summary(self, num_trials=10):
        """Prints the best trials' values and scores, as keras-tuner."""
        print("Results summary")
        print(f"Results in {self.project_dir}")
        print(f"Showing {num_trials} best trials")
        print(f"{self.oracle.objective}")
        for trial in self.oracle.get_best_trials(num_trials):
            print()
            trial.summary()

    @property
    def remaining_trials(self):
        """Trials left before `max_trials` (None without a limit)."""
        return self.oracle.remaining_trials()
