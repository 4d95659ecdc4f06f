"""The Keras-shaped surface beyond the numbers: building models the ways Keras
allows, callbacks, reproducibility, Ctrl-C, and what happens before compile.
Numeric parity with Keras lives in the test_keras_* files."""

import pickle
import signal
import threading
import _thread

import numpy as np
import pytest

import fmnistcpp as keras
from fmnistcpp import layers


def _data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 28, 28), dtype=np.float32)
    # a learnable rule: the class is the row (of 10 bands) with the largest mean
    y = x[:, :20].reshape(n, 10, -1).mean(axis=2).argmax(axis=1).astype(np.int64)
    return x, y


def _mlp(**kwargs):
    return keras.Sequential([layers.Input((28, 28)), layers.Flatten(),
                             layers.Dense(16, activation="relu"),
                             layers.Dense(10, activation="softmax")], **kwargs)


def _compiled_mlp():
    model = _mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_add_and_list_build_the_same_model():
    keras.utils.set_random_seed(3)
    a = _mlp()
    keras.utils.set_random_seed(3)
    b = keras.Sequential()
    b.add(layers.Flatten(input_shape=(28, 28)))
    b.add(layers.Dense(16, activation="relu"))
    b.add(layers.Dense(10, activation="softmax"))
    assert [w.shape for w in a.get_weights()] == [w.shape for w in b.get_weights()]
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert a.count_params() == b.count_params() == 784 * 16 + 16 + 16 * 10 + 10


def test_nested_sequential_is_one_model():
    inner = keras.Sequential([layers.Dense(16, activation="relu"), layers.Dense(16)])
    model = keras.Sequential([layers.Input((28, 28)), layers.Flatten(), inner,
                              layers.Dense(10, activation="softmax")])
    assert [w.shape for w in model.get_weights()] == [(784, 16), (16,), (16, 16), (16,),
                                                      (16, 10), (10,)]
    # the inner model's layers read their weights from the outer network
    np.testing.assert_array_equal(inner.layers[1].get_weights()[0], model.get_weights()[2])
    model.compile("adam", "sparse_categorical_crossentropy")
    x, y = _data(64)
    before = model.get_weights()[2].copy()
    model.fit(x, y, epochs=1, verbose=0)
    assert not np.array_equal(before, inner.layers[1].get_weights()[0])


def test_model_without_input_shape_builds_on_first_fit():
    model = keras.Sequential([layers.Flatten(), layers.Dense(10, activation="softmax")])
    assert not model.built
    with pytest.raises(ValueError, match="not yet been built"):
        model.summary()
    model.compile("adam", "sparse_categorical_crossentropy")
    x, y = _data(64)
    model.fit(x, y, epochs=1, verbose=0)
    assert model.built and model.input_shape == (None, 28, 28)
    assert model.predict(x[:3], verbose=0).shape == (3, 10)


def test_set_random_seed_makes_fit_bit_reproducible():
    x, y = _data()

    def run():
        keras.utils.set_random_seed(42)
        model = keras.Sequential([layers.Input((28, 28)), layers.Flatten(),
                                  layers.Dense(32, activation="relu"), layers.Dropout(0.3),
                                  layers.Dense(10, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        h = model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=True)
        return h.history, model.get_weights()

    (h1, w1), (h2, w2) = run(), run()
    assert h1 == h2
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)
    # and a different seed really changes the run (the test can fail)
    keras.utils.set_random_seed(43)
    model = _compiled_mlp()
    assert not np.array_equal(model.get_weights()[0], w1[0][:, :16])


def test_fit_learns_and_history_is_plain_and_pickles():
    keras.utils.set_random_seed(0)
    model = _compiled_mlp()
    x, y = _data(512)
    h = model.fit(x, y, batch_size=32, epochs=4, validation_split=0.25, verbose=0)
    assert list(h.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert h.epoch == [0, 1, 2, 3]
    assert h.params == {"epochs": 4, "steps": 12, "verbose": 0}
    assert all(type(v) is float for vs in h.history.values() for v in vs)
    assert h.history["loss"][-1] < h.history["loss"][0]
    restored = pickle.loads(pickle.dumps(h))
    assert restored.history == h.history
    assert model.history is h


def test_evaluate_returns_scalar_list_or_dict():
    model = _compiled_mlp()
    x, y = _data(64)
    loss, acc = model.evaluate(x, y, verbose=0)
    assert 0 <= acc <= 1 and loss > 0
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert logs == {"accuracy": acc, "loss": loss}
    plain = _mlp()
    plain.compile("adam", "sparse_categorical_crossentropy")
    assert isinstance(plain.evaluate(x, y, verbose=0), float)


def test_one_hot_labels_with_acc_metric_name_kept():
    model = _mlp()
    model.compile("sgd", "categorical_crossentropy", metrics=["acc"])
    x, y = _data(64)
    h = model.fit(x, keras.utils.to_categorical(y, 10), epochs=1, verbose=0)
    assert set(h.history) == {"acc", "loss"}


class _Recorder(keras.callbacks.Callback):
    def __init__(self, stop_at_batch=None):
        super().__init__()
        self.events = []
        self.stop_at_batch = stop_at_batch

    def on_train_begin(self, logs=None):
        self.events.append("train_begin")

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(("epoch_begin", epoch))

    def on_train_batch_begin(self, batch, logs=None):
        self.events.append(("batch_begin", batch))

    def on_train_batch_end(self, batch, logs=None):
        self.events.append(("batch_end", batch, sorted(logs)))
        if batch == self.stop_at_batch:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(("epoch_end", epoch, sorted(logs)))

    def on_train_end(self, logs=None):
        self.events.append("train_end")


def test_custom_callback_gets_every_hook_in_order():
    model = _compiled_mlp()
    x, y = _data(64)
    rec = _Recorder()
    model.fit(x, y, batch_size=32, epochs=2, verbose=0, callbacks=[rec])
    keys = ["accuracy", "loss"]
    expected = ["train_begin"]
    for e in range(2):
        expected += [("epoch_begin", e), ("batch_begin", 0), ("batch_end", 0, keys),
                     ("batch_begin", 1), ("batch_end", 1, keys), ("epoch_end", e, keys)]
    assert rec.events == expected + ["train_end"]


def test_stop_training_from_a_batch_hook_stops_at_that_batch():
    model = _compiled_mlp()
    x, y = _data(256)
    rec = _Recorder(stop_at_batch=2)
    h = model.fit(x, y, batch_size=32, epochs=5, verbose=0, callbacks=[rec])
    assert [e for e in rec.events if e[0] == "batch_end"][-1][1] == 2
    assert h.epoch == [0]


def test_early_stopping_restores_the_best_weights():
    keras.utils.set_random_seed(1)
    model = _compiled_mlp()
    x, y = _data(256)
    snapshots = []

    class Snap(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append(self.model.get_weights())

    # monitor the training loss with mode='max': every epoch after the first
    # is "worse", so it stops after `patience` epochs and restores epoch 0.
    stopper = keras.callbacks.EarlyStopping(monitor="loss", mode="max", patience=2,
                                            restore_best_weights=True)
    h = model.fit(x, y, epochs=10, verbose=0, callbacks=[Snap(), stopper])
    assert h.epoch == [0, 1, 2]
    assert stopper.stopped_epoch == 2 and stopper.best_epoch == 0
    for a, b in zip(model.get_weights(), snapshots[0]):
        np.testing.assert_array_equal(a, b)


def test_ctrl_c_stops_between_batches_with_the_model_usable():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([layers.Input((28, 28, 1)), layers.Conv2D(8, 3, activation="relu"),
                              layers.Flatten(), layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = _data(2048)
    x = x[..., None]
    finished = []

    class Count(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            finished.append(epoch)
            if epoch == 0:  # interrupt during the second epoch
                threading.Timer(0.05, _thread.interrupt_main).start()

    # A process started in the background by a non-interactive shell (as CI
    # may start the tests) inherits SIGINT ignored, and then Python installs
    # no handler and interrupt_main() does nothing. Ctrl-C in a terminal or
    # Jupyter has Python's handler; install it for this test.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            model.fit(x, y, batch_size=8, epochs=50, verbose=0, callbacks=[Count()])
    finally:
        signal.signal(signal.SIGINT, previous)
    assert finished and finished[-1] < 49
    assert model.history.epoch == finished  # the finished epochs are kept
    p = model.predict(x[:4], verbose=0)
    assert np.isfinite(p).all() and np.allclose(p.sum(axis=1), 1, atol=1e-5)
    assert all(np.isfinite(w).all() for w in model.get_weights())
    model.fit(x[:64], y[:64], epochs=1, verbose=0)  # and it trains on


def test_summary_prints_keras_table(capsys):
    model = keras.Sequential([layers.Input((28, 28, 1)), layers.Conv2D(8, 3, activation="relu"),
                              layers.MaxPooling2D(), layers.Flatten(),
                              layers.Dense(10, activation="softmax")], name="demo")
    model.summary()
    out = capsys.readouterr().out
    assert 'Model: "demo"' in out
    assert "(None, 26, 26, 8)" in out and "(None, 13, 13, 8)" in out
    assert "│            80 │" in out  # 3*3*1*8 + 8
    assert f"Total params: {model.count_params():,}" in out


def test_to_categorical_matches_keras_semantics():
    out = keras.utils.to_categorical([0, 2, 1], 3)
    np.testing.assert_array_equal(out, np.eye(3, dtype=np.float32)[[0, 2, 1]])
    assert out.dtype == np.float32
    assert keras.utils.to_categorical(np.array([[1], [0]])).shape == (2, 2)
    with pytest.raises(ValueError, match="out of range"):
        keras.utils.to_categorical([3], 3)


def test_calls_before_compile_and_unsupported_options_say_so():
    model = _mlp()
    x, y = _data(8)
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match="Unknown loss"):
        model.compile("adam", "hinge_loss")
    with pytest.raises(ValueError, match="Unknown optimizer"):
        model.compile("adamz", "sparse_categorical_crossentropy")
    with pytest.raises(NotImplementedError, match="adafactor"):
        model.compile("adafactor", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="Unknown activation"):
        layers.Dense(3, activation="gelu2")
    model.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"labels in \[12, 12\], expected in \[0, 10\)"):
        model.fit(x, np.full(8, 12), verbose=0)
    with pytest.raises(ValueError, match="model expects"):
        model.fit(x[:, :27], y, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(x, y, validation_split=1.0, verbose=0)
