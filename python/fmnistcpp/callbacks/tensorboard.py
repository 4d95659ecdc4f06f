"""TensorBoard, as keras.callbacks.TensorBoard: epoch (and optionally batch)
scalars written as TensorBoard event files.

The records are TensorBoard's own protocol buffers (`tensorboard.compat.proto`)
framed by TensorBoard's own `RecordWriter`; the file itself is opened here so
that writing never imports TensorFlow (TensorBoard's `EventFileWriter` would,
when it is installed, to reach `tf.io.gfile`). Scalars are written as
`tf.summary.scalar` writes them in TF2 (a float32 scalar tensor with the
`scalars` plugin), so TensorBoard shows them exactly as Keras's.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import socket
import time

import numpy as np

from .callback import Callback

_file_counter = itertools.count()


class _EventWriter:
    """One event file in `logdir`, as `tf.summary.create_file_writer` makes."""

    def __init__(self, logdir):
        from tensorboard.compat.proto import event_pb2
        from tensorboard.summary.writer.record_writer import RecordWriter

        self._event_pb2 = event_pb2
        os.makedirs(logdir, exist_ok=True)
        name = (f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}."
                f"{os.getpid()}.{next(_file_counter)}.v2")
        self.path = os.path.join(logdir, name)
        self._file = open(self.path, "wb")
        self._writer = RecordWriter(self._file)
        self._write(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2"))
        self.flush()

    def _write(self, event):
        self._writer.write(event.SerializeToString())

    def _summary(self, step, value):
        from tensorboard.compat.proto import summary_pb2

        self._write(self._event_pb2.Event(wall_time=time.time(), step=int(step),
                                          summary=summary_pb2.Summary(value=[value])))

    def scalar(self, tag, value, step):
        from tensorboard.compat.proto import (summary_pb2, tensor_pb2, tensor_shape_pb2,
                                              types_pb2)

        tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT,
                                        tensor_shape=tensor_shape_pb2.TensorShapeProto(),
                                        float_val=[float(value)])
        metadata = summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"))
        self._summary(step, summary_pb2.Summary.Value(tag=tag, tensor=tensor,
                                                      metadata=metadata))

    def keras_model(self, tag, json_string, step):
        """The model config for TensorBoard's graph tab, as Keras's
        `keras_model_summary` writes it."""
        from tensorboard.compat.proto import (summary_pb2, tensor_pb2, tensor_shape_pb2,
                                              types_pb2)

        tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING,
                                        tensor_shape=tensor_shape_pb2.TensorShapeProto(),
                                        string_val=[json_string.encode("utf-8")])
        metadata = summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(
                plugin_name="graph_keras_model", content=b"1"))
        self._summary(step, summary_pb2.Summary.Value(tag=tag, tensor=tensor,
                                                      metadata=metadata))

    def histogram(self, tag, values, step):
        """As tf.summary.histogram: 30 buckets (left, right, count), the
        histograms plugin; made by TensorBoard's own numpy histogram_pb."""
        from tensorboard.plugins.histogram import summary_v2

        summary = summary_v2.histogram_pb(tag, values)
        self._write(self._event_pb2.Event(wall_time=time.time(), step=int(step),
                                          summary=summary))

    def image(self, tag, images, step, max_outputs=3):
        """As tf.summary.image on float images (k, h, w, c): each saturated
        to uint8 as tf.image.convert_image_dtype does (x * 255.5, truncated,
        clipped to 0..255), PNG-encoded (by Pillow), as one string tensor
        [width, height, png, ...] for the images plugin."""
        from PIL import Image
        from tensorboard.compat.proto import (summary_pb2, tensor_pb2, tensor_shape_pb2,
                                              types_pb2)
        from tensorboard.plugins.image import metadata

        pixels = np.clip(np.trunc(np.asarray(images, np.float64) * 255.5), 0, 255).astype(np.uint8)
        pngs = []
        for img in pixels[:max_outputs]:
            buf = io.BytesIO()
            Image.fromarray(img[:, :, 0] if img.shape[2] == 1 else img).save(buf, format="PNG")
            pngs.append(buf.getvalue())
        content = [str(pixels.shape[2]).encode(), str(pixels.shape[1]).encode()] + pngs
        tensor = tensor_pb2.TensorProto(
            dtype=types_pb2.DT_STRING, string_val=content,
            tensor_shape=tensor_shape_pb2.TensorShapeProto(
                dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=len(content))]))
        self._summary(step, summary_pb2.Summary.Value(
            tag=tag, tensor=tensor, metadata=metadata.create_summary_metadata(
                display_name=None, description=None)))

    def flush(self):
        self._writer.flush()

    def close(self):
        if not self._file.closed:
            self._writer.flush()
            self._writer.close()


class TensorBoard(Callback):
    """Enable visualizations for TensorBoard.

    TensorBoard is a visualization tool provided with TensorFlow. A TensorFlow
    installation is not needed to write the logs: this callback writes the
    event files with the `tensorboard` package alone.

    This callback logs events for TensorBoard, including:

    * Metrics summary plots (`epoch_loss`, `epoch_accuracy`, ...,
      `epoch_learning_rate`, under `log_dir/train` and `log_dir/validation`)
    * Weight histograms (`histogram_freq`), and the
      weights as images (`write_images`)
    * Training graph visualization (the model's config)

    If you have installed TensorFlow with pip, you should be able
    to launch TensorBoard from the command line:

    ```
    tensorboard --logdir=path_to_your_logs
    ```

    Args:
        log_dir: the path of the directory where to save the log files to be
            parsed by TensorBoard. e.g.,
            `log_dir = os.path.join(working_dir, 'logs')`.
            This directory should not be reused by any other callbacks.
        histogram_freq: frequency (in epochs) at which to compute
            weight histograms for the layers of the model. If set to 0,
            histograms won't be computed.
        write_graph: whether to write the model's config (shown in
            TensorBoard's graph tab, as Keras writes it).
        write_images: whether to write model weights to visualize as image in
            TensorBoard (with histogram_freq, as in Keras; Pillow encodes the
            PNGs).
        write_steps_per_second: whether to log the training steps per second
            into TensorBoard. This supports both epoch and batch frequency
            logging.
        update_freq: `"batch"` or `"epoch"` or integer. When using `"epoch"`,
            writes the losses and metrics to TensorBoard after every epoch.
            If using an integer, let's say `1000`, all metrics and losses
            (including custom ones added by `Model.compile`) will be logged to
            TensorBoard every 1000 batches. `"batch"` is a synonym for 1,
            meaning that they will be written every batch. Batch-level logging
            makes fit call back into Python after every batch.
        profile_batch: Profile the batch(es) to sample compute characteristics.
            Not supported: only 0 is accepted.
        embeddings_freq: frequency (in epochs) at which embedding layers will be
            visualized. Not supported: only 0 is accepted.
        embeddings_metadata: Dictionary which maps embedding layer names to the
            filename of a file in which to save metadata for the embedding layer.

    Examples:

    ```python
    tensorboard_callback = fmnistcpp.callbacks.TensorBoard(log_dir="./logs")
    model.fit(x_train, y_train, epochs=2, callbacks=[tensorboard_callback])
    # Then run the tensorboard command to view the visualizations.
    ```
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        for arg, value in (("profile_batch", profile_batch),
                           ("embeddings_freq", embeddings_freq),
                           ("embeddings_metadata", embeddings_metadata)):
            if value:
                raise NotImplementedError(
                    f"TensorBoard({arg}={value!r}) is not supported by fmnistcpp; "
                    "scalars, weight histograms and images (and the model graph) are"
                )
        try:
            import tensorboard  # noqa: F401
        except ImportError as e:  # an optional extra: fmnistcpp[tensorboard]
            raise ImportError("the TensorBoard callback needs the `tensorboard` package: "
                              "pip install 'fmnistcpp[tensorboard]'") from e
        self.log_dir = str(os.fspath(log_dir))
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        if self.update_freq != "epoch" and (
                isinstance(self.update_freq, bool) or not isinstance(self.update_freq, int)
                or self.update_freq < 1):
            raise ValueError(
                f"update_freq must be 'epoch', 'batch' or a positive integer, got {update_freq!r}"
            )
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._global_train_batch = 0
        self._previous_epoch_iterations = 0
        self._epoch_start_time = 0.0
        self._batch_start_time = 0.0
        self._writers = {}

    def _overrides_batch_hooks(self) -> bool:
        # Batch summaries only exist when update_freq is not 'epoch' (as in
        # Keras, whose batch scalars need a default writer pushed per batch).
        return self.update_freq != "epoch"

    def set_model(self, model):
        """Sets the model and writes its graph if asked."""
        self.model = model
        self._log_write_dir = self.log_dir
        self._train_dir = os.path.join(self._log_write_dir, "train")
        self._val_dir = os.path.join(self._log_write_dir, "validation")
        self._close_writers()
        self._writers = {}
        if self.write_graph:
            self._write_keras_model_summary()

    @property
    def _train_writer(self):
        if "train" not in self._writers:
            self._writers["train"] = _EventWriter(self._train_dir)
        return self._writers["train"]

    @property
    def _val_writer(self):
        if "val" not in self._writers:
            self._writers["val"] = _EventWriter(self._val_dir)
        return self._writers["val"]

    def _write_keras_model_summary(self):
        get_config = getattr(self.model, "get_config", None)
        if get_config is None or type(self.model).__name__ != "Sequential":
            return
        try:
            config = {"class_name": "Sequential", "config": get_config()}
            json_string = json.dumps(config, default=_json_default)
        except Exception:  # a graph is a nicety: never fail fit for it
            return
        self._train_writer.keras_model("keras", json_string, step=0)
        self._train_writer.flush()

    def _close_writers(self):
        for writer in self._writers.values():
            writer.close()

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        self._previous_epoch_iterations = 0

    def on_train_end(self, logs=None):
        self._close_writers()
        self._writers = {}

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start_time = time.time()

    def on_train_batch_end(self, batch, logs=None):
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq != 0:
            return
        step = self._global_train_batch
        writer = self._train_writer
        if self.write_steps_per_second:
            batch_run_time = max(time.time() - self._batch_start_time, 1e-9)
            writer.scalar("batch_steps_per_second", 1.0 / batch_run_time, step=step)
        if isinstance(logs, dict):
            for name, value in logs.items():
                writer.scalar(f"batch_{name}", value, step=step)
        writer.flush()

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._previous_epoch_iterations = self._iterations()
            self._epoch_start_time = time.time()

    def on_epoch_end(self, epoch, logs=None):
        """Writes the epoch's metrics as scalar summaries, and the weights'
        histograms every histogram_freq epochs."""
        self._log_epoch_metrics(epoch, logs)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)

    def _log_weights(self, epoch):
        """As Keras: every layer's weights under '<path>/histogram' (and
        '<path>/image'), in the train writer."""
        from ..models.model import Model
        from ..models.sequential import Sequential

        writer = self._train_writer
        # Keras's variable paths carry the model's name when the model built
        # its layers (Sequential, subclassed), not for a functional model's.
        functional = type(self.model).call is Model.call and \
            not isinstance(self.model, Sequential)
        prefix = "" if functional else self.model.name + "/"
        for layer in self.model.layers:
            for weight in layer.weights:
                path = weight.path if weight.path.startswith(prefix) else prefix + weight.path
                name = path.replace(":", "_")
                value = np.asarray(weight.numpy())
                writer.histogram(f"{name}/histogram", value, step=epoch)
                if self.write_images:
                    self._log_weight_as_image(writer, value, f"{name}/image", epoch)
        writer.flush()

    @staticmethod
    def _log_weight_as_image(writer, w, name, epoch):
        """Keras's layout: a bias as a 1-row image, a Dense kernel with its
        longer side across, each conv kernel (channels first) as an image."""
        w = np.squeeze(w)
        if w.ndim == 1:
            w = w.reshape(1, w.shape[0], 1, 1)
        elif w.ndim == 2:
            if w.shape[0] > w.shape[1]:
                w = w.T
            w = w.reshape(1, w.shape[0], w.shape[1], 1)
        elif w.ndim == 3:
            w = np.transpose(w, (2, 0, 1))
            w = w.reshape(w.shape[0], w.shape[1], w.shape[2], 1)
        if w.ndim == 4 and w.shape[-1] in (1, 3, 4):
            writer.image(name, w, step=epoch)

    def _iterations(self):
        return int(getattr(self.model.optimizer, "iterations", 0) or 0)

    def _collect_learning_rate(self, logs):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and hasattr(optimizer, "learning_rate"):
            logs["learning_rate"] = float(optimizer.learning_rate)
        return logs

    def _compute_steps_per_second(self):
        elapsed = max(time.time() - self._epoch_start_time, 1e-9)
        return float(self._iterations() - self._previous_epoch_iterations) / elapsed

    def _log_epoch_metrics(self, epoch, logs):
        if not logs:
            return
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k: v for k, v in logs.items() if k.startswith("val_")}
        train_logs = self._collect_learning_rate(train_logs)
        if self.write_steps_per_second:
            train_logs["steps_per_second"] = self._compute_steps_per_second()
        if train_logs:
            for name, value in train_logs.items():
                self._train_writer.scalar(f"epoch_{name}", value, step=epoch)
            self._train_writer.flush()
        if val_logs:
            for name, value in val_logs.items():
                self._val_writer.scalar(f"epoch_{name[4:]}", value, step=epoch)
            self._val_writer.flush()


def _json_default(obj):
    if isinstance(obj, tuple):
        return list(obj)
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)
