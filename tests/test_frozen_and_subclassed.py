"""Frozen layers (trainable=False, transfer learning) and subclassed models,
against real Keras 3. Tolerances as tests/test_functional.py: forward 1e-5,
two-epoch losses 1e-4."""

import numpy as np
import pytest

import keras

import fmnistcpp
from conftest import copy_weights

RNG = np.random.default_rng(3)
LOSS_ATOL = 1e-4


def base_cnn(lib, name="base"):
    return lib.Sequential([
        lib.Input((12, 12, 1)),
        lib.layers.Conv2D(6, 3, activation="relu"),
        lib.layers.BatchNormalization(),
        lib.layers.MaxPooling2D(),
        lib.layers.Flatten(),
        lib.layers.Dense(16, activation="relu"),
    ], name=name)


def with_head(lib, base):
    inputs = lib.Input((12, 12, 1))
    x = base(inputs, training=False)  # Keras's transfer-learning idiom
    outputs = lib.layers.Dense(10, activation="softmax")(x)
    return lib.Model(inputs, outputs)


def _data(small_data, n=192):
    (x, y), _ = small_data
    return np.ascontiguousarray(x[:n, 8:20, 8:20, :]), y[:n]


def _pretrained_pair(small_data):
    """A base model trained a little in Keras, and its twin here."""
    x, y = _data(small_data)
    keras.utils.set_random_seed(0)
    kbase = base_cnn(keras)
    fbase = base_cnn(fmnistcpp)
    pre = keras.Sequential([kbase, keras.layers.Dense(10, activation="softmax")])
    pre.compile("adam", "sparse_categorical_crossentropy")
    pre.fit(x, y, epochs=1, verbose=0)  # moving statistics away from (0, 1)
    copy_weights(kbase, fbase)
    return kbase, fbase


def test_frozen_base_trains_only_the_head_like_keras(small_data):
    x, y = _data(small_data)
    kbase, fbase = _pretrained_pair(small_data)
    kbase.trainable = False
    fbase.trainable = False
    km, fm = with_head(keras, kbase), with_head(fmnistcpp, fbase)
    copy_weights(km, fm)
    for m, lib in ((km, keras), (fm, fmnistcpp)):
        m.compile(lib.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    assert len(fm.trainable_weights) == len(km.trainable_weights) == 2
    assert len(fm.non_trainable_weights) == len(km.non_trainable_weights)
    base_before = fbase.get_weights()
    kh = km.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    fh = fm.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(fh.history["loss"], kh.history["loss"], atol=LOSS_ATOL)
    assert kh.history["loss"][1] < kh.history["loss"][0]
    for a, b in zip(fbase.get_weights(), base_before):  # nothing in the base moved,
        np.testing.assert_array_equal(a, b)            # not even BN's moving statistics
    for a, b in zip(fm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_fine_tuning_a_base_called_with_training_false_matches_keras(small_data):
    """base.trainable=True, called with training=False: in Keras 3 the pass's
    mode wins (fit trains the BatchNormalization on batch statistics and
    moves its moving statistics); only trainable=False freezes it."""
    x, y = _data(small_data)
    kbase, fbase = _pretrained_pair(small_data)
    km, fm = with_head(keras, kbase), with_head(fmnistcpp, fbase)
    copy_weights(km, fm)
    bn = [l for l in fbase.layers if type(l).__name__ == "BatchNormalization"][0]
    moving_before = [v.numpy() for v in bn.non_trainable_weights]
    for m, lib in ((km, keras), (fm, fmnistcpp)):
        m.compile(lib.optimizers.SGD(0.01), "sparse_categorical_crossentropy")
    kh = km.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    fh = fm.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(fh.history["loss"], kh.history["loss"], atol=LOSS_ATOL)
    moving_after = [v.numpy() for v in bn.non_trainable_weights]
    assert not np.allclose(moving_after[0], moving_before[0])
    kbn = [l for l in kbase.layers if type(l).__name__ == "BatchNormalization"][0]
    for a, b in zip(moving_after, [v.numpy() for v in kbn.non_trainable_weights]):
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_trainable_takes_effect_at_the_next_compile():
    model = fmnistcpp.Sequential([fmnistcpp.Input((4,)), fmnistcpp.layers.Dense(3, name="d1"),
                                  fmnistcpp.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    x, y = RNG.random((16, 4), dtype=np.float32), RNG.integers(0, 2, 16)
    first = model.get_layer("d1")
    first.trainable = False  # reported at once ...
    assert len(model.trainable_weights) == 2
    before = first.get_weights()
    model.fit(x, y, epochs=1, verbose=0)  # ... but the compiled step still trains it (Keras too)
    assert not np.allclose(first.get_weights()[0], before[0])
    model.compile("sgd", "sparse_categorical_crossentropy")
    before = first.get_weights()
    model.fit(x, y, epochs=1, verbose=0)
    np.testing.assert_array_equal(first.get_weights()[0], before[0])


def test_trainable_false_at_construction_and_summary_counts_match_keras():
    def build(lib):
        return lib.Sequential([lib.Input((6,)), lib.layers.Dense(5, trainable=False),
                               lib.layers.BatchNormalization(), lib.layers.Dense(2)])

    km, fm = build(keras), build(fmnistcpp)
    assert [v.trainable for v in fm.weights] == [v.trainable for v in km.weights]
    lines = []
    km.summary(print_fn=lambda s, **kw: lines.append(s))
    f_lines = []
    fm.summary(print_fn=f_lines.append)
    import re

    def totals(text):
        return dict(re.findall(r"(Total|Trainable|Non-trainable) params: ([\d,]+)", text))

    assert totals("\n".join(f_lines)) == totals("\n".join(lines))


# --- subclassed models -------------------------------------------------------------------
def make_net_class(lib):
    class Net(lib.Model):
        def __init__(self):
            super().__init__()
            self.conv = lib.layers.Conv2D(4, 3, activation="relu")
            self.flatten = lib.layers.Flatten()
            self.hidden = lib.layers.Dense(16, activation="relu")
            self.dropout = lib.layers.Dropout(0.3)
            self.out = lib.layers.Dense(10, activation="softmax")

        def call(self, x, training=False):
            x = self.flatten(self.conv(x))
            x = self.hidden(x)
            if training:
                x = self.dropout(x, training=training)
            return self.out(x)

    return Net


def test_subclassed_model_is_traced_and_matches_keras(small_data):
    x, y = _data(small_data, 96)
    km = make_net_class(keras)()
    fm = make_net_class(fmnistcpp)()
    km(x[:1])
    fm.build((None, 12, 12, 1))
    assert [type(l).__name__ for l in fm.layers] == [type(l).__name__ for l in km.layers]
    copy_weights(km, fm)
    np.testing.assert_allclose(fm.predict(x, verbose=0), km.predict(x, verbose=0), atol=1e-5)
    # `if training:` put the dropout in the graph; it acts in fit only
    assert any(type(l).__name__ == "Dropout" for l in fm._engine().leaves)
    a = fm(x[:8], training=True).numpy()
    b = fm(x[:8], training=True).numpy()
    assert not np.allclose(a, b)  # dropout draws new masks
    np.testing.assert_array_equal(fm(x[:8]).numpy(), fm(x[:8]).numpy())
    fm.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    h = fm.fit(x, y, epochs=2, verbose=0)
    assert h.history["loss"][1] < h.history["loss"][0]


def test_subclassed_model_builds_from_its_first_data():
    fm = make_net_class(fmnistcpp)()
    assert not fm.built
    fm.compile("adam", "sparse_categorical_crossentropy")
    fm.fit(RNG.random((8, 12, 12, 1), dtype=np.float32), RNG.integers(0, 10, 8), verbose=0)
    assert fm.built and fm.output_shape == (None, 10)


def test_data_dependent_call_cannot_be_traced():
    class Branchy(fmnistcpp.Model):
        def __init__(self):
            super().__init__()
            self.d = fmnistcpp.layers.Dense(3)

        def call(self, x):
            if x[0, 0] > 0:  # depends on the values
                return self.d(x)
            return x

    with pytest.raises(TypeError, match="cannot be traced"):
        Branchy().predict(np.ones((2, 4)), verbose=0)
