"""LayerNormalization, Rescaling, Normalization and the noise layers
(GaussianNoise, GaussianDropout, AlphaDropout, SpatialDropout2D) against
real Keras 3: inference with copied weights (1e-5), adapt() as Keras
computes it, gradients (finite differences, and Keras's tape where the
layer is deterministic), the noise layers' distributions and seeding,
training parity (two epochs, 1e-4), .keras files both ways, bad arguments."""

import warnings

import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

import fmnistcpp
import keras
from conftest import build_model, trained_file_round_trip
from test_gradients import _fd_check, _keras_gradients
from test_keras_training_parity import _assert_history_matches, _fit_both, _seed_data

# float32 forward passes agree to round-off (~1e-7 relative); 1e-5 is the
# issue's bound for copied weights.
ATOL = RTOL = 1e-5


def _weights_like(km, rng):
    """Random weights for every variable, by name: statistics a layer needs
    positive (variance) stay positive, and gamma stays near 1."""
    out = []
    for v in km.weights:
        name = v.path.split("/")[-1]
        shape = tuple(v.shape)
        if name == "variance":
            out.append(rng.uniform(0.5, 2.0, size=shape).astype(np.float32))
        elif name == "count":
            out.append(np.zeros(shape, np.int64))
        elif name == "gamma":
            out.append((1 + rng.normal(scale=0.3, size=shape)).astype(np.float32))
        else:
            out.append(rng.normal(scale=0.3, size=shape).astype(np.float32))
    return out


def _pair(input_shape, specs, seed=0):
    """Keras and fmnistcpp Sequentials with identical, non-trivial weights."""
    keras.utils.set_random_seed(seed)
    fmnistcpp.utils.set_random_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # rms_scaling's deprecation
        km = build_model(keras, input_shape, specs)
        fm = build_model(fmnistcpp, input_shape, specs)
    weights = _weights_like(km, np.random.default_rng(seed + 100))
    km.set_weights(weights)
    for layer in km.layers:
        if isinstance(layer, keras.layers.Normalization):
            # Keras's Normalization reads its weights into the statistics it uses
            # only in finalize_state (as adapt and file loading call it), not on
            # set_weights; fmnistcpp uses the weights themselves.
            layer.finalize_state()
    fm.set_weights([np.asarray(w, np.float32) for w in weights])
    return km, fm


def _x(shape, n=6, seed=1):
    return np.random.default_rng(seed).normal(size=(n,) + tuple(shape)).astype(np.float32)


# --- forward parity -----------------------------------------------------------------------
IMAGE = (5, 6, 3)
FORWARD = {
    "ln_last_vector": ((12,), [("LayerNormalization", {})]),
    "ln_last_image": (IMAGE, [("LayerNormalization", {})]),
    "ln_whole_image": (IMAGE, [("LayerNormalization", dict(axis=[1, 2, 3]))]),
    "ln_rows_cols": (IMAGE, [("LayerNormalization", dict(axis=[1, 2]))]),
    "ln_middle_axis": (IMAGE, [("LayerNormalization", dict(axis=2, epsilon=1e-5))]),
    "ln_negative_axes": (IMAGE, [("LayerNormalization", dict(axis=(-3, -2)))]),
    "ln_no_center": (IMAGE, [("LayerNormalization", dict(center=False))]),
    "ln_no_scale": ((12,), [("LayerNormalization", dict(scale=False))]),
    "ln_plain": ((12,), [("LayerNormalization", dict(center=False, scale=False))]),
    "ln_rms_scaling": (IMAGE, [("LayerNormalization", dict(rms_scaling=True))]),
    "rescaling": (IMAGE, [("Rescaling", dict(scale=1 / 255.0))]),
    "rescaling_offset": (IMAGE, [("Rescaling", dict(scale=1 / 127.5, offset=-1))]),
    "rescaling_per_channel": (IMAGE, [("Rescaling", dict(scale=[0.5, 2.0, -1.0],
                                                         offset=[0.0, 1.0, 2.0]))]),
    "norm_scalar": (IMAGE, [("Normalization", dict(axis=None, mean=0.3, variance=2.0))]),
    "norm_per_channel": (IMAGE, [("Normalization", dict(mean=[0.1, -0.2, 0.3],
                                                        variance=[1.0, 4.0, 0.25]))]),
    "norm_two_axes": (IMAGE, [("Normalization", dict(axis=(1, 3),
                                                     mean=np.arange(15.).reshape(5, 3) / 10,
                                                     variance=np.full((5, 3), 2.0)))]),
    "norm_broadcast": (IMAGE, [("Normalization", dict(axis=(1, 2, 3), mean=[1.0, 2.0, 3.0],
                                                      variance=[1.0, 1.0, 4.0]))]),
    "norm_invert": (IMAGE, [("Normalization", dict(mean=[0.1, -0.2, 0.3],
                                                   variance=[1.0, 4.0, 0.25], invert=True))]),
    "norm_zero_variance": ((4,), [("Normalization", dict(mean=[0.0, 1, 2, 3],
                                                         variance=[0.0, 1, 0, 1]))]),
    "norm_adapt_weights": (IMAGE, [("Normalization", {})]),  # mean/variance copied
    "noise_layers_at_inference": (IMAGE, [("GaussianNoise", dict(stddev=0.5)),
                                          ("GaussianDropout", dict(rate=0.4)),
                                          ("AlphaDropout", dict(rate=0.3)),
                                          ("SpatialDropout2D", dict(rate=0.5))]),
}


@pytest.mark.parametrize("case", sorted(FORWARD))
def test_predict_matches_keras(case):
    shape, specs = FORWARD[case]
    km, fm = _pair(shape, specs)
    x = _x(shape) * 3 + 1
    k, f = km.predict(x, verbose=0), fm.predict(x, verbose=0)
    np.testing.assert_allclose(f, k, rtol=RTOL, atol=ATOL)
    if case == "noise_layers_at_inference":
        np.testing.assert_array_equal(f, x)  # the identity
    else:
        assert not np.allclose(f, x, atol=1e-3)  # the layer did something


def test_layer_normalization_weights_are_keras_shapes():
    for axis, want in ((-1, (3,)), ([1, 2, 3], (5, 6, 3)), ([1, 2], (5, 6)), (2, (6,))):
        km, fm = _pair(IMAGE, [("LayerNormalization", dict(axis=axis))])
        assert [w.shape for w in fm.get_weights()] == [tuple(w.shape) for w in km.weights]
        assert fm.get_weights()[0].shape == want
    _, fm = _pair(IMAGE, [("LayerNormalization", dict(rms_scaling=True))])
    assert [v.name for v in fm.layers[0].weights] == ["gamma"]  # no beta, as Keras


# --- Normalization.adapt --------------------------------------------------------------------
def _adapt_both(axis, data):
    kl, fl = keras.layers.Normalization(axis=axis), fmnistcpp.layers.Normalization(axis=axis)
    kl.adapt(data)
    fl.adapt(data)
    k = [np.asarray(v) for v in (kl.adapt_mean, kl.adapt_variance)]
    f = [v.numpy() for v in fl.weights[:2]]
    return kl, fl, k, f


@pytest.mark.parametrize("axis", [-1, None, (1, 2), (2, 3), 2])
def test_adapt_on_an_array_matches_keras(axis):
    data = np.random.default_rng(3).gamma(2.0, size=(50, 4, 5, 3)).astype(np.float32)
    kl, fl, k, f = _adapt_both(axis, data)
    for a, b in zip(f, k):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-6)  # the same NumPy calls
    x = data[:7]
    np.testing.assert_allclose(fl(x).numpy(), np.asarray(kl(x)), rtol=RTOL, atol=ATOL)


def test_adapt_on_uint8_images_matches_keras(small_data):
    (x, _), _ = small_data
    images = np.round(x[:300] * 255).astype(np.uint8)  # Fashion-MNIST as load_data gives it
    kl, fl, k, f = _adapt_both(None, images)
    np.testing.assert_allclose(f[0], k[0], rtol=1e-6)
    np.testing.assert_allclose(f[1], k[1], rtol=1e-6)
    assert 60 < float(f[0]) < 90  # Fashion-MNIST's mean pixel is about 73


@pytest.mark.parametrize("source", ["list", "generator", "tf_data", "tf_data_unbatched"])
def test_adapt_on_batches_matches_keras(source):
    rng = np.random.default_rng(4)
    data = rng.normal(loc=2.0, scale=3.0, size=(300, 6)).astype(np.float32)
    axis = -1

    def make():
        if source == "list":
            return [data[i:i + 32] for i in range(0, len(data), 32)]
        if source == "generator":
            return (data[i:i + 20] for i in range(0, len(data), 20))
        if source == "tf_data":
            return tf.data.Dataset.from_tensor_slices(data).batch(25)
        # rows of 6 one at a time: Keras batches such a dataset by 128
        return tf.data.Dataset.from_tensor_slices(data)

    kl, fl = keras.layers.Normalization(axis=axis), fmnistcpp.layers.Normalization(axis=axis)
    kl.adapt(make())
    fl.adapt(make())
    # Keras merges batch moments in float32 tensors, fmnistcpp in NumPy float32
    np.testing.assert_allclose(fl.weights[0].numpy(), np.asarray(kl.adapt_mean), rtol=1e-5)
    np.testing.assert_allclose(fl.weights[1].numpy(), np.asarray(kl.adapt_variance), rtol=1e-5)
    # and the merge is right: the moments of all the data
    np.testing.assert_allclose(fl.weights[0].numpy(), data.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(fl.weights[1].numpy(), data.var(axis=0), rtol=1e-4)


def test_adapt_inside_a_model_then_predict_matches_keras():
    data = _x(IMAGE, n=40, seed=9) * 5 + 2
    out = []
    for module in (keras, fmnistcpp):
        norm = module.layers.Normalization()
        model = module.Sequential([module.layers.Input(IMAGE), norm])
        norm.adapt(data)
        out.append(np.asarray(model.predict(data[:5], verbose=0)))
    np.testing.assert_allclose(out[1], out[0], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(out[1].reshape(-1, 3).mean(axis=0), 0, atol=0.5)


# --- gradients ----------------------------------------------------------------------------
SPARSE = "sparse_categorical_crossentropy"
HEAD = [("Flatten", {}), ("Dense", dict(units=5, activation="softmax"))]
GRADIENTS = {
    "ln_after_dense": ((7,), [("Dense", dict(units=6, activation="tanh")),
                              ("LayerNormalization", {}),
                              ("Dense", dict(units=5, activation="softmax"))]),
    "ln_whole_image": ((4, 3, 2), [("LayerNormalization", dict(axis=[1, 2, 3]))] + HEAD),
    "ln_middle_axis": ((4, 3, 2), [("Conv2D", dict(filters=2, kernel_size=1, activation="tanh")),
                                   ("LayerNormalization", dict(axis=2))] + HEAD),
    "ln_rms_scaling": ((4, 3, 2), [("LayerNormalization", dict(rms_scaling=True))] + HEAD),
    "ln_no_affine": ((7,), [("LayerNormalization", dict(center=False, scale=False)),
                            ("Dense", dict(units=5, activation="softmax"))]),
    "rescaling": ((4, 3, 3), [("Rescaling", dict(scale=[0.5, -2.0, 1.5], offset=0.3))] + HEAD),
    "normalization": ((4, 3, 3), [("Normalization", dict(mean=[0.1, 0.2, 0.3],
                                                         variance=[0.5, 2.0, 1.0]))] + HEAD),
    "normalization_invert": ((4, 3, 3), [("Normalization", dict(axis=None, mean=0.5, variance=3.0,
                                                                invert=True))] + HEAD),
}


def _grad_setup(shape, specs, seed=0):
    km, fm = _pair(shape, specs, seed=seed)
    for m in (km, fm):
        m.compile(optimizer="sgd", loss=SPARSE)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(3,) + shape).astype(np.float32)
    y = rng.integers(0, 5, size=3).astype(np.int32)
    return km, fm, x, y


@pytest.mark.parametrize("case", sorted(GRADIENTS))
def test_finite_differences(case):
    _, fm, x, y = _grad_setup(*GRADIENTS[case])
    _fd_check(fm, x, y, training=False)


@pytest.mark.parametrize("case", sorted(GRADIENTS))
def test_gradients_match_keras_tape(case):
    km, fm, x, y = _grad_setup(*GRADIENTS[case])
    k_loss, k_grads, k_gx = _keras_gradients(keras, km, SPARSE, x, y)
    f_loss, f_grads, f_gx = fm._loss_and_gradients(x, y, training=False)
    assert f_loss == pytest.approx(k_loss, rel=1e-5)
    assert len(f_grads) == len(k_grads)
    # float32 gradients of order 1 agree to ~1e-6; the bound is test_gradients' one
    for f, k in zip(f_grads + [f_gx], k_grads + [k_gx]):
        np.testing.assert_allclose(f, k, rtol=1e-4, atol=1e-5)


NOISE = {
    "gaussian_noise": [("GaussianNoise", dict(stddev=0.5))],
    "gaussian_dropout": [("GaussianDropout", dict(rate=0.4))],
    "alpha_dropout": [("AlphaDropout", dict(rate=0.3))],
    "spatial_dropout": [("SpatialDropout2D", dict(rate=0.5))],
}


@pytest.mark.parametrize("case", sorted(NOISE))
def test_noise_layer_gradients_with_a_fixed_draw(case):
    specs = [("Conv2D", dict(filters=3, kernel_size=1, activation="tanh"))] + NOISE[case] + HEAD
    _, fm, x, y = _grad_setup((4, 3, 2), specs)
    a = fm._loss_and_gradients(x, y, training=True, seed=11)
    b = fm._loss_and_gradients(x, y, training=True, seed=11)
    assert a[0] == b[0]  # the same seed: the same noise
    c = fm._loss_and_gradients(x, y, training=True, seed=12)
    d = fm._loss_and_gradients(x, y, training=False)
    assert c[0] != a[0] and d[0] != a[0]  # the noise is there in training only
    _fd_check(fm, x, y, training=True, seed=11)


# --- the noise layers' draws ------------------------------------------------------------------
N_DRAWS = (40, 50, 50, 4)  # 400 000 values; KS tests at p > 1e-3 (false alarm 1 in 1000)


def _draw(layer_name, x, global_seed=0, **kwargs):
    fmnistcpp.utils.set_random_seed(global_seed)
    return getattr(fmnistcpp.layers, layer_name)(**kwargs)(x, training=True).numpy()


def _keras_draw(layer_name, x, global_seed=0, **kwargs):
    keras.utils.set_random_seed(global_seed)
    return np.asarray(getattr(keras.layers, layer_name)(**kwargs)(x, training=True))


def test_gaussian_noise_is_normal_with_the_given_stddev():
    x = np.full(N_DRAWS, 3.0, np.float32)
    noise = (_draw("GaussianNoise", x, stddev=0.2) - 3.0).ravel()
    assert stats.kstest(noise, "norm", args=(0, 0.2)).pvalue > 1e-3
    k_noise = (_keras_draw("GaussianNoise", x, stddev=0.2) - 3.0).ravel()
    assert stats.ks_2samp(noise, k_noise).pvalue > 1e-3
    # the tails are there too (Box-Muller on 53-bit uniforms reaches ~8 sigma)
    assert np.abs(noise).max() > 4 * 0.2


def test_gaussian_dropout_multiplies_by_normal_noise_around_one():
    rate = 0.3
    x = np.full(N_DRAWS, 2.0, np.float32)
    factor = (_draw("GaussianDropout", x, rate=rate) / 2.0).ravel()
    sd = np.sqrt(rate / (1 - rate))
    assert stats.kstest(factor, "norm", args=(1.0, sd)).pvalue > 1e-3
    k_factor = (_keras_draw("GaussianDropout", x, rate=rate) / 2.0).ravel()
    assert stats.ks_2samp(factor, k_factor).pvalue > 1e-3


def test_alpha_dropout_keeps_mean_and_variance_and_drops_at_the_rate():
    rate = 0.2
    x = np.random.default_rng(5).normal(size=N_DRAWS).astype(np.float32)
    out = _draw("AlphaDropout", x, rate=rate)
    alpha_p = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946
    a = ((1 - rate) * (1 + rate * alpha_p ** 2)) ** -0.5
    b = -a * alpha_p * rate
    dropped = np.isclose(out, a * alpha_p + b, rtol=0, atol=1e-6)
    kept = ~dropped
    np.testing.assert_allclose(out[kept], a * x[kept] + b, rtol=1e-6, atol=1e-6)
    n = x.size
    # binomial: 5 standard deviations
    assert abs(dropped.mean() - rate) < 5 * np.sqrt(rate * (1 - rate) / n)
    # the point of alpha dropout: standard normal in, mean 0 and variance 1 out
    assert abs(out.mean()) < 0.01 and abs(out.var() - 1) < 0.02
    k = _keras_draw("AlphaDropout", x, rate=rate)
    assert abs(out.mean() - k.mean()) < 0.01 and abs(out.var() - k.var()) < 0.02


def test_spatial_dropout_drops_whole_feature_maps():
    rate = 0.4
    x = np.random.default_rng(6).uniform(1, 2, size=(500, 5, 5, 8)).astype(np.float32)
    for fmt in ("channels_last", "channels_first"):
        out = _draw("SpatialDropout2D", x, rate=rate, data_format=fmt)
        axis = 3 if fmt == "channels_last" else 1
        channels = x.shape[axis]
        maps = np.moveaxis(out, axis, 1).reshape(500, channels, -1)
        src = np.moveaxis(x, axis, 1).reshape(500, channels, -1)
        zero = (maps == 0).all(axis=2)
        scaled = np.isclose(maps, src / (1 - rate), rtol=1e-6).all(axis=2)
        assert (zero | scaled).all()  # each map is dropped or kept whole
        n = zero.size
        assert abs(zero.mean() - rate) < 5 * np.sqrt(rate * (1 - rate) / n)


@pytest.mark.parametrize("case", sorted(NOISE))
def test_noise_draws_are_seeded_and_independent_of_threads(case):
    name, kwargs = NOISE[case][0]
    x = np.random.default_rng(7).normal(size=(8, 20, 20, 16)).astype(np.float32)  # > 16384
    before = fmnistcpp.utils.get_num_threads()
    try:
        fmnistcpp.utils.set_num_threads(1)
        one = _draw(name, x, global_seed=3, **kwargs)
        fmnistcpp.utils.set_num_threads(2)
        two = _draw(name, x, global_seed=3, **kwargs)
    finally:
        fmnistcpp.utils.set_num_threads(before)
    np.testing.assert_array_equal(one, two)
    assert not np.array_equal(one, _draw(name, x, global_seed=4, **kwargs))  # another seed
    seeded = [_draw(name, x, global_seed=3, **dict(kwargs, seed=s)) for s in (1, 2)]
    assert not np.array_equal(seeded[0], seeded[1])  # the layer's own seed= matters
    # eagerly, as in Keras, these layers default to inference
    np.testing.assert_array_equal(getattr(fmnistcpp.layers, name)(**kwargs)(x).numpy(), x)


def test_noise_layers_are_identity_in_predict_and_evaluate():
    specs = [("Flatten", {}), ("GaussianNoise", dict(stddev=0.5)),
             ("GaussianDropout", dict(rate=0.4)), ("AlphaDropout", dict(rate=0.3)),
             ("Dense", dict(units=5, activation="softmax"))]
    _, fm = _pair((4, 4, 2), specs)
    plain = fmnistcpp.Sequential([fmnistcpp.layers.Input((4, 4, 2)), fmnistcpp.layers.Flatten(),
                                  fmnistcpp.layers.Dense(5, activation="softmax")])
    plain.set_weights(fm.get_weights())
    x = _x((4, 4, 2), n=20)
    y = np.arange(20) % 5
    np.testing.assert_array_equal(fm.predict(x, verbose=0), plain.predict(x, verbose=0))
    for m in (fm, plain):
        m.compile(optimizer="sgd", loss=SPARSE)
    assert fm.evaluate(x, y, verbose=0) == plain.evaluate(x, y, verbose=0)


# --- training parity ------------------------------------------------------------------------
def test_mlp_with_layer_normalization_trains_like_keras(small_data):
    specs = [("Flatten", {}), ("Dense", dict(units=64, activation="tanh")),
             ("LayerNormalization", {}), ("Dense", dict(units=32, activation="tanh")),
             ("LayerNormalization", dict(epsilon=1e-5)),
             ("Dense", dict(units=10, activation="softmax"))]
    km, fm = _pair((28, 28, 1), specs, seed=2)
    for m in (km, fm):
        m.compile(optimizer="adam", loss=SPARSE, metrics=["accuracy"])
    x, y, xv, yv = _seed_data("000", small_data, n_train=1000)
    y, yv = np.argmax(y, axis=1), np.argmax(yv, axis=1)
    kh, fh = _fit_both(km, fm, x, y, batch_size=32, validation_data=(xv, yv))
    _assert_history_matches(kh, fh, len(x))


def test_rescaling_and_normalization_on_raw_pixels_train_like_keras(small_data):
    (x, y), (xt, yt) = small_data
    raw, raw_val = np.round(x[:1000] * 255).astype(np.uint8), np.round(xt[:500] * 255)
    models = []
    for module in (keras, fmnistcpp):
        module.utils.set_random_seed(1)
        norm = module.layers.Normalization(axis=None)
        model = module.Sequential([
            module.layers.Input((28, 28, 1)), module.layers.Rescaling(1.0 / 255),
            norm, module.layers.Flatten(), module.layers.Dense(48, activation="tanh"),
            module.layers.Dense(10, activation="softmax")])
        norm.adapt(raw.astype(np.float32) / 255)
        models.append(model)
    km, fm = models
    fm.set_weights([np.asarray(w, np.float32) for w in km.get_weights()])
    for m in (km, fm):
        m.compile(optimizer="adam", loss=SPARSE, metrics=["accuracy"])
    kh, fh = _fit_both(km, fm, raw, y[:1000], batch_size=32,
                       validation_data=(raw_val.astype(np.uint8), yt[:500]))
    _assert_history_matches(kh, fh, 1000)


# --- .keras files both ways ---------------------------------------------------------------------
ROUND_TRIP = [
    ("LayerNormalization", dict(axis=[1, 2], epsilon=1e-4, center=False)),
    ("LayerNormalization", dict(rms_scaling=True)),
    ("Rescaling", dict(scale=1 / 127.5, offset=-1.0)),
    ("Normalization", dict(mean=[0.5, 1.0, 1.5], variance=[1.0, 2.0, 3.0], invert=True)),
    ("Normalization", dict(axis=(1, 3))),
    ("GaussianNoise", dict(stddev=0.3, seed=4)),
    ("GaussianDropout", dict(rate=0.25)),
    ("AlphaDropout", dict(rate=0.1, seed=2)),
    ("SpatialDropout2D", dict(rate=0.2, seed=1)),
]


@pytest.mark.parametrize("spec", ROUND_TRIP, ids=lambda s: s[0] + "_" + "_".join(map(str, s[1])))
@pytest.mark.parametrize("direction", ["fmnistcpp_to_keras", "keras_to_fmnistcpp"])
def test_keras_file_round_trip(spec, direction, tmp_path):
    specs = [spec, ("Flatten", {}), ("Dense", dict(units=4, activation="softmax"))]
    km, fm = _pair(IMAGE, specs)
    src, dst = (fm, keras) if direction == "fmnistcpp_to_keras" else (km, fmnistcpp)
    x, y = _x(IMAGE, n=12), np.arange(12) % 4
    loaded = trained_file_round_trip(src, dst, x, y, tmp_path / "m.keras")
    a, b = src.layers[0].get_config(), loaded.layers[0].get_config()
    for key in set(a) & set(b) - {"name", "dtype"}:
        if key == "axis":  # Keras's build turns LayerNormalization's axis=-1 into [-1]
            assert list(np.atleast_1d(a[key])) == list(np.atleast_1d(b[key]))
        else:
            assert _plain(a[key]) == _plain(b[key]), key
    for w, v in zip(src.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(np.asarray(w, np.float32), np.asarray(v, np.float32))


def _plain(v):
    if isinstance(v, (list, tuple)):
        return [_plain(e) for e in v]
    if isinstance(v, dict):
        return {k: _plain(e) for k, e in v.items() if k != "registered_name"}
    return v


# --- bad arguments -----------------------------------------------------------------------------
BAD = [
    ("LayerNormalization", dict(axis="last"), IMAGE, TypeError, "int or a list"),
    ("LayerNormalization", dict(axis=4), IMAGE, ValueError, "out of bounds"),
    ("LayerNormalization", dict(axis=0), IMAGE, NotImplementedError, "batch axis"),
    ("LayerNormalization", dict(axis=[1, 3]), IMAGE, NotImplementedError, "adjacent"),
    ("LayerNormalization", dict(epsilon=-1e-3), IMAGE, ValueError, "epsilon"),
    ("LayerNormalization", dict(center="yes"), IMAGE, ValueError, "True or False"),
    ("Rescaling", dict(scale="half"), IMAGE, ValueError, "scale"),
    ("Rescaling", dict(scale=[1.0, 2.0]), IMAGE, NotImplementedError, "one value per channel"),
    ("Rescaling", dict(scale=float("nan")), IMAGE, ValueError, "finite"),
    ("Normalization", dict(mean=1.0), IMAGE, ValueError, "both `mean` and `variance`"),
    ("Normalization", dict(mean=[1.0, 2.0], variance=[[1.0, 2.0]]), IMAGE, ValueError,
     "same shape"),
    ("Normalization", dict(mean=[[1.0]], variance=[[1.0]]), IMAGE, ValueError, "rank of `mean`"),
    ("Normalization", dict(axis=5), IMAGE, ValueError, "[-ndim, ndim)"),
    ("Normalization", dict(axis=0), IMAGE, ValueError, "known shape"),
    ("Normalization", dict(mean=[1.0, 2.0], variance=[1.0, 2.0]), IMAGE, ValueError,
     "cannot be broadcast"),
    ("Normalization", dict(mean=[1.0], variance=[-1.0]), IMAGE, ValueError, "variance"),
    ("GaussianNoise", dict(stddev=2.0), IMAGE, ValueError, "between 0 and 1"),
    ("GaussianDropout", dict(rate=1.0), IMAGE, ValueError, "[0, 1)"),
    ("AlphaDropout", dict(rate=-0.1), IMAGE, ValueError, "[0, 1)"),
    ("AlphaDropout", dict(rate=0.1, noise_shape=(None, 1, 1, 3)), IMAGE, NotImplementedError,
     "noise_shape"),
    ("SpatialDropout2D", dict(rate=1.5), IMAGE, ValueError, "[0, 1)"),
    ("SpatialDropout2D", dict(rate=0.1), (12,), ValueError, "4D inputs"),
    ("SpatialDropout2D", dict(rate=0.1, data_format="nhwc"), IMAGE, ValueError, "channels_last"),
]


@pytest.mark.parametrize("name,kwargs,shape,error,message", BAD,
                         ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_bad_arguments_get_clear_errors(name, kwargs, shape, error, message):
    with pytest.raises(error, match=None) as info:
        fmnistcpp.Sequential([fmnistcpp.layers.Input(shape),
                              getattr(fmnistcpp.layers, name)(**kwargs)])
    assert message in str(info.value), str(info.value)


def test_adapt_refuses_what_keras_cannot_use():
    given = fmnistcpp.layers.Normalization(mean=1.0, variance=2.0)
    with pytest.raises(ValueError, match="mean"):
        given.adapt(np.ones((4, 3), np.float32))
    layer = fmnistcpp.layers.Normalization()
    with pytest.raises(ValueError, match="empty iterable"):
        layer.adapt([])
    with pytest.raises(TypeError, match="Unsupported data type"):
        layer.adapt("pixels")
    layer.adapt(np.ones((4, 3), np.float32))
    with pytest.raises(ValueError, match="incompatible shape"):
        layer.adapt(np.ones((4, 5), np.float32))
    with pytest.raises(ValueError, match="incompatible shape"):
        layer.adapt([np.ones((4, 3), np.float32), np.ones((4, 2), np.float32)])
