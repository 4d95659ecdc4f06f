"""Gradient checks of the C++ engine's backward pass.

Two independent references for every layer type and both losses:

1. central finite differences of the engine's own loss (`_loss_and_gradients`),
   on a handful of coordinates of every weight tensor and of the input;
2. Keras's gradients (tf.GradientTape through the same model with the same
   weights and the same Keras loss object), compared on EVERY tensor
   (llm.c-style: each gradient tensor vs the reference).
"""

import numpy as np
import pytest
import tensorflow as tf

from conftest import build_pair, compile_pair, copy_weights

# A case: (id, input_shape, layer specs, loss spec, training, dropout seed)
# Losses: a string or (class name, kwargs). The label kind follows from the loss.
SPARSE = "sparse_categorical_crossentropy"
CCE = "categorical_crossentropy"
SPARSE_LOGITS = ("SparseCategoricalCrossentropy", dict(from_logits=True))
CCE_LOGITS = ("CategoricalCrossentropy", dict(from_logits=True))

HEAD = [("Flatten", {}), ("Dense", dict(units=5, activation="softmax"))]


def conv(filters=3, kernel_size=3, **kw):
    return ("Conv2D", dict(filters=filters, kernel_size=kernel_size, **kw))


CASES = [
    # Conv2D: padding, strides, activations, rectangular / even kernels, no bias
    ("conv_valid_s1_relu", (7, 7, 2), [conv(activation="relu")] + HEAD, SPARSE),
    ("conv_same_s1_tanh", (7, 7, 2), [conv(padding="same", activation="tanh")] + HEAD, SPARSE),
    ("conv_valid_s2_sigmoid", (8, 8, 2), [conv(strides=2, activation="sigmoid")] + HEAD, SPARSE),
    ("conv_same_s2_linear", (8, 8, 2),
     [conv(strides=2, padding="same", activation="linear")] + HEAD, SPARSE),
    ("conv_same_even_kernel", (6, 7, 1),
     [conv(kernel_size=(2, 4), padding="same", activation="tanh")] + HEAD, SPARSE),
    ("conv_rect_strides_nobias", (8, 7, 2),
     [conv(kernel_size=(3, 2), strides=(2, 1), use_bias=False, activation="tanh")] + HEAD, SPARSE),
    ("conv_stack", (8, 8, 1),
     [conv(activation="relu"), conv(filters=4, kernel_size=2, activation="tanh")] + HEAD, SPARSE),
    # pooling (random inputs: no ties)
    ("maxpool2", (6, 6, 2), [conv(padding="same", activation="tanh"),
                             ("MaxPooling2D", dict(pool_size=2))] + HEAD, SPARSE),
    ("maxpool3_s2_same", (7, 7, 2), [("MaxPooling2D", dict(pool_size=3, strides=2, padding="same"))]
     + HEAD, SPARSE),
    ("maxpool_on_input", (6, 6, 2), [("MaxPooling2D", dict(pool_size=2))] + HEAD, SPARSE),
    ("avgpool2", (6, 6, 2), [conv(padding="same", activation="tanh"),
                             ("AveragePooling2D", dict(pool_size=2))] + HEAD, SPARSE),
    ("avgpool3_s2_same", (7, 7, 2),
     [("AveragePooling2D", dict(pool_size=3, strides=2, padding="same"))] + HEAD, SPARSE),
    ("avgpool_valid_s1", (6, 6, 2),
     [("AveragePooling2D", dict(pool_size=(2, 3), strides=1))] + HEAD, SPARSE),
    # Dense, each activation (softmax as a hidden activation too)
    ("dense_relu", (12,), [("Dense", dict(units=6, activation="relu")),
                           ("Dense", dict(units=5, activation="softmax"))], SPARSE),
    ("dense_tanh", (12,), [("Dense", dict(units=6, activation="tanh")),
                           ("Dense", dict(units=5, activation="softmax"))], SPARSE),
    ("dense_sigmoid", (12,), [("Dense", dict(units=6, activation="sigmoid")),
                              ("Dense", dict(units=5, activation="softmax"))], SPARSE),
    ("dense_linear", (12,), [("Dense", dict(units=6, activation="linear")),
                             ("Dense", dict(units=5, activation="softmax"))], SPARSE),
    ("dense_softmax_hidden", (12,), [("Dense", dict(units=6, activation="softmax")),
                                     ("Dense", dict(units=5, activation="softmax"))], SPARSE),
    ("dense_nobias", (12,), [("Dense", dict(units=6, activation="tanh", use_bias=False)),
                             ("Dense", dict(units=5, activation="softmax"))], SPARSE),
    # Flatten / Reshape between layers
    ("flatten_reshape", (4, 6), [("Flatten", {}), ("Reshape", dict(target_shape=(3, 4, 2))),
                                 conv(kernel_size=2, activation="tanh")] + HEAD, SPARSE),
    # Activation / Softmax layers
    ("activation_layers", (10,), [("Dense", dict(units=6)), ("Activation", dict(activation="tanh")),
                                  ("Dense", dict(units=6)), ("Activation", dict(activation="relu")),
                                  ("Dense", dict(units=6)),
                                  ("Activation", dict(activation="sigmoid")),
                                  ("Dense", dict(units=5)),
                                  ("Activation", dict(activation="softmax"))], SPARSE),
    ("softmax_layer_out", (10,), [("Dense", dict(units=6, activation="tanh")),
                                  ("Dense", dict(units=5)), ("Softmax", {})], CCE),
    ("softmax_layer_hidden", (4, 4, 2), [("Softmax", {}), ("Flatten", {}),
                                         ("Dense", dict(units=5, activation="softmax"))], SPARSE),
    ("activation_on_conv", (6, 6, 2), [conv(), ("Activation", dict(activation="relu"))] + HEAD,
     SPARSE),
    # losses: softmax output (Keras folds it into logits), from_logits=True on a linear
    # output, a sigmoid output (Keras 3 also takes its pre-sigmoid values as softmax
    # logits), and the probability path (an output with no logits attached: a ReLU of
    # a softmax, which Keras renormalises and clips)
    ("loss_cce_softmax", (10,), [("Dense", dict(units=6, activation="tanh")),
                                 ("Dense", dict(units=5, activation="softmax"))], CCE),
    ("loss_sparse_logits", (10,), [("Dense", dict(units=6, activation="tanh")),
                                   ("Dense", dict(units=5))], SPARSE_LOGITS),
    ("loss_cce_logits", (10,), [("Dense", dict(units=6, activation="tanh")),
                                ("Dense", dict(units=5))], CCE_LOGITS),
    ("loss_softmax_out_from_logits_true", (10,), [("Dense", dict(units=5, activation="softmax"))],
     SPARSE_LOGITS),
    ("loss_cce_sigmoid_output", (10,), [("Dense", dict(units=6, activation="tanh")),
                                        ("Dense", dict(units=5, activation="sigmoid"))], CCE),
    ("loss_sparse_sigmoid_output", (10,), [("Dense", dict(units=6, activation="tanh")),
                                           ("Dense", dict(units=5, activation="sigmoid"))],
     SPARSE),
    ("loss_cce_probabilities", (10,), [("Dense", dict(units=6, activation="tanh")),
                                       ("Dense", dict(units=5, activation="softmax")),
                                       ("Activation", dict(activation="relu"))], CCE),
    ("loss_sparse_probabilities", (10,), [("Dense", dict(units=6, activation="tanh")),
                                          ("Dense", dict(units=5, activation="softmax")),
                                          ("Activation", dict(activation="relu"))], SPARSE),
    # Dropout at inference (identity; its backward must be the identity too)
    ("dropout_inference", (10,), [("Dense", dict(units=8, activation="tanh")),
                                  ("Dropout", dict(rate=0.5)),
                                  ("Dense", dict(units=5, activation="softmax"))], SPARSE),
    ("seed001_like_small", (8, 8, 1), [conv(4, activation="relu"), conv(4, activation="relu"),
                                       ("MaxPooling2D", dict(pool_size=2)),
                                       ("Dropout", dict(rate=0.25)), ("Flatten", {}),
                                       ("Dense", dict(units=8, activation="relu")),
                                       ("Dropout", dict(rate=0.5)),
                                       ("Dense", dict(units=5, activation="softmax"))], CCE),
]
CASE_IDS = [c[0] for c in CASES]
# The models here are tiny: one engine thread (conftest.one_engine_thread).
pytestmark = pytest.mark.usefixtures("one_engine_thread")


N = 3  # batch size: small, so each sample's share of the mean loss is large
CLASSES = 5


def _is_sparse(loss):
    name = loss if isinstance(loss, str) else loss[0]
    return "sparse" in name.lower()


def _data(input_shape, loss, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N,) + tuple(input_shape)).astype(np.float32)
    labels = rng.integers(0, CLASSES, size=N)
    y = labels.astype(np.int32) if _is_sparse(loss) else np.eye(CLASSES, dtype=np.float32)[labels]
    return x, y


def _keras_loss(keras, loss):
    """The Keras loss object compile() would use for this spec."""
    if isinstance(loss, str):
        cls = {SPARSE: keras.losses.SparseCategoricalCrossentropy,
               CCE: keras.losses.CategoricalCrossentropy}[loss]
        return cls()
    return getattr(keras.losses, loss[0])(**loss[1])


def _setup(case, seed=0):
    name, input_shape, specs, loss = case
    km, fm = build_pair(input_shape, specs, seed=seed)
    # Non-zero biases, so a bias bug cannot hide behind Keras's zero init.
    rng = np.random.default_rng(seed + 100)
    weights = [w if w.ndim > 1 else rng.normal(scale=0.1, size=w.shape).astype(np.float32)
               for w in km.get_weights()]
    km.set_weights(weights)
    copy_weights(km, fm)
    compile_pair(km, fm, loss, "sgd", metrics=())
    x, y = _data(input_shape, loss, seed)
    return km, fm, x, y


# --- 1. finite differences -------------------------------------------------------------
# The engine computes in float32, so the loss it returns carries round-off of a few
# ulps (~1e-6 on a loss of order 1). Measured on these models, the difference
# quotient's round-off error is <= 1e-4 at eps = 1e-3 and <= 6e-5 at eps = 1e-2, so a
# coordinate passes at step eps when |fd - g| <= RTOL * max(|fd|, |g|) + 1e-6 / eps.
# RTOL = 1e-2 covers the central difference's truncation error (O(eps^2 * f'''),
# about 1e-4 relative on smooth activations). ReLU and max pooling are piecewise: a
# weight perturbation shifts every pre-activation of a filter, and when one of them
# crosses a kink (or a pooling window's maximum changes) inside +-eps the central
# quotient is off by O(1) percent or more. So each coordinate is tried at eps = 1e-2,
# 3e-3 and 1e-3, centrally and one-sided (a kink on one side leaves the other side's
# quotient clean), and passes if one of them agrees: a switch inside the smallest
# step on both sides is improbable, while a wrong gradient (a missing factor, a
# transposed kernel, a padding offset, a stale mask) disagrees with all of them.
# Checked by mutation: scaling any tensor's engine gradient by 1.05 fails this check
# (except tensors whose every gradient is below ~2e-2, where the Keras comparison
# below is the sharper test). The largest-|g| coordinates of every tensor are always
# among those checked.
EPS_LADDER = (1e-2, 3e-3, 1e-3)
RTOL = 1e-2
NOISE = 1e-6  # round-off of the loss; absolute tolerance = NOISE / eps
N_RANDOM_COORDS = 5
N_TOP_COORDS = 2


def _coords(g, rng):
    flat = np.abs(g).ravel()
    top = list(np.argsort(flat)[-N_TOP_COORDS:])
    rand = list(rng.choice(flat.size, size=min(N_RANDOM_COORDS, flat.size), replace=False))
    return sorted(set(int(i) for i in top + rand))


def _fd_agrees(loss_of, base, i, analytic, loss0):
    """None if a difference quotient of loss_of along coordinate i of base agrees
    with `analytic` (central, else one-sided, at one of the steps), else a
    description of the disagreement."""
    tried = []
    for eps in EPS_LADDER:
        plus, minus = base.copy(), base.copy()
        plus.flat[i] += eps
        minus.flat[i] -= eps
        # the steps actually stored in float32
        hp, hm = float(plus.flat[i]) - float(base.flat[i]), float(base.flat[i]) - float(minus.flat[i])
        lp, lm = loss_of(plus), loss_of(minus)
        central = (lp - lm) / (hp + hm)
        tried.append(f"{central:.6g}@{eps:g}")
        # A kink crossed on one side spoils the central quotient; the quotient of
        # the other side is then clean (its truncation error, O(eps * f''), is
        # <= ~1e-3 relative at the steps used; the noise term doubles).
        for fd, noise in ((central, NOISE / eps), ((lp - loss0) / hp, 2 * NOISE / eps),
                          ((loss0 - lm) / hm, 2 * NOISE / eps)):
            if abs(fd - analytic) <= RTOL * max(abs(fd), abs(analytic)) + noise:
                return None
    return f"central fd={', '.join(tried)} engine={analytic:.6g}"


def _fd_check(fm, x, y, training=False, seed=0, rng_seed=0):
    rng = np.random.default_rng(rng_seed)
    loss0, grads, gx = fm._loss_and_gradients(x, y, training=training, seed=seed)
    assert np.isfinite(loss0) and loss0 > 0
    weights = [np.array(w, dtype=np.float32) for w in fm.get_weights()]
    assert len(grads) == len(weights)
    for g, w in zip(grads, weights):
        assert g.shape == w.shape, "a gradient's shape differs from its weight's"
    assert gx.shape == x.shape

    def loss_at(ws, xx):
        fm.set_weights(ws)
        return fm._loss_and_gradients(xx, y, training=training, seed=seed)[0]

    failures, largest = [], 0.0
    for t, g in enumerate(grads):
        def loss_of(w_t, t=t):
            return loss_at(weights[:t] + [w_t] + weights[t + 1:], x)

        for i in _coords(g, rng):
            largest = max(largest, abs(float(g.flat[i])))
            bad = _fd_agrees(loss_of, weights[t], i, float(g.flat[i]), loss0)
            if bad:
                failures.append(f"weight {t} {np.unravel_index(i, g.shape)}: {bad}")
    for i in _coords(gx, rng):
        largest = max(largest, abs(float(gx.flat[i])))
        bad = _fd_agrees(lambda xx: loss_at(weights, xx), x, i, float(gx.flat[i]), loss0)
        if bad:
            failures.append(f"input {np.unravel_index(i, gx.shape)}: {bad}")
    fm.set_weights(weights)
    assert not failures, "finite differences disagree:\n" + "\n".join(failures)
    # not vacuous: some checked gradient is far above the noise floor
    assert largest > 1e-2


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_finite_differences(case):
    km, fm, x, y = _setup(case)
    _fd_check(fm, x, y, training=False)


@pytest.mark.parametrize("case", [c for c in CASES if "pool" in c[0]], ids=lambda c: c[0])
def test_finite_differences_pooling_training_mode(case):
    # training=True runs the training primitives (max-pool keeps its argmax
    # workspace); without dropout the gradients must be those of inference.
    km, fm, x, y = _setup(case)
    _fd_check(fm, x, y, training=True, seed=3)
    l0, g0, gx0 = fm._loss_and_gradients(x, y, training=False)
    l1, g1, gx1 = fm._loss_and_gradients(x, y, training=True, seed=3)
    assert l0 == pytest.approx(l1, rel=1e-6)
    for a, b in zip(g0 + [gx0], g1 + [gx1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


DROPOUT_CASES = [
    ("dropout_dense", (10,), [("Dense", dict(units=8, activation="tanh")),
                              ("Dropout", dict(rate=0.5)),
                              ("Dense", dict(units=5, activation="softmax"))], SPARSE),
    ("dropout_on_input", (10,), [("Dropout", dict(rate=0.3)),
                                 ("Dense", dict(units=5, activation="softmax"))], CCE),
    ("dropout_conv", (6, 6, 1), [conv(activation="relu"), ("Dropout", dict(rate=0.25)),
                                 ("MaxPooling2D", dict(pool_size=2))] + HEAD, SPARSE),
]


@pytest.mark.parametrize("case", DROPOUT_CASES, ids=[c[0] for c in DROPOUT_CASES])
def test_finite_differences_dropout_fixed_mask(case):
    km, fm, x, y = _setup(case)
    # the same seed gives the same mask, hence the same loss and gradients
    a = fm._loss_and_gradients(x, y, training=True, seed=11)
    b = fm._loss_and_gradients(x, y, training=True, seed=11)
    assert a[0] == b[0]
    for u, v in zip(a[1] + [a[2]], b[1] + [b[2]]):
        np.testing.assert_array_equal(u, v)
    # dropout is active: another seed (another mask) changes the loss, and
    # training differs from inference
    c = fm._loss_and_gradients(x, y, training=True, seed=12)
    d = fm._loss_and_gradients(x, y, training=False)
    assert c[0] != a[0] and d[0] != a[0]
    _fd_check(fm, x, y, training=True, seed=11)


def test_dropout_mask_is_inverted_with_the_right_rate(fmnistcpp):
    # One sample through Dropout -> Dense(linear) -> softmax: the Dense kernel's
    # gradient is h_i * delta_j with h = dropout output and delta = the bias gradient,
    # so h_i = dK[i, 0] / db[0], and h_i / x_i is the mask: 0 or 1 / (1 - rate).
    d, rate = 4000, 0.3
    model = fmnistcpp.Sequential([fmnistcpp.layers.Input((d,)), fmnistcpp.layers.Dropout(rate),
                                  fmnistcpp.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).uniform(0.5, 1.5, size=(1, d)).astype(np.float32)
    y = np.array([1], dtype=np.int32)
    _, (dk, db), gx = model._loss_and_gradients(x, y, training=True, seed=5)
    h = dk[:, 0] / db[0]
    mask = h / x[0]
    kept = np.abs(mask) > 0.5
    np.testing.assert_allclose(mask[kept], 1.0 / (1.0 - rate), rtol=1e-4)
    np.testing.assert_allclose(mask[~kept], 0.0, atol=1e-4)
    # the fraction dropped is `rate` within 4 binomial standard deviations (+-0.029)
    assert abs((~kept).mean() - rate) < 4 * np.sqrt(rate * (1 - rate) / d)
    # and the input gradient is masked by the same positions
    assert np.all(gx[0][~kept] == 0) and np.all(gx[0][kept] != 0)


# --- 2. every gradient tensor vs Keras -------------------------------------------------
# Both sides compute in float32 with different summation orders; relative round-off
# differences are ~1e-6 on these tiny models, so 1e-4 relative / 1e-5 absolute
# (gradients here are of order 1e-3..1) leaves margin but catches any real error.
KERAS_RTOL = 1e-4
KERAS_ATOL = 1e-5


def _keras_gradients(keras, km, loss, x, y):
    loss_obj = _keras_loss(keras, loss)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        out = km(xt, training=False)
        value = loss_obj(y, out)
    grads = tape.gradient(value, km.trainable_variables + [xt])
    return float(value), [np.asarray(g) for g in grads[:-1]], np.asarray(grads[-1])


def assert_gradients_match_tape(keras, km, fm, loss, x, y, label=""):
    """fmnistcpp's loss, weight and input gradients against tf.GradientTape's
    on the same weights, within KERAS_RTOL/KERAS_ATOL (both float32,
    gradients of order 1e-3..1). Returns fmnistcpp's weight gradients."""
    k_loss, k_grads, k_gx = _keras_gradients(keras, km, loss, x, y)
    f_loss, f_grads, f_gx = fm._loss_and_gradients(x, y, training=False)
    assert f_loss == pytest.approx(k_loss, rel=1e-5, abs=1e-6)
    assert [g.shape for g in f_grads] == [g.shape for g in k_grads]
    for i, (f, k) in enumerate(zip(f_grads, k_grads)):
        np.testing.assert_allclose(f, k, rtol=KERAS_RTOL, atol=KERAS_ATOL,
                                   err_msg=f"gradient of weight {i} ({label})")
    np.testing.assert_allclose(f_gx, k_gx, rtol=KERAS_RTOL, atol=KERAS_ATOL,
                               err_msg=f"input gradient ({label})")
    return f_grads


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_gradients_match_keras(case, keras):
    km, fm, x, y = _setup(case)
    assert_gradients_match_tape(keras, km, fm, case[3], x, y, case[0])


def test_inference_gradients_do_not_depend_on_a_previous_training_pass(keras):
    # `_loss_and_gradients(training=False)` must not reuse state (a dropout mask,
    # a max-pool argmax) left by an earlier training-mode pass.
    case = [c for c in CASES if c[0] == "seed001_like_small"][0]
    km, fm, x, y = _setup(case)
    fresh = fm._loss_and_gradients(x, y, training=False)
    fm._loss_and_gradients(x[::-1].copy(), y[::-1].copy(), training=True, seed=7)
    again = fm._loss_and_gradients(x, y, training=False)
    assert fresh[0] == again[0]
    for a, b in zip(fresh[1] + [fresh[2]], again[1] + [again[2]]):
        np.testing.assert_array_equal(a, b)


def test_seed_architecture_gradients_match_keras(keras, small_data):
    # seed 000's CNN at its real size on real images: every tensor vs Keras
    from conftest import SEED_ARCHS, seed_inputs
    arch = SEED_ARCHS["000"]
    km, fm = build_pair(arch["input_shape"], arch["layers"], seed=1)
    compile_pair(km, fm, arch["loss"], "adam", metrics=())
    (x, y), _ = small_data
    x, y = seed_inputs("000", x[:16], y[:16])
    k_loss, k_grads, k_gx = _keras_gradients(keras, km, arch["loss"], x, y)
    f_loss, f_grads, f_gx = fm._loss_and_gradients(x, y)
    assert f_loss == pytest.approx(k_loss, rel=1e-5)
    # Dense(100) sums over 22*22*48 = 23232 inputs: float32 round-off of such sums
    # is ~1e-7 * sqrt(n) relative to the tensor's scale, so the absolute term is
    # 1e-4 of each tensor's largest entry (the relative term stays 1e-4).
    for i, (f, k) in enumerate(zip(f_grads, k_grads)):
        scale = float(np.abs(k).max())
        assert scale > 0
        np.testing.assert_allclose(f, k, rtol=KERAS_RTOL, atol=1e-4 * scale,
                                   err_msg=f"gradient of weight {i}")
    np.testing.assert_allclose(f_gx, k_gx, rtol=KERAS_RTOL, atol=1e-4 * float(np.abs(k_gx).max()))
