"""Adagrad, Adadelta, Adamax, Nadam, Ftrl, Lion, amsgrad, clipnorm,
global_clipnorm, clipvalue, weight_decay and use_ema against real Keras
3.15: the same initial weights, 16 steps (two epochs of 256 samples,
shuffle=False), then every weight and every optimizer variable compared,
in Keras's order (which is what .keras files store); files both ways with
training resumed on the other side; string names, Keras's and tf.keras's
optimizer objects, and bad arguments.

Tolerance: 1e-4 of each tensor's largest magnitude. Both sides do the same
float32 operations in the same order (cpp/optimizer*.cpp mirrors
keras/src/optimizers/*.py and base_optimizer.py), so they differ by the
forward/backward kernels' round-off (~1e-7 relative per step); measured
over these 16 steps the largest difference is 8e-6 of the tensor's scale
(Adam with amsgrad; most are ~3e-7), and a wrong term (a missing bias
correction, clipping in the wrong place, the EMA's first step, the order
of weight decay and update) moves the weights by 1e-3 or more of their
scale. Lion's sign() could flip on an element whose argument is within
round-off of zero; none does on this data.
"""

import warnings

import numpy as np
import pytest
import tensorflow as tf

import fmnistcpp
import keras

TOL = 1e-4
N, BATCH, EPOCHS = 256, 32, 2


@pytest.fixture(scope="module")
def data(small_data):
    (x, y), _ = small_data
    return np.ascontiguousarray(x[:N].reshape(N, 784)), y[:N]


def _pair(seed=0):
    def layers(m):
        return [m.Input((784,)), m.layers.Dense(24, activation="relu"),
                m.layers.Dense(10, activation="softmax")]

    keras.utils.set_random_seed(seed)
    km = keras.Sequential(layers(keras))
    fm = fmnistcpp.Sequential(layers(fmnistcpp))
    rng = np.random.default_rng(seed + 1)  # non-zero biases: a less symmetric start
    km.set_weights([w if w.ndim > 1 else rng.normal(scale=0.05, size=w.shape).astype(np.float32)
                    for w in km.get_weights()])
    fm.set_weights(km.get_weights())
    return km, fm


def _make(module, cls, kwargs):
    kwargs = dict(kwargs)
    if "schedule" in kwargs:
        kwargs["learning_rate"] = module.optimizers.schedules.ExponentialDecay(
            **kwargs.pop("schedule"))
    return getattr(module.optimizers, cls)(**kwargs)


def _assert_close(f, k, what):
    assert f.shape == k.shape, what
    np.testing.assert_allclose(f, k, rtol=TOL, atol=TOL * max(float(np.abs(k).max()), 1e-30),
                               err_msg=what)


def _keras_state(km):
    """Keras's optimizer variables beyond iteration and learning_rate."""
    values = [v.numpy() for v in km.optimizer.variables]
    has_rate = any(v.path.endswith("/learning_rate") for v in km.optimizer.variables)
    return int(values[0]), values[2 if has_rate else 1:]


def _assert_same_training(km, fm):
    for i, (f, k) in enumerate(zip(fm.get_weights(), km.get_weights())):
        _assert_close(f, k, f"weight {i}")
    k_it, k_state = _keras_state(km)
    f_it, f_state = fm._optimizer_state()
    assert f_it == k_it == fm.optimizer.iterations
    assert len(f_state) == len(k_state)
    for i, (f, k) in enumerate(zip(f_state, k_state)):
        _assert_close(np.asarray(f), k, f"optimizer variable {i} ({km.optimizer.variables[i].path})")
    assert fm.optimizer.learning_rate == pytest.approx(float(km.optimizer.learning_rate),
                                                       rel=1e-6)


CASES = {
    "adagrad": ("Adagrad", dict(learning_rate=0.05)),
    "adagrad_options": ("Adagrad", dict(learning_rate=0.05, initial_accumulator_value=0.5,
                                        epsilon=1e-5)),
    "adadelta": ("Adadelta", dict(learning_rate=1.0)),
    "adadelta_rho": ("Adadelta", dict(learning_rate=0.5, rho=0.8, epsilon=1e-6)),
    "adamax": ("Adamax", dict(learning_rate=2e-3)),
    "adamax_betas": ("Adamax", dict(learning_rate=2e-3, beta_1=0.8, beta_2=0.99)),
    "nadam": ("Nadam", dict(learning_rate=2e-3)),
    "nadam_betas": ("Nadam", dict(learning_rate=1e-3, beta_1=0.85, beta_2=0.99, epsilon=1e-5)),
    "nadam_schedule": ("Nadam", dict(schedule=dict(initial_learning_rate=3e-3, decay_steps=5,
                                                   decay_rate=0.7))),
    "ftrl": ("Ftrl", dict(learning_rate=0.05)),
    "ftrl_every_option": ("Ftrl", dict(learning_rate=0.1, learning_rate_power=-0.7,
                                       initial_accumulator_value=0.2,
                                       l1_regularization_strength=1e-3,
                                       l2_regularization_strength=1e-2,
                                       l2_shrinkage_regularization_strength=1e-2, beta=0.1)),
    "lion": ("Lion", dict(learning_rate=1e-4)),
    "lion_betas_weight_decay": ("Lion", dict(learning_rate=3e-4, beta_1=0.95, beta_2=0.98,
                                             weight_decay=0.5)),
    "adam_amsgrad": ("Adam", dict(learning_rate=2e-3, amsgrad=True)),
    "adamw_amsgrad": ("AdamW", dict(learning_rate=2e-3, amsgrad=True, weight_decay=0.1)),
    "adam_clipnorm": ("Adam", dict(clipnorm=0.05)),
    "sgd_clipnorm": ("SGD", dict(learning_rate=0.1, clipnorm=0.02)),
    "sgd_global_clipnorm": ("SGD", dict(learning_rate=0.1, momentum=0.5, global_clipnorm=0.05)),
    "nadam_global_clipnorm": ("Nadam", dict(global_clipnorm=0.1)),
    "sgd_clipvalue": ("SGD", dict(learning_rate=0.1, clipvalue=2e-3)),
    "rmsprop_clipvalue": ("RMSprop", dict(clipvalue=1e-3)),
    "adagrad_weight_decay": ("Adagrad", dict(learning_rate=0.05, weight_decay=0.2)),
    "adam_ema": ("Adam", dict(use_ema=True, ema_momentum=0.9)),
    "sgd_ema_overwrite": ("SGD", dict(learning_rate=0.1, momentum=0.9, use_ema=True,
                                      ema_overwrite_frequency=5)),
    "nadam_ema_weight_decay": ("Nadam", dict(use_ema=True, weight_decay=0.05)),
    "rmsprop_ema_centered_clipnorm": ("RMSprop", dict(momentum=0.5, centered=True, use_ema=True,
                                                      ema_momentum=0.8, clipnorm=0.5)),
    "lion_ema": ("Lion", dict(use_ema=True, ema_momentum=0.5)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_weights_and_state_after_16_steps_match_keras(case, data):
    cls, kwargs = CASES[case]
    x, y = data
    km, fm = _pair()
    start = [w.copy() for w in fm.get_weights()]
    km.compile(_make(keras, cls, kwargs), "sparse_categorical_crossentropy")
    fm.compile(_make(fmnistcpp, cls, kwargs), "sparse_categorical_crossentropy")
    fit = dict(batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0)
    kh, fh = km.fit(x, y, **fit), fm.fit(x, y, **fit)
    np.testing.assert_allclose(fh.history["loss"], kh.history["loss"], rtol=0, atol=1e-5)
    _assert_same_training(km, fm)
    # not vacuous: the weights moved by far more than the tolerance
    moved = max(float(np.abs(w - s).max() / np.abs(s).max())
                for w, s in zip(fm.get_weights(), start))
    assert moved > 100 * TOL


def _fit_fm(cls, kwargs, data):
    x, y = data
    _, fm = _pair()
    fm.compile(_make(fmnistcpp, cls, kwargs), "sparse_categorical_crossentropy")
    fm.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0)
    return fm.get_weights()


@pytest.mark.parametrize("cls, base, option", [
    ("SGD", dict(learning_rate=0.1), dict(clipnorm=0.02)),
    ("SGD", dict(learning_rate=0.1), dict(global_clipnorm=0.05)),
    ("SGD", dict(learning_rate=0.1), dict(clipvalue=2e-3)),
    # (a fast-forgetting second moment, so its running maximum matters)
    ("Adam", dict(learning_rate=2e-3, beta_2=0.8), dict(amsgrad=True)),
    ("Adam", dict(learning_rate=2e-3), dict(use_ema=True, ema_momentum=0.9)),
])
def test_each_option_changes_the_result(cls, base, option, data):
    # The parity cases above would pass with an option silently ignored if
    # Keras ignored it too; check that each one acts.
    with_it = _fit_fm(cls, {**base, **option}, data)
    without = _fit_fm(cls, base, data)
    diff = max(float(np.abs(a - b).max() / np.abs(b).max()) for a, b in zip(with_it, without))
    assert diff > 100 * TOL


def test_ema_weights_are_the_averages_after_fit(data):
    x, y = data
    _, fm = _pair()
    fm.compile(fmnistcpp.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.7),
               "sparse_categorical_crossentropy")
    fm.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    _, state = fm._optimizer_state()
    for w, average in zip(fm.get_weights(), state):  # the "average" slots come first
        np.testing.assert_array_equal(w, average)
    # train_on_batch does not finalize (as Keras's)
    fm.train_on_batch(x[:32], y[:32])
    assert not np.array_equal(fm.get_weights()[0], fm._optimizer_state()[1][0])


NEW = {
    "adagrad": ("Adagrad", dict(learning_rate=0.05)),
    "adadelta": ("Adadelta", dict(learning_rate=1.0)),
    "adamax": ("Adamax", {}),
    "nadam": ("Nadam", {}),
    "nadam_ema": ("Nadam", dict(use_ema=True)),
    "ftrl": ("Ftrl", dict(learning_rate=0.05, l2_regularization_strength=0.01)),
    "lion": ("Lion", dict(learning_rate=1e-4)),
    "adam_amsgrad": ("Adam", dict(amsgrad=True)),
    "sgd_clipnorm": ("SGD", dict(clipnorm=0.5)),
}


@pytest.mark.parametrize("case", sorted(NEW))
def test_keras_files_carry_the_state_both_ways(case, data, tmp_path):
    cls, kwargs = NEW[case]
    x, y = data
    fit = dict(batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    km, fm = _pair()
    km.compile(_make(keras, cls, kwargs), "sparse_categorical_crossentropy")
    fm.compile(_make(fmnistcpp, cls, kwargs), "sparse_categorical_crossentropy")
    km.fit(x, y, **fit)
    fm.fit(x, y, **fit)
    fpath, kpath = str(tmp_path / "f.keras"), str(tmp_path / "k.keras")
    fm.save(fpath)
    km.save(kpath)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Skipping variable loading for optimizer ..."
        theirs = keras.saving.load_model(fpath)
        ours = fmnistcpp.saving.load_model(kpath)
    assert type(theirs.optimizer).__name__ == type(ours.optimizer).__name__ == cls
    assert type(ours.optimizer) is type(fm.optimizer)
    # each read the other's state; one more epoch on each side stays together
    theirs.fit(x, y, **fit)
    ours.fit(x, y, **fit)
    km.fit(x, y, **fit)
    _assert_same_training(theirs, ours)
    _assert_same_training(km, ours)


NAMES = ["adagrad", "Adadelta", "adamax", "NADAM", "ftrl", "lion", "adam", "adamw", "sgd",
         "rmsprop"]


@pytest.mark.parametrize("name", NAMES)
def test_string_names_make_keras_defaults(name):
    ours = fmnistcpp.optimizers.get(name)
    theirs = keras.optimizers.get(name)
    assert type(ours).__name__ == type(theirs).__name__
    want = theirs.get_config()
    got = ours.get_config()
    assert got.pop("learning_rate") == pytest.approx(want.pop("learning_rate"), rel=1e-7)
    got.pop("name"), want.pop("name")  # Keras numbers its names: adam, adam_1, ...
    assert got == want


def test_keras_and_tf_keras_optimizer_objects_are_converted(data):
    x, y = data
    sched = dict(initial_learning_rate=2e-3, decay_steps=4, decay_rate=0.8)
    for kopt in (keras.optimizers.Nadam(learning_rate=2e-3, clipnorm=0.5, use_ema=True),
                 tf.keras.optimizers.Adam(tf.keras.optimizers.schedules.ExponentialDecay(**sched),
                                          amsgrad=True),
                 keras.optimizers.Ftrl(learning_rate=0.05, l1_regularization_strength=1e-3)):
        km, fm = _pair()
        fm.compile(kopt, "sparse_categorical_crossentropy")
        assert isinstance(fm.optimizer, getattr(fmnistcpp.optimizers, type(kopt).__name__))
        assert fm.optimizer.get_config()["clipnorm"] == kopt.get_config()["clipnorm"]
        # trains exactly as that Keras optimizer does
        km.compile(type(kopt).from_config(kopt.get_config()), "sparse_categorical_crossentropy")
        fit = dict(batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0)
        km.fit(x, y, **fit)
        fm.fit(x, y, **fit)
        _assert_same_training(km, fm)
    for unsupported in (keras.optimizers.Lamb(), keras.optimizers.Adafactor()):
        with pytest.raises(NotImplementedError, match="supported: Adadelta, Adagrad"):
            fmnistcpp.optimizers.get(unsupported)


@pytest.mark.parametrize("make, error, match", [
    (lambda o: o.Lion(beta_1=0.0), ValueError, "beta_1"),
    (lambda o: o.Lion(beta_1=1.5), ValueError, "beta_1"),
    (lambda o: o.Ftrl(learning_rate_power=0.5), ValueError, "learning_rate_power"),
    (lambda o: o.Ftrl(initial_accumulator_value=-1.0), ValueError, "initial_accumulator_value"),
    (lambda o: o.Ftrl(l1_regularization_strength=-1.0), ValueError, "l1_regularization"),
    (lambda o: o.Adam(clipnorm=1.0, clipvalue=1.0), ValueError, "Only one of"),
    (lambda o: o.SGD(clipnorm=1.0, global_clipnorm=1.0), ValueError, "Only one of"),
    (lambda o: o.Adam(use_ema=True, ema_momentum=1.5), ValueError, "ema_momentum"),
    (lambda o: o.Adam(use_ema=True, ema_overwrite_frequency=-2), ValueError,
     "ema_overwrite_frequency"),
    (lambda o: o.Adam(foo=1), ValueError, "not recognized"),
])
def test_bad_arguments_fail_as_in_keras(make, error, match):
    with pytest.raises(error, match=match):
        make(keras.optimizers)
    with pytest.raises(error, match=match):
        make(fmnistcpp.optimizers)


@pytest.mark.parametrize("make, error, match", [
    (lambda o: o.Adagrad(epsilon="small"), ValueError, "epsilon must be a number"),
    (lambda o: o.Nadam(beta_1=1.0), ValueError, r"beta_1 must be in \[0.0, 1.0\)"),
    (lambda o: o.Adamax(beta_2=-0.1), ValueError, "beta_2"),
    (lambda o: o.Adadelta(rho=2.0), ValueError, "rho"),
    (lambda o: o.Adam(clipnorm=float("nan")), ValueError, "clipnorm must be a finite"),
    (lambda o: o.Adam(ema_overwrite_frequency=2.5, use_ema=True), ValueError,
     "ema_overwrite_frequency"),
    (lambda o: o.Adam(gradient_accumulation_steps=4), NotImplementedError, "batch_size"),
    (lambda o: o.SGD(loss_scale_factor=128.0), NotImplementedError, "float32"),
])
def test_bad_and_unsupported_arguments_are_clear_errors(make, error, match):
    with pytest.raises(error, match=match):
        make(fmnistcpp.optimizers)


def test_unknown_names_list_the_known_ones():
    with pytest.raises(ValueError, match="Unknown optimizer 'adamm'.*'nadam'"):
        fmnistcpp.optimizers.get("adamm")
    with pytest.raises(NotImplementedError, match="'lamb' is not supported"):
        fmnistcpp.optimizers.get("lamb")
    with pytest.raises(ValueError, match="cannot be read.*compile=False"):
        from fmnistcpp.saving.compile_serialization import optimizer_from_keras
        optimizer_from_keras({"class_name": "Muon", "config": {}})
