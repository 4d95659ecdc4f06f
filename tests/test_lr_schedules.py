"""Learning-rate schedules against Keras 3's: the value at every step,
configs and files both ways, and training under a schedule."""

import numpy as np
import pytest

import keras

import fmnistcpp

STEPS = np.array([0, 1, 2, 5, 9, 10, 11, 17, 29, 30, 31, 64, 100, 250, 1000])

CASES = [
    ("PiecewiseConstantDecay", dict(boundaries=[10, 30], values=[0.1, 0.01, 0.001])),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=30)),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=30, end_learning_rate=0.01,
                             power=0.5, cycle=True)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5,
                              staircase=True)),
    ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=100)),
    ("CosineDecay", dict(initial_learning_rate=0.0, decay_steps=100, alpha=0.1,
                         warmup_target=0.1, warmup_steps=20)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=10)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=10, t_mul=1.0,
                                 m_mul=0.5, alpha=0.05)),
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.9)),
]


def make(lib, name, kwargs):
    return getattr(lib.optimizers.schedules, name)(**kwargs)


@pytest.mark.parametrize("name, kwargs", CASES)
def test_values_match_keras_at_every_step(name, kwargs):
    ours, theirs = make(fmnistcpp, name, kwargs), make(keras, name, kwargs)
    got = np.array([ours(s) for s in STEPS], dtype=np.float32)
    want = np.array([np.asarray(theirs(s)) for s in STEPS], dtype=np.float32)
    # Both compute in float32; the order of operations may differ by an ulp or two
    # (TensorFlow's cos/log against NumPy's), hence 1e-6 relative, not equality.
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)
    assert ours.get_config() == theirs.get_config()
    back = keras.optimizers.schedules.deserialize(fmnistcpp.optimizers.schedules.serialize(ours))
    assert type(back).__name__ == name and back.get_config() == theirs.get_config()
    again = fmnistcpp.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(theirs))
    assert again.get_config() == ours.get_config()


def test_training_under_a_schedule_matches_keras(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.random((96, 12), dtype=np.float32)
    y = rng.integers(0, 4, 96)
    args = dict(initial_learning_rate=0.2, decay_steps=6, end_learning_rate=0.01, power=2.0)

    def build(lib):
        m = lib.Sequential([lib.Input((12,)), lib.layers.Dense(8, activation="tanh"),
                            lib.layers.Dense(4, activation="softmax")])
        m.compile(lib.optimizers.SGD(lib.optimizers.schedules.PolynomialDecay(**args)),
                  loss="sparse_categorical_crossentropy")
        return m

    km, fm = build(keras), build(fmnistcpp)
    fm.set_weights(km.get_weights())
    kh = km.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    fh = fm.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    # 12 SGD steps through tanh: float32 round-off only, the suite's training tolerance.
    np.testing.assert_allclose(fh.history["loss"], kh.history["loss"], rtol=1e-4)
    for a, b in zip(fm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    # After 12 steps the decay is over: the rate is the end value, as Keras reports.
    assert fm.optimizer.learning_rate == pytest.approx(float(km.optimizer.learning_rate), 1e-6)
    assert fm.optimizer.learning_rate == pytest.approx(0.01, 1e-6)
    path = str(tmp_path / "m.keras")
    fm.save(path)
    loaded = keras.models.load_model(path)
    schedule = loaded.optimizer._learning_rate
    assert type(schedule).__name__ == "PolynomialDecay" and schedule.get_config()["power"] == 2.0
    mine = fmnistcpp.models.load_model(path)
    assert mine.optimizer.get_config()["learning_rate"]["class_name"] == "PolynomialDecay"


@pytest.mark.parametrize("make_bad, match", [
    (lambda s: s.PiecewiseConstantDecay([10], [0.1]), "boundaries should be 1 less"),
    (lambda s: s.PolynomialDecay(0.1, decay_steps=0), "decay_steps"),
    (lambda s: s.InverseTimeDecay(0.1, 10, decay_rate="fast"), "decay_rate must be a finite"),
    (lambda s: s.CosineDecay(0.1, 10, warmup_target=float("nan")), "warmup_target"),
    (lambda s: s.CosineDecayRestarts(0.1, first_decay_steps=-1), "first_decay_steps"),
])
def test_bad_arguments_are_value_errors(make_bad, match):
    with pytest.raises(ValueError, match=match):
        make_bad(fmnistcpp.optimizers.schedules)
