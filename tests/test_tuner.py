"""fmnistcpp.tuner: keras-tuner's API over fmnistcpp models.

The Hyperband schedule is checked against keras-tuner's formulas, written
out here from `keras_tuner/src/tuners/hyperband.py` (HyperbandOracle:
`_get_num_brackets`, `_get_size`, `_get_epochs`, `populate_space`), so the
test does not need keras_tuner installed. The searches train small MLPs on
the first 3000 Fashion-MNIST images; a learning rate of 1e-6 barely moves
Adam from its initial weights in 2-3 epochs, 1e-3 reaches ~75 %, so the
better configuration is unmistakable.
"""

import json
import math
import os
import random

import numpy as np
import pytest

import fmnistcpp as keras
from fmnistcpp import tuner as kt
from fmnistcpp.tuner.trial import TrialStatus

N_TRAIN = 3000


@pytest.fixture(scope="module")
def data():
    (x, y), _ = keras.datasets.fashion_mnist.load_data()
    return (x[:N_TRAIN] / 255.0).astype(np.float32), y[:N_TRAIN]


def build_mlp(hp):
    model = keras.Sequential([
        keras.layers.Flatten(input_shape=(28, 28)),
        keras.layers.Dense(hp.Choice("units", [16, 32]), activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(
                      learning_rate=hp.Choice("learning_rate", [1e-6, 1e-3])),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class CountingModel(kt.HyperModel):
    """build_mlp, counting fits and recording what each fit started from."""

    def __init__(self):
        super().__init__()
        self.fits = []

    def build(self, hp):
        return build_mlp(hp)

    def fit(self, hp, model, *args, **kwargs):
        self.fits.append(dict(values=dict(hp.values), epochs=kwargs.get("epochs"),
                              initial_epoch=kwargs.get("initial_epoch", 0),
                              weights=[w.copy() for w in model.get_weights()]))
        return model.fit(*args, **kwargs)


# --- hyperparameters --------------------------------------------------------------------------
def test_sampling_follows_keras_tuner_formulas():
    hp_int = kt.Int("units", 32, 512, step=32)
    hp_log = kt.Float("lr", 1e-4, 1e-1, sampling="log")
    hp_intlog = kt.Int("batch", 2, 32, step=2, sampling="log")
    hp_choice = kt.Choice("act", ["relu", "tanh", "sigmoid"])
    hp_float = kt.Float("drop", 0.0, 0.5, step=0.1)
    seen = set()
    for seed in range(200):
        prob = random.Random(seed).random()
        assert hp_int.random_sample(seed) == 32 + math.floor(prob * 16) * 32
        assert hp_log.random_sample(seed) == pytest.approx(1e-4 * 1000 ** prob, rel=1e-12)
        assert hp_intlog.random_sample(seed) == 2 * 2 ** math.floor(prob * 5)
        assert hp_choice.random_sample(seed) == ["relu", "tanh", "sigmoid"][math.floor(prob * 3)]
        assert hp_float.random_sample(seed) == pytest.approx(math.floor(prob * 6) * 0.1)
        seen.add(hp_int.random_sample(seed))
    assert seen == set(range(32, 513, 32))  # every value drawn, max_value included
    assert kt.Boolean("b").random_sample(0) in (True, False)
    assert kt.Fixed("f", 7).random_sample(3) == 7


def test_hyperparameters_values_defaults_and_config_round_trip():
    hp = kt.HyperParameters()
    assert hp.Int("units", 32, 512, step=32) == 32
    assert hp.Float("dropout", 0.1, 0.5) == 0.1
    assert hp.Float("lr", 1e-4, 1e-2, sampling="log", default=1e-3) == 1e-3
    assert hp.Choice("learning_rate", [1e-2, 1e-3, 1e-4]) == 1e-2
    assert hp.Boolean("bn") is False
    assert hp.Fixed("optimizer", "adam") == "adam"
    hp.values["units"] = 256
    assert hp.Int("units", 32, 512, step=32) == 256  # a chosen value wins over the default
    assert hp.get("units") == 256 and hp["learning_rate"] == 1e-2 and "bn" in hp
    with pytest.raises(KeyError, match="nope"):
        hp.get("nope")
    config = json.loads(json.dumps(hp.get_config()))  # JSON-serialisable
    back = kt.HyperParameters.from_config(config)
    assert back.values == hp.values
    assert [(type(p).__name__, p.get_config()) for p in back.space] == \
        [(type(p).__name__, p.get_config()) for p in hp.space]
    assert back == hp
    with pytest.raises(ValueError, match="HyperParameters config"):
        kt.HyperParameters.from_config({"values": {}})


@pytest.mark.parametrize("make, match", [
    (lambda: kt.Int("u", 10, 5), "greater than"),
    (lambda: kt.Float("f", 1.0, 0.5), "greater than"),
    (lambda: kt.Int("u", 1.5, 5), "integer"),
    (lambda: kt.Float("f", 0.0, 1.0, sampling="log"), "min_value > 0"),
    (lambda: kt.Float("f", 0.1, 1.0, sampling="cubic"), "sampling"),
    (lambda: kt.Int("u", 1, 64, step=1, sampling="log"), "greater than 1|> 1"),
    (lambda: kt.Int("u", 1, 5, default=9), "outside"),
    (lambda: kt.Choice("c", []), "non-empty"),
    (lambda: kt.Choice("c", [1, "a"]), "one type"),
    (lambda: kt.Choice("c", [1, 2], default=3), "not one of"),
    (lambda: kt.Choice("c", ["a", "b"], ordered=True), "ordered"),
    (lambda: kt.Int("", 1, 2), "name"),
    (lambda: kt.Objective("val_accuracy", "up"), "direction"),
])
def test_bad_hyperparameters_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# --- the Hyperband schedule -----------------------------------------------------------------------
def keras_tuner_schedule(max_epochs, factor, iterations=1):
    """keras-tuner's sequence of (bracket, round, epochs, initial_epoch) when
    trials run one at a time, from its documented formulas."""
    brackets, e = 0, max_epochs
    while e >= 1:  # _get_num_brackets (min_epochs = 1)
        e /= factor
        brackets += 1

    def size(b, r):  # _get_size
        end0 = math.ceil(1 + math.log(max_epochs, factor))
        return math.ceil(end0 / (b + 1) * factor ** (b - r))

    def epochs(b, r):  # _get_epochs
        return math.ceil(max_epochs / factor ** (b - r))

    schedule = []
    for _ in range(iterations):
        for b in reversed(range(brackets)):  # most aggressive bracket first
            for r in range(b + 1):
                schedule += [(b, r, epochs(b, r), epochs(b, r - 1) if r else 0)] * size(b, r)
    return schedule, size


def drive_oracle(oracle, score_of):
    """Runs the oracle to the end without training: each trial's score is
    score_of(trial). Returns the trials in creation order."""
    order = []
    while True:
        trial = oracle.create_trial("tuner0")
        if trial.status == TrialStatus.STOPPED:
            return order
        assert trial.status == TrialStatus.RUNNING
        oracle.update_trial(trial.trial_id, {"val_accuracy": score_of(trial)})
        trial.status = TrialStatus.COMPLETED
        oracle.end_trial(trial)
        order.append(trial)


@pytest.mark.parametrize("max_epochs, factor, iterations", [(10, 3, 1), (27, 3, 1), (9, 2, 1),
                                                            (5, 4, 2)])
def test_hyperband_schedule_equals_keras_tuners(tmp_path, max_epochs, factor, iterations):
    space = kt.HyperParameters()
    space.Int("x", 0, 10**6)
    oracle = kt.HyperbandOracle("val_accuracy", max_epochs=max_epochs, factor=factor,
                                hyperband_iterations=iterations, seed=3, hyperparameters=space)
    oracle.verbose = 0
    oracle._set_project_dir(str(tmp_path))
    rng = random.Random(0)
    scores = {}
    trials = drive_oracle(oracle, lambda t: scores.setdefault(t.trial_id, rng.random()))

    expected, size = keras_tuner_schedule(max_epochs, factor, iterations)
    got = [tuple(t.hyperparameters.values[k] for k in
                 ("tuner/bracket", "tuner/round", "tuner/epochs", "tuner/initial_epoch"))
           for t in trials]
    assert got == expected
    if (max_epochs, factor) == (10, 3):
        assert len(trials) == 30  # the TensorFlow Hyperband tutorial runs 30 trials

    # Round r > 0 continues the best size(b, r) trials of round r - 1, best first,
    # with their values.
    by_id = {t.trial_id: t for t in trials}
    previous, start = None, 0
    while start < len(trials):
        b, r = got[start][:2]
        n = size(b, r)
        group = trials[start:start + n]
        if r == 0:
            assert all("tuner/trial_id" not in t.hyperparameters.values for t in group)
        else:
            parents = [t.hyperparameters.values["tuner/trial_id"] for t in group]
            ranked = sorted(previous, key=lambda t: scores[t.trial_id], reverse=True)
            assert parents == [t.trial_id for t in ranked[:n]]
            for t in group:
                parent = by_id[t.hyperparameters.values["tuner/trial_id"]]
                assert t.hyperparameters.values["x"] == parent.hyperparameters.values["x"]
        previous = group
        start += n
    assert trials[0].trial_id == "0000"  # keras-tuner: zero-padded to len(str(None))


def test_checkpoint_and_score_are_the_best_epochs():
    """keras-tuner's SaveBestEpoch and _get_best_value_and_best_epoch_from_history:
    weights are saved only when the objective improves, and the trial's metrics
    are those of the first best epoch."""
    from fmnistcpp.tuner.tuner import _best_epoch, _SaveBestEpoch, _to_metrics

    class FakeModel:
        saved = []

        def save_weights(self, path):
            FakeModel.saved.append(epoch)

    objective = kt.Objective("val_accuracy", "max")
    cb = _SaveBestEpoch(objective, "unused.weights.h5")
    cb.set_model(FakeModel())
    val = [0.5, 0.7, 0.6, 0.7, 0.65]
    for epoch, v in enumerate(val):
        cb.on_epoch_end(epoch, {"val_accuracy": v, "val_loss": 1 - v})
    assert FakeModel.saved == [0, 1]
    history = keras.callbacks.History()
    history.history = {"val_accuracy": val, "val_loss": [1 - v for v in val]}
    assert _best_epoch(history, objective) == ({"val_accuracy": 0.7, "val_loss": 1 - 0.7}, 1)
    assert _best_epoch(history, kt.Objective("val_loss", "min"))[1] == 1
    other = keras.callbacks.History()
    other.history = {"val_accuracy": [0.4, 0.9], "val_loss": [0.6, 0.1]}
    metrics, step = _to_metrics([history, other], objective)  # executions are averaged
    assert metrics["val_accuracy"] == pytest.approx((0.7 + 0.9) / 2) and step == 1


# --- searches -----------------------------------------------------------------------------
def test_random_search_finds_the_good_learning_rate(tmp_path, data, capsys):
    x, y = data
    tuner = kt.RandomSearch(build_mlp, objective="val_accuracy", max_trials=4, seed=1,
                            directory=tmp_path, project_name="rs")
    assert tuner.oracle.objective.direction == "max"
    tuner.search_space_summary()
    tuner.search(x, y, epochs=2, validation_split=0.2, verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert len(trials) == 4 and all(t.status == "COMPLETED" for t in trials)
    # 4 trials cover the 4 configurations (repeats are redrawn).
    assert {(t.hyperparameters["units"], t.hyperparameters["learning_rate"]) for t in trials} \
        == {(16, 1e-6), (32, 1e-6), (16, 1e-3), (32, 1e-3)}
    good = [t.score for t in trials if t.hyperparameters["learning_rate"] == 1e-3]
    bad = [t.score for t in trials if t.hyperparameters["learning_rate"] == 1e-6]
    # Measured ~0.75-0.8 against ~0.1-0.3: a margin of 0.3 cannot be noise.
    assert min(good) > max(bad) + 0.3
    best_hp = tuner.get_best_hyperparameters()[0]
    assert best_hp["learning_rate"] == 1e-3

    # The best model is the trial's best epoch: its accuracy on the validation
    # slice (the last 20 %) is the recorded score. Accuracy is a count of
    # correct predictions, so the only tolerance is float formatting.
    best_model = tuner.get_best_models(num_models=1)[0]
    _, val_acc = best_model.evaluate(x[2400:], y[2400:], verbose=0)
    assert val_acc == pytest.approx(tuner.oracle.get_best_trials()[0].score, abs=1e-9)

    capsys.readouterr()
    tuner.results_summary(num_trials=2)
    out = capsys.readouterr().out
    assert out.startswith("Results summary\nResults in ")
    assert 'Objective(name="val_accuracy", direction="max")' in out
    assert out.count("summary\nHyperparameters:") == 2 and "learning_rate: 0.001" in out
    for t in trials:
        trial_dir = tmp_path / "rs" / f"trial_{t.trial_id}"
        assert (trial_dir / "trial.json").is_file()
        assert (trial_dir / "checkpoint.weights.h5").is_file()
    assert (tmp_path / "rs" / "oracle.json").is_file()


def test_hyperband_finds_the_good_learning_rate_and_continues_parents(tmp_path, data):
    x, y = data
    hypermodel = CountingModel()
    tuner = kt.Hyperband(hypermodel, objective="val_accuracy", max_epochs=3, factor=3, seed=2,
                         directory=tmp_path, project_name="hb")
    tuner.search(x, y, epochs=50, validation_split=0.2, verbose=0)
    trials = list(tuner.oracle.trials.values())
    # max_epochs=3, factor=3: bracket 1 (3 trials of 1 epoch, the best one to
    # epoch 3), then bracket 0 (2 trials of 3 epochs).
    assert [(f["epochs"], f["initial_epoch"]) for f in hypermodel.fits] == \
        [(1, 0)] * 3 + [(3, 1)] + [(3, 0)] * 2
    assert tuner.get_best_hyperparameters()[0]["learning_rate"] == 1e-3
    best = tuner.oracle.get_best_trials()[0]
    assert best.score > 0.6  # measured ~0.75; 1e-6 stays below ~0.35

    # The promoted trial starts from its parent's best-epoch checkpoint.
    promoted = trials[3]
    parent_id = promoted.hyperparameters["tuner/trial_id"]
    parent = tuner.load_model(tuner.oracle.get_trial(parent_id))
    for w_start, w_parent in zip(hypermodel.fits[3]["weights"], parent.get_weights()):
        np.testing.assert_array_equal(w_start, w_parent)
    ranked_round0 = sorted(trials[:3], key=lambda t: t.score, reverse=True)
    assert parent_id == ranked_round0[0].trial_id

    model = tuner.get_best_models()[0]
    _, val_acc = model.evaluate(x[2400:], y[2400:], verbose=0)
    assert val_acc == pytest.approx(best.score, abs=1e-9)


class EpochRecorder(keras.callbacks.Callback):
    instances = []

    def on_train_begin(self, logs=None):
        EpochRecorder.instances.append(self)
        self.epochs = 0

    def on_epoch_end(self, epoch, logs=None):
        self.epochs += 1


def test_callbacks_are_copied_per_trial_and_early_stopping_works(tmp_path, data):
    x, y = data
    EpochRecorder.instances = []
    recorder = EpochRecorder()
    # min_delta larger than any change: patience 0 stops after the 2nd epoch.
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=0, min_delta=10.0)
    tuner = kt.RandomSearch(build_mlp, objective="val_loss", max_trials=3, seed=5,
                            directory=tmp_path, project_name="cb", executions_per_trial=2)
    assert tuner.oracle.objective.direction == "min"
    tuner.search(x, y, epochs=6, validation_split=0.2, callbacks=[stop, recorder], verbose=0)
    used = EpochRecorder.instances
    assert len(used) == 6 and len({id(c) for c in used}) == 6  # 3 trials x 2 executions
    assert recorder not in used and recorder.model is None and stop.model is None
    assert [c.epochs for c in used] == [2] * 6


def test_resume_does_not_rerun_finished_trials(tmp_path, data):
    x, y = data
    args = dict(objective="val_accuracy", seed=7, directory=tmp_path, project_name="resume")
    first = CountingModel()
    kt.RandomSearch(first, max_trials=2, **args).search(x, y, epochs=1, validation_split=0.2,
                                                        verbose=0)
    assert len(first.fits) == 2

    again = CountingModel()
    tuner = kt.RandomSearch(again, max_trials=2, **args)
    assert len(tuner.oracle.trials) == 2 and tuner.remaining_trials == 0
    tuner.search(x, y, epochs=1, validation_split=0.2, verbose=0)
    assert again.fits == []

    more = CountingModel()
    tuner = kt.RandomSearch(more, max_trials=3, **args)
    tuner.search(x, y, epochs=1, validation_split=0.2, verbose=0)
    assert len(more.fits) == 1 and sorted(tuner.oracle.trials) == ["0", "1", "2"]
    # The sampling state was restored: the new trial's values are new.
    assert len({tuple(sorted(t.hyperparameters.values.items()))
                for t in tuner.oracle.trials.values()}) == 3

    fresh = CountingModel()
    tuner = kt.RandomSearch(fresh, max_trials=2, overwrite=True, **args)
    assert tuner.oracle.trials == {}
    tuner.search(x, y, epochs=1, validation_split=0.2, verbose=0)
    assert len(fresh.fits) == 2


class InterruptOnce(CountingModel):
    def fit(self, hp, model, *args, **kwargs):
        if len(self.fits) == 1:
            self.fits.append(None)
            raise KeyboardInterrupt
        return super().fit(hp, model, *args, **kwargs)


def test_an_interrupted_trial_runs_again_on_resume(tmp_path, data):
    x, y = data
    args = dict(objective="val_accuracy", max_trials=3, seed=11, directory=tmp_path,
                project_name="intr")
    hypermodel = InterruptOnce()
    with pytest.raises(KeyboardInterrupt):
        kt.RandomSearch(hypermodel, **args).search(x, y, epochs=1, validation_split=0.2,
                                                   verbose=0)
    status = json.loads((tmp_path / "intr" / "trial_1" / "trial.json").read_text())["status"]
    assert status == "RUNNING"
    values_1 = json.loads((tmp_path / "intr" / "trial_1" / "trial.json").read_text())[
        "hyperparameters"]["values"]
    resumed = CountingModel()
    tuner = kt.RandomSearch(resumed, **args)
    tuner.search(x, y, epochs=1, validation_split=0.2, verbose=0)
    assert len(resumed.fits) == 2  # trial 1 again, then trial 2; trial 0 not re-run
    assert resumed.fits[0]["values"] == values_1
    assert all(t.status == "COMPLETED" for t in tuner.oracle.trials.values())


def test_seeded_search_is_reproducible(tmp_path, data):
    x, y = data
    runs = []
    for name in ("a", "b"):
        tuner = kt.RandomSearch(build_mlp, objective="val_accuracy", max_trials=2, seed=123,
                                directory=tmp_path, project_name=name)
        tuner.search(x, y, epochs=1, validation_split=0.2, verbose=0)
        runs.append([(t.hyperparameters.values, t.score) for t in tuner.oracle.trials.values()])
    assert runs[0] == runs[1]


def test_corrupt_files_raise_value_error(tmp_path, data):
    x, y = data
    args = dict(objective="val_accuracy", max_trials=1, seed=1, directory=tmp_path,
                project_name="bad")
    kt.RandomSearch(build_mlp, **args).search(x, y, epochs=1, validation_split=0.2, verbose=0)
    trial_file = tmp_path / "bad" / "trial_0" / "trial.json"
    good = trial_file.read_text()
    trial_file.write_text(good[: len(good) // 2])
    with pytest.raises(ValueError, match="corrupt trial file .*trial_0"):
        kt.RandomSearch(build_mlp, **args)
    trial_file.write_text(json.dumps({"trial_id": "0"}))
    with pytest.raises(ValueError, match="corrupt trial"):
        kt.RandomSearch(build_mlp, **args)
    trial_file.write_text(good)
    (tmp_path / "bad" / "oracle.json").write_text("{not json")
    with pytest.raises(ValueError, match="corrupt oracle file"):
        kt.RandomSearch(build_mlp, **args)
    kt.RandomSearch(build_mlp, overwrite=True, **args)  # overwrite starts afresh
    assert not trial_file.exists()


def test_failing_trials_stop_the_search_with_the_reason(tmp_path, data):
    x, y = data
    # No validation data: the objective val_accuracy is never reported.
    tuner = kt.RandomSearch(build_mlp, objective="val_accuracy", max_trials=4, seed=1,
                            directory=tmp_path, project_name="fail")
    with pytest.raises(RuntimeError, match="consecutive failures(.|\n)*Objective value missing"):
        tuner.search(x, y, epochs=1, verbose=0)
    assert [t.status for t in tuner.oracle.trials.values()] == ["FAILED"] * 3


@pytest.mark.parametrize("make, match", [
    (lambda d: kt.RandomSearch(build_mlp, objective="val_foo", max_trials=2, directory=d),
     "infer optimization direction"),
    (lambda d: kt.RandomSearch(build_mlp, objective=kt.Objective("val_loss", "min"),
                               max_trials=0, directory=d), "max_trials"),
    (lambda d: kt.RandomSearch(build_mlp, objective="val_loss", max_trials=2.5, directory=d),
     "max_trials"),
    (lambda d: kt.RandomSearch(42, objective="val_loss", max_trials=2, directory=d),
     "hypermodel"),
    (lambda d: kt.RandomSearch(build_mlp, objective="val_loss", max_trials=2,
                               executions_per_trial=0, directory=d), "executions_per_trial"),
    (lambda d: kt.RandomSearch(build_mlp, objective="val_loss", max_trials=2,
                               max_consecutive_failed_trials=0, directory=d),
     "max_consecutive_failed_trials"),
    (lambda d: kt.Hyperband(build_mlp, objective="val_accuracy", max_epochs=0, directory=d),
     "max_epochs"),
    (lambda d: kt.Hyperband(build_mlp, objective="val_accuracy", max_epochs=10, factor=1,
                            directory=d), "factor"),
    (lambda d: kt.Hyperband(build_mlp, objective="val_accuracy", max_epochs=10,
                            hyperband_iterations=0, directory=d), "hyperband_iterations"),
    (lambda d: kt.RandomSearch(build_mlp, objective="val_loss", max_trials=2, seed=-1,
                               directory=d), "seed"),
])
def test_bad_tuner_arguments_raise(tmp_path, make, match):
    with pytest.raises(ValueError, match=match):
        make(tmp_path)
    assert not os.path.exists(tmp_path / "untitled_project" / "oracle.json")
