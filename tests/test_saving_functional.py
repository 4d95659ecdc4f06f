"""Functional and nested models in `.keras` and legacy `.h5` files, both
ways with real Keras 3, and the optimizer's state in them. Predictions
within 1e-5 (the same weights, float32 round-off of two implementations)."""

import numpy as np
import pytest

import keras

import fmnistcpp

RNG = np.random.default_rng(9)


def branched(lib):
    img = lib.Input((10, 10, 1), name="img")
    meta = lib.Input((3,), name="meta")
    a = lib.layers.Conv2D(4, 3, activation="relu")(img)
    b = lib.layers.Conv2D(4, 3, activation="relu")(img)
    x = lib.layers.Flatten()(lib.layers.Add()([a, b]))
    x = lib.layers.Concatenate()([x, lib.layers.Dense(4)(meta)])
    x = lib.layers.BatchNormalization()(x)
    head = lib.Sequential([lib.layers.Dense(8, activation="relu"),
                           lib.layers.Dense(5, activation="softmax")], name="head")
    cls = head(x)
    aux = lib.layers.Dense(2, activation="softmax", name="aux")(x)
    return lib.Model([img, meta], [cls, aux], name="branched")


def data(n=24):
    x = [RNG.random((n, 10, 10, 1), dtype=np.float32), RNG.random((n, 3), dtype=np.float32)]
    y = [RNG.integers(0, 5, n), RNG.integers(0, 2, n)]
    return x, y


def trained(lib):
    m = branched(lib)
    m.compile(lib.optimizers.Adam(2e-3), loss=["sparse_categorical_crossentropy"] * 2,
              loss_weights=[1.0, 0.5], metrics=[["accuracy"], []])
    x, y = data()
    m.fit(x, y, epochs=2, batch_size=8, verbose=0)
    return m


def _same_predictions(a, b, x):
    for p, q in zip(a.predict(x, verbose=0), b.predict(x, verbose=0)):
        np.testing.assert_allclose(p, q, atol=1e-5)


@pytest.mark.parametrize("ext", [".keras", ".h5"])
def test_fmnistcpp_functional_model_loads_in_keras(tmp_path, ext):
    fm = trained(fmnistcpp)
    path = str(tmp_path / f"m{ext}")
    fm.save(path)
    km = keras.models.load_model(path)
    x, y = data()
    _same_predictions(fm, km, x)
    assert [l.name for l in km.layers] == [l.name for l in fm.layers]
    assert km.output_names == fm.output_names
    if ext == ".keras":  # the optimizer's step count and moments travel too
        assert int(km.optimizer.iterations.numpy()) == fm.optimizer.iterations == 6
    km.fit(x, y, epochs=1, verbose=0)  # and Keras trains on


@pytest.mark.parametrize("ext", [".keras", ".h5"])
def test_keras_functional_model_loads_in_fmnistcpp(tmp_path, ext):
    km = trained(keras)
    path = str(tmp_path / f"k{ext}")
    km.save(path)
    fm = fmnistcpp.models.load_model(path)
    x, y = data()
    _same_predictions(km, fm, x)
    assert isinstance(fm.get_layer("head"), fmnistcpp.Sequential)
    h = fm.fit(x, y, epochs=1, verbose=0)
    assert np.isfinite(h.history["loss"][0])


def test_resumed_training_matches_keras_after_a_round_trip(tmp_path):
    """A model saved mid-training continues in the other framework with the
    same optimizer state: the next Adam step moves the weights as Keras's
    does. One step, so round-off is not amplified through ReLU kinks; a
    fresh optimizer (no restored moments) moves them visibly differently."""
    km = trained(keras)
    path = str(tmp_path / "k.keras")
    km.save(path)
    fm = fmnistcpp.models.load_model(path)
    fresh = fmnistcpp.models.load_model(path, compile=False)
    fresh.compile(fmnistcpp.optimizers.Adam(2e-3), loss=["sparse_categorical_crossentropy"] * 2,
                  loss_weights=[1.0, 0.5])
    assert fm.optimizer.iterations == int(km.optimizer.iterations.numpy()) == 6
    x, y = data(8)
    km.train_on_batch(x, y)
    fm.train_on_batch(x, y)
    fresh.train_on_batch(x, y)
    kw = km.get_weights()
    # The biases of the convolutions and of the meta Dense feed
    # BatchNormalization, whose batch mean removes them: their true gradient
    # is zero, the computed one is round-off, and Adam's normalised step
    # turns round-off into steps of up to lr. Their kernels are compared.
    before_norm = {l.name for l in km.layers if isinstance(l, keras.layers.Conv2D)
                   or (isinstance(l, keras.layers.Dense) and l.units == 4)}
    for layer in km.layers:
        theirs, ours = layer.get_weights(), fm.get_layer(layer.name).get_weights()
        if layer.name in before_norm:
            theirs, ours = theirs[:1], ours[:1]
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, atol=1e-5, err_msg=layer.name)
    gap = max(np.abs(a - b).max() for a, b in zip(fresh.get_weights(), kw))
    assert gap > 1e-4  # the restored state is what made them agree


def test_sequential_holding_a_functional_model_round_trips(tmp_path):
    inner_in = fmnistcpp.Input((6,))
    inner = fmnistcpp.Model(inner_in, fmnistcpp.layers.Dense(4, activation="relu")(inner_in),
                            name="inner")
    outer = fmnistcpp.Sequential([fmnistcpp.Input((6,)), inner,
                                  fmnistcpp.layers.Dense(3, activation="softmax")])
    path = str(tmp_path / "s.keras")
    outer.save(path)
    x = RNG.random((4, 6), dtype=np.float32)
    km = keras.models.load_model(path)
    np.testing.assert_allclose(km.predict(x, verbose=0), outer.predict(x, verbose=0), atol=1e-5)
    back = fmnistcpp.models.load_model(path)
    np.testing.assert_allclose(back.predict(x, verbose=0), outer.predict(x, verbose=0), atol=0)


def test_frozen_layers_are_saved_frozen(tmp_path):
    fm = branched(fmnistcpp)
    fm.get_layer("head").trainable = False
    path = str(tmp_path / "f.keras")
    fm.save(path)
    for loaded in (keras.models.load_model(path), fmnistcpp.models.load_model(path)):
        # (Keras itself does not restore a nested Sequential's own flag, only
        # its layers'; that is what decides the trainable weights.)
        assert not any(l.trainable for l in loaded.get_layer("head").layers)
        assert len(loaded.trainable_weights) == len(fm.trainable_weights)


def test_pickle_and_deepcopy_keep_weights_and_compile_state():
    import copy
    import pickle

    fm = trained(fmnistcpp)
    x, _ = data()
    for clone in (pickle.loads(pickle.dumps(fm)), copy.deepcopy(fm)):
        _same_predictions(fm, clone, x)
        assert clone.optimizer.iterations == fm.optimizer.iterations
        assert clone.loss == fm.loss


def test_architecture_json_both_ways_with_keras():
    # to_json carries no weights: copy them, then the predictions must agree
    # within the float32 round-off bound of the module docstring.
    x, _ = data(6)
    ours = branched(fmnistcpp)
    theirs = keras.models.model_from_json(ours.to_json())
    theirs.set_weights(ours.get_weights())
    for a, b in zip(ours.predict(x, verbose=0), theirs.predict(x, verbose=0)):
        np.testing.assert_allclose(a, b, atol=1e-5)

    back = fmnistcpp.models.model_from_json(branched(keras).to_json())
    assert [type(layer).__name__ for layer in back.layers] == \
        [type(layer).__name__ for layer in theirs.layers]
    assert [t.shape for t in back.outputs] == [tuple(t.shape) for t in theirs.outputs]
    seq = fmnistcpp.Sequential([fmnistcpp.Input((4,)), fmnistcpp.layers.Dense(3)])
    again = fmnistcpp.models.model_from_json(seq.to_json(indent=2))
    assert again.get_config() == seq.get_config()
    with pytest.raises(ValueError, match="JSON"):
        fmnistcpp.models.model_from_json("{not json")


def test_clone_model_has_new_layers_and_fresh_weights():
    model = trained(fmnistcpp)
    clone = fmnistcpp.models.clone_model(model)
    assert clone.get_config() == model.get_config()
    assert not any(a is b for a, b in zip(clone.layers, model.layers))
    ours, theirs = clone.get_weights(), model.get_weights()
    assert [w.shape for w in ours] == [w.shape for w in theirs]
    # Freshly initialised, as Keras's clone: the trained kernels differ.
    assert any(not np.array_equal(a, b) for a, b in zip(ours, theirs))
    clone.set_weights(theirs)
    x, _ = data(5)
    _same_predictions(model, clone, x)
    seq = fmnistcpp.Sequential([fmnistcpp.Input((3,)), fmnistcpp.layers.Dense(2)])
    assert isinstance(fmnistcpp.models.clone_model(seq), fmnistcpp.Sequential)
    with pytest.raises(NotImplementedError, match="clone_function"):
        fmnistcpp.models.clone_model(seq, clone_function=lambda layer: layer)
