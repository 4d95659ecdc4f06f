"""fmnistcpp.callbacks against real Keras 3.

Where a callback's behaviour is fixed by the logs it is given (ReduceLROnPlateau,
EarlyStopping, ModelCheckpoint), both libraries' callbacks are driven with the
same sequence of epoch logs on a stand-in model and must decide the same thing
epoch by epoch. Where the output is a file (CSVLogger, TensorBoard), both run a
real fit and the files must have the same structure. The others run a real
fmnistcpp fit.
"""

import csv
import glob
import math
import os

import numpy as np
import pytest

import keras
import fmnistcpp
from fmnistcpp.callbacks import CallbackList


# --- helpers ------------------------------------------------------------------------------
class _Optimizer:
    def __init__(self, learning_rate):
        self.learning_rate = learning_rate


class _StandIn:
    """What a callback needs of a model: an optimizer with a settable
    learning rate, `stop_training`, weights (the epoch they come from), and
    save / save_weights that record the paths."""

    def __init__(self, learning_rate=0.1):
        self.optimizer = _Optimizer(learning_rate)
        self.stop_training = False
        self.current = -1
        self.saved = []

    def get_weights(self):
        return [np.array(self.current)]

    def set_weights(self, weights):
        self.current = int(weights[0])

    def save(self, filepath, overwrite=True):
        self.saved.append(("model", os.path.basename(filepath)))

    def save_weights(self, filepath, overwrite=True):
        self.saved.append(("weights", os.path.basename(filepath)))


def _drive(cb, values, monitor="val_loss", lr=0.1, batches=0):
    """Runs a callback through a training of len(values) epochs where
    `monitor` takes the given values; returns per-epoch (lr, stop_training)
    and the stand-in model."""
    model = _StandIn(lr)
    cb.set_model(model)
    cb.set_params({"epochs": len(values), "steps": batches, "verbose": 0})
    cb.on_train_begin({})
    trace = []
    for epoch, value in enumerate(values):
        model.current = epoch
        cb.on_epoch_begin(epoch, {})
        for b in range(batches):
            cb.on_train_batch_begin(b, {})
            cb.on_train_batch_end(b, {"loss": float(value) + b, monitor: float(value)})
        logs = {"loss": float(value) * 2, monitor: float(value)}
        cb.on_epoch_end(epoch, logs)
        trace.append((float(model.optimizer.learning_rate), model.stop_training,
                      logs.get("learning_rate")))
        if model.stop_training:
            break
    cb.on_train_end({})
    return trace, model


PLATEAU = [1.0, 0.9, 0.9, 0.91, 0.95, 0.9, 0.8, 0.8, 0.85, 0.8, 0.79995, 0.81, 0.9, 0.7,
           0.7, 0.71, 0.72, 0.73, 0.74, 0.75]
RISING = [0.5, 0.6, 0.6, 0.59, 0.7, 0.69, 0.7, 0.71, 0.71, 0.71, 0.72, 0.8, 0.79, 0.78]


def _tiny_data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, n)
    return x, y


def _mlp(module, lr=None, optimizer="adam"):
    model = module.Sequential([
        module.layers.Input((28, 28)),
        module.layers.Flatten(),
        module.layers.Dense(16, activation="relu"),
        module.layers.Dense(10, activation="softmax"),
    ])
    if lr is not None:
        optimizer = (module.optimizers.SGD(learning_rate=lr) if optimizer == "sgd"
                     else module.optimizers.Adam(learning_rate=lr))
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


# --- ReduceLROnPlateau --------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,values,monitor", [
    (dict(patience=2), PLATEAU, "val_loss"),
    (dict(patience=1, factor=0.5, cooldown=2), PLATEAU, "val_loss"),
    (dict(patience=1, factor=0.5, min_lr=0.02), PLATEAU, "val_loss"),
    (dict(patience=2, factor=0.2, min_delta=0.05), PLATEAU, "val_loss"),
    (dict(patience=0, factor=0.5), PLATEAU, "loss"),
    (dict(patience=1, factor=0.5, mode="max"), RISING, "val_accuracy"),
    (dict(patience=2, factor=0.3, mode="max", cooldown=1, min_delta=0.0), RISING, "acc"),
])
def test_reduce_lr_on_plateau_matches_keras(kwargs, values, monitor):
    ours, _ = _drive(fmnistcpp.callbacks.ReduceLROnPlateau(monitor=monitor, **kwargs), values,
                     monitor)
    ref, _ = _drive(keras.callbacks.ReduceLROnPlateau(monitor=monitor, **kwargs), values,
                    monitor)
    assert len(ours) == len(ref) == len(values)
    lrs_ours = [t[0] for t in ours]
    assert lrs_ours == pytest.approx([t[0] for t in ref], rel=1e-6)
    assert [t[2] for t in ours] == pytest.approx([t[2] for t in ref], rel=1e-6)
    assert lrs_ours[-1] < lrs_ours[0]  # the sequences do make it reduce


def test_reduce_lr_on_plateau_arguments():
    with pytest.raises(ValueError, match="factor >= 1.0"):
        fmnistcpp.callbacks.ReduceLROnPlateau(factor=1.0)
    cb = fmnistcpp.callbacks.ReduceLROnPlateau(monitor="val_top5")
    with pytest.raises(ValueError, match="mode='max'"):
        _drive(cb, [1.0], "val_top5")
    with pytest.warns(UserWarning, match="not available"):
        _drive(fmnistcpp.callbacks.ReduceLROnPlateau(monitor="nope", mode="min"), [1.0])


def test_reduce_lr_on_plateau_in_fit():
    x, y = _tiny_data()
    model = _mlp(fmnistcpp, lr=0.05, optimizer="sgd")
    # min_delta so large that nothing after the first epoch counts as better.
    cb = fmnistcpp.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1,
                                               min_delta=100.0)
    history = model.fit(x, y, epochs=4, batch_size=32, verbose=0, callbacks=[cb])
    assert history.history["learning_rate"] == pytest.approx([0.05, 0.05, 0.025, 0.0125])
    assert model.optimizer.learning_rate == pytest.approx(0.00625)


# --- EarlyStopping ------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,values,monitor", [
    (dict(patience=0), PLATEAU, "val_loss"),
    (dict(patience=2), PLATEAU, "val_loss"),
    (dict(patience=3, min_delta=0.05), PLATEAU, "val_loss"),
    (dict(patience=2, baseline=0.85), PLATEAU, "val_loss"),
    (dict(patience=1, start_from_epoch=4), PLATEAU, "loss"),
    (dict(patience=2, restore_best_weights=True), PLATEAU, "val_loss"),
    (dict(patience=1, mode="max"), RISING, "val_accuracy"),
    (dict(patience=2, mode="max", baseline=0.75, restore_best_weights=True), RISING,
     "val_accuracy"),
])
def test_early_stopping_matches_keras(kwargs, values, monitor):
    ours, m_ours = _drive(fmnistcpp.callbacks.EarlyStopping(monitor=monitor, **kwargs),
                          values, monitor)
    ref, m_ref = _drive(keras.callbacks.EarlyStopping(monitor=monitor, **kwargs), values,
                        monitor)
    # Same epoch of stopping (the length of the run), same weights at the end.
    assert [t[1] for t in ours] == [t[1] for t in ref]
    assert m_ours.current == m_ref.current


# --- ModelCheckpoint ----------------------------------------------------------------------
@pytest.mark.parametrize("name,kwargs,values,monitor", [
    ("m.{epoch:02d}-{val_loss:.2f}.keras", {}, PLATEAU[:8], "val_loss"),
    ("best.keras", dict(save_best_only=True), PLATEAU, "val_loss"),
    ("w.{epoch:03d}.weights.h5", dict(save_best_only=True, save_weights_only=True),
     PLATEAU, "val_loss"),
    ("m-{epoch}-{val_accuracy:.3f}.keras", dict(save_best_only=True, mode="max"), RISING,
     "val_accuracy"),
    ("m-{epoch}.keras", dict(save_best_only=True, initial_value_threshold=0.85), PLATEAU,
     "val_loss"),
    ("m-{epoch}-{loss:.1f}.keras", dict(save_best_only=True), PLATEAU, "loss"),
])
def test_model_checkpoint_decisions_match_keras(tmp_path, name, kwargs, values, monitor):
    kwargs = dict(kwargs)
    kwargs.setdefault("monitor", monitor)
    path = str(tmp_path / name)
    _, m_ours = _drive(fmnistcpp.callbacks.ModelCheckpoint(path, **kwargs), values, monitor)
    _, m_ref = _drive(keras.callbacks.ModelCheckpoint(path, **kwargs), values, monitor)
    assert m_ours.saved == m_ref.saved
    assert len(m_ours.saved) > 0


@pytest.mark.parametrize("save_freq", [1, 3, 5])
def test_model_checkpoint_save_freq_batches_matches_keras(tmp_path, save_freq):
    path = str(tmp_path / "m-{epoch:02d}-{batch:03d}.keras")
    _, m_ours = _drive(fmnistcpp.callbacks.ModelCheckpoint(path, save_freq=save_freq),
                       PLATEAU[:4], batches=4)
    _, m_ref = _drive(keras.callbacks.ModelCheckpoint(path, save_freq=save_freq),
                      PLATEAU[:4], batches=4)
    assert m_ours.saved == m_ref.saved
    assert len(m_ours.saved) == 16 // save_freq


def test_model_checkpoint_arguments(tmp_path):
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        fmnistcpp.callbacks.ModelCheckpoint(str(tmp_path / "w.h5"), save_weights_only=True)
    with pytest.raises(ValueError, match=r"\.keras"):
        fmnistcpp.callbacks.ModelCheckpoint(str(tmp_path / "m.ckpt"))
    with pytest.raises(ValueError, match="save_freq"):
        fmnistcpp.callbacks.ModelCheckpoint(str(tmp_path / "m.keras"), save_freq="batch")
    cb = fmnistcpp.callbacks.ModelCheckpoint(str(tmp_path / "m-{nope}.keras"))
    with pytest.raises(KeyError, match="Failed to format"):
        _drive(cb, [1.0])
    # Saving per epoch costs no per-batch call; every N batches does.
    assert not fmnistcpp.callbacks.ModelCheckpoint(str(tmp_path / "m.keras"))\
        ._overrides_batch_hooks()
    assert fmnistcpp.callbacks.ModelCheckpoint(str(tmp_path / "m.keras"), save_freq=2)\
        ._overrides_batch_hooks()


def test_model_checkpoint_in_fit(tmp_path, monkeypatch):
    # model.save / save_weights are recorded, not run: this checks which epochs
    # save and under what names, with the real fit's logs.
    x, y = _tiny_data()
    model = _mlp(fmnistcpp)
    calls = []
    monkeypatch.setattr(model, "save", lambda p, overwrite=True: calls.append(("save", p)),
                        raising=False)
    monkeypatch.setattr(model, "save_weights",
                        lambda p, overwrite=True: calls.append(("weights", p)), raising=False)
    every = fmnistcpp.callbacks.ModelCheckpoint(str(tmp_path / "e{epoch:02d}-{val_loss:.4f}.keras"))
    best = fmnistcpp.callbacks.ModelCheckpoint(str(tmp_path / "best.weights.h5"),
                                               monitor="val_accuracy", save_best_only=True,
                                               save_weights_only=True)
    history = model.fit(x, y, epochs=3, batch_size=32, validation_split=0.25, verbose=0,
                        callbacks=[every, best])
    val_loss = history.history["val_loss"]
    saves = [p for kind, p in calls if kind == "save"]
    assert saves == [str(tmp_path / f"e{e + 1:02d}-{v:.4f}.keras") for e, v in
                     enumerate(val_loss)]
    acc = history.history["val_accuracy"]
    improved = sum(1 for i, a in enumerate(acc) if i == 0 or a > max(acc[:i]))
    assert [kind for kind, _ in calls].count("weights") == improved


# --- CSVLogger ----------------------------------------------------------------------------
def _read_rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


@pytest.mark.parametrize("validation", [True, False])
def test_csv_logger_matches_keras_format(tmp_path, validation):
    x, y = _tiny_data()
    split = 0.25 if validation else 0.0
    paths = {}
    for name, module in (("keras", keras), ("ours", fmnistcpp)):
        paths[name] = str(tmp_path / f"{name}.csv")
        _mlp(module).fit(x, y, epochs=3, batch_size=32, validation_split=split, verbose=0,
                         callbacks=[module.callbacks.CSVLogger(paths[name])])
    ours, ref = _read_rows(paths["ours"]), _read_rows(paths["keras"])
    assert ours[0] == ref[0]
    assert ours[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert len(ours) == len(ref) == 4
    assert [r[0] for r in ours] == [r[0] for r in ref] == ["epoch", "0", "1", "2"]
    for row_ours, row_ref in zip(ours[1:], ref[1:]):
        for a, b in zip(row_ours[1:], row_ref[1:]):
            assert (a == "NA") == (b == "NA")
            if a != "NA":
                float(a)
    # Same line endings and separators, byte for byte apart from the values.
    raw_ours, raw_ref = open(paths["ours"], "rb").read(), open(paths["keras"], "rb").read()
    assert raw_ours.count(b"\r\n") == raw_ref.count(b"\r\n") == 4
    assert raw_ours.splitlines()[0] == raw_ref.splitlines()[0]


def test_csv_logger_append_and_separator(tmp_path):
    x, y = _tiny_data()
    path = str(tmp_path / "log.csv")
    model = _mlp(fmnistcpp)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[fmnistcpp.callbacks.CSVLogger(path)])
    model.fit(x, y, epochs=2, verbose=0,
              callbacks=[fmnistcpp.callbacks.CSVLogger(path, append=True)])
    rows = _read_rows(path)
    assert [r[0] for r in rows] == ["epoch", "0", "1", "0", "1"]
    model.fit(x, y, epochs=1, verbose=0,
              callbacks=[fmnistcpp.callbacks.CSVLogger(path, separator=";")])
    lines = open(path).read().splitlines()
    assert lines[0] == "epoch;accuracy;loss;val_accuracy;val_loss"
    assert lines[1].startswith("0;") and lines[1].endswith(";NA;NA")
    assert len(lines) == 2


# --- TensorBoard --------------------------------------------------------------------------
def _read_events(logdir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(logdir, size_guidance={"tensors": 0, "scalars": 0})
    acc.Reload()
    out = {}
    for tag in acc.Tags()["tensors"]:
        events = acc.Tensors(tag)
        out[tag] = [(e.step, e.tensor_proto) for e in events]
    for tag in acc.Tags()["scalars"]:
        out[tag] = [(e.step, e.value) for e in acc.Scalars(tag)]
    return out


def _scalar_value(v):
    from tensorboard.util import tensor_util

    return float(tensor_util.make_ndarray(v)) if not isinstance(v, float) else v


def test_tensorboard_epoch_scalars_match_keras(tmp_path):
    x, y = _tiny_data()
    histories = {}
    for name, module in (("keras", keras), ("ours", fmnistcpp)):
        histories[name] = _mlp(module).fit(
            x, y, epochs=3, batch_size=32, validation_split=0.25, verbose=0,
            callbacks=[module.callbacks.TensorBoard(log_dir=str(tmp_path / name))])
    for sub in ("train", "validation"):
        ours = _read_events(str(tmp_path / "ours" / sub))
        ref = _read_events(str(tmp_path / "keras" / sub))
        epoch_tags = sorted(t for t in ours if t.startswith("epoch_"))
        assert epoch_tags == sorted(t for t in ref if t.startswith("epoch_"))
        assert "epoch_loss" in epoch_tags and "epoch_accuracy" in epoch_tags
        if sub == "train":
            assert "epoch_learning_rate" in epoch_tags
        for tag in epoch_tags:
            assert [s for s, _ in ours[tag]] == [s for s, _ in ref[tag]] == [0, 1, 2]
            # Written the way tf.summary.scalar writes them (a float32 tensor).
            assert ours[tag][0][1].dtype == ref[tag][0][1].dtype
        key = "loss" if sub == "train" else "val_loss"
        values = [_scalar_value(v) for _, v in ours["epoch_loss"]]
        assert values == pytest.approx(histories["ours"].history[key], rel=1e-6)
    # The model graph (Keras writes its config under the tag 'keras').
    assert "keras" in _read_events(str(tmp_path / "ours" / "train"))


def test_tensorboard_batch_scalars(tmp_path):
    x, y = _tiny_data()
    model = _mlp(fmnistcpp)
    cb = fmnistcpp.callbacks.TensorBoard(log_dir=str(tmp_path), update_freq=2,
                                         write_graph=False, write_steps_per_second=True)
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[cb])  # 6 batches/epoch
    train = _read_events(str(tmp_path / "train"))
    assert [s for s, _ in train["batch_loss"]] == [2, 4, 6, 8, 10, 12]
    assert len(train["batch_accuracy"]) == 6
    assert [s for s, _ in train["epoch_steps_per_second"]] == [0, 1]
    assert "keras" not in train
    assert not os.path.exists(tmp_path / "validation")
    # Only batch-level logging makes fit call back per batch.
    assert cb._overrides_batch_hooks()
    assert not fmnistcpp.callbacks.TensorBoard(str(tmp_path))._overrides_batch_hooks()


def test_tensorboard_graph_and_no_tensorflow_import(tmp_path):
    # Writing logs must not import TensorFlow (seconds of start-up, and not a
    # dependency): run a fit in a fresh interpreter and look. The graph record
    # must be a model TensorBoard's graph plugin can draw.
    import json
    import subprocess
    import sys

    code = (
        "import sys, numpy as np, fmnistcpp as k\n"
        "m = k.Sequential([k.layers.Input((28, 28)), k.layers.Flatten(),\n"
        "                  k.layers.Dense(16, activation='relu'),\n"
        "                  k.layers.Dense(10, activation='softmax')])\n"
        "m.compile(optimizer='adam', loss='sparse_categorical_crossentropy')\n"
        "x = np.zeros((8, 28, 28), np.float32); y = np.arange(8) % 10\n"
        f"m.fit(x, y, verbose=0, callbacks=[k.callbacks.TensorBoard({str(tmp_path)!r})])\n"
        "print('tensorflow' in sys.modules)\n"
    )
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True).stdout
    assert out.strip().splitlines()[-1] == "False"
    from tensorboard.plugins.graph import keras_util

    (_, proto), = _read_events(str(tmp_path / "train"))["keras"]
    graph = keras_util.keras_model_to_graph_def(json.loads(proto.string_val[0]))
    assert len(graph.node) == 4  # input, flatten, dense, dense


@pytest.mark.parametrize("kwargs", [  # histogram_freq, write_images: test_utils_callbacks.py
                                    dict(profile_batch=2), dict(profile_batch="2,4"),
                                    dict(embeddings_freq=1)])
def test_tensorboard_unsupported_options(tmp_path, kwargs):
    with pytest.raises(NotImplementedError):
        fmnistcpp.callbacks.TensorBoard(log_dir=str(tmp_path), **kwargs)


# --- TerminateOnNaN -----------------------------------------------------------------------
def test_terminate_on_nan_stops_fit(capsys):
    x, y = _tiny_data(n=640)
    fmnistcpp.utils.set_random_seed(0)
    model = _mlp(fmnistcpp, lr=1e20, optimizer="sgd")  # overflows within 2 batches
    batches = []
    counter = fmnistcpp.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: batches.append(logs["loss"]))
    history = model.fit(x, y, epochs=5, batch_size=32, verbose=0,
                        callbacks=[fmnistcpp.callbacks.TerminateOnNaN(), counter])
    out = capsys.readouterr().out
    assert "Invalid loss, terminating training" in out
    assert len(history.epoch) == 1  # stopped inside the first epoch
    assert len(batches) < 20  # 20 batches per epoch
    assert math.isnan(batches[-1]) or math.isinf(batches[-1])
    assert model.stop_training


def test_terminate_on_nan_raise_error():
    x, y = _tiny_data(n=640)
    fmnistcpp.utils.set_random_seed(0)
    model = _mlp(fmnistcpp, lr=1e20, optimizer="sgd")  # overflows within 2 batches
    with pytest.raises(RuntimeError, match="NaN or Inf loss"):
        model.fit(x, y, epochs=5, batch_size=32, verbose=0,
                  callbacks=[fmnistcpp.callbacks.TerminateOnNaN(raise_error=True)])


def test_terminate_on_nan_leaves_finite_training_alone():
    x, y = _tiny_data()
    history = _mlp(fmnistcpp).fit(x, y, epochs=3, verbose=0,
                                  callbacks=[fmnistcpp.callbacks.TerminateOnNaN()])
    assert len(history.epoch) == 3


# --- LambdaCallback -----------------------------------------------------------------------
def test_lambda_callback_hooks_are_called():
    x, y = _tiny_data()
    calls = []
    cb = fmnistcpp.callbacks.LambdaCallback(
        on_train_begin=lambda logs: calls.append(("train_begin",)),
        on_train_end=lambda logs: calls.append(("train_end", sorted(logs))),
        on_epoch_begin=lambda epoch, logs: calls.append(("epoch_begin", epoch)),
        on_epoch_end=lambda epoch, logs: calls.append(("epoch_end", epoch, sorted(logs))),
        on_train_batch_begin=lambda batch, logs: calls.append(("batch_begin", batch)),
        on_train_batch_end=lambda batch, logs: calls.append(("batch_end", batch)),
    )
    _mlp(fmnistcpp).fit(x, y, epochs=2, batch_size=32, validation_split=0.25, verbose=0,
                        callbacks=[cb])  # 72 training samples: 3 batches
    keys = ["accuracy", "loss", "val_accuracy", "val_loss"]
    epoch = [("batch_begin", 0), ("batch_end", 0), ("batch_begin", 1), ("batch_end", 1),
             ("batch_begin", 2), ("batch_end", 2)]
    assert calls == ([("train_begin",), ("epoch_begin", 0)] + epoch + [("epoch_end", 0, keys),
                     ("epoch_begin", 1)] + epoch + [("epoch_end", 1, keys),
                     ("train_end", keys)])


def test_lambda_callback_batch_hooks_only_when_given():
    def wants(cb):
        return CallbackList([cb], None, {}, add_progbar=False).wants_batch_hooks

    assert not wants(fmnistcpp.callbacks.LambdaCallback(on_epoch_end=lambda e, l: None))
    assert not wants(fmnistcpp.callbacks.LambdaCallback(on_train_end=lambda l: None))
    assert wants(fmnistcpp.callbacks.LambdaCallback(on_train_batch_end=lambda b, l: None))
    assert wants(fmnistcpp.callbacks.LambdaCallback(on_train_batch_begin=lambda b, l: None))
    assert wants(fmnistcpp.callbacks.LambdaCallback(on_batch_end=lambda b, l: None))
    # And the kwargs form reaches the hook, as in Keras.
    seen = []
    cb = fmnistcpp.callbacks.LambdaCallback(on_batch_end=lambda b, logs=None: seen.append(b))
    cb.on_train_batch_end(7, {})
    assert seen == [7]


# --- LearningRateScheduler ----------------------------------------------------------------
def test_learning_rate_scheduler_matches_keras():
    x, y = _tiny_data()

    def schedule(epoch, lr):
        return lr if epoch < 2 else lr * 0.5

    seen = {}
    for name, module in (("keras", keras), ("ours", fmnistcpp)):
        model = _mlp(module, lr=0.01, optimizer="sgd")
        seen[name] = []
        probe = module.callbacks.LambdaCallback(
            on_epoch_end=lambda e, logs, m=model, s=seen[name]: s.append(
                float(np.asarray(m.optimizer.learning_rate))))
        history = model.fit(x, y, epochs=5, verbose=0, callbacks=[
            module.callbacks.LearningRateScheduler(schedule), probe])
        seen[name + "_history"] = history.history["learning_rate"]
    assert seen["ours"] == pytest.approx([0.01, 0.01, 0.005, 0.0025, 0.00125])
    assert seen["ours"] == pytest.approx(seen["keras"], rel=1e-6)
    assert seen["ours_history"] == pytest.approx(seen["keras_history"], rel=1e-6)


def test_learning_rate_scheduler_drives_the_engine(capsys):
    # A schedule of zero freezes the weights: the C++ optimizer uses the live rate.
    x, y = _tiny_data()
    model = _mlp(fmnistcpp, lr=0.1, optimizer="sgd")
    before = model.get_weights()
    model.fit(x, y, epochs=2, verbose=0, callbacks=[
        fmnistcpp.callbacks.LearningRateScheduler(lambda epoch: 0.0, verbose=1)])  # old API
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert "Epoch 2: LearningRateScheduler setting learning rate to 0.0." in \
        capsys.readouterr().out
    with pytest.raises(ValueError, match="should be a float"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[
            fmnistcpp.callbacks.LearningRateScheduler(lambda epoch, lr: "fast")])
