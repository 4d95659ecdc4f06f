"""utils and callbacks against Keras 3.15: plot_model, TensorBoard histograms
and images (read back with TensorBoard's own reader), BackupAndRestore,
config, summary(print_fn), normalize, the image helpers, clear_session."""

import glob
import io
import json
import os

import numpy as np
import pytest
import keras
from PIL import Image
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.util import tensor_util

import fmnistcpp


def cnn(module):
    return module.Sequential([module.Input((8, 8, 1)),
                              module.layers.Conv2D(4, 3, activation="relu", name="conv"),
                              module.layers.Flatten(name="flat"),
                              module.layers.Dense(3, activation="softmax", name="out")],
                             name="net")


def functional(module):
    inp = module.Input((6,), name="pixels")
    a = module.layers.Dense(4, activation="relu", name="left")(inp)
    b = module.layers.Dense(4, activation="relu", name="right")(inp)
    out = module.layers.Dense(2, activation="softmax", name="head")(
        module.layers.Concatenate(name="join")([a, b]))
    return module.Model(inp, out)


def dot_labels(dot):
    return sorted(n.get_label() for n in dot.get_nodes() if n.get_name() not in ("node", "edge"))


def dot_edges(dot):
    names = {n.get_name(): n.get_label() for n in dot.get_nodes()}
    return sorted((names[e.get_source()], names[e.get_destination()]) for e in dot.get_edges())


# --- plot_model ----------------------------------------------------------------------------
def test_plot_model_writes_a_png_with_keras_nodes(tmp_path):
    model = cnn(fmnistcpp)
    path = tmp_path / "model.png"
    fmnistcpp.utils.plot_model(model, to_file=path, show_shapes=True, show_layer_names=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert Image.open(path).size[1] > 100  # three boxes stacked
    ours = fmnistcpp.utils.model_to_dot(model, show_shapes=True, show_layer_names=True)
    text = ours.to_string()
    for name, kind in (("conv", "Conv2D"), ("flat", "Flatten"), ("out", "Dense")):
        assert f"<b>{name}</b> ({kind})" in text
    assert "Output shape: <b>(None, 6, 6, 4)</b>" in text
    theirs = keras.utils.model_to_dot(cnn(keras), show_shapes=True, show_layer_names=True)
    assert dot_labels(ours) == dot_labels(theirs)
    assert dot_edges(ours) == dot_edges(theirs)


def test_model_to_dot_functional_graph_equals_keras():
    for flags in (dict(), dict(show_shapes=True, show_layer_activations=True,
                               show_trainable=True, show_dtype=True)):
        ours = fmnistcpp.utils.model_to_dot(functional(fmnistcpp), **flags)
        theirs = keras.utils.model_to_dot(functional(keras), **flags)
        assert dot_labels(ours) == dot_labels(theirs)
        assert dot_edges(ours) == dot_edges(theirs)
        assert len(dot_edges(ours)) == 5


def test_plot_model_errors(tmp_path):
    with pytest.raises(ValueError, match="not yet been built"):
        fmnistcpp.utils.plot_model(fmnistcpp.Sequential([fmnistcpp.layers.Dense(2)]))
    with pytest.raises(ValueError, match="Unrecognized keyword"):
        fmnistcpp.utils.model_to_dot(cnn(fmnistcpp), colour=True)
    with pytest.raises(NotImplementedError, match="nested"):
        fmnistcpp.utils.model_to_dot(cnn(fmnistcpp), expand_nested=True)


# --- TensorBoard ---------------------------------------------------------------------------
def _train_events(log_dir):
    files = glob.glob(os.path.join(log_dir, "train", "events.out.tfevents.*"))
    assert len(files) == 1
    acc = event_accumulator.EventAccumulator(files[0],
                                             size_guidance={event_accumulator.TENSORS: 0})
    acc.Reload()
    return acc


def test_tensorboard_histograms_and_images_equal_keras(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.random((32, 8, 8, 1)).astype("float32"), rng.integers(0, 3, 32)
    km, fm = cnn(keras), cnn(fmnistcpp)
    fm.set_weights(km.get_weights())
    runs = {}
    for name, model, module in (("keras", km, keras), ("ours", fm, fmnistcpp)):
        # learning rate 0: both write the same weights, so the events must agree
        model.compile(module.optimizers.SGD(0.0), "sparse_categorical_crossentropy")
        log_dir = str(tmp_path / name)
        model.fit(x, y, epochs=3, verbose=0, callbacks=[
            module.callbacks.TensorBoard(log_dir, histogram_freq=2, write_images=True)])
        runs[name] = _train_events(log_dir)
    k, f = runs["keras"], runs["ours"]
    weight_tags = sorted(t for t in k.Tags()["tensors"] if t.endswith(("/histogram", "/image")))
    assert len(weight_tags) == 8  # 4 weights x (histogram, image)
    assert weight_tags == sorted(t for t in f.Tags()["tensors"]
                                 if t.endswith(("/histogram", "/image")))
    for tag in weight_tags:
        ke, fe = k.Tensors(tag), f.Tensors(tag)
        assert [e.step for e in fe] == [e.step for e in ke] == [0, 2]  # histogram_freq=2
        assert f.summary_metadata[tag].plugin_data.plugin_name == \
            k.summary_metadata[tag].plugin_data.plugin_name
        a = tensor_util.make_ndarray(ke[-1].tensor_proto)
        b = tensor_util.make_ndarray(fe[-1].tensor_proto)
        if tag.endswith("/histogram"):
            assert a.shape == (30, 3)
            np.testing.assert_array_equal(b, a)  # the same numpy bucketing of the same weights
        else:
            assert list(b[:2]) == list(a[:2])  # width, height
            assert len(b) == len(a)
            for pa, pb in zip(a[2:], b[2:]):  # PNG bytes differ by encoder; pixels may not
                np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(pb))),
                                              np.asarray(Image.open(io.BytesIO(pa))))


# --- BackupAndRestore ----------------------------------------------------------------------
class Interrupt:
    def __new__(cls, module, at):
        class C(module.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                if epoch == at:
                    raise RuntimeError("Interrupting!")
        return C()


def test_backup_and_restore_resumes_like_keras(tmp_path):
    rng = np.random.default_rng(1)
    x, y = rng.random((40, 8, 8, 1)).astype("float32"), rng.integers(0, 3, 40)
    results = {}
    for name, module in (("keras", keras), ("ours", fmnistcpp)):
        module.utils.set_random_seed(3)
        model = cnn(module)
        model.compile(module.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
        backup_dir = str(tmp_path / name)
        backup = module.callbacks.BackupAndRestore(backup_dir)
        with pytest.raises(RuntimeError, match="Interrupting"):
            model.fit(x, y, epochs=6, batch_size=8, shuffle=False, verbose=0,
                      callbacks=[backup, Interrupt(module, 4)])
        files = sorted(os.listdir(backup_dir))
        with open(os.path.join(backup_dir, "training_metadata.json")) as fh:
            metadata = json.load(fh)
        history = model.fit(x, y, epochs=6, batch_size=8, shuffle=False, verbose=0,
                            callbacks=[backup])
        results[name] = (files, metadata, len(history.history["loss"]),
                         os.path.exists(backup_dir))
    assert results["ours"] == results["keras"]
    assert results["ours"] == (["latest.weights.h5", "training_metadata.json"],
                               {"epoch": 4, "batch": 0}, 2, False)


def test_backup_and_restore_continues_the_same_training(tmp_path):
    """An interrupted and resumed fit ends with the weights (and Adam state)
    of one uninterrupted fit."""
    rng = np.random.default_rng(2)
    x, y = rng.random((40, 8, 8, 1)).astype("float32"), rng.integers(0, 3, 40)

    def model():
        fmnistcpp.utils.set_random_seed(5)
        m = cnn(fmnistcpp)
        m.compile(fmnistcpp.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
        return m

    whole = model()
    whole.fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0)
    resumed = model()
    backup = fmnistcpp.callbacks.BackupAndRestore(str(tmp_path / "b"))
    with pytest.raises(RuntimeError):
        resumed.fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0,
                    callbacks=[backup, Interrupt(fmnistcpp, 3)])
    fresh = model()  # a new process would start from fresh weights
    fresh.fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0,
              callbacks=[fmnistcpp.callbacks.BackupAndRestore(str(tmp_path / "b"))])
    for a, b in zip(whole.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="save_freq"):
        fmnistcpp.callbacks.BackupAndRestore(str(tmp_path), save_freq="sometimes")
    with pytest.raises(ValueError, match="Empty `backup_dir`"):
        fmnistcpp.callbacks.BackupAndRestore("")


def test_remote_monitor_is_refused_clearly():
    with pytest.raises(NotImplementedError, match="CSVLogger"):
        fmnistcpp.callbacks.RemoteMonitor(root="http://localhost:9000")


# --- config, summary, small utils ----------------------------------------------------------
def test_config_essentials_match_keras():
    for name in ("floatx", "image_data_format", "epsilon"):
        assert getattr(fmnistcpp.config, name)() == getattr(keras.config, name)()
    fmnistcpp.config.set_floatx("float32")
    with pytest.raises(NotImplementedError, match="float32 only"):
        fmnistcpp.config.set_floatx("float64")
    with pytest.raises(NotImplementedError, match="channels_last"):
        fmnistcpp.config.set_image_data_format("channels_first")
    assert fmnistcpp.config.backend() == "fmnistcpp"
    fmnistcpp.config.enable_unsafe_deserialization()


def test_summary_print_fn_as_keras():
    out = {}
    for name, module in (("keras", keras), ("ours", fmnistcpp)):
        calls = []
        cnn(module).summary(print_fn=lambda *args, **kwargs: calls.append((args, kwargs)))
        out[name] = calls
    assert len(out["ours"]) == len(out["keras"]) == 1
    assert out["ours"][0] == out["keras"][0]  # the same table, one call, no keywords


def test_clear_session_resets_names_as_keras():
    for module in (keras, fmnistcpp):
        module.layers.Dense(2)
        module.backend.clear_session(free_memory=True)
        assert module.layers.Dense(2).name == "dense"
        assert module.layers.Dense(2).name == "dense_1"


def test_normalize_and_image_helpers_equal_keras(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 7)).astype("float32")
    x[2] = 0
    for axis, order in ((-1, 2), (1, 1), (1, np.inf)):
        np.testing.assert_array_equal(fmnistcpp.utils.normalize(x, axis, order),
                                      keras.utils.normalize(x, axis, order))
    img = rng.random((12, 10, 1)).astype("float32") * 3 - 1
    ours, theirs = fmnistcpp.utils.array_to_img(img), keras.utils.array_to_img(img)
    assert ours.mode == theirs.mode == "L"
    np.testing.assert_array_equal(fmnistcpp.utils.img_to_array(ours),
                                  keras.utils.img_to_array(theirs))
    path = tmp_path / "x.png"
    fmnistcpp.utils.save_img(path, img)
    for kwargs in (dict(color_mode="grayscale"), dict(target_size=(6, 4)),
                   dict(target_size=(5, 5), keep_aspect_ratio=True, interpolation="bilinear")):
        np.testing.assert_array_equal(
            fmnistcpp.utils.img_to_array(fmnistcpp.utils.load_img(path, **kwargs)),
            keras.utils.img_to_array(keras.utils.load_img(path, **kwargs)))
    with pytest.raises(ValueError, match="rank 3"):
        fmnistcpp.utils.array_to_img(img[:, :, 0])
    with pytest.raises(ValueError, match="color_mode"):
        fmnistcpp.utils.load_img(path, color_mode="cmyk")
    with pytest.raises(NotImplementedError, match="tf.keras.utils.image_dataset_from_directory"):
        fmnistcpp.utils.image_dataset_from_directory(str(tmp_path))
