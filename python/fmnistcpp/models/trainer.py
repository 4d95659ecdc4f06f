"""Keras's training API for every model kind (Sequential, functional,
subclassed): compile, fit, evaluate, predict.

Python checks and converts the inputs once, then each epoch is one call
into C++ (`Network.fit_epoch`), which runs every batch (gather, forward,
loss, backward, optimizer step, metrics) with the GIL released, calling
back only for the throttled progress bar, for batch hooks a callback asked
for, and to let Ctrl-C stop it between two batches."""

from __future__ import annotations

import numpy as np

from .. import _random, optimizers
from ..callbacks.callback import Callback
from ..callbacks.callback_list import CallbackList
from ..utils.progbar import Progbar
from ..backend import arrays as data
from . import compile_config, streaming


class Trainer:
    def _init_trainer(self):
        self.optimizer = None
        self.loss = None
        self.compiled_metrics: list = []
        self._targets = None  # compile_config.Target per output with a loss
        self._compiled_engine = None  # the engine the compile was pushed into
        self.stop_training = False
        self.history = None

    # --- compile ----------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True):
        """Configures training: optimizer, loss(es), loss_weights and metrics
        (strings or objects; lists or dicts per output), as Keras's compile."""
        opt = optimizers.get(optimizer)
        self._targets = None  # the output names may not be known before the model is built
        self._compile_request = (loss, loss_weights, metrics, weighted_metrics)
        self.optimizer, self.loss = opt, loss
        if self._model_built():
            self._resolve_targets()
            self._push_compile()
        else:
            # Checked now for the single-output case, as Keras checks names early.
            compile_config.resolve(["output"], loss, None, metrics if not isinstance(
                metrics, dict) else None, weighted_metrics if not isinstance(
                weighted_metrics, dict) else None)

    def _resolve_targets(self):
        loss, loss_weights, metrics, weighted_metrics = self._compile_request
        self._targets = compile_config.resolve(self.output_names, loss, loss_weights, metrics,
                                               weighted_metrics,
                                               [tuple(o.shape[1:]) for o in self.outputs])
        self.compiled_metrics = [m for t in self._targets for m in t.metrics + t.weighted_metrics]
        losses, names, shapes = compile_config.log_names(self._targets,
                                                         len(self.output_names) > 1)
        self._loss_log_names, self._metric_log_names = losses, names
        self._metric_log_shapes = shapes
        metric_objs = [m for t in self._targets for m in t.metrics] + \
            [m for t in self._targets for m in t.weighted_metrics]
        self._metric_directions = {n: m.direction for n, m in zip(names, metric_objs)}

    def _push_compile(self):
        """Hands the compile settings to the engine (at compile, or when the
        model is built later); trainable flags are read now, as Keras does."""
        engine = self._engine()
        self.optimizer._attach(self, engine.network)
        engine.network.compile([t.engine_spec() for t in self._targets],
                               self.optimizer._engine_spec(), engine.frozen_flags(self),
                               engine.trainable_order(self))
        self._compiled_engine = engine

    @property
    def compiled(self) -> bool:
        return getattr(self, "_compile_request", None) is not None

    def _require_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(f"You must call compile() before {what}()")

    def _compiled_network(self):
        """The engine network, compiled (a model built after compile gets its
        compile settings now)."""
        if self._compiled_engine is not self._engine():
            if self._targets is None:
                self._resolve_targets()
            self._push_compile()
        return self._compiled_engine.network

    @property
    def metrics_names(self) -> list:
        """The order evaluate() returns values in, as Keras 3's
        _flatten_metrics_in_order: the loss, each output's loss, then the
        metrics (a multi-output model's prefixed names come sorted, since
        Keras does not find them under the names it declared)."""
        if self._targets is None:
            return ["loss"]
        metrics = self._metric_log_names
        if len(self.output_names) > 1:
            metrics = sorted(metrics)
        return ["loss"] + self._loss_log_names + metrics

    def _named_logs(self, raw: dict, prefix: str = "") -> dict:
        logs = {prefix + "loss": float(raw["loss"])}
        for name, v in zip(self._loss_log_names, raw["target_losses"]):
            logs[prefix + name] = float(v)
        values, at = raw["metrics"], 0
        for name, shape in zip(self._metric_log_names, self._metric_log_shapes):
            # A metric with several numbers (per class or threshold) logs an
            # array, as Keras does.
            size = int(np.prod(shape))
            logs[prefix + name] = np.asarray(values[at:at + size], dtype=np.float32) if shape \
                else float(values[at])
            at += size
        return dict(sorted(logs.items()))  # Keras 3 orders the logs by name

    # --- data ---------------------------------------------------------------------
    def _inputs(self, x, what="x") -> list:
        self._ensure_built_for(x)
        shapes = [t.shape[1:] for t in self.inputs]
        names = self._input_names()
        xs = data.structure(x, names, what + " input")
        if len(xs) == 1:
            return [data.as_input(xs[0], shapes[0], what)]
        return [data.as_input(a, s, f"{what}[{n!r}]") for a, s, n in zip(xs, shapes, names)]

    def _labels(self, y, n, what="y") -> list:
        if y is None:
            raise ValueError(f"{what} is required for training and evaluation")
        ys = data.structure(y, self.output_names, what + " output")
        out = []
        for t in self._targets:
            label_what = what if len(self.output_names) == 1 else f"{what}[{t.output_name!r}]"
            out.append(data.as_labels(ys[t.output], n, tuple(self.outputs[t.output].shape[1:]),
                                      t.loss.sparse, label_what, t.loss._fn))
        return out

    def _weights(self, sample_weight, class_weight, ys, n):
        if class_weight is not None:
            if sample_weight is not None:
                raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
            if len(self._targets) != 1:
                raise ValueError("class_weight is only supported for models with one output "
                                 "that has a loss")
            return data.class_weights(class_weight, ys[0])
        if sample_weight is None:
            return None
        return data.as_sample_weight(sample_weight, n)

    # --- fit / evaluate / predict ---------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Trains the model; returns a History. Arguments as Keras's fit."""
        if streaming.wanted(x, validation_data, steps_per_epoch, validation_steps):
            return streaming.fit(self, x, y, batch_size, epochs, verbose, callbacks,
                                 validation_split, validation_data, shuffle, class_weight,
                                 sample_weight, initial_epoch, steps_per_epoch, validation_steps,
                                 validation_batch_size, validation_freq)
        if validation_freq != 1:
            raise NotImplementedError("fit(validation_freq != 1) is not supported")
        self._require_compiled("fit")
        verbose = _check_verbose(verbose)
        batch_size = data.check_batch_size(batch_size)
        val_batch_size = data.check_batch_size(validation_batch_size, batch_size)
        epochs = data.check_count(epochs, "epochs")
        initial_epoch = data.check_count(initial_epoch, "initial_epoch")
        if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float)) \
                or not 0.0 <= validation_split < 1.0:
            raise ValueError(f"validation_split must be a float in [0, 1), got {validation_split!r}")
        xs = self._inputs(x)
        network = self._compiled_network()
        self.optimizer._claim(self)
        n = len(xs[0])
        ys = self._labels(y, n)
        sw = self._weights(sample_weight, class_weight, ys, n)
        val = None
        if validation_data is not None:
            val = self._validation(validation_data)
        elif validation_split:
            # Keras takes the LAST fraction, before any shuffling.
            split_at = int(np.floor(n * (1.0 - validation_split)))
            if split_at == 0 or split_at == n:
                raise ValueError(
                    f"validation_split={validation_split} leaves no training or no validation "
                    f"samples out of {n}"
                )
            val = ([a[split_at:] for a in xs], [a[split_at:] for a in ys],
                   None if sw is None else sw[split_at:])
            xs, ys = [a[:split_at] for a in xs], [a[:split_at] for a in ys]
            sw = None if sw is None else sw[:split_at]
        steps = -(-len(xs[0]) // min(batch_size, len(xs[0])))
        if self.optimizer._python_schedule is not None:
            callbacks = list(callbacks or []) + [_PythonSchedule()]
        cbs = CallbackList(callbacks, self,
                           {"epochs": epochs, "steps": steps, "verbose": verbose},
                           add_progbar=verbose != 0)
        self.history = cbs.history
        self.stop_training = False
        progress = self._fit_progress(cbs)
        interval = 0.05 if verbose == 1 else 3600.0
        cbs.on_train_begin()
        initial_epoch = getattr(self, "_initial_epoch", None) or initial_epoch  # BackupAndRestore
        epoch_logs = {}
        for epoch in range(initial_epoch, epochs):
            cbs.on_epoch_begin(epoch)
            cbs.on_train_batch_begin(0)
            raw = network.fit_epoch(xs, ys, sw, batch_size, bool(shuffle), _random.next_seed(),
                                    progress, interval, cbs.wants_batch_hooks)
            epoch_logs = self._named_logs(raw)
            if val is not None:
                raw_val = network.evaluate(val[0], val[1], val[2], val_batch_size, None)
                epoch_logs.update(self._named_logs(raw_val, "val_"))
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        if epochs > 0:  # Keras: with use_ema, the weights take their averages
            self.optimizer.finalize_variable_values()
        cbs.on_train_end(epoch_logs)
        return self.history

    def _fit_progress(self, cbs):
        def progress(done, total, raw):
            logs = self._named_logs(raw)
            cbs.on_progress(done, logs)
            if cbs.wants_batch_hooks:
                cbs.on_train_batch_end(done - 1, logs)
                if self.stop_training:
                    return True
                if done < total:
                    cbs.on_train_batch_begin(done)
            return self.stop_training

        return progress

    def _validation(self, validation_data):
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError("validation_data must be a tuple (x_val, y_val)")
        xs = self._inputs(validation_data[0], "validation x")
        n = len(xs[0])
        ys = self._labels(validation_data[1], n, "validation y")
        sw = None
        if len(validation_data) == 3 and validation_data[2] is not None:
            sw = data.as_sample_weight(validation_data[2], n, "validation sample_weight")
        return xs, ys, sw

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """Loss (and metrics) on the given data: a float, or [loss, *metrics],
        or a dict with return_dict=True."""
        if streaming.wanted(x, None, steps, None):
            return streaming.evaluate(self, x, y, batch_size, verbose, sample_weight, steps,
                                      return_dict)
        self._require_compiled("evaluate")
        verbose = _check_verbose(verbose)
        batch_size = data.check_batch_size(batch_size)
        xs = self._inputs(x)
        network = self._compiled_network()
        n = len(xs[0])
        ys = self._labels(y, n)
        sw = self._weights(sample_weight, None, ys, n)
        bar = Progbar(-(-n // batch_size), verbose=verbose) if verbose else None

        def progress(done, total, raw):
            if bar is not None:
                logs = self._named_logs(raw)
                bar.update(done, list(logs.items()), finalize=done == total)
            return False

        logs = self._named_logs(network.evaluate(xs, ys, sw, batch_size, progress))
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs for x: a float32 array (N, *output_shape), or a list of
        them for a model with several outputs."""
        if streaming.wanted(x, None, steps, None):
            return streaming.predict(self, x, batch_size, verbose, steps)
        verbose = _check_verbose(verbose)
        batch_size = data.check_batch_size(batch_size)
        xs = self._inputs(x)
        n = len(xs[0])
        bar = Progbar(-(-n // batch_size), verbose=verbose) if verbose else None

        def progress(done, total, raw):
            if bar is not None:
                bar.update(done, finalize=done == total)
            return False

        outs = self._engine().network.predict(xs, batch_size, progress)
        return self._pack_outputs(outs)

    def predict_on_batch(self, x):
        return self.predict(x, batch_size=max(len(data.structure(x, self._input_names(), "x")[0]),
                                              1), verbose=0)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        """One optimizer step on (x, y) as a single batch; returns its loss
        (and metrics), as Keras's train_on_batch."""
        self._require_compiled("train_on_batch")
        xs = self._inputs(x)
        network = self._compiled_network()
        self.optimizer._claim(self)
        n = len(xs[0])
        ys = self._labels(y, n)
        sw = self._weights(sample_weight, class_weight, ys, n)
        raw = network.fit_epoch(xs, ys, sw, n, False, _random.next_seed())
        logs = self._named_logs(raw)
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        n = len(data.structure(x, self._input_names(), "x")[0])
        return self.evaluate(x, y, batch_size=max(n, 1), verbose=0, sample_weight=sample_weight,
                             return_dict=return_dict)

    # --- optimizer state (saving) ------------------------------------------------------
    def _optimizer_state(self) -> tuple:
        """(step count, the optimizer's state arrays in Keras's order)."""
        if self._compiled_engine is None:
            return 0, []
        network = self._compiled_engine.network
        return int(network.iterations), list(network.optimizer_slot_values())

    def _set_optimizer_state(self, iterations, values) -> bool:
        """Restores a saved state; False (and nothing changed) when it does
        not fit this optimizer's layout."""
        if not self.compiled or not self._model_built():
            return False
        network = self._compiled_network()
        sizes = network.optimizer_slot_sizes()
        if len(values) != len(sizes) or any(v.size != s for v, s in zip(values, sizes)):
            return False
        try:
            network.set_optimizer_slot_values(values)
        except ValueError:
            return False
        network.iterations = int(iterations)
        return True

    # --- test hooks ---------------------------------------------------------------
    def _loss_and_gradients(self, x, y, training=False, seed=0):
        """(loss, grads of the trainable weights in order, d loss / d x) for
        one batch of all of x, computed in C++. For gradient tests."""
        self._require_compiled("_loss_and_gradients")
        xs = self._inputs(x)
        network = self._compiled_network()
        ys = self._labels(y, len(xs[0]))
        loss, grads, input_grads = network.loss_and_gradients(
            xs, ys, None, training, seed)
        return float(loss), list(grads), input_grads[0] if len(input_grads) == 1 else input_grads

    def _layer_outputs(self, x):
        """Each leaf layer's output at inference, in engine order (nested
        models expanded)."""
        xs = self._inputs(x)
        engine = self._engine()
        values = engine.network.tensor_values(xs)
        return values[len(xs):]


class _PythonSchedule(Callback):
    """Sets the optimizer's rate from its Python schedule before every
    batch, as Keras evaluates a schedule at each step."""

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer._apply_python_schedule()


def _check_verbose(verbose) -> int:
    if verbose == "auto":
        return 1
    if verbose in (0, 1, 2) and not isinstance(verbose, bool):
        return int(verbose)
    raise ValueError(f"verbose must be 'auto', 0, 1 or 2, got {verbose!r}")
