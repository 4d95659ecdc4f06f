"""`RandomSearch`: every trial draws its values at random."""

from __future__ import annotations

from .oracle import Oracle, _check_int
from .trial import TrialStatus
from .tuner import Tuner


class RandomSearchOracle(Oracle):
    """Draws each trial's values at random (keras-tuner's
    `RandomSearchOracle`); stops after `max_trials` or when the space is
    exhausted (20 draws in a row all repeat tried configurations).

    Args: as `Oracle`, with `max_trials` required.
    """

    def __init__(self, objective=None, max_trials=10, seed=None, hyperparameters=None,
                 allow_new_entries=True, tune_new_entries=True, max_retries_per_trial=0,
                 max_consecutive_failed_trials=3):
        super().__init__(objective=objective, max_trials=_check_int(max_trials, "max_trials", 1),
                         hyperparameters=hyperparameters, allow_new_entries=allow_new_entries,
                         tune_new_entries=tune_new_entries, seed=seed,
                         max_retries_per_trial=max_retries_per_trial,
                         max_consecutive_failed_trials=max_consecutive_failed_trials)

    def populate_space(self, trial_id):
        values = self._random_values()
        if values is None:
            return {"status": TrialStatus.STOPPED, "values": None}
        return {"status": TrialStatus.RUNNING, "values": values}


class RandomSearch(Tuner):
    """Random search over the hyperparameters a build function declares.

    Args:
        hypermodel: a `build(hp)` function returning a compiled fmnistcpp
            model, or a `HyperModel`.
        objective: metric to optimise, e.g. `"val_accuracy"` (direction
            inferred as keras-tuner does) or a `fmnistcpp.tuner.Objective`.
        max_trials: how many configurations to try (at least 1).
        seed: seed of the value sampling (and of each trial's initial
            weights and shuffling, see `fmnistcpp.tuner.Tuner`).
        hyperparameters: optional `HyperParameters` declared beforehand.
        tune_new_entries, allow_new_entries: as keras-tuner.
        max_retries_per_trial: reruns of a crashed trial.
        max_consecutive_failed_trials: failed trials in a row that stop
            the search with an error.
        directory, project_name, overwrite, executions_per_trial, executor,
        max_concurrent_trials, ray_address, cpus_per_trial,
        max_worker_retries: see `fmnistcpp.tuner.Tuner`.

    Example:

    >>> from fmnistcpp import tuner as kt
    >>> def build_model(hp):
    ...     model = keras.Sequential([
    ...         keras.layers.Flatten(input_shape=(28, 28)),
    ...         keras.layers.Dense(hp.Int("units", 32, 512, step=32), activation="relu"),
    ...         keras.layers.Dense(10, activation="softmax")])
    ...     model.compile(optimizer=keras.optimizers.Adam(
    ...                       hp.Choice("learning_rate", [1e-2, 1e-3, 1e-4])),
    ...                   loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    ...     return model
    >>> tuner = kt.RandomSearch(build_model, objective="val_accuracy", max_trials=5,
    ...                         directory="tuner_dir", project_name="mlp")
    >>> tuner.search(x_train, y_train, epochs=5, validation_split=0.2)
    >>> best_hp = tuner.get_best_hyperparameters()[0]
    """

    def __init__(self, hypermodel=None, objective=None, max_trials=10, seed=None,
                 hyperparameters=None, tune_new_entries=True, allow_new_entries=True,
                 max_retries_per_trial=0, max_consecutive_failed_trials=3, **kwargs):
        oracle = RandomSearchOracle(
            objective=objective, max_trials=max_trials, seed=seed,
            hyperparameters=hyperparameters, tune_new_entries=tune_new_entries,
            allow_new_entries=allow_new_entries, max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials)
        super().__init__(oracle, hypermodel, **kwargs)
