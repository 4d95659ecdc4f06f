"""The activation layers LeakyReLU, ELU, ReLU (max_value, negative_slope,
threshold), PReLU (learned alpha, shared_axes) and Softmax(axis) against
real Keras 3.15: forward with copied weights, every gradient tensor against
Keras's tape and finite differences, two epochs of training, .keras files
both ways, and Keras's argument checks.

Tolerances: these layers are piecewise linear (ELU and Softmax add one exp
each), so float32 results agree to a rounding or two; 1e-5 (the issue's
bound for copied weights) and, for gradients, 1e-4 relative / 1e-5
absolute as in tests/test_gradients.py.
"""

import warnings

import numpy as np
import pytest

import fmnistcpp
import keras
from conftest import build_model, copy_weights
from test_gradients import _fd_check, _keras_gradients
from test_keras_training_parity import _assert_history_matches, _fit_both

RTOL = ATOL = 1e-5

HEAD = [("Flatten", {}), ("Dense", dict(units=4, activation="softmax"))]
CONV = ("Conv2D", dict(filters=3, kernel_size=3, padding="same"))
DENSE = ("Dense", dict(units=8))

# id: (input shape, layers)
CASES = {
    "leaky_default": ((10,), [DENSE, ("LeakyReLU", {})] + HEAD[1:]),
    "leaky_0.05_conv": ((5, 5, 2), [CONV, ("LeakyReLU", dict(negative_slope=0.05))] + HEAD),
    "elu_default": ((10,), [DENSE, ("ELU", {})] + HEAD[1:]),
    "elu_0.4_conv": ((5, 5, 2), [CONV, ("ELU", dict(alpha=0.4))] + HEAD),
    "elu_negative_alpha": ((10,), [DENSE, ("ELU", dict(alpha=-0.5))] + HEAD[1:]),
    "relu_default": ((10,), [DENSE, ("ReLU", {})] + HEAD[1:]),
    "relu_max6": ((10,), [DENSE, ("ReLU", dict(max_value=6.0))] + HEAD[1:]),
    "relu_max0.7": ((10,), [DENSE, ("ReLU", dict(max_value=0.7))] + HEAD[1:]),
    "relu_slope": ((10,), [DENSE, ("ReLU", dict(negative_slope=0.1))] + HEAD[1:]),
    "relu_threshold": ((10,), [DENSE, ("ReLU", dict(threshold=0.3))] + HEAD[1:]),
    "relu_all_three_conv": ((5, 5, 2), [CONV, ("ReLU", dict(max_value=1.0, negative_slope=0.2,
                                                            threshold=0.2))] + HEAD),
    "relu_slope_and_max": ((10,), [DENSE, ("ReLU", dict(max_value=0.8, negative_slope=0.3))]
                           + HEAD[1:]),
    "prelu_dense": ((10,), [DENSE, ("PReLU", {})] + HEAD[1:]),
    "prelu_conv": ((5, 5, 2), [CONV, ("PReLU", {})] + HEAD),
    "prelu_conv_per_channel": ((5, 5, 2), [CONV, ("PReLU", dict(shared_axes=[1, 2]))] + HEAD),
    "prelu_conv_shared_width": ((5, 5, 2), [CONV, ("PReLU", dict(shared_axes=2))] + HEAD),
    "prelu_dense_shared": ((10,), [DENSE, ("PReLU", dict(shared_axes=[1]))] + HEAD[1:]),
    "softmax_axis1": ((4, 5, 3), [("Softmax", dict(axis=1))] + HEAD),
    "softmax_axis2": ((4, 5, 3), [CONV, ("Softmax", dict(axis=2))] + HEAD),
    "softmax_axis-2_list": ((4, 5, 3), [("Softmax", dict(axis=[-2]))] + HEAD),
    "softmax_last_hidden": ((4, 5, 3), [CONV, ("Softmax", dict(axis=3))] + HEAD),
}


def _pair(case, seed=0):
    input_shape, specs = CASES[case]
    keras.utils.set_random_seed(seed)
    km = build_model(keras, input_shape, specs)
    fm = build_model(fmnistcpp, input_shape, specs)
    # non-zero biases and PReLU alphas, so both sides of every kink are used
    rng = np.random.default_rng(seed + 10)
    weights = []
    for v in km.weights:
        w = v.numpy()
        if v.path.endswith("alpha"):
            w = rng.uniform(-0.5, 0.8, size=w.shape).astype(np.float32)
        elif w.ndim == 1:
            w = rng.normal(scale=0.3, size=w.shape).astype(np.float32)
        weights.append(w)
    km.set_weights(weights)
    copy_weights(km, fm)
    return km, fm


def _x(case, n=6, seed=1):
    shape = CASES[case][0]
    return np.random.default_rng(seed).normal(size=(n,) + shape).astype(np.float32)


@pytest.mark.parametrize("case", sorted(CASES))
def test_forward_matches_keras(case):
    km, fm = _pair(case)
    x = _x(case, n=16)
    np.testing.assert_allclose(fm.predict(x, verbose=0), km.predict(x, verbose=0), rtol=RTOL,
                               atol=ATOL)
    # the layer alone, on the first layer's output
    layer_index = 1 if len(km.layers) > 2 and km.layers[0].name.startswith(("dense", "conv")) \
        else 0
    kl, fl = km.layers[layer_index], fm.layers[layer_index]
    h = x if layer_index == 0 else np.asarray(km.layers[0](x))
    np.testing.assert_allclose(np.asarray(fl(h)), np.asarray(kl(h)), rtol=RTOL, atol=ATOL)
    # the layer's own arguments, as Keras reports them (name and dtype are the base's)
    # (tuples and lists alike: a file stores both as JSON lists)
    def plain(config):
        return {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()
                if k not in ("name", "dtype")}

    ours = plain(fl.get_config())
    assert ours == {k: v for k, v in plain(kl.get_config()).items() if k in ours}


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradients_match_keras_and_finite_differences(case):
    km, fm = _pair(case, seed=1)
    loss = "sparse_categorical_crossentropy"
    km.compile("sgd", loss)
    fm.compile("sgd", loss)
    x = _x(case, n=3, seed=2)
    y = np.array([0, 3, 2], np.int32)
    k_loss, k_grads, k_gx = _keras_gradients(keras, km, loss, x, y)
    f_loss, f_grads, f_gx = fm._loss_and_gradients(x, y)
    assert f_loss == pytest.approx(k_loss, rel=1e-5, abs=1e-6)
    assert len(f_grads) == len(k_grads)
    for i, (f, k) in enumerate(zip(f_grads + [f_gx], k_grads + [k_gx])):
        np.testing.assert_allclose(f, k, rtol=1e-4, atol=1e-5, err_msg=f"tensor {i}")
    _fd_check(fm, x, y)


@pytest.mark.parametrize("case", ["prelu_conv_per_channel", "leaky_0.05_conv",
                                  "relu_all_three_conv", "elu_0.4_conv"])
def test_two_epochs_match_keras(case, small_data):
    # PReLU's alpha is learned: its gradient (summed over the shared axes)
    # feeds Adam like any other weight.
    specs = [("Conv2D", dict(filters=4, kernel_size=3)), CASES[case][1][1],
             ("MaxPooling2D", dict(pool_size=2)), ("Flatten", {}),
             ("Dense", dict(units=10, activation="softmax"))]
    keras.utils.set_random_seed(4)
    km = build_model(keras, (28, 28, 1), specs)
    fm = build_model(fmnistcpp, (28, 28, 1), specs)
    rng = np.random.default_rng(5)
    km.set_weights([w if w.ndim > 1 and not v.path.endswith("alpha")
                    else rng.uniform(0.0, 0.3, size=w.shape).astype(np.float32)
                    for v, w in zip(km.weights, km.get_weights())])
    copy_weights(km, fm)
    km.compile(keras.optimizers.Adam(2e-3), "sparse_categorical_crossentropy",
               metrics=["accuracy"])
    fm.compile(fmnistcpp.optimizers.Adam(2e-3), "sparse_categorical_crossentropy",
               metrics=["accuracy"])
    (x, y), (xt, yt) = small_data
    kh, fh = _fit_both(km, fm, x[:600], y[:600], batch_size=32,
                       validation_data=(xt[:500], yt[:500]))
    _assert_history_matches(kh, fh, 600)
    for f, k in zip(fm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(f, k, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("case", ["prelu_conv_per_channel", "relu_all_three_conv",
                                  "softmax_axis2", "leaky_default", "elu_0.4_conv"])
def test_keras_files_both_ways(case, tmp_path):
    km, fm = _pair(case)
    x = _x(case, n=5)
    fm.compile("adam", "sparse_categorical_crossentropy")
    fpath, kpath = str(tmp_path / "f.keras"), str(tmp_path / "k.keras")
    fm.save(fpath)
    km.save(kpath)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. Keras skipping the optimizer's variables
        theirs = keras.saving.load_model(fpath)
    ours = fmnistcpp.saving.load_model(kpath)
    for model in (theirs, ours):
        np.testing.assert_allclose(model.predict(x, verbose=0), km.predict(x, verbose=0),
                                   rtol=RTOL, atol=ATOL)
    assert [type(layer).__name__ for layer in ours.layers] == \
        [type(layer).__name__ for layer in km.layers]


def test_prelu_weights_and_initializer_like_keras():
    for shared, want in ((None, (4, 4, 3)), ([1, 2], (1, 1, 3)), (3, (4, 4, 1))):
        k = keras.layers.PReLU(shared_axes=shared)
        f = fmnistcpp.layers.PReLU(shared_axes=shared)
        k.build((None, 4, 4, 3))
        f.build((None, 4, 4, 3))
        assert tuple(f.weights[0].shape) == tuple(k.weights[0].shape) == want
        assert f.weights[0].path.endswith("alpha")
        np.testing.assert_array_equal(f.get_weights()[0], 0.0)  # "Zeros", as Keras
    f = fmnistcpp.layers.PReLU(alpha_initializer=fmnistcpp.initializers.Constant(0.25))
    f.build((None, 5))
    np.testing.assert_array_equal(f.get_weights()[0], np.full((5,), 0.25, np.float32))
    assert f.get_config()["alpha_initializer"]["class_name"] == "Constant"
    assert keras.layers.PReLU.from_config(fmnistcpp.layers.PReLU(shared_axes=[1]).get_config())


def test_leaky_relu_defaults_and_keras2_alpha():
    assert fmnistcpp.layers.LeakyReLU().negative_slope == keras.layers.LeakyReLU().negative_slope
    with pytest.warns(UserWarning, match="alpha"):
        layer = fmnistcpp.layers.LeakyReLU(alpha=0.1)
    assert layer.negative_slope == 0.1
    x = np.array([[-2.0, 3.0]], np.float32)
    np.testing.assert_allclose(np.asarray(layer(x)), [[-0.2, 3.0]], rtol=1e-7)


@pytest.mark.parametrize("make, match", [
    (lambda m: m.layers.LeakyReLU(negative_slope=-0.1), "negative_slope"),
    (lambda m: m.layers.ReLU(max_value=-1.0), "max_value"),
    (lambda m: m.layers.ReLU(negative_slope=-1.0), "negative_slope"),
    (lambda m: m.layers.ReLU(threshold=-0.5), "threshold"),
])
def test_bad_arguments_are_refused_as_keras_does(make, match):
    with pytest.raises(ValueError, match=match):
        make(keras)
    with pytest.raises(ValueError, match=match):
        make(fmnistcpp)


def test_unsupported_and_bad_shapes_are_clear_errors():
    with pytest.raises(NotImplementedError, match="several axes"):
        fmnistcpp.layers.Softmax(axis=(1, 2))
    for axis, error, match in ((0, NotImplementedError, "batch axis"),
                               (4, ValueError, "out of range"), (-5, ValueError, "out of range")):
        with pytest.raises(error, match=match):
            fmnistcpp.Sequential([fmnistcpp.Input((4, 5, 3)), fmnistcpp.layers.Softmax(axis)])
    with pytest.raises(ValueError, match="shared_axes 4 is out of range"):
        fmnistcpp.Sequential([fmnistcpp.Input((4, 5, 3)), fmnistcpp.layers.PReLU(shared_axes=4)])
    with pytest.raises(ValueError, match="shared_axes"):
        fmnistcpp.layers.PReLU(shared_axes="all")
    with pytest.raises(ValueError, match="ELU alpha must be a number"):
        fmnistcpp.layers.ELU(alpha="one")
