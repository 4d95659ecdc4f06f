"""TerminateOnNaN, as keras.callbacks.TerminateOnNaN."""

from __future__ import annotations

import numpy as np

from .callback import Callback


class TerminateOnNaN(Callback):
    """Callback that terminates training when a NaN loss is encountered.

    This callback monitors the loss value during training
    and terminates training when a NaN or Inf loss is detected.
    By default, training is stopped gracefully
    by setting `model.stop_training = True`, which triggers all callback cleanup
    methods including `on_train_end()`.

    Alternatively, you can use `raise_error=True` to immediately raise a
    RuntimeError when NaN/Inf is detected. This raise_error termination
    prevents `on_train_end()` from being called on other callbacks.

    It checks after every batch, so a fit with this callback makes one call
    into Python per batch.

    Args:
        raise_error: Boolean, default False. If False, uses graceful stop via
            `model.stop_training = True`. If True, immediately raises
            RuntimeError on NaN/Inf loss, bypassing callback cleanup methods.

    Example:

    ```
    callback = fmnistcpp.callbacks.TerminateOnNaN()
    model.fit(x, y, callbacks=[callback])
    ```
    """

    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        """Checks for a NaN/Inf loss at the end of each batch."""
        logs = logs or {}
        loss = logs.get("loss")
        if loss is not None:
            if np.isnan(loss) or np.isinf(loss):
                if self.raise_error:
                    raise RuntimeError(
                        f"NaN or Inf loss encountered at batch {batch}. "
                        f"Loss value: {loss}. Terminating training immediately."
                    )
                print(f"Batch {batch}: Invalid loss, terminating training")
                self.model.stop_training = True
