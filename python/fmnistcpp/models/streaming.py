"""fit, evaluate and predict on data given a batch at a time (see
data_adapters.py): the same callbacks, logs and progress as the array
loops in trainer.py, with one C++ call per batch instead of per epoch.
Arrays get here only with steps_per_epoch / validation_steps / steps, or
next to validation data that is streamed."""

from __future__ import annotations

import numpy as np

from .. import _random
from ..backend import arrays as data
from ..callbacks.callback_list import CallbackList
from ..utils.progbar import Progbar
from . import data_adapters as adapters
from .data_adapters import Arrays, EpochBatches


def wanted(x, validation_data, steps, validation_steps) -> bool:
    """Whether fit / evaluate / predict take the batch-at-a-time path."""
    return adapters.is_stream(x) or adapters.is_stream(validation_data) or \
        steps is not None or validation_steps is not None


def _array_source(model, x, y, sample_weight, class_weight, what="x"):
    xs = model._inputs(x, what)
    n = len(xs[0])
    ys = model._labels(y, n)
    return xs, ys, model._weights(sample_weight, class_weight, ys, n)


def _split(arrays, validation_split):
    """Keras's train_validation_split: the last fraction, before shuffling."""
    if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float)) \
            or not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be a float in [0, 1), got {validation_split!r}")
    xs, ys, sw = arrays
    n = len(xs[0])
    at = int(np.floor(n * (1.0 - validation_split)))
    if at == 0 or at == n:
        raise ValueError(f"validation_split={validation_split} leaves no training or no "
                         f"validation samples out of {n}")
    cut = lambda a, s: None if a is None else (a[s] if isinstance(a, np.ndarray) else
                                               [v[s] for v in a])
    return tuple(cut(a, slice(None, at)) for a in arrays), \
        tuple(cut(a, slice(at, None)) for a in arrays)


def fit(model, x, y, batch_size, epochs, verbose, callbacks, validation_split, validation_data,
        shuffle, class_weight, sample_weight, initial_epoch, steps_per_epoch, validation_steps,
        validation_batch_size, validation_freq):
    from .trainer import _PythonSchedule, _check_verbose

    if validation_freq != 1:
        raise NotImplementedError("fit(validation_freq != 1) is not supported")
    model._require_compiled("fit")
    verbose = _check_verbose(verbose)
    epochs = data.check_count(epochs, "epochs")
    initial_epoch = data.check_count(initial_epoch, "initial_epoch")
    steps_per_epoch = adapters.check_steps(steps_per_epoch, "steps_per_epoch")
    validation_steps = adapters.check_steps(validation_steps, "validation_steps")
    val_arrays = None
    whole = None  # arrays trained a whole epoch per C++ call (no steps_per_epoch)
    if adapters.is_stream(x):
        adapters.check_no_targets(x, y, sample_weight)
        if validation_split and validation_data is None:
            raise ValueError("`validation_split` is only supported for Tensors or NumPy arrays. "
                             f"Found: {type(x).__name__}; pass validation_data instead.")
        train = EpochBatches(x, steps_per_epoch, shuffle, "steps_per_epoch")
        batch_size = data.check_batch_size(batch_size)  # only for array validation data
    else:
        arrays = _array_source(model, x, y, sample_weight, class_weight)
        if batch_size is None and steps_per_epoch:  # Keras's ArrayDataAdapter
            batch_size = -(-len(arrays[0][0]) // steps_per_epoch)
        batch_size = data.check_batch_size(batch_size)
        if validation_split and validation_data is None:
            arrays, val_arrays = _split(arrays, validation_split)
        if steps_per_epoch is None:
            whole = arrays
            train = None
        else:
            train = EpochBatches(Arrays(*arrays, batch_size), steps_per_epoch, shuffle,
                                 "steps_per_epoch")
    val_batch_size = data.check_batch_size(validation_batch_size, batch_size)
    val = None
    if adapters.is_stream(validation_data):
        val = EpochBatches(validation_data, validation_steps, False, "validation_steps",
                           "validation_data")
    elif validation_data is not None:
        val_arrays = model._validation(validation_data)
    if val_arrays is not None and validation_steps is not None:
        val = EpochBatches(Arrays(*val_arrays, val_batch_size), validation_steps, False,
                           "validation_steps", "validation_data")
    if train is not None:
        train.reset()
        adapters.ensure_built(model, train)
    network = model._compiled_network()
    model.optimizer._claim(model)
    if train is not None:
        steps = train.steps or train.num_batches
    else:
        steps = -(-len(whole[0][0]) // min(batch_size, len(whole[0][0])))
    if model.optimizer._python_schedule is not None:
        callbacks = list(callbacks or []) + [_PythonSchedule()]
    cbs = CallbackList(callbacks, model, {"epochs": epochs, "steps": steps, "verbose": verbose},
                       add_progbar=verbose != 0)
    model.history = cbs.history
    model.stop_training = False
    cbs.on_train_begin()
    initial_epoch = getattr(model, "_initial_epoch", None) or initial_epoch
    epoch_logs = {}
    for epoch in range(initial_epoch, epochs):
        cbs.on_epoch_begin(epoch)
        seed = _random.next_seed()
        if train is None:
            cbs.on_train_batch_begin(0)
            raw = network.fit_epoch(whole[0], whole[1], whole[2], batch_size, bool(shuffle), seed,
                                    model._fit_progress(cbs), 0.05 if verbose == 1 else 3600.0,
                                    cbs.wants_batch_hooks)
        else:
            raw = _train_pass(model, network, train, class_weight, seed, cbs)
            if raw is None:  # a one-shot iterator had nothing left
                break
        epoch_logs = model._named_logs(raw)
        if val is not None:
            val.reset()
            epoch_logs.update(model._named_logs(adapters.test_pass(model, network, val), "val_"))
        elif val_arrays is not None:
            raw_val = network.evaluate(*val_arrays, val_batch_size, None)
            epoch_logs.update(model._named_logs(raw_val, "val_"))
        cbs.on_epoch_end(epoch, epoch_logs)
        if model.stop_training or (train is not None and train.exhausted):
            break
    cbs.on_train_end(epoch_logs)
    return model.history


def _train_pass(model, network, train, class_weight, seed, cbs):
    logs = network.begin_stream()
    raw = None
    report = cbs.progbar is not None or cbs.wants_batch_hooks
    for b, batch in enumerate(train.epoch()):
        cbs.on_train_batch_begin(b)
        xs, ys, sw = adapters.convert(model, batch, "x", class_weight)
        raw = network.train_batch(logs, xs, ys, sw, seed, b)
        if report:
            named = model._named_logs(raw)
            cbs.on_progress(b + 1, named)
            cbs.on_train_batch_end(b, named)
        if model.stop_training:
            break
    return raw


def evaluate(model, x, y, batch_size, verbose, sample_weight, steps, return_dict):
    from .trainer import _check_verbose

    model._require_compiled("evaluate")
    verbose = _check_verbose(verbose)
    if adapters.is_stream(x):
        adapters.check_no_targets(x, y, sample_weight)
        batches = EpochBatches(x, steps, False, "steps")
    else:
        xs, ys, sw = _array_source(model, x, y, sample_weight, None)
        bs = batch_size or -(-len(xs[0]) // steps)
        batches = EpochBatches(Arrays(xs, ys, sw, data.check_batch_size(bs)), steps, False,
                               "steps")
    batches.reset()
    adapters.ensure_built(model, batches)
    network = model._compiled_network()
    bar = Progbar(batches.steps or batches.num_batches, verbose=verbose) if verbose else None
    progress = None if bar is None else \
        (lambda done, raw: bar.update(done, list(model._named_logs(raw).items()), finalize=False))
    logs = model._named_logs(adapters.test_pass(model, network, batches, progress))
    if bar is not None:
        bar.update(bar.target, list(logs.items()), finalize=True)
    if return_dict:
        return logs
    values = [logs[name] for name in model.metrics_names]
    return values[0] if len(values) == 1 else values


def predict(model, x, batch_size, verbose, steps):
    from .trainer import _check_verbose

    verbose = _check_verbose(verbose)
    if adapters.is_stream(x):
        batches = EpochBatches(x, steps, False, "steps")
    else:
        xs = model._inputs(x)
        bs = batch_size or -(-len(xs[0]) // steps)
        batches = EpochBatches(Arrays(xs, [], None, data.check_batch_size(bs)), steps, False,
                               "steps")
    adapters.ensure_built(model, batches)
    bar = Progbar(batches.steps or batches.num_batches, verbose=verbose) if verbose else None
    out = adapters.predict_pass(model, batches, None if bar is None else
                                (lambda done: bar.update(done, finalize=False)))
    if bar is not None:
        bar.update(bar.target, finalize=True)
    return out
