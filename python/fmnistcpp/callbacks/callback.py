"""The Callback base class, as keras.callbacks.Callback."""

from __future__ import annotations


class Callback:
    """Base class: override any of the hooks. `self.model` is the model being
    trained and `self.params` holds {'epochs', 'steps', 'verbose'}.

    Batch hooks (`on_train_batch_begin/end`, `on_batch_begin/end`) cost a
    call into Python per batch; fit only makes them when a callback
    overrides one.
    """

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)
    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)
    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...
    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...

    def _overrides_batch_hooks(self) -> bool:
        names = ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end")
        return any(getattr(type(self), n) is not getattr(Callback, n) for n in names)
