"""`fmnistcpp.utils.PyDataset` (alias `Sequence`), as keras.utils.PyDataset."""

from __future__ import annotations

import itertools
import warnings


class PyDataset:
    """Base class for a dataset of batches written in Python.

    Implement `__getitem__(index)`, returning one complete batch (`x`,
    `(x,)`, `(x, y)` or `(x, y, sample_weight)`), and `__len__()`, the number
    of batches (not samples). `on_epoch_begin()` / `on_epoch_end()` are
    called around every epoch, as Keras calls them (`on_epoch_end` also
    once before the first epoch of `fit` and `evaluate`), e.g. to reshuffle.
    A dataset without `__len__` (or whose `num_batches` is `None`) is
    infinite: `fit` then needs `steps_per_epoch`.

    Args:
        workers, use_multiprocessing, max_queue_size: accepted for Keras
            compatibility. fmnistcpp produces the batches in order on the
            calling thread (the C++ engine already uses every core for a
            batch), so these are recorded but not used.

    Example:

    ```python
    class Batches(fmnistcpp.utils.PyDataset):
        def __init__(self, x, y, batch_size, **kwargs):
            super().__init__(**kwargs)
            self.x, self.y, self.batch_size = x, y, batch_size

        def __len__(self):
            return math.ceil(len(self.x) / self.batch_size)

        def __getitem__(self, i):
            s = slice(i * self.batch_size, (i + 1) * self.batch_size)
            return self.x[s] / 255.0, self.y[s]

    model.fit(Batches(x_train, y_train, 64), epochs=5)
    ```
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _default(self, name, value):
        if not hasattr(self, name):
            warnings.warn("Your `PyDataset` class should call `super().__init__(**kwargs)` in its "
                          "constructor. `**kwargs` can include `workers`, "
                          "`use_multiprocessing`, `max_queue_size`.", stacklevel=3)
            setattr(self, name, value)
        return getattr(self, name)

    @property
    def workers(self):
        return self._default("_workers", 1)

    @workers.setter
    def workers(self, value):
        self._workers = value

    @property
    def use_multiprocessing(self):
        return self._default("_use_multiprocessing", False)

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = value

    @property
    def max_queue_size(self):
        return self._default("_max_queue_size", 10)

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = value

    def __getitem__(self, index):
        raise NotImplementedError

    @property
    def num_batches(self):
        """Number of batches, or None for an infinite dataset."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError("You need to implement the `num_batches` property:\n\n"
                                  "@property\ndef num_batches(self):\n  return ...")

    def __iter__(self):
        try:
            n = self.num_batches
        except NotImplementedError:
            n = None
        for index in (range(n) if n is not None else itertools.count()):
            yield self[index]

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass


Sequence = PyDataset
