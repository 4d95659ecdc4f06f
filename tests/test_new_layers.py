"""BatchNormalization and GlobalAveragePooling2D against real Keras 3:
inference with copied weights and non-trivial moving statistics, one SGD
step (trainable weights and moving statistics), gradients in training and
inference mode, finite differences, and saving."""

import numpy as np
import pytest
import tensorflow as tf

from conftest import build_model, copy_weights

import fmnistcpp
import keras

ATOL = 1e-5

BN_AFTER_CONV = [
    ("Conv2D", dict(filters=4, kernel_size=3, activation="relu")),
    ("BatchNormalization", {}),
    ("GlobalAveragePooling2D", {}),
    ("Dense", dict(units=5, activation="softmax")),
]
BN_AFTER_DENSE = [
    ("Dense", dict(units=7, activation="relu")),
    ("BatchNormalization", {}),
    ("Dense", dict(units=3, activation="softmax")),
]
BN_NO_AFFINE = [
    ("Dense", dict(units=6)),
    ("BatchNormalization", dict(center=False, scale=False, momentum=0.9, epsilon=1e-2)),
    ("Dense", dict(units=3, activation="softmax")),
]
CASES = {
    "conv": ((8, 8, 2), BN_AFTER_CONV, 5),
    "dense": ((6,), BN_AFTER_DENSE, 3),
    "no_affine": ((6,), BN_NO_AFFINE, 3),
    # first layer: no d/dx needed in fit, gamma/beta gradients still are
    "first": ((4, 4, 3), [("BatchNormalization", {}), ("Flatten", {}),
                          ("Dense", dict(units=3, activation="softmax"))], 3),
}


def _data(input_shape, classes, n=16, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n,) + tuple(input_shape)).astype(np.float32)
    y = rng.integers(0, classes, size=n).astype(np.int32)
    return x, y


def _pair(input_shape, specs, seed=0):
    """Keras and fmnistcpp models, same weights, BN statistics made non-trivial."""
    keras.utils.set_random_seed(seed)
    km = build_model(keras, input_shape, specs)
    rng = np.random.default_rng(seed + 100)
    for layer in km.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            ws = []
            for v in layer.weights:
                c = v.shape[0]
                name = v.path.split("/")[-1]
                if name == "gamma":
                    ws.append(1.0 + 0.3 * rng.normal(size=c))
                elif name == "beta":
                    ws.append(0.2 * rng.normal(size=c))
                elif name == "moving_mean":
                    ws.append(0.3 * rng.normal(size=c))
                else:
                    ws.append(rng.uniform(0.5, 2.0, size=c))
            layer.set_weights([w.astype(np.float32) for w in ws])
        if isinstance(layer, keras.layers.Dense):  # non-zero biases
            k, b = layer.get_weights()
            layer.set_weights([k, (0.1 * rng.normal(size=b.shape)).astype(np.float32)])
    fm = build_model(fmnistcpp, input_shape, specs)
    copy_weights(km, fm)
    return km, fm


@pytest.mark.parametrize("case", sorted(CASES))
def test_predict_matches_keras(case):
    input_shape, specs, classes = CASES[case]
    km, fm = _pair(input_shape, specs)
    x, _ = _data(input_shape, classes)
    np.testing.assert_allclose(fm.predict(x, verbose=0), km.predict(x, verbose=0), atol=ATOL)


def test_global_average_pooling_predict_keepdims():
    for keepdims in (False, True):
        specs = [("GlobalAveragePooling2D", dict(keepdims=keepdims))]
        km = build_model(keras, (5, 4, 3), specs)
        fm = build_model(fmnistcpp, (5, 4, 3), specs)
        x, _ = _data((5, 4, 3), 3)
        out = fm.predict(x, verbose=0)
        assert out.shape == ((16, 1, 1, 3) if keepdims else (16, 3))
        np.testing.assert_allclose(out, km.predict(x, verbose=0), atol=ATOL)


def test_weights_and_counts():
    km, fm = _pair((6,), BN_AFTER_DENSE)
    bn_k = km.layers[1]
    bn_f = fm.layers[1]
    assert [w.shape for w in bn_f.get_weights()] == [tuple(w.shape) for w in bn_k.weights]
    assert len(bn_f.trainable_weights) == 2 and len(bn_f.non_trainable_weights) == 2
    assert bn_f.count_params() == bn_k.count_params() == 28
    assert fm.count_params() == km.count_params()


@pytest.mark.parametrize("case", sorted(CASES))
def test_one_sgd_step_matches_keras(case):
    input_shape, specs, classes = CASES[case]
    km, fm = _pair(input_shape, specs)
    x, y = _data(input_shape, classes)
    km.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1),
               loss="sparse_categorical_crossentropy")
    fm.compile(optimizer=fmnistcpp.optimizers.SGD(learning_rate=0.1),
               loss="sparse_categorical_crossentropy")
    kh = km.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    fh = fm.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    np.testing.assert_allclose(fh.history["loss"], kh.history["loss"], atol=ATOL)
    names = [v.path for v in km.weights]
    for name, wf, wk in zip(names, fm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(wf, wk, atol=ATOL, err_msg=name)
    # inference afterwards uses the updated moving statistics
    np.testing.assert_allclose(fm.predict(x, verbose=0), km.predict(x, verbose=0), atol=ATOL)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("case", sorted(CASES))
def test_gradients_match_tape(case, training):
    input_shape, specs, classes = CASES[case]
    km, fm = _pair(input_shape, specs)
    x, y = _data(input_shape, classes)
    fm.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = loss_fn(y, km(xt, training=training))
    grads = tape.gradient(loss, km.trainable_variables + [xt])
    f_loss, f_grads, f_xgrad = fm._loss_and_gradients(x, y, training=training)
    assert len(f_grads) == len(km.trainable_variables)
    np.testing.assert_allclose(f_loss, float(loss), atol=ATOL)
    for v, gf, gk in zip(km.trainable_variables, f_grads, grads):
        np.testing.assert_allclose(gf, gk.numpy(), atol=ATOL, err_msg=v.path)
    np.testing.assert_allclose(f_xgrad, grads[-1].numpy(), atol=ATOL)
    if training:  # both moved their moving statistics once
        for wf, wk in zip(fm.get_weights(), km.get_weights()):
            np.testing.assert_allclose(wf, wk, atol=ATOL)


def test_global_average_pooling_finite_differences():
    specs = [("GlobalAveragePooling2D", {}), ("Dense", dict(units=3, activation="softmax"))]
    fmnistcpp.utils.set_random_seed(3)
    fm = build_model(fmnistcpp, (3, 4, 2), specs)
    fm.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x, y = _data((3, 4, 2), 3, n=4, seed=5)
    x *= 3.0
    _, grads, xgrad = fm._loss_and_gradients(x, y)
    eps = 1e-2
    rng = np.random.default_rng(0)
    for idx in [tuple(rng.integers(0, s) for s in x.shape) for _ in range(12)]:
        xp, xm = x.copy(), x.copy()
        xp[idx] += eps
        xm[idx] -= eps
        fd = (fm._loss_and_gradients(xp, y)[0] - fm._loss_and_gradients(xm, y)[0]) / (2 * eps)
        assert abs(fd - xgrad[idx]) < 2e-3, (idx, fd, xgrad[idx])
    w = fm.get_weights()
    for i in range(3):
        wp = [a.copy() for a in w]
        wm = [a.copy() for a in w]
        wp[0][1, i] += eps
        wm[0][1, i] -= eps
        fm.set_weights(wp)
        lp = fm._loss_and_gradients(x, y)[0]
        fm.set_weights(wm)
        lm = fm._loss_and_gradients(x, y)[0]
        fm.set_weights(w)
        assert abs((lp - lm) / (2 * eps) - grads[0][1, i]) < 2e-3


@pytest.mark.parametrize("case", ["conv", "no_affine"])
def test_save_load_round_trip(case, tmp_path):
    input_shape, specs, classes = CASES[case]
    km, fm = _pair(input_shape, specs)
    x, _ = _data(input_shape, classes)
    fm.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    path = str(tmp_path / "m.keras")
    fm.save(path)
    back = fmnistcpp.saving.load_model(path)
    for a, b in zip(back.get_weights(), fm.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(back.predict(x, verbose=0), fm.predict(x, verbose=0), atol=0)
    # real Keras reads fmnistcpp's file, and fmnistcpp reads Keras's
    kback = keras.saving.load_model(path)
    np.testing.assert_allclose(kback.predict(x, verbose=0), km.predict(x, verbose=0), atol=ATOL)
    kpath = str(tmp_path / "k.keras")
    km.save(kpath)
    fback = fmnistcpp.saving.load_model(kpath, compile=False)
    np.testing.assert_allclose(fback.predict(x, verbose=0), km.predict(x, verbose=0), atol=ATOL)


def test_saved_optimizer_slots_match_keras(tmp_path):
    """Keras's optimizer has slots for trainable weights only: it must load
    fmnistcpp's file without skipping the optimizer's variables."""
    import warnings

    input_shape, specs, classes = CASES["conv"]
    _, fm = _pair(input_shape, specs)
    fm.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    path = str(tmp_path / "m.keras")
    fm.save(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        keras.saving.load_model(path)
    assert not [w for w in caught if "Skipping variable loading" in str(w.message)]


def test_summary_totals_match_keras():
    input_shape, specs, _ = CASES["conv"]
    km, fm = _pair(input_shape, specs)
    lines = []
    km.summary(print_fn=lambda s, **kw: lines.append(s))
    k_text = "\n".join(lines)
    f_lines = []
    fm.summary(print_fn=f_lines.append)
    f_text = "\n".join(f_lines)

    def totals(text):
        import re
        return {m.group(1): m.group(2) for m in
                re.finditer(r"(Total|Trainable|Non-trainable) params: ([\d,]+)", text)}

    assert totals(f_text) == totals(k_text)
    assert totals(f_text)["Non-trainable"] == "8"


def test_legacy_h5_round_trip(tmp_path):
    input_shape, specs, classes = CASES["conv"]
    km, fm = _pair(input_shape, specs)
    x, _ = _data(input_shape, classes)
    kpath = str(tmp_path / "k.h5")
    km.save(kpath)
    fback = fmnistcpp.models.load_model(kpath, compile=False)
    np.testing.assert_allclose(fback.predict(x, verbose=0), km.predict(x, verbose=0), atol=ATOL)
    fpath = str(tmp_path / "f.h5")
    fm.save(fpath)
    kback = keras.saving.load_model(fpath, compile=False)
    np.testing.assert_allclose(kback.predict(x, verbose=0), km.predict(x, verbose=0), atol=ATOL)
