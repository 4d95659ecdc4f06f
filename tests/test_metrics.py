"""Accuracy metrics against real Keras 3: the same weights (trained briefly in
Keras, copied), the same data; evaluate() values and names and fit()'s History
keys must be equal. Both count hits on the same float32 softmax outputs (equal
to ~1e-7), so a hit could differ only on a near tie at the top-k boundary;
none occurs on this data, so counts are compared exactly (atol 1e-6 covers
Keras reporting count / total in float32)."""

import numpy as np
import pytest

from conftest import copy_weights

import fmnistcpp
import keras

SPECS = [("Flatten", {}), ("Dense", dict(units=32, activation="relu")),
         ("Dense", dict(units=10, activation="softmax"))]


def _metric(module, spec):
    if isinstance(spec, str):
        return spec
    name, kwargs = spec
    return getattr(module.metrics, name)(**kwargs)


@pytest.fixture(scope="module")
def trained(small_data):
    """A Keras MLP trained 1 epoch (so top-1 and top-k accuracies are far apart
    from chance and from 1), its weights, and held-out data."""
    (x, y), (xt, yt) = small_data
    x, xt = x[:2000].reshape(-1, 28, 28), xt[:1000].reshape(-1, 28, 28)
    keras.utils.set_random_seed(11)
    km = keras.Sequential([keras.layers.Input((28, 28))] +
                          [getattr(keras.layers, n)(**kw) for n, kw in SPECS])
    km.compile("adam", "sparse_categorical_crossentropy")
    km.fit(x, y[:2000], epochs=1, batch_size=64, verbose=0)
    return km.get_weights(), (x, y[:2000]), (xt, yt[:1000])


def _pair(weights, loss, metrics):
    km = keras.Sequential([keras.layers.Input((28, 28))] +
                          [getattr(keras.layers, n)(**kw) for n, kw in SPECS])
    fm = fmnistcpp.Sequential([fmnistcpp.layers.Input((28, 28))] +
                              [getattr(fmnistcpp.layers, n)(**kw) for n, kw in SPECS])
    km.set_weights(weights)
    copy_weights(km, fm)
    km.compile("adam", loss, metrics=[_metric(keras, m) for m in metrics])
    fm.compile("adam", loss, metrics=[_metric(fmnistcpp, m) for m in metrics])
    return km, fm


SPARSE = {
    "classes": [("SparseTopKCategoricalAccuracy", dict(k=5)),
                ("SparseCategoricalAccuracy", {})],
    "strings": ["sparse_top_k_categorical_accuracy", "sparse_categorical_accuracy", "accuracy"],
    "named_k3": [("SparseTopKCategoricalAccuracy", dict(k=3, name="top3")), "acc"],
}
ONE_HOT = {
    "classes": [("TopKCategoricalAccuracy", dict(k=3)), ("CategoricalAccuracy", {})],
    "strings": ["top_k_categorical_accuracy", "categorical_accuracy", "accuracy"],
    "named_k2": [("TopKCategoricalAccuracy", dict(k=2, name="top2")), "acc"],
}
CASES = [("sparse", k) for k in sorted(SPARSE)] + [("one_hot", k) for k in sorted(ONE_HOT)]


@pytest.mark.parametrize("labels,case", CASES)
def test_accuracy_metrics_equal_keras(labels, case, trained):
    weights, (x, y), (xv, yv) = trained
    if labels == "sparse":
        loss, metrics = "sparse_categorical_crossentropy", SPARSE[case]
    else:
        loss, metrics = "categorical_crossentropy", ONE_HOT[case]
        y, yv = (keras.utils.to_categorical(v, 10).astype(np.float32) for v in (y, yv))
    km, fm = _pair(weights, loss, metrics)
    k_logs = km.evaluate(xv, yv, batch_size=128, verbose=0, return_dict=True)
    f_logs = fm.evaluate(xv, yv, batch_size=128, verbose=0, return_dict=True)
    assert list(f_logs) == list(k_logs)
    for key, value in k_logs.items():
        assert f_logs[key] == pytest.approx(float(value), abs=1e-6 if key != "loss" else 1e-5), key
    # evaluate's list form has Keras's order: loss, then compiled metrics
    k_list = km.evaluate(xv, yv, batch_size=128, verbose=0)
    f_list = fm.evaluate(xv, yv, batch_size=128, verbose=0)
    np.testing.assert_allclose(f_list, k_list, rtol=0, atol=1e-5)
    # not vacuous: top-k > top-1, all away from 0 and 1
    accs = [v for k, v in k_logs.items() if k != "loss"]
    assert all(0.2 < a < 0.999 for a in accs) and len(set(np.round(accs, 6))) >= 2
    # History keys from fit (train + val_), identical names, values within one
    # epoch's round-off (2 samples' worth)
    kh = km.fit(x, y, epochs=1, batch_size=64, shuffle=False, verbose=0,
                validation_data=(xv, yv))
    fh = fm.fit(x, y, epochs=1, batch_size=64, shuffle=False, verbose=0,
                validation_data=(xv, yv))
    assert sorted(fh.history) == sorted(kh.history)
    for key, values in kh.history.items():
        n = len(xv) if key.startswith("val_") else len(x)
        tol = 1e-4 if key.endswith("loss") else 2.0 / n + 1e-6
        np.testing.assert_allclose(fh.history[key], values, rtol=0, atol=tol, err_msg=key)


def test_top_k_ties_count_as_hits_like_keras():
    # Keras (tf.math.in_top_k): classes tied at the k-th value are all in the top k
    y_pred = np.array([[0.25, 0.25, 0.25, 0.25], [0.4, 0.3, 0.2, 0.1], [0.1, 0.2, 0.3, 0.4]],
                      np.float32)
    y_true = np.array([3, 3, 3])
    expected = keras.metrics.sparse_top_k_categorical_accuracy(y_true, y_pred, k=1)
    assert list(np.asarray(expected)) == [1.0, 0.0, 1.0]
    # the same outputs through an fmnistcpp model: a Dense whose bias is log(y_pred)
    # and whose kernel is zero, followed by softmax, reproduces y_pred
    m = fmnistcpp.Sequential([fmnistcpp.layers.Input((1,)),
                              fmnistcpp.layers.Dense(4, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy",
              metrics=[fmnistcpp.metrics.SparseTopKCategoricalAccuracy(k=1)])
    for row, target, hit in zip(y_pred, y_true, [1.0, 0.0, 1.0]):
        m.set_weights([np.zeros((1, 4), np.float32), np.log(row)])
        logs = m.evaluate(np.zeros((1, 1), np.float32), np.array([target]), verbose=0,
                          return_dict=True)
        assert logs["sparse_top_k_categorical_accuracy"] == hit
