"""`MetricsTracker`: the metric values a trial reported, per step."""

from __future__ import annotations

import math


class MetricsTracker:
    """Per metric: its direction and the (step, value) observations.

    A trial reports once, at its best epoch (keras-tuner's behaviour), so
    each metric usually holds one observation.
    """

    def __init__(self):
        self.metrics: dict = {}  # name -> {"direction": str|None, "observations": [[step, value]]}

    def register(self, name, direction=None):
        if name in self.metrics:
            raise ValueError(f"metric {name!r} is already registered")
        self.metrics[name] = {"direction": direction, "observations": []}

    def exists(self, name) -> bool:
        return name in self.metrics

    def update(self, name, value, step=0):
        if name not in self.metrics:
            self.register(name)
        self.metrics[name]["observations"].append([int(step), float(value)])

    def get_history(self, name) -> list:
        return [list(o) for o in self.metrics[name]["observations"]]

    def get_last_value(self, name):
        obs = self.metrics.get(name, {}).get("observations")
        return obs[-1][1] if obs else None

    def _best(self, name):
        entry = self.metrics.get(name)
        if not entry or not entry["observations"]:
            return None
        obs = [o for o in entry["observations"] if not math.isnan(o[1])] or entry["observations"]
        if entry["direction"] == "min":
            return min(obs, key=lambda o: o[1])
        return max(obs, key=lambda o: o[1])

    def get_best_value(self, name):
        best = self._best(name)
        return None if best is None else best[1]

    def get_best_step(self, name):
        best = self._best(name)
        return None if best is None else best[0]

    def get_config(self) -> dict:
        return {"metrics": {k: {"direction": v["direction"],
                                "observations": [list(o) for o in v["observations"]]}
                            for k, v in self.metrics.items()}}

    @classmethod
    def from_config(cls, config):
        tracker = cls()
        for name, entry in config["metrics"].items():
            tracker.metrics[name] = {"direction": entry["direction"],
                                     "observations": [[int(s), float(v)]
                                                      for s, v in entry["observations"]]}
        return tracker
