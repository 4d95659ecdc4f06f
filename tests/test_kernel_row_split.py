"""Dense's float32 forward pass split by the kernel's rows across the team
(cpp/kernel_row_split.hpp): a tall kernel at a small batch is multiplied in
row slices, one per thread, and the partial products summed. Checked here:
which shapes take that path (a counter the engine keeps), that its output
is x W + b with the activation the primitive would have fused, batches of
every size included, and that training with the loss taking the logits
(the softmax left off) matches a run on one thread."""

import keras as real_keras
import numpy as np
import pytest
import tensorflow as tf

import fmnistcpp as keras
from conftest import copy_weights
from fmnistcpp import _core


@pytest.fixture
def two_threads():
    threads, adaptive = keras.utils.get_num_threads(), keras.utils.get_adaptive_threads()
    keras.utils.set_adaptive_threads(False)  # a busy CI machine must not shrink the team
    keras.utils.set_num_threads(2)
    try:
        yield
    finally:
        keras.utils.set_num_threads(threads)
        keras.utils.set_adaptive_threads(adaptive)


def _reference(x, kernel, bias, activation):
    z = x.astype(np.float64) @ kernel.astype(np.float64)
    if bias is not None:
        z += bias
    if activation == "relu":
        return np.maximum(z, 0)
    if activation == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if activation == "tanh":
        return np.tanh(z)
    if activation == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    return z


def _dense(inputs, units, activation, use_bias, rng):
    model = keras.Sequential([keras.Input((inputs,)),
                              keras.layers.Dense(units, activation=activation, use_bias=use_bias)])
    weights = [rng.standard_normal(w.shape).astype(np.float32) * 0.05 for w in model.get_weights()]
    model.set_weights(weights)
    return model, weights


@pytest.mark.parametrize("inputs,units,activation,use_bias", [
    (785, 64, "relu", True),     # 785 rows: the two slices are 392 and 393 rows
    (784, 128, "sigmoid", False),
    (600, 10, "softmax", True),  # row-wise activation after the sum
    (1000, 33, "tanh", True),
    (512, 7, None, True),
])
def test_tall_kernel_at_small_batch_is_split_and_right(two_threads, inputs, units, activation,
                                                       use_bias):
    rng = np.random.default_rng(inputs)
    model, weights = _dense(inputs, units, activation, use_bias, rng)
    x = rng.random((102, inputs), dtype=np.float32)
    network = model._engine().network
    outputs, splits = [], 0
    # predict runs its input as one batch here: three sizes, the last one odd
    for a, b in ((0, 32), (32, 96), (96, 102)):
        before = _core._kernel_row_split_calls()
        outputs.append(model.predict(x[a:b], batch_size=b - a, verbose=0))
        split = _core._kernel_row_split_calls() - before
        # the rule: a team (a batch of 6 into 7 or 10 units is too little
        # work for one, thread_team.cpp) and k >= 4 x threads x batch
        team = network.layer_teams()[0]
        assert split == int(team > 1 and inputs >= 4 * team * (b - a)), (a, b, team)
        splits += split
    assert splits >= 2  # every shape here splits at batches 32 and 64
    y = np.concatenate(outputs)
    ref = _reference(x, weights[0], weights[1] if use_bias else None, activation)
    # float32 sums of up to 1 000 products of size ~0.05 against float64:
    # each partial sum rounds at about 6e-8 relative, a few 1e-7 in all
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("inputs,batch,threads", [
    (200, 32, 2),   # 200 < 4 x 2 x 32: the partial sums would cost too much
    (784, 32, 1),   # one thread: oneDNN's GEMM as it is
])
def test_short_kernel_or_one_thread_stays_on_onednn(two_threads, inputs, batch, threads):
    keras.utils.set_num_threads(threads)
    rng = np.random.default_rng(1)
    model, weights = _dense(inputs, 16, "relu", True, rng)
    x = rng.random((batch, inputs), dtype=np.float32)
    before = _core._kernel_row_split_calls()
    y = model.predict(x, batch_size=batch, verbose=0)
    assert _core._kernel_row_split_calls() == before
    np.testing.assert_allclose(y, _reference(x, weights[0], weights[1], "relu"),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("units,activation,loss", [
    (4, "sigmoid", "binary_crossentropy"),  # fused as a post-op when not left to the loss
    (10, "softmax", "sparse_categorical_crossentropy"),  # row-wise, never fused
])
def test_training_with_logits_to_the_loss_matches_one_thread(two_threads, units, activation, loss):
    """Flatten -> Dense under a cross-entropy that takes the logits: the
    split path must leave the activation off, as the primitive's post-op is
    left off. Applying it anyway gives another gradient at every step, so
    the weights part by about the learning rate per step, far more than
    the tolerance."""
    rng = np.random.default_rng(2)
    x = rng.random((512, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 512) if units == 10 else rng.integers(0, 2, (512, units))
    weights = {}
    for n in (2, 1):
        keras.utils.set_num_threads(n)
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                                  keras.layers.Dense(units, activation=activation)])
        model.compile(optimizer="adam", loss=loss)
        before = _core._kernel_row_split_calls()
        model.fit(x, y.astype(np.float32), batch_size=32, epochs=1, shuffle=False, verbose=0)
        assert (_core._kernel_row_split_calls() - before > 0) == (n == 2)
        weights[n] = model.get_weights()
    for a, b in zip(weights[2], weights[1]):
        # 16 Adam steps of lr 1e-3 from the same start; the two summation
        # orders differ by float32 round-off per step (as in
        # test_thread_team.py's comparison), a wrong gradient by ~1e-3 a step
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-4)


def test_gradients_match_keras(two_threads):
    """800 -> 48 (relu) -> 10 (softmax) at batch 16: the first layer's
    forward and weight gradient split (800 >= 4 x 2 x 16), the second is
    too little work for a team and stays on one thread."""
    def build(lib):
        return lib.Sequential([lib.Input((800,)), lib.layers.Dense(48, activation="relu"),
                               lib.layers.Dense(10, activation="softmax")])

    real_keras.utils.set_random_seed(3)
    km, fm = build(real_keras), build(keras)
    copy_weights(km, fm)
    fm.compile("adam", "sparse_categorical_crossentropy")
    rng = np.random.default_rng(3)
    x = rng.random((16, 800), dtype=np.float32)
    y = rng.integers(0, 10, 16)
    with tf.GradientTape() as tape:
        kloss = tf.reduce_mean(real_keras.losses.sparse_categorical_crossentropy(y, km(x)))
    kgrads = tape.gradient(kloss, km.trainable_weights)
    before = _core._kernel_row_split_calls()
    floss, fgrads, _ = fm._loss_and_gradients(x, y)
    assert _core._kernel_row_split_calls() - before == 2  # forward and weight gradient
    # float32 on both sides, sums of 800 (forward) and 16 (gradient) terms:
    # round-off ~1e-6 relative; 1e-5 absolute on gradients of order 1e-3-1e-1
    assert abs(floss - float(kloss)) < 1e-5
    for a, b in zip(fgrads, kgrads):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-4, atol=1e-5)
