"""`Trial`: one configuration of hyperparameters, its status and its results."""

from __future__ import annotations

from . import _io
from .hyperparameters import HyperParameters
from .metrics_tracking import MetricsTracker


class TrialStatus:
    """keras-tuner's trial states."""

    RUNNING = "RUNNING"      # being trained (or interrupted: retried on resume)
    IDLE = "IDLE"            # the oracle waits for other trials
    INVALID = "INVALID"      # crashed, may be retried
    STOPPED = "STOPPED"      # the oracle has no more trials
    COMPLETED = "COMPLETED"  # finished, has a score
    FAILED = "FAILED"        # crashed, not retried

    ALL = (RUNNING, IDLE, INVALID, STOPPED, COMPLETED, FAILED)


class Trial:
    """One set of hyperparameter values and what training it gave.

    Attributes:
        trial_id: string id, e.g. "03".
        hyperparameters: a `HyperParameters` with the trial's `values`.
        status: one of `TrialStatus`.
        metrics: a `MetricsTracker` with the values at the best epoch.
        score: the objective's value (best epoch), None until completed.
        best_step: the index of the best epoch in the trial's fit.
        message: the error of a failed trial.
    """

    def __init__(self, hyperparameters, trial_id=None, status=TrialStatus.RUNNING, message=None):
        self.hyperparameters = hyperparameters
        self.trial_id = trial_id
        self.status = status
        self.message = message
        self.metrics = MetricsTracker()
        self.score = None
        self.best_step = 0

    def summary(self):
        """Prints the trial as keras-tuner's `results_summary` shows it."""
        print(f"Trial {self.trial_id} summary")
        print("Hyperparameters:")
        self.display_hyperparameters()
        if self.score is not None:
            print(f"Score: {self.score}")
        if self.message is not None:
            print(self.message)

    def display_hyperparameters(self):
        if self.hyperparameters.values:
            for name, value in self.hyperparameters.values.items():
                print(f"{name}:", value)
        else:
            print("default configuration")

    def get_state(self) -> dict:
        return {
            "trial_id": self.trial_id,
            "hyperparameters": self.hyperparameters.get_config(),
            "metrics": self.metrics.get_config(),
            "score": self.score,
            "best_step": self.best_step,
            "status": self.status,
            "message": self.message,
        }

    @classmethod
    def from_state(cls, state, where="trial"):
        """Rebuilds a trial from `get_state()`'s dict.

        Raises:
            ValueError: a key is missing or has the wrong type.
        """
        try:
            trial = cls(HyperParameters.from_config(state["hyperparameters"]),
                        trial_id=str(state["trial_id"]), status=state["status"],
                        message=state.get("message"))
            trial.metrics = MetricsTracker.from_config(state["metrics"])
            trial.score = None if state["score"] is None else float(state["score"])
            trial.best_step = int(state.get("best_step") or 0)
        except (KeyError, TypeError, AttributeError, ValueError) as e:
            raise ValueError(f"corrupt {where}: {type(e).__name__}: {e}") from None
        if trial.status not in TrialStatus.ALL:
            raise ValueError(f"corrupt {where}: unknown status {trial.status!r}")
        return trial

    def save(self, path):
        _io.write_json(path, self.get_state())

    @classmethod
    def load(cls, path):
        return cls.from_state(_io.read_json(path, "trial"), where=f"trial file {str(path)!r}")

    def __repr__(self):
        return (f"<Trial {self.trial_id} status={self.status} score={self.score} "
                f"values={self.hyperparameters.values}>")
