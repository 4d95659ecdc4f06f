"""sample_weight and class_weight in fit/evaluate against real Keras 3.15,
for every loss and for weighted_metrics: the same weights (copied from
Keras), the same data and batches (shuffle=False).

Keras's rules checked here: a loss is sum(w * loss) / batch size (its
default reduction), or divided by sum(w) with 'mean_with_sample_weight';
the epoch's loss is the mean of the batch losses weighted by batch size;
`metrics` ignore the weights and `weighted_metrics` use them; class_weight
becomes per-sample weights (one-hot labels by argmax, a 0/1 column
rounded); validation_data may carry its own weights."""

import numpy as np
import pytest

import keras

import fmnistcpp
from conftest import copy_weights

RNG = np.random.default_rng(21)
N = 300


@pytest.fixture(scope="module")
def images(small_data):
    (x, y), _ = small_data
    return x[:N].reshape(N, -1), y[:N]


def _weights(n=N):
    w = RNG.random(n).astype(np.float32) * 2
    w[::9] = 0.0
    return w


# (loss, output units, activation, labels from class indices)
def _one_hot(y):
    return np.eye(10, dtype=np.float32)[y]


def _footwear(y):
    return np.isin(y, [5, 7, 9]).astype(np.float32)


LOSSES = {
    "mean_squared_error": (10, "softmax", _one_hot),
    "mean_absolute_error": (10, "softmax", _one_hot),
    "mean_absolute_percentage_error": (1, "linear", lambda y: (y + 1.0).astype(np.float32)),
    "mean_squared_logarithmic_error": (1, "relu", lambda y: y.astype(np.float32)),
    "cosine_similarity": (10, "linear", _one_hot),
    "huber": (1, "linear", lambda y: (y / 3.0).astype(np.float32)),
    "log_cosh": (1, "linear", lambda y: (y / 3.0).astype(np.float32)),
    "hinge": (1, "tanh", _footwear),
    "squared_hinge": (1, "tanh", _footwear),
    "categorical_hinge": (10, "linear", _one_hot),
    "kl_divergence": (10, "softmax", _one_hot),
    "poisson": (10, "softmax", _one_hot),
    "binary_crossentropy": (1, "sigmoid", _footwear),
    "binary_focal_crossentropy": (1, "sigmoid", _footwear),
    "categorical_crossentropy": (10, "softmax", _one_hot),
    "sparse_categorical_crossentropy": (10, "softmax", lambda y: y),
}


def _pair(units, act, loss, metrics=(), weighted_metrics=(), seed=2):
    def build(module):
        return module.Sequential([module.layers.Input((784,)),
                                  module.layers.Dense(16, activation="relu"),
                                  module.layers.Dense(units, activation=act)])

    keras.utils.set_random_seed(seed)
    km = build(keras)
    km.set_weights([w if w.ndim > 1 else RNG.normal(scale=0.1, size=w.shape).astype(np.float32)
                    for w in km.get_weights()])
    fm = build(fmnistcpp)
    copy_weights(km, fm)
    for model, module in ((km, keras), (fm, fmnistcpp)):
        model.compile(module.optimizers.Adam(1e-3), loss(module) if callable(loss) else loss,
                      metrics=list(metrics), weighted_metrics=list(weighted_metrics))
    return km, fm


def _same_logs(ours, ref, loss_tol=1e-5):
    assert set(ours) == set(ref)
    for key, value in ref.items():
        tol = loss_tol if "loss" in key else 1e-5
        np.testing.assert_allclose(ours[key], value, rtol=tol, atol=1e-6, err_msg=key)


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_evaluate_with_sample_weight_matches_keras_for_every_loss(loss, images):
    x, y = images
    units, act, labels = LOSSES[loss]
    ys, w = labels(y), _weights()
    km, fm = _pair(units, act, loss)
    # 5 batches of 64 (the last 44): the epoch mean is weighted by batch size
    ref = km.evaluate(x, ys, sample_weight=w, batch_size=64, verbose=0, return_dict=True)
    ours = fm.evaluate(x, ys, sample_weight=w, batch_size=64, verbose=0, return_dict=True)
    # float32 sums of 64 weighted terms: 1e-5 relative
    _same_logs(ours, ref)
    plain = fm.evaluate(x, ys, batch_size=64, verbose=0)
    assert abs(plain - ours["loss"]) > 1e-4 * abs(plain)  # the weights mattered


@pytest.mark.parametrize("reduction", ["sum", "mean_with_sample_weight"])
@pytest.mark.parametrize("loss", ["MeanSquaredError", "CategoricalCrossentropy"])
def test_fit_with_sample_weight_and_other_reductions_matches_keras(loss, reduction, images):
    x, y = images
    ys, w = _one_hot(y), _weights()
    km, fm = _pair(10, "softmax", lambda m: getattr(m.losses, loss)(reduction=reduction),
                   metrics=["accuracy"], weighted_metrics=["accuracy", "mse"])
    vw = _weights(100)
    kw = dict(epochs=2, batch_size=50, shuffle=False, verbose=0, sample_weight=w,
              validation_data=(x[:100], ys[:100], vw))
    kh, fh = km.fit(x, ys, **kw), fm.fit(x, ys, **kw)
    assert set(fh.history) == set(kh.history)
    for key, ref in kh.history.items():
        # two epochs of training: the 1e-4 on losses (relative for
        # 'sum', whose values are 50x larger); metrics to 1 sample in 300
        rtol, atol = (1e-4, 1e-4) if "loss" in key else (0, 1.0 / 100 + 1e-6)
        np.testing.assert_allclose(fh.history[key], ref, rtol=rtol, atol=atol, err_msg=key)
    assert kh.history["loss"][1] < kh.history["loss"][0]


CLASS_WEIGHT_CASES = {
    "sparse": ("sparse_categorical_crossentropy", 10, "softmax", lambda y: y),
    "one_hot": ("categorical_crossentropy", 10, "softmax", _one_hot),
    "binary_vector": ("binary_crossentropy", 1, "sigmoid", _footwear),
    "binary_column": ("binary_crossentropy", 1, "sigmoid", lambda y: _footwear(y)[:, None]),
}


@pytest.mark.parametrize("name", sorted(CLASS_WEIGHT_CASES))
def test_fit_with_class_weight_matches_keras(name, images):
    x, y = images
    loss, units, act, labels = CLASS_WEIGHT_CASES[name]
    ys = labels(y)
    class_weight = {0: 0.5, 1: 3.0} if units == 1 else {c: 1.0 + c / 3 for c in range(0, 10, 2)}
    km, fm = _pair(units, act, loss, metrics=["accuracy"], weighted_metrics=["accuracy"])
    kw = dict(epochs=2, batch_size=64, shuffle=False, verbose=0, class_weight=class_weight)
    kh, fh = km.fit(x, ys, **kw), fm.fit(x, ys, **kw)
    assert set(fh.history) == set(kh.history)
    for key, ref in kh.history.items():
        atol = 1e-4 if "loss" in key else 2.0 / N + 1e-6
        np.testing.assert_allclose(fh.history[key], ref, rtol=0, atol=atol, err_msg=key)
    # the class weights changed the training (not vacuous)
    _, plain = _pair(units, act, loss, metrics=["accuracy"])
    assert abs(plain.fit(x, ys, epochs=1, batch_size=64, shuffle=False,
                         verbose=0).history["loss"][0] - fh.history["loss"][0]) > 1e-3


def test_train_on_batch_with_sample_weight_matches_keras(images):
    x, y = images
    ys, w = _footwear(y)[:64], _weights(64)
    km, fm = _pair(1, "sigmoid", "binary_crossentropy", weighted_metrics=["auc"])
    for _ in range(3):
        ref = km.train_on_batch(x[:64], ys, sample_weight=w, return_dict=True)
        ours = fm.train_on_batch(x[:64], ys, sample_weight=w, return_dict=True)
        _same_logs(ours, ref)


def test_column_sample_weights_and_bad_weights(images):
    x, y = images
    km, fm = _pair(10, "softmax", "sparse_categorical_crossentropy")
    w = _weights()
    assert fm.evaluate(x, y, sample_weight=w[:, None], verbose=0) == pytest.approx(
        km.evaluate(x, y, sample_weight=w, verbose=0), rel=1e-5)
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(300,\)"):
        fm.evaluate(x, y, sample_weight=w[:10], verbose=0)
    with pytest.raises(ValueError, match="finite weights >= 0"):
        fm.evaluate(x, y, sample_weight=-w, verbose=0)
    with pytest.raises(ValueError, match="class_weight` and `sample_weight"):
        fm.fit(x, y, sample_weight=w, class_weight={0: 2.0}, verbose=0)
    with pytest.raises(ValueError, match="class_weight must map class indices to numbers"):
        fm.fit(x, y, class_weight={0: "heavy"}, verbose=0)


BATCH_DEPENDENT = {
    # labels 0/1 in some batches (Keras maps them to -1/1) and -1/0/1 in others
    "hinge_per_batch_rule": ("hinge", 1, "tanh",
                             lambda y: np.where(np.arange(len(y)) < 100, _footwear(y),
                                                _footwear(y) * 2 - 1 - (y == 0))),
    "ignore_class_mean_over_kept": (lambda m: m.losses.SparseCategoricalCrossentropy(
        ignore_class=0), 10, "softmax", lambda y: y),
    "sum": (lambda m: m.losses.KLDivergence(reduction="sum"), 10, "softmax", _one_hot),
}


@pytest.mark.parametrize("name", sorted(BATCH_DEPENDENT))
def test_evaluate_keeps_the_callers_batches_when_the_loss_depends_on_them(name, images):
    # The engine evaluates several batches at once when only per-sample
    # values matter; these losses must see each batch of 32 as Keras does.
    x, y = images
    loss, units, act, labels = BATCH_DEPENDENT[name]
    ys = labels(y)
    km, fm = _pair(units, act, loss)
    for w in (None, _weights()):
        ref = km.evaluate(x, ys, sample_weight=w, batch_size=32, verbose=0)
        ours = fm.evaluate(x, ys, sample_weight=w, batch_size=32, verbose=0)
        assert ours == pytest.approx(ref, rel=1e-5)
        # and the grouping matters: one batch of all samples gives another value
        assert fm.evaluate(x, ys, sample_weight=w, batch_size=N, verbose=0) != pytest.approx(
            ours, rel=1e-4)
