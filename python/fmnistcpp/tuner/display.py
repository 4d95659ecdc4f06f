"""What a search prints: keras-tuner's per-trial lines."""

from __future__ import annotations

from datetime import datetime


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def try_clear():
    """Clears the cell's output in Jupyter (keras-tuner shows only the
    running trial there); prints an empty line elsewhere."""
    if _in_notebook():
        from IPython import display

        display.clear_output(wait=True)
    else:
        print()


class Display:
    """Prints "Search: Running Trial #n", the hyperparameter table, and
    "Trial n Complete [time]" with the best value so far, as keras-tuner."""

    def __init__(self, oracle, verbose=1):
        self.oracle = oracle
        self.verbose = verbose
        self.col_width = 18
        self.search_start = None
        self.trial_start = {}
        self.trial_number = {}

    def get_state(self) -> dict:
        return {"trial_number": dict(self.trial_number)}

    def set_state(self, state):
        self.trial_number = dict(state.get("trial_number", {}))

    def on_trial_begin(self, trial):
        now = datetime.now()
        self.trial_start[trial.trial_id] = now
        if self.search_start is None:
            self.search_start = now
        self.trial_number.setdefault(trial.trial_id, len(self.trial_number) + 1)
        if self.verbose < 1:
            return
        print()
        print(f"Search: Running Trial #{self.trial_number[trial.trial_id]}")
        print()
        self.show_hyperparameter_table(trial)
        print()

    def on_trial_end(self, trial):
        if self.verbose < 1:
            return
        try_clear()
        start = self.trial_start.get(trial.trial_id, datetime.now())
        print(f"Trial {self.trial_number.get(trial.trial_id, trial.trial_id)} Complete "
              f"[{self.format_duration(datetime.now() - start)}]")
        if trial.score is not None:
            print(f"{self.oracle.objective.name}: {trial.score}")
        print()
        best = self.oracle.get_best_trials()
        best_score = best[0].score if best else None
        print(f"Best {self.oracle.objective.name} So Far: {best_score}")
        print(f"Total elapsed time: {self.format_duration(datetime.now() - self.search_start)}")

    def show_hyperparameter_table(self, trial):
        template = "{{0:{0}}}|{{1:{0}}}|{{2}}".format(self.col_width)
        best = self.oracle.get_best_trials()
        best_trial = best[0] if best and best[0].status == "COMPLETED" else None
        if not trial.hyperparameters.values:
            print("default configuration")
            return
        print(template.format("Value", "Best Value So Far", "Hyperparameter"))
        for name, value in trial.hyperparameters.values.items():
            best_value = best_trial.hyperparameters.values.get(name) if best_trial else "?"
            print(template.format(self.format_value(value), self.format_value(best_value), name))

    def format_value(self, val):
        if isinstance(val, (int, float)) and not isinstance(val, bool):
            return f"{val:.5g}"
        text = str(val)
        return text if len(text) <= self.col_width else f"{text[:self.col_width - 3]}..."

    @staticmethod
    def format_duration(d):
        s = round(d.total_seconds())
        days, s = divmod(s, 86400)
        h, s = divmod(s, 3600)
        m, s = divmod(s, 60)
        if days > 0:
            return f"{days:d}d {h:02d}h {m:02d}m {s:02d}s"
        return f"{h:02d}h {m:02d}m {s:02d}s"
