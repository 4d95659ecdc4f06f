"""Plots the seeds draw: training curves, sample images.

``plot_history(history)`` draws accuracy and loss per epoch, train and
validation, side by side (the seeds' "Model accuracy" / "Model loss" figures);
``plot_samples(x, y)`` draws a grid of images titled with their class names,
optionally with the model's predictions; ``plot_predictions(x, probs, y)``
draws each image next to a bar chart of its predicted class probabilities
(the TensorFlow classification tutorial's ``plot_image`` /
``plot_value_array``, as seed 004 shows its results);
``plot_confusion_matrix(y, pred)`` draws the confusion matrix. Every
function returns the matplotlib ``Figure`` and saves a PNG when given
``path``.

Backend: if no matplotlib backend has been chosen (no ``MPLBACKEND``, no
``matplotlib.use``, no backend in a matplotlibrc) and there is no display
(Linux without ``$DISPLAY`` / ``$WAYLAND_DISPLAY``) outside a Jupyter kernel,
the non-interactive ``Agg`` backend is selected so that plotting works on a
server. Otherwise the user's backend is left alone (Jupyter's inline backend,
a desktop window, ...).
"""

from __future__ import annotations

import json
import os
import pickle
import sys
from pathlib import Path

import numpy as np
import matplotlib

__all__ = [
    "plot_history",
    "load_history",
    "plot_samples",
    "plot_predictions",
    "plot_confusion_matrix",
]


def _backend_explicitly_set() -> bool:
    if os.environ.get("MPLBACKEND"):
        return True
    getter = getattr(matplotlib.rcParams, "_get_backend_or_none", None)
    if getter is not None:
        return getter() is not None
    value = dict.__getitem__(matplotlib.rcParams, "backend")
    return value is not getattr(matplotlib.rcsetup, "_auto_backend_sentinel", object())


def _headless() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _in_jupyter() -> bool:
    return "ipykernel" in sys.modules


def _choose_backend() -> None:
    if "matplotlib.pyplot" in sys.modules:  # a backend is already in use
        return
    if _backend_explicitly_set() or _in_jupyter() or not _headless():
        return
    matplotlib.use("Agg")


_choose_backend()

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from .datasets.fashion_mnist import CLASS_NAMES  # noqa: E402

# accuracy-like keys, in the order plot_history looks for them
_ACCURACY_KEYS = (
    "accuracy",
    "acc",
    "sparse_categorical_accuracy",
    "categorical_accuracy",
)

_PRETTY = {
    "acc": "accuracy",
    "sparse_categorical_accuracy": "accuracy",
    "categorical_accuracy": "accuracy",
}


# ---------------------------------------------------------------------------
# history


def load_history(source) -> dict:
    """Returns the ``{name: [value per epoch]}`` dict of a training history.

    ``source`` may be:

    * a ``History`` (what ``model.fit`` returns; anything with a ``.history``
      dict),
    * that dict itself,
    * a path to a file holding the dict: JSON (``json.dump(history.history,
      f)``), or a pickle (``pickle.dump(history.history, f)`` as seed 001
      does). A JSON file written by ``python -m fmnistcpp train``
      (``history.json``, the dict under the key ``"history"``) works too.

    Only unpickle files you trust: a pickle can run code when loaded.
    """
    if isinstance(source, (str, os.PathLike)):
        source = _read_history_file(Path(source))
    if hasattr(source, "history") and not isinstance(source, dict):
        source = source.history  # a History, also one read back from a pickle
    if not isinstance(source, dict):
        raise TypeError(
            "expected a History (what model.fit returns), its .history dict, or the "
            f"path of a pickle/JSON file holding that dict; got {type(source).__name__}"
        )
    if "history" in source and isinstance(source["history"], dict):
        source = source["history"]  # a run file of `python -m fmnistcpp train`
    if not source:
        raise ValueError("the history is empty: no metric was recorded")
    out = {}
    for key, values in source.items():
        try:
            arr = np.asarray(values, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise ValueError(
                f"history[{key!r}] must be a list of numbers (one per epoch), got "
                f"{values!r:.80}"
            ) from None
        out[str(key)] = arr.tolist()
    return out


def _read_history_file(path: Path):
    if not path.is_file():
        raise FileNotFoundError(f"history file {str(path)!r} does not exist")
    raw = path.read_bytes()
    if not raw:
        raise ValueError(f"history file {str(path)!r} is empty")
    errors = []
    text_like = raw.lstrip()[:1] in (b"{", b"[")
    loaders = ("json", "pickle") if text_like or path.suffix.lower() == ".json" else ("pickle", "json")
    for kind in loaders:
        try:
            if kind == "json":
                return json.loads(raw.decode("utf-8"))
            return pickle.loads(raw)
        except Exception as e:  # noqa: BLE001 - report every failure below
            errors.append(f"{kind}: {type(e).__name__}: {e}")
    raise ValueError(
        f"cannot read {str(path)!r} as a history: it is neither JSON nor a pickle "
        f"of a dict of per-epoch lists ({'; '.join(errors)})"
    )


def _default_metrics(hist: dict):
    acc = next((k for k in _ACCURACY_KEYS if k in hist), None)
    out = [acc] if acc else []
    if "loss" in hist:
        out.append("loss")
    if not out:  # no accuracy nor loss: plot every training metric
        out = [k for k in hist if not k.startswith("val_")]
    return out


def _title(name: str) -> str:
    return "Model " + _PRETTY.get(name, name).replace("_", " ")


def plot_history(history, metrics=None, path=None, *, figsize=None, dpi=100):
    """Plots training curves per epoch: accuracy and loss, train and validation.

    Args:
        history: a ``History`` (what ``model.fit`` returns), its ``.history``
            dict, or the path of a pickle or JSON file holding that dict (see
            `load_history`).
        metrics: names of the metrics to plot, one panel each, left to right.
            Default: the accuracy metric (``accuracy``, or ``acc`` and the like)
            then ``loss``. Each panel draws ``name`` ("train") and, when it
            was recorded, ``val_name`` ("validation").
        path: if given, the figure is saved there as a PNG (folders created).
        figsize: figure size in inches; default 6 wide per panel by 4.5 high.
        dpi: resolution of the saved PNG.

    Returns:
        The matplotlib ``Figure`` (one ``Axes`` per metric, titled
        "Model accuracy", "Model loss", ...; x axis "Epoch", counted from 1).

    Example::

        history = model.fit(x, y, validation_split=0.2, epochs=5)
        plot_history(history, path="history.png")
    """
    hist = load_history(history)
    if metrics is None:
        metrics = _default_metrics(hist)
    elif isinstance(metrics, str):
        metrics = [metrics]
    metrics = list(metrics)
    if not metrics:
        raise ValueError("metrics is empty: name at least one metric to plot")
    for m in metrics:
        if m not in hist:
            raise ValueError(
                f"metric {m!r} is not in the history; recorded: {', '.join(hist)}"
            )
    if figsize is None:
        figsize = (6.0 * len(metrics), 4.5)
    fig, axes = plt.subplots(1, len(metrics), figsize=figsize, squeeze=False)
    for ax, name in zip(axes[0], metrics):
        train = hist[name]
        epochs = np.arange(1, len(train) + 1)
        marker = "o" if len(train) <= 20 else None
        ax.plot(epochs, train, marker=marker, label="train")
        val_key = "val_" + name
        if val_key in hist and len(hist[val_key]):
            val = hist[val_key]
            ax.plot(np.arange(1, len(val) + 1), val, marker=marker, label="validation")
        ax.set_title(_title(name))
        ax.set_xlabel("Epoch")
        ax.set_ylabel(_PRETTY.get(name, name).replace("_", " ").capitalize())
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if len(train) == 1:  # one epoch: the locator would tick 0.96, 0.98, ...
            ax.set_xlim(0.5, 1.5)
            ax.set_xticks([1])
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best")
    fig.tight_layout()
    if path is not None:
        _save(fig, path, dpi)
    return fig


def _save(fig, path, dpi):
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, format="png")


# ---------------------------------------------------------------------------
# images


def _labels(y, n_classes=None):
    if y is None:
        return None
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot or probabilities
        return y.argmax(axis=1)
    return y.reshape(-1).astype(np.int64)


def _images(x):
    x = np.asarray(x)
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    elif x.ndim == 2 and x.shape[1] == 784:
        x = x.reshape(-1, 28, 28)
    if x.ndim != 3:
        raise ValueError(
            f"images must have shape (N, 28, 28), (N, 28, 28, 1) or (N, 784); got {x.shape}"
        )
    return x


def plot_samples(
    x,
    y=None,
    predictions=None,
    *,
    class_names=CLASS_NAMES,
    n=25,
    cols=5,
    indices=None,
    path=None,
    dpi=100,
):
    """Draws a grid of images titled with their class names.

    Args:
        x: images, ``(N, 28, 28)``, ``(N, 28, 28, 1)`` or ``(N, 784)``, any
            scale (uint8 0-255 or floats 0-1).
        y: true labels, integers ``(N,)`` or one-hot ``(N, classes)``; optional.
        predictions: predicted labels or ``model.predict`` probabilities
            ``(N, classes)``; optional. With predictions each title reads
            "predicted (true)" and is green when right, red when wrong; with
            probabilities the confidence is shown too.
        class_names: names in label order (Fashion-MNIST's by default).
        n: how many images (the first ``n``, or those of ``indices``).
        cols: images per row.
        indices: which images to draw (overrides ``n``).
        path: if given, the figure is saved there as a PNG.

    Returns:
        The matplotlib ``Figure``.
    """
    x = _images(x)
    true = _labels(y)
    probs = None
    if predictions is not None:
        p = np.asarray(predictions)
        if p.ndim == 2 and p.shape[1] > 1:
            probs = p
        pred = _labels(p)
    else:
        pred = None
    for what, arr in (("y", true), ("predictions", pred)):
        if arr is not None and len(arr) != len(x):
            raise ValueError(f"{what} has {len(arr)} entries for {len(x)} images")
    if indices is None:
        indices = np.arange(min(int(n), len(x)))
    indices = np.asarray(indices, dtype=np.int64).reshape(-1)
    if len(indices) == 0:
        raise ValueError("no image to draw (n=0, empty x or empty indices)")
    cols = max(1, min(int(cols), len(indices)))
    rows = (len(indices) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(2.0 * cols, 2.3 * rows), squeeze=False)

    def name(k):
        k = int(k)
        return class_names[k] if class_names is not None and 0 <= k < len(class_names) else str(k)

    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), indices):
        ax.imshow(x[i], cmap=plt.cm.binary)
        if pred is not None:
            title = name(pred[i])
            if probs is not None:
                title += f" {100 * float(probs[i].max()):.0f}%"
            color = "black"
            if true is not None:
                title += f"\n({name(true[i])})"
                color = "tab:green" if pred[i] == true[i] else "tab:red"
            ax.set_title(title, fontsize=9, color=color)
        elif true is not None:
            ax.set_title(name(true[i]), fontsize=9)
    fig.tight_layout()
    if path is not None:
        _save(fig, path, dpi)
    return fig


#: Colours of plot_predictions (the TensorFlow tutorial's): right, wrong, other bars.
RIGHT_COLOR = "tab:blue"
WRONG_COLOR = "tab:red"
OTHER_COLOR = "#777777"


def plot_predictions(
    images,
    probabilities,
    true_labels,
    class_names=CLASS_NAMES,
    n=15,
    *,
    cols=3,
    indices=None,
    path=None,
    dpi=100,
):
    """Draws images next to bar charts of their predicted class probabilities.

    The TensorFlow "basic classification" tutorial's ``plot_image`` and
    ``plot_value_array`` side by side, one pair per image: the image is titled
    "Pred (p%) / true" (e.g. "Sneaker (87%) / Sandal"), blue when the
    prediction is right and red, with a red frame, when it is wrong; the bar
    chart shows the probability of every class on a 0-1 scale, grey, with
    the predicted class's bar red and the true class's bar blue (one blue
    bar when the prediction is right).

    Args:
        images: ``(N, 28, 28)``, ``(N, 28, 28, 1)`` or ``(N, 784)``, any scale.
        probabilities: ``model.predict(images)``, shape ``(N, classes)``.
        true_labels: integer labels ``(N,)`` or one-hot ``(N, classes)``.
        class_names: names in label order (Fashion-MNIST's by default); the
            bars are labelled with the class numbers.
        n: how many images: the first ``n`` (or those of ``indices``).
        cols: image + bar-chart pairs per row.
        indices: which images to draw (overrides ``n``), e.g. the wrong ones:
            ``np.flatnonzero(probs.argmax(1) != y)[:15]``.
        path: if given, the figure is saved there as a PNG.
        dpi: resolution of the saved PNG.

    Returns:
        The matplotlib ``Figure``. Its axes come in pairs (image, bars) in
        drawing order; the figure's title counts the wrong predictions.

    Example::

        probs = model.predict(x_test)
        plot_predictions(x_test, probs, y_test, n=15, path="results.png")
    """
    x = _images(images)
    probs = np.asarray(probabilities)
    if probs.ndim != 2 or probs.shape[1] < 2:
        raise ValueError(
            "probabilities must be model.predict's output, shape (N, classes) with at "
            f"least 2 classes; got shape {probs.shape}"
        )
    true = _labels(true_labels)
    for what, count in (("probabilities", len(probs)), ("true_labels", len(true))):
        if count != len(x):
            raise ValueError(f"{what} has {count} entries for {len(x)} images")
    k = probs.shape[1]
    if len(true) and (true.min() < 0 or true.max() >= k):
        raise ValueError(
            f"true_labels must be class numbers in 0..{k - 1} (probabilities has {k} "
            f"columns); got values {int(true.min())}..{int(true.max())}"
        )
    if indices is None:
        indices = np.arange(min(int(n), len(x)))
    indices = np.asarray(indices, dtype=np.int64).reshape(-1)
    if len(indices) == 0:
        raise ValueError("no image to draw (n=0, empty images or empty indices)")
    if indices.min() < -len(x) or indices.max() >= len(x):
        raise ValueError(f"indices must lie in 0..{len(x) - 1}; got {indices.tolist()!r:.80}")
    pred = probs.argmax(axis=1)

    def name(c):
        c = int(c)
        return class_names[c] if class_names is not None and c < len(class_names) else str(c)

    cols = max(1, min(int(cols), len(indices)))
    rows = (len(indices) + cols - 1) // cols
    fig, axes = plt.subplots(rows, 2 * cols, figsize=(4.8 * cols, 2.4 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    wrong = 0
    for slot, i in enumerate(indices):
        ax_img, ax_bar = axes[slot // cols, 2 * (slot % cols)], axes[slot // cols, 2 * (slot % cols) + 1]
        p, t = int(pred[i]), int(true[i])
        right = p == t
        wrong += not right
        color = RIGHT_COLOR if right else WRONG_COLOR

        ax_img.axis("on")
        ax_img.imshow(x[i], cmap=plt.cm.binary)
        ax_img.set_xticks([])
        ax_img.set_yticks([])
        ax_img.set_title(f"{name(p)} ({100 * float(probs[i, p]):.0f}%) / {name(t)}",
                         fontsize=9, color=color)
        for spine in ax_img.spines.values():
            spine.set_visible(not right)
            spine.set_color(WRONG_COLOR)
            spine.set_linewidth(2.5)

        ax_bar.axis("on")
        bars = ax_bar.bar(range(k), probs[i], color=OTHER_COLOR)
        bars[p].set_color(WRONG_COLOR)
        bars[t].set_color(RIGHT_COLOR)
        ax_bar.set_ylim(0, 1)
        ax_bar.set_xticks(range(k))
        ax_bar.tick_params(labelsize=7)
        ax_bar.set_yticks([0, 0.5, 1])
        if slot % cols == 0:
            ax_bar.set_ylabel("Probability", fontsize=8)
        if slot // cols == rows - 1 or slot + cols >= len(indices):
            ax_bar.set_xlabel("Class", fontsize=8)
    fig.suptitle(
        f"Predicted class probabilities: {wrong} of {len(indices)} wrong "
        f"(red: predicted, blue: true class)",
        fontsize=10,
    )
    fig.tight_layout()
    if path is not None:
        _save(fig, path, dpi)
    return fig


def plot_confusion_matrix(
    y_true, y_pred, *, class_names=CLASS_NAMES, normalize=False, path=None, dpi=100
):
    """Draws the confusion matrix (rows: true class, columns: predicted).

    ``y_true`` / ``y_pred``: integer labels, one-hot labels or probabilities.
    ``normalize=True`` shows each row as fractions of that class. Returns the
    ``Figure``.
    """
    t, p = _labels(y_true), _labels(y_pred)
    if len(t) != len(p):
        raise ValueError(f"y_true has {len(t)} labels, y_pred {len(p)}")
    k = max(len(class_names) if class_names is not None else 0, int(max(t.max(), p.max())) + 1)
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (t, p), 1)
    shown = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    fig, ax = plt.subplots(figsize=(1.0 + 0.75 * k, 0.8 + 0.7 * k))
    im = ax.imshow(shown, cmap="Blues")
    fig.colorbar(im, ax=ax)
    names = [class_names[i] if class_names is not None and i < len(class_names) else str(i) for i in range(k)]
    ax.set_xticks(range(k), names, rotation=45, ha="right")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("Predicted")
    ax.set_ylabel("True")
    ax.set_title("Confusion matrix")
    hi = shown.max() / 2 if shown.size else 0
    for i in range(k):
        for j in range(k):
            v = shown[i, j]
            ax.text(j, i, f"{v:.2f}" if normalize else str(v), ha="center", va="center",
                    fontsize=8, color="white" if v > hi else "black")
    fig.tight_layout()
    if path is not None:
        _save(fig, path, dpi)
    return fig
