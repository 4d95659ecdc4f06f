"""Backward passes that run in place (cpp/network.cpp, plan_backward): an
activation or dropout layer whose input has no other reader writes the
input's gradient over its output's, and an activation fused into Dense or a
convolution overwrites the gradient it was given. Which nodes do so is
checked on the plan, and the gradients against Keras and against finite
differences, so a slot shared where it must not be shows up as a wrong
number."""

import numpy as np
import pytest
import tensorflow as tf
import keras

import fmnistcpp
from conftest import copy_weights
from test_gradients import _fd_check

RNG = np.random.default_rng(7)


def branched(lib):
    inp = lib.Input((12,))
    s = lib.layers.Activation("sigmoid")(inp)       # reads the model's input
    h = lib.layers.Dense(16)(s)
    h = lib.layers.ReLU()(h)                        # sole reader of Dense's output
    h = lib.layers.Dropout(0.3)(h)                  # sole reader of ReLU's output
    a = lib.layers.Dense(5, activation="relu")(h)   # fused: overwrites its gradient
    b = lib.layers.Activation("tanh")(h)            # h has a second reader: a copy
    b = lib.layers.Dense(5)(b)
    out = lib.layers.Softmax()(lib.layers.Add()([a, b]))  # logits of the loss
    return lib.Model(inp, out)


def twins():
    keras.utils.set_random_seed(3)
    km, fm = branched(keras), branched(fmnistcpp)
    rng = np.random.default_rng(4)  # non-zero biases keep ReLU units off their kink
    km.set_weights([w if w.ndim > 1 else rng.normal(scale=0.1, size=w.shape).astype(np.float32)
                    for w in km.get_weights()])
    copy_weights(km, fm)
    fm.compile("sgd", "sparse_categorical_crossentropy")
    return km, fm


def test_the_plan_shares_a_slot_only_with_a_sole_reader():
    _, fm = twins()
    x = RNG.normal(size=(6, 12)).astype(np.float32)
    y = RNG.integers(0, 5, 6)
    fm._loss_and_gradients(x, y)
    flags = fm._engine().network.gradients_in_place()
    kinds = [type(layer).__name__ for layer in fm.layers if type(layer).__name__ != "InputLayer"]
    in_place = {k for k, f in zip(kinds, flags) if f}
    assert len(flags) == len(kinds)
    by_kind = dict(zip(kinds, flags))
    assert by_kind["ReLU"] and by_kind["Dropout"] and by_kind["Softmax"]
    # the sigmoid reads the caller's input, the tanh a tensor read twice
    assert [f for k, f in zip(kinds, flags) if k == "Activation"] == [False, False]
    assert in_place == {"ReLU", "Dropout", "Softmax"}


def test_gradients_match_keras():
    km, fm = twins()
    x = RNG.normal(size=(9, 12)).astype(np.float32)
    y = RNG.integers(0, 5, 9)
    xt = tf.constant(x)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(xt)
        kloss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, km(xt)))
    kgrads = tape.gradient(kloss, km.trainable_weights)
    kx = tape.gradient(kloss, xt).numpy()
    floss, fgrads, fx = fm._loss_and_gradients(x, y)
    # float32 on both sides over a few layers of width <= 16: round-off is
    # ~1e-7 relative; 1e-5 absolute on gradients of order 0.01-0.1.
    assert abs(floss - float(kloss)) < 1e-5
    for a, b in zip(fgrads, kgrads):
        np.testing.assert_allclose(a, b.numpy(), atol=1e-5)
    np.testing.assert_allclose(fx, kx, atol=1e-5)


def test_gradients_with_an_active_dropout_mask_match_finite_differences():
    # training=True with a fixed seed: the mask is the same at every
    # evaluation of the loss, and it is applied in place in backward
    _, fm = twins()
    x = RNG.normal(size=(6, 12)).astype(np.float32)
    y = RNG.integers(0, 5, 6)
    on = fm._loss_and_gradients(x, y, training=True, seed=5)
    off = fm._loss_and_gradients(x, y, training=False)
    assert on[0] != off[0]  # the mask is active
    _fd_check(fm, x, y, training=True, seed=5)


@pytest.mark.parametrize("activation", ["relu", "elu", "softplus", "tanh"])
def test_a_fused_activation_feeding_two_readers(activation):
    """A convolution's activated output read by two layers: both add into
    one gradient, which the convolution's activation then overwrites."""
    def build(lib):
        inp = lib.Input((7, 7, 2))
        c = lib.layers.Conv2D(3, 3, activation=activation)(inp)
        a = lib.layers.Flatten()(lib.layers.Conv2D(2, 1)(c))
        b = lib.layers.Flatten()(c)
        return lib.Model(inp, lib.layers.Dense(4, activation="softmax")(
            lib.layers.Concatenate()([a, b])))

    keras.utils.set_random_seed(1)
    km, fm = build(keras), build(fmnistcpp)
    copy_weights(km, fm)
    fm.compile("sgd", "sparse_categorical_crossentropy")
    x = RNG.normal(size=(4, 7, 7, 2)).astype(np.float32)
    y = RNG.integers(0, 4, 4)
    with tf.GradientTape() as tape:
        kloss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, km(x)))
    kgrads = tape.gradient(kloss, km.trainable_weights)
    floss, fgrads, _ = fm._loss_and_gradients(x, y)
    assert abs(floss - float(kloss)) < 1e-5  # as above: float32 round-off
    for a, b in zip(fgrads, kgrads):
        np.testing.assert_allclose(a, b.numpy(), atol=1e-5)
