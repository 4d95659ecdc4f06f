"""Every name in Keras 3's keras.activations against real Keras 3.15: on
arrays (values and gradients, default and non-default arguments), inside
Dense and Conv2D with copied weights (forward, every gradient tensor, and
finite differences, which also exercise the unfused path that keeps the
pre-activation values), short training runs, TensorFlow function objects,
serialization, saved files both ways, and the errors for what cannot run.

Tolerances. Both sides compute in float32. The piecewise-linear and
algebraic activations agree to a rounding or two (~1e-7 relative). The
transcendental ones go through different approximations of exp / log /
erf / tanh (oneDNN's JIT kernels here, Eigen's in TensorFlow): measured
against float64 on N(0, 3) inputs, both sides are within 1.9e-6 absolute
of the exact value (the error is absolute in the tails, where softplus,
gelu, mish and log_sigmoid are tiny), and log_softmax's shared
log-sum-exp term differs by up to 4e-6 (about 16 float32 ulps of a value
near 3). So values are compared at 1e-5 relative plus an absolute floor:
1e-6 by default, 3e-6 for the transcendental ones on arrays, 1e-5 for
log_softmax (values of order 1-10). Any real error (a wrong constant, a
missing term, the wrong gelu) is 1e-3 or more.
"""

import numpy as np
import pytest
import tensorflow as tf

import fmnistcpp
import keras
from conftest import build_pair, copy_weights
from test_gradients import _fd_check, _keras_gradients
from test_keras_training_parity import _assert_history_matches, _fit_both

LAYER_NAMES = [n for n in fmnistcpp.activations.KNOWN if n not in ("glu", "threshold")]
TRANSCENDENTAL = {"softplus", "gelu", "mish", "log_sigmoid", "silu", "celu", "elu", "selu",
                  "tanh", "tanh_shrink", "sigmoid", "exponential", "softmax"}
RTOL = 1e-5


def _atol(name, on_arrays=False):
    if name == "log_softmax":
        return 1e-5
    if on_arrays and name in TRANSCENDENTAL:
        return 3e-6
    return 1e-6


def _inputs(shape, seed=0, scale=3.0):
    x = np.random.default_rng(seed).normal(scale=scale, size=shape).astype(np.float32)
    return x


# --- on arrays ----------------------------------------------------------------------------
# (name, keyword arguments) beyond the defaults, for the functions that take them
ARGUMENTS = [
    ("relu", dict(negative_slope=0.1)),
    ("relu", dict(max_value=6.0)),
    ("relu", dict(max_value=2.5)),
    ("relu", dict(threshold=0.5)),
    ("relu", dict(negative_slope=0.2, max_value=3.0, threshold=1.0)),
    ("relu", dict(negative_slope=0.3, max_value=4.0)),
    ("leaky_relu", dict(negative_slope=0.05)),
    ("elu", dict(alpha=0.5)),
    ("elu", dict(alpha=-0.3)),
    ("celu", dict(alpha=2.0)),
    ("gelu", dict(approximate=True)),
    ("squareplus", dict(b=1.0)),
    ("soft_shrink", dict(threshold=1.2)),
    ("hard_shrink", dict(threshold=0.1)),
]
ARRAY_CASES = [(n, {}) for n in LAYER_NAMES] + ARGUMENTS


def _case_id(case):
    name, args = case
    return name + "".join(f"-{k}={v}" for k, v in args.items())


@pytest.mark.parametrize("case", ARRAY_CASES, ids=_case_id)
def test_functions_on_arrays_match_keras(case):
    name, args = case
    x = _inputs((16, 23))
    want = np.asarray(getattr(keras.activations, name)(x, **args))
    got = getattr(fmnistcpp.activations, name)(x, **args)
    assert got.shape == want.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=_atol(name, on_arrays=True))
    assert np.array_equal(got.numpy(), got)  # answers .numpy() as a TensorFlow tensor


@pytest.mark.parametrize("case", ARRAY_CASES, ids=_case_id)
def test_gradients_on_arrays_match_tensorflow(case):
    # The C++ backward against TensorFlow's autodiff of Keras's function.
    name, args = case
    # (Keras's sparsemax of spread-out values is one-hot, with zero gradient)
    x = _inputs((16, 23), seed=1, scale=0.01 if name == "sparsemax" else 3.0)
    dy = _inputs(x.shape, seed=2, scale=1.0)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = getattr(keras.activations, name)(xt, **args)
    want = tape.gradient(y, xt, output_gradients=tf.constant(dy)).numpy()
    got = fmnistcpp._core.activation_gradient(name, args, x, dy)
    # 1e-5 absolute on gradients of order 1: oneDNN's gelu_tanh backward is
    # 7e-6 from TensorFlow's in the far tail (x near -9, both ~0 exactly)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert np.abs(want).max() > 0.1  # not vacuous


@pytest.mark.parametrize("name, axis", [(n, a) for n in ("softmax", "log_softmax", "sparsemax")
                                        for a in (-1, 0, 1, None)
                                        if (n, a) != ("sparsemax", None)])  # (not in Keras)
def test_rowwise_functions_take_keras_axes(name, axis):
    x = _inputs((3, 5, 4), seed=3)
    want = np.asarray(getattr(keras.activations, name)(x, axis=axis))
    got = getattr(fmnistcpp.activations, name)(x, axis=axis)
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=_atol(name, on_arrays=True))


def test_sparsemax_follows_keras_on_tensorflow():
    # Keras 3.15's TensorFlow sparsemax sums the cumulative sums over the
    # support when it computes tau, so its rows need not sum to 1; the
    # engine repeats it (checked value by value above). A hand example:
    # sorted [0.2, 0.1, 0], cumsums [0.2, 0.3, 0.3], all in the support,
    # tau = (0.8 - 1) / 3.
    got = fmnistcpp.activations.sparsemax(np.array([[0.0, 0.1, 0.2]], np.float32))
    np.testing.assert_allclose(got, [[0.2 / 3, 0.1 + 0.2 / 3, 0.2 + 0.2 / 3]], rtol=1e-6)
    np.testing.assert_allclose(got, keras.activations.sparsemax(np.array([[0.0, 0.1, 0.2]])),
                               rtol=1e-6)


def test_glu_and_threshold_on_arrays():
    x = _inputs((4, 6), seed=4)
    np.testing.assert_allclose(fmnistcpp.activations.glu(x), keras.activations.glu(x),
                               rtol=RTOL, atol=1e-6)
    np.testing.assert_allclose(fmnistcpp.activations.glu(x, axis=0),
                               keras.activations.glu(x, axis=0), rtol=RTOL, atol=1e-6)
    np.testing.assert_array_equal(fmnistcpp.activations.threshold(x, 0.3, -2.0),
                                  keras.activations.threshold(x, 0.3, -2.0))
    with pytest.raises(ValueError, match="divisible by 2"):
        fmnistcpp.activations.glu(x[:, :5])


def test_every_keras_name_is_here():
    import keras.src.activations as kact

    assert set(kact.ALL_OBJECTS_DICT) <= set(dir(fmnistcpp.activations))
    assert set(fmnistcpp.activations.KNOWN) == {f.__name__ for f in kact.ALL_OBJECTS}
    assert fmnistcpp.activations.swish is fmnistcpp.activations.silu
    assert fmnistcpp.activations.hard_swish is fmnistcpp.activations.hard_silu


# --- inside Dense and Conv2D --------------------------------------------------------------
def _layer_specs(kind, activation):
    if kind == "dense":
        return (12,), [("Dense", dict(units=9, activation=activation)),
                       ("Dense", dict(units=5, activation="softmax"))]
    return (6, 6, 2), [("Conv2D", dict(filters=4, kernel_size=3, activation=activation)),
                       ("Flatten", {}), ("Dense", dict(units=5, activation="softmax"))]


def _pair_with_biases(input_shape, specs, seed=0):
    km, fm = build_pair(input_shape, specs, seed=seed)
    # non-zero biases, so the activations see both signs around their kinks
    rng = np.random.default_rng(seed + 50)
    km.set_weights([w if w.ndim > 1 else rng.normal(scale=0.5, size=w.shape).astype(np.float32)
                    for w in km.get_weights()])
    copy_weights(km, fm)
    return km, fm


@pytest.mark.parametrize("kind", ["dense", "conv"])
@pytest.mark.parametrize("name", LAYER_NAMES)
def test_forward_inside_layers_matches_keras(name, kind):
    shape, specs = _layer_specs(kind, name)
    specs = specs[:1] + ([("Flatten", {})] if kind == "conv" else [])  # the activation's output
    km, fm = _pair_with_biases(shape, specs)
    x = _inputs((32,) + shape, seed=5, scale=1.5)
    want = km.predict(x, verbose=0)
    np.testing.assert_allclose(fm.predict(x, verbose=0), want, rtol=RTOL, atol=_atol(name))
    # a model called on arrays, and the layer's own output, take the same path
    np.testing.assert_allclose(np.asarray(fm(x)), want, rtol=RTOL, atol=_atol(name))


@pytest.mark.parametrize("kind", ["dense", "conv"])
@pytest.mark.parametrize("name", LAYER_NAMES)
def test_gradients_inside_layers_match_keras_and_finite_differences(name, kind):
    shape, specs = _layer_specs(kind, name)
    km, fm = _pair_with_biases(shape, specs, seed=1)
    loss = "sparse_categorical_crossentropy"
    km.compile("sgd", loss)
    fm.compile("sgd", loss)
    x = _inputs((4,) + shape, seed=6, scale=1.0)
    y = np.array([0, 3, 1, 4], np.int32)
    k_loss, k_grads, k_gx = _keras_gradients(keras, km, loss, x, y)
    f_loss, f_grads, f_gx = fm._loss_and_gradients(x, y)
    assert f_loss == pytest.approx(k_loss, rel=1e-5, abs=1e-6)
    # float32 gradients through a few sums: 1e-4 relative, 1e-5 absolute (gradients
    # here are of order 1e-3..1), as tests/test_gradients.py
    for i, (f, k) in enumerate(zip(f_grads + [f_gx], k_grads + [k_gx])):
        np.testing.assert_allclose(f, k, rtol=1e-4, atol=1e-5, err_msg=f"tensor {i}")
    _fd_check(fm, x, y)


@pytest.mark.parametrize("name", ["gelu", "selu", "softplus", "mish", "swish", "hard_sigmoid",
                                  "elu", "leaky_relu", "log_softmax"])
def test_two_epochs_match_keras(name, small_data):
    # The training path: unfused activations keep their input for backward,
    # fused ones read their output; the same losses epoch by epoch.
    specs = [("Conv2D", dict(filters=4, kernel_size=3, activation=name)),
             ("MaxPooling2D", dict(pool_size=2)), ("Flatten", {}),
             ("Dense", dict(units=24, activation=name)),
             ("Dense", dict(units=10, activation="softmax"))]
    km, fm = _pair_with_biases((28, 28, 1), specs, seed=2)
    km.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
               metrics=["accuracy"])
    fm.compile(fmnistcpp.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
               metrics=["accuracy"])
    (x, y), (xt, yt) = small_data
    kh, fh = _fit_both(km, fm, x[:600], y[:600], batch_size=32,
                       validation_data=(xt[:500], yt[:500]))
    _assert_history_matches(kh, fh, 600)


# --- what code passes as an activation ----------------------------------------------------
TF_FUNCTIONS = [
    (tf.nn.relu, "relu"), (tf.nn.softmax, "softmax"), (tf.nn.sigmoid, "sigmoid"),
    (tf.nn.tanh, "tanh"), (tf.nn.elu, "elu"), (tf.nn.leaky_relu, "leaky_relu"),
    (tf.nn.gelu, "gelu"), (tf.nn.silu, "silu"), (tf.nn.selu, "selu"), (tf.nn.relu6, "relu6"),
    (tf.nn.softplus, "softplus"), (tf.nn.softsign, "softsign"),
    (tf.nn.log_softmax, "log_softmax"), (tf.math.sigmoid, "sigmoid"), (tf.exp, "exponential"),
    (tf.keras.activations.relu, "relu"), (tf.keras.activations.swish, "silu"),
    (keras.activations.hard_swish, "hard_silu"), (keras.activations.mish, "mish"),
]


@pytest.mark.parametrize("fn, name", TF_FUNCTIONS,
                         ids=[f"{f.__module__.split('.')[0]}.{f.__name__}" for f, _ in TF_FUNCTIONS])
def test_tensorflow_and_keras_functions_are_mapped_by_name(fn, name):
    assert fmnistcpp.activations.name_of(fn) == name
    layer = fmnistcpp.layers.Dense(4, activation=fn)
    assert layer.activation is getattr(fmnistcpp.activations, name)
    assert layer.get_config()["activation"] == name
    # and it computes what Keras's Dense computes with that function
    km = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, activation=fn)])
    fm = fmnistcpp.Sequential([fmnistcpp.Input((6,)), layer])
    fm.set_weights(km.get_weights())
    x = _inputs((5, 6), seed=7, scale=1.0)
    np.testing.assert_allclose(fm.predict(x, verbose=0), km.predict(x, verbose=0), rtol=RTOL,
                               atol=_atol(name))


def test_strings_serialize_as_keras_does():
    for alias, name in (("swish", "silu"), ("hard_swish", "hard_silu"), (None, "linear")):
        k = keras.layers.Dense(3, activation=alias).get_config()["activation"]
        f = fmnistcpp.layers.Dense(3, activation=alias).get_config()["activation"]
        assert f == k == name
    assert fmnistcpp.activations.serialize(fmnistcpp.activations.gelu) == "gelu"
    assert fmnistcpp.activations.get("swish") is fmnistcpp.activations.silu
    assert fmnistcpp.activations.get(None) is fmnistcpp.activations.linear
    assert fmnistcpp.activations.deserialize(
        keras.saving.serialize_keras_object(keras.activations.elu)) is fmnistcpp.activations.elu


def test_unknown_and_unusable_activations_are_clear_errors():
    with pytest.raises(ValueError, match="Unknown activation 'relu7'.*Known activations: relu"):
        fmnistcpp.layers.Dense(3, activation="relu7")
    with pytest.raises(ValueError, match="custom activations cannot run"):
        fmnistcpp.layers.Dense(3, activation=lambda x: x * 2)

    def relu(x):  # a user's own function with a built-in's name
        return x

    with pytest.raises(ValueError, match="custom activations"):
        fmnistcpp.layers.Dense(3, activation=relu)
    with pytest.raises(ValueError, match="Unknown activation"):
        fmnistcpp.layers.Activation(tf.nn.crelu)
    with pytest.raises(NotImplementedError, match="glu"):
        fmnistcpp.layers.Dense(4, activation="glu")
    with pytest.raises(NotImplementedError, match="threshold"):
        fmnistcpp.layers.Activation(keras.activations.threshold)
    with pytest.raises(NotImplementedError, match="put that layer after it"):
        fmnistcpp.layers.Dense(4, activation=keras.layers.LeakyReLU(0.1))
    with pytest.raises(ValueError, match="negative_slope"):
        fmnistcpp.activations.leaky_relu(np.ones(3), negative_slope="x")
    with pytest.raises(ValueError, match="celu alpha"):
        fmnistcpp.activations.celu(np.ones(3), alpha=0.0)


def test_activations_on_symbolic_tensors_add_layers():
    # keras.activations.relu(x) inside a functional model, as Keras allows
    def build(m):
        inp = m.Input((6,))
        h = m.layers.Dense(5)(inp)
        h = m.activations.relu(h, negative_slope=0.1, max_value=2.0)
        h = m.activations.gelu(h)
        out = m.activations.softmax(m.layers.Dense(3)(h))
        return m.Model(inp, out)

    keras.utils.set_random_seed(3)
    km, fm = build(keras), build(fmnistcpp)
    copy_weights(km, fm)
    x = _inputs((7, 6), seed=8, scale=1.0)
    np.testing.assert_allclose(fm.predict(x, verbose=0), km.predict(x, verbose=0), rtol=RTOL,
                               atol=1e-6)
    with pytest.raises(NotImplementedError, match="symbolic"):
        fmnistcpp.activations.gelu(fmnistcpp.Input((3,)), approximate=True)


def test_saved_files_both_ways(tmp_path):
    names = ["gelu", "swish", "selu", "hard_silu", "log_softmax", "sparsemax", "relu6"]
    specs = [("Dense", dict(units=6, activation=n)) for n in names]
    specs.append(("Dense", dict(units=4, activation="softmax")))
    km, fm = _pair_with_biases((5,), specs, seed=4)
    x = _inputs((9, 5), seed=9, scale=1.0)
    fpath, kpath = str(tmp_path / "f.keras"), str(tmp_path / "k.keras")
    fm.save(fpath)
    km.save(kpath)
    theirs = keras.saving.load_model(fpath)
    ours = fmnistcpp.saving.load_model(kpath)
    assert [layer.get_config()["activation"] for layer in ours.layers] == \
        [layer.get_config()["activation"] for layer in km.layers]
    for model in (theirs, ours):
        np.testing.assert_allclose(model.predict(x, verbose=0), km.predict(x, verbose=0),
                                   rtol=RTOL, atol=1e-5)
