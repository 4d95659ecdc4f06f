"""History: records the epoch logs; `fit` returns it."""

from __future__ import annotations

from .callback import Callback


class History(Callback):
    """`history.history` is a plain dict of lists of floats (it pickles),
    `history.epoch` the epoch indices, `history.params` fit's parameters."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            # Metrics with several numbers (per class) stay arrays, as in Keras.
            self.history.setdefault(k, []).append(v if getattr(v, "ndim", 0) else float(v))
        if self.model is not None:
            self.model.history = self

    def __getstate__(self):
        # The model holds C++ state and is not part of a pickled history.
        state = dict(self.__dict__)
        state["model"] = None
        return state
