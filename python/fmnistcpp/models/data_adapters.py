"""Data that fit, evaluate and predict take one batch at a time, as Keras 3's
data adapters and EpochIterator take it: Python generators and iterators,
`PyDataset` / `Sequence` (fmnistcpp's or Keras's, so the `flow()` of either
ImageDataGenerator), `tf.data` datasets, and arrays with `steps_per_epoch` /
`validation_steps` / `steps`.

Each batch is checked and converted as an array call's data is
(`_inputs`, `_labels`, `_weights`), then trained by one call into C++
(`Network.train_batch`, cpp/streaming.cpp), which keeps the epoch's loss
sums and metric states across calls: the epoch logs are the same means as
fit on arrays computes.

Where fmnistcpp differs from Keras (docs/DATA_PIPELINES.md): a source of
unknown length (a generator, an iterator, an infinite PyDataset) needs
`steps_per_epoch` / `validation_steps` / `steps`, since a finite generator
cannot be told from an infinite one and Keras would loop forever on the
latter; and a generator that runs out ends training (Keras goes on with the
two batches it peeked at to learn the shapes)."""

from __future__ import annotations

import collections.abc
import itertools
import warnings

import numpy as np

from .. import _random
from ..utils.py_dataset import PyDataset

_OUT_OF_DATA = ("Your input ran out of data; interrupting training. Make sure that your dataset "
                "or generator can generate at least `steps_per_epoch * epochs` batches.")


def _mro_names(x) -> set:
    return {(c.__module__, c.__name__) for c in type(x).__mro__}


def _is_dataset(x) -> bool:
    """fmnistcpp's PyDataset, or Keras's (keras.utils.PyDataset / Sequence,
    which the legacy ImageDataGenerator's iterators are)."""
    if isinstance(x, PyDataset):
        return True
    return hasattr(x, "__getitem__") and any(
        name in ("PyDataset", "Sequence") and module.startswith(("keras", "tensorflow"))
        for module, name in _mro_names(x))


def _is_tf_dataset(x) -> bool:
    return any(name == "DatasetV2" and module.startswith("tensorflow.python.")
               for module, name in _mro_names(x))


def kind(x) -> str | None:
    """'dataset', 'tf', 'iterator', or None for arrays (and anything else,
    which the array path checks and refuses)."""
    if x is None or isinstance(x, (np.ndarray, list, tuple, dict, str, bytes)):
        return None
    if _is_dataset(x):
        return "dataset"
    if _is_tf_dataset(x):
        return "tf"
    if isinstance(x, collections.abc.Iterator):
        return "iterator"
    return None


def is_stream(x) -> bool:
    return kind(x) is not None


def check_steps(steps, arg):
    if steps is None:
        return None
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps <= 0:
        raise ValueError(f"{arg} must be a positive integer or None, got {steps!r}")
    return int(steps)


def check_no_targets(x, y, sample_weight):
    """Keras's error for y / sample_weight next to data that carries them."""
    what = {"dataset": "PyDataset", "tf": "tf.data.Dataset", "iterator": "generator"}[kind(x)]
    for arg, value, description in (("y", y, "the targets"),
                                    ("sample_weights", sample_weight, "the sample weights")):
        if value is not None:
            raise ValueError(f"When providing `x` as a {what}, `{arg}` should not be passed. "
                             f"Instead, {description} should be included as part of the {what}.")


class Arrays:
    """Converted arrays handed out in batches (Keras's ArrayDataAdapter):
    for arrays with steps_per_epoch / validation_steps / steps."""

    def __init__(self, xs, ys, sw, batch_size):
        self.xs, self.ys, self.sw, self.batch_size = xs, ys, sw, batch_size
        self.n = len(xs[0])

    def __len__(self):
        return -(-self.n // self.batch_size)

    def batches(self, shuffle):
        order = _random.generator().permutation(self.n) if shuffle else None
        for start in range(0, self.n, self.batch_size):
            rows = slice(start, start + self.batch_size) if order is None else \
                order[start:start + self.batch_size]
            yield _Converted([a[rows] for a in self.xs], [a[rows] for a in self.ys],
                             None if self.sw is None else self.sw[rows])


class _Converted(tuple):
    """A batch already in the engine's form (xs, ys, sample_weight)."""

    def __new__(cls, xs, ys, sw):
        return super().__new__(cls, (xs, ys, sw))


class EpochBatches:
    """The batches of each epoch from one source, as Keras's EpochIterator
    counts them: `steps` batches an epoch (or the source's length), the
    same iterator going on across epochs while it lasts when `steps` is
    given, a new one when it is used up."""

    def __init__(self, source, steps, shuffle, arg, what="x"):
        self.source = source
        self.kind = "arrays" if isinstance(source, Arrays) else kind(source)
        self.steps = check_steps(steps, arg)
        self.shuffle = bool(shuffle)
        self.what = what
        self.num_batches = self._length()
        if self.steps is None and self.num_batches is None:
            noun = {"iterator": "a generator or iterator", "tf": "a tf.data.Dataset of unknown "
                    "or infinite cardinality", "dataset": "a PyDataset without a length"}[self.kind]
            raise ValueError(
                f"{what} is {noun}: pass {arg}=<number of batches> (fmnistcpp cannot tell "
                f"whether it ends; an infinite one would never finish the epoch). For a "
                f"finite source, give it a length: a PyDataset with __len__.")
        self._current = None
        self._seen = 0
        self._begun = False
        self._peeked = []
        self.exhausted = False  # a one-shot iterator ran out

    def _length(self):
        if self.kind == "arrays":
            return len(self.source)
        if self.kind == "dataset":
            try:
                n = self.source.num_batches
            except (NotImplementedError, AttributeError):
                n = len(self.source) if hasattr(self.source, "__len__") else None
            if n is not None and int(n) <= 0:
                raise ValueError(f"{self.what}: the PyDataset has length {n}; it must hold at "
                                 "least one batch")
            return None if n is None else int(n)
        if self.kind == "tf":
            n = int(self.source.cardinality())
            if n == 0:
                raise ValueError(f"{self.what}: the tf.data.Dataset is empty")
            return n if n > 0 else None
        return None

    def _new_iterator(self):
        if self.kind == "arrays":
            return self.source.batches(self.shuffle)
        if self.kind == "dataset":
            if self.num_batches is None:
                indices = itertools.count()
            elif self.shuffle:  # Keras shuffles the batch order, from fmnistcpp's seed here
                indices = _random.generator().permutation(self.num_batches).tolist()
            else:
                indices = range(self.num_batches)
            return (self.source[i] for i in indices)
        if self.kind == "tf":
            return iter(self.source.as_numpy_iterator())
        return self.source  # a one-shot iterator goes on where it was

    def reset(self):
        """Keras's EpochIterator.reset, before fit and every evaluate."""
        self._current, self._seen, self._begun, self._peeked = None, 0, False, []
        if self.kind == "dataset":
            self.source.on_epoch_end()

    def _begin(self):
        if self._begun:
            return
        self._begun = True
        if self.kind == "dataset":
            self.source.on_epoch_begin()
        if self._current is None or self.steps is None:
            self._current, self._seen = self._new_iterator(), 0

    def _next(self):
        if self._peeked:
            return self._peeked.pop()
        try:
            return next(self._current)
        except StopIteration:
            return None

    def peek(self):
        """The first batch of the coming epoch (given again by epoch()), to
        build the model before training starts."""
        self._begin()
        if not self._peeked:
            batch = self._next()
            if batch is None:
                raise ValueError(f"{self.what} gave no batch: it must yield at least one")
            self._peeked.append(batch)
        return self._peeked[0]

    def epoch(self):
        self._begin()
        for _ in range(self.steps or self.num_batches):
            if self.num_batches and self._seen >= self.num_batches:
                if self.steps:
                    warnings.warn(_OUT_OF_DATA, stacklevel=3)
                break
            batch = self._next()
            if batch is None:
                warnings.warn(_OUT_OF_DATA, stacklevel=3)
                self._current = None
                self.exhausted = self.kind == "iterator"
                break
            self._seen += 1
            yield batch
        if self.num_batches and self._seen >= self.num_batches:
            self._current = None
        self._begun = False
        if self.kind == "dataset":
            self.source.on_epoch_end()


def unpack(batch, what):
    """(x, y, sample_weight) of a batch: x, (x,), (x, y) or (x, y, sw)."""
    if isinstance(batch, list):
        batch = tuple(batch)
    if isinstance(batch, tuple):
        if not 1 <= len(batch) <= 3:
            raise ValueError(f"{what} gave a tuple of {len(batch)} items; a batch is x, (x,), "
                             "(x, y) or (x, y, sample_weight)")
        return batch + (None,) * (3 - len(batch))
    if isinstance(batch, dict) or hasattr(batch, "__array__"):
        return batch, None, None
    raise ValueError(f"{what} gave a {type(batch).__name__}; a batch is x, (x,), (x, y) or "
                     f"(x, y, sample_weight) of arrays")


def ensure_built(model, batches):
    """Builds a model that has not seen data yet from the first batch."""
    if not model._model_built():
        batch = batches.peek()
        model._ensure_built_for(batch[0] if isinstance(batch, _Converted)
                                else unpack(batch, batches.what)[0])


def convert(model, batch, what, class_weight=None, labelled=True):
    """A batch in the engine's form: (input arrays, label arrays, weights)."""
    if isinstance(batch, _Converted):
        return batch
    x, y, sw = unpack(batch, what)
    xs = model._inputs(x, what)
    n = len(xs[0])
    if not labelled:
        return xs, None, None
    if y is None:
        raise ValueError(f"{what} gave a batch without targets: yield (x, y) or "
                         "(x, y, sample_weight) for fit and evaluate")
    ys = model._labels(y, n, what + " y")
    return xs, ys, model._weights(sw, class_weight, ys, n)


def test_pass(model, network, batches, progress=None):
    """evaluate over one epoch of `batches`; the raw logs."""
    logs = network.begin_stream()
    raw = None
    for b, batch in enumerate(batches.epoch()):
        xs, ys, sw = convert(model, batch, batches.what)
        raw = network.test_batch(logs, xs, ys, sw)
        if progress is not None:
            progress(b + 1, raw)
    if raw is None:
        raise ValueError(f"{batches.what} gave no batch to evaluate on")
    return raw


def predict_pass(model, batches, progress=None):
    network = model._engine().network
    outs = []
    for b, batch in enumerate(batches.epoch()):
        xs = batch[0] if isinstance(batch, _Converted) else \
            convert(model, batch, batches.what, labelled=False)[0]
        outs.append(network.predict(xs, len(xs[0])))
        if progress is not None:
            progress(b + 1)
    if not outs:
        raise ValueError(f"{batches.what} gave no batch to predict on")
    return model._pack_outputs([np.concatenate(o) for o in zip(*outs)])
