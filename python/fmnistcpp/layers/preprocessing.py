"""The preprocessing layers that live in the model: Rescaling and
Normalization (with `adapt`), as Keras 3's."""

from __future__ import annotations

import math
import numbers

import numpy as np

from .layer import Layer


def _plain(value):
    """A Keras scale / offset / mean as the engine takes it: a number, or
    the values of an array in C order (Keras's serialized NumPy arrays too)."""
    if isinstance(value, dict) and value.get("class_name") == "__numpy__":
        value = (value.get("config") or {}).get("value")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Number):
        return float(value)
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return value  # the engine names what it expected
    return float(array) if array.ndim == 0 else tuple(array.ravel().tolist())


class Rescaling(Layer):
    """`inputs * scale + offset`, in training and inference: images of
    0..255 become 0..1 with `Rescaling(1./255)`, or -1..1 with
    `Rescaling(1./127.5, offset=-1)`. `scale` and `offset` are numbers, or
    one value per channel. uint8 images are converted to float32 as they
    are read.

    >>> layer = fmnistcpp.layers.Rescaling(1.0 / 255)
    """

    _engine_kind = "Rescaling"

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self._engine_config = dict(scale=_plain(scale), offset=_plain(offset))


class Normalization(Layer):
    """`(inputs - mean) / sqrt(variance)` (Keras's: the denominator is at
    least 1e-7), with one mean and variance per index of `axis` (counted
    with the batch axis; -1: per channel; None: one pair for everything);
    `invert=True` applies the inverse. The statistics are either given
    (`mean=`, `variance=`, broadcast as Keras broadcasts them; the layer then
    has no weights) or computed from data by `adapt(data)`, as Keras computes
    them, into the non-trainable weights mean, variance and count.

    >>> layer = fmnistcpp.layers.Normalization(axis=None)
    >>> layer.adapt(x_train)
    """

    _engine_kind = "Normalization"

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        self.input_mean = mean
        self.input_variance = variance
        engine = dict(axis=_plain(axis) if axis is not None else None, invert=invert,
                      mean=None, variance=None, mean_shape=None, variance_shape=None)
        for key, value in (("mean", mean), ("variance", variance)):
            if value is not None:
                plain = _plain(value)
                engine[key] = (plain,) if isinstance(plain, float) else plain
                engine[key + "_shape"] = tuple(np.shape(value)) \
                    if not isinstance(value, dict) else None
        if isinstance(axis, int) and not isinstance(axis, bool):
            engine["axis"] = (axis,)
        self._engine_config = engine

    def _make_core(self):
        super()._make_core()
        # The engine's flat copies of the given statistics are not Keras's
        # attributes; `input_mean` / `input_variance` hold them as given.
        for key in ("mean", "variance", "mean_shape", "variance_shape"):
            self.__dict__.pop(key, None)

    def get_config(self):
        config = super().get_config()
        for key in ("mean_shape", "variance_shape"):
            config.pop(key, None)
        config["axis"] = tuple(config["axis"])
        config["mean"] = np.array(self.input_mean).tolist()
        config["variance"] = np.array(self.input_variance).tolist()
        return config

    # --- adapt ----------------------------------------------------------------------
    def _axes(self, ndim):
        """(kept axes, reduced axes) for data of rank ndim, as Keras's build."""
        keep = sorted({a + ndim if a < 0 else a for a in self.axis})
        return tuple(keep), tuple(d for d in range(ndim) if d not in keep)

    def adapt(self, data, batch_size=None, steps=None):
        """Computes the mean and variance of `data` over every axis but the
        kept ones, as Keras does: a NumPy array (or a tensor) in one pass
        with NumPy's mean and var; an iterable of batches (a list of arrays,
        a generator, a `tf.data.Dataset`, a `PyDataset`) batch by batch,
        merged with Keras's running-moments update."""
        if batch_size is not None or steps is not None:
            raise NotImplementedError("Normalization.adapt(batch_size=, steps=) is not "
                                      "supported (Keras 3 has neither); pass batched data")
        if self.input_mean is not None:
            raise ValueError("adapt() cannot change a Normalization layer made with `mean` and "
                             "`variance`; make it without them to learn them from data")
        batches, first = _adapt_batches(data)
        shape = tuple(first.shape)
        if len(shape) < 1:
            raise ValueError(f"adapt() needs batched data (rank >= 1), got shape {shape}")
        if not self.built:
            self._build_for([shape[1:]])
        keep, reduce = self._axes(len(shape))
        built = (None,) + tuple(self._built_shapes[0])
        for d in keep:
            if d < len(shape) and shape[d] != built[d]:
                raise ValueError(f"The layer was built with input_shape={built}, but adapt() is "
                                 f"being called with data with an incompatible shape, "
                                 f"data.shape={shape}")
        if batches is None:  # one array: Keras's np.mean / np.var
            total_mean = np.mean(first, axis=reduce)
            total_var = np.var(first, axis=reduce)
        else:
            total_mean = total_var = None
            total_count = 0
            for batch in batches:
                batch = np.asarray(batch, dtype=np.float32)
                for d in keep:
                    if batch.ndim != len(shape) or batch.shape[d] != built[d]:
                        raise ValueError(f"adapt() yielded a batch with incompatible shape. "
                                         f"Expected {built}, got {batch.shape}.")
                batch_mean = np.mean(batch, axis=reduce)
                batch_var = np.var(batch, axis=reduce)
                batch_count = math.prod(batch.shape[d] for d in reduce) if reduce else 1
                if total_mean is None:
                    total_mean = np.zeros_like(batch_mean)
                    total_var = np.zeros_like(batch_var)
                total_count += batch_count
                batch_weight = float(batch_count) / total_count
                existing_weight = 1.0 - batch_weight
                new_mean = total_mean * existing_weight + batch_mean * batch_weight
                total_var = ((total_var + (total_mean - new_mean) ** 2) * existing_weight
                             + (batch_var + (batch_mean - new_mean) ** 2) * batch_weight)
                total_mean = new_mean
        by_name = {v.name: v for v in self.weights}
        by_name["mean"].assign(np.reshape(total_mean, by_name["mean"].shape))
        by_name["variance"].assign(np.reshape(total_var, by_name["variance"].shape))


def _adapt_batches(data):
    """(an iterator over the remaining batches or None, the first batch):
    None for a single array, which Keras reduces in one NumPy call."""
    if isinstance(data, np.ndarray):
        return None, data
    if hasattr(data, "numpy") and hasattr(data, "shape") and not hasattr(data, "element_spec"):
        return None, np.asarray(data.numpy())  # an eager tensor
    if hasattr(data, "element_spec") and hasattr(data, "as_numpy_iterator"):  # tf.data
        spec = data.element_spec[0] if isinstance(data.element_spec, tuple) else data.element_spec
        if len(spec.shape) == 1:
            data = data.batch(128)  # Keras batches a dataset of scalars
        data = data.as_numpy_iterator()
    elif hasattr(data, "__getitem__") and hasattr(data, "__len__") and \
            not isinstance(data, (list, tuple)) and hasattr(data, "on_epoch_end"):
        data = (data[i] for i in range(len(data)))  # a PyDataset / Sequence
    elif not hasattr(data, "__iter__") or isinstance(data, (str, bytes, dict)):
        raise TypeError(f"Unsupported data type: {type(data)}. `adapt` supports `np.ndarray`, "
                        "tensors, `tf.data.Dataset`, `keras.utils.PyDataset`, and iterables of "
                        "batches (e.g. list, generator).")
    iterator = iter(data)
    first = next(iterator, None)
    if first is None:
        raise ValueError("adapt() received an empty iterable (no batches). Expected at least one "
                         "batch. Pass a non-empty iterable of arrays or tensors, e.g. "
                         "layer.adapt([x]) or layer.adapt(list_of_batches).")
    first = first[0] if isinstance(first, tuple) else first
    if not hasattr(first, "shape"):
        raise TypeError("adapt() expects an iterable that yields arrays or tensors with a "
                        f"`.shape` attribute. Got an element of type {type(first).__name__}.")

    def rest():
        yield first
        for batch in iterator:
            yield batch[0] if isinstance(batch, tuple) else batch

    return rest(), np.asarray(first)
