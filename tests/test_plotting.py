"""fmnistcpp.plotting: history curves and sample grids, drawn headless."""

import json
import pickle

import matplotlib

matplotlib.use("Agg")  # tests never open windows
import matplotlib.image  # noqa: E402
import matplotlib.colors  # noqa: E402
import matplotlib.figure  # noqa: E402

import numpy as np
import pytest

from fmnistcpp import plotting

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

HIST = {
    "loss": [0.52, 0.37, 0.33],
    "accuracy": [0.81, 0.86, 0.88],
    "val_loss": [0.41, 0.38, 0.36],
    "val_accuracy": [0.85, 0.86, 0.87],
}


class FakeHistory:
    """What model.fit returns: an object with .history, .epoch, .params."""

    def __init__(self, history):
        self.history = history
        self.epoch = list(range(len(history["loss"])))
        self.params = {"epochs": len(self.epoch), "steps": 10, "verbose": 1}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plotting.plt.close("all")


def _check_history_figure(fig, n_epochs=3, with_val=True):
    axes = fig.get_axes()
    assert len(axes) == 2
    assert [ax.get_title() for ax in axes] == ["Model accuracy", "Model loss"]
    for ax, key in zip(axes, ["accuracy", "loss"]):
        assert ax.get_xlabel() == "Epoch"
        lines = ax.get_lines()
        assert len(lines) == (2 if with_val else 1)
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels == (["train", "validation"] if with_val else ["train"])
        x, y = lines[0].get_data()
        np.testing.assert_allclose(x, np.arange(1, n_epochs + 1))
        np.testing.assert_allclose(y, HIST[key][:n_epochs])
        if with_val:
            np.testing.assert_allclose(lines[1].get_data()[1], HIST["val_" + key][:n_epochs])


def test_from_history_object():
    fig = plotting.plot_history(FakeHistory(HIST))
    assert isinstance(fig, matplotlib.figure.Figure)
    _check_history_figure(fig)


def test_from_dict():
    _check_history_figure(plotting.plot_history(dict(HIST)))


def test_from_pickle_file(tmp_path):
    p = tmp_path / "history.pkl"
    with open(p, "wb") as f:
        pickle.dump(HIST, f)
    _check_history_figure(plotting.plot_history(p))
    _check_history_figure(plotting.plot_history(str(p)))


def test_from_json_file(tmp_path):
    p = tmp_path / "history.json"
    p.write_text(json.dumps(HIST))
    _check_history_figure(plotting.plot_history(p))


def test_from_cli_run_file(tmp_path):
    # the history.json of `python -m fmnistcpp train` holds the dict under "history"
    p = tmp_path / "history.json"
    p.write_text(json.dumps({"model": "seed002-mlp", "history": HIST, "epoch_times": [1, 2, 3]}))
    _check_history_figure(plotting.plot_history(p))


def test_pickle_without_json_suffix_and_numpy_values(tmp_path):
    p = tmp_path / "hist"
    with open(p, "wb") as f:
        pickle.dump({k: np.asarray(v, dtype=np.float32) for k, v in HIST.items()}, f)
    _check_history_figure(plotting.plot_history(p))


def test_old_keras_acc_key_and_no_validation():
    fig = plotting.plot_history({"loss": HIST["loss"], "acc": HIST["accuracy"]})
    _check_history_figure(fig, with_val=False)


def test_explicit_metrics():
    fig = plotting.plot_history(HIST, metrics=["loss"])
    axes = fig.get_axes()
    assert len(axes) == 1 and axes[0].get_title() == "Model loss"
    assert len(axes[0].get_lines()) == 2


def test_one_epoch_has_integer_ticks():
    fig = plotting.plot_history({k: v[:1] for k, v in HIST.items()})
    for ax in fig.get_axes():
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks == [1.0]


def test_save_png(tmp_path):
    out = tmp_path / "sub" / "curves.png"
    fig = plotting.plot_history(HIST, path=out)
    assert fig is not None
    data = out.read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert len(data) > 5000


def test_errors(tmp_path):
    with pytest.raises(ValueError, match="not in the history"):
        plotting.plot_history(HIST, metrics=["precision"])
    with pytest.raises(ValueError, match="empty"):
        plotting.plot_history({})
    with pytest.raises(TypeError, match="History"):
        plotting.plot_history(42)
    with pytest.raises(FileNotFoundError):
        plotting.plot_history(tmp_path / "missing.pkl")
    bad = tmp_path / "bad.pkl"
    bad.write_bytes(b"this is neither json nor a pickle")
    with pytest.raises(ValueError, match="neither JSON nor a pickle"):
        plotting.plot_history(bad)
    with pytest.raises(ValueError, match="list of numbers"):
        plotting.plot_history({"loss": ["a", "b"]})


def test_plot_samples(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(12, 28, 28), dtype=np.uint8)
    y = np.arange(12) % 10
    fig = plotting.plot_samples(x, y, n=10, cols=5, path=tmp_path / "s.png")
    axes = fig.get_axes()
    assert len(axes) == 10
    titles = [ax.get_title() for ax in axes]
    assert titles[:3] == ["T-shirt/top", "Trouser", "Pullover"]
    assert titles[9] == "Ankle boot"
    assert (tmp_path / "s.png").read_bytes().startswith(PNG_MAGIC)

    # with predicted probabilities: "pred NN%\n(true)", colored by correctness
    probs = np.eye(10, dtype=np.float32)[(y + np.array([0, 1] * 6)) % 10]
    fig = plotting.plot_samples(x.reshape(12, 28, 28, 1), y, probs, n=4, cols=2)
    axes = fig.get_axes()
    assert axes[0].get_title() == "T-shirt/top 100%\n(T-shirt/top)"
    assert axes[1].get_title() == "Pullover 100%\n(Trouser)"
    assert matplotlib.colors.same_color(axes[0].title.get_color(), "tab:green")
    assert matplotlib.colors.same_color(axes[1].title.get_color(), "tab:red")

    with pytest.raises(ValueError, match="shape"):
        plotting.plot_samples(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="entries"):
        plotting.plot_samples(x, y[:3])


def test_plot_confusion_matrix():
    y = np.array([0, 1, 2, 2, 9])
    p = np.array([0, 1, 1, 2, 9])
    fig = plotting.plot_confusion_matrix(y, p)
    ax = fig.get_axes()[0]
    assert ax.get_title() == "Confusion matrix"
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 100
    assert texts[2 * 10 + 1] == "1" and texts[2 * 10 + 2] == "1"


# ---------------------------------------------------------------------------
# on a real training run: a tiny fmnistcpp model, 2 epochs


@pytest.fixture(scope="module")
def trained():
    """A small MLP trained 2 epochs on real Fashion-MNIST images, with validation.

    Returns (history, x_test, y_test, probabilities of x_test)."""
    import fmnistcpp as keras

    keras.utils.set_random_seed(1)
    (x, y), (xt, yt) = keras.datasets.fashion_mnist.load_data()
    x, y = x[:1500] / 255.0, y[:1500]
    xt, yt = xt[:40], yt[:40]
    model = keras.Sequential([
        keras.layers.Flatten(input_shape=(28, 28)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=2, batch_size=32, validation_split=0.2, verbose=0)
    probs = model.predict(xt / 255.0, verbose=0)
    return history, xt, yt, probs


def test_real_history_object_dict_and_pickle(trained, tmp_path):
    history = trained[0]
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(len(v) == 2 for v in history.history.values())
    pkl = tmp_path / "history.pkl"
    with open(pkl, "wb") as f:
        pickle.dump(history.history, f)  # seed 001's way
    js = tmp_path / "history.json"
    js.write_text(json.dumps(history.history))
    for source in (history, history.history, pkl, js):
        fig = plotting.plot_history(source, path=tmp_path / "h.png")
        axes = fig.get_axes()
        assert [ax.get_title() for ax in axes] == ["Model accuracy", "Model loss"]
        assert [ax.get_ylabel() for ax in axes] == ["Accuracy", "Loss"]
        for ax, key in zip(axes, ["accuracy", "loss"]):
            assert ax.get_xlabel() == "Epoch"
            assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "validation"]
            train, val = ax.get_lines()
            np.testing.assert_array_equal(train.get_xdata(), [1, 2])
            # the values are plotted as recorded (float64 from JSON or the History): exact
            np.testing.assert_array_equal(train.get_ydata(), history.history[key])
            np.testing.assert_array_equal(val.get_ydata(), history.history["val_" + key])
        _check_png(tmp_path / "h.png", fig)
        plotting.plt.close(fig)


def _check_png(path, fig, dpi=100):
    """The file is a PNG that matplotlib reads back at the figure's size."""
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC)
    img = matplotlib.image.imread(path)
    w, h = fig.get_size_inches() * dpi
    assert img.shape[:2] == (round(h), round(w))
    assert img.shape[2] in (3, 4)
    assert img[..., :3].std() > 0.01  # not a blank page


def test_plot_predictions_real_model(trained, tmp_path):
    _, xt, yt, probs = trained
    pred = probs.argmax(axis=1)
    assert (pred != yt).any() and (pred == yt).any(), "need right and wrong predictions"
    n = 12
    out = tmp_path / "pred" / "results.png"
    fig = plotting.plot_predictions(xt, probs, yt, n=n, path=out)
    assert isinstance(fig, matplotlib.figure.Figure)
    axes = fig.get_axes()
    assert len(axes) == 2 * n  # cols=3 divides 12: no empty slot
    n_wrong = int((pred[:n] != yt[:n]).sum())
    assert fig._suptitle.get_text().startswith(f"Predicted class probabilities: {n_wrong} of {n} wrong")
    red = matplotlib.colors.to_rgba(plotting.WRONG_COLOR)
    blue = matplotlib.colors.to_rgba(plotting.RIGHT_COLOR)
    grey = matplotlib.colors.to_rgba(plotting.OTHER_COLOR)
    for i in range(n):
        ax_img, ax_bar = axes[2 * i], axes[2 * i + 1]
        p, t = int(pred[i]), int(yt[i])
        right = p == t
        name_p, name_t = plotting.CLASS_NAMES[p], plotting.CLASS_NAMES[t]
        assert ax_img.get_title() == f"{name_p} ({100 * probs[i, p]:.0f}%) / {name_t}"
        assert matplotlib.colors.same_color(ax_img.title.get_color(), blue if right else red)
        # wrong ones framed in red, right ones unframed
        assert all(s.get_visible() != right for s in ax_img.spines.values())
        np.testing.assert_array_equal(ax_img.get_images()[0].get_array(), xt[i])
        bars = ax_bar.patches
        assert len(bars) == 10
        # heights are the float32 probabilities widened to float64: exact
        np.testing.assert_array_equal([b.get_height() for b in bars], probs[i])
        assert ax_bar.get_ylim() == (0.0, 1.0)
        for c, b in enumerate(bars):
            want = blue if c == t else red if c == p else grey
            assert b.get_facecolor() == want, (i, c)
    _check_png(out, fig)


def test_plot_predictions_indices_one_hot_and_errors():
    x = np.zeros((5, 784), dtype=np.uint8)
    probs = np.full((5, 10), 0.02, dtype=np.float32)
    probs[np.arange(5), [0, 1, 2, 3, 4]] = 0.82
    y = np.eye(10)[[0, 1, 9, 3, 9]]  # one-hot; 2 and 4 wrong
    fig = plotting.plot_predictions(x, probs, y, indices=[2, 3], cols=2)
    axes = fig.get_axes()
    assert len(axes) == 4
    assert axes[0].get_title() == "Pullover (82%) / Ankle boot"
    assert axes[2].get_title() == "Dress (82%) / Dress"
    assert "1 of 2 wrong" in fig._suptitle.get_text()
    # empty slots of the last row are hidden
    fig = plotting.plot_predictions(x, probs, y, n=4, cols=3)
    assert [ax.axison for ax in fig.get_axes()] == [True] * 8 + [False] * 4

    with pytest.raises(ValueError, match="shape"):
        plotting.plot_predictions(x, probs[:, 0], y)
    with pytest.raises(ValueError, match="true_labels has 3 entries"):
        plotting.plot_predictions(x, probs, y[:3])
    with pytest.raises(ValueError, match="0..9"):
        plotting.plot_predictions(x, probs, np.array([0, 1, 2, 3, 10]))
    with pytest.raises(ValueError, match="indices"):
        plotting.plot_predictions(x, probs, y, indices=[7])
    with pytest.raises(ValueError, match="no image"):
        plotting.plot_predictions(x, probs, y, n=0)
