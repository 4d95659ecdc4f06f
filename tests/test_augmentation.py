"""The augmentation layers (RandomFlip, RandomRotation, RandomZoom,
RandomTranslation, RandomContrast) against real Keras 3.

Their random numbers cannot match Keras's, so what is compared is
- the deterministic part: with a factor range collapsed to one value,
  Keras's output and fmnistcpp's are the same function of the image (every
  fill mode and interpolation);
- the distribution of the draws: each image's transform is recovered
  exactly from the output (a bilinear resampling of a linear ramp is exact,
  so the output of a ramp image *is* the affine map) and compared with the
  uniform law Keras documents and with Keras's own draws (two-sample KS);
- seeding: the same seed gives the same batch, whatever the thread count;
  inference is the identity.
Plus gradients (the exact adjoint of the resampling), .keras files both
ways, bad arguments, and a script-style Fashion-MNIST model."""

import numpy as np
import pytest
from scipy import stats

import fmnistcpp
import keras
from conftest import build_model, trained_file_round_trip
from test_gradients import _fd_check

FILL_MODES = ["reflect", "wrap", "constant", "nearest"]
INTERPOLATIONS = ["bilinear", "nearest"]
# Values in [0, 1]: float32 resampling agrees to round-off (observed: exactly).
ATOL = 1e-5


def _images(n=3, h=9, w=7, c=2, seed=0):
    return np.random.default_rng(seed).uniform(size=(n, h, w, c)).astype(np.float32)


def _both(name, x, **kwargs):
    """(Keras's, fmnistcpp's) output of layer `name` in training mode."""
    k = np.asarray(getattr(keras.layers, name)(**kwargs)(x, training=True))
    f = getattr(fmnistcpp.layers, name)(**kwargs)(x, training=True).numpy()
    return k, f


# --- the deterministic part: collapsed ranges ----------------------------------------------
COLLAPSED = [
    ("RandomRotation", dict(factor=(0.13, 0.13))),
    ("RandomRotation", dict(factor=(-0.4, -0.4))),
    ("RandomRotation", dict(factor=(0.25, 0.25))),   # a quarter turn
    ("RandomZoom", dict(height_factor=(0.3, 0.3))),  # zoom out
    ("RandomZoom", dict(height_factor=(-0.4, -0.4), width_factor=(0.5, 0.5))),
    ("RandomTranslation", dict(height_factor=(0.23, 0.23), width_factor=(-0.37, -0.37))),
    ("RandomTranslation", dict(height_factor=(0.9, 0.9), width_factor=(1.0, 1.0))),
    # half a pixel: an edge row reads half image, half fill_value in constant mode
    ("RandomTranslation", dict(height_factor=(-0.5 / 9, -0.5 / 9), width_factor=(0.0, 0.0))),
]


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("fill_mode", FILL_MODES)
@pytest.mark.parametrize("spec", COLLAPSED, ids=lambda s: f"{s[0]}{sorted(s[1].values())}")
def test_fixed_transform_matches_keras(spec, fill_mode, interpolation):
    name, kwargs = spec
    x = _images()
    k, f = _both(name, x, fill_mode=fill_mode, interpolation=interpolation, fill_value=0.7,
                 **kwargs)
    np.testing.assert_allclose(f, k, rtol=0, atol=ATOL)
    assert not np.allclose(f, x)


def test_fixed_contrast_matches_keras():
    # factor (a, b) draws from [1 - a, 1 + b]: (-0.3, 0.3) is always 1.3
    x = _images()
    for value_range in ((0.0, 1.0), (-5.0, 5.0)):
        k, f = _both("RandomContrast", x, factor=(-0.3, 0.3), value_range=value_range)
        np.testing.assert_allclose(f, k, rtol=0, atol=ATOL)
    assert (f != x).any() and f.max() <= 5.0


# --- flips ---------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["horizontal", "vertical", "horizontal_and_vertical"])
def test_random_flip_flips_half_of_the_images_as_keras(mode):
    n = 2000
    x = _images(n=n, h=4, w=5, c=1, seed=1)
    flipped = {"horizontal": x[:, :, ::-1], "vertical": x[:, ::-1],
               "horizontal_and_vertical": x[:, ::-1, ::-1]}[mode]
    k, f = _both("RandomFlip", x, mode=mode)
    for out in (f, k):  # each image unchanged or flipped, in Keras too
        same = (out == x).all(axis=(1, 2, 3))
        flip = (out == flipped).all(axis=(1, 2, 3))
        assert (same | flip).all()
        # binomial(n, 1/2): 5 standard deviations
        assert abs(flip.mean() - 0.5) < 5 * np.sqrt(0.25 / n)


# --- draws: the transform of each image, recovered from a ramp ---------------------------
SIZE = 31
N_DRAWS = 1500


def _ramp(n=N_DRAWS):
    """Channel 0 holds each pixel's column, channel 1 its row."""
    ys, xs = np.meshgrid(np.arange(SIZE, dtype=np.float32), np.arange(SIZE, dtype=np.float32),
                         indexing="ij")
    return np.broadcast_to(np.stack([xs, ys], axis=-1), (n, SIZE, SIZE, 2)).copy()


def _affine_maps(out):
    """(a0, a1, a2, b0, b1, b2) per image: out[..., 0] = a0 x + a1 y + a2 and
    out[..., 1] = b0 x + b1 y + b2 exactly around the centre, where every
    bilinear tap is inside the image."""
    c = SIZE // 2
    p, px, py = out[:, c, c], out[:, c, c + 1], out[:, c + 1, c]
    a0, b0 = px[:, 0] - p[:, 0], px[:, 1] - p[:, 1]
    a1, b1 = py[:, 0] - p[:, 0], py[:, 1] - p[:, 1]
    a2 = p[:, 0] - a0 * c - a1 * c
    b2 = p[:, 1] - b0 * c - b1 * c
    return a0, a1, a2, b0, b1, b2


def _draws(name, parameter, kwargs):
    """The recovered parameter per image, for fmnistcpp and for Keras."""
    x = _ramp()
    fmnistcpp.utils.set_random_seed(1)
    keras.utils.set_random_seed(1)
    k, f = _both(name, x, **kwargs)
    return parameter(_affine_maps(f)), parameter(_affine_maps(k))


def _check_uniform(f, k, lower, upper, atol):
    # within the range (up to the float32 round-off of the recovery) ...
    assert f.min() >= lower - atol and f.max() <= upper + atol
    # ... uniform over it, and distributed as Keras's draws
    assert stats.kstest(f, "uniform", args=(lower, upper - lower)).pvalue > 1e-3
    assert stats.ks_2samp(f, k).pvalue > 1e-3
    # and not degenerate: both ends are reached
    assert f.min() < lower + 0.05 * (upper - lower) and f.max() > upper - 0.05 * (upper - lower)


def test_rotation_angles_are_uniform_over_the_factor_range():
    def angle(m):  # degrees; a0 = cos, b0 = sin
        return np.degrees(np.arctan2(m[3], m[0]))

    f, k = _draws("RandomRotation", angle, dict(factor=(-0.1, 0.2)))
    _check_uniform(f, k, -36.0, 72.0, atol=1e-3)
    # a pure rotation: the map is orthogonal
    m = _affine_maps(fmnistcpp.layers.RandomRotation(0.2)(_ramp(50), training=True).numpy())
    np.testing.assert_allclose(m[0], m[4], atol=1e-4)
    np.testing.assert_allclose(m[1], -m[3], atol=1e-4)


def test_zoom_factors_are_uniform_and_shared_without_width_factor():
    f, k = _draws("RandomZoom", lambda m: m[4], dict(height_factor=(-0.3, 0.2)))
    _check_uniform(f, k, 0.7, 1.2, atol=1e-4)  # Keras: 1 + factor
    m = _affine_maps(fmnistcpp.layers.RandomZoom(0.2)(_ramp(200), training=True).numpy())
    np.testing.assert_allclose(m[0], m[4], atol=1e-5)  # width follows height
    # with width_factor the two zooms are drawn independently
    m = _affine_maps(fmnistcpp.layers.RandomZoom(0.2, 0.3)(_ramp(800), training=True).numpy())
    assert abs(np.corrcoef(m[0], m[4])[0, 1]) < 0.15
    assert m[0].min() < 0.75 and m[0].max() > 1.25


def test_translations_are_uniform_fractions_of_the_size():
    f, k = _draws("RandomTranslation", lambda m: -m[5], dict(height_factor=0.2, width_factor=0.1))
    _check_uniform(f, k, -0.2 * SIZE, 0.2 * SIZE, atol=1e-3)
    f, k = _draws("RandomTranslation", lambda m: -m[2],
                  dict(height_factor=0.2, width_factor=(-0.3, 0.1)))
    _check_uniform(f, k, -0.3 * SIZE, 0.1 * SIZE, atol=1e-3)


def test_contrast_factors_are_uniform_from_one_minus_lower_to_one_plus_upper():
    x = _images(n=N_DRAWS, h=6, w=6, c=1, seed=2) * 100
    fmnistcpp.utils.set_random_seed(1)
    keras.utils.set_random_seed(1)
    wide = (-1e4, 1e4)  # nothing clipped: the factor is the ratio of deviations

    def factors(out):
        dev_in = x - x.mean(axis=(1, 2), keepdims=True)
        dev_out = out - out.mean(axis=(1, 2), keepdims=True)
        return (dev_out * dev_in).sum(axis=(1, 2, 3)) / (dev_in ** 2).sum(axis=(1, 2, 3))

    # Keras sorts the pair: (0.4, 0.3) is (0.3, 0.4), i.e. factors 0.7 .. 1.4
    k, f = _both("RandomContrast", x, factor=(0.4, 0.3), value_range=wide)
    _check_uniform(factors(f), factors(k), 0.7, 1.4, atol=1e-4)
    # as Keras 3: a single number f means (0, f), so the contrast only grows
    k, f = _both("RandomContrast", x, factor=0.5, value_range=wide)
    _check_uniform(factors(f), factors(k), 1.0, 1.5, atol=1e-4)


def test_contrast_clips_to_the_value_range():
    x = _images(n=200, seed=3)
    f = fmnistcpp.layers.RandomContrast((0.0, 1.0), value_range=(0.2, 0.8))(x).numpy()
    assert f.min() >= 0.2 and f.max() <= 0.8 and (f == 0.8).any()


# --- seeding, inference ----------------------------------------------------------------------
LAYERS = [
    ("RandomFlip", dict(mode="horizontal_and_vertical")),
    ("RandomRotation", dict(factor=0.2)),
    ("RandomZoom", dict(height_factor=0.2, width_factor=0.3)),
    ("RandomTranslation", dict(height_factor=0.2, width_factor=0.2, fill_mode="constant")),
    ("RandomContrast", dict(factor=0.3, value_range=(0, 1))),
]
LAYER_IDS = [s[0] for s in LAYERS]


def _draw(name, kwargs, x, global_seed):
    fmnistcpp.utils.set_random_seed(global_seed)
    return getattr(fmnistcpp.layers, name)(**kwargs)(x, training=True).numpy()


@pytest.mark.parametrize("spec", LAYERS, ids=LAYER_IDS)
def test_same_seed_same_batch_whatever_the_thread_count(spec):
    name, kwargs = spec
    x = _images(n=64, h=28, w=28, c=1, seed=4)  # 50176 values: the threaded path
    before = fmnistcpp.utils.get_num_threads()
    try:
        fmnistcpp.utils.set_num_threads(1)
        one = _draw(name, kwargs, x, 5)
        fmnistcpp.utils.set_num_threads(2)
        two = _draw(name, kwargs, x, 5)
    finally:
        fmnistcpp.utils.set_num_threads(before)
    np.testing.assert_array_equal(one, two)
    assert not np.array_equal(one, _draw(name, kwargs, x, 6))
    # the layer's own seed= is mixed in
    a, b = (_draw(name, dict(kwargs, seed=s), x, 5) for s in (1, 2))
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, _draw(name, dict(kwargs, seed=1), x, 5))


@pytest.mark.parametrize("spec", LAYERS, ids=LAYER_IDS)
def test_inference_is_the_identity(spec):
    name, kwargs = spec
    x = _images(n=8, h=10, w=10, c=1, seed=5)
    layer = getattr(fmnistcpp.layers, name)(**kwargs)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    assert not np.array_equal(layer(x).numpy(), x)  # eager calls augment, as Keras's
    model = fmnistcpp.Sequential([fmnistcpp.layers.Input((10, 10, 1)),
                                  getattr(fmnistcpp.layers, name)(**kwargs)])
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    np.testing.assert_array_equal(model(x).numpy(), x)


def test_augmentation_is_active_in_fit_only(small_data):
    # A model whose only learnable part sits after the augmentation: in fit
    # the augmented batch changes the loss; evaluate sees the plain images.
    (x, y), _ = small_data
    x, y = x[:64], y[:64]
    fm = build_model(fmnistcpp, (28, 28, 1), [("RandomRotation", dict(factor=0.25)),
                                              ("Flatten", {}),
                                              ("Dense", dict(units=10, activation="softmax"))])
    plain = build_model(fmnistcpp, (28, 28, 1), [("Flatten", {}),
                                                 ("Dense", dict(units=10, activation="softmax"))])
    plain.set_weights(fm.get_weights())
    for m in (fm, plain):
        m.compile(optimizer=fmnistcpp.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
    assert fm.evaluate(x, y, verbose=0) == plain.evaluate(x, y, verbose=0)
    h_aug = fm.fit(x, y, epochs=1, shuffle=False, verbose=0).history["loss"][0]
    h_plain = plain.fit(x, y, epochs=1, shuffle=False, verbose=0).history["loss"][0]
    assert h_aug != pytest.approx(h_plain, rel=1e-4)


# --- gradients ----------------------------------------------------------------------------------
GRADIENT_CASES = [
    ("RandomFlip", dict(mode="horizontal_and_vertical")),
    ("RandomRotation", dict(factor=0.2, fill_mode="constant", fill_value=0.5)),
    ("RandomRotation", dict(factor=0.2, interpolation="nearest", fill_mode="reflect")),
    ("RandomZoom", dict(height_factor=0.3, fill_mode="wrap")),
    ("RandomTranslation", dict(height_factor=0.3, width_factor=0.3, fill_mode="nearest")),
    ("RandomContrast", dict(factor=(0.5, 0.5), value_range=(-1e3, 1e3))),
    ("RandomContrast", dict(factor=(0.5, 0.5), value_range=(-0.5, 0.5))),  # clipping active
]


@pytest.mark.parametrize("spec", GRADIENT_CASES, ids=lambda s: f"{s[0]}{sorted(s[1].items())}")
def test_finite_differences_through_the_augmentation(spec):
    specs = [("Conv2D", dict(filters=2, kernel_size=1, activation="tanh")), spec,
             ("Flatten", {}), ("Dense", dict(units=5, activation="softmax"))]
    fmnistcpp.utils.set_random_seed(0)
    fm = build_model(fmnistcpp, (6, 5, 2), specs)
    fm.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 6, 5, 2)).astype(np.float32)
    y = rng.integers(0, 5, size=3).astype(np.int32)
    a = fm._loss_and_gradients(x, y, training=True, seed=21)
    assert a[0] != fm._loss_and_gradients(x, y, training=False)[0]  # the transform is on
    _fd_check(fm, x, y, training=True, seed=21)


# --- files, arguments ---------------------------------------------------------------------------
ROUND_TRIP = [
    ("RandomFlip", dict(mode="vertical", seed=3)),
    ("RandomRotation", dict(factor=(-0.1, 0.3), fill_mode="constant", fill_value=0.2,
                            interpolation="nearest")),
    ("RandomZoom", dict(height_factor=0.2, width_factor=(-0.1, 0.3), fill_mode="wrap")),
    ("RandomTranslation", dict(height_factor=0.1, width_factor=0.2, seed=7)),
    ("RandomContrast", dict(factor=0.2, value_range=(0, 1))),
]


@pytest.mark.parametrize("spec", ROUND_TRIP, ids=[s[0] for s in ROUND_TRIP])
@pytest.mark.parametrize("direction", ["fmnistcpp_to_keras", "keras_to_fmnistcpp"])
def test_keras_file_round_trip(spec, direction, tmp_path):
    specs = [spec, ("Flatten", {}), ("Dense", dict(units=3, activation="softmax"))]
    src_module, dst_module = (fmnistcpp, keras) if direction == "fmnistcpp_to_keras" \
        else (keras, fmnistcpp)
    src = build_model(src_module, (8, 8, 1), specs)
    x, y = _images(n=6, h=8, w=8, c=1), np.arange(6) % 3
    loaded = trained_file_round_trip(src, dst_module, x, y, tmp_path / "aug.keras")
    assert type(loaded.layers[0]).__name__ == spec[0]
    a, b = src.layers[0].get_config(), loaded.layers[0].get_config()
    for key in set(a) & set(b) - {"name", "dtype"}:
        assert list(np.atleast_1d(a[key])) == list(np.atleast_1d(b[key])), key
    # the loaded layer still augments, with the saved settings
    fmnistcpp_layer = (loaded if dst_module is fmnistcpp else src).layers[0]
    if spec[0] != "RandomFlip":
        assert not np.array_equal(fmnistcpp_layer(x, training=True).numpy(), x)


BAD = [
    ("RandomRotation", dict(factor=1.5), ValueError, "in the range [-1, 1]"),
    ("RandomRotation", dict(factor=(0.1, 0.2, 0.3)), ValueError, "list of two numbers"),
    ("RandomRotation", dict(factor="big"), ValueError, "factor"),
    ("RandomRotation", dict(factor=0.1, fill_mode="mirror"), NotImplementedError,
     "Unknown `fill_mode` mirror"),
    ("RandomRotation", dict(factor=0.1, interpolation="bicubic"), NotImplementedError,
     "Unknown `interpolation` bicubic"),
    ("RandomRotation", dict(factor=0.1, data_format="channels_first"), NotImplementedError,
     "channels_last"),
    ("RandomZoom", dict(height_factor=-1.0), ValueError, "(-1.0, 1.0]"),
    ("RandomZoom", dict(height_factor=0.1, width_factor=(0.2, 1.5)), ValueError, "(-1.0, 1.0]"),
    ("RandomTranslation", dict(height_factor=1.2, width_factor=0.1), ValueError, "[-1.0, 1.0]"),
    ("RandomTranslation", dict(height_factor=(0.1,), width_factor=0.1), ValueError,
     "list of two numbers"),
    ("RandomContrast", dict(factor=-0.2), ValueError, "in the range [0, 1]"),
    ("RandomContrast", dict(factor=0.2, value_range=(1, 0)), ValueError, "value_range"),
    ("RandomFlip", dict(mode="diagonal"), ValueError, "'horizontal', 'vertical'"),
]


@pytest.mark.parametrize("name,kwargs,error,message", BAD,
                         ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_bad_arguments_get_clear_errors(name, kwargs, error, message):
    with pytest.raises(error) as info:
        getattr(fmnistcpp.layers, name)(**kwargs)
    assert message in str(info.value), str(info.value)


@pytest.mark.parametrize("spec", LAYERS, ids=LAYER_IDS)
def test_images_without_a_channel_axis_are_refused(spec):
    name, kwargs = spec
    with pytest.raises(ValueError, match="expects images"):
        fmnistcpp.Sequential([fmnistcpp.layers.Input((28, 28)),
                              getattr(fmnistcpp.layers, name)(**kwargs)])


# --- a script in the style of public Fashion-MNIST code ---------------------------------------
def test_script_style_augmented_cnn_on_fashion_mnist():
    # As tutorials write it: raw uint8 images, scaling and augmentation as the
    # model's first layers, so the same model takes raw pixels at predict time.
    keras_like = fmnistcpp
    (x_train, y_train), (x_test, y_test) = keras_like.datasets.fashion_mnist.load_data()
    x_train, y_train = x_train[:3000, ..., None], y_train[:3000]
    x_test, y_test = x_test[:1000, ..., None], y_test[:1000]
    assert x_train.dtype == np.uint8

    keras_like.utils.set_random_seed(42)
    augment = keras_like.Sequential([
        keras_like.layers.RandomFlip("horizontal"),
        keras_like.layers.RandomRotation(0.05),
        keras_like.layers.RandomZoom(0.1),
        keras_like.layers.RandomTranslation(0.05, 0.05),
    ], name="augment")
    model = keras_like.Sequential([
        keras_like.Input(shape=(28, 28, 1)),
        keras_like.layers.Rescaling(1.0 / 255),
        augment,
        keras_like.layers.Conv2D(16, 3, activation="relu"),
        keras_like.layers.MaxPooling2D(),
        keras_like.layers.Flatten(),
        keras_like.layers.Dense(64, activation="relu"),
        keras_like.layers.Dropout(0.2),
        keras_like.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=3, batch_size=64, validation_split=0.1,
                        verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy > 0.6  # chance is 0.1; a plain CNN reaches ~0.8 here

    # predict is deterministic (no augmentation) and equals the model
    # without the augmentation block
    first = model.predict(x_test[:100], verbose=0)
    np.testing.assert_array_equal(first, model.predict(x_test[:100], verbose=0))
    bare = keras_like.Sequential([keras_like.Input(shape=(28, 28, 1))] +
                                 [layer for layer in model.layers if layer is not augment])
    np.testing.assert_allclose(bare.predict(x_test[:100], verbose=0), first, rtol=1e-6,
                               atol=1e-7)
