"""The functional API against real Keras 3: merge layers, branched and
residual graphs, several inputs and outputs, per-output losses and
loss_weights. Each graph is written once as a function of the library
(`keras` or `fmnistcpp`), built in both, and given the same weights.

Tolerances: forward values within 1e-5 (float32 round-off through a few
layers, summation order differs between oneDNN and TensorFlow); two-epoch
losses within 1e-4, the bound tests/test_keras_training_parity.py justifies
(the graphs here have non-zero biases and small learning rates so that
Keras agrees with itself far below that).
"""

import numpy as np
import pytest

import keras

import fmnistcpp
from conftest import copy_weights

RNG = np.random.default_rng(0)
FWD_ATOL = 1e-5
LOSS_ATOL = 1e-4
MERGES = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"]


def twins(build, seed=0):
    """(keras model, fmnistcpp model) from one builder, same weights, with
    small non-zero biases (zero biases put ReLU units on their kink)."""
    keras.utils.set_random_seed(seed)
    km = build(keras)
    fm = build(fmnistcpp)
    rng = np.random.default_rng(seed + 1)
    km.set_weights([w if w.ndim > 1 else rng.normal(scale=0.05, size=w.shape).astype(np.float32)
                    for w in km.get_weights()])
    copy_weights(km, fm)
    return km, fm


def merge_model(lib, merge):
    inp = lib.Input((12,), name="x")
    a = lib.layers.Dense(6, activation="tanh")(inp)
    b = lib.layers.Dense(6)(inp)
    c = lib.layers.Dense(6, activation="relu")(inp)
    inputs = [a, b] if merge == "Subtract" else [a, b, c]
    m = getattr(lib.layers, merge)()(inputs)
    out = lib.layers.Dense(4, activation="softmax")(m)
    return lib.Model(inp, out)


def residual_cnn(lib):
    inp = lib.Input((12, 12, 1))
    x = lib.layers.Conv2D(6, 3, padding="same", activation="relu")(inp)
    y = lib.layers.Conv2D(6, 3, padding="same", activation="relu")(x)
    y = lib.layers.Conv2D(6, 3, padding="same")(y)
    x = lib.layers.Activation("relu")(lib.layers.Add()([x, y]))  # the skip connection
    x = lib.layers.MaxPooling2D()(x)
    x = lib.layers.Flatten()(x)
    return lib.Model(inp, lib.layers.Dense(10, activation="softmax")(x))


def two_branch(lib):
    inp = lib.Input((12, 12, 1))
    a = lib.layers.Conv2D(4, 3, activation="relu")(inp)
    a = lib.layers.Flatten()(lib.layers.MaxPooling2D()(a))
    b = lib.layers.Flatten()(lib.layers.AveragePooling2D(3)(inp))
    b = lib.layers.Dense(8, activation="relu")(b)
    x = lib.layers.Concatenate()([a, b])
    return lib.Model(inp, lib.layers.Dense(10, activation="softmax")(x))


def two_inputs_two_outputs(lib):
    img = lib.Input((8, 8, 1), name="img")
    meta = lib.Input((5,), name="meta")
    x = lib.layers.Flatten()(lib.layers.Conv2D(3, 3, activation="relu")(img))
    x = lib.layers.Concatenate()([x, lib.layers.Dense(4, activation="relu")(meta)])
    x = lib.layers.Dense(16, activation="relu")(x)
    cls = lib.layers.Dense(5, activation="softmax", name="cls")(x)
    aux = lib.layers.Dense(3, activation="softmax", name="aux")(x)
    return lib.Model([img, meta], [cls, aux])


def images(n, shape=(12, 12, 1)):
    return RNG.random((n,) + shape, dtype=np.float32)


@pytest.mark.parametrize("merge", MERGES)
def test_merge_layer_forward_matches_keras(merge):
    km, fm = twins(lambda lib: merge_model(lib, merge))
    x = RNG.normal(size=(9, 12)).astype(np.float32)
    np.testing.assert_allclose(fm.predict(x, verbose=0), km.predict(x, verbose=0), atol=FWD_ATOL)


@pytest.mark.parametrize("axis", [-1, 1, 2, 3])
def test_concatenate_axes_match_keras(axis):
    def build(lib):
        inp = lib.Input((4, 5, 3))
        a = lib.layers.Conv2D(2, 1)(inp)
        b = lib.layers.Conv2D(2, 1)(inp) if axis in (-1, 3) else inp
        if axis == 1:
            b = lib.layers.Conv2D(3, 1)(inp)  # concatenating rows: channels must agree
            a = lib.layers.Conv2D(3, 1)(inp)
        if axis == 2:
            a = lib.layers.Conv2D(3, 1)(inp)
            b = lib.layers.Conv2D(3, 1)(inp)
        return lib.Model(inp, lib.layers.Concatenate(axis=axis)([a, b]))

    km, fm = twins(build)
    x = RNG.normal(size=(3, 4, 5, 3)).astype(np.float32)
    k, f = km.predict(x, verbose=0), fm.predict(x, verbose=0)
    assert f.shape == k.shape
    np.testing.assert_allclose(f, k, atol=FWD_ATOL)


@pytest.mark.parametrize("build", [residual_cnn, two_branch], ids=["residual", "two_branch"])
def test_branched_graph_forward_matches_keras(build):
    km, fm = twins(build)
    x = images(16)
    np.testing.assert_allclose(fm.predict(x, verbose=0), km.predict(x, verbose=0), atol=FWD_ATOL)


@pytest.mark.parametrize("build", [residual_cnn, two_branch], ids=["residual", "two_branch"])
def test_branched_graph_two_epochs_match_keras(build, small_data):
    (x, y), _ = small_data
    x = np.ascontiguousarray(x[:256, 8:20, 8:20, :])
    y = y[:256]
    km, fm = twins(build)
    for m, lib in ((km, keras), (fm, fmnistcpp)):
        m.compile(lib.optimizers.Adam(learning_rate=1e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    kh = km.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    fh = fm.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(fh.history["loss"], kh.history["loss"], atol=LOSS_ATOL)
    assert kh.history["loss"][1] < kh.history["loss"][0]  # it trained: not vacuous
    np.testing.assert_allclose(fm.predict(x[:20], verbose=0), km.predict(x[:20], verbose=0),
                               atol=1e-4)


@pytest.mark.parametrize("form", ["list", "dict"])
def test_two_outputs_fit_with_losses_and_weights_like_keras(form):
    km, fm = twins(two_inputs_two_outputs)
    n = 96
    x = [RNG.random((n, 8, 8, 1), dtype=np.float32), RNG.random((n, 5), dtype=np.float32)]
    y_cls, y_aux = RNG.integers(0, 5, n), RNG.integers(0, 3, n)
    if form == "list":
        kw = dict(loss=["sparse_categorical_crossentropy", "sparse_categorical_crossentropy"],
                  loss_weights=[1.0, 0.3], metrics=[["accuracy"], ["accuracy"]])
        y = [y_cls, y_aux]
    else:
        kw = dict(loss={"cls": "sparse_categorical_crossentropy",
                        "aux": "sparse_categorical_crossentropy"},
                  loss_weights={"cls": 1.0, "aux": 0.3}, metrics={"cls": ["accuracy"]})
        y = {"cls": y_cls, "aux": y_aux}
    km.compile(keras.optimizers.Adam(1e-3), **kw)
    fm.compile(fmnistcpp.optimizers.Adam(1e-3), **kw)
    kh = km.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    fh = fm.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    assert sorted(fh.history) == sorted(kh.history)
    for key in kh.history:
        atol = LOSS_ATOL if key.endswith("loss") else 2.0 / n + 1e-6  # 2 samples' flips
        np.testing.assert_allclose(fh.history[key], kh.history[key], atol=atol, err_msg=key)
    np.testing.assert_allclose(fm.evaluate(x, y, verbose=0), km.evaluate(x, y, verbose=0),
                               atol=LOSS_ATOL)
    fp, kp = fm.predict(x, verbose=0), km.predict(x, verbose=0)
    assert isinstance(fp, list) and len(fp) == 2
    for a, b in zip(fp, kp):
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_an_output_without_a_loss_is_logged_as_keras_does():
    km, fm = twins(two_inputs_two_outputs)
    n = 32
    x = [RNG.random((n, 8, 8, 1), dtype=np.float32), RNG.random((n, 5), dtype=np.float32)]
    y = [RNG.integers(0, 5, n), RNG.integers(0, 3, n)]
    kw = dict(loss=["sparse_categorical_crossentropy", None], metrics=[["accuracy"], None])
    km.compile("adam", **kw)
    fm.compile("adam", **kw)
    kh = km.fit(x, y, epochs=1, verbose=0)
    fh = fm.fit(x, y, epochs=1, verbose=0)
    assert sorted(fh.history) == sorted(kh.history) == ["cls_accuracy", "loss"]


def test_graph_accessors_match_keras():
    # Automatic names count per process in each library: start both afresh.
    keras.backend.clear_session()
    fmnistcpp.backend.clear_session()
    km, fm = twins(two_inputs_two_outputs)
    assert [l.name for l in fm.layers] == [l.name for l in km.layers]
    assert [type(l).__name__ for l in fm.layers] == [type(l).__name__ for l in km.layers]
    assert [t.shape for t in fm.inputs] == [tuple(t.shape) for t in km.inputs]
    assert [t.shape for t in fm.outputs] == [tuple(t.shape) for t in km.outputs]
    assert fm.output_names == ["cls", "aux"]
    assert fm.get_layer("cls") is fm.layers[-2] or fm.get_layer("cls").name == "cls"
    assert fm.get_layer(index=0) is fm.layers[0]
    dense = fm.get_layer("cls")
    assert dense.output is fm.outputs[0]
    assert dense.input.shape == (None, 16)
    with pytest.raises(ValueError, match="No such layer"):
        fm.get_layer("nope")


def test_summary_has_keras_connected_to_column():
    _, fm = twins(residual_cnn)
    lines = []
    fm.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Connected to" in text
    add = next(l.name for l in fm.layers if type(l).__name__ == "Add")
    convs = [l.name for l in fm.layers if type(l).__name__ == "Conv2D"]
    assert f"{add} (Add)" in text and f"{convs[0]}[0][0]," in text and f"{convs[2]}[0][0]" in text
    assert f"Total params: {fm.count_params():,}" in text


def test_gradients_through_merges_match_finite_differences():
    """d loss / d x through every merge kind, a tensor read twice (x + x)
    and a residual: the engine's backward against central differences of
    its own loss, in float64 arithmetic on the differences."""
    def build(lib):
        inp = lib.Input((6,))
        a = lib.layers.Dense(5, activation="tanh")(inp)
        b = lib.layers.Dense(5, activation="tanh")(inp)
        parts = [lib.layers.Add()([a, a]), lib.layers.Subtract()([a, b]),
                 lib.layers.Multiply()([a, b]), lib.layers.Average()([a, b]),
                 lib.layers.Maximum()([a, b]), lib.layers.Minimum()([a, b])]
        x = lib.layers.Concatenate()(parts)
        x = lib.layers.Add()([x, lib.layers.Dense(30)(inp)])
        return lib.Model(inp, lib.layers.Dense(3, activation="softmax")(x))

    fm = build(fmnistcpp)
    fm.compile("sgd", "sparse_categorical_crossentropy")
    x = RNG.normal(size=(5, 6))
    y = RNG.integers(0, 3, 5)
    _, grads, gx = fm._loss_and_gradients(x, y)
    eps = 1e-2  # float32 losses: the step must dwarf their round-off (~1e-7)
    fd = np.zeros_like(gx)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        fd[i] = (fm._loss_and_gradients(xp, y)[0] - fm._loss_and_gradients(xm, y)[0]) / (2 * eps)
    # Maximum/Minimum are not differentiable at ties; random inputs have none.
    np.testing.assert_allclose(gx, fd, atol=2e-4, rtol=1e-2)
    assert len(grads) == len(fm.trainable_weights)


def test_gradients_through_merges_match_keras():
    import tensorflow as tf

    km, fm = twins(lambda lib: merge_model(lib, "Multiply"))
    for m in (km, fm):
        m.compile("sgd", "sparse_categorical_crossentropy")
    x = RNG.normal(size=(7, 12)).astype(np.float32)
    y = RNG.integers(0, 4, 7)
    with tf.GradientTape() as tape:
        kloss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, km(x)))
    kgrads = tape.gradient(kloss, km.trainable_weights)
    floss, fgrads, _ = fm._loss_and_gradients(x, y)
    assert abs(floss - float(kloss)) < 1e-5
    for a, b in zip(fgrads, kgrads):
        np.testing.assert_allclose(a, b.numpy(), atol=1e-5)


def test_bad_graphs_are_refused_clearly():
    inp = fmnistcpp.Input((4,))
    other = fmnistcpp.Input((4,))
    out = fmnistcpp.layers.Dense(2)(other)
    with pytest.raises(ValueError, match="not connected to `inputs`"):
        fmnistcpp.Model(inp, out)
    with pytest.raises(ValueError, match="one shape"):
        fmnistcpp.layers.Add()([fmnistcpp.layers.Dense(3)(inp), fmnistcpp.layers.Dense(2)(inp)])
    with pytest.raises(ValueError, match="exactly|2 input"):
        fmnistcpp.layers.Subtract()([inp, inp, inp])
    shared = fmnistcpp.layers.Dense(4)
    twice = fmnistcpp.Model(inp, shared(shared(inp)))
    with pytest.raises(NotImplementedError, match="twice"):
        twice.predict(np.zeros((1, 4)), verbose=0)
    m = fmnistcpp.Model([inp, other], fmnistcpp.layers.Add()([inp, other]))
    with pytest.raises(ValueError, match="2 inputs"):
        m.predict(np.zeros((3, 4)), verbose=0)
    with pytest.raises(TypeError, match="symbolic tensor"):
        bool(inp)
