"""Metrics against real Keras 3.15: the stateful API (update_state over
several batches, with and without sample weights, then reset_state) on
the same predictions, the metric functions, names, configs and
directions, the values fit/evaluate report (accumulated over a whole
pass, weighted_metrics included), how compile resolves 'accuracy', and
`.keras` round trips of compiled models with these losses and metrics.

Tolerance: Keras accumulates its state in float32 variables and computes
results in float32; the engine accumulates in double. Counts are integers
(exact in both); weighted sums and the AUC's sum over 200 thresholds carry
float32 round-off of ~1e-7 per operation, so results agree to 1e-5
relative (1e-6 absolute for values near 0)."""

import re

import numpy as np
import pytest

import keras

import fmnistcpp
from conftest import copy_weights

RNG = np.random.default_rng(5)
B, K = 40, 6  # batch, classes


def _probs(n=B, k=K):
    z = RNG.normal(size=(n, k)) * 2
    return (np.exp(z) / np.exp(z).sum(-1, keepdims=True)).astype(np.float32)


def _sigmoid(n=B, k=K):
    return (1 / (1 + np.exp(-RNG.normal(size=(n, k)) * 2))).astype(np.float32)


def _one_hot(n=B, k=K):
    return np.eye(k, dtype=np.float32)[RNG.integers(0, k, n)]


def _multi_hot(n=B, k=K):
    return (RNG.random((n, k)) < 0.4).astype(np.float32)


def _batches(make_y, make_p, n=3):
    return [(make_y(), make_p()) for _ in range(n)]


def _regression():
    return RNG.normal(size=(B, K)).astype(np.float32)


def _ties_probs():
    p = _probs()
    p[:5] = np.round(p[:5], 1)  # ties at the top-k boundary and between classes
    return p


# (id, class, kwargs, batch maker). Each batch: (y_true, y_pred).
STATEFUL = [
    ("accuracy_exact", "Accuracy", {},
     lambda: _batches(lambda: RNG.integers(0, 3, (B, 2)).astype(np.float32),
                      lambda: RNG.integers(0, 3, (B, 2)).astype(np.float32))),
    ("binary_accuracy", "BinaryAccuracy", {}, lambda: _batches(_multi_hot, _sigmoid)),
    ("binary_accuracy_t07_column", "BinaryAccuracy", {"threshold": 0.7},
     lambda: _batches(lambda: _multi_hot(k=1), lambda: _sigmoid(k=1))),
    ("categorical_accuracy", "CategoricalAccuracy", {}, lambda: _batches(_one_hot, _ties_probs)),
    ("sparse_categorical_accuracy", "SparseCategoricalAccuracy", {},
     lambda: _batches(lambda: RNG.integers(0, K, B), _ties_probs)),
    ("top_k", "TopKCategoricalAccuracy", {"k": 3}, lambda: _batches(_one_hot, _ties_probs)),
    ("sparse_top_k", "SparseTopKCategoricalAccuracy", {"k": 2},
     lambda: _batches(lambda: RNG.integers(0, K, (B, 1)), _ties_probs)),
    ("precision", "Precision", {}, lambda: _batches(_multi_hot, _sigmoid)),
    ("precision_thresholds", "Precision", {"thresholds": [0.2, 0.5, 0.8]},
     lambda: _batches(_multi_hot, _sigmoid)),
    ("precision_even_thresholds", "Precision", {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]},
     lambda: _batches(_multi_hot, _sigmoid)),
    ("precision_top_k", "Precision", {"top_k": 2}, lambda: _batches(_one_hot, _probs)),
    ("precision_class_id", "Precision", {"class_id": 1}, lambda: _batches(_multi_hot, _sigmoid)),
    ("recall", "Recall", {}, lambda: _batches(_multi_hot, _sigmoid)),
    ("recall_top_k_class", "Recall", {"top_k": 3, "class_id": 2},
     lambda: _batches(_one_hot, _probs)),
    ("recall_thresholds", "Recall", {"thresholds": 0.3}, lambda: _batches(_multi_hot, _sigmoid)),
    ("auc", "AUC", {}, lambda: _batches(_multi_hot, _sigmoid)),
    ("auc_binary_column", "AUC", {}, lambda: _batches(lambda: _multi_hot(k=1),
                                                      lambda: _sigmoid(k=1))),
    ("auc_pr", "AUC", {"curve": "PR"}, lambda: _batches(_multi_hot, _sigmoid)),
    ("auc_prgain", "AUC", {"curve": "PRGAIN"}, lambda: _batches(_multi_hot, _sigmoid)),
    ("auc_minoring", "AUC", {"summation_method": "minoring"},
     lambda: _batches(_multi_hot, _sigmoid)),
    ("auc_pr_majoring", "AUC", {"curve": "pr", "summation_method": "majoring"},
     lambda: _batches(_multi_hot, _sigmoid)),
    ("auc_50", "AUC", {"num_thresholds": 50}, lambda: _batches(_multi_hot, _sigmoid)),
    ("auc_uneven_thresholds", "AUC", {"thresholds": [0.9, 0.1, 0.35, 0.6]},
     lambda: _batches(_multi_hot, _sigmoid)),
    ("auc_even_thresholds", "AUC", {"thresholds": [0.25, 0.5, 0.75]},
     lambda: _batches(_multi_hot, _sigmoid)),
    ("auc_multi_label", "AUC", {"multi_label": True}, lambda: _batches(_multi_hot, _sigmoid)),
    ("auc_multi_label_weights", "AUC",
     {"multi_label": True, "num_labels": K, "label_weights": [1, 2, 0, 1, 3, 1]},
     lambda: _batches(_multi_hot, _sigmoid)),
    ("auc_label_weights", "AUC", {"label_weights": [1, 2, 0, 1, 3, 1]},
     lambda: _batches(_multi_hot, _sigmoid)),
    ("auc_from_logits", "AUC", {"from_logits": True},
     lambda: _batches(_multi_hot, lambda: RNG.normal(size=(B, K)).astype(np.float32) * 3)),
    ("f1_none", "F1Score", {}, lambda: _batches(_one_hot, _probs)),
    ("f1_micro", "F1Score", {"average": "micro"}, lambda: _batches(_one_hot, _probs)),
    ("f1_macro_threshold", "F1Score", {"average": "macro", "threshold": 0.3},
     lambda: _batches(_multi_hot, _sigmoid)),
    ("f1_weighted", "F1Score", {"average": "weighted"}, lambda: _batches(_one_hot, _probs)),
    ("fbeta2", "FBetaScore", {"beta": 2.0, "average": "macro"},
     lambda: _batches(_one_hot, _probs)),
    ("mse", "MeanSquaredError", {}, lambda: _batches(_regression, _regression)),
    ("mae", "MeanAbsoluteError", {}, lambda: _batches(_regression, _regression)),
    ("mape", "MeanAbsolutePercentageError", {}, lambda: _batches(_regression, _regression)),
    ("msle", "MeanSquaredLogarithmicError", {}, lambda: _batches(_regression, _regression)),
    ("rmse", "RootMeanSquaredError", {}, lambda: _batches(_regression, _regression)),
    ("cosine", "CosineSimilarity", {}, lambda: _batches(_regression, _regression)),
    ("logcosh", "LogCoshError", {}, lambda: _batches(_regression, _regression)),
    ("kl", "KLDivergence", {}, lambda: _batches(_probs, _probs)),
    ("poisson", "Poisson", {}, lambda: _batches(_multi_hot, _sigmoid)),
    ("hinge", "Hinge", {}, lambda: _batches(_multi_hot, _regression)),
    ("squared_hinge", "SquaredHinge", {}, lambda: _batches(_multi_hot, _regression)),
    ("categorical_hinge", "CategoricalHinge", {}, lambda: _batches(_one_hot, _regression)),
    ("bce", "BinaryCrossentropy", {"label_smoothing": 0.1},
     lambda: _batches(_multi_hot, _sigmoid)),
    ("cce", "CategoricalCrossentropy", {}, lambda: _batches(_one_hot, _probs)),
    ("scce", "SparseCategoricalCrossentropy", {},
     lambda: _batches(lambda: RNG.integers(0, K, B), _probs)),
]


def _weights():
    w = RNG.random(B).astype(np.float32) * 2
    w[:3] = 0.0
    return w


@pytest.mark.parametrize("case", STATEFUL, ids=[c[0] for c in STATEFUL])
def test_stateful_api_matches_keras_over_several_batches(case):
    _, cls, kwargs, make = case
    batches = make()
    weights = [None, _weights(), _weights()]
    ours, ref = getattr(fmnistcpp.metrics, cls)(**kwargs), getattr(keras.metrics, cls)(**kwargs)
    for (y, p), w in zip(batches, weights):
        ours.update_state(y, p, sample_weight=w)
        ref.update_state(y, p, sample_weight=w)
        np.testing.assert_allclose(ours.result(), np.asarray(ref.result()), rtol=1e-5, atol=1e-6)
    assert np.shape(ours.result()) == np.shape(ref.result())
    ours.reset_state()
    ref.reset_state()
    y, p = batches[0]
    ours.update_state(y, p)
    ref.update_state(y, p)
    np.testing.assert_allclose(ours(y, p), np.asarray(ref(y, p)), rtol=1e-5, atol=1e-6)


FUNCTIONS = [
    ("binary_accuracy", {}, _multi_hot, _sigmoid),
    ("binary_accuracy", {"threshold": 0.2}, _multi_hot, _sigmoid),
    ("categorical_accuracy", {}, _one_hot, _ties_probs),
    ("sparse_categorical_accuracy", {}, lambda: RNG.integers(0, K, B), _ties_probs),
    ("top_k_categorical_accuracy", {"k": 2}, _one_hot, _ties_probs),
    ("sparse_top_k_categorical_accuracy", {"k": 3}, lambda: RNG.integers(0, K, B), _ties_probs),
    ("mean_squared_error", {}, _regression, _regression),
    ("kl_divergence", {}, _probs, _probs),
]


@pytest.mark.parametrize("fn,kwargs,make_y,make_p", FUNCTIONS,
                         ids=[f"{f[0]}{i}" for i, f in enumerate(FUNCTIONS)])
def test_metric_functions_match_keras(fn, kwargs, make_y, make_p):
    y, p = make_y(), make_p()
    ours = getattr(fmnistcpp.metrics, fn)(y, p, **kwargs)
    ref = np.asarray(getattr(keras.metrics, fn)(y, p, **kwargs))
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-7)


CLASSES = sorted({c[1] for c in STATEFUL})


@pytest.mark.parametrize("cls", CLASSES)
def test_config_direction_and_names_match_keras(cls):
    ours, ref = getattr(fmnistcpp.metrics, cls)(), getattr(keras.metrics, cls)()
    a, b = ours.get_config(), ref.get_config()
    # auto-numbered names (precision_3) depend on how many each library made
    assert re.sub(r"_\d+$", "", a.pop("name")) == re.sub(r"_\d+$", "", b.pop("name"))
    if cls == "AUC":
        b["label_weights"] = None if b["label_weights"] is None else list(b["label_weights"])
    assert a == b
    assert ours.direction == ref._direction
    # the snake-case string gives the same class in both
    name = {"AUC": "auc", "F1Score": "f1_score", "FBetaScore": "f_beta_score"}.get(
        cls, re.sub("([a-z])([A-Z])", r"\1_\2", re.sub("(.)([A-Z][a-z]+)", r"\1_\2", cls)).lower())
    assert type(fmnistcpp.metrics.get(name)).__name__ == type(keras.metrics.get(name)).__name__
    again = getattr(fmnistcpp.metrics, cls).from_config(ours.get_config())
    assert again.get_config() == ours.get_config()


@pytest.mark.parametrize("alias", ["mse", "MSE", "mae", "mape", "msle", "bce", "BCE"])
def test_metric_aliases_match_keras(alias):
    assert type(fmnistcpp.metrics.get(alias)).__name__ == type(keras.metrics.get(alias)).__name__


# --- what fit / evaluate report -----------------------------------------------------------
SPECS = [("Flatten", {}), ("Dense", dict(units=24, activation="relu"))]


@pytest.fixture(scope="module")
def images(small_data):
    (x, y), _ = small_data
    return x[:1000].reshape(-1, 28, 28), y[:1000]


def _pair(head, loss, metrics, weighted_metrics=None, seed=4, train_on=None):
    def build(module):
        layers = [module.layers.Input((28, 28))] + [getattr(module.layers, n)(**kw)
                                                    for n, kw in SPECS + [head]]
        return module.Sequential(layers)

    keras.utils.set_random_seed(seed)
    km = build(keras)
    if train_on is not None:  # a little training, so the metrics are far from chance
        km.compile("adam", loss(keras))
        km.fit(*train_on, epochs=1, batch_size=64, verbose=0)
    fm = build(fmnistcpp)
    copy_weights(km, fm)
    for model, module in ((km, keras), (fm, fmnistcpp)):
        model.compile("adam", loss(module), metrics=[m(module) for m in metrics],
                      weighted_metrics=None if weighted_metrics is None else
                      [m(module) for m in weighted_metrics])
    return km, fm


def _s(name):
    return lambda module: name


def _obj(cls, **kw):
    return lambda module: getattr(module.metrics, cls)(**kw)


EVAL_CASES = {
    "binary_sigmoid": (("Dense", dict(units=1, activation="sigmoid")), "binary_crossentropy",
                       lambda y: np.isin(y, [5, 7, 9]).astype(np.float32)[:, None],
                       [_s("accuracy"), _s("auc"), _obj("Precision"), _obj("Recall"),
                        _obj("F1Score", threshold=0.5), _obj("BinaryAccuracy", threshold=0.3),
                        _s("mse"), _obj("AUC", curve="PR", name="pr_auc")]),
    "one_hot_softmax": (("Dense", dict(units=10, activation="softmax")),
                        "categorical_crossentropy",
                        lambda y: np.eye(10, dtype=np.float32)[y],
                        [_s("acc"), _obj("AUC", multi_label=True), _obj("Precision", top_k=1),
                         _obj("Recall", class_id=3), _obj("F1Score"),
                         _obj("TopKCategoricalAccuracy", k=2), _s("categorical_crossentropy"),
                         _s("kl_divergence"), _obj("FBetaScore", beta=0.5, average="weighted"),
                         lambda module: module.metrics.categorical_accuracy]),
    "sparse_softmax": (("Dense", dict(units=10, activation="softmax")),
                       "sparse_categorical_crossentropy", lambda y: y,
                       [_s("ACC"), _s("sparse_top_k_categorical_accuracy"),
                        _obj("SparseCategoricalCrossentropy"),
                        lambda module: module.metrics.sparse_categorical_accuracy]),
    "regression_linear": (("Dense", dict(units=1)), "huber",
                          lambda y: (y / 3.0).astype(np.float32),
                          [_s("mae"), _obj("RootMeanSquaredError"), _s("mape"), _s("msle"),
                           _obj("LogCoshError"), _s("accuracy")]),
}


def _assert_logs_match(ours, ref, n):
    assert set(ours) == set(ref)
    for key, value in ref.items():
        value = np.asarray(value)
        tol = 1e-4 if key.endswith("loss") else 1e-5
        np.testing.assert_allclose(np.asarray(ours[key]), value, rtol=tol, atol=1e-6, err_msg=key)
        assert np.shape(ours[key]) == value.shape, key


@pytest.mark.parametrize("name", sorted(EVAL_CASES))
def test_evaluate_and_fit_report_keras_values(name, images):
    head, loss, labels, metrics = EVAL_CASES[name]
    x, y = images
    ys = labels(y)
    km, fm = _pair(head, lambda m: loss, metrics, train_on=(x[:500], ys[:500]))
    # evaluate over 16 batches: the state accumulates over the whole pass
    ref = km.evaluate(x, ys, batch_size=64, verbose=0, return_dict=True)
    ours = fm.evaluate(x, ys, batch_size=64, verbose=0, return_dict=True)
    _assert_logs_match(ours, ref, len(x))
    assert sorted(fm._metric_directions) == sorted(k for k in ref if k != "loss")
    # and after two epochs of fit (the values History holds)
    kh = km.fit(x, ys, epochs=2, batch_size=100, shuffle=False, verbose=0,
                validation_data=(x[:300], ys[:300]))
    fh = fm.fit(x, ys, epochs=2, batch_size=100, shuffle=False, verbose=0,
                validation_data=(x[:300], ys[:300]))
    assert set(fh.history) == set(kh.history)
    for key in kh.history:
        for a, b in zip(fh.history[key], kh.history[key]):
            # after training, a near-tie can flip one of 1000 samples (a count
            # moves by 1e-3); continuous values carry training's round-off
            if key.endswith("loss"):
                rtol, atol = 0, 1e-4
            elif "accuracy" in key or key.endswith("acc"):
                rtol, atol = 0, 2e-3
            else:
                rtol, atol = 1e-4, 2e-3
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol,
                                       err_msg=key)


def test_weighted_metrics_use_sample_weights_like_keras(images):
    x, y = images
    ys = np.isin(y, [5, 7, 9]).astype(np.float32)[:, None]  # F1Score wants 2-D labels
    w = RNG.random(len(x)).astype(np.float32) * 3
    w[::7] = 0.0
    both = [_s("accuracy"), _obj("AUC"), _obj("Precision"), _s("mae"), _obj("F1Score")]
    km, fm = _pair(("Dense", dict(units=1, activation="sigmoid")),
                   lambda m: "binary_crossentropy", [_s("accuracy")], weighted_metrics=both,
                   train_on=(x[:500], ys[:500]))
    ref = km.evaluate(x, ys, sample_weight=w, batch_size=64, verbose=0, return_dict=True)
    ours = fm.evaluate(x, ys, sample_weight=w, batch_size=64, verbose=0, return_dict=True)
    _assert_logs_match(ours, ref, len(x))
    # the weights changed the weighted metrics (so the comparison is not vacuous)
    plain = fm.evaluate(x, ys, batch_size=64, verbose=0, return_dict=True)
    auc = [k for k in ours if k.startswith("auc")][0]
    assert abs(plain[auc] - ours[auc]) > 1e-4
    assert "weighted_accuracy" in ours  # Keras's name for a weighted repeat


def test_accuracy_string_resolves_by_shapes_like_keras(images):
    x, y = images
    cases = [(("Dense", dict(units=1, activation="sigmoid")), "binary_crossentropy",
              np.isin(y, [5, 7, 9]).astype(np.float32), fmnistcpp.metrics.BinaryAccuracy),
             (("Dense", dict(units=10, activation="softmax")), "sparse_categorical_crossentropy",
              y, fmnistcpp.metrics.SparseCategoricalAccuracy),
             (("Dense", dict(units=10, activation="softmax")), "categorical_crossentropy",
              np.eye(10, dtype=np.float32)[y], fmnistcpp.metrics.CategoricalAccuracy)]
    for head, loss, ys, cls in cases:
        km, fm = _pair(head, lambda m: loss, [_s("accuracy"), _s("Acc")])
        fm.evaluate(x[:64], ys[:64], verbose=0)
        assert [type(m) for m in fm.compiled_metrics] == [cls, cls]
        assert [m.name for m in fm.compiled_metrics] == ["accuracy", "Acc"]
        ref = km.evaluate(x[:200], ys[:200], verbose=0, return_dict=True)
        _assert_logs_match(fm.evaluate(x[:200], ys[:200], verbose=0, return_dict=True), ref, 200)


def test_monitoring_callbacks_read_metric_directions(images, tmp_path):
    x, y = images
    ys = np.isin(y, [5, 7, 9]).astype(np.float32)
    km, fm = _pair(("Dense", dict(units=1, activation="sigmoid")),
                   lambda m: "binary_crossentropy",
                   [_s("auc"), _s("mse"), lambda m: m.metrics.binary_accuracy])
    assert fm._metric_directions == {"auc": "up", "mse": "down", "binary_accuracy": None}
    for monitor, op in (("val_auc", np.greater), ("val_mse", np.less)):
        cb = fmnistcpp.callbacks.ModelCheckpoint(str(tmp_path / "m.keras"), monitor=monitor,
                                                 save_best_only=True)
        fm.fit(x[:200], ys[:200], epochs=1, validation_data=(x[:100], ys[:100]), verbose=0,
               callbacks=[cb])
        assert cb.monitor_op is op
    # Keras cannot tell the direction of a bare metric function either
    with pytest.raises(ValueError, match="automatically determine"):
        fm.fit(x[:200], ys[:200], epochs=1, validation_data=(x[:100], ys[:100]), verbose=0,
               callbacks=[fmnistcpp.callbacks.ModelCheckpoint(
                   str(tmp_path / "n.keras"), monitor="val_binary_accuracy",
                   save_best_only=True)])


# --- .keras round trips -------------------------------------------------------------------
ROUND_TRIPS = {
    "huber_metrics": (("Dense", dict(units=1)), lambda m: m.losses.Huber(),
                      lambda y: (y / 9).astype(np.float32),
                      [_s("mae"), _obj("RootMeanSquaredError"), _obj("MeanSquaredError")]),
    "bce_auc": (("Dense", dict(units=1, activation="sigmoid")),
                lambda m: m.losses.BinaryCrossentropy(label_smoothing=0.1),
                lambda y: np.isin(y, [5, 7, 9]).astype(np.float32),
                [_s("accuracy"), _obj("AUC", num_thresholds=100), _obj("Precision"),
                 _obj("Recall", thresholds=0.4)]),
    "cce_f1": (("Dense", dict(units=10, activation="softmax")),
               lambda m: m.losses.CategoricalCrossentropy(label_smoothing=0.2),
               lambda y: np.eye(10, dtype=np.float32)[y],
               [_s("accuracy"), _obj("F1Score", average="macro"),
                _obj("TopKCategoricalAccuracy", k=3)]),
    "function_loss": (("Dense", dict(units=10, activation="softmax")),
                      lambda m: m.losses.kl_divergence, lambda y: np.eye(10, dtype=np.float32)[y],
                      [lambda m: m.metrics.categorical_accuracy, _s("mse")]),
}


@pytest.mark.parametrize("name", sorted(ROUND_TRIPS))
def test_keras_files_round_trip_with_keras(name, images, tmp_path):
    head, loss, labels, metrics = ROUND_TRIPS[name]
    x, y = images[0][:300], labels(images[1][:300])
    km, fm = _pair(head, loss, metrics)
    fm.fit(x, y, epochs=1, verbose=0)
    ours = fm.evaluate(x, y, verbose=0, return_dict=True)
    fm.save(tmp_path / "f.keras")
    loaded_in_keras = keras.models.load_model(tmp_path / "f.keras")
    assert type(loaded_in_keras.loss).__name__ == type(fm.loss).__name__
    _assert_logs_match(ours, loaded_in_keras.evaluate(x, y, verbose=0, return_dict=True), len(x))
    # and back: a file Keras wrote
    loaded_in_keras.save(tmp_path / "k.keras")
    back = fmnistcpp.models.load_model(tmp_path / "k.keras")
    assert type(back.loss).__name__ == type(fm.loss).__name__
    if hasattr(fm.loss, "get_config"):
        assert back.loss.get_config() == fm.loss.get_config()
    _assert_logs_match(back.evaluate(x, y, verbose=0, return_dict=True), ours, len(x))


def test_huber_delta_survives_a_round_trip_through_our_files(tmp_path):
    # Keras's Huber.get_config drops delta; ours writes it, and both read it.
    fm = fmnistcpp.Sequential([fmnistcpp.layers.Input((3,)), fmnistcpp.layers.Dense(1)])
    fm.compile("adam", fmnistcpp.losses.Huber(delta=0.25))
    fm.save(tmp_path / "h.keras")
    assert fmnistcpp.models.load_model(tmp_path / "h.keras").loss.delta == 0.25
    x = RNG.normal(size=(16, 3)).astype(np.float32)
    y = RNG.normal(size=(16, 1)).astype(np.float32) * 4  # errors beyond delta
    km = keras.models.load_model(tmp_path / "h.keras")
    assert km.evaluate(x, y, verbose=0) == pytest.approx(fm.evaluate(x, y, verbose=0), rel=1e-5)


# --- bad inputs ---------------------------------------------------------------------------
def _compile(loss, metrics, units=10, act="softmax", shape=None):
    layers = [fmnistcpp.layers.Input((4,)), fmnistcpp.layers.Dense(units, activation=act)]
    if shape:
        layers.append(fmnistcpp.layers.Reshape(shape))
    m = fmnistcpp.Sequential(layers)
    m.compile("adam", loss, metrics=metrics)
    return m


BAD = [
    ("auc_curve", lambda: fmnistcpp.metrics.AUC(curve="XY"), ValueError,
     [r"Invalid AUC curve", r"XY"]),
    ("auc_one_threshold", lambda: fmnistcpp.metrics.AUC(num_thresholds=1), ValueError,
     [r"num_thresholds", r"> 1"]),
    ("precision_threshold_range", lambda: fmnistcpp.metrics.Precision(thresholds=[0.5, 1.5]),
     ValueError, [r"Threshold values must be in \[0, 1\]"]),
    ("fbeta_int_beta", lambda: fmnistcpp.metrics.FBetaScore(beta=2), ValueError,
     [r"beta", r"Python float"]),
    ("f1_average", lambda: fmnistcpp.metrics.F1Score(average="mean"), ValueError,
     [r"average", r"mean"]),
    ("f1_on_3d_output", lambda: _compile("mse", [fmnistcpp.metrics.F1Score()], units=6,
                                         act="linear", shape=(2, 3)),
     ValueError, [r"2D inputs", r"\(batch, 2, 3\)"]),
    ("auc_with_class_indices", lambda: _compile("sparse_categorical_crossentropy", ["auc"]),
     ValueError, [r"'auc'", r"one-hot", r"integer"]),
    ("sparse_metric_with_one_hot",
     lambda: _compile("categorical_crossentropy", ["sparse_categorical_accuracy"]), ValueError,
     [r"integer", r"one-hot"]),
    ("unknown", lambda: fmnistcpp.metrics.get("f1"), ValueError,
     [r"Unknown metric 'f1'", r"f1_score"]),
    ("unsupported", lambda: fmnistcpp.metrics.get("r2_score"), NotImplementedError,
     [r"r2_score", r"MeanSquaredError"]),
    ("python_metric", lambda: _compile("mse", [lambda y, p: p], act="linear"),
     NotImplementedError, [r"Python code", r"binary_accuracy"]),
    ("keras_metric_object", lambda: _compile("mse", [keras.metrics.AUC()], act="linear"),
     ValueError, [r"Keras \(TensorFlow\) metric object", r"fmnistcpp.metrics.AUC"]),
    ("update_shape_mismatch",
     lambda: fmnistcpp.metrics.AUC().update_state(np.zeros((4, 2)), np.zeros((4, 3))),
     ValueError, [r"\(4, 3\)", r"\(4, 2\)"]),
]


@pytest.mark.parametrize("thunk,exc,patterns", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_metric_inputs_are_clear_errors(thunk, exc, patterns):
    with pytest.raises(exc) as info:
        thunk()
    for p in patterns:
        assert re.search(p, str(info.value)), (p, str(info.value))


def test_batch_at_a_time_fit_keeps_per_class_metrics(images):
    # A generator goes through the batch-at-a-time entry (cpp/streaming.cpp):
    # the same batches as arrays give the same History, arrays included.
    x, y = images
    ys = np.eye(10, dtype=np.float32)[y]
    metrics = [_obj("F1Score"), _obj("Precision", thresholds=[0.3, 0.6], name="p"), _s("accuracy")]
    _, a = _pair(("Dense", dict(units=10, activation="softmax")), _s("categorical_crossentropy"),
                 metrics)
    _, b = _pair(("Dense", dict(units=10, activation="softmax")), _s("categorical_crossentropy"),
                 metrics)

    def batches():
        while True:
            for i in range(0, len(x), 100):
                yield x[i:i + 100], ys[i:i + 100]

    ha = a.fit(x, ys, epochs=2, batch_size=100, shuffle=False, verbose=0)
    hb = b.fit(batches(), steps_per_epoch=len(x) // 100, epochs=2, verbose=0)
    assert set(ha.history) == set(hb.history)
    for key in ha.history:
        for u, v in zip(ha.history[key], hb.history[key]):
            np.testing.assert_allclose(np.asarray(v), np.asarray(u), rtol=1e-6, atol=1e-7,
                                       err_msg=key)
    assert np.shape(hb.history["f1_score"][0]) == (10,)
