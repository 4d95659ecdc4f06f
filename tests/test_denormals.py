"""Denormal (subnormal) floats: flushed to zero inside the engine, as
TensorFlow flushes them in every CPU op, and left alone everywhere else.

TensorFlow runs its kernels under port::ScopedFlushDenormal, so Keras's
numbers are flush-to-zero numbers; fmnistcpp does the same (cpp/denormals.hpp)
in fit, evaluate, predict and the gradient entry points, and restores the
caller's floating-point mode on return and around every Python callback.
Every expected value here is computed, not written down: Keras's output,
NumPy's IEEE result, or zero where flushing must give zero.
"""

import numpy as np
import pytest

import fmnistcpp
import keras

TINY = np.finfo(np.float32).tiny  # smallest normal float32


def numpy_keeps_denormals():
    return np.float32(TINY) * np.float32(0.5) != 0


def one_weight_model(module, weight):
    """x -> x * weight: Dense(1, no bias), one input."""
    model = module.Sequential([module.Input((1,)), module.layers.Dense(1, use_bias=False)])
    model.set_weights([np.array([[weight]], np.float32)])
    return model


def test_numpy_itself_keeps_denormals():
    # The premise of the tests below: in plain NumPy, TINY * 0.5 is a denormal.
    assert numpy_keeps_denormals()


@pytest.mark.parametrize("x", [0.5, 0.25, 1e-3])
def test_predict_flushes_a_denormal_output_like_keras(x):
    xs = np.array([[x]], np.float32)
    ieee = np.float32(TINY) * np.float32(x)
    assert ieee != 0  # NumPy's answer is a nonzero denormal
    ours = one_weight_model(fmnistcpp, TINY).predict(xs, verbose=0)
    theirs = one_weight_model(keras, TINY).predict(xs, verbose=0)
    assert theirs[0, 0] == 0.0  # TensorFlow flushed it
    np.testing.assert_array_equal(ours, theirs)


def test_a_normal_result_is_untouched():
    # Flushing must not touch results in the normal range: 2 * TINY * 0.5 = TINY.
    xs = np.array([[0.5]], np.float32)
    ours = one_weight_model(fmnistcpp, 2 * TINY).predict(xs, verbose=0)
    assert ours[0, 0] == TINY


def classifier(module, kernel):
    """x -> softmax(x @ kernel) over 2 classes, no bias: one input feature."""
    model = module.Sequential([module.Input((1,)),
                               module.layers.Dense(2, activation="softmax", use_bias=False)])
    model.set_weights([np.asarray(kernel, np.float32).reshape(1, 2)])
    return model


def test_the_callers_mode_is_restored_after_every_entry_point():
    model = classifier(fmnistcpp, [0.5, -0.5])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.ones((8, 1), np.float32)
    y = np.zeros(8, np.int32)
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert numpy_keeps_denormals()
    model.evaluate(x, y, verbose=0)
    assert numpy_keeps_denormals()
    model.predict(x, verbose=0)
    assert numpy_keeps_denormals()


def test_callbacks_run_with_the_callers_mode():
    seen = []

    class Probe(fmnistcpp.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(numpy_keeps_denormals())

        def on_epoch_end(self, epoch, logs=None):
            seen.append(numpy_keeps_denormals())

    model = classifier(fmnistcpp, [0.5, -0.5])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x = np.ones((8, 1), np.float32)
    model.fit(x, np.zeros(8, np.int32), epochs=2, batch_size=4, verbose=0,
              callbacks=[Probe()])
    assert len(seen) == 2 * 2 + 2 and all(seen)


def test_an_error_inside_fit_restores_the_mode():
    class Boom(fmnistcpp.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            raise RuntimeError("boom")

    model = classifier(fmnistcpp, [0.5, -0.5])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(RuntimeError, match="boom"):
        model.fit(np.ones((8, 1), np.float32), np.zeros(8, np.int32), epochs=1,
                  batch_size=4, verbose=0, callbacks=[Boom()])
    assert numpy_keeps_denormals()


def test_a_denormal_gradient_is_flushed_in_fit_like_keras():
    # x = 1e-38 is normal, but the kernel's gradient x * (p - y) = -5e-39 is
    # not: flushed (TensorFlow), SGD leaves the 1e-37 weights exactly as they
    # were; with IEEE denormals they would move by 5e-39, a 5% change.
    def train(module):
        model = classifier(module, [1e-37, -1e-37])
        model.compile(optimizer=module.optimizers.SGD(learning_rate=1.0),
                      loss="sparse_categorical_crossentropy")
        model.fit(np.full((1, 1), 1e-38, np.float32), np.zeros(1, np.int32), epochs=1,
                  batch_size=1, verbose=0)
        return model.get_weights()[0]

    ours, theirs = train(fmnistcpp), train(keras)
    np.testing.assert_array_equal(theirs, np.array([[1e-37, -1e-37]], np.float32))
    np.testing.assert_array_equal(ours, theirs)
