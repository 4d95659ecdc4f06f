"""ProgbarLogger: prints Keras's per-epoch progress."""

from __future__ import annotations

from ..utils.progbar import Progbar
from .callback import Callback


class ProgbarLogger(Callback):
    def __init__(self):
        super().__init__()
        self._progbar = None

    def on_epoch_begin(self, epoch, logs=None):
        epochs = self.params.get("epochs", 1)
        if self.params.get("verbose") and epochs > 1:
            print(f"Epoch {epoch + 1}/{epochs}", flush=True)
        self._progbar = Progbar(self.params.get("steps"), verbose=self.params.get("verbose", 1))

    def _progress(self, step, logs):
        if self._progbar is not None:
            self._progbar.update(step, list((logs or {}).items()), finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        if self._progbar is not None:
            self._progbar.update(self.params.get("steps"), list((logs or {}).items()),
                                 finalize=True)
