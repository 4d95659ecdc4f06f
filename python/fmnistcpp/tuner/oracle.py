"""`Oracle`: decides which hyperparameter values each trial runs, keeps
the trials, and stores them in the project directory.

Follows keras-tuner's `engine/oracle.py`: trial ids are the trial count
zero-padded to the width of `str(max_trials)`; each trial is saved as
`trial_<id>/trial.json` and the oracle's state as `oracle.json`; values
are drawn with `random.Random(seed_state)`, `seed_state` advancing by one
per hyperparameter; a configuration already tried is drawn again (up to 20
times) before the space counts as exhausted; trials still running when
the search was interrupted are run again when it resumes.
"""

from __future__ import annotations

import collections
import hashlib
import numbers
import os
import random

import numpy as np

from . import _io
from .display import Display
from .hyperparameters import HyperParameters
from .objective import create_objective
from .trial import Trial, TrialStatus


def _check_int(value, name, minimum, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}"
                         f"{' or None' if allow_none else ''}, got {value!r}")
    return int(value)


class Oracle:
    """Base class of the search algorithms; subclasses implement
    `populate_space(trial_id)`.

    Args:
        objective: a metric name (direction inferred) or an `Objective`.
        max_trials: the most trials to run (None: no limit).
        hyperparameters: optional `HyperParameters` declaring the space
            beforehand.
        allow_new_entries: whether the build function may add
            hyperparameters not in `hyperparameters`.
        tune_new_entries: whether such new hyperparameters are tuned (else
            they keep their default).
        seed: seed of the value sampling (random if None).
        max_retries_per_trial: how often a crashed trial is run again.
        max_consecutive_failed_trials: the search stops with an error after
            this many failed trials in a row.
    """

    def __init__(self, objective=None, max_trials=None, hyperparameters=None,
                 allow_new_entries=True, tune_new_entries=True, seed=None,
                 max_retries_per_trial=0, max_consecutive_failed_trials=3):
        self.objective = create_objective(objective)
        self.max_trials = _check_int(max_trials, "max_trials", 1, allow_none=True)
        if hyperparameters is None:
            if not tune_new_entries or not allow_new_entries:
                raise ValueError("with tune_new_entries=False or allow_new_entries=False, the "
                                 "search space must be given as `hyperparameters`")
            hyperparameters = HyperParameters()
        elif not isinstance(hyperparameters, HyperParameters):
            raise ValueError("hyperparameters must be a fmnistcpp.tuner.HyperParameters, got "
                             f"{type(hyperparameters).__name__}")
        self.hyperparameters = hyperparameters
        self.allow_new_entries = bool(allow_new_entries)
        self.tune_new_entries = bool(tune_new_entries)
        self.max_retries_per_trial = _check_int(max_retries_per_trial, "max_retries_per_trial", 0)
        self.max_consecutive_failed_trials = _check_int(
            max_consecutive_failed_trials, "max_consecutive_failed_trials", 1)
        seed = _check_int(seed, "seed", 0, allow_none=True)
        self._seed_given = seed is not None
        self.seed = seed or random.randint(1, 10000)
        self._seed_state = self.seed
        self._max_collisions = 20

        self.trials: dict = {}          # trial_id -> Trial
        self.ongoing_trials: dict = {}  # tuner_id -> Trial
        self.start_order: list = []
        self.end_order: list = []
        self._run_times = collections.defaultdict(int)
        self._retry_queue: list = []
        self._tried_so_far: set = set()
        self._id_to_hash: dict = {}
        self._project_dir = None
        self._display = Display(self)

    @property
    def verbose(self):
        return self._display.verbose

    @verbose.setter
    def verbose(self, value):
        self._display.verbose = 1 if value == "auto" else int(value)

    # --- the algorithm ------------------------------------------------------------
    def populate_space(self, trial_id) -> dict:
        """Values for a new trial: `{"status": "RUNNING", "values": {...}}`,
        `{"status": "IDLE"}` or `{"status": "STOPPED"}`."""
        raise NotImplementedError

    def score_trial(self, trial):
        trial.score = trial.metrics.get_best_value(self.objective.name)
        trial.best_step = trial.metrics.get_best_step(self.objective.name)

    def _trial_id(self):
        width = len(str(self.max_trials))  # keras-tuner: "None" -> 4 digits
        return f"{len(self.trials):0{width}d}"

    def create_trial(self, tuner_id) -> Trial:
        """A new trial for tuner `tuner_id` (status RUNNING), or one whose
        status says to wait (IDLE) or to stop (STOPPED)."""
        if tuner_id in self.ongoing_trials:
            return self.ongoing_trials[tuner_id]
        if self._retry_queue:
            trial = self.trials[self._retry_queue.pop()]
            trial.status = TrialStatus.RUNNING
            self.ongoing_trials[tuner_id] = trial
            self.save()
            self._display.on_trial_begin(trial)
            return trial

        trial_id = self._trial_id()
        if self.max_trials and len(self.trials) >= self.max_trials:
            status, values = TrialStatus.STOPPED, None
        else:
            response = self.populate_space(trial_id)
            status, values = response["status"], response.get("values")
        hps = self.hyperparameters.copy()
        hps.values = dict(values or {})
        trial = Trial(hps, trial_id=trial_id, status=status)
        if status == TrialStatus.RUNNING:
            self._record_values(trial)
            self.ongoing_trials[tuner_id] = trial
            self.trials[trial_id] = trial
            self.start_order.append(trial_id)
            self._save_trial(trial)
            self.save()
            self._display.on_trial_begin(trial)
        return trial

    def update_trial(self, trial_id, metrics, step=0) -> Trial:
        """Records a trial's metrics (a dict holding the objective)."""
        trial = self.trials[trial_id]
        if self.objective.name not in metrics:
            raise ValueError(
                f"Objective value missing in metrics reported to the Oracle, expected: "
                f"['{self.objective.name}'], found: {sorted(metrics)}. Did you pass "
                "validation data (validation_split= or validation_data=) to search()?")
        for name, value in metrics.items():
            if not trial.metrics.exists(name):
                direction = self.objective.direction if name == self.objective.name else None
                trial.metrics.register(name, direction=direction)
            trial.metrics.update(name, float(value), step=step)
        self._save_trial(trial)
        return trial

    def end_trial(self, trial):
        """Marks `trial` COMPLETED (scored), INVALID (retried while retries
        are left) or FAILED, and saves it.

        Raises:
            RuntimeError: `max_consecutive_failed_trials` trials failed in a row.
        """
        stored = self.trials[trial.trial_id]
        stored.hyperparameters = trial.hyperparameters
        stored.status, stored.message = trial.status, trial.message
        trial = stored
        self.update_space(trial.hyperparameters)
        if trial.status == TrialStatus.COMPLETED:
            self.score_trial(trial)
            if trial.score is None or np.isnan(trial.score):
                trial.status = TrialStatus.INVALID
        self._record_values(trial)
        self._run_times[trial.trial_id] += 1
        for tuner_id, ongoing in list(self.ongoing_trials.items()):
            if ongoing.trial_id == trial.trial_id:
                self.ongoing_trials.pop(tuner_id)
        retry = self._retry(trial)
        if not retry:
            self.end_order.append(trial.trial_id)
        self._save_trial(trial)
        self.save()
        self._display.on_trial_end(trial)
        if not retry:
            self._check_consecutive_failures()

    def _retry(self, trial) -> bool:
        if trial.status != TrialStatus.INVALID:
            return False
        runs = self._run_times[trial.trial_id]
        if runs >= self.max_retries_per_trial + 1:
            trial.status = TrialStatus.FAILED
            return False
        print(f"Trial {trial.trial_id} failed {runs} times. "
              f"{self.max_retries_per_trial + 1 - runs} retries left.")
        self._retry_queue.append(trial.trial_id)
        return True

    def _check_consecutive_failures(self):
        failures = 0
        for trial_id in self.end_order:
            trial = self.trials[trial_id]
            failures = failures + 1 if trial.status == TrialStatus.FAILED else 0
            if failures == self.max_consecutive_failed_trials:
                raise RuntimeError(
                    f"Number of consecutive failures exceeded the limit of "
                    f"{self.max_consecutive_failed_trials}.\n" + (trial.message or ""))

    # --- the space ----------------------------------------------------------------
    def get_space(self) -> HyperParameters:
        return self.hyperparameters.copy()

    def update_space(self, hyperparameters):
        """Adds hyperparameters the build function registered that the space
        does not have yet."""
        new = [hp for hp in hyperparameters.space if not self.hyperparameters._exists(hp.name)]
        if new and not self.allow_new_entries:
            raise RuntimeError(f"`allow_new_entries` is False, but found new entries {new}")
        if new and self.tune_new_entries:
            self.hyperparameters.merge(new)

    def _random_values(self):
        """Random values for the whole space, or None when 20 draws in a row
        repeated configurations already tried."""
        collisions = 0
        while True:
            values = {}
            for hp in self.hyperparameters.space:
                values[hp.name] = hp.random_sample(self._seed_state)
                self._seed_state += 1
            if self._compute_values_hash(values) in self._tried_so_far:
                collisions += 1
                if collisions > self._max_collisions:
                    return None
                continue
            return values

    @staticmethod
    def _compute_values_hash(values) -> str:
        text = "".join(f"{k}={values[k]}" for k in sorted(values))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    def _record_values(self, trial):
        trial.hyperparameters.ensure_active_values()
        new_hash = self._compute_values_hash(trial.hyperparameters.values)
        self._tried_so_far.add(new_hash)
        old_hash = self._id_to_hash.get(trial.trial_id)
        if old_hash is not None and old_hash != new_hash:
            if old_hash not in (h for t, h in self._id_to_hash.items() if t != trial.trial_id):
                self._tried_so_far.discard(old_hash)
        self._id_to_hash[trial.trial_id] = new_hash

    # --- queries ------------------------------------------------------------------
    def get_trial(self, trial_id) -> Trial:
        return self.trials[trial_id]

    def get_best_trials(self, num_trials=1) -> list:
        """The `num_trials` best completed trials, best first (then the
        unfinished ones if there are fewer completed)."""
        num_trials = _check_int(num_trials, "num_trials", 1)
        completed = [t for t in self.trials.values() if t.status == TrialStatus.COMPLETED]
        ranked = sorted(completed, key=lambda t: t.score,
                        reverse=self.objective.direction == "max")
        if len(ranked) < num_trials:
            ranked += [t for t in self.trials.values() if t.status != TrialStatus.COMPLETED]
        return ranked[:num_trials]

    def remaining_trials(self):
        return self.max_trials - len(self.trials) if self.max_trials else None

    # --- state and files ----------------------------------------------------------
    def get_state(self) -> dict:
        return {
            "ongoing_trials": {k: t.trial_id for k, t in self.ongoing_trials.items()},
            "hyperparameters": self.hyperparameters.get_config(),
            "start_order": list(self.start_order),
            "end_order": list(self.end_order),
            "run_times": dict(self._run_times),
            "retry_queue": list(self._retry_queue),
            "seed": self.seed,
            "seed_state": self._seed_state,
            "tried_so_far": sorted(self._tried_so_far),
            "id_to_hash": dict(self._id_to_hash),
            "display": self._display.get_state(),
        }

    def set_state(self, state):
        self.ongoing_trials = {k: self.trials[t] for k, t in state["ongoing_trials"].items()}
        self.hyperparameters = HyperParameters.from_config(state["hyperparameters"])
        self.start_order = list(state["start_order"])
        self.end_order = list(state["end_order"])
        self._run_times = collections.defaultdict(int, state["run_times"])
        self._retry_queue = list(state["retry_queue"])
        self.seed = int(state["seed"])
        self._seed_state = int(state["seed_state"])
        self._tried_so_far = set(state["tried_so_far"])
        self._id_to_hash = dict(state["id_to_hash"])
        self._display.set_state(state.get("display", {}))

    def _set_project_dir(self, project_dir):
        self._project_dir = project_dir

    def _oracle_fname(self):
        return os.path.join(self._project_dir, "oracle.json")

    def _get_trial_dir(self, trial_id):
        path = os.path.join(self._project_dir, f"trial_{trial_id}")
        os.makedirs(path, exist_ok=True)
        return path

    def _save_trial(self, trial):
        if self._project_dir is not None:
            trial.save(os.path.join(self._get_trial_dir(trial.trial_id), "trial.json"))

    def save(self):
        if self._project_dir is not None:
            os.makedirs(self._project_dir, exist_ok=True)
            _io.write_json(self._oracle_fname(), self.get_state())

    def reload(self):
        """Loads the trials and the oracle's state from the project directory;
        trials that were running are queued to run again.

        Raises:
            ValueError: a trial file or oracle.json is corrupt.
        """
        trials = {}
        for entry in sorted(os.listdir(self._project_dir)):
            path = os.path.join(self._project_dir, entry, "trial.json")
            if entry.startswith("trial_") and os.path.isfile(path):
                trial = Trial.load(path)
                trials[trial.trial_id] = trial
        self.trials = trials
        state = _io.read_json(self._oracle_fname(), "oracle")
        try:
            self.set_state(state)
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(
                f"corrupt oracle file {self._oracle_fname()!r} (or it does not match the trial "
                f"files next to it): {type(e).__name__}: {e}. Use overwrite=True or another "
                "project_name to start afresh.") from None
        for trial in self.ongoing_trials.values():
            self._retry_queue.append(trial.trial_id)
        self.ongoing_trials = {}
