"""fmnistcpp.plotting: history curves and sample grids, drawn headless."""

import json
import pickle

import matplotlib

matplotlib.use("Agg")  # tests never open windows

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
