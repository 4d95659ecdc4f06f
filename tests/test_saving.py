"""Saving and loading: .keras (both ways with real Keras), legacy .h5,
.weights.h5, atomic writes, and clear errors for bad files."""

import json
import os
import warnings
import zipfile

import numpy as np
import pytest

import keras

import fmnistcpp
from fmnistcpp import architectures
from fmnistcpp.saving import weights_h5

RNG = np.random.default_rng(0)
X = RNG.random((48, 28, 28, 1), dtype=np.float32)
Y = RNG.integers(0, 10, 48)


def _keras_cnn():
    m = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(6, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.25),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    m.compile(optimizer=keras.optimizers.Adam(learning_rate=2e-3),
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    m.fit(X, Y, epochs=1, batch_size=16, verbose=0)
    return m


def _small_model():
    model = fmnistcpp.Sequential([
        fmnistcpp.layers.Input((28, 28, 1)),
        fmnistcpp.layers.Conv2D(4, 3, activation="relu"),
        fmnistcpp.layers.MaxPooling2D(2),
        fmnistcpp.layers.Flatten(),
        fmnistcpp.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


@pytest.mark.parametrize("arch", ["seed000-cnn", "seed001-cnn"])
def test_fmnistcpp_keras_file_loads_in_real_keras(tmp_path, arch):
    model, cfg = architectures.build(arch)
    architectures.compile_model(model, cfg)
    path = tmp_path / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as z:
        assert {"config.json", "metadata.json", "model.weights.h5"} <= set(z.namelist())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        km = keras.models.load_model(path)
    skipped = [str(w.message) for w in caught if "Skipping" in str(w.message)]
    assert not skipped, skipped  # Keras found every variable it expected (optimizer too)
    assert int(km.optimizer.iterations.numpy()) == 0  # never trained: step 0
    assert [type(l).__name__ for l in km.layers] == [type(l).__name__ for l in model.layers]
    np.testing.assert_allclose(km.predict(X, verbose=0), model.predict(X, verbose=0),
                               atol=1e-5)
    assert km.optimizer is not None and type(km.optimizer).__name__ == "Adam"
    assert km.loss == model.loss
    # Keras can keep training the loaded model (it is compiled).
    y = Y if fmnistcpp.losses.get(model.loss).sparse else keras.utils.to_categorical(Y, 10)
    assert np.isfinite(km.evaluate(X, y, verbose=0)[0])


@pytest.mark.parametrize("ext", [".keras", ".h5"])
def test_keras_saved_file_loads_in_fmnistcpp(tmp_path, ext):
    km = _keras_cnn()
    path = str(tmp_path / f"k{ext}")
    km.save(path)
    model = fmnistcpp.models.load_model(path)
    assert [l.name for l in model.layers] == [l.name for l in km.layers]
    np.testing.assert_allclose(model.predict(X, verbose=0), km.predict(X, verbose=0),
                               atol=1e-5)
    assert isinstance(model.optimizer, fmnistcpp.optimizers.Adam)
    assert model.optimizer.learning_rate == pytest.approx(2e-3)
    loss, acc = model.evaluate(X, Y, verbose=0)
    k_loss, k_acc = km.evaluate(X, Y, verbose=0)
    assert loss == pytest.approx(k_loss, abs=1e-4)
    assert acc == pytest.approx(k_acc, abs=1e-6)
    uncompiled = fmnistcpp.models.load_model(path, compile=False)
    with pytest.raises(RuntimeError, match="compile"):
        uncompiled.evaluate(X, Y, verbose=0)


def test_h5_roundtrip_in_fmnistcpp_and_keras(tmp_path):
    model = _small_model()
    path = str(tmp_path / "m.h5")
    model.save(path)
    loaded = fmnistcpp.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0),
                               atol=1e-6)
    km = keras.models.load_model(path)
    np.testing.assert_allclose(km.predict(X, verbose=0), model.predict(X, verbose=0),
                               atol=1e-5)


def test_save_weights_load_weights_roundtrip(tmp_path):
    model = _small_model()
    path = str(tmp_path / "w.weights.h5")
    model.save_weights(path)
    other = _small_model()
    assert not np.allclose(other.get_weights()[0], model.get_weights()[0])
    other.load_weights(path)
    for a, b in zip(other.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    # the same file loads into the same architecture in real Keras
    km = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                           keras.layers.MaxPooling2D(2), keras.layers.Flatten(),
                           keras.layers.Dense(10, activation="softmax")])
    km.load_weights(path)
    np.testing.assert_allclose(km.predict(X, verbose=0), model.predict(X, verbose=0), atol=1e-5)
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        model.save_weights(str(tmp_path / "w.h5"))
    mismatch = fmnistcpp.Sequential([fmnistcpp.layers.Input((28, 28, 1)),
                                     fmnistcpp.layers.Flatten(), fmnistcpp.layers.Dense(10)])
    with pytest.raises(ValueError, match="layer"):
        mismatch.load_weights(path)


def test_loaded_model_continues_training(tmp_path):
    model = _small_model()
    model.fit(X, Y, epochs=1, batch_size=16, verbose=0)
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = fmnistcpp.models.load_model(path)
    before = [w.copy() for w in loaded.get_weights()]
    history = loaded.fit(X, Y, epochs=2, batch_size=16, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert not np.allclose(before[0], loaded.get_weights()[0])


@pytest.mark.parametrize("exc", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_save_is_atomic(tmp_path, monkeypatch, exc):
    model = _small_model()
    path = tmp_path / "m.keras"
    model.save(path)
    original = path.read_bytes()
    real = weights_h5.write_weights

    def failing(m, h5file):
        real(m, h5file)  # write part of the file, then fail
        h5file.flush()
        raise exc

    monkeypatch.setattr(weights_h5, "write_weights", failing)
    model.fit(X, Y, epochs=1, batch_size=16, verbose=0)  # the new save would differ
    with pytest.raises(type(exc)):
        model.save(path)
    with pytest.raises(type(exc)):
        model.save_weights(tmp_path / "w.weights.h5")
    assert path.read_bytes() == original
    assert sorted(os.listdir(tmp_path)) == ["m.keras"]
    monkeypatch.setattr(weights_h5, "write_weights", real)
    model.save(path)
    assert path.read_bytes() != original
    assert sorted(os.listdir(tmp_path)) == ["m.keras"]


def test_bad_files_give_clear_errors(tmp_path):
    model = _small_model()
    good = tmp_path / "good.keras"
    model.save(good)
    data = good.read_bytes()

    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated|corrupt|not a zip"):
        fmnistcpp.models.load_model(truncated)

    noise = tmp_path / "noise.keras"
    noise.write_bytes(np.random.default_rng(1).bytes(4096))
    with pytest.raises(ValueError, match="not a zip archive"):
        fmnistcpp.models.load_model(noise)

    noconfig = tmp_path / "noconfig.keras"
    with zipfile.ZipFile(noconfig, "w") as z:
        z.writestr("metadata.json", "{}")
    with pytest.raises(ValueError, match="config.json"):
        fmnistcpp.models.load_model(noconfig)

    text = tmp_path / "model.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="format not supported"):
        fmnistcpp.models.load_model(text)
    with pytest.raises(ValueError, match="extension"):
        model.save(tmp_path / "out.txt")

    with pytest.raises(ValueError, match="not found"):
        fmnistcpp.models.load_model(tmp_path / "missing.keras")

    h5 = tmp_path / "m.h5"
    model.save(h5)
    cut = tmp_path / "cut.h5"
    cut.write_bytes(h5.read_bytes()[:2000])
    with pytest.raises(ValueError, match="truncated|corrupt"):
        fmnistcpp.models.load_model(cut)

    badweights = tmp_path / "badweights.keras"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(badweights, "w") as zout:
        zout.writestr("config.json", zin.read("config.json"))
        zout.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    with pytest.raises(ValueError, match="model.weights.h5"):
        fmnistcpp.models.load_model(badweights)


def test_unsupported_layer_is_named(tmp_path):
    # (a layer no part of issue 12 adds; LayerNormalization, used here before, now loads)
    km = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                           keras.layers.UnitNormalization(), keras.layers.Dense(10)])
    for ext in (".keras", ".h5"):
        path = str(tmp_path / f"un{ext}")
        km.save(path)
        with pytest.raises(ValueError, match="UnitNormalization") as info:
            fmnistcpp.models.load_model(path)
        assert "Conv2D" in str(info.value) and "Dense" in str(info.value)


def test_saved_config_matches_keras_layout(tmp_path):
    model = _small_model()
    path = tmp_path / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as z:
        config = json.loads(z.read("config.json"))
        meta = json.loads(z.read("metadata.json"))
    assert config["class_name"] == "Sequential" and config["module"] == "keras"
    assert "keras_version" in meta and "date_saved" in meta
    conv = config["config"]["layers"][1]
    assert conv["module"] == "keras.layers" and conv["class_name"] == "Conv2D"
    assert conv["config"]["kernel_initializer"]["class_name"] == "GlorotUniform"
    assert conv["build_config"] == {"input_shape": [None, 28, 28, 1]}
    cc = config["compile_config"]
    assert cc["optimizer"]["class_name"] == "Adam"
    assert cc["loss"] == "sparse_categorical_crossentropy" and cc["metrics"] == ["accuracy"]
    import h5py

    with zipfile.ZipFile(path) as z, h5py.File(z.open("model.weights.h5"), "r") as f:
        assert f["layers/conv2d/vars/0"].shape == (3, 3, 1, 4)
        assert f["layers/dense/vars/1"].shape == (10,)


def test_model_checkpoint_writes_files_that_load(tmp_path):
    fk = fmnistcpp
    rng = np.random.default_rng(0)
    x = rng.random((96, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 96)
    model = fk.Sequential([fk.layers.Input((28, 28)), fk.layers.Flatten(),
                           fk.layers.Dense(8, activation="relu"),
                           fk.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    checkpoint = fk.callbacks.ModelCheckpoint(str(tmp_path / "m.{epoch:02d}.keras"))
    model.fit(x, y, epochs=2, verbose=0, callbacks=[checkpoint])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.01.keras", "m.02.keras"]
    loaded = fk.models.load_model(str(tmp_path / "m.02.keras"))
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-6)


@pytest.mark.parametrize("make_optimizer", [
    pytest.param(lambda fk: fk.optimizers.RMSprop(learning_rate=2e-3), id="rmsprop"),
    pytest.param(lambda fk: fk.optimizers.RMSprop(momentum=0.5, centered=True),
                 id="rmsprop_momentum_centered"),
    pytest.param(lambda fk: fk.optimizers.AdamW(learning_rate=1e-3, weight_decay=0.01), id="adamw"),
    pytest.param(lambda fk: fk.optimizers.Adam(
        fk.optimizers.schedules.ExponentialDecay(1e-3, decay_steps=10, decay_rate=0.9)),
        id="adam_exponential_decay"),
])
def test_other_optimizers_survive_a_save(tmp_path, make_optimizer):
    fk = fmnistcpp
    model = fk.Sequential([fk.layers.Input((28, 28)), fk.layers.Flatten(),
                           fk.layers.Dense(10, activation="softmax")])
    model.compile(make_optimizer(fk), "sparse_categorical_crossentropy", metrics=["accuracy"])
    path = str(tmp_path / "m.keras")
    model.save(path)
    ours = fk.models.load_model(path)
    assert type(ours.optimizer) is type(model.optimizer)
    assert ours.optimizer.get_config() == model.optimizer.get_config()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "Skipping variable loading for optimizer"
        theirs = keras.models.load_model(path)
    assert type(theirs.optimizer).__name__ == type(model.optimizer).__name__
    assert float(theirs.optimizer.learning_rate) == pytest.approx(model.optimizer.learning_rate)
