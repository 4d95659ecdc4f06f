"""End to end on real Fashion-MNIST: seed 002's MLP and seed 000's CNN, fitted on the
first 10000 training images for 3 epochs in Keras and in fmnistcpp, reach the same
test accuracy; plus what a user sees: the progress output and predict's result.

Both frameworks start from the same initial weights (Keras's glorot init, copied)
and each shuffles with its own generator (shuffle=True, as users fit), so the runs
differ only in batch order. Measured on a 2-core machine, test accuracy on these
5000 test images over several shuffle seeds, one run each:
  - MLP 002, 9 seeds: Keras 82.7 +- 0.6 points (mean +- sd), fmnistcpp 82.9 +- 0.8;
    single-pair differences from -1.5 to +1.6 points;
  - CNN 000, 7 seeds: Keras 85.4 +- 0.6, fmnistcpp 85.8 +- 0.6; single-pair
    differences from -0.6 to +1.6 points.
A single pair of runs would need a ~3-point tolerance to be reliable, so each
framework is run with several shuffle seeds (3 for the MLP, 2 for the slower CNN)
and the MEANS are compared: their difference has a standard deviation of ~0.6
points, so the 2-point tolerance is over 3 standard deviations (a false failure
well under 1 %), while a real defect (a wrong gradient, a broken shuffle, an
optimizer bug) costs several points.
"""

import re

import numpy as np
import pytest

from conftest import SEED_ARCHS, build_pair, compile_pair, seed_inputs

N_TRAIN = 10000
N_TEST = 5000
EPOCHS = 3
SEEDS = {"002": (1, 2, 3), "000": (1, 2)}
TOLERANCE = 0.02  # 2 accuracy points between the means, see the module docstring


@pytest.fixture(scope="module")
def subset(full_data):
    (x, y), (xt, yt) = full_data
    return (x[:N_TRAIN], y[:N_TRAIN]), (xt[:N_TEST], yt[:N_TEST])


def _accuracies(name, subset, keras, fmnistcpp):
    arch = SEED_ARCHS[name]
    (x, y), (xt, yt) = subset
    x, y = seed_inputs(name, x, y)
    xt, yt = seed_inputs(name, xt, yt)
    results = {"keras": [], "fmnistcpp": [], "last_model": None, "histories": []}
    for seed in SEEDS[name]:
        km, fm = build_pair(arch["input_shape"], arch["layers"], seed=0)
        compile_pair(km, fm, arch["loss"], arch["optimizer"])
        keras.utils.set_random_seed(seed)
        fmnistcpp.utils.set_random_seed(seed)
        km.fit(x, y, batch_size=arch["batch_size"], epochs=EPOCHS, verbose=0)
        h = fm.fit(x, y, batch_size=arch["batch_size"], epochs=EPOCHS, verbose=0)
        results["keras"].append(km.evaluate(xt, yt, verbose=0)[1])
        results["fmnistcpp"].append(fm.evaluate(xt, yt, verbose=0)[1])
        results["histories"].append(h.history)
        results["last_model"] = fm
    results["x_test"] = xt
    return results


@pytest.fixture(scope="module")
def mlp_runs(subset, keras, fmnistcpp):
    return _accuracies("002", subset, keras, fmnistcpp)


@pytest.fixture(scope="module")
def cnn_runs(subset, keras, fmnistcpp):
    return _accuracies("000", subset, keras, fmnistcpp)


@pytest.mark.parametrize("runs_fixture, floor", [("mlp_runs", 0.78), ("cnn_runs", 0.82)],
                         ids=["mlp_seed002", "cnn_seed000"])
def test_accuracy_matches_keras_on_the_same_subset(runs_fixture, floor, request):
    runs = request.getfixturevalue(runs_fixture)
    k, f = np.mean(runs["keras"]), np.mean(runs["fmnistcpp"])
    detail = f"keras {np.round(runs['keras'], 4)}, fmnistcpp {np.round(runs['fmnistcpp'], 4)}"
    assert abs(f - k) <= TOLERANCE, detail
    # both learned the task (a floor well under what either reaches, ~0.82 / ~0.86)
    assert k > floor and f > floor, detail
    # every run trained: the epoch losses went down
    for history in runs["histories"]:
        assert len(history["loss"]) == EPOCHS
        assert history["loss"][-1] < history["loss"][0]
        assert set(history) == {"loss", "accuracy"}


@pytest.mark.parametrize("runs_fixture", ["mlp_runs", "cnn_runs"])
def test_predict_returns_probabilities(runs_fixture, request):
    runs = request.getfixturevalue(runs_fixture)
    model, xt = runs["last_model"], runs["x_test"]
    p = model.predict(xt, verbose=0)
    assert isinstance(p, np.ndarray)
    assert p.dtype == np.float32
    assert p.shape == (len(xt), 10)
    assert np.all(p >= 0) and np.all(p <= 1)
    # float32 softmax rows: the sum of 10 terms is 1 to a few ulps
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-5)
    # predict's argmax is what evaluate's accuracy counted
    (_, _), (_, yt) = request.getfixturevalue("subset")
    acc = model.evaluate(xt, yt if runs_fixture == "mlp_runs" else np.eye(10)[yt], verbose=0)[1]
    assert np.mean(p.argmax(axis=1) == yt) == pytest.approx(acc, abs=1e-9)


def test_fit_verbose_1_prints_keras_progress(capsys, fmnistcpp, small_data):
    arch = SEED_ARCHS["002"]
    (x, y), _ = small_data
    x, y = seed_inputs("002", x, y)
    _, fm = build_pair(arch["input_shape"], arch["layers"], seed=0)
    fm.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    capsys.readouterr()
    history = fm.fit(x, y, batch_size=32, epochs=2, verbose=1, validation_split=0.2)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert "accuracy" in out and "loss" in out
    assert "val_accuracy" in out and "val_loss" in out
    assert "50/50" in out  # 1600 training samples / 32 per step
    # the numbers shown are the epoch's: the final line of epoch 2 shows history's loss
    shown = re.findall(r"- loss: ([0-9.]+)", out)
    assert shown and float(shown[-1]) == pytest.approx(history.history["loss"][-1], abs=6e-4)
    # verbose=0 prints nothing
    fm.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""


def test_fit_verbose_2_prints_one_line_per_epoch(capsys, small_data):
    arch = SEED_ARCHS["002"]
    (x, y), _ = small_data
    x, y = seed_inputs("002", x, y)
    _, fm = build_pair(arch["input_shape"], arch["layers"], seed=0)
    fm.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    capsys.readouterr()
    fm.fit(x, y, batch_size=32, epochs=3, verbose=2)
    out = capsys.readouterr().out
    lines = [l for l in out.replace("\r", "\n").splitlines() if "loss:" in l]
    assert len(lines) == 3, out
    assert all("accuracy:" in l for l in lines)
