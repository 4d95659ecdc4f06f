"""A catalogue of bad calls: each must raise a Python exception of the
right type whose message says what was expected and what came, and no
message may leak C++ type names. Table-driven; every case has an id.

Does not import Keras/TensorFlow (scripts/sanitize.sh runs it under ASan).
"""

import re

import numpy as np
import pytest

import fmnistcpp as keras
from fmnistcpp import layers

SPARSE = "sparse_categorical_crossentropy"
CCE = "categorical_crossentropy"
N, FEATURES, CLASSES = 8, 4, 3
X = np.linspace(0, 1, N * FEATURES, dtype=np.float32).reshape(N, FEATURES)
Y = np.arange(N) % CLASSES
Y_ONEHOT = np.eye(CLASSES, dtype=np.float32)[Y]
IMG = np.zeros((N, 4, 4, 1), np.float32)


def mlp(loss=SPARSE, compiled=True):
    m = keras.Sequential([layers.Input((FEATURES,)), layers.Dense(CLASSES, activation="softmax")])
    if compiled:
        m.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    return m


def fit(x=X, y=Y, loss=SPARSE, **kw):
    kw.setdefault("verbose", 0)
    return mlp(loss).fit(x, y, **kw)


def cnn():
    return keras.Sequential([layers.Input((4, 4, 1)), layers.Conv2D(2, 3), layers.Flatten(),
                             layers.Dense(CLASSES, activation="softmax")])


def compile_with(**kw):
    args = dict(optimizer="adam", loss=SPARSE)
    args.update(kw)
    return mlp(compiled=False).compile(**args)


# (id, thunk, exception type, regexes that must all be found in the message)
CASES = [
    # --- x shapes and contents ---------------------------------------------------------
    # (8, 4, 1) would be accepted, as Keras squeezes a trailing axis of size 1.
    ("x_extra_axis", lambda: fit(x=np.stack([X, X], axis=-1)), ValueError,
     [r"\(8, 4, 2\)", r"expects \(samples, 4\)"]),
    ("x_too_few_features", lambda: fit(x=X[:, :3]), ValueError,
     [r"\(8, 3\)", r"expects \(samples, 4\)"]),
    ("x_image_for_mlp_predict", lambda: mlp().predict(IMG, verbose=0), ValueError,
     [r"\(8, 4, 4, 1\)", r"\(samples, 4\)"]),
    ("x_wrong_channels_cnn", lambda: cnn().predict(np.zeros((3, 4, 4, 2)), verbose=0), ValueError,
     [r"\(3, 4, 4, 2\)", r"\(samples, 4, 4, 1\)"]),
    ("x_1d_built", lambda: mlp().predict(np.zeros(FEATURES), verbose=0), ValueError,
     [r"\(4,\)", r"\(samples, 4\)"]),
    ("x_1d_unbuilt_predict", lambda: keras.Sequential([layers.Dense(3)]).predict(np.zeros(4)),
     ValueError, [r"\(4,\)", r"no sample axis", r"input_shape|Input"]),
    ("x_scalar", lambda: mlp().predict(3.0, verbose=0), ValueError,
     [r"scalar", r"\(samples, 4\)"]),
    ("x_none", lambda: fit(x=None), ValueError, [r"x is required"]),
    ("x_nan", lambda: fit(x=np.where(X > 0.5, np.nan, X)), ValueError, [r"x", r"NaN"]),
    ("x_inf_predict", lambda: mlp().predict(np.full((2, 4), np.inf), verbose=0), ValueError,
     [r"x", r"infinity"]),
    ("x_overflows_float32", lambda: fit(x=np.full((N, 4), 1e300)), ValueError,
     [r"NaN or infinity"]),
    ("x_empty", lambda: fit(x=np.zeros((0, 4)), y=np.zeros(0, int)), ValueError,
     [r"empty", r"\(0, 4\)", r"\(samples, 4\)"]),
    ("x_strings", lambda: fit(x=np.full((N, 4), "a")), ValueError,
     [r"numeric", r"<U1"]),
    ("x_object", lambda: fit(x=np.full((N, 4), None, dtype=object)), ValueError,
     [r"numeric", r"object"]),
    ("x_complex", lambda: fit(x=X.astype(complex)), ValueError, [r"real", r"complex"]),
    ("x_ragged_list", lambda: fit(x=[[1, 2, 3, 4], [1, 2]], y=[0, 1]), ValueError,
     [r"x could not be turned into an array", r"inhomogeneous"]),
    ("x_list_of_arrays", lambda: fit(x=[X[:, :, None], X[:, :, None]]), ValueError,
     [r"1 input", r"list of 2 arrays"]),
    ("validation_x_wrong_shape",
     lambda: fit(validation_data=(np.zeros((3, 5)), Y[:3])), ValueError,
     [r"validation x", r"\(3, 5\)", r"\(samples, 4\)"]),
    # --- y ------------------------------------------------------------------------------
    ("xy_length_mismatch", lambda: fit(y=Y[:5]), ValueError, [r"x has 8 samples", r"y has 5"]),
    ("y_empty", lambda: fit(y=np.zeros(0, int)), ValueError, [r"8 samples", r"y has 0"]),
    ("y_none", lambda: fit(y=None), ValueError, [r"y is required"]),
    ("y_scalar", lambda: fit(y=3), ValueError, [r"8 samples", r"no batch axis"]),
    ("y_label_too_big", lambda: fit(y=Y + CLASSES), ValueError,
     [r"\[3, 5\]", r"expected in \[0, 3\)"]),
    ("y_label_negative", lambda: fit(y=-Y - 1), ValueError, [r"\[-3, -1\]", r"\[0, 3\)"]),
    ("y_label_huge", lambda: fit(y=np.full(N, 2**40)), ValueError,
     [r"1099511627776", r"\[0, 3\)"]),
    ("y_float_non_integer", lambda: fit(y=Y + 0.5), ValueError,
     [r"integer class indices", r"\[0, 3\)", r"got 0\.5"]),
    ("y_nan_sparse", lambda: fit(y=np.where(Y == 1, np.nan, Y)), ValueError,
     [r"integer class indices", r"got nan"]),
    ("y_strings", lambda: fit(y=np.array(["cat"] * N)), ValueError, [r"y must be numeric", r"<U3"]),
    ("y_ragged", lambda: fit(y=[[0], [1, 2]] * 4), ValueError, [r"y could not be turned"]),
    ("y_2d_for_sparse", lambda: fit(y=np.zeros((N, 2))), ValueError,
     [r"integer labels of shape \(8,\)", r"\(8, 2\)", r"categorical_crossentropy"]),
    ("onehot_wrong_width", lambda: fit(y=np.eye(4)[Y], loss=CCE), ValueError,
     [r"one-hot labels of shape \(8, 3\)", r"\(8, 4\)", r"to_categorical"]),
    ("onehot_given_integers", lambda: fit(y=Y, loss=CCE), ValueError,
     [r"\(8, 3\)", r"\(8,\)", r"sparse_categorical_crossentropy"]),
    ("onehot_nan", lambda: fit(y=np.full((N, 3), np.nan), loss=CCE), ValueError,
     [r"y contains NaN or infinity"]),
    ("onehot_inf", lambda: fit(y=np.full((N, 3), np.inf), loss=CCE), ValueError,
     [r"NaN or infinity"]),
    ("validation_y_out_of_range", lambda: fit(validation_data=(X, Y + 7)), ValueError,
     [r"validation y", r"\[7, 9\]", r"\[0, 3\)"]),
    ("validation_length_mismatch", lambda: fit(validation_data=(X, Y[:3])), ValueError,
     [r"8 samples", r"validation y has 3"]),
    # --- fit arguments ------------------------------------------------------------------
    ("batch_size_0", lambda: fit(batch_size=0), ValueError, [r"batch_size", r"positive", r"0"]),
    ("batch_size_neg", lambda: fit(batch_size=-1), ValueError, [r"batch_size", r"-1"]),
    ("batch_size_float", lambda: fit(batch_size=1.5), ValueError, [r"batch_size", r"1\.5"]),
    ("batch_size_bool", lambda: fit(batch_size=True), ValueError, [r"batch_size", r"True"]),
    ("batch_size_evaluate", lambda: mlp().evaluate(X, Y, batch_size=0, verbose=0), ValueError,
     [r"batch_size must be a positive integer"]),
    ("batch_size_predict", lambda: mlp().predict(X, batch_size="8", verbose=0), ValueError,
     [r"batch_size must be a positive integer", r"'8'"]),
    ("validation_batch_size_0",
     lambda: fit(validation_split=0.5, validation_batch_size=0), ValueError, [r"batch_size"]),
    ("epochs_negative", lambda: fit(epochs=-1), ValueError, [r"epochs", r"non-negative", r"-1"]),
    ("epochs_string", lambda: fit(epochs="3"), ValueError, [r"epochs", r"'3'"]),
    ("epochs_float", lambda: fit(epochs=2.5), ValueError, [r"epochs", r"2\.5"]),
    ("verbose_3", lambda: fit(verbose=3), ValueError, [r"verbose", r"'auto', 0, 1 or 2", r"3"]),
    ("verbose_string", lambda: mlp().predict(X, verbose="loud"), ValueError,
     [r"verbose", r"'loud'"]),
    ("validation_split_negative", lambda: fit(validation_split=-0.1), ValueError,
     [r"validation_split", r"\[0, 1\)", r"-0\.1"]),
    ("validation_split_one", lambda: fit(validation_split=1.0), ValueError,
     [r"validation_split", r"\[0, 1\)", r"1\.0"]),
    ("validation_split_string", lambda: fit(validation_split="0.2"), ValueError,
     [r"validation_split", r"'0\.2'"]),
    ("validation_split_nan", lambda: fit(validation_split=float("nan")), ValueError,
     [r"validation_split", r"nan"]),
    ("validation_split_leaves_nothing", lambda: fit(x=X[:1], y=Y[:1], validation_split=0.5),
     ValueError, [r"leaves no training or no validation", r"out of 1"]),
    ("validation_data_array", lambda: fit(validation_data=X), ValueError,
     [r"validation_data must be a tuple \(x_val, y_val\)"]),
    ("validation_data_1_tuple", lambda: fit(validation_data=(X,)), ValueError,
     [r"validation_data must be a tuple"]),
    ("validation_data_4_tuple", lambda: fit(validation_data=(X, Y, None, None)), ValueError,
     [r"validation_data must be a tuple"]),
    ("sample_weight_wrong_length", lambda: fit(sample_weight=np.ones(N - 1)), ValueError,
     [r"sample_weight", r"\(8,\)", r"\(7,\)"]),
    ("sample_weight_negative", lambda: fit(sample_weight=-np.ones(N)), ValueError,
     [r"sample_weight", r">= 0"]),
    ("class_weight_and_sample_weight",
     lambda: fit(sample_weight=np.ones(N), class_weight={0: 2.0}), ValueError,
     [r"class_weight", r"sample_weight"]),
    ("callback_not_a_callback", lambda: fit(callbacks=[3]), TypeError,
     [r"Callback", r"int"]),
    # --- layer arguments ----------------------------------------------------------------
    ("dense_units_0", lambda: layers.Dense(0), ValueError, [r"Dense units", r"positive", r"0"]),
    ("dense_units_negative", lambda: layers.Dense(-3), ValueError, [r"Dense units", r"-3"]),
    ("dense_units_float", lambda: layers.Dense(2.5), ValueError, [r"Dense units", r"2\.5"]),
    ("dense_units_string", lambda: layers.Dense("10"), ValueError, [r"Dense units", r"'10'"]),
    ("dense_unknown_kwarg", lambda: layers.Dense(3, foo=1), TypeError,
     [r"unexpected keyword", r"foo"]),
    ("dense_on_images", lambda: keras.Sequential([layers.Input((4, 4, 1)), layers.Dense(3)]),
     NotImplementedError, [r"\(4, 4, 1\)", r"Flatten"]),
    ("dropout_rate_1", lambda: layers.Dropout(1.0), ValueError, [r"rate", r"\[0, 1\)", r"1\.0"]),
    ("dropout_rate_negative", lambda: layers.Dropout(-0.1), ValueError, [r"rate", r"-0\.1"]),
    ("dropout_rate_string", lambda: layers.Dropout("x"), ValueError,
     [r"rate must be a number", r"'x'"]),
    ("dropout_rate_nan", lambda: layers.Dropout(float("nan")), ValueError, [r"rate", r"nan"]),
    ("conv_kernel_larger_than_input",
     lambda: keras.Sequential([layers.Input((4, 4, 1)), layers.Conv2D(2, 5)]), ValueError,
     [r"Conv2D", r"\(5, 5\)", r"larger than its input \(4, 4, 1\)"]),
    ("conv_strides_0", lambda: layers.Conv2D(2, 3, strides=0), ValueError,
     [r"strides", r"positive", r"0"]),
    ("conv_strides_float", lambda: layers.Conv2D(2, 3, strides=1.5), ValueError,
     [r"strides", r"1\.5"]),
    ("conv_padding_full", lambda: layers.Conv2D(2, 3, padding="full"), ValueError,
     [r"padding must be 'valid' or 'same'", r"'full'"]),
    ("conv_kernel_3d", lambda: layers.Conv2D(2, (3, 3, 3)), ValueError,
     [r"kernel_size", r"tuple of 2 ints", r"\(3, 3, 3\)"]),
    ("conv_filters_0", lambda: layers.Conv2D(0, 3), ValueError, [r"filters", r"0"]),
    ("conv_on_flat_input", lambda: keras.Sequential([layers.Input((16,)), layers.Conv2D(2, 3)]),
     ValueError, [r"\(height, width, channels\)", r"\(16,\)"]),
    ("conv_unbuilt_small_input",
     lambda: keras.Sequential([layers.Conv2D(2, 3), layers.Flatten(), layers.Dense(2)])
     .predict(np.zeros((5, 2, 2, 1)), verbose=0),
     ValueError, [r"\(3, 3\)", r"\(2, 2, 1\)"]),
    ("pool_larger_than_input",
     lambda: keras.Sequential([layers.Input((4, 4, 1)), layers.MaxPooling2D(5)]), ValueError,
     [r"MaxPooling2D", r"\(5, 5\)", r"\(4, 4, 1\)"]),
    ("avgpool_larger_than_input",
     lambda: keras.Sequential([layers.Input((3, 3, 2)), layers.AveragePooling2D((2, 4))]),
     ValueError, [r"AveragePooling2D", r"\(2, 4\)", r"\(3, 3, 2\)"]),
    ("pool_size_0", lambda: layers.MaxPooling2D(0), ValueError, [r"pool_size", r"0"]),
    ("pool_strides_negative", lambda: layers.MaxPooling2D(2, strides=-1), ValueError,
     [r"strides", r"-1"]),
    ("pool_padding_int", lambda: layers.MaxPooling2D(2, padding=1), ValueError,
     [r"padding", r"1"]),
    ("input_shape_zero", lambda: layers.Input((0, 4)), ValueError,
     [r"positive ints", r"\(0, 4\)"]),
    ("input_shape_float", lambda: layers.Input((2.5,)), ValueError,
     [r"positive ints", r"2\.5"]),
    ("reshape_size_mismatch", lambda: keras.Sequential([layers.Input((4,)), layers.Reshape((3,))]),
     ValueError, [r"\(3,\)", r"\(4,\)"]),
    ("reshape_target_string", lambda: layers.Reshape("ab"), ValueError,
     [r"target_shape", r"positive ints", r"'ab'"]),
    ("reshape_target_none", lambda: layers.Reshape(None), ValueError,
     [r"target_shape", r"None"]),
    ("add_non_layer", lambda: keras.Sequential([3]), TypeError, [r"fmnistcpp layer", r"int"]),
    # --- names ----------------------------------------------------------------------------
    ("unknown_activation", lambda: layers.Dense(3, activation="relux"), ValueError,
     [r"'relux'", r"relu", r"sigmoid", r"tanh", r"softmax", r"linear"]),
    ("unknown_activation_layer", lambda: layers.Activation("gelux"), ValueError,
     [r"'gelux'", r"Known activations"]),
    ("unknown_loss", lambda: compile_with(loss="mean_squared_errr"), ValueError,
     [r"'mean_squared_errr'", r"categorical_crossentropy", r"sparse_categorical_crossentropy",
      r"mean_squared_error"]),
    ("missing_loss", lambda: compile_with(loss=None), ValueError, [r"loss"]),
    ("unknown_optimizer", lambda: compile_with(optimizer="adamx"), ValueError,
     [r"'adamx'", r"'adam'", r"'sgd'"]),
    ("unknown_metric", lambda: compile_with(metrics=["f1"]), ValueError,
     [r"'f1'", r"'accuracy'", r"sparse_top_k_categorical_accuracy"]),
    ("metric_label_kind_mismatch",
     lambda: compile_with(metrics=[keras.metrics.CategoricalAccuracy()]), ValueError,
     [r"one-hot", r"integer"]),
    ("unknown_initializer", lambda: layers.Dense(3, kernel_initializer="he_weird"),
     ValueError, [r"he_weird", r"glorot_uniform"]),  # Keras 3: "Could not interpret"
    ("adam_negative_lr", lambda: keras.optimizers.Adam(learning_rate=-1), ValueError,
     [r"learning_rate", r"-1"]),
    # --- weights --------------------------------------------------------------------------
    ("set_weights_wrong_count", lambda: mlp().set_weights([np.zeros((4, 3))]), ValueError,
     [r"expected 2 arrays", r"got 1"]),
    ("set_weights_wrong_shape",
     lambda: mlp().set_weights([np.zeros((3, 4)), np.zeros(3)]), ValueError,
     [r"\(3, 4\)", r"expected \(4, 3\)"]),
    ("layer_set_weights_wrong_shape",
     lambda: mlp().layers[0].set_weights([np.zeros((3, 4)), np.zeros(3)]), ValueError,
     [r"expects shape \(4, 3\)", r"got \(3, 4\)"]),
    ("layer_set_weights_wrong_count",
     lambda: mlp().layers[0].set_weights([np.zeros((4, 3))]), ValueError,
     [r"expects 2 weight arrays", r"got 1"]),
    ("layer_set_weights_strings",
     lambda: mlp().layers[0].set_weights([np.full((4, 3), "a"), np.zeros(3)]), ValueError,
     [r"numeric array of shape \(4, 3\)"]),
    ("set_weights_unbuilt",
     lambda: keras.Sequential([layers.Dense(3)]).set_weights([]), ValueError,
     [r"not built", r"input shape"]),
    # --- order of calls -------------------------------------------------------------------
    ("fit_before_compile", lambda: mlp(compiled=False).fit(X, Y), RuntimeError,
     [r"compile\(\) before fit\(\)"]),
    ("evaluate_before_compile", lambda: mlp(compiled=False).evaluate(X, Y), RuntimeError,
     [r"compile\(\) before evaluate\(\)"]),
    ("summary_unbuilt", lambda: keras.Sequential([layers.Dense(3)]).summary(), ValueError,
     [r"not yet been built", r"input_shape"]),
    ("count_params_unbuilt", lambda: keras.Sequential([layers.Dense(3)]).count_params(),
     ValueError, [r"not built"]),
    ("to_categorical_out_of_range", lambda: keras.utils.to_categorical([0, 5], 3), ValueError,
     [r"5", r"num_classes=3"]),
    ("to_categorical_negative", lambda: keras.utils.to_categorical([-1, 1], 3), ValueError,
     [r">= 0", r"-1"]),
]

# Gaps outside the files this suite may edit (sequential.py, optimizers.py,
# callbacks): the fix is described in docs/SANITIZERS.md's companion report.
# Found by this catalogue and fixed in models/sequential.py and
# callbacks/callback_list.py.
FIXED_CASES = [
    ("x_ragged_unbuilt",
     lambda: keras.Sequential([layers.Flatten(), layers.Dense(2)]).predict([[1, 2], [1]]),
     ValueError, [r"x could not be turned into an array"]),
    ("build_negative_dim", lambda: keras.Sequential([layers.Dense(3)]).build((None, -1)),
     ValueError, [r"positive ints", r"-1"]),
    ("build_string_dim", lambda: keras.Sequential([layers.Dense(3)]).build((None, "a")),
     ValueError, [r"positive ints", r"'a'"]),
    ("initial_epoch_string", lambda: fit(initial_epoch="a"), ValueError,
     [r"initial_epoch", r"'a'"]),
    ("set_weights_strings",
     lambda: mlp().set_weights([np.full((4, 3), "a"), np.zeros(3)]), ValueError,
     [r"weight 0", r"numeric"]),
    ("callbacks_not_a_list", lambda: fit(callbacks=3), TypeError, [r"callbacks", r"list"]),
    ("sgd_momentum_string", lambda: keras.optimizers.SGD(momentum="x"), ValueError,
     [r"momentum", r"'x'"]),
]
CASES = CASES + FIXED_CASES

LEAKS = ("std::", "dnnl", "pybind11", "c10::", "basic_string", "__cxx11")


def _check(thunk, exc_type, patterns):
    with pytest.raises(exc_type) as info:
        thunk()
    # the exact type, not a subclass posing as it (e.g. no bare Exception re-raised as such)
    assert type(info.value) is exc_type, f"{type(info.value).__name__}: {info.value}"
    message = str(info.value)
    for pattern in patterns:
        assert re.search(pattern, message), f"{pattern!r} not in message {message!r}"
    for leak in LEAKS:
        assert leak not in message, f"C++ name {leak!r} leaked into {message!r}"
    return message


@pytest.mark.parametrize("thunk, exc_type, patterns",
                         [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_bad_call(thunk, exc_type, patterns):
    _check(thunk, exc_type, patterns)


def test_catalogue_is_large_and_ids_unique():
    ids = [c[0] for c in CASES]
    assert len(CASES) >= 40
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("bad", [
    pytest.param(dict(x=np.full((N, 4), np.nan)), id="nan_x"),
    pytest.param(dict(y=Y + 10), id="bad_labels"),
    pytest.param(dict(batch_size=0), id="batch_size"),
])
def test_model_usable_after_rejected_fit(bad):
    """A rejected call leaves the model as it was: same weights, still trains."""
    m = mlp()
    before = m.get_weights()
    with pytest.raises(ValueError):
        fit_args = dict(x=X, y=Y, verbose=0)
        fit_args.update(bad)
        m.fit(**fit_args)
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)
    history = m.fit(X, Y, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert m.predict(X, verbose=0).shape == (N, CLASSES)
