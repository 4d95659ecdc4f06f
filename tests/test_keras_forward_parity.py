"""Forward parity with real Keras 3: the same weights (copied from a Keras model)
give the same outputs, layer by layer, for every layer type and for each seed
project's architecture; evaluate() and count_params() agree too."""

import numpy as np
import pytest

from conftest import SEED_ARCHS, build_model, build_pair, compile_pair, copy_weights, seed_inputs

# predict(): the bound on the model output, max |fmnistcpp - keras|.
PREDICT_ATOL = 1e-5
# Intermediate layer outputs are not bounded to [0, 1] (pre-softmax values, sums over
# up to 23232 inputs): float32 round-off from a different summation order grows with
# the magnitude, ~1e-7 * |value| * sqrt(terms), so a relative term of 1e-5 is added.
LAYER_ATOL, LAYER_RTOL = 1e-5, 1e-5


def conv(filters=4, kernel_size=3, **kw):
    return ("Conv2D", dict(filters=filters, kernel_size=kernel_size, **kw))


def pool(kind, **kw):
    return (kind, kw)


# (id, input shape, specs): each model ends with the layer under test, so predict()
# compares that layer's output directly.
LAYER_CASES = []
for act in ("relu", "tanh", "sigmoid", "linear", "softmax"):
    LAYER_CASES.append((f"conv_valid_{act}", (10, 10, 3), [conv(activation=act)]))
    LAYER_CASES.append((f"dense_{act}", (20,), [("Dense", dict(units=7, activation=act))]))
    LAYER_CASES.append((f"activation_{act}", (6, 6, 3), [("Activation", dict(activation=act))]))
    LAYER_CASES.append((f"activation_{act}_1d", (9,), [("Activation", dict(activation=act))]))
LAYER_CASES += [
    ("conv_default_activation", (10, 10, 3), [conv()]),
    ("conv_same_s1", (10, 10, 3), [conv(padding="same", activation="relu")]),
    ("conv_valid_s2_even", (10, 10, 3), [conv(strides=2, activation="relu")]),
    ("conv_valid_s2_odd", (11, 11, 3), [conv(strides=2, activation="relu")]),
    ("conv_same_s2_even", (10, 10, 3), [conv(strides=2, padding="same")]),
    ("conv_same_s2_odd", (11, 9, 3), [conv(strides=2, padding="same")]),
    ("conv_same_even_kernel", (9, 10, 2), [conv(kernel_size=2, padding="same")]),
    ("conv_same_k4_s2", (10, 11, 2), [conv(kernel_size=4, strides=2, padding="same")]),
    ("conv_rect_kernel_strides", (12, 10, 2), [conv(kernel_size=(5, 3), strides=(2, 1))]),
    ("conv_same_rect_strides", (12, 10, 2), [conv(kernel_size=(3, 5), strides=(1, 3),
                                                  padding="same")]),
    ("conv_kernel_1x1", (8, 8, 5), [conv(kernel_size=1, activation="tanh")]),
    ("conv_kernel_full", (5, 5, 2), [conv(kernel_size=5)]),
    ("conv_no_bias", (10, 10, 3), [conv(use_bias=False, activation="relu")]),
    ("conv_one_filter", (10, 10, 1), [conv(filters=1)]),
    ("conv_28x28_seed", (28, 28, 1), [conv(filters=8, activation="relu")]),
    ("conv_stack", (12, 12, 1), [conv(filters=6, activation="relu"),
                                 conv(filters=5, padding="same", activation="tanh")]),
    ("dense_no_bias", (20,), [("Dense", dict(units=7, use_bias=False))]),
    ("dense_stack", (20,), [("Dense", dict(units=9, activation="relu")),
                            ("Dense", dict(units=3, activation="softmax"))]),
    ("dense_default_activation", (20,), [("Dense", dict(units=5))]),
    ("flatten_rank3", (5, 4, 3), [("Flatten", {})]),
    ("flatten_rank2", (6, 7), [("Flatten", {})]),
    ("flatten_then_dense", (5, 4, 3), [("Flatten", {}), ("Dense", dict(units=6))]),
    ("conv_flatten_dense", (8, 8, 2), [conv(activation="relu"), ("Flatten", {}),
                                       ("Dense", dict(units=6, activation="softmax"))]),
    ("reshape_to_1d", (6, 7), [("Reshape", dict(target_shape=(42,)))]),
    ("reshape_to_image_then_conv", (48,), [("Reshape", dict(target_shape=(4, 6, 2))),
                                           conv(kernel_size=2)]),
    ("reshape_minus_one", (6, 7), [("Reshape", dict(target_shape=(-1, 2))),
                                   ("Flatten", {})]),
    ("dropout_is_identity_at_inference", (20,), [("Dense", dict(units=8, activation="relu")),
                                                 ("Dropout", dict(rate=0.5))]),
    ("dropout_on_images", (6, 6, 2), [("Dropout", dict(rate=0.3))]),
    ("softmax_layer_1d", (9,), [("Dense", dict(units=5)), ("Softmax", {})]),
    ("softmax_layer_images", (4, 5, 3), [("Softmax", {})]),
]
for kind in ("MaxPooling2D", "AveragePooling2D"):
    short = "max" if kind.startswith("Max") else "avg"
    LAYER_CASES += [
        # Keras's AveragePooling2D has no default pool_size (MaxPooling2D's is 2)
        (f"{short}pool_default", (10, 10, 3),
         [pool(kind) if short == "max" else pool(kind, pool_size=2)]),
        (f"{short}pool_2_odd_input", (11, 9, 2), [pool(kind, pool_size=2)]),
        (f"{short}pool_3", (10, 10, 2), [pool(kind, pool_size=3)]),
        (f"{short}pool_3_s2", (11, 11, 2), [pool(kind, pool_size=3, strides=2)]),
        (f"{short}pool_rect", (12, 10, 2), [pool(kind, pool_size=(2, 3), strides=(1, 2))]),
        (f"{short}pool_s1", (6, 6, 2), [pool(kind, pool_size=2, strides=1)]),
        (f"{short}pool_same", (11, 9, 2), [pool(kind, pool_size=2, padding="same")]),
        (f"{short}pool_same_3_s2", (10, 11, 2), [pool(kind, pool_size=3, strides=2,
                                                      padding="same")]),
        (f"{short}pool_same_s1", (7, 7, 2), [pool(kind, pool_size=3, strides=1, padding="same")]),
        (f"{short}pool_after_conv", (12, 12, 1), [conv(filters=6, activation="relu"),
                                                  pool(kind, pool_size=2)]),
    ]
LAYER_IDS = [c[0] for c in LAYER_CASES]


def _inputs(input_shape, n=7, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n,) + tuple(input_shape)).astype(np.float32)


def _nonzero_biases(km, fm, seed=1):
    # Keras initialises biases to 0: give them values so a bias bug cannot hide.
    rng = np.random.default_rng(seed)
    km.set_weights([w if w.ndim > 1 else rng.normal(scale=0.3, size=w.shape).astype(np.float32)
                    for w in km.get_weights()])
    copy_weights(km, fm)


def _keras_layer_outputs(keras, km, x):
    probe = keras.Model(km.inputs, [layer.output for layer in km.layers])
    outs = probe.predict(x, verbose=0)
    return outs if isinstance(outs, list) else [outs]


@pytest.mark.parametrize("case", LAYER_CASES, ids=LAYER_IDS)
def test_layer_forward_matches_keras(case, keras):
    name, input_shape, specs = case
    km, fm = build_pair(input_shape, specs, seed=3)
    _nonzero_biases(km, fm)
    assert fm.count_params() == km.count_params()
    assert tuple(fm.output_shape) == tuple(km.output_shape)
    x = _inputs(input_shape)
    k_out = km.predict(x, verbose=0)
    f_out = fm.predict(x, verbose=0)
    assert isinstance(f_out, np.ndarray) and f_out.dtype == np.float32
    assert f_out.shape == k_out.shape
    assert np.isfinite(f_out).all()
    np.testing.assert_allclose(f_out, k_out, rtol=0, atol=PREDICT_ATOL)
    # and every layer's own output
    f_layers = fm._layer_outputs(x)
    k_layers = _keras_layer_outputs(keras, km, x)
    assert len(f_layers) == len(k_layers) == len(specs)
    for i, (f, k) in enumerate(zip(f_layers, k_layers)):
        assert f.shape == k.shape, f"layer {i} ({specs[i][0]}) output shape"
        np.testing.assert_allclose(f, k, rtol=LAYER_RTOL, atol=LAYER_ATOL,
                                   err_msg=f"layer {i} ({specs[i][0]})")


def test_predict_in_batches_equals_one_batch(keras):
    # a last partial batch and several batch sizes give the same rows
    km, fm = build_pair((8, 8, 2), [conv(activation="relu"), ("MaxPooling2D", {}),
                                    ("Flatten", {}), ("Dense", dict(units=10,
                                                                    activation="softmax"))])
    x = _inputs((8, 8, 2), n=70)
    ref = km.predict(x, verbose=0)
    for bs in (1, 7, 32, 70, 128):
        np.testing.assert_allclose(fm.predict(x, batch_size=bs, verbose=0), ref, rtol=0,
                                   atol=PREDICT_ATOL, err_msg=f"batch_size={bs}")


def test_input_shape_kwarg_and_weight_layouts(keras, fmnistcpp):
    # the seeds' style: input_shape= on the first layer instead of an Input
    k = keras.Sequential([keras.layers.Conv2D(8, 3, activation="relu", input_shape=(28, 28, 1)),
                          keras.layers.MaxPooling2D(2), keras.layers.Flatten(),
                          keras.layers.Dense(10, activation="softmax")])
    f = fmnistcpp.Sequential([fmnistcpp.layers.Conv2D(8, 3, activation="relu",
                                                      input_shape=(28, 28, 1)),
                              fmnistcpp.layers.MaxPooling2D(2), fmnistcpp.layers.Flatten(),
                              fmnistcpp.layers.Dense(10, activation="softmax")])
    assert [w.shape for w in f.get_weights()] == [w.shape for w in k.get_weights()]
    assert [w.shape for w in f.get_weights()] == [(3, 3, 1, 8), (8,), (1352, 10), (10,)]
    assert f.count_params() == k.count_params()
    copy_weights(k, f)
    x = _inputs((28, 28, 1), n=5)
    np.testing.assert_allclose(f.predict(x, verbose=0), k.predict(x, verbose=0), rtol=0,
                               atol=PREDICT_ATOL)


# --- the five seed architectures ---------------------------------------------------------
@pytest.fixture(scope="module")
def trained_seed_pairs(small_data):
    """Each seed's model, trained briefly in Keras (so its outputs are confident and
    argmax ties impossible), weights copied to fmnistcpp; keyed by seed name."""
    (x, y), _ = small_data
    pairs = {}
    for name, arch in SEED_ARCHS.items():
        km, fm = build_pair(arch["input_shape"], arch["layers"], seed=int(name))
        compile_pair(km, fm, arch["loss"], arch["optimizer"])
        xs, ys = seed_inputs(name, x[:1000], y[:1000])
        km.fit(xs, ys, batch_size=arch["batch_size"], epochs=1, verbose=0)
        copy_weights(km, fm)
        pairs[name] = (km, fm)
    return pairs


@pytest.mark.parametrize("name", sorted(SEED_ARCHS))
def test_seed_architecture_forward_matches_keras(name, keras, small_data):
    arch = SEED_ARCHS[name]
    km, fm = build_pair(arch["input_shape"], arch["layers"], seed=int(name) + 10)
    _nonzero_biases(km, fm, seed=int(name))
    assert fm.count_params() == km.count_params()
    assert [w.shape for w in fm.get_weights()] == [w.shape for w in km.get_weights()]
    _, (xt, _) = small_data
    x_real, _ = seed_inputs(name, xt[:300], np.zeros(300, dtype=np.int64))
    x_rand = np.random.default_rng(0).uniform(0, 1, size=x_real[:50].shape).astype(np.float32)
    for x in (x_real, x_rand):
        k_out = km.predict(x, verbose=0)
        f_out = fm.predict(x, verbose=0)
        assert f_out.dtype == np.float32 and f_out.shape == k_out.shape == (len(x), 10)
        assert np.abs(f_out - k_out).max() <= PREDICT_ATOL
    f_layers = fm._layer_outputs(x_real[:20])
    k_layers = _keras_layer_outputs(keras, km, x_real[:20])
    assert len(f_layers) == len(k_layers) == len(arch["layers"])
    for i, (f, k) in enumerate(zip(f_layers, k_layers)):
        assert f.shape == k.shape
        np.testing.assert_allclose(f, k, rtol=LAYER_RTOL, atol=LAYER_ATOL,
                                   err_msg=f"seed {name} layer {i} ({arch['layers'][i][0]})")


@pytest.mark.parametrize("name", sorted(SEED_ARCHS))
def test_seed_architecture_evaluate_matches_keras(name, trained_seed_pairs, small_data):
    km, fm = trained_seed_pairs[name]
    _, (xt, yt) = small_data
    x, y = seed_inputs(name, xt, yt)
    k_loss, k_acc = km.evaluate(x, y, verbose=0)
    f_loss, f_acc = fm.evaluate(x, y, verbose=0)
    # Both are float32 means over 1000 samples accumulated batch by batch: round-off
    # ~1e-7 per batch over 32 batches, so 1e-5 relative is a safe bound.
    assert f_loss == pytest.approx(k_loss, rel=1e-5)
    # after a short training the outputs are confident: no argmax can flip on
    # 1e-6 differences, so the accuracies are identical
    assert f_acc == pytest.approx(k_acc, abs=1e-6)  # Keras reports a float32
    assert 0.3 < f_acc <= 1.0  # the model did learn something: the check is not vacuous
    # other batch sizes (a last partial batch) do not change the means
    f_loss_7, f_acc_7 = fm.evaluate(x, y, batch_size=7, verbose=0)
    assert f_loss_7 == pytest.approx(k_loss, rel=1e-5) and f_acc_7 == pytest.approx(k_acc)
    # return_dict gives the same numbers under Keras's names
    d = fm.evaluate(x, y, verbose=0, return_dict=True)
    assert set(d) == {"loss", "accuracy"}
    assert d["loss"] == pytest.approx(f_loss) and d["accuracy"] == pytest.approx(f_acc)


@pytest.mark.parametrize("loss", ["sparse_categorical_crossentropy", "categorical_crossentropy",
                                  ("SparseCategoricalCrossentropy", dict(from_logits=True)),
                                  ("CategoricalCrossentropy", dict(from_logits=True))],
                         ids=["sparse", "categorical", "sparse_logits", "categorical_logits"])
def test_evaluate_loss_variants_match_keras(loss, keras, small_data):
    # softmax output for the probability losses, linear output for from_logits=True
    from_logits = not isinstance(loss, str)
    last = dict(units=10) if from_logits else dict(units=10, activation="softmax")
    km, fm = build_pair((28, 28, 1), [conv(filters=4, activation="relu"),
                                      ("AveragePooling2D", dict(pool_size=2)),
                                      ("Flatten", {}), ("Dense", last)], seed=5)
    # a larger output kernel spreads the logits: no argmax tie that round-off could flip
    w = km.get_weights()
    w[-2] = w[-2] * 8.0
    km.set_weights(w)
    copy_weights(km, fm)
    compile_pair(km, fm, loss, "sgd")
    _, (xt, yt) = small_data
    y = yt if "parse" in str(loss) else keras.utils.to_categorical(yt, 10)
    k_loss, k_acc = km.evaluate(xt, y, verbose=0)
    f_loss, f_acc = fm.evaluate(xt, y, verbose=0)
    assert f_loss == pytest.approx(k_loss, rel=1e-5)
    assert f_acc == pytest.approx(k_acc, abs=1e-6)  # Keras reports a float32


def test_build_model_helper_builds_the_same_stack(keras, fmnistcpp):
    # guards the helper the other tests rely on
    specs = SEED_ARCHS["001"]["layers"]
    km = build_model(keras, (28, 28, 1), specs)
    fm = build_model(fmnistcpp, (28, 28, 1), specs)
    assert [type(l).__name__ for l in fm.layers] == [type(l).__name__ for l in km.layers]
    assert fm.count_params() == km.count_params() == 3_709_626
