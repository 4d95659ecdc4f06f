"""`Hyperband`: successive halving over brackets of different aggressiveness.

The schedule is keras-tuner's (`keras_tuner/src/tuners/hyperband.py`,
`HyperbandOracle`), for `max_epochs` = R and `factor` = f:

- brackets: the number of times R can be divided by f staying >= 1
  (`_get_num_brackets`); they run from the most aggressive
  (`num_brackets - 1`) down to 0, `hyperband_iterations` times;
- bracket b has b + 1 rounds; round r trains
  `ceil(ceil(1 + log_f(R)) / (b + 1) * f ** (b - r))` models
  (`_get_size`) up to epoch `ceil(R / f ** (b - r))` (`_get_epochs`);
- round 0 draws random values; round r > 0 promotes the best completed
  trial of round r - 1 not promoted yet, once more trials of round r - 1
  are complete than will be dropped. A promoted trial starts from its
  parent's saved best-epoch weights and trains from
  `tuner/initial_epoch` (the parent's `tuner/epochs`) to `tuner/epochs`.

Each trial's values carry `tuner/epochs`, `tuner/initial_epoch`,
`tuner/bracket`, `tuner/round` and, for promoted trials, `tuner/trial_id`.
`tuner/bracket` is the bracket the trial belongs to; keras-tuner writes the
bracket being started instead, which is the same when trials run one at a
time but not when they overlap (`executor="ray"`): a round-1 trial of
bracket 1 would be labelled bracket 0.
"""

from __future__ import annotations

import math

from .oracle import Oracle, _check_int
from .trial import TrialStatus
from .tuner import Tuner


class HyperbandOracle(Oracle):
    """The Hyperband schedule (keras-tuner's `HyperbandOracle`).

    Args:
        objective: metric name or `Objective`.
        max_epochs: most epochs one model is trained (at least 1).
        factor: reduction factor of epochs and models per round (at least 2).
        hyperband_iterations: how many times the whole set of brackets runs.
        seed, hyperparameters, allow_new_entries, tune_new_entries,
        max_retries_per_trial, max_consecutive_failed_trials: as `Oracle`.
    """

    def __init__(self, objective=None, max_epochs=100, factor=3, hyperband_iterations=1,
                 seed=None, hyperparameters=None, allow_new_entries=True, tune_new_entries=True,
                 max_retries_per_trial=0, max_consecutive_failed_trials=3):
        super().__init__(objective=objective, hyperparameters=hyperparameters,
                         allow_new_entries=allow_new_entries, tune_new_entries=tune_new_entries,
                         seed=seed, max_retries_per_trial=max_retries_per_trial,
                         max_consecutive_failed_trials=max_consecutive_failed_trials)
        if isinstance(factor, bool) or not isinstance(factor, int) or factor < 2:
            raise ValueError(f"factor must be an integer >= 2, got {factor!r}")
        self.max_epochs = _check_int(max_epochs, "max_epochs", 1)
        self.hyperband_iterations = _check_int(hyperband_iterations, "hyperband_iterations", 1)
        self.min_epochs = 1
        self.factor = factor
        self._current_iteration = 0
        self._current_bracket = self._get_num_brackets() - 1  # most aggressive first
        self._brackets = []
        self._start_new_bracket()

    # --- the schedule -----------------------------------------------------------------
    def _get_size(self, bracket_num, round_num):
        """Models trained in round `round_num` of bracket `bracket_num`."""
        bracket0_end_size = math.ceil(1 + math.log(self.max_epochs, self.factor))
        bracket_end_size = bracket0_end_size / (bracket_num + 1)
        return math.ceil(bracket_end_size * self.factor ** (bracket_num - round_num))

    def _get_epochs(self, bracket_num, round_num):
        """The epoch round `round_num` of bracket `bracket_num` trains up to."""
        return math.ceil(self.max_epochs / self.factor ** (bracket_num - round_num))

    def _get_num_rounds(self, bracket_num):
        return bracket_num + 1

    def _get_num_brackets(self):
        epochs, brackets = self.max_epochs, 0
        while epochs >= self.min_epochs:
            epochs = epochs / self.factor
            brackets += 1
        return brackets

    # --- choosing trials ------------------------------------------------------------
    def populate_space(self, trial_id):
        self._remove_completed_brackets()
        for bracket in self._brackets:
            bracket_num, rounds = bracket["bracket_num"], bracket["rounds"]
            if len(rounds[0]) < self._get_size(bracket_num, 0):
                return self._random_trial(trial_id, bracket)
            for round_num in range(1, len(rounds)):
                round_info, past_round_info = rounds[round_num], rounds[round_num - 1]
                size = self._get_size(bracket_num, round_num)
                past_size = self._get_size(bracket_num, round_num - 1)
                # Once more trials of the last round are complete than will be
                # dropped, the best of them can go on.
                already_selected = [info["past_id"] for info in round_info]
                candidates = [self.trials[info["id"]] for info in past_round_info
                              if info["id"] not in already_selected]
                candidates = [t for t in candidates if t.status == TrialStatus.COMPLETED]
                if len(candidates) > past_size - size:
                    best_trial = sorted(candidates, key=lambda t: t.score,
                                        reverse=self.objective.direction == "max")[0]
                    values = dict(best_trial.hyperparameters.values)
                    values["tuner/trial_id"] = best_trial.trial_id
                    values["tuner/epochs"] = self._get_epochs(bracket_num, round_num)
                    values["tuner/initial_epoch"] = self._get_epochs(bracket_num, round_num - 1)
                    values["tuner/bracket"] = bracket_num
                    values["tuner/round"] = round_num
                    round_info.append({"past_id": best_trial.trial_id, "id": trial_id})
                    return {"status": TrialStatus.RUNNING, "values": values}

        # No trial of the current brackets can run.
        if self._current_bracket == 0 and self._current_iteration + 1 >= \
                self.hyperband_iterations:
            if self.ongoing_trials:
                return {"status": TrialStatus.IDLE}
            self._increment_bracket_num()
            return {"status": TrialStatus.STOPPED}
        self._increment_bracket_num()
        self._start_new_bracket()
        return self._random_trial(trial_id, self._brackets[-1])

    def _start_new_bracket(self):
        rounds = [[] for _ in range(self._get_num_rounds(self._current_bracket))]
        self._brackets.append({"bracket_num": self._current_bracket, "rounds": rounds})

    def _increment_bracket_num(self):
        self._current_bracket -= 1
        if self._current_bracket < 0:
            self._current_bracket = self._get_num_brackets() - 1
            self._current_iteration += 1
            if self._current_iteration > self.hyperband_iterations:
                self._current_bracket = 0

    def _remove_completed_brackets(self):
        def incomplete(bracket):
            last = len(bracket["rounds"]) - 1
            return len(bracket["rounds"][last]) != self._get_size(bracket["bracket_num"], last)

        self._brackets = [b for b in self._brackets if incomplete(b)]

    def _random_trial(self, trial_id, bracket):
        values = self._random_values()
        if values:
            values["tuner/epochs"] = self._get_epochs(bracket["bracket_num"], 0)
            values["tuner/initial_epoch"] = 0
            values["tuner/bracket"] = bracket["bracket_num"]
            values["tuner/round"] = 0
            bracket["rounds"][0].append({"past_id": None, "id": trial_id})
            return {"status": TrialStatus.RUNNING, "values": values}
        if self.ongoing_trials:
            return {"status": TrialStatus.IDLE}
        return {"status": TrialStatus.STOPPED}

    # --- state ----------------------------------------------------------------------
    def get_state(self):
        state = super().get_state()
        state.update(hyperband_iterations=self.hyperband_iterations, max_epochs=self.max_epochs,
                     min_epochs=self.min_epochs, factor=self.factor, brackets=self._brackets,
                     current_bracket=self._current_bracket,
                     current_iteration=self._current_iteration)
        return state

    def set_state(self, state):
        super().set_state(state)
        self.hyperband_iterations = int(state["hyperband_iterations"])
        self.max_epochs = int(state["max_epochs"])
        self.min_epochs = int(state["min_epochs"])
        self.factor = int(state["factor"])
        self._brackets = state["brackets"]
        self._current_bracket = int(state["current_bracket"])
        self._current_iteration = int(state["current_iteration"])
        for bracket in self._brackets:
            for round_info in bracket["rounds"]:
                for info in round_info:
                    if info["id"] not in self.trials:
                        raise ValueError(f"bracket refers to trial {info['id']!r}, which has "
                                         "no trial file")


class Hyperband(Tuner):
    """Hyperband (Li et al., JMLR 18, 2018) as keras-tuner runs it: many
    configurations trained for a few epochs, the best continued for more.

    Args:
        hypermodel: a `build(hp)` function returning a compiled fmnistcpp
            model, or a `HyperModel`.
        objective: metric to optimise, e.g. `"val_accuracy"`, or an `Objective`.
        max_epochs: most epochs one model is trained; `fit`'s `epochs` is
            replaced by each trial's `tuner/epochs`. Use slightly more than
            the epochs the largest model needs, with early stopping.
        factor: reduction factor of epochs and models per round (>= 2).
        hyperband_iterations: times to run all brackets (one iteration is
            about `max_epochs * log(max_epochs, factor) ** 2` epochs in all).
        seed: seed of the value sampling (and of each trial's initial
            weights and shuffling, see `fmnistcpp.tuner.Tuner`).
        hyperparameters, tune_new_entries, allow_new_entries,
        max_retries_per_trial, max_consecutive_failed_trials: as
            `RandomSearch`.
        directory, project_name, overwrite, executions_per_trial, executor,
        max_concurrent_trials, ray_address, cpus_per_trial,
        max_worker_retries: see `fmnistcpp.tuner.Tuner`.

    Example:

    >>> from fmnistcpp import tuner as kt
    >>> tuner = kt.Hyperband(build_model, objective="val_accuracy", max_epochs=10,
    ...                      factor=3, directory="tuner_dir", project_name="mlp")
    >>> stop_early = keras.callbacks.EarlyStopping(monitor="val_loss", patience=5)
    >>> tuner.search(x_train, y_train, epochs=50, validation_split=0.2,
    ...              callbacks=[stop_early])
    >>> best_hps = tuner.get_best_hyperparameters(num_trials=1)[0]
    """

    def __init__(self, hypermodel=None, objective=None, max_epochs=100, factor=3,
                 hyperband_iterations=1, seed=None, hyperparameters=None, tune_new_entries=True,
                 allow_new_entries=True, max_retries_per_trial=0,
                 max_consecutive_failed_trials=3, **kwargs):
        oracle = HyperbandOracle(
            objective, max_epochs=max_epochs, factor=factor,
            hyperband_iterations=hyperband_iterations, seed=seed,
            hyperparameters=hyperparameters, tune_new_entries=tune_new_entries,
            allow_new_entries=allow_new_entries, max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials)
        super().__init__(oracle, hypermodel, **kwargs)

    def run_trial(self, trial, *fit_args, **fit_kwargs):
        return super().run_trial(trial, *fit_args, **self._trial_fit_kwargs(trial, fit_kwargs))

    def _trial_fit_kwargs(self, trial, fit_kwargs):
        fit_kwargs = dict(fit_kwargs)
        values = trial.hyperparameters.values
        if "tuner/epochs" in values:
            fit_kwargs["epochs"] = values["tuner/epochs"]
            fit_kwargs["initial_epoch"] = values["tuner/initial_epoch"]
        return fit_kwargs

    def _parent_trial_id(self, trial):
        return trial.hyperparameters.values.get("tuner/trial_id")

    def _build_hypermodel(self, hp):
        model = super()._build_hypermodel(hp)
        if "tuner/trial_id" in hp.values:
            # Continue from the parent's best epoch, as keras-tuner does.
            self._load_checkpoint(model, hp.values["tuner/trial_id"])
        return model
