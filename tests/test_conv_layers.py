"""The convolution family and the 2-D reshaping layers against real Keras 3:
Conv2D's dilation_rate, groups and channels_first, Conv1D, DepthwiseConv2D,
SeparableConv2D, Conv2DTranspose, ZeroPadding2D, Cropping2D, UpSampling2D,
GlobalMaxPooling2D, MaxPooling1D / AveragePooling1D and channels_first
pooling. Inference with copied weights (1e-5), gradients (finite
differences and Keras's tape), training parity (two epochs, 1e-4), .keras
files both ways, weight layouts, and bad arguments. Output shapes over a grid
of arguments are in test_conv_layers_properties.py."""

import numpy as np
import pytest

import fmnistcpp
import keras
from conftest import build_model, trained_file_round_trip
from test_gradients import (HEAD, SPARSE, _fd_check, _keras_gradients, _setup,
                            assert_gradients_match_tape)
from test_keras_training_parity import _assert_history_matches, _fit_both, _seed_data

# Both sides compute in float32 with different summation orders; outputs
# here are sums of <= 100 products of O(1) values, whose round-off is ~1e-6
# (measured max 3e-6), so 1e-5 is the bound with margin.
ATOL = RTOL = 1e-5

# (layer, kwargs, per-sample input shape)
FORWARD = [
    ("Conv2D", dict(filters=6, kernel_size=3, dilation_rate=2), (9, 9, 4)),
    ("Conv2D", dict(filters=6, kernel_size=(3, 2), dilation_rate=(2, 3), padding="same",
                    activation="relu"), (8, 9, 4)),
    ("Conv2D", dict(filters=6, kernel_size=3, groups=2, padding="same", activation="tanh"),
     (7, 7, 4)),
    ("Conv2D", dict(filters=6, kernel_size=(2, 3), groups=3, strides=2, use_bias=False),
     (8, 8, 6)),
    ("Conv2D", dict(filters=4, kernel_size=3, groups=4, dilation_rate=2, padding="same"),
     (7, 6, 4)),
    ("Conv2D", dict(filters=6, kernel_size=3, strides=2, data_format="channels_first",
                    activation="sigmoid"), (4, 7, 8)),
    ("Conv1D", dict(filters=5, kernel_size=4, padding="causal", dilation_rate=2), (20, 3)),
    ("Conv1D", dict(filters=5, kernel_size=4, strides=3, padding="same", activation="relu"),
     (20, 3)),
    ("Conv1D", dict(filters=4, kernel_size=3, groups=2), (16, 4)),
    ("Conv1D", dict(filters=4, kernel_size=3, data_format="channels_first"), (3, 16)),
    ("DepthwiseConv2D", dict(kernel_size=3, depth_multiplier=2), (7, 7, 3)),
    ("DepthwiseConv2D", dict(kernel_size=3, depth_multiplier=2, strides=2, dilation_rate=2,
                             padding="same"), (9, 9, 3)),
    ("DepthwiseConv2D", dict(kernel_size=(3, 2), padding="same", activation="relu",
                             use_bias=False), (6, 7, 4)),
    ("DepthwiseConv2D", dict(kernel_size=2, depth_multiplier=3, data_format="channels_first"),
     (2, 5, 6)),
    ("SeparableConv2D", dict(filters=4, kernel_size=3, depth_multiplier=2, activation="relu"),
     (7, 7, 3)),
    ("SeparableConv2D", dict(filters=4, kernel_size=3, strides=2, padding="same",
                             dilation_rate=2), (9, 9, 3)),
    ("SeparableConv2D", dict(filters=5, kernel_size=2, use_bias=False,
                             data_format="channels_first"), (3, 6, 6)),
    ("SeparableConv2D", dict(filters=5, kernel_size=3, padding="same", activation="softmax"),
     (5, 5, 2)),
    ("Conv2DTranspose", dict(filters=3, kernel_size=3, strides=2, padding="same"), (4, 5, 3)),
    ("Conv2DTranspose", dict(filters=3, kernel_size=2, strides=2, activation="relu"), (4, 5, 3)),
    # k=1 < s: the kernel does not reach the last rows, which hold only the bias
    ("Conv2DTranspose", dict(filters=3, kernel_size=1, strides=2, padding="same"), (4, 5, 3)),
    ("Conv2DTranspose", dict(filters=3, kernel_size=2, strides=3), (4, 5, 3)),
    ("Conv2DTranspose", dict(filters=3, kernel_size=(4, 3), strides=2, padding="same",
                             output_padding=1), (4, 5, 3)),
    ("Conv2DTranspose", dict(filters=3, kernel_size=2, strides=(3, 2), padding="same",
                             output_padding=(1, 1), activation="tanh"), (4, 5, 3)),
    ("Conv2DTranspose", dict(filters=3, kernel_size=2, strides=2, output_padding=1), (4, 5, 3)),
    ("Conv2DTranspose", dict(filters=3, kernel_size=3, dilation_rate=2, padding="same"),
     (4, 5, 3)),
    ("Conv2DTranspose", dict(filters=3, kernel_size=3, strides=2, use_bias=False,
                             data_format="channels_first"), (3, 4, 5)),
    ("ZeroPadding2D", dict(padding=((1, 2), (0, 3))), (4, 5, 3)),
    ("ZeroPadding2D", dict(padding=2), (4, 5, 3)),
    ("ZeroPadding2D", dict(padding=(1, 2), data_format="channels_first"), (3, 4, 5)),
    ("Cropping2D", dict(cropping=((1, 2), (0, 3))), (6, 7, 3)),
    ("Cropping2D", dict(cropping=1), (6, 7, 3)),
    ("Cropping2D", dict(cropping=(1, 2), data_format="channels_first"), (3, 6, 7)),
    ("UpSampling2D", dict(size=(2, 3)), (4, 5, 3)),
    ("UpSampling2D", dict(size=(2, 3), interpolation="bilinear"), (4, 5, 3)),
    ("UpSampling2D", dict(size=3, interpolation="bilinear"), (4, 5, 3)),
    ("UpSampling2D", dict(interpolation="bilinear", data_format="channels_first"), (3, 4, 5)),
    ("GlobalMaxPooling2D", {}, (4, 5, 3)),
    ("GlobalMaxPooling2D", dict(keepdims=True), (4, 5, 3)),
    ("GlobalMaxPooling2D", dict(keepdims=True, data_format="channels_first"), (3, 4, 5)),
    ("MaxPooling2D", dict(pool_size=2, data_format="channels_first"), (3, 6, 7)),
    ("AveragePooling2D", dict(pool_size=3, strides=2, padding="same",
                              data_format="channels_first"), (3, 6, 7)),
    ("MaxPooling1D", dict(pool_size=3), (20, 3)),
    ("MaxPooling1D", dict(data_format="channels_first"), (3, 20)),
    ("AveragePooling1D", dict(pool_size=3, strides=2, padding="same"), (20, 3)),
]


def _case_id(case):
    name, kwargs, _ = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items()).replace(" ", "")


def _pair(input_shape, specs, seed=0):
    """Keras and fmnistcpp models with the same random weights (biases too)."""
    keras.utils.set_random_seed(seed)
    km = build_model(keras, input_shape, specs)
    rng = np.random.default_rng(seed + 100)
    km.set_weights([rng.normal(scale=0.3, size=w.shape).astype(np.float32)
                    for w in km.get_weights()])
    fm = build_model(fmnistcpp, input_shape, specs)
    fm.set_weights(km.get_weights())
    return km, fm


def _x(shape, n=4, seed=1):
    return np.random.default_rng(seed).normal(size=(n,) + tuple(shape)).astype(np.float32)


@pytest.mark.parametrize("case", FORWARD, ids=[_case_id(c) for c in FORWARD])
def test_predict_matches_keras(case):
    name, kwargs, shape = case
    km, fm = _pair(shape, [(name, kwargs)])
    x = _x(shape)
    k = np.asarray(km.predict(x, verbose=0))
    f = fm.predict(x, verbose=0)
    assert f.shape == k.shape
    np.testing.assert_allclose(f, k, rtol=RTOL, atol=ATOL)
    assert fm.output_shape == km.output_shape
    assert np.abs(k).max() > 0.05  # not a trivially zero output


def test_tensorflow_channels_first_bias_bug():
    # The reference is wrong here: TensorFlow 2.21 on CPU adds a channels_first
    # Conv2D's bias along the width when the output's width equals `filters`
    # (found by comparing with channels_last on transposed inputs). fmnistcpp
    # is checked against a direct NumPy convolution instead, and the Keras
    # comparisons above avoid that shape.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 2, 6, 7)).astype(np.float32)
    kernel = rng.normal(size=(3, 3, 2, 3)).astype(np.float32)
    bias = rng.normal(size=3).astype(np.float32)
    kwargs = dict(filters=3, kernel_size=3, strides=(1, 2), data_format="channels_first")
    reference = np.zeros((3, 3, 4, 3), np.float64)  # (n, filters, 4 rows, 3 columns)
    for i in range(4):
        for j in range(3):
            patch = x[:, :, i:i + 3, 2 * j:2 * j + 3].astype(np.float64)  # (n, c, 3, 3)
            reference[:, :, i, j] = np.einsum("nchw,hwcf->nf", patch, kernel) + bias
    layer = fmnistcpp.layers.Conv2D(**kwargs)
    layer(fmnistcpp.layers.Input((2, 6, 7)))
    layer.set_weights([kernel, bias])
    np.testing.assert_allclose(layer(x).numpy(), reference, rtol=RTOL, atol=ATOL)
    kl = keras.layers.Conv2D(**kwargs)
    kl.build((None, 2, 6, 7))
    kl.set_weights([kernel, bias])
    assert np.abs(np.asarray(kl(x)) - reference).max() > 0.1  # still wrong in TensorFlow


def test_weights_are_keras_names_and_layouts():
    # Keras's variable names and shapes; the layouts themselves are checked by
    # test_predict_matches_keras, which copies Keras's arrays as they are.
    x = fmnistcpp.layers.Input((6, 6, 3))
    expect = {
        "Conv2D": ([("kernel", (3, 3, 1, 6)), ("bias", (6,))],
                   dict(filters=6, kernel_size=3, groups=3)),
        "DepthwiseConv2D": ([("kernel", (3, 3, 3, 2)), ("bias", (6,))],
                            dict(kernel_size=3, depth_multiplier=2)),
        "SeparableConv2D": ([("depthwise_kernel", (3, 3, 3, 2)),
                             ("pointwise_kernel", (1, 1, 6, 4)), ("bias", (4,))],
                            dict(filters=4, kernel_size=3, depth_multiplier=2)),
        "Conv2DTranspose": ([("kernel", (3, 3, 4, 3)), ("bias", (4,))],
                            dict(filters=4, kernel_size=3)),
    }
    for name, (variables, kwargs) in expect.items():
        fl, kl = getattr(fmnistcpp.layers, name)(**kwargs), getattr(keras.layers, name)(**kwargs)
        fl(x)
        kl(keras.layers.Input((6, 6, 3)))
        assert [(v.path.split("/")[-1], tuple(v.shape)) for v in kl.weights] == variables
        assert [(v.name, tuple(v.shape)) for v in fl.weights] == variables


# --- gradients --------------------------------------------------------------------------------
# (id, input shape, layer specs, loss) as test_gradients.CASES; each new layer
# and option once, followed by Flatten and a softmax Dense.
def _grad(case_id, shape, name, **kwargs):
    return (case_id, shape, [(name, kwargs)] + HEAD, SPARSE)


GRADIENT_CASES = [
    _grad("conv_dilated", (8, 8, 2), "Conv2D", filters=3, kernel_size=3, dilation_rate=2,
          activation="tanh"),
    _grad("conv_dilated_same", (7, 6, 2), "Conv2D", filters=3, kernel_size=(2, 3),
          dilation_rate=(3, 2), padding="same", activation="tanh"),
    _grad("conv_groups", (6, 6, 4), "Conv2D", filters=6, kernel_size=3, groups=2,
          activation="tanh"),
    _grad("conv_groups_strided", (7, 7, 6), "Conv2D", filters=3, kernel_size=2, strides=2,
          groups=3, padding="same"),
    # (see test_tensorflow_channels_first_bias_bug: the output's width must not be `filters`)
    _grad("conv_channels_first", (2, 6, 7), "Conv2D", filters=4, kernel_size=3, strides=(1, 2),
          data_format="channels_first", activation="tanh"),
    _grad("conv1d_causal_dilated", (12, 2), "Conv1D", filters=3, kernel_size=3, padding="causal",
          dilation_rate=2, activation="tanh"),
    _grad("conv1d_strided_same_groups", (11, 4), "Conv1D", filters=4, kernel_size=3, strides=2,
          padding="same", groups=2),
    _grad("depthwise", (6, 6, 2), "DepthwiseConv2D", kernel_size=3, depth_multiplier=2,
          activation="tanh"),
    _grad("depthwise_strided_dilated", (9, 9, 2), "DepthwiseConv2D", kernel_size=3, strides=2,
          dilation_rate=2, padding="same"),
    _grad("separable", (6, 6, 2), "SeparableConv2D", filters=3, kernel_size=3,
          depth_multiplier=2, activation="tanh"),
    _grad("separable_strided_nobias", (7, 7, 3), "SeparableConv2D", filters=2, kernel_size=2,
          strides=2, padding="same", use_bias=False),
    _grad("separable_channels_first", (2, 6, 6), "SeparableConv2D", filters=3, kernel_size=3,
          data_format="channels_first", activation="tanh"),
    _grad("transpose_same_s2", (3, 4, 2), "Conv2DTranspose", filters=2, kernel_size=3,
          strides=2, padding="same", activation="tanh"),
    _grad("transpose_valid_k2_s3", (3, 3, 2), "Conv2DTranspose", filters=2, kernel_size=2,
          strides=3),
    # 16 filters: with fewer, TensorFlow's own oneDNN kernel gets this gradient
    # wrong (oneDNN issue #6035; fmnistcpp's side: test_strided_1x1_gradients.py)
    _grad("transpose_k1_s2_same", (3, 4, 2), "Conv2DTranspose", filters=16, kernel_size=1,
          strides=2, padding="same"),
    _grad("transpose_output_padding", (3, 3, 2), "Conv2DTranspose", filters=2,
          kernel_size=(4, 3), strides=2, padding="same", output_padding=1, activation="tanh"),
    _grad("transpose_dilated", (4, 4, 2), "Conv2DTranspose", filters=2, kernel_size=2,
          dilation_rate=2, use_bias=False),
    _grad("zero_padding", (4, 5, 2), "ZeroPadding2D", padding=((1, 2), (0, 1))),
    _grad("zero_padding_channels_first", (2, 4, 5), "ZeroPadding2D", padding=1,
          data_format="channels_first"),
    _grad("cropping", (6, 7, 2), "Cropping2D", cropping=((1, 2), (2, 0))),
    _grad("cropping_channels_first", (2, 6, 7), "Cropping2D", cropping=(1, 2),
          data_format="channels_first"),
    _grad("upsampling_nearest", (3, 4, 2), "UpSampling2D", size=(2, 3)),
    _grad("upsampling_bilinear", (3, 4, 2), "UpSampling2D", size=(3, 2), interpolation="bilinear"),
    _grad("upsampling_channels_first", (2, 3, 4), "UpSampling2D", interpolation="bilinear",
          data_format="channels_first"),
    _grad("global_max", (4, 5, 3), "GlobalMaxPooling2D"),
    _grad("global_max_keepdims_cf", (3, 4, 5), "GlobalMaxPooling2D", keepdims=True,
          data_format="channels_first"),
    _grad("maxpool_channels_first", (2, 6, 6), "MaxPooling2D", pool_size=3, strides=2,
          padding="same", data_format="channels_first"),
    _grad("avgpool_channels_first", (2, 6, 6), "AveragePooling2D", pool_size=2,
          data_format="channels_first"),
    _grad("maxpool1d", (12, 2), "MaxPooling1D", pool_size=3, strides=2, padding="same"),
    _grad("avgpool1d", (12, 2), "AveragePooling1D", pool_size=2),
]
GRADIENT_IDS = [c[0] for c in GRADIENT_CASES]


# Tiny models, hundreds of engine calls (conftest.one_engine_thread).
pytestmark = pytest.mark.usefixtures("one_engine_thread")


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=GRADIENT_IDS)
def test_finite_differences(case):
    km, fm, x, y = _setup(case)
    _fd_check(fm, x, y, training=False)


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=GRADIENT_IDS)
def test_gradients_match_keras_tape(case):
    km, fm, x, y = _setup(case)
    assert_gradients_match_tape(keras, km, fm, case[3], x, y, case[0])


def test_global_max_pooling_shares_the_gradient_between_ties():
    # TensorFlow's reduce_max gives each of t tied maxima 1/t of the gradient;
    # small integers make ties in most channels.
    case = ("ties", (3, 4, 3), [("GlobalMaxPooling2D", {}),
                                ("Dense", dict(units=5, activation="softmax"))], SPARSE)
    km, fm, x, y = _setup(case)
    x = np.random.default_rng(2).integers(0, 3, size=x.shape).astype(np.float32)
    maxima = x.max(axis=(1, 2), keepdims=True)
    assert ((x == maxima).sum(axis=(1, 2)) > 1).mean() > 0.5
    _, _, k_gx = _keras_gradients(keras, km, SPARSE, x, y)
    _, _, f_gx = fm._loss_and_gradients(x, y, training=False)
    np.testing.assert_allclose(f_gx, k_gx, rtol=1e-5, atol=1e-7)
    assert np.all(f_gx[x < maxima] == 0)


# --- training parity -------------------------------------------------------------------------
# Two epochs on 500 images, as test_keras_training_parity.py (whose docstring
# measures the noise floor): tanh rather than ReLU so no unit sits on a kink
# over the all-zero background, and small non-zero biases. Each model with the
# Adam learning rate at which its loss moves within two epochs.
TRAINING_MODELS = {
    "separable": (1e-2, [
        ("ZeroPadding2D", dict(padding=1)),
        ("Conv2D", dict(filters=8, kernel_size=3, strides=2, activation="tanh")),
        ("DepthwiseConv2D", dict(kernel_size=3, depth_multiplier=2, padding="same",
                                 activation="tanh")),
        ("SeparableConv2D", dict(filters=8, kernel_size=3, dilation_rate=2, activation="tanh")),
        ("MaxPooling2D", dict(pool_size=2)),
        ("GlobalMaxPooling2D", {}),
        ("Dense", dict(units=10, activation="softmax")),
    ]),
    "encoder_decoder": (1e-3, [
        ("Conv2D", dict(filters=8, kernel_size=3, strides=2, padding="same", activation="tanh")),
        ("Conv2D", dict(filters=8, kernel_size=3, groups=2, padding="same", activation="tanh")),
        ("MaxPooling2D", dict(pool_size=2)),
        ("UpSampling2D", dict(size=2, interpolation="bilinear")),
        ("Conv2DTranspose", dict(filters=4, kernel_size=3, strides=2, padding="same",
                                 activation="tanh")),
        ("Cropping2D", dict(cropping=2)),
        ("AveragePooling2D", dict(pool_size=4)),
        ("Flatten", {}),
        ("Dense", dict(units=10, activation="softmax")),
    ]),
}


@pytest.mark.parametrize("name", sorted(TRAINING_MODELS))
def test_two_epochs_match_keras(name, small_data):
    learning_rate, specs = TRAINING_MODELS[name]
    km, fm = _training_pair((28, 28, 1), specs, learning_rate)
    x, y, xv, yv = _seed_data("000", small_data, n_train=500)
    kh, fh = _fit_both(km, fm, x, y, batch_size=32, validation_data=(xv, yv))
    _assert_history_matches(kh, fh, len(x))


def test_conv1d_over_rows_two_epochs_match_keras(small_data):
    # the public pattern: each image as 28 steps of 28 pixels
    specs = [("Conv1D", dict(filters=16, kernel_size=5, padding="causal", activation="tanh")),
             ("MaxPooling1D", dict(pool_size=2)),
             ("Conv1D", dict(filters=16, kernel_size=3, dilation_rate=2, activation="tanh")),
             ("AveragePooling1D", dict(pool_size=2)),
             ("Flatten", {}), ("Dense", dict(units=10, activation="softmax"))]
    km, fm = _training_pair((28, 28), specs)
    x, y, xv, yv = _seed_data("000", small_data, n_train=500)
    x, xv = x.reshape(-1, 28, 28), xv.reshape(-1, 28, 28)
    kh, fh = _fit_both(km, fm, x, y, batch_size=32, validation_data=(xv, yv))
    _assert_history_matches(kh, fh, len(x))


def _training_pair(shape, specs, learning_rate=1e-3, seed=3):
    keras.utils.set_random_seed(seed)
    km = build_model(keras, shape, specs)
    rng = np.random.default_rng(seed)
    km.set_weights([w if w.ndim > 1 else rng.normal(scale=0.05, size=w.shape).astype(np.float32)
                    for w in km.get_weights()])
    fm = build_model(fmnistcpp, shape, specs)
    fm.set_weights(km.get_weights())
    for m, module in ((km, keras), (fm, fmnistcpp)):
        m.compile(optimizer=module.optimizers.Adam(learning_rate), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    return km, fm


# --- .keras files both ways ----------------------------------------------------------------------
ROUND_TRIP = [
    ("Conv2D", dict(filters=4, kernel_size=3, groups=2, dilation_rate=2, padding="same",
                    kernel_regularizer="l2", bias_initializer="ones")),
    ("Conv1D", dict(filters=4, kernel_size=3, padding="causal", strides=2)),
    ("DepthwiseConv2D", dict(kernel_size=3, depth_multiplier=2, depthwise_initializer="he_normal",
                             depthwise_regularizer="l2", activation="relu")),
    ("SeparableConv2D", dict(filters=4, kernel_size=3, padding="same",
                             pointwise_regularizer="l1", depthwise_constraint="non_neg")),
    ("Conv2DTranspose", dict(filters=3, kernel_size=3, strides=2, padding="same",
                             output_padding=1, activation="tanh")),
    ("Conv2DTranspose", dict(filters=3, kernel_size=2, strides=2)),
    ("ZeroPadding2D", dict(padding=((1, 0), (2, 1)))),
    ("Cropping2D", dict(cropping=((1, 0), (2, 1)))),
    ("UpSampling2D", dict(size=(2, 1), interpolation="bilinear")),
    ("GlobalMaxPooling2D", dict(keepdims=True)),
    ("MaxPooling2D", dict(pool_size=2, data_format="channels_first")),
    ("MaxPooling1D", dict(pool_size=2)),
    ("AveragePooling1D", dict(pool_size=3, padding="same")),
]


def _plain(v):
    # Keras keeps regularizer factors as float32 tensors, so a loaded 0.01
    # reads back as 0.009999999776...: numbers are compared in float32
    if isinstance(v, float):
        return np.float32(v)
    if isinstance(v, (list, tuple)):
        return [_plain(e) for e in v]
    if isinstance(v, dict):
        return {k: _plain(e) for k, e in v.items() if k != "registered_name"}
    return v


@pytest.mark.parametrize("spec", ROUND_TRIP, ids=[_case_id(s + ((),)) for s in ROUND_TRIP])
@pytest.mark.parametrize("direction", ["fmnistcpp_to_keras", "keras_to_fmnistcpp"])
def test_keras_file_round_trip(spec, direction, tmp_path):
    shape = (8, 8) if spec[0].endswith("1D") else (8, 8, 2)
    km, fm = _pair(shape, [spec, ("Flatten", {}), ("Dense", dict(units=4, activation="softmax"))])
    src, dst = (fm, keras) if direction == "fmnistcpp_to_keras" else (km, fmnistcpp)
    x, y = _x(shape, n=12), np.arange(12) % 4
    loaded = trained_file_round_trip(src, dst, x, y, tmp_path / "m.keras")
    assert type(loaded.layers[0]).__name__ == spec[0]
    a, b = src.layers[0].get_config(), loaded.layers[0].get_config()
    assert set(a) - {"dtype"} == set(b) - {"dtype"}
    for key in set(a) - {"name", "dtype"}:
        assert _plain(a[key]) == _plain(b[key]), key
    for w, v in zip(src.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(np.asarray(w, np.float32), np.asarray(v, np.float32))


# --- bad arguments ---------------------------------------------------------------------------
IMAGE = (8, 8, 4)
BAD = [
    ("Conv2D", dict(filters=6, kernel_size=3, groups=4), IMAGE, ValueError,
     "filters must be evenly divisible"),
    ("Conv2D", dict(filters=6, kernel_size=3, groups=3), IMAGE, ValueError,
     "input channels must be evenly divisible"),
    ("Conv2D", dict(filters=4, kernel_size=3, groups=0), IMAGE, ValueError, "groups"),
    ("Conv2D", dict(filters=4, kernel_size=3, strides=2, dilation_rate=2), IMAGE, ValueError,
     "strides > 1 together with dilation_rate > 1"),
    ("Conv2D", dict(filters=4, kernel_size=3, dilation_rate=4), IMAGE, ValueError,
     "larger than its input"),
    ("Conv2D", dict(filters=4, kernel_size=3, dilation_rate=(1, 0)), IMAGE, ValueError,
     "dilation_rate must be positive"),
    ("Conv2D", dict(filters=4, kernel_size=3, data_format="channels_first",
                    activation="softmax"), IMAGE, NotImplementedError, "channels_last"),
    ("Conv2D", dict(filters=4, kernel_size=3, padding="causal"), IMAGE, ValueError,
     "'valid' or 'same'"),
    ("Conv2D", dict(filters=4, kernel_size=3, lora_rank=2), IMAGE, NotImplementedError,
     "lora_rank"),
    ("Conv1D", dict(filters=4, kernel_size=3), IMAGE, ValueError, "(steps, channels)"),
    ("Conv1D", dict(filters=4, kernel_size=(3, 3)), (8, 4), ValueError, "tuple of 1 ints"),
    ("DepthwiseConv2D", dict(kernel_size=3, depth_multiplier=0), IMAGE, ValueError,
     "depth_multiplier must be a positive integer"),
    ("DepthwiseConv2D", dict(kernel_size=3, groups=2), IMAGE, TypeError, "groups"),
    ("SeparableConv2D", dict(filters=0, kernel_size=3), IMAGE, ValueError,
     "filters must be a positive integer"),
    ("SeparableConv2D", dict(filters=4, kernel_size=9), IMAGE, ValueError,
     "larger than its input"),
    ("Conv2DTranspose", dict(filters=4, kernel_size=3, strides=2, output_padding=2), IMAGE,
     ValueError, "strictly less than strides"),
    ("Conv2DTranspose", dict(filters=4, kernel_size=3, output_padding=-1), IMAGE, ValueError,
     "each >= 0"),
    ("Conv2DTranspose", dict(filters=4, kernel_size=2, strides=2, padding="same",
                             output_padding=0), IMAGE, ValueError, "TensorFlow cannot compute"),
    ("Conv2DTranspose", dict(filters=4, kernel_size=3, strides=2, dilation_rate=2), IMAGE,
     ValueError, "dilation_rate > 1"),
    ("Conv2DTranspose", dict(filters=4, kernel_size=3, groups=2), IMAGE, TypeError, "groups"),
    ("ZeroPadding2D", dict(padding=-1), IMAGE, ValueError, "all >= 0"),
    ("ZeroPadding2D", dict(padding=(1, 2, 3)), IMAGE, ValueError, "tuple of 2 tuples"),
    ("ZeroPadding2D", dict(padding=((1, 2), (3,))), IMAGE, ValueError, "(before, after)"),
    ("ZeroPadding2D", dict(padding="same"), IMAGE, ValueError, "padding must be an int"),
    ("ZeroPadding2D", dict(padding=1), (8, 4), ValueError, "(height, width, channels)"),
    ("Cropping2D", dict(cropping=4), IMAGE, ValueError, "at least one row"),
    ("Cropping2D", dict(cropping=((0, 0), (5, 3))), IMAGE, ValueError, "at least one row"),
    ("Cropping2D", dict(cropping=((1, -1), (0, 0))), IMAGE, ValueError, "all >= 0"),
    ("UpSampling2D", dict(size=0), IMAGE, ValueError, "size must be positive"),
    ("UpSampling2D", dict(interpolation="bicubic"), IMAGE, NotImplementedError,
     "'nearest' or 'bilinear'"),
    ("UpSampling2D", dict(interpolation="cubic"), IMAGE, ValueError, "'nearest', 'bilinear'"),
    ("GlobalMaxPooling2D", dict(keepdims="yes"), IMAGE, ValueError, "True or False"),
    ("GlobalMaxPooling2D", {}, (8, 4), ValueError, "(height, width, channels)"),
    ("MaxPooling2D", dict(data_format="nchw"), IMAGE, ValueError, "'channels_last'"),
    ("MaxPooling1D", dict(pool_size=9), (8, 4), ValueError, "larger than its input"),
    ("AveragePooling1D", dict(pool_size=2, strides=(1, 2)), (8, 4), ValueError, "tuple of 1 ints"),
    ("AveragePooling2D", {}, IMAGE, TypeError, "pool_size"),
    # hostile sizes: a ValueError before anything is allocated, never an overflow
    ("ZeroPadding2D", dict(padding=2**62), IMAGE, ValueError, "larger than a tensor can hold"),
    ("UpSampling2D", dict(size=2**62), IMAGE, ValueError, "2**60 elements"),
    ("DepthwiseConv2D", dict(kernel_size=3, depth_multiplier=2**62), IMAGE, ValueError,
     "2**60 elements"),
    ("Conv2DTranspose", dict(filters=2, kernel_size=3, strides=2**62), IMAGE, ValueError,
     "2**60 elements"),
    ("Conv2D", dict(filters=2, kernel_size=3, dilation_rate=2**62, padding="same"), IMAGE,
     ValueError, "2**60 elements"),
]


@pytest.mark.parametrize("name,kwargs,shape,error,message", BAD,
                         ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_bad_arguments_get_clear_errors(name, kwargs, shape, error, message):
    with pytest.raises(error) as info:
        fmnistcpp.Sequential([fmnistcpp.layers.Input(shape),
                              getattr(fmnistcpp.layers, name)(**kwargs)])
    assert message in str(info.value), str(info.value)
