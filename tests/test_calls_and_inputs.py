"""model(x) and layer(x) on arrays, variables as Keras presents them, and the
input conveniences Keras has (a missing channel axis, lists, DataFrames,
uint8 and float64 data read without a float32 copy)."""

import tracemalloc

import numpy as np
import pandas as pd
import pytest

import keras

import fmnistcpp
from conftest import copy_weights

RNG = np.random.default_rng(5)


def cnn(lib):
    return lib.Sequential([lib.Input((28, 28, 1)), lib.layers.Conv2D(4, 3, activation="relu"),
                           lib.layers.MaxPooling2D(), lib.layers.Flatten(),
                           lib.layers.Dropout(0.5), lib.layers.Dense(10, activation="softmax")])


def test_model_and_layer_calls_on_arrays_match_keras():
    km, fm = cnn(keras), cnn(fmnistcpp)
    copy_weights(km, fm)
    x = RNG.random((5, 28, 28, 1), dtype=np.float32)
    out = fm(x)
    assert isinstance(out.numpy(), np.ndarray) and out.shape == (5, 10)
    np.testing.assert_allclose(out.numpy(), km(x).numpy(), atol=1e-5)
    conv_out = fm.layers[0](x)
    np.testing.assert_allclose(conv_out.numpy(), km.layers[0](x).numpy(), atol=1e-5)
    dense = fmnistcpp.layers.Dense(3)
    y = dense(np.ones((2, 4), np.float32))  # builds on first call, as Keras
    assert dense.built and y.shape == (2, 3) and [v.shape for v in dense.weights] == [(4, 3),
                                                                                       (3,)]


def test_training_true_applies_dropout_as_keras_does():
    fm = cnn(fmnistcpp)
    x = RNG.random((64, 28, 28, 1), dtype=np.float32)
    drop = fm.layers[3]
    h = fm.layers[2](fm.layers[1](fm.layers[0](x))).numpy()
    inferred = drop(h).numpy()
    trained = drop(h, training=True).numpy()
    np.testing.assert_array_equal(inferred, h)
    kept = trained != 0
    assert 0.4 < kept[h != 0].mean() < 0.6  # rate 0.5
    np.testing.assert_allclose(trained[kept], 2 * h[kept], rtol=1e-6)  # 1 / (1 - rate)


def test_variables_look_like_keras_variables():
    km, fm = cnn(keras), cnn(fmnistcpp)
    copy_weights(km, fm)
    kv, fv = km.layers[0].weights[0], fm.layers[0].weights[0]
    assert fv.shape == tuple(kv.shape) and fv.name == kv.name == "kernel"
    assert fv.path.endswith("/kernel") and fv.dtype == "float32" and fv.trainable
    np.testing.assert_array_equal(fv.numpy(), kv.numpy())
    np.testing.assert_array_equal(np.asarray(fv), kv.numpy())
    fv.assign(np.zeros(fv.shape))
    assert not fm.layers[0].get_weights()[0].any()
    with pytest.raises(ValueError, match="shape"):
        fv.assign(np.zeros((2, 2)))
    assert [len(l.trainable_weights) for l in fm.layers] == \
        [len(l.trainable_weights) for l in km.layers]


@pytest.mark.parametrize("form", ["missing_channel", "list", "dataframe", "uint8", "float64"])
def test_inputs_keras_accepts(form):
    mlp = fmnistcpp.Sequential([fmnistcpp.Input((28, 28, 1)), fmnistcpp.layers.Flatten(),
                                fmnistcpp.layers.Dense(10, activation="softmax")])
    raw = RNG.integers(0, 256, (6, 28, 28)).astype(np.uint8)
    want = mlp.predict(raw[..., None].astype(np.float32), verbose=0)
    if form == "missing_channel":
        x = raw.astype(np.float32)           # (N, 28, 28) into a (28, 28, 1) input
    elif form == "list":
        x = raw[..., None].tolist()
    elif form == "dataframe":
        flat = fmnistcpp.Sequential([fmnistcpp.Input((784,)), fmnistcpp.layers.Dense(
            10, activation="softmax")])
        flat.set_weights(mlp.get_weights())
        df = pd.DataFrame(raw.reshape(6, 784))
        np.testing.assert_allclose(flat.predict(df, verbose=0), want, atol=1e-6)
        return
    elif form == "uint8":
        x = raw[..., None]
    else:
        x = raw[..., None].astype(np.float64)
    np.testing.assert_allclose(mlp.predict(x, verbose=0), want, atol=1e-6)


def test_uint8_and_float64_data_are_not_copied_to_float32():
    """Fit on 60000 uint8 images: a float32 copy would be 188 MB; the engine
    converts a batch at a time. Bound the Python-side allocations (NumPy
    reports to tracemalloc) well below one copy."""
    x = RNG.integers(0, 256, (60000, 28, 28), dtype=np.uint8)
    y = RNG.integers(0, 10, 60000)
    model = fmnistcpp.Sequential([fmnistcpp.Input((28, 28)), fmnistcpp.layers.Flatten(),
                                  fmnistcpp.layers.Dense(10, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(x[:64], y[:64], verbose=0)  # warm up (first-call allocations)
    for data in (x, x.astype(np.float64)):
        tracemalloc.start()
        model.fit(data, y, batch_size=1000, epochs=1, verbose=0)
        model.predict(data, batch_size=1000, verbose=0)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        # the predictions (2.4 MB) and labels (0.5 MB) are allocated; 40 MB
        # is far under the 188 MB a float32 copy of x would take
        assert peak < 40e6, peak


def test_data_checks_give_clear_errors():
    model = fmnistcpp.Sequential([fmnistcpp.Input((4,)), fmnistcpp.layers.Dense(2)])
    with pytest.raises(ValueError, match="NaN"):
        model.predict(np.array([[1.0, np.nan, 0, 0]]), verbose=0)
    with pytest.raises(ValueError, match="NaN or infinity"):
        model.predict(np.full((2, 4), 1e300), verbose=0)  # beyond float32
    with pytest.raises(ValueError, match=r"\(3, 5\)"):
        model.predict(np.zeros((3, 5)), verbose=0)
