"""Initializers, regularizers, activity regularizers and constraints
against real Keras 3.

- initializers: every Keras name exists; each random initializer's samples
  follow the law Keras's do (KS test against the law with Keras's
  parameters, and two-sample KS against Keras's own samples); the
  deterministic ones are equal to Keras's; configs travel both ways and
  load from Keras files;
- regularizers (L1, L2, L1L2 on kernel and bias, and on
  LayerNormalization's gamma / beta), activity_regularizer and
  kernel_constraint / bias_constraint: training parity with Keras (two
  epochs, losses within 1e-4) and evaluate's loss.
"""

import warnings

import numpy as np
import pytest
from scipy import stats

import fmnistcpp
import keras
from test_keras_training_parity import _assert_history_matches, _fit_both

# A KS test at p > 1e-3 fails by chance once in a thousand runs per
# comparison; the seeds are fixed, so a run is reproducible either way.
P_MIN = 1e-3


def _samples(module, name, kwargs, shape, seed=0):
    module.utils.set_random_seed(seed)
    init = getattr(module.initializers, name)(**kwargs)
    return np.asarray(init(shape)).ravel().astype(np.float64)


def _fans(shape):
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


def _truncnorm(sd):
    return stats.truncnorm(-2, 2, loc=0, scale=sd)


DENSE, CONV = (300, 400), (3, 3, 32, 64)


def _law(name, kwargs, shape):
    """The law Keras documents for `name`, as a scipy distribution."""
    fan_in, fan_out = _fans(shape)
    if name == "RandomUniform":
        lo, hi = kwargs.get("minval", -0.05), kwargs.get("maxval", 0.05)
        return stats.uniform(lo, hi - lo)
    if name == "RandomNormal":
        return stats.norm(kwargs.get("mean", 0.0), kwargs.get("stddev", 0.05))
    if name == "TruncatedNormal":
        mean, sd = kwargs.get("mean", 0.0), kwargs.get("stddev", 0.05)
        return stats.truncnorm(-2, 2, loc=mean, scale=sd)
    scale, mode, dist = {
        "GlorotUniform": (1.0, "fan_avg", "uniform"), "GlorotNormal": (1.0, "fan_avg", "t"),
        "HeUniform": (2.0, "fan_in", "uniform"), "HeNormal": (2.0, "fan_in", "t"),
        "LecunUniform": (1.0, "fan_in", "uniform"), "LecunNormal": (1.0, "fan_in", "t"),
    }.get(name, (kwargs.get("scale", 1.0), kwargs.get("mode", "fan_in"),
                 {"truncated_normal": "t", "normal": "t", "untruncated_normal": "n",
                  "uniform": "uniform"}[kwargs.get("distribution", "truncated_normal")]))
    if "input_axes" in kwargs:
        fan_in = int(np.prod([shape[a] for a in kwargs["input_axes"]]))
        fan_out = int(np.prod([shape[a] for a in kwargs["output_axes"]]))
    fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    var = scale / max(1.0, fan)
    if dist == "uniform":
        limit = np.sqrt(3 * var)
        return stats.uniform(-limit, 2 * limit)
    if dist == "n":
        return stats.norm(0, np.sqrt(var))
    return _truncnorm(np.sqrt(var) / 0.87962566103423978)


RANDOM = [
    ("RandomUniform", dict(minval=-0.1, maxval=0.3), DENSE),
    ("RandomUniform", {}, DENSE),
    ("RandomNormal", dict(mean=0.2, stddev=0.07), DENSE),
    ("TruncatedNormal", dict(mean=0.1, stddev=0.2), DENSE),
    ("TruncatedNormal", {}, CONV),
] + [(name, {}, shape) for name in ("GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal",
                                    "LecunUniform", "LecunNormal") for shape in (DENSE, CONV)] + [
    ("VarianceScaling", dict(scale=2.5, mode=mode, distribution=dist), CONV)
    for mode in ("fan_in", "fan_out", "fan_avg")
    for dist in ("truncated_normal", "untruncated_normal", "uniform")] + [
    ("VarianceScaling", dict(distribution="normal"), DENSE),  # Keras's alias
    ("VarianceScaling", dict(scale=3.0, mode="fan_out", distribution="uniform",
                             input_axes=[0, 1, 2], output_axes=[3]), CONV),
    ("HeNormal", dict(input_axes=[2], output_axes=[3]), CONV),
]


@pytest.mark.parametrize("name,kwargs,shape", RANDOM,
                         ids=[f"{r[0]}-{i}" for i, r in enumerate(RANDOM)])
def test_random_initializers_follow_keras_laws(name, kwargs, shape):
    f = _samples(fmnistcpp, name, kwargs, shape)
    k = _samples(keras, name, kwargs, shape)
    law = _law(name, kwargs, shape)
    assert stats.kstest(f, law.cdf).pvalue > P_MIN
    assert stats.kstest(k, law.cdf).pvalue > P_MIN  # the law is Keras's
    assert stats.ks_2samp(f, k).pvalue > P_MIN
    lo, hi = law.support()
    assert f.min() >= lo - 1e-6 and f.max() <= hi + 1e-6


@pytest.mark.parametrize("gain,shape", [(1.0, (40, 30)), (1.5, (30, 40)), (0.5, (3, 3, 4, 20))])
def test_orthogonal_is_orthogonal_as_keras(gain, shape):
    for module in (fmnistcpp, keras):
        w = np.asarray(_samples(module, "Orthogonal", dict(gain=gain), shape)).reshape(
            int(np.prod(shape[:-1])), shape[-1])
        small = min(w.shape)
        gram = w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T
        np.testing.assert_allclose(gram, gain ** 2 * np.eye(small), atol=1e-5)
    # and its entries spread as Keras's (a random rotation's columns are uniform on
    # the sphere, so the entries' law is the same whatever the implementation)
    f = _samples(fmnistcpp, "Orthogonal", dict(gain=gain), shape)
    k = _samples(keras, "Orthogonal", dict(gain=gain), shape)
    assert stats.ks_2samp(f, k).pvalue > P_MIN
    with pytest.raises(ValueError, match="at least two-dimensional"):
        fmnistcpp.initializers.Orthogonal()((5,))


DETERMINISTIC = [
    ("Zeros", {}, (4, 5)), ("Ones", {}, (3, 3, 2, 2)), ("Constant", dict(value=0.3), (7,)),
    ("Constant", dict(value=np.arange(3.0)), (2, 3)), ("Identity", dict(gain=2.0), (4, 6)),
    ("STFT", {}, (16, 1, 9)), ("STFT", dict(side="imag", window="hamming"), (12, 1, 7)),
    ("STFT", dict(window=None, scaling="spectrum", periodic=True), (8, 1, 5)),
]


@pytest.mark.parametrize("name,kwargs,shape", DETERMINISTIC,
                         ids=[f"{d[0]}-{i}" for i, d in enumerate(DETERMINISTIC)])
def test_deterministic_initializers_equal_keras(name, kwargs, shape):
    f = getattr(fmnistcpp.initializers, name)(**kwargs)(shape)
    k = np.asarray(getattr(keras.initializers, name)(**kwargs)(shape))
    assert f.dtype == np.float32 and f.shape == k.shape
    np.testing.assert_allclose(f, k, rtol=1e-6, atol=1e-7)


def test_a_seeded_initializer_repeats_itself_as_in_keras():
    for name in ("RandomNormal", "HeUniform", "Orthogonal", "TruncatedNormal"):
        for module in (fmnistcpp, keras):
            init = getattr(module.initializers, name)(seed=7)
            np.testing.assert_array_equal(np.asarray(init((20, 30))), np.asarray(init((20, 30))))
        unseeded = getattr(fmnistcpp.initializers, name)()
        assert not np.array_equal(unseeded((20, 30)), unseeded((20, 30)))


def test_every_keras_initializer_name_exists():
    from keras.src.initializers import ALL_OBJECTS_DICT

    for name in ALL_OBJECTS_DICT:
        ours = fmnistcpp.initializers.get(name)
        try:
            theirs = keras.initializers.get(name)
        except KeyError:  # Keras's Constant.from_config needs a value: get("constant") fails
            assert name.lower() == "constant"
            continue
        assert type(ours).__name__ == type(theirs).__name__, name
    for name in dir(keras.initializers):
        if not name.startswith("_") and name not in ("deserialize", "get", "serialize"):
            assert hasattr(fmnistcpp.initializers, name), name
    with pytest.raises(ValueError, match="Could not interpret initializer"):
        fmnistcpp.initializers.get("he_sometimes")


CONFIGS = [
    keras.initializers.HeNormal(seed=3), keras.initializers.GlorotUniform(),
    keras.initializers.RandomNormal(mean=1.0, stddev=0.02, seed=5),
    keras.initializers.RandomUniform(minval=-0.2, maxval=0.1),
    keras.initializers.TruncatedNormal(stddev=0.3),
    keras.initializers.VarianceScaling(scale=0.5, mode="fan_out", distribution="uniform",
                                       input_axes=[0], output_axes=[1]),
    keras.initializers.Orthogonal(gain=2.0, seed=1), keras.initializers.Constant(0.25),
    keras.initializers.Identity(gain=0.5), keras.initializers.Zeros(), keras.initializers.Ones(),
    keras.initializers.STFT(side="imag", window="hann", scaling=None, periodic=True),
]


@pytest.mark.parametrize("keras_init", CONFIGS, ids=lambda i: type(i).__name__)
def test_configs_travel_both_ways(keras_init):
    serialized = keras.initializers.serialize(keras_init)
    ours = fmnistcpp.initializers.get(serialized)
    assert type(ours).__name__ == type(keras_init).__name__
    ours_config = ours.get_config()
    if isinstance(keras_init, keras.initializers.Identity):
        # Keras's Identity.get_config() leaves `gain` out, so its files lose it
        # (Keras reads them back with gain 1.0, and so does fmnistcpp); fmnistcpp
        # writes it, which Keras's from_config accepts
        assert ours_config.pop("gain") == keras.initializers.deserialize(serialized).gain
    assert ours_config == keras_init.get_config()
    back = keras.initializers.deserialize(fmnistcpp.initializers.serialize(ours))
    assert type(back) is type(keras_init) and back.get_config() == keras_init.get_config()
    # a Keras object handed to an fmnistcpp layer is converted, arguments and all
    converted = fmnistcpp.initializers.get(keras_init)
    assert type(converted) is type(ours)
    for key, value in converted.get_config().items():
        assert value == getattr(keras_init, key, keras_init.get_config().get(key)) or \
            key == "seed" and value == keras_init.get_config()["seed"], key


def test_initializers_load_from_a_keras_file(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((6, 6, 1)),
        keras.layers.Conv2D(4, 3, kernel_initializer=keras.initializers.Orthogonal(gain=1.3),
                            bias_initializer=keras.initializers.Constant(0.1)),
        keras.layers.LayerNormalization(
            gamma_initializer=keras.initializers.RandomNormal(1.0, 0.02, seed=2)),
        keras.layers.Flatten(),
        keras.layers.Dense(3, kernel_initializer=keras.initializers.HeNormal(seed=3),
                           bias_initializer="ones"),
    ])
    path = str(tmp_path / "inits.keras")
    model.save(path)
    loaded = fmnistcpp.models.load_model(path)
    for kl, fl in zip(model.layers, loaded.layers):
        for attr in ("kernel_initializer", "bias_initializer", "gamma_initializer",
                     "beta_initializer"):
            if hasattr(kl, attr):
                assert type(getattr(fl, attr)).__name__ == type(getattr(kl, attr)).__name__
                assert getattr(fl, attr).get_config() == getattr(kl, attr).get_config(), attr
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_array_callable_and_none_initializers_as_keras():
    w = np.arange(6, dtype=np.float32).reshape(2, 3)
    layer = fmnistcpp.layers.Dense(3, kernel_initializer=w,
                                   bias_initializer=lambda shape, dtype=None: np.full(shape, 2.0))
    fmnistcpp.Sequential([fmnistcpp.layers.Input((2,)), layer])
    np.testing.assert_array_equal(layer.get_weights()[0], w)
    np.testing.assert_array_equal(layer.get_weights()[1], [2.0, 2.0, 2.0])
    with pytest.raises(ValueError, match="Expected `shape`"):
        fmnistcpp.Sequential([fmnistcpp.layers.Input((4,)),
                              fmnistcpp.layers.Dense(3, kernel_initializer=w)])
    # None: glorot_uniform, as Keras's add_weight
    limit = np.sqrt(6 / (50 + 40))
    layer = fmnistcpp.layers.Dense(40, kernel_initializer=None)
    fmnistcpp.Sequential([fmnistcpp.layers.Input((50,)), layer])
    kernel = layer.get_weights()[0]
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit


# --- regularizers, activity regularizers, constraints: training parity -----------------------
def _mlp_data(small_data, n=1000):
    (x, y), (xt, yt) = small_data
    return (x[:n].reshape(n, -1), y[:n], xt[:300].reshape(300, -1), yt[:300])


def _train_both(build, small_data, optimizer=("Adam", dict(learning_rate=2e-3)), seed=3):
    x, y, xv, yv = _mlp_data(small_data)
    models = []
    for module in (keras, fmnistcpp):
        module.utils.set_random_seed(seed)
        models.append(module.Sequential([module.layers.Input((784,))] + build(module)))
    km, fm = models
    fm.set_weights([np.asarray(w, np.float32) for w in km.get_weights()])
    for m, module in ((km, keras), (fm, fmnistcpp)):
        m.compile(optimizer=getattr(module.optimizers, optimizer[0])(**optimizer[1]),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    kh, fh = _fit_both(km, fm, x, y, batch_size=32, validation_data=(xv, yv))
    _assert_history_matches(kh, fh, len(x), n_val=len(xv))
    # evaluate's loss carries the penalties as Keras's does
    np.testing.assert_allclose(fm.evaluate(xv, yv, verbose=0)[0],
                               km.evaluate(xv, yv, verbose=0)[0], rtol=0, atol=1e-4)
    return km, fm


REGULARIZERS = {"l1": ("L1", dict(l1=1e-3)), "l2": ("L2", dict(l2=2e-3)),
                "l1l2": ("L1L2", dict(l1=5e-4, l2=1e-3))}


@pytest.mark.parametrize("target", ["kernel", "bias"])
@pytest.mark.parametrize("kind", sorted(REGULARIZERS))
def test_weight_regularizers_train_like_keras(kind, target, small_data):
    cls, kwargs = REGULARIZERS[kind]

    def build(m):
        reg = {f"{target}_regularizer": getattr(m.regularizers, cls)(**kwargs)}
        return [m.layers.Dense(32, activation="tanh", **reg),
                m.layers.Dense(10, activation="softmax", **reg)]

    km, fm = _train_both(build, small_data)
    # the penalty really was there: it is part of the reported loss
    assert fm.layers[0].get_config()[f"{target}_regularizer"]["class_name"] == cls


def test_regularizer_strings_as_keras(small_data):
    def build(m):
        return [m.layers.Dense(32, activation="relu", kernel_regularizer="l2",
                               bias_regularizer="l1"),
                m.layers.Dense(10, activation="softmax", kernel_regularizer="l1l2")]

    _train_both(build, small_data)
    with pytest.raises(ValueError, match="l1_l2"):
        fmnistcpp.layers.Dense(3, kernel_regularizer="l1_l2")
    with pytest.raises(ValueError, match="l1_l2"):
        keras.layers.Dense(3, kernel_regularizer="l1_l2")  # Keras 3 refuses it too


def test_layer_normalization_and_conv_regularizers_train_like_keras(small_data):
    def build(m):
        return [m.layers.Reshape((28, 28, 1)),
                m.layers.Conv2D(4, 5, strides=3, activation="tanh",
                                kernel_regularizer=m.regularizers.L2(1e-3),
                                bias_regularizer=m.regularizers.L1(1e-3)),
                m.layers.Flatten(),
                m.layers.LayerNormalization(gamma_regularizer=m.regularizers.L2(1e-2),
                                            beta_regularizer=m.regularizers.L1(1e-2)),
                m.layers.Dense(10, activation="softmax")]

    _train_both(build, small_data, optimizer=("Adam", dict(learning_rate=1e-3)))


ACTIVITY = {"l1": ("L1", dict(l1=1e-3)), "l2": ("L2", dict(l2=1e-3)),
            "l1l2": ("L1L2", dict(l1=1e-3, l2=2e-3))}


@pytest.mark.parametrize("kind", sorted(ACTIVITY))
def test_activity_regularizers_train_like_keras(kind, small_data):
    cls, kwargs = ACTIVITY[kind]

    def build(m):
        act = getattr(m.regularizers, cls)(**kwargs)
        return [m.layers.Dense(32, activation="relu", activity_regularizer=act),
                m.layers.Dense(16, activation="tanh"),
                m.layers.LayerNormalization(activity_regularizer=act),  # any layer, as Keras
                m.layers.Dense(10, activation="softmax")]

    km, fm = _train_both(build, small_data)
    assert fm.layers[0].get_config()["activity_regularizer"]["class_name"] == cls


def test_activity_regularizer_changes_the_loss_as_keras_says():
    # Keras: loss += regularizer(output) / batch size
    x = np.random.default_rng(0).normal(size=(8, 5)).astype(np.float32)
    y = np.arange(8) % 3
    losses = []
    for act in (None, fmnistcpp.regularizers.L1L2(0.1, 0.2)):
        fmnistcpp.utils.set_random_seed(1)
        hidden = fmnistcpp.layers.Dense(4, activation="tanh", activity_regularizer=act)
        m = fmnistcpp.Sequential([fmnistcpp.layers.Input((5,)), hidden,
                                  fmnistcpp.layers.Dense(3, activation="softmax")])
        m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        losses.append(m.evaluate(x, y, batch_size=8, verbose=0))
        h = fmnistcpp.Model(m.inputs, hidden.output).predict(x, verbose=0)
    expected = (0.1 * np.abs(h).sum() + 0.2 * np.square(h).sum()) / 8
    assert losses[1] - losses[0] == pytest.approx(expected, rel=1e-5)


def test_activity_regularizer_where_the_engine_cannot_have_it():
    x, y = np.ones((4, 6), np.float32), np.arange(4) % 2
    m = fmnistcpp.Sequential([fmnistcpp.layers.Input((6,)), fmnistcpp.layers.Dense(
        2, activation="softmax", activity_regularizer="l2")])
    with pytest.raises(NotImplementedError, match="earlier layer"):
        m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        m.fit(x, y, verbose=0)
    with pytest.raises(NotImplementedError, match="layer before"):
        fmnistcpp.layers.Flatten(activity_regularizer="l1")


CONSTRAINTS = {
    "max_norm": lambda m: dict(kernel_constraint=m.constraints.MaxNorm(0.8)),
    "max_norm_rows": lambda m: dict(kernel_constraint=m.constraints.MaxNorm(0.5, axis=1)),
    "non_neg_bias": lambda m: dict(bias_constraint=m.constraints.NonNeg()),
    "unit_norm": lambda m: dict(kernel_constraint=m.constraints.UnitNorm(axis=0)),
    "min_max_norm": lambda m: dict(kernel_constraint=m.constraints.MinMaxNorm(0.5, 1.0, rate=0.5),
                                   bias_constraint=m.constraints.MaxNorm(0.3)),
}


@pytest.mark.parametrize("case", sorted(CONSTRAINTS))
def test_constraints_train_like_keras(case, small_data):
    def build(m):
        return [m.layers.Dense(32, activation="tanh", **CONSTRAINTS[case](m)),
                m.layers.Dense(10, activation="softmax")]

    km, fm = _train_both(build, small_data)
    for a, b in zip(fm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), rtol=0, atol=1e-4)
    kernel, bias = fm.layers[0].get_weights()
    if case == "max_norm":
        assert np.linalg.norm(kernel, axis=0).max() <= 0.8 + 1e-5
    if case == "non_neg_bias":
        assert bias.min() >= 0 and (bias == 0).any()


def test_conv_and_layer_normalization_constraints_train_like_keras(small_data):
    def build(m):
        return [m.layers.Reshape((28, 28, 1)),
                m.layers.Conv2D(4, 5, strides=3, activation="tanh",
                                kernel_constraint=m.constraints.MaxNorm(0.5, axis=[0, 1, 2])),
                m.layers.Flatten(),
                m.layers.LayerNormalization(gamma_constraint=m.constraints.NonNeg(),
                                            beta_constraint=m.constraints.UnitNorm()),
                m.layers.Dense(10, activation="softmax")]

    km, fm = _train_both(build, small_data, optimizer=("Adam", dict(learning_rate=1e-3)))
    conv = fm.layers[1].get_weights()[0]
    assert np.sqrt((conv ** 2).sum(axis=(0, 1, 2))).max() <= 0.5 + 1e-5


@pytest.mark.parametrize("name,kwargs", [("MaxNorm", dict(max_value=1.5, axis=[0, 1])),
                                         ("NonNeg", {}), ("UnitNorm", dict(axis=1)),
                                         ("MinMaxNorm", dict(min_value=0.5, max_value=2.0,
                                                             rate=0.3, axis=0))])
def test_constraints_on_arrays_and_their_configs_are_keras(name, kwargs, tmp_path):
    w = np.random.default_rng(1).normal(size=(3, 4, 5)).astype(np.float32)
    ours, theirs = (getattr(m.constraints, name)(**kwargs) for m in (fmnistcpp, keras))
    np.testing.assert_allclose(ours(w), np.asarray(theirs(w)), rtol=1e-6, atol=1e-7)
    assert ours.get_config() == theirs.get_config()
    # through files: Keras -> fmnistcpp -> Keras
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, kernel_constraint=theirs)])
    path = str(tmp_path / "c.keras")
    model.save(path)
    loaded = fmnistcpp.models.load_model(path)
    assert loaded.layers[0].kernel_constraint.get_config() == theirs.get_config()
    loaded.save(str(tmp_path / "back.keras"))
    again = keras.models.load_model(str(tmp_path / "back.keras"))
    assert type(again.layers[0].kernel_constraint) is type(theirs)
    assert again.layers[0].kernel_constraint.get_config() == theirs.get_config()


def test_constraints_the_engine_cannot_apply_say_what_to_do():
    class Clip(keras.constraints.Constraint):
        def __call__(self, w):
            return keras.ops.clip(w, -1, 1)

    with pytest.raises(NotImplementedError, match="on_train_batch_end"):
        fmnistcpp.layers.Dense(3, kernel_constraint=Clip())
    with pytest.raises(NotImplementedError, match="MaxNorm, NonNeg, UnitNorm and MinMaxNorm"):
        fmnistcpp.layers.Dense(3, bias_constraint=lambda w: w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="min_value must be <= max_value"):
            fmnistcpp.Sequential([fmnistcpp.layers.Input((4,)), fmnistcpp.layers.Dense(
                3, kernel_constraint=fmnistcpp.constraints.MinMaxNorm(2.0, 1.0))])
        with pytest.raises(ValueError, match="out of range"):
            fmnistcpp.Sequential([fmnistcpp.layers.Input((4,)), fmnistcpp.layers.Dense(
                3, kernel_constraint=fmnistcpp.constraints.MaxNorm(axis=2))])


def test_keras_objects_are_converted_not_refused():
    # code that imports regularizers / initializers from Keras and layers from fmnistcpp
    layer = fmnistcpp.layers.Dense(4, kernel_regularizer=keras.regularizers.L2(0.03),
                                   kernel_initializer=keras.initializers.HeNormal(seed=1))
    assert isinstance(layer.kernel_regularizer, fmnistcpp.regularizers.L2)
    assert layer.kernel_regularizer.l2 == pytest.approx(0.03)
    assert isinstance(layer.kernel_initializer, fmnistcpp.initializers.HeNormal)
    assert layer.kernel_initializer.seed == 1


def test_orthogonal_regularizer_says_what_to_use():
    for identifier in (keras.regularizers.OrthogonalRegularizer(factor=0.01),
                       "orthogonal_regularizer",
                       {"class_name": "OrthogonalRegularizer", "config": {"factor": 0.01}}):
        with pytest.raises(NotImplementedError, match="L1 / L2 / L1L2"):
            fmnistcpp.layers.Dense(3, kernel_regularizer=identifier)
