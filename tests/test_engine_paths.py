"""Every engine path in one place, without TensorFlow, so that
scripts/sanitize.sh runs all of them under AddressSanitizer/UBSan: each
layer type, each optimizer and schedule, l2, training and inference modes,
odd batch sizes, save and load. Parity with Keras is tested elsewhere;
here the assertions are the invariants that hold whatever the numbers."""

import numpy as np
import pytest

import fmnistcpp as keras
from fmnistcpp import layers


def _model():
    return keras.Sequential([
        layers.Input((12, 12, 2)),
        layers.Conv2D(4, 3, padding="same", activation="relu",
                      kernel_regularizer=keras.regularizers.l2(1e-3)),
        layers.BatchNormalization(),
        layers.MaxPooling2D(),
        layers.Conv2D(6, 3, strides=2, activation="tanh"),
        layers.AveragePooling2D(pool_size=2, padding="same"),
        layers.Dropout(0.2),
        layers.Flatten(),
        layers.Reshape((6,)),
        layers.Dense(8, activation="sigmoid"),
        layers.BatchNormalization(),
        layers.Dense(5),
        layers.Softmax(),
    ])


def _gap_model():
    return keras.Sequential([layers.Input((9, 7, 3)), layers.Conv2D(5, 2, activation="relu"),
                             layers.GlobalAveragePooling2D(), layers.Activation("relu"),
                             layers.Dense(5, activation="softmax")])


OPTIMIZERS = {
    "adam": lambda: keras.optimizers.Adam(),
    "adamw": lambda: keras.optimizers.AdamW(weight_decay=0.01),
    "rmsprop_centered": lambda: keras.optimizers.RMSprop(momentum=0.5, centered=True),
    "sgd_nesterov": lambda: keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "exponential_decay": lambda: keras.optimizers.Adam(
        keras.optimizers.schedules.ExponentialDecay(1e-3, 5, 0.5, staircase=True)),
    "python_callable_rate": lambda: keras.optimizers.SGD(learning_rate=lambda: 0.05),
}


@pytest.mark.parametrize("make_model", [_model, _gap_model], ids=["chain", "gap"])
@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
def test_every_path_trains_evaluates_predicts(make_model, opt, tmp_path):
    keras.utils.set_random_seed(0)
    model = make_model()
    shape = model.input_shape[1:]
    rng = np.random.default_rng(1)
    x = rng.standard_normal((53,) + shape).astype(np.float32)  # 53: a ragged last batch
    y = rng.integers(0, 5, 53)
    model.compile(OPTIMIZERS[opt](), "sparse_categorical_crossentropy",
                  metrics=["accuracy", keras.metrics.SparseTopKCategoricalAccuracy(k=2)])
    h = model.fit(x, y, batch_size=16, epochs=3, validation_split=0.2, verbose=0)
    assert all(np.isfinite(v).all() for v in h.history.values())
    assert h.history["loss"][-1] < h.history["loss"][0]
    p = model.predict(x, batch_size=7, verbose=0)
    assert p.shape == (53, 5) and np.allclose(p.sum(axis=1), 1, atol=1e-5)
    loss, acc, top2 = model.evaluate(x, y, batch_size=64, verbose=0)
    assert np.isfinite(loss) and 0 <= acc <= top2 <= 1
    loss_g, grads, input_grad = model._loss_and_gradients(x[:9], y[:9], training=True, seed=3)
    assert np.isfinite(loss_g) and input_grad.shape == x[:9].shape
    assert all(np.isfinite(g).all() for g in grads)
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-6)
