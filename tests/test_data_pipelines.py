"""fit / evaluate / predict on data given a batch at a time: generators,
iterators, PyDataset / Sequence, tf.data, arrays with steps (docs/DATA_PIPELINES.md).

Two kinds of checks:
- fmnistcpp against itself: the same batches as a generator and as arrays
  (shuffle off) give bit-identical weights and logs, since each batch runs the
  same C++ step (Network.train_batch is one iteration of fit_epoch, with the
  same per-batch seed);
- fmnistcpp against Keras 3.15: the same batches per epoch (counted by a
  callback), the same PyDataset hook calls, and History within 1e-4 (the
  issue's training-parity bound; the MLP below sits far above the round-off
  floor measured in test_keras_training_parity.py).
"""

import itertools
import math
import time
import warnings

import numpy as np
import pytest

import fmnistcpp
from conftest import build_pair, compile_pair
from fmnistcpp.preprocessing.image import ImageDataGenerator

TOL = 1e-4  # the training-parity bound, absolute on losses of order 1
SPECS = [("Flatten", {}), ("Dense", dict(units=32, activation="relu")),
         ("Dense", dict(units=10, activation="softmax"))]


@pytest.fixture(scope="module")
def data(small_data):
    (x, y), (xt, yt) = small_data
    return x[:600], y[:600], xt[:200], yt[:200]


def pair(seed=0):
    km, fm = build_pair((28, 28, 1), SPECS, seed=seed)
    return compile_pair(km, fm, "sparse_categorical_crossentropy", ("SGD",
                        dict(learning_rate=0.1)))


def fm_model(seed=0, dropout=False):
    fmnistcpp.utils.set_random_seed(seed)
    layers = [fmnistcpp.Input((28, 28, 1)), fmnistcpp.layers.Flatten(),
              fmnistcpp.layers.Dense(32, activation="relu")]
    if dropout:
        layers.append(fmnistcpp.layers.Dropout(0.3))
    m = fmnistcpp.Sequential(layers + [fmnistcpp.layers.Dense(10, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def batches(x, y, size, sw=None):
    for i in range(0, len(x), size):
        s = slice(i, i + size)
        yield (x[s], y[s]) if sw is None else (x[s], y[s], sw[s])


def endless(x, y, size):
    while True:
        yield from batches(x, y, size)


class Counter(fmnistcpp.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.per_epoch = []

    def on_epoch_begin(self, epoch, logs=None):
        self.per_epoch.append(0)

    def on_train_batch_end(self, batch, logs=None):
        self.per_epoch[-1] += 1


class KerasCounter:  # the same, as a Keras callback
    def __new__(cls):
        import keras

        class C(keras.callbacks.Callback):
            on_train_begin = Counter.on_train_begin
            on_epoch_begin = Counter.on_epoch_begin
            on_train_batch_end = Counter.on_train_batch_end
        return C()


def make_dataset(base, x, y, size, with_len=True):
    class Batches(base):
        def __init__(self):
            super().__init__()
            self.calls = []

        def __getitem__(self, i):
            self.calls.append(i)
            return x[i * size:(i + 1) * size], y[i * size:(i + 1) * size]

        def on_epoch_begin(self):
            self.calls.append("begin")

        def on_epoch_end(self):
            self.calls.append("end")

    if with_len:
        Batches.__len__ = lambda self: math.ceil(len(x) / size)
    return Batches()


# --- fmnistcpp against itself --------------------------------------------------------------
def test_generator_equals_arrays_bit_for_bit(data):
    x, y, _, _ = data
    sw = np.linspace(0.5, 1.5, len(x)).astype("float32")
    a = fm_model(dropout=True)  # dropout: the per-batch seeds must match too
    ha = a.fit(x, y, sample_weight=sw, batch_size=64, epochs=2, shuffle=False, verbose=0)
    b = fm_model(dropout=True)
    gen = itertools.cycle(list(batches(x, y, 64, sw)))
    hb = b.fit(gen, steps_per_epoch=math.ceil(len(x) / 64), epochs=2, verbose=0)
    assert ha.history == hb.history
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_pydataset_equals_arrays_and_predict_evaluate(data):
    x, y, xt, yt = data
    a, b = fm_model(), fm_model()
    ha = a.fit(x, y, batch_size=50, epochs=2, shuffle=False, verbose=0,
               validation_data=(xt, yt))
    hb = b.fit(make_dataset(fmnistcpp.utils.PyDataset, x, y, 50), epochs=2, shuffle=False,
               verbose=0, validation_data=make_dataset(fmnistcpp.utils.Sequence, xt, yt, 40))
    for key in ("loss", "accuracy"):
        assert ha.history[key] == hb.history[key]
    # validation per batch vs in chunks: the same sums in another order
    np.testing.assert_allclose(ha.history["val_loss"], hb.history["val_loss"], rtol=1e-6)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    # arrays are predicted in chunks of 256 rows (passes.cpp), a dataset's
    # batches one by one: on AVX2, oneDNN's sgemm blocks the rows by the
    # batch, so sums of 784 products change order (measured 1.3e-6 relative)
    regrouped = dict(rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(b.predict(make_dataset(fmnistcpp.utils.PyDataset, xt, yt, 64),
                                         verbose=0), b.predict(xt, verbose=0), **regrouped)
    np.testing.assert_allclose(b.evaluate(batches(xt, yt, 30), steps=4, verbose=0),
                               b.evaluate(xt[:120], yt[:120], verbose=0), rtol=1e-6)
    x_only = (xt[i:i + 50] for i in range(0, 200, 50))  # predict takes bare x batches
    np.testing.assert_allclose(b.predict(x_only, steps=4, verbose=0), b.predict(xt, verbose=0),
                               **regrouped)


def test_class_weight_on_a_pydataset_equals_arrays(data):
    x, y, _, _ = data
    cw = {c: 1.0 + c / 10 for c in range(10)}
    a, b = fm_model(), fm_model()
    ha = a.fit(x, y, class_weight=cw, batch_size=100, epochs=1, shuffle=False, verbose=0)
    hb = b.fit(make_dataset(fmnistcpp.utils.PyDataset, x, y, 100), class_weight=cw, epochs=1,
               shuffle=False, verbose=0)
    assert ha.history == hb.history


# --- against Keras -------------------------------------------------------------------------
def test_generator_logs_equal_keras(data):
    x, y, xt, yt = data
    km, fm = pair()
    # (A validation generator is not compared: Keras replays the two batches it
    # peeked at before going on, plus what tf.data's prefetch read ahead.)
    kval = make_dataset(__import__("keras").utils.PyDataset, xt, yt, 50)
    fval = make_dataset(fmnistcpp.utils.PyDataset, xt, yt, 50)
    kh = km.fit(endless(x, y, 32), steps_per_epoch=12, epochs=3, verbose=0,
                validation_data=kval)
    fh = fm.fit(endless(x, y, 32), steps_per_epoch=12, epochs=3, verbose=0,
                validation_data=fval)
    assert sorted(kh.history) == sorted(fh.history)
    for key in kh.history:
        np.testing.assert_allclose(fh.history[key], kh.history[key], atol=TOL, rtol=0,
                                   err_msg=key)


@pytest.mark.parametrize("steps", [None, 4, 15])
def test_pydataset_epochs_hooks_and_logs_equal_keras(data, steps):
    """Keras's EpochIterator: steps < len goes on through the dataset across
    epochs (with a short epoch at its end); steps > len stops at len."""
    import keras

    x, y, _, _ = data
    km, fm = pair()
    kds = make_dataset(keras.utils.PyDataset, x, y, 60)
    fds = make_dataset(fmnistcpp.utils.PyDataset, x, y, 60)
    kc, fc = KerasCounter(), Counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # both warn when the data runs out
        kh = km.fit(kds, steps_per_epoch=steps, epochs=4, shuffle=False, verbose=0,
                    callbacks=[kc])
        fh = fm.fit(fds, steps_per_epoch=steps, epochs=4, shuffle=False, verbose=0,
                    callbacks=[fc])
    assert fc.per_epoch == kc.per_epoch
    hooks = lambda calls: [c for c in calls if isinstance(c, str)]
    assert hooks(fds.calls) == hooks(kds.calls)
    np.testing.assert_allclose(fh.history["loss"], kh.history["loss"], atol=TOL, rtol=0)


def test_keras_own_pydataset_and_tf_dataset_are_accepted(data):
    import keras
    import tensorflow as tf

    x, y, xt, yt = data
    a, b, c = fm_model(), fm_model(), fm_model()
    ha = a.fit(x, y, batch_size=100, epochs=1, shuffle=False, verbose=0)
    hb = b.fit(make_dataset(keras.utils.PyDataset, x, y, 100), epochs=1, shuffle=False,
               verbose=0)
    hc = c.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(100), epochs=1, verbose=0)
    assert ha.history == hb.history
    np.testing.assert_allclose(ha.history["loss"], hc.history["loss"], rtol=1e-6)
    # Keras's own legacy ImageDataGenerator flow is a Keras PyDataset
    legacy = keras.src.legacy.preprocessing.image.ImageDataGenerator()
    out = c.predict(legacy.flow(xt, batch_size=50, shuffle=False), verbose=0)
    np.testing.assert_allclose(out, c.predict(xt, verbose=0), rtol=1e-6)


def test_arrays_with_steps_per_epoch_as_keras(data):
    x, y, xt, yt = data
    km, fm = pair()
    kc, fc = KerasCounter(), Counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kh = km.fit(x, y, batch_size=100, steps_per_epoch=4, epochs=3, shuffle=False, verbose=0,
                    validation_data=(xt, yt), validation_steps=1, callbacks=[kc])
        fh = fm.fit(x, y, batch_size=100, steps_per_epoch=4, epochs=3, shuffle=False, verbose=0,
                    validation_data=(xt, yt), validation_steps=1, callbacks=[fc])
    assert fc.per_epoch == kc.per_epoch == [4, 2, 4]
    for key in kh.history:
        np.testing.assert_allclose(fh.history[key], kh.history[key], atol=TOL, rtol=0,
                                   err_msg=key)
    np.testing.assert_allclose(fm.evaluate(xt, yt, batch_size=50, steps=2, verbose=0),
                               km.evaluate(xt, yt, batch_size=50, steps=2, verbose=0),
                               atol=TOL, rtol=0)


# --- errors, never a hang ------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda x, y: endless(x, y, 32),
    lambda x, y: itertools.cycle([(x[:32], y[:32])]),
    lambda x, y: make_dataset(fmnistcpp.utils.PyDataset, x, y, 32, with_len=False),
], ids=["generator", "cycle", "pydataset-without-len"])
def test_infinite_source_without_steps_is_a_clear_error(data, make):
    x, y, _, _ = data
    m = fm_model()
    t = time.perf_counter()
    for call in (lambda s: m.fit(s, epochs=1, verbose=0), lambda s: m.evaluate(s, verbose=0),
                 lambda s: m.predict(s, verbose=0)):
        with pytest.raises(ValueError, match=r"pass (steps_per_epoch|steps)=<number of "
                                             r"batches>"):
            call(make(x, y))
    with pytest.raises(ValueError, match="validation_steps"):
        m.fit(x, y, epochs=1, verbose=0, validation_data=make(x, y))
    assert time.perf_counter() - t < 30  # raised up front, not after consuming data


def test_validation_generator_goes_on_where_it_was(data):
    x, y, xt, yt = data
    m = fm_model()
    seen = []

    def val():
        for i in itertools.count():
            seen.append(i % 4)
            yield xt[(i % 4) * 50:(i % 4 + 1) * 50], yt[(i % 4) * 50:(i % 4 + 1) * 50]

    h = m.fit(x, y, epochs=2, verbose=0, validation_data=val(), validation_steps=2)
    assert seen == [0, 1, 2, 3]
    # the last epoch validated on batches 2 and 3
    np.testing.assert_allclose(h.history["val_loss"][-1],
                               m.evaluate(xt[100:], yt[100:], verbose=0)[0], rtol=1e-6)


def test_generator_that_runs_out_stops_training_with_keras_warning(data):
    x, y, _, _ = data
    m, c = fm_model(), Counter()
    with pytest.warns(UserWarning, match="ran out of data"):
        h = m.fit(batches(x, y, 100), steps_per_epoch=4, epochs=5, verbose=0, callbacks=[c])
    assert c.per_epoch == [4, 2]
    assert len(h.history["loss"]) == 2


def test_bad_batches_and_arguments(data):
    x, y, _, _ = data
    m = fm_model()
    with pytest.raises(ValueError, match="`y` should not be passed"):
        m.fit(endless(x, y, 32), y, steps_per_epoch=2, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        m.fit(endless(x, y, 32), steps_per_epoch=2, validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match="without targets"):
        m.fit((x[i:i + 10] for i in range(0, 100, 10)), steps_per_epoch=2, verbose=0)
    with pytest.raises(ValueError, match="tuple of 4 items"):
        m.fit(iter([(x[:4], y[:4], None, None)]), steps_per_epoch=1, verbose=0)
    with pytest.raises(ValueError, match="gave a str"):
        m.fit(iter(["not a batch"]), steps_per_epoch=1, verbose=0)
    with pytest.raises(ValueError, match="steps_per_epoch must be a positive integer"):
        m.fit(endless(x, y, 32), steps_per_epoch=0, verbose=0)
    with pytest.raises(ValueError, match=r"the model expects \(samples, 28, 28, 1\)"):
        m.fit(iter([(x[:4, :20], y[:4])]), steps_per_epoch=1, verbose=0)
    with pytest.raises(ValueError, match="gave no batch"):
        fmnistcpp.Sequential([fmnistcpp.layers.Dense(3)]).predict(iter([]), steps=1)


# --- script-style: what public Fashion-MNIST notebooks do ------------------------------------
def test_script_augmented_flow_with_steps_and_validation(full_data):
    """An augmentation notebook: reshape, scale with rescale, fit the generator
    on flow() with steps_per_epoch and a held-out validation set, evaluate."""
    (x, y), (xt, yt) = full_data
    x_train = (x[:3000] * 255).astype("uint8").reshape(-1, 28, 28, 1)
    x_test = xt[:1000]
    gen = ImageDataGenerator(rescale=1.0 / 255, rotation_range=8, width_shift_range=0.08,
                             height_shift_range=0.08, zoom_range=0.08)
    fmnistcpp.utils.set_random_seed(7)
    model = fmnistcpp.Sequential([
        fmnistcpp.layers.Conv2D(16, 3, activation="relu", input_shape=(28, 28, 1)),
        fmnistcpp.layers.MaxPooling2D(), fmnistcpp.layers.Flatten(),
        fmnistcpp.layers.Dense(64, activation="relu"),
        fmnistcpp.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    batch = 64
    history = model.fit(gen.flow(x_train, y[:3000], batch_size=batch),
                        steps_per_epoch=len(x_train) // batch, epochs=3,
                        validation_data=(x_test, yt[:1000]), verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.history["loss"][-1] < history.history["loss"][0]
    loss, acc = model.evaluate(x_test, yt[:1000], verbose=0)
    assert acc > 0.6  # chance is 0.1; 3 short epochs on 3000 images reach ~0.75


def test_script_validation_split_subsets(full_data):
    """validation_split on the generator, subset='training' / 'validation'."""
    (x, y), _ = full_data
    gen = ImageDataGenerator(horizontal_flip=True, validation_split=0.2)
    train = gen.flow(x[:1000], y[:1000], batch_size=100, subset="training", seed=1)
    val = gen.flow(x[:1000], y[:1000], batch_size=100, subset="validation", seed=1)
    assert (train.n, val.n) == (800, 200)
    model = fm_model(3)
    h = model.fit(train, validation_data=val, epochs=2, verbose=0)
    assert len(h.history["val_accuracy"]) == 2
    preds = model.predict(gen.flow(x[:1000], batch_size=100, shuffle=False,
                                   subset="validation"), verbose=0)
    assert preds.shape == (200, 10)


def test_generator_fit_applies_weight_constraints_like_array_fit():
    """One training step serves arrays and batch-at-a-time data (cpp/passes.cpp
    train_step), so constraints apply after each step for both."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(64, 5)).astype(np.float32)
    y = rng.integers(0, 3, 64)

    def model():
        fmnistcpp.utils.set_random_seed(3)
        m = fmnistcpp.Sequential([fmnistcpp.Input((5,)), fmnistcpp.layers.Dense(
            3, activation="softmax", kernel_constraint=fmnistcpp.constraints.NonNeg())])
        m.compile(fmnistcpp.optimizers.SGD(0.5), "sparse_categorical_crossentropy")
        return m

    arrays, streamed = model(), model()
    arrays.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)

    def batches():
        for i in range(0, 64, 16):
            yield x[i:i + 16], y[i:i + 16]

    streamed.fit(batches(), steps_per_epoch=4, epochs=1, verbose=0)
    kernel = streamed.layers[0].get_weights()[0]
    assert (kernel >= 0).all() and (kernel == 0).any()  # the constraint clipped something
    np.testing.assert_array_equal(kernel, arrays.layers[0].get_weights()[0])
