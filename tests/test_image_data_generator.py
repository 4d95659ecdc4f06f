"""fmnistcpp.preprocessing.image.ImageDataGenerator against Keras 3.15's legacy
one (keras/src/legacy/preprocessing/image.py, what tf.keras.preprocessing.image
gives): the same random draws and the same pixels.

Equality is exact (assert_array_equal): fmnistcpp interpolates a whole batch in
one scipy.ndimage.map_coordinates call, Keras one image and channel at a time
with scipy.ndimage.affine_transform; both run SciPy's same C interpolation on the
same source coordinates (computed in the same order of operations), and the
stack axis is sampled at whole numbers with weight 1. ZCA whitening is the one
place with a tolerance (a batch matrix product instead of one product per image:
BLAS may sum in another order)."""

import warnings

import numpy as np
import pytest
from keras.src.legacy.preprocessing import image as keras_image

import fmnistcpp
from fmnistcpp.datasets import fashion_mnist
from fmnistcpp.preprocessing import image as fm_image


@pytest.fixture(scope="module")
def images():
    (x, y), _ = fashion_mnist.load_data()
    return x[:48, :, :, None].astype("float32"), y[:48].astype("int64")


CONFIGS = [
    dict(rotation_range=20),
    dict(width_shift_range=0.2, height_shift_range=0.1),
    dict(width_shift_range=[-3, 2, 5], height_shift_range=4),  # pixel choices
    dict(zoom_range=0.3),
    dict(zoom_range=[0.8, 1.1]),
    dict(shear_range=30),
    dict(horizontal_flip=True, vertical_flip=True),
    dict(rotation_range=40, fill_mode="reflect"),
    dict(rotation_range=40, fill_mode="wrap"),
    dict(rotation_range=15, width_shift_range=0.1, height_shift_range=0.1, zoom_range=0.1,
         shear_range=10, horizontal_flip=True, fill_mode="constant", cval=3.0, rescale=1 / 255.0),
    dict(samplewise_center=True, samplewise_std_normalization=True, rotation_range=10),
    dict(channel_shift_range=20.0, rotation_range=5, rescale=1 / 255.0),
    dict(rotation_range=30, interpolation_order=0),
    dict(rotation_range=30, interpolation_order=3),  # image by image, as Keras
    dict(brightness_range=(0.5, 1.5), rotation_range=5),
    dict(rotation_range=10, preprocessing_function=lambda im: im + np.random.uniform()),
]


@pytest.mark.parametrize("cfg", CONFIGS, ids=[str(sorted(c)) for c in CONFIGS])
def test_seeded_flow_batches_equal_keras(images, cfg):
    x, y = images
    ours = fm_image.ImageDataGenerator(**cfg).flow(x, y, batch_size=16, seed=3)
    theirs = keras_image.ImageDataGenerator(**cfg).flow(x, y, batch_size=16, seed=3)
    for i in (1, 0, 2):  # __getitem__ reseeds from seed + batches seen, as fit reads it
        (fb, fy), (kb, ky) = ours[i], theirs[i]
        assert fb.dtype == kb.dtype == np.float32
        np.testing.assert_array_equal(fy, ky)
        np.testing.assert_array_equal(fb, kb)
    # every configuration changes the pixels (else equality would prove little)
    assert not np.array_equal(ours[0][0], x[ours.index_array[:16]])


@pytest.mark.parametrize("params", [
    dict(theta=17.0), dict(tx=3.5, ty=-2.0), dict(shear=12.0), dict(zx=0.8, zy=1.3),
    dict(theta=-30.0, tx=1.0, ty=2.0, shear=5.0, zx=1.1, zy=0.9, flip_horizontal=True,
         flip_vertical=True, channel_shift_intensity=10.0),
])
def test_apply_transform_fixed_parameters(images, params):
    x = images[0][5]
    for mode in ("nearest", "constant"):
        ours = fm_image.ImageDataGenerator(fill_mode=mode).apply_transform(x, params)
        theirs = keras_image.ImageDataGenerator(fill_mode=mode).apply_transform(x, params)
        np.testing.assert_array_equal(ours, theirs)
        assert not np.array_equal(ours, x)
    np.testing.assert_array_equal(x, images[0][5])  # the input is left alone


def test_apply_affine_transform_channels_first_rgb():
    rng = np.random.default_rng(0)
    img = rng.random((3, 20, 24)).astype("float32")
    args = dict(theta=25, tx=2, ty=-1, shear=7, zx=0.9, zy=1.2, row_axis=1, col_axis=2,
                channel_axis=0, fill_mode="nearest")
    np.testing.assert_array_equal(fm_image.apply_affine_transform(img, **args),
                                  keras_image.apply_affine_transform(img, **args))
    with pytest.raises(ValueError, match="distinct"):
        fm_image.apply_affine_transform(img, row_axis=1, col_axis=1)


def test_legacy_random_functions_draw_as_keras(images):
    x = images[0][3].transpose(2, 0, 1)  # the functions' default: channels first
    for fn, args in (("random_rotation", (30,)), ("random_shift", (0.2, 0.1)),
                     ("random_shear", (20,)), ("random_zoom", ((0.7, 1.2),)),
                     ("random_channel_shift", (15.0,))):
        np.random.seed(4)
        ours = getattr(fm_image, fn)(x, *args)
        np.random.seed(4)
        theirs = getattr(keras_image, fn)(x, *args)
        np.testing.assert_array_equal(ours, theirs, err_msg=fn)


def test_featurewise_fit_and_flow(images):
    x, _ = images
    cfg = dict(featurewise_center=True, featurewise_std_normalization=True, rotation_range=10,
               rescale=1 / 255.0)
    ours, theirs = fm_image.ImageDataGenerator(**cfg), keras_image.ImageDataGenerator(**cfg)
    ours.fit(x, augment=True, rounds=2, seed=1)
    theirs.fit(x, augment=True, rounds=2, seed=1)
    np.testing.assert_array_equal(ours.mean, theirs.mean)
    np.testing.assert_array_equal(ours.std, theirs.std)
    np.testing.assert_array_equal(ours.flow(x, batch_size=16, seed=5)[0],
                                  theirs.flow(x, batch_size=16, seed=5)[0])


def test_zca_whitening(images):
    x, _ = images
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # both warn that zca overrides featurewise_center
        ours = fm_image.ImageDataGenerator(zca_whitening=True)
        theirs = keras_image.ImageDataGenerator(zca_whitening=True)
    ours.fit(x[:32])
    theirs.fit(x[:32])
    a, b = ours.flow(x, batch_size=16, seed=5)[0], theirs.flow(x, batch_size=16, seed=5)[0]
    # values of order 1; the batch product may sum in another order than one image's
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)


def test_validation_split_subsets_as_keras(images):
    x, y = images
    for subset in ("training", "validation"):
        ours = fm_image.ImageDataGenerator(validation_split=0.25).flow(
            x, y, batch_size=8, shuffle=False, subset=subset, ignore_class_split=True)
        theirs = keras_image.ImageDataGenerator(validation_split=0.25).flow(
            x, y, batch_size=8, shuffle=False, subset=subset, ignore_class_split=True)
        assert len(ours) == len(theirs) == (5 if subset == "training" else 2)
        for i in range(len(ours)):
            np.testing.assert_array_equal(ours[i][0], theirs[i][0])
            np.testing.assert_array_equal(ours[i][1], theirs[i][1])
    sorted_y = np.sort(y)
    with pytest.raises(ValueError, match="different number of classes"):
        fm_image.ImageDataGenerator(validation_split=0.25).flow(x, sorted_y, subset="training")


def test_next_loops_forever_like_keras_2_code(images):
    x, y = images
    it = fm_image.ImageDataGenerator().flow(x, y, batch_size=20, shuffle=False)
    sizes = [len(next(it)[0]) for _ in range(4)]
    assert sizes == [20, 20, 8, 20]
    assert isinstance(it, fmnistcpp.utils.PyDataset) and len(it) == 3


def test_bad_arguments_are_clear(images):
    x, y = images
    with pytest.raises(ValueError, match="zoom_range"):
        fm_image.ImageDataGenerator(zoom_range=(1, 2, 3))
    with pytest.raises(ValueError, match="validation_split"):
        fm_image.ImageDataGenerator(validation_split=1.5)
    with pytest.raises(ValueError, match="fill_mode"):
        fm_image.ImageDataGenerator(fill_mode="mirror-ish")
    with pytest.raises(ValueError, match="rank 4"):
        fm_image.ImageDataGenerator().flow(x[:, :, :, 0], y)
    with pytest.raises(ValueError, match="same length"):
        fm_image.ImageDataGenerator().flow(x, y[:-1])
    with pytest.raises(ValueError, match="subset"):
        fm_image.ImageDataGenerator(validation_split=0.2).flow(x, y, subset="test")
    with pytest.raises(ValueError, match="has length 3"):
        fm_image.ImageDataGenerator().flow(x, y, batch_size=16)[3]
    with pytest.raises(NotImplementedError, match="flow\\(x, y\\)"):
        fm_image.ImageDataGenerator().flow_from_directory("somewhere")
