"""Sizes at the edge of int64: a batch size past the sample count is one
batch of everything (Keras 3's array adapter makes ceil(n / batch_size) = 1
batch of n samples; before the fix fit(batch_size=2**63-1) overflowed the
step count and trained nothing, reporting loss 0.0), and shapes whose
element count does not fit (huge layers, inputs, reshapes) are a ValueError
naming the shape, never a wrapped size. See cpp/checked_math.hpp.

Does not import Keras/TensorFlow at module level (scripts/sanitize.sh runs
it under ASan); the one Keras comparison imports it inside and is skipped
under the sanitizer only.
"""

import os

import numpy as np
import pytest

import fmnistcpp as keras
from fmnistcpp import _core, layers

RNG = np.random.default_rng(0)
X = RNG.random((100, 12), dtype=np.float32)
Y = RNG.integers(0, 3, 100)
N = len(X)


def _model():
    keras.utils.set_random_seed(7)
    m = keras.Sequential([layers.Input((12,)), layers.Dense(8, activation="relu"),
                          layers.Dense(3, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


class CountBatches(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.batches = 0

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1


def _run(batch_size):
    m = _model()
    counter = CountBatches()
    hist = m.fit(X, Y, batch_size=batch_size, epochs=2, verbose=0, callbacks=[counter])
    return (m, hist.history, counter.batches, m.evaluate(X, Y, batch_size=batch_size, verbose=0),
            m.predict(X, batch_size=batch_size, verbose=0))


# 2**63 - 1 is the largest Keras takes; beyond it Keras fails with an
# unrelated error (TensorFlow's "Invalid value in tensor used for shape" or
# "Python int too large to convert to C long"), fmnistcpp keeps the meaning.
@pytest.mark.parametrize("batch_size", [N + 1, 2**31, 2**62, 2**63 - 1, 2**63, 2**64, 10**30])
def test_batch_size_past_the_sample_count_is_one_batch_of_all(batch_size):
    ref_model, ref_hist, ref_batches, ref_eval, ref_pred = _run(N)
    model, hist, batches, evaluated, predicted = _run(batch_size)
    assert ref_batches == 2  # one batch per epoch
    assert batches == ref_batches
    # The same samples in the same order in one batch: bit-identical.
    assert hist == ref_hist and hist["loss"][0] > 0.1
    for a, b in zip(model.get_weights(), ref_model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert evaluated == ref_eval
    np.testing.assert_array_equal(predicted, ref_pred)


@pytest.mark.parametrize("batch_size", [0, -1, -2**63, -2**64, 2.0, True, "32", None])
def test_bad_batch_sizes_are_value_errors(batch_size):
    m = _model()
    if batch_size is None:  # the default, 32, is fine
        m.fit(X, Y, batch_size=batch_size, verbose=0)
        return
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        m.fit(X, Y, batch_size=batch_size, verbose=0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        m.predict(X, batch_size=batch_size, verbose=0)


@pytest.mark.skipif(bool(os.environ.get("FMNISTCPP_SANITIZED")),
                    reason="TensorFlow does not run under the ASan preload")
def test_largest_batch_size_trains_like_keras():
    import keras as real_keras  # the reference; imported here, see the module docstring

    real_keras.utils.set_random_seed(3)
    km = real_keras.Sequential([real_keras.Input((12,)), real_keras.layers.Dense(8, activation="relu"),
                                real_keras.layers.Dense(3, activation="softmax")])
    fm = _model()
    fm.set_weights(km.get_weights())
    for m in (km, fm):
        m.compile("adam", "sparse_categorical_crossentropy")
    kh = km.fit(X, Y, batch_size=2**63 - 1, epochs=3, shuffle=False, verbose=0).history["loss"]
    fh = fm.fit(X, Y, batch_size=2**63 - 1, epochs=3, shuffle=False, verbose=0).history["loss"]
    # 1e-4: the bound the Keras training parity tests hold losses to.
    np.testing.assert_allclose(fh, kh, rtol=0, atol=1e-4)
    for f, k in zip(fm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(f, k, rtol=0, atol=1e-5)  # three Adam steps of at most 1e-3


# --- shapes the engine must refuse before allocating anything ---------------------------
HUGE = "more than the 2\\*\\*60 elements"


def test_input_whose_size_wraps_int64_is_a_value_error():
    # 2**32 * 2**32 = 2**64 wrapped to 0 elements: Flatten said (0,) before.
    with pytest.raises(ValueError, match=HUGE):
        keras.Sequential([layers.Input((2**32, 2**32)), layers.Flatten(), layers.Dense(3)])


@pytest.mark.parametrize("build", [
    # kernel (4, 2**62): 2**64 elements, which wrapped to an empty weight
    lambda: _core.Network([4]).add_dense(2**62, "linear", False),
    lambda: _core.Network([8, 8, 1]).add_conv2d(2**61, 3, 3, 1, 1, "valid", "linear", True),
    lambda: _core.Network([2**31, 2**31, 4]).add_reshape([]),
    lambda: _core.Network([4]).add_reshape([2**62, 4, 4]),
    lambda: _core.Network([2**61]).add_dense(1, "linear", False),
], ids=["dense-kernel", "conv-kernel", "flatten", "reshape", "dense-input"])
def test_engine_refuses_shapes_past_2_to_the_60(build):
    with pytest.raises(ValueError, match=HUGE):
        build()


def test_engine_refuses_negative_dimensions():
    # (-1, -1) has a product of 1, the size of the input: it passed before.
    with pytest.raises(ValueError, match="negative dimension"):
        _core.Network([1]).add_reshape([-1, -1])


def test_model_still_builds_and_trains_after_refused_layers():
    net = _core.Network([4])
    with pytest.raises(ValueError):
        net.add_dense(2**62, "linear", False)
    assert net.add_dense(3, "softmax", True) == (3,)
    net.compile(True, False, "adam", 0.01, 0.9, 0.999, 1e-7, 0.0, False, [])
    x = RNG.random((10, 4), dtype=np.float32)
    logs = net.fit_epoch(x, np.zeros(10, np.int32), 2**63 - 1, False, 1)
    assert logs["batches"] == 1 and logs["samples"] == 10 and logs["loss"] > 0
