"""BackupAndRestore, as keras.callbacks.BackupAndRestore (Keras 3's files:
`latest.weights.h5` and `training_metadata.json` in `backup_dir`)."""

from __future__ import annotations

import json
import os
import shutil

from .callback import Callback


class BackupAndRestore(Callback):
    """Backs up the training state so an interrupted `fit` can resume.

    At the end of every epoch (or every `save_freq` batches) the model's
    weights and optimizer state go to `backup_dir/latest.weights.h5` and the
    epoch reached to `backup_dir/training_metadata.json`. A new `fit` with
    this callback restores them and starts at the next epoch; a `fit` that
    completes deletes the backup (unless `delete_checkpoint=False`).

    Args:
        backup_dir: directory for the backup, used by nothing else.
        save_freq: `"epoch"`, or an integer number of batches between saves.
        double_checkpoint: also keep the previous backup (`*.bkp`), restored
            when the latest cannot be read.
        delete_checkpoint: delete the backup when training completes.

    Example:

    ```python
    backup = fmnistcpp.callbacks.BackupAndRestore(backup_dir="/tmp/backup")
    model.fit(x, y, epochs=10, callbacks=[backup])  # interrupted at epoch 4
    model.fit(x, y, epochs=10, callbacks=[backup])  # runs epochs 4 to 9
    ```
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int)):
            raise ValueError(f"Invalid value for argument `save_freq`. Received: save_freq="
                             f"{save_freq}. Expected either 'epoch' or an integer value.")
        self.backup_dir = str(os.fspath(backup_dir))
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._weights_path = os.path.join(self.backup_dir, "latest.weights.h5")
        self._metadata_path = os.path.join(self.backup_dir, "training_metadata.json")
        self._prev_weights_path = self._weights_path + ".bkp"
        self._prev_metadata_path = self._metadata_path + ".bkp"
        self._batches_since_save = 0
        self._last_batch_seen = 0
        self._current_epoch = 0

    def _overrides_batch_hooks(self) -> bool:
        return self.save_freq != "epoch"

    def on_train_begin(self, logs=None):
        self.model._initial_epoch = None  # a fit without a backup starts where it is told
        try:
            self._load()
        except (OSError, ValueError):
            if not os.path.exists(self._prev_weights_path):
                raise
            shutil.copyfile(self._prev_weights_path, self._weights_path)
            if os.path.exists(self._prev_metadata_path):
                shutil.copyfile(self._prev_metadata_path, self._metadata_path)
            elif os.path.exists(self._metadata_path):
                os.remove(self._metadata_path)
            self._load()

    def _load(self):
        if not self.model.built:
            raise ValueError("To use the BackupAndRestore callback, you model must be built "
                             f"before you call `fit()`. Model {self.model} is unbuilt. You can "
                             "build it beforehand by calling it on a batch of data.")
        if os.path.exists(self._weights_path):
            self.model.load_weights(self._weights_path)  # the optimizer's state too
        if os.path.exists(self._metadata_path):
            with open(self._metadata_path) as f:
                self.model._initial_epoch = json.load(f)["epoch"]

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save()

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_save += batch + 1 if batch <= self._last_batch_seen else \
            batch - self._last_batch_seen
        self._last_batch_seen = batch
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save()

    def _save(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint:
            for src, dst in ((self._weights_path, self._prev_weights_path),
                             (self._metadata_path, self._prev_metadata_path)):
                if os.path.exists(src):
                    shutil.copyfile(src, dst)
        self.model.save_weights(self._weights_path, overwrite=True)
        with open(self._metadata_path, "w") as f:
            json.dump({"epoch": self._current_epoch, "batch": self._last_batch_seen}, f)

    def on_train_end(self, logs=None):
        self.model._initial_epoch = None
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)


class RemoteMonitor(Callback):
    """Not supported: fmnistcpp sends nothing over the network."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(
            "callbacks.RemoteMonitor is not supported by fmnistcpp, which makes no network "
            "requests: log with callbacks.CSVLogger or TensorBoard, or post the logs yourself "
            "from a callbacks.LambdaCallback(on_epoch_end=...)")
