"""Every loss against real Keras 3.15 on TensorFlow: per-sample values of
the functions and reduced values of the classes (each reduction, with and
without sample weights) on random data with edge values, gradients
through each loss in a small model (finite differences and TensorFlow's
autodiff of the loss Keras's fit would compute), two-epoch training
parity, names and configs, and bad inputs."""

import numpy as np
import pytest
import tensorflow as tf

import keras

import fmnistcpp
from conftest import copy_weights
from test_gradients import _coords, _fd_agrees

RNG = np.random.default_rng(12)
N, K = 48, 7

# Keras's class for each function.
CLASS_OF = {
    "mean_squared_error": "MeanSquaredError", "mean_absolute_error": "MeanAbsoluteError",
    "mean_absolute_percentage_error": "MeanAbsolutePercentageError",
    "mean_squared_logarithmic_error": "MeanSquaredLogarithmicError",
    "cosine_similarity": "CosineSimilarity", "huber": "Huber", "log_cosh": "LogCosh",
    "hinge": "Hinge", "squared_hinge": "SquaredHinge", "categorical_hinge": "CategoricalHinge",
    "kl_divergence": "KLDivergence", "poisson": "Poisson",
    "binary_crossentropy": "BinaryCrossentropy",
    "binary_focal_crossentropy": "BinaryFocalCrossentropy",
    "categorical_crossentropy": "CategoricalCrossentropy",
    "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
}


# --- data with edge values ------------------------------------------------------------
def _regression(shape=(N, K)):
    y = RNG.normal(size=shape).astype(np.float32)
    p = RNG.normal(size=shape).astype(np.float32)
    p[0] = y[0]                       # zero error
    p[1, :2] = y[1, :2] + np.float32(1e-6)  # tiny errors
    y[2] = 0.0                        # mape divides by epsilon, msle clips at epsilon
    p[3] = -p[3] * 50                 # large errors, Huber's linear branch
    return y, p


def _positive():
    y, p = _regression()
    return np.abs(y), np.abs(p) + np.float32(1e-3)


def _probabilities(shape=(N, K), rows_sum_to_one=True):
    z = RNG.normal(size=shape).astype(np.float32) * 2
    p = np.exp(z) / np.exp(z).sum(-1, keepdims=True) if rows_sum_to_one else \
        1 / (1 + np.exp(-z))
    p = p.astype(np.float32)
    p[0, ..., 0] = 0.0                # clipped to epsilon
    p[1, ..., -1] = 1.0               # clipped to 1 - epsilon
    p[2, ..., -1] = 1e-9
    return p


def _one_hot(shape=(N, K)):
    return np.eye(shape[-1], dtype=np.float32)[RNG.integers(0, shape[-1], shape[:-1])]


def _binary(shape=(N, K)):
    return (RNG.random(shape) < 0.4).astype(np.float32)


def _logits(shape=(N, K)):
    z = RNG.normal(size=shape).astype(np.float32) * 3
    z[0, ..., :2] = [40.0, -40.0]     # saturated
    z[1, ..., 0] = 0.0
    return z


def _soft_labels(shape=(N, K)):
    s = RNG.random(shape).astype(np.float32)
    s[3, ..., 0] = 0.0
    return s / s.sum(-1, keepdims=True)


def _pm1():
    return _binary() * 2 - 1, RNG.normal(size=(N, K)).astype(np.float32)


def _mixed_hinge():
    y = RNG.integers(-1, 2, (N, K)).astype(np.float32)  # not all 0/1: not converted
    return y, RNG.normal(size=(N, K)).astype(np.float32)


def _ties():
    y = _one_hot()
    p = RNG.normal(size=(N, K)).astype(np.float32)
    p[:4, :] = 0.5                    # every negative class tied at the maximum
    return y, p


def _cosine():
    y, p = _regression()
    p[4] = 0.0                        # a zero vector: Keras caps 1/|p| at 1/epsilon
    return y, p


# (id, function, kwargs, data, atol). Both sides compute in float32 with
# different exp/log implementations and summation orders, so each term
# carries a few ulps (<= ~3e-7 relative): values agree to 1e-6 relative,
# except where a value is a small difference of terms of order 1
# (log_cosh near 0, categorical_hinge near its margin, KL near 0, a
# saturated logit's cross-entropy), where the same ulps of the terms give
# the atol (1e-6 times the terms' scale).
CASES = [
    ("mse", "mean_squared_error", {}, _regression, 0),
    ("mae", "mean_absolute_error", {}, _regression, 0),
    ("mape", "mean_absolute_percentage_error", {}, _regression, 0),
    ("msle", "mean_squared_logarithmic_error", {}, _regression, 0),
    ("huber", "huber", {}, _regression, 0),
    ("huber_delta", "huber", {"delta": 0.3}, _regression, 0),
    ("log_cosh", "log_cosh", {}, _regression, 1e-6),
    ("poisson", "poisson", {}, _positive, 2e-6),
    ("cosine", "cosine_similarity", {}, _cosine, 1e-6),
    ("hinge_pm1", "hinge", {}, _pm1, 0),
    ("hinge_01", "hinge", {}, lambda: (_binary(), RNG.normal(size=(N, K)).astype(np.float32)),
     0),
    ("hinge_mixed", "hinge", {}, _mixed_hinge, 0),
    ("squared_hinge_01", "squared_hinge", {},
     lambda: (_binary(), RNG.normal(size=(N, K)).astype(np.float32)), 0),
    ("categorical_hinge", "categorical_hinge", {}, _ties, 1e-6),
    ("kl", "kl_divergence", {}, lambda: (_soft_labels(), _probabilities()), 1e-6),
    ("bce", "binary_crossentropy", {},
     lambda: (_binary(), _probabilities(rows_sum_to_one=False)), 0),
    ("bce_logits", "binary_crossentropy", {"from_logits": True},
     lambda: (_binary(), _logits()), 1e-6),
    ("bce_smoothing", "binary_crossentropy", {"label_smoothing": 0.2},
     lambda: (_binary(), _probabilities(rows_sum_to_one=False)), 0),
    ("focal", "binary_focal_crossentropy", {},
     lambda: (_binary(), _probabilities(rows_sum_to_one=False)), 1e-7),
    ("focal_logits_balanced", "binary_focal_crossentropy",
     {"from_logits": True, "apply_class_balancing": True, "alpha": 0.4, "gamma": 1.5},
     lambda: (_binary(), _logits()), 1e-7),
    ("focal_smoothing", "binary_focal_crossentropy", {"label_smoothing": 0.1, "gamma": 3.0},
     lambda: (_binary(), _probabilities(rows_sum_to_one=False)), 1e-7),
    ("cce", "categorical_crossentropy", {},
     lambda: (_one_hot(), _probabilities() * 1.7), 0),  # unnormalised rows: Keras renormalises
    ("cce_soft", "categorical_crossentropy", {}, lambda: (_soft_labels(), _probabilities()), 0),
    ("cce_logits", "categorical_crossentropy", {"from_logits": True},
     lambda: (_one_hot(), _logits()), 1e-5),
    ("cce_smoothing", "categorical_crossentropy", {"label_smoothing": 0.1},
     lambda: (_one_hot(), _probabilities()), 0),
    ("cce_smoothing_logits", "categorical_crossentropy",
     {"label_smoothing": 0.3, "from_logits": True}, lambda: (_one_hot(), _logits()), 1e-5),
    ("scce", "sparse_categorical_crossentropy", {},
     lambda: (RNG.integers(0, K, N), _probabilities()), 0),
    ("scce_column_labels", "sparse_categorical_crossentropy", {},
     lambda: (RNG.integers(0, K, (N, 1)), _probabilities()), 0),
    ("scce_logits", "sparse_categorical_crossentropy", {"from_logits": True},
     lambda: (RNG.integers(0, K, N), _logits()), 1e-5),
    ("scce_ignore", "sparse_categorical_crossentropy", {"ignore_class": 2},
     lambda: (RNG.integers(0, K, N), _probabilities()), 0),
    # outputs with more axes: Keras reduces over the last one only
    ("mse_3d", "mean_squared_error", {}, lambda: _regression((N, 4, 3)), 0),
    ("cce_3d", "categorical_crossentropy", {},
     lambda: (_one_hot((N, 4, 3)), _probabilities((N, 4, 3))), 0),
    ("kl_3d", "kl_divergence", {},
     lambda: (_soft_labels((N, 4, 3)), _probabilities((N, 4, 3))), 1e-6),
    ("scce_3d", "sparse_categorical_crossentropy", {"from_logits": True},
     lambda: (RNG.integers(0, 3, (N, 4)), _logits((N, 4, 3))), 1e-5),
    ("bce_column", "binary_crossentropy", {},  # (N,) labels for an (N, 1) output
     lambda: (_binary((N,)), _probabilities((N, 1), rows_sum_to_one=False)), 0),
]
IDS = [c[0] for c in CASES]
DATA = {c[0]: c[3]() for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_function_values_match_keras(case):
    _, fn, kwargs, _, atol = case
    y, p = DATA[case[0]]
    ours = getattr(fmnistcpp.losses, fn)(y, p, **kwargs)
    if case[0] == "bce_column":
        # Keras's bare function wants equal ranks; its class (and so compile)
        # squeezes or expands first, which ours does for the function too.
        ref = np.asarray(keras.losses.BinaryCrossentropy(reduction=None)(y, p))
    else:
        ref = np.asarray(getattr(keras.losses, fn)(y, p, **kwargs))
    assert ours.shape == ref.shape and ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=atol)
    assert np.isfinite(ref).all() and np.ptp(ref) > 0  # the data exercises the loss


WEIGHTS = RNG.random(N).astype(np.float32) * 2
WEIGHTS[:5] = 0.0


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean",
                                       "mean_with_sample_weight", "none", None])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_class_reductions_match_keras(case, weighted, reduction):
    _, fn, kwargs, _, atol = case
    y, p = DATA[case[0]]
    sw = WEIGHTS if weighted else None
    if weighted and p.ndim > 2:
        sw = np.broadcast_to(WEIGHTS[:, None], p.shape[:-1]).copy()  # Keras needs the values' shape
    ours = getattr(fmnistcpp.losses, CLASS_OF[fn])(reduction=reduction, **kwargs)(y, p, sw)
    ref = np.asarray(getattr(keras.losses, CLASS_OF[fn])(reduction=reduction, **kwargs)(y, p, sw))
    assert np.shape(ours) == ref.shape
    # A sum of N values carries N times the per-value atol.
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=atol * (N if np.ndim(ref) == 0 else 1))


def test_reduction_weights_and_mask_change_the_value():
    # Guards against vacuous reduction tests: the variants differ on this data,
    # except where Keras's rules make them equal (with a mask and no weights,
    # both means divide by the rows the mask keeps).
    y, p = DATA["scce_ignore"]
    assert (y == 2).any()

    def value(r, w, **kw):
        return float(fmnistcpp.losses.SparseCategoricalCrossentropy(reduction=r, **kw)(y, p, w))

    mean, total = value("sum_over_batch_size", None, ignore_class=2), value("sum", None,
                                                                           ignore_class=2)
    assert total == pytest.approx(mean * (y != 2).sum(), rel=1e-6)
    assert value("mean_with_sample_weight", None, ignore_class=2) == pytest.approx(mean)
    assert value("sum_over_batch_size", None) != pytest.approx(mean, rel=1e-3)
    weighted = value("mean_with_sample_weight", WEIGHTS, ignore_class=2)
    assert weighted == pytest.approx(
        value("sum", WEIGHTS, ignore_class=2) / WEIGHTS[y != 2].sum(), rel=1e-6)
    assert weighted != pytest.approx(value("sum_over_batch_size", WEIGHTS, ignore_class=2),
                                     rel=1e-3)


# --- names, objects, configs -------------------------------------------------------------
KERAS_STRINGS = ["mse", "MSE", "mae", "MAE", "mape", "MAPE", "msle", "MSLE", "kld", "KLD", "bce",
                 "BCE"] + list(CLASS_OF) + list(CLASS_OF.values())


@pytest.mark.parametrize("name", KERAS_STRINGS)
def test_string_names_resolve_like_keras(name):
    ref = keras.losses.get(name)
    ours = fmnistcpp.losses.get(name)
    assert isinstance(ours, fmnistcpp.losses.Loss)
    ref_class = type(ref).__name__ if isinstance(ref, keras.losses.Loss) else CLASS_OF[ref.__name__]
    assert type(ours).__name__ == ref_class
    if not isinstance(ref, keras.losses.Loss):  # a function: compile names it as written
        assert ours.name == name


def test_function_objects_are_keras_functions():
    L = fmnistcpp.losses
    assert L.mse is L.MSE is L.mean_squared_error  # Keras 2's module aliases
    assert L.kld is L.kl_divergence and L.logcosh is L.log_cosh
    for fn in CLASS_OF:
        assert getattr(L, fn).__name__ == fn
        assert isinstance(L.get(getattr(L, fn)), getattr(L, CLASS_OF[fn]))
        # Keras's own function objects are accepted by name
        assert isinstance(L.get(getattr(keras.losses, fn)), getattr(L, CLASS_OF[fn]))


CONFIG_CASES = [(c, {}) for c in CLASS_OF.values()] + [
    ("CategoricalCrossentropy", dict(from_logits=True, label_smoothing=0.2, name="cce")),
    ("BinaryCrossentropy", dict(label_smoothing=0.1, reduction="sum")),
    ("BinaryFocalCrossentropy", dict(apply_class_balancing=True, alpha=0.3, gamma=1.0)),
    ("SparseCategoricalCrossentropy", dict(from_logits=True, ignore_class=0)),
    ("MeanSquaredError", dict(reduction="mean_with_sample_weight")),
    ("Huber", dict(delta=2.5)),
]


@pytest.mark.parametrize("cls,kwargs", CONFIG_CASES, ids=[f"{c}-{i}" for i, (c, _) in
                                                        enumerate(CONFIG_CASES)])
def test_get_config_matches_keras(cls, kwargs):
    ours = getattr(fmnistcpp.losses, cls)(**kwargs).get_config()
    ref = getattr(keras.losses, cls)(**kwargs).get_config()
    if cls == "Huber":  # ours keeps delta, which Keras's config drops
        assert ours.pop("delta") == kwargs.get("delta", 1.0)
    assert ours == ref
    again = getattr(fmnistcpp.losses, cls).from_config(ours)
    assert again.get_config() == getattr(fmnistcpp.losses, cls)(**kwargs).get_config() or \
        cls == "Huber"
    # Keras reads our config back (Huber's delta too)
    back = getattr(keras.losses, cls).from_config(getattr(fmnistcpp.losses, cls)(
        **kwargs).get_config())
    assert back.get_config() == ref


# --- gradients through each loss in a small model ----------------------------------------
# (id, loss class, kwargs, output activation, labels). The output activation
# decides, as in Keras, whether a cross-entropy reads the logits.
GRAD_CASES = [
    ("mse", "MeanSquaredError", {}, "linear", "regression"),
    ("mse_softmax_output", "MeanSquaredError", {}, "softmax", "one_hot"),
    ("mae", "MeanAbsoluteError", {}, "linear", "regression"),
    ("mape", "MeanAbsolutePercentageError", {}, "linear", "regression"),
    ("msle", "MeanSquaredLogarithmicError", {}, "sigmoid", "positive"),
    ("huber", "Huber", {"delta": 0.5}, "linear", "regression"),
    ("log_cosh", "LogCosh", {}, "linear", "regression"),
    ("poisson", "Poisson", {}, "sigmoid", "positive"),
    ("cosine", "CosineSimilarity", {}, "linear", "regression"),
    ("hinge", "Hinge", {}, "tanh", "binary"),
    ("squared_hinge", "SquaredHinge", {}, "tanh", "binary"),
    ("categorical_hinge", "CategoricalHinge", {}, "linear", "one_hot"),
    ("kl", "KLDivergence", {}, "softmax", "soft"),
    ("bce_sigmoid", "BinaryCrossentropy", {}, "sigmoid", "binary"),
    ("bce_logits", "BinaryCrossentropy", {"from_logits": True}, "linear", "binary"),
    ("bce_softmax_output", "BinaryCrossentropy", {}, "softmax", "binary"),
    ("bce_tanh_output", "BinaryCrossentropy", {"label_smoothing": 0.2}, "tanh", "binary_half"),
    ("focal_sigmoid", "BinaryFocalCrossentropy", {"apply_class_balancing": True}, "sigmoid",
     "binary"),
    ("focal_logits", "BinaryFocalCrossentropy", {"from_logits": True, "gamma": 1.5}, "linear",
     "binary"),
    ("cce_softmax", "CategoricalCrossentropy", {"label_smoothing": 0.1}, "softmax", "one_hot"),
    ("cce_logits", "CategoricalCrossentropy", {"from_logits": True}, "linear", "soft"),
    ("cce_sigmoid_output", "CategoricalCrossentropy", {}, "sigmoid", "one_hot"),
    ("cce_probabilities", "CategoricalCrossentropy", {}, "relu_plus", "one_hot"),
    ("scce_softmax", "SparseCategoricalCrossentropy", {}, "softmax", "sparse"),
    ("scce_logits", "SparseCategoricalCrossentropy", {"from_logits": True}, "linear", "sparse"),
    ("scce_ignore", "SparseCategoricalCrossentropy", {"ignore_class": 1}, "softmax", "sparse"),
    ("mse_sum", "MeanSquaredError", {"reduction": "sum"}, "linear", "regression"),
    ("cce_mean_with_sample_weight", "CategoricalCrossentropy",
     {"reduction": "mean_with_sample_weight"}, "softmax", "one_hot"),
]


def _labels(kind, n, k, rng):
    if kind == "sparse":
        return rng.integers(0, k, n)
    if kind == "one_hot":
        return np.eye(k, dtype=np.float32)[rng.integers(0, k, n)]
    if kind == "soft":
        s = rng.random((n, k)).astype(np.float32) + 0.1
        return s / s.sum(-1, keepdims=True)
    if kind in ("binary", "binary_half"):
        b = (rng.random((n, k)) < 0.5).astype(np.float32)
        return b * 0.5 if kind == "binary_half" else b
    if kind == "positive":
        return rng.random((n, k)).astype(np.float32)
    return rng.normal(size=(n, k)).astype(np.float32)


def _grad_models(case, k=4, n=16, seed=0):
    _, cls, kwargs, act, labels = case
    rng = np.random.default_rng(seed)
    specs = [("Dense", dict(units=6, activation="tanh"))]
    if act == "relu_plus":  # probabilities that are not a softmax: relu outputs (kept positive)
        specs.append(("Dense", dict(units=k, activation="relu", bias_initializer="ones")))
    else:
        specs.append(("Dense", dict(units=k, activation=act)))

    def build(module):
        return module.Sequential([module.layers.Input((5,))] +
                                 [getattr(module.layers, n_)(**kw) for n_, kw in specs])

    keras.utils.set_random_seed(seed)
    km = build(keras)
    weights = [w if w.ndim > 1 else rng.normal(scale=0.3, size=w.shape).astype(np.float32) + (
        1.0 if act == "relu_plus" and w.shape == (k,) else 0.0) for w in km.get_weights()]
    km.set_weights(weights)
    fm = build(fmnistcpp)
    copy_weights(km, fm)
    fm.compile("sgd", getattr(fmnistcpp.losses, cls)(**kwargs))
    x = rng.normal(size=(n, 5)).astype(np.float32)
    return km, fm, x, _labels(labels, n, k, rng), getattr(keras.losses, cls)(**kwargs)


def _keras_loss_and_gradients(km, loss, x, y):
    # In a tf.function, as Keras's fit runs it: a softmax/sigmoid output then
    # carries its logits, which the cross-entropies read.
    @tf.function
    def run(x, y):
        with tf.GradientTape() as tape:
            tape.watch(x)
            value = loss(y, km(x, training=False))
        return value, tape.gradient(value, km.trainable_variables + [x])

    value, grads = run(tf.constant(x), tf.constant(y))
    return float(value), [np.asarray(g) for g in grads]


@pytest.mark.parametrize("case", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradients_match_keras_and_finite_differences(case):
    km, fm, x, y, k_loss = _grad_models(case)
    f_value, f_grads, f_gx = fm._loss_and_gradients(x, y)
    k_value, k_grads = _keras_loss_and_gradients(km, k_loss, x, y)
    # float32 both sides, different orders: 1e-5 relative on the loss, 1e-4
    # relative / 1e-6 absolute on gradients of order 1e-3..1 (as test_gradients).
    assert f_value == pytest.approx(k_value, rel=1e-5, abs=1e-6)
    for i, (f, k) in enumerate(zip(f_grads + [f_gx], k_grads)):
        np.testing.assert_allclose(f, k, rtol=1e-4, atol=1e-6, err_msg=f"tensor {i}")
    # Finite differences of the engine's own loss (test_gradients's ladder of
    # steps and tolerances), on the output layer's weights and the input.
    rng = np.random.default_rng(1)
    weights = [np.array(w) for w in fm.get_weights()]

    def loss_with(t):
        def f(w_t):
            fm.set_weights(weights[:t] + [w_t] + weights[t + 1:])
            return fm._loss_and_gradients(x, y)[0]
        return f

    failures, largest = [], 0.0
    for t in (2, 3):
        for i in _coords(f_grads[t], rng):
            largest = max(largest, abs(float(f_grads[t].flat[i])))
            bad = _fd_agrees(loss_with(t), weights[t], i, float(f_grads[t].flat[i]), f_value)
            if bad:
                failures.append(f"weight {t}[{i}]: {bad}")
    fm.set_weights(weights)
    for i in _coords(f_gx, rng):
        bad = _fd_agrees(lambda xx: fm._loss_and_gradients(xx, y)[0], x, i, float(f_gx.flat[i]),
                         f_value)
        if bad:
            failures.append(f"input[{i}]: {bad}")
    assert not failures, "\n".join(failures)
    assert largest > 1e-3  # not vacuous


# --- training parity ---------------------------------------------------------------------
# Two epochs from the same weights, shuffle=False, on real images; the
# losses in History within 1e-4 (the bound; an MLP's round-off
# spread is ~1e-6, see test_keras_training_parity), metrics within 2
# samples' worth of a flip or 1e-5 for continuous ones.
def _parity(small_data, out_units, out_act, loss, labels_of, metrics=(), n=1000):
    (x, y), (xt, yt) = small_data
    x, xt = x[:n].reshape(n, -1), xt[:500].reshape(500, -1)
    specs = [("Dense", dict(units=32, activation="relu")),
             ("Dense", dict(units=out_units, activation=out_act))]
    keras.utils.set_random_seed(3)
    fmnistcpp.utils.set_random_seed(3)
    km = keras.Sequential([keras.layers.Input((784,))] +
                          [getattr(keras.layers, a)(**kw) for a, kw in specs])
    fm = fmnistcpp.Sequential([fmnistcpp.layers.Input((784,))] +
                              [getattr(fmnistcpp.layers, a)(**kw) for a, kw in specs])
    copy_weights(km, fm)
    for model, module in ((km, keras), (fm, fmnistcpp)):
        model.compile(module.optimizers.Adam(1e-3), loss(module),
                      metrics=[m(module) if callable(m) else m for m in metrics])
    ys, yv = labels_of(y[:n]), labels_of(yt[:500])
    kh = km.fit(x, ys, epochs=2, batch_size=64, shuffle=False, verbose=0,
                validation_data=(xt, yv))
    fh = fm.fit(x, ys, epochs=2, batch_size=64, shuffle=False, verbose=0,
                validation_data=(xt, yv))
    assert set(fh.history) == set(kh.history)
    for key, ref in kh.history.items():
        atol = 1e-4 if key.endswith("loss") else (2.0 / 500 if "accuracy" in key else 1e-5)
        np.testing.assert_allclose(fh.history[key], ref, rtol=0, atol=atol, err_msg=key)
    assert kh.history["loss"][1] < kh.history["loss"][0]  # it trained
    return kh, fh


def test_training_parity_mse_regression_head(small_data):
    # Regress the class index scaled to [0, 1] (a 1-unit linear head).
    _parity(small_data, 1, "linear", lambda m: "mse", lambda y: (y / 9.0).astype(np.float32),
            metrics=("mae", lambda m: m.metrics.RootMeanSquaredError()))


def test_training_parity_binary_crossentropy_footwear(small_data):
    # Is it footwear (sandal, sneaker, ankle boot)? A sigmoid head; Keras reads its logits.
    _parity(small_data, 1, "sigmoid", lambda m: "binary_crossentropy",
            lambda y: np.isin(y, [5, 7, 9]).astype(np.float32),
            metrics=("accuracy", lambda m: m.metrics.AUC(), lambda m: m.metrics.Precision()))


def test_training_parity_label_smoothing(small_data):
    _parity(small_data, 10, "softmax",
            lambda m: m.losses.CategoricalCrossentropy(label_smoothing=0.1),
            lambda y: keras.utils.to_categorical(y, 10).astype(np.float32),
            metrics=("accuracy",))


@pytest.mark.parametrize("loss", ["huber", "kl_divergence", "categorical_hinge", "poisson"])
def test_training_parity_other_losses(small_data, loss):
    act = {"huber": "linear", "categorical_hinge": "linear"}.get(loss, "softmax")
    _parity(small_data, 10, act, lambda m: loss,
            lambda y: keras.utils.to_categorical(y, 10).astype(np.float32), n=640)


# --- bad inputs ---------------------------------------------------------------------------
def _model(units=10, act="softmax"):
    return fmnistcpp.Sequential([fmnistcpp.layers.Input((4,)),
                                 fmnistcpp.layers.Dense(units, activation=act)])


X4 = RNG.random((8, 4)).astype(np.float32)

BAD = [
    ("mse_labels_wrong_width", lambda: _fit("mse", np.zeros((8, 3))), ValueError,
     [r"mean_squared_error expects labels of shape \(8, 10\)", r"\(8, 3\)"]),
    ("mse_integer_labels_for_vector", lambda: _fit("mse", np.zeros(8)), ValueError,
     [r"\(8, 10\)", r"\(8,\)"]),
    ("bce_two_columns_for_one_unit", lambda: _fit("binary_crossentropy", np.zeros((8, 2)), 1,
                                                  "sigmoid"), ValueError,
     [r"binary_crossentropy", r"\(8, 1\)", r"\(8, 2\)"]),
    ("unknown_loss", lambda: fmnistcpp.losses.get("mean_squared_errror"), ValueError,
     [r"Unknown loss", r"mean_squared_errror", r"huber"]),
    ("keras_loss_object", lambda: _model().compile("adam", keras.losses.Huber()), ValueError,
     [r"Keras \(TensorFlow\) loss object", r"fmnistcpp.losses.Huber"]),
    ("python_loss_function", lambda: _model().compile("adam", lambda yt, yp: yp), NotImplementedError,
     [r"Python code", r"mean_squared_error"]),
    ("custom_loss_subclass", lambda: _model().compile("adam", _CustomLoss()), NotImplementedError,
     [r"_CustomLoss", r"Python"]),
    ("bad_reduction", lambda: fmnistcpp.losses.MeanSquaredError(reduction="avg"), ValueError,
     [r"reduction", r"avg"]),
    ("reduction_none_in_compile",
     lambda: _model().compile("adam", fmnistcpp.losses.MeanSquaredError(reduction="none")),
     NotImplementedError, [r"reduction='none'", r"'sum'"]),
    ("label_smoothing_out_of_range",
     lambda: fmnistcpp.losses.CategoricalCrossentropy(label_smoothing=1.5)(np.eye(3), np.eye(3)),
     ValueError, [r"label_smoothing", r"\[0, 1\]"]),
    ("axis_not_last",
     lambda: fmnistcpp.losses.categorical_crossentropy(np.eye(3), np.eye(3), axis=0),
     NotImplementedError, [r"axis=-1"]),
    ("ignore_class_outside_classes",
     lambda: _model().compile("adam", fmnistcpp.losses.SparseCategoricalCrossentropy(
         ignore_class=255)), NotImplementedError,
     [r"ignore_class=255", r"sample_weight=0", r"mean_with_sample_weight"]),
    ("crossentropy_by_shape", lambda: _model().compile("adam", "CE"), NotImplementedError,
     [r"'CE'", r"sparse_categorical_crossentropy", r"binary_crossentropy"]),
    ("unsupported_keras_loss", lambda: fmnistcpp.losses.get("dice"), NotImplementedError,
     [r"'dice'", r"binary_crossentropy"]),
    ("sparse_labels_for_3d_output",
     lambda: fmnistcpp.Sequential([fmnistcpp.layers.Input((4,)), fmnistcpp.layers.Dense(6),
                                   fmnistcpp.layers.Reshape((2, 3))]).compile(
         "adam", "sparse_categorical_crossentropy"), NotImplementedError,
     [r"\(2, 3\)", r"categorical_crossentropy"]),
    ("function_shape_mismatch",
     lambda: fmnistcpp.losses.mean_squared_error(np.zeros((4, 3)), np.zeros((4, 2))), ValueError,
     [r"\(4, 3\)", r"\(4, 2\)"]),
]


class _CustomLoss(fmnistcpp.losses.Loss):
    def call(self, y_true, y_pred):
        return y_pred


def _fit(loss, y, units=10, act="softmax"):
    m = _model(units, act)
    m.compile("adam", loss)
    m.fit(X4, y, verbose=0)


@pytest.mark.parametrize("thunk,exc,patterns", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_inputs_are_clear_errors(thunk, exc, patterns):
    with pytest.raises(exc) as info:
        thunk()
    for p in patterns:
        assert __import__("re").search(p, str(info.value)), (p, str(info.value))
