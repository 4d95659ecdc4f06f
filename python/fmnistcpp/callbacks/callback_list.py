"""Dispatches fit's events to every callback, adding History and the
progress bar the way Keras does."""

from __future__ import annotations

from .callback import Callback
from .history import History
from .progbar_logger import ProgbarLogger


class CallbackList:
    def __init__(self, callbacks, model, params, add_progbar):
        if callbacks is not None and not isinstance(callbacks, (list, tuple)):
            raise TypeError(
                f"callbacks must be a list of Callback instances, got {type(callbacks).__name__}"
            )
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"callbacks must be fmnistcpp.callbacks.Callback instances, got {type(cb).__name__}"
                )
        self.history = next((c for c in self.callbacks if isinstance(c, History)), None)
        if self.history is None:
            self.history = History()
            self.callbacks.append(self.history)
        self.progbar = None
        if add_progbar:
            self.progbar = ProgbarLogger()
            self.callbacks.append(self.progbar)
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)
        self.wants_batch_hooks = any(cb._overrides_batch_hooks() for cb in self.callbacks)

    def _call(self, hook, *args):
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        if self.wants_batch_hooks:
            self._call("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        if self.wants_batch_hooks:
            self._call("on_train_batch_end", batch, logs)

    def on_progress(self, step, logs):
        if self.progbar is not None:
            self.progbar._progress(step, logs)
