"""Sequential: Keras's linear stack of layers, trained by the C++ engine.

Python checks and converts the inputs once, then each epoch is one call
into C++ (`Network.fit_epoch`), which runs every batch — gather, forward,
loss, backward, optimizer step, metrics — with the GIL released, calling
back only for the throttled progress bar, for batch hooks a callback
asked for, and to let Ctrl-C stop it between two batches.
"""

from __future__ import annotations

import numpy as np

from .. import _core, _random, losses, metrics as metrics_module, optimizers
from ..callbacks.callback import Callback
from ..callbacks.callback_list import CallbackList
from ..layers.input_layer import InputLayer
from ..layers.layer import Layer, _check_shape, unique_name
from ..utils.progbar import Progbar
from . import data, summary as summary_module


class Sequential:
    """A linear stack of layers, with Keras's `compile` / `fit` / `evaluate`
    / `predict` / `summary`.

    Args:
        layers: list of layers (an `Input` first, or `input_shape=` on the
            first layer, fixes the input shape; otherwise the first call
            to fit/predict does). A Sequential may be nested as a layer.
        name: the model's name.

    Example:

    >>> model = fmnistcpp.Sequential([
    ...     fmnistcpp.layers.Flatten(input_shape=(28, 28)),
    ...     fmnistcpp.layers.Dense(128, activation="relu"),
    ...     fmnistcpp.layers.Dense(10, activation="softmax"),
    ... ])
    >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
    ...               metrics=["accuracy"])
    >>> history = model.fit(x_train, y_train, epochs=5, validation_split=0.2)
    """

    def __init__(self, layers=None, name=None, trainable=True):
        if not trainable:
            raise NotImplementedError("trainable=False models are not supported yet")
        self.name = name or unique_name("sequential")
        self._layers: list = []
        self._input_shape = None
        self._network = None
        self._compile_args = None
        self.optimizer = None
        self.loss = None
        self.compiled_metrics: list = []
        self.stop_training = False
        self.history = None
        self.built = False
        for layer in layers or []:
            self.add(layer)

    # --- structure ------------------------------------------------------------
    def add(self, layer):
        """Appends a layer (or a Sequential) to the stack."""
        if isinstance(layer, InputLayer):
            if self._layers:
                raise ValueError("an Input layer can only be the first layer of a Sequential")
            self._input_shape = layer.shape
        elif isinstance(layer, Sequential):
            if layer is self:
                raise ValueError("a model cannot contain itself")
            if not self._layers and layer._input_shape is not None:
                self._input_shape = layer._input_shape
        elif isinstance(layer, Layer):
            if not self._layers and layer._input_shape_arg is not None:
                self._input_shape = layer._input_shape_arg
        else:
            raise TypeError(
                f"Sequential.add expects a fmnistcpp layer, got {type(layer).__name__}; "
                "(Keras layers from another library cannot be mixed in)"
            )
        self._layers.append(layer)
        if self._input_shape is not None:
            self._build_network()

    def pop(self):
        """Removes the last layer."""
        if not self.layers:
            raise TypeError("there is no layer to pop")
        layer = self._layers.pop()
        layer._model = None
        if self._input_shape is not None and self.layers:
            self._build_network()
        else:
            self._network, self.built = None, False
        return layer

    @property
    def layers(self) -> list:
        return [l for l in self._layers if not isinstance(l, InputLayer)]

    def _flat_layers(self) -> list:
        flat = []
        for l in self.layers:
            flat.extend(l._flat_layers() if isinstance(l, Sequential) else [l])
        return flat

    @property
    def input_shape(self):
        return None if self._input_shape is None else (None,) + tuple(self._input_shape)

    @property
    def output_shape(self):
        flat = self._flat_layers()
        if not self.built or not flat:
            raise AttributeError("the model is not built yet: its input shape is unknown")
        return (None,) + tuple(flat[-1].output_shape)

    def build(self, input_shape=None):
        """Builds the model for `input_shape` (with the batch axis, as Keras:
        `model.build((None, 28, 28))`)."""
        if input_shape is not None:
            shape = tuple(input_shape)
            if len(shape) >= 2 and shape[0] is None:
                shape = shape[1:]
            self._input_shape = _check_shape(shape)
        if self._input_shape is None:
            raise ValueError("build needs an input shape, e.g. model.build((None, 28, 28))")
        self._build_network()

    def _build_network(self):
        """(Re)creates the C++ network for the current layers, keeping the
        weights of layers that were already built for the same input."""
        flat = self._flat_layers()
        if not flat:
            return
        kept = [l.get_weights() if l.built else None for l in flat]
        shape = tuple(self._input_shape)
        for i, l in enumerate(flat):
            if not l.built or tuple(l.input_shape) != shape:
                l.build(shape)
                kept[i] = l.get_weights() if l._model is None else l._initial_weights
            shape = l.output_shape
        network = _core.Network(list(self._input_shape))
        offset = 0
        weights = []
        for l, w in zip(flat, kept):
            out = tuple(l._add_to_network(network))
            if out != tuple(l.output_shape):  # Python and C++ must agree on shapes
                raise RuntimeError(f"{l.name}: output shape {out} != {l.output_shape}")
            l._model, l._weight_offset = self, offset
            l._initial_weights = list(w)
            offset += len(w)
            weights.extend(w)
        network.set_weights(weights)
        self._network = network
        self.built = True
        for m in self._nested_models():
            m.built = True
        if self._compile_args is not None:
            self._compile_network()

    def _nested_models(self):
        for l in self.layers:
            if isinstance(l, Sequential):
                yield l
                yield from l._nested_models()

    def _ensure_built(self, x):
        if self.built:
            return
        try:
            shape = np.shape(x)
        except ValueError as e:  # ragged nested lists
            raise ValueError(f"x could not be turned into an array: {e}") from None
        if len(shape) < 2:
            raise ValueError(f"x of shape {shape} has no sample axis; the model's input shape "
                             "is unknown, so give it an Input or input_shape=")
        self._input_shape = tuple(int(d) for d in shape[1:])
        try:
            self._build_network()
        except Exception:  # leave the model as it was: unbuilt, shape unknown
            self._input_shape, self._network, self.built = None, None, False
            raise

    # --- weights ----------------------------------------------------------------
    def get_weights(self) -> list:
        """All weights in Keras's order and layouts (kernel, bias per layer)."""
        if self._network is not None:
            return self._network.get_weights()
        return [w for l in self._flat_layers() for w in l.get_weights()]

    def set_weights(self, weights):
        """Sets all weights; shapes must match get_weights() exactly."""
        if self._network is None:
            raise ValueError("the model is not built yet: give it an input shape first")
        weights = list(weights)
        expected = self._network.get_weights()
        if len(weights) != len(expected):
            raise ValueError(f"set_weights expected {len(expected)} arrays, got {len(weights)}")
        for i, (w, e) in enumerate(zip(weights, expected)):
            if np.shape(w) != e.shape:
                raise ValueError(f"weight {i} has shape {np.shape(w)}, expected {e.shape}")
        arrays = []
        for i, w in enumerate(weights):
            try:
                arrays.append(np.asarray(w, dtype=np.float32))
            except (TypeError, ValueError):
                raise ValueError(f"weight {i} must be a numeric array of shape "
                                 f"{expected[i].shape}") from None
        self._network.set_weights(arrays)

    @property
    def weights(self) -> list:
        return self.get_weights()

    @property
    def trainable_weights(self) -> list:
        return [w for l in self._flat_layers() for w in l.trainable_weights]

    @property
    def non_trainable_weights(self) -> list:
        """BatchNormalization's moving statistics."""
        return [w for l in self._flat_layers() for w in l.non_trainable_weights]

    def _non_trainable_count(self) -> int:
        return int(sum(w.size for w in self.non_trainable_weights))

    def count_params(self) -> int:
        if not self.built:
            raise ValueError("the model is not built yet: its input shape is unknown")
        return int(sum(w.size for w in self.get_weights()))

    def summary(self, line_length=None, positions=None, print_fn=None, **kwargs):
        """Prints Keras's summary table: layer, output shape, params, totals."""
        if not self.built:
            raise ValueError(
                "This model has not yet been built. Build it by giving the first layer an "
                "input_shape or an Input, or call build() / fit() first."
            )
        rows = []
        for l in self.layers:
            if isinstance(l, Sequential):
                rows.append((f"{l.name} (Sequential)", summary_module._shape(l.output_shape[1:]),
                             l.count_params()))
            else:
                rows.extend(summary_module.rows_for([l]))
        non_trainable = self._non_trainable_count()
        text = summary_module.render(self.name, rows, self.count_params() - non_trainable,
                                     self._optimizer_variable_count(), non_trainable)
        (print_fn or print)(text)

    # --- compile ----------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True):
        """Configures training: optimizer, loss and metrics (strings or objects)."""
        for arg, value in (("loss_weights", loss_weights), ("weighted_metrics", weighted_metrics)):
            if value is not None:
                raise NotImplementedError(f"compile({arg}=...) is not supported")
        if loss is None:
            raise ValueError("compile needs a loss, e.g. loss='sparse_categorical_crossentropy'")
        loss_obj = losses.get(loss)
        opt = optimizers.get(optimizer)
        if metrics is None:
            metrics = []
        if isinstance(metrics, (str, metrics_module.Metric)):
            metrics = [metrics]
        if isinstance(metrics, dict):
            raise NotImplementedError("per-output metrics (a dict) are not supported")
        metric_objs = [metrics_module.get(m) for m in metrics]
        for m in metric_objs:
            if m.sparse is not None and m.sparse != loss_obj.sparse:
                want = "integer" if m.sparse else "one-hot"
                have = "integer" if loss_obj.sparse else "one-hot"
                raise ValueError(
                    f"metric {m.name!r} expects {want} labels but loss {loss_obj.name!r} "
                    f"uses {have} labels"
                )
        self.optimizer, self.loss, self.compiled_metrics = opt, loss, metric_objs
        self._loss_obj = loss_obj
        self._compile_args = True
        if self._network is not None:
            self._compile_network()

    def _compile_network(self):
        self._network.compile(
            sparse=self._loss_obj.sparse, from_logits=self._loss_obj.from_logits,
            metric_top_k=[m.top_k for m in self.compiled_metrics],
            weight_l2=self._weight_l2(),
            **self.optimizer._engine_args(),
        )
        self.optimizer._network = self._network

    def _weight_l2(self) -> list:
        """The L2 factor of each weight in get_weights() order: a layer's
        kernel_regularizer on its first weight (the kernel), else 0."""
        factors = [0.0] * int(sum(self._network.layer_param_counts()))
        for l in self._flat_layers():
            reg = getattr(l, "kernel_regularizer", None)
            if reg is not None and l._model is self:
                factors[l._weight_offset] = float(reg.l2)
        return factors

    @property
    def metrics_names(self) -> list:
        return ["loss"] + [m.name for m in self.compiled_metrics]

    def _optimizer_variable_count(self) -> int:
        """Keras counts the optimizer's variables once it has been used:
        iterations and learning rate, plus Adam's m and v or SGD's momentum."""
        if self.optimizer is None or self.optimizer.iterations == 0:
            return 0
        params = self.count_params() - self._non_trainable_count()
        if isinstance(self.optimizer, optimizers.Adam):
            return 2 * params + 2
        if isinstance(self.optimizer, optimizers.RMSprop):  # velocity [+ momentum, average]
            return params * (1 + (self.optimizer.momentum > 0) + self.optimizer.centered) + 2
        return (params if self.optimizer.momentum else 0) + 2

    def _require_compiled(self, what):
        if self._compile_args is None:
            raise RuntimeError(f"You must call compile() before {what}()")

    def _named_logs(self, raw: dict, prefix: str = "") -> dict:
        # Keras 3 orders the logs by name (train keys, then the val_ keys).
        logs = {prefix + m.name: float(v) for m, v in zip(self.compiled_metrics, raw["metrics"])}
        logs[prefix + "loss"] = float(raw["loss"])
        return dict(sorted(logs.items()))

    # --- fit / evaluate / predict ---------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Trains the model; returns a History. Arguments as Keras's fit."""
        for arg, value in (("class_weight", class_weight), ("sample_weight", sample_weight),
                           ("steps_per_epoch", steps_per_epoch),
                           ("validation_steps", validation_steps)):
            if value is not None:
                raise NotImplementedError(f"fit({arg}=...) is not supported")
        if validation_freq != 1:
            raise NotImplementedError("fit(validation_freq != 1) is not supported")
        self._require_compiled("fit")
        verbose = _check_verbose(verbose)
        batch_size = data.check_batch_size(batch_size)
        val_batch_size = data.check_batch_size(validation_batch_size, batch_size)
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}")
        if isinstance(initial_epoch, bool) or not isinstance(initial_epoch, (int, np.integer)) \
                or initial_epoch < 0:
            raise ValueError(f"initial_epoch must be a non-negative integer, got {initial_epoch!r}")
        if not isinstance(validation_split, (int, float)) or not 0.0 <= validation_split < 1.0:
            raise ValueError(f"validation_split must be a float in [0, 1), got {validation_split!r}")
        self._ensure_built(x)
        x = data.as_inputs(x, self._input_shape)
        y = data.as_labels(y, len(x), self._classes(), self._loss_obj.sparse)
        if validation_data is not None:
            x_val, y_val = self._unpack_validation(validation_data)
        elif validation_split:
            # Keras takes the LAST fraction, before any shuffling.
            split_at = int(np.floor(len(x) * (1.0 - validation_split)))
            if split_at == 0 or split_at == len(x):
                raise ValueError(
                    f"validation_split={validation_split} leaves no training or no validation "
                    f"samples out of {len(x)}"
                )
            x, x_val = x[:split_at], x[split_at:]
            y, y_val = y[:split_at], y[split_at:]
        else:
            x_val = y_val = None

        steps = -(-len(x) // batch_size)
        if self.optimizer._python_schedule is not None:
            callbacks = list(callbacks or []) + [_PythonSchedule()]
        cbs = CallbackList(callbacks, self,
                           {"epochs": int(epochs), "steps": steps, "verbose": verbose},
                           add_progbar=verbose != 0)
        self.history = cbs.history
        self.stop_training = False
        progress = self._fit_progress(cbs)
        interval = 0.05 if verbose == 1 else 3600.0
        cbs.on_train_begin()
        epoch_logs = {}
        for epoch in range(int(initial_epoch), int(epochs)):
            cbs.on_epoch_begin(epoch)
            cbs.on_train_batch_begin(0)
            raw = self._network.fit_epoch(
                x, y, batch_size, bool(shuffle), _random.next_seed(), progress, interval,
                cbs.wants_batch_hooks,
            )
            epoch_logs = self._named_logs(raw)
            if x_val is not None:
                raw_val = self._network.evaluate(x_val, y_val, val_batch_size, None)
                epoch_logs.update(self._named_logs(raw_val, "val_"))
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
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

    def _unpack_validation(self, validation_data):
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError("validation_data must be a tuple (x_val, y_val)")
        if len(validation_data) == 3:
            raise NotImplementedError("validation sample weights are not supported")
        x_val = data.as_inputs(validation_data[0], self._input_shape, "validation x")
        y_val = data.as_labels(validation_data[1], len(x_val), self._classes(),
                               self._loss_obj.sparse, "validation y")
        return x_val, y_val

    def _classes(self) -> int:
        return int(np.prod(self._flat_layers()[-1].output_shape))

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """Loss (and metrics) on the given data: a float, or [loss, *metrics],
        or a dict with return_dict=True."""
        if sample_weight is not None or steps is not None:
            raise NotImplementedError("evaluate(sample_weight/steps) is not supported")
        self._require_compiled("evaluate")
        verbose = _check_verbose(verbose)
        batch_size = data.check_batch_size(batch_size)
        self._ensure_built(x)
        x = data.as_inputs(x, self._input_shape)
        y = data.as_labels(y, len(x), self._classes(), self._loss_obj.sparse)
        bar = Progbar(-(-len(x) // batch_size), verbose=verbose) if verbose else None

        def progress(done, total, raw):
            if bar is not None:
                logs = self._named_logs(raw)
                bar.update(done, list(logs.items()), finalize=done == total)
            return False

        logs = self._named_logs(self._network.evaluate(x, y, batch_size, progress))
        if return_dict:
            return logs
        values = [logs["loss"]] + [logs[m.name] for m in self.compiled_metrics]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs for x as a float32 array (N, *output_shape)."""
        if steps is not None:
            raise NotImplementedError("predict(steps=...) is not supported")
        verbose = _check_verbose(verbose)
        batch_size = data.check_batch_size(batch_size)
        self._ensure_built(x)
        x = data.as_inputs(x, self._input_shape)
        bar = Progbar(-(-len(x) // batch_size), verbose=verbose) if verbose else None

        def progress(done, total, raw):
            if bar is not None:
                bar.update(done, finalize=done == total)
            return False

        return self._network.predict(x, batch_size, progress)

    def predict_on_batch(self, x):
        return self.predict(x, batch_size=max(len(x), 1), verbose=0)

    def __call__(self, x, training=False):
        if training:
            raise NotImplementedError("calling a model with training=True is not supported")
        return self.predict(x, batch_size=max(len(x), 1), verbose=0)

    # --- test hooks ---------------------------------------------------------------
    def _loss_and_gradients(self, x, y, training=False, seed=0):
        """(mean loss, grads as get_weights(), d loss / d x) for one batch of
        all of x, computed in C++. For gradient tests."""
        self._require_compiled("_loss_and_gradients")
        self._ensure_built(x)
        x = data.as_inputs(x, self._input_shape)
        y = data.as_labels(y, len(x), self._classes(), self._loss_obj.sparse)
        loss, grads, input_grad = self._network.loss_and_gradients(x, y, training, seed)
        return float(loss), list(grads), input_grad

    def _layer_outputs(self, x):
        """Each layer's output at inference, in order (flattened nesting)."""
        self._ensure_built(x)
        return list(self._network.layer_outputs(data.as_inputs(x, self._input_shape)))

    # --- config / saving ----------------------------------------------------------
    def get_config(self) -> dict:
        from ..layers import serialize

        layers = []
        if self._input_shape is not None:
            layers.append({"class_name": "InputLayer",
                           "config": {"batch_shape": (None,) + tuple(self._input_shape),
                                      "dtype": "float32", "name": f"input_layer"}})
        for l in self.layers:
            if isinstance(l, Sequential):
                layers.append({"class_name": "Sequential", "config": l.get_config()})
            else:
                layers.append(serialize(l))
        return {"name": self.name, "layers": layers}

    @classmethod
    def from_config(cls, config):
        from ..layers import deserialize

        model = cls(name=config.get("name"))
        for spec in config["layers"]:
            if spec["class_name"] == "Sequential":
                model.add(cls.from_config(spec["config"]))
            else:
                model.add(deserialize(spec))
        return model

    def save(self, filepath, overwrite=True, zipped=None, **kwargs):
        """Saves the model to `filepath`: `.keras` (Keras 3's format, which
        real Keras loads) or legacy `.h5`. Architecture, weights and compile
        settings are saved; the optimizer's state is not (see
        `fmnistcpp.saving`). The write is atomic: a failure or Ctrl-C leaves
        any previous file intact."""
        from ..saving import save_model

        if zipped is False:
            raise NotImplementedError("save(zipped=False) is not supported")
        if kwargs:
            raise TypeError(f"save got unexpected keyword argument(s): {', '.join(sorted(kwargs))}")
        save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath, overwrite=True):
        """Saves the weights to a `.weights.h5` file (Keras 3's layout), atomically."""
        from ..saving import save_weights

        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        """Loads weights from a `.weights.h5`, `.keras` or legacy `.h5` file
        into this (built) model; the architecture must match."""
        from ..saving import load_weights

        load_weights(self, filepath, skip_mismatch=skip_mismatch)

    def __repr__(self):
        return f"<Sequential name={self.name}, built={self.built}>"


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
