"""Command line: ``python -m fmnistcpp`` (or the ``fmnistcpp`` script).

Subcommands:

``train``          trains one of the seed models on Fashion-MNIST, evaluates it on
                   the test set and writes a run folder (history.json,
                   history.png, weights.npz, report.txt);
``graph-history``  plots a saved training history (pickle or JSON), like seed
                   001's ``graph_history`` script;
``models``         lists the seed models ``train`` knows;
``serve``          serves a saved model over TF Serving's REST API with a web page
                   (``fmnistcpp.serving``, the ``serve`` extra).

``main(argv)`` returns the exit code: 0 on success, 2 for bad arguments, 1 when
the work itself failed (missing data file, unreadable history, ...), 130 when
training was interrupted with Ctrl-C (the run folder is still written).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

from . import architectures

__all__ = ["main", "build_parser"]

PROG = "python -m fmnistcpp"


# ---------------------------------------------------------------------------
# argument types


def _number(convert, accept, expected):
    """An argparse type: convert(text), which accept(value) must allow."""

    def parse(text):
        try:
            v = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not accept(v):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return v

    return parse


_positive_int = _number(int, lambda v: v >= 1, "a positive integer")
_nonnegative_int = _number(int, lambda v: v >= 0, "an integer >= 0")
_positive_float = _number(float, lambda v: math.isfinite(v) and v > 0, "a positive number")
_fraction = _number(float, lambda v: 0.0 <= v < 1.0, "a number in [0, 1)")


def _model_name(text):
    try:
        return architectures.get(text).name
    except KeyError as e:
        raise argparse.ArgumentTypeError(e.args[0]) from None


def _models_table() -> str:
    lines = []
    for name, arch in architectures.ARCHITECTURES.items():
        d = arch.defaults
        lines.append(
            f"  {name:<12} {d['optimizer']} lr {d['learning_rate']:g}, batch {d['batch_size']}, "
            f"{d['epochs']} epochs, {d['labels']} labels, input {tuple(d['input_shape'])}"
        )
        lines.extend(
            textwrap.wrap(arch.description, width=78, initial_indent=" " * 15,
                          subsequent_indent=" " * 15)
        )
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# parser


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog=PROG,
        formatter_class=fmt,
        description=(
            "fmnistcpp: Keras 3's API for Fashion-MNIST models, every batch computed by a\n"
            "C++ core on oneDNN. This command trains the seed projects' models and plots\n"
            "training histories; in Python, `import fmnistcpp as keras` instead."
        ),
        epilog=(
            "examples:\n"
            f"  {PROG} train                              # seed 000's CNN, 5 epochs\n"
            f"  {PROG} train --model seed002-mlp --epochs 3 --limit 6000\n"
            f"  {PROG} graph-history runs/seed000-cnn-20240101-120000/history.json\n"
            f"  {PROG} models\n"
            f"  {PROG} serve                              # the newest trained model, port 8501\n\n"
            f"Run `{PROG} COMMAND --help` for a command's options."
        ),
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    # train -----------------------------------------------------------------
    t = sub.add_parser(
        "train",
        formatter_class=fmt,
        help="train a seed model on Fashion-MNIST, evaluate it, write a run folder",
        description=(
            "Loads Fashion-MNIST (offline: see fmnistcpp.datasets.fashion_mnist), preprocesses\n"
            "it as the seed does (pixels / 255, shape (N, 28, 28, 1) for the CNNs, one-hot\n"
            "labels where the seed uses categorical_crossentropy), prints model.summary(),\n"
            "trains with a Keras-style progress bar, evaluates on the 10,000 test images and\n"
            "prints the test accuracy and a per-class precision/recall/f1 report.\n\n"
            "The run folder (--out, default runs/<model>-<YYYYmmdd-HHMMSS>) receives:\n"
            "  history.json  history dict (loss, accuracy, val_loss, val_accuracy per epoch),\n"
            "                fit params, settings, seconds per epoch, test metrics\n"
            "  history.png   the accuracy and loss curves (plotting.plot_history)\n"
            "  weights.npz   model.get_weights() in order, keys w000, w001, ... (Keras shapes)\n"
            "  model.keras   the trained model (model.save), what `serve` serves by default\n"
            "  report.txt    test metrics, per-class report and confusion matrix\n\n"
            "Unset options take the seed's defaults (see the table below)."
        ),
        epilog="models (--model):\n" + _models_table(),
    )
    t.add_argument("--model", "-m", type=_model_name, default="seed000-cnn", metavar="NAME",
                   help="which seed model to train (default: seed000-cnn); see the table below")
    t.add_argument("--epochs", "-e", type=_positive_int, metavar="N",
                   help="number of epochs (default: the model's)")
    t.add_argument("--batch-size", "-b", type=_positive_int, metavar="N",
                   help="samples per gradient step (default: the model's)")
    t.add_argument("--optimizer", choices=architectures.OPTIMIZERS, type=str.lower,
                   help="adam or sgd (default: the model's)")
    t.add_argument("--learning-rate", "--lr", type=_positive_float, metavar="X",
                   help="learning rate (default: the model's; Keras's default for an "
                        "optimizer you change: adam 0.001, sgd 0.01)")
    t.add_argument("--validation-split", type=_fraction, metavar="X",
                   help="fraction of the training samples held out for validation, "
                        "taken from the end as Keras does; 0 disables (default: the model's, 0.2)")
    t.add_argument("--seed", type=_nonnegative_int, metavar="N",
                   help="random seed for weights, shuffling and dropout "
                        "(fmnistcpp.utils.set_random_seed); default: not seeded")
    t.add_argument("--limit", type=_positive_int, metavar="N",
                   help="use only the first N training samples (quick runs, tests); "
                        "the test set is always whole")
    t.add_argument("--out", "-o", metavar="DIR",
                   help="run folder to write (created if needed; default "
                        "runs/<model>-<YYYYmmdd-HHMMSS>)")
    t.add_argument("--verbose", "-v", type=int, choices=(0, 1, 2), metavar="{0,1,2}",
                   help="0 silent, 1 progress bar, 2 one line per epoch (default: Keras's "
                        "'auto', a progress bar)")
    t.add_argument("--threads", type=_positive_int, metavar="N",
                   help="threads the C++ engine uses (fmnistcpp.utils.set_num_threads; "
                        "default: OpenMP's, $OMP_NUM_THREADS or one per core)")
    t.add_argument("--data", metavar="DIR",
                   help="directory holding the four Fashion-MNIST IDX files (plain or .gz); "
                        "default: the usual places, see fmnistcpp.datasets.fashion_mnist")
    t.add_argument("--train-csv", metavar="FILE",
                   help="read the training set from a Kaggle-form CSV (label, 784 pixels; "
                        ".csv, .zip or .gz) instead of the IDX files")
    t.add_argument("--test-csv", metavar="FILE",
                   help="read the test set from a Kaggle-form CSV instead of the IDX files")
    t.set_defaults(func=_cmd_train)

    # graph-history ---------------------------------------------------------
    g = sub.add_parser(
        "graph-history",
        formatter_class=fmt,
        help="plot a saved training history (pickle or JSON) to a PNG",
        description=(
            "Plots the accuracy and loss curves (train and validation) of a saved history,\n"
            "as seed 001's graph_history script does. FILE may hold the History.history dict\n"
            "as a pickle (pickle.dump(history.history, f)) or as JSON, or be the history.json\n"
            "of a `train` run. Only plot pickles you trust: unpickling can run code."
        ),
    )
    g.add_argument("file", metavar="FILE", help="pickle or JSON file of a history dict")
    g.add_argument("--out", "-o", metavar="PNG",
                   help="where to write the PNG (default: FILE with the suffix .png)")
    g.add_argument("--metrics", metavar="NAMES",
                   help="comma-separated metrics to plot, one panel each "
                        "(default: accuracy,loss)")
    g.add_argument("--show", action="store_true",
                   help="also open the figure in a window (needs a display)")
    g.set_defaults(func=_cmd_graph_history)

    # models ----------------------------------------------------------------
    m = sub.add_parser("models", help="list the seed models and their training defaults",
                       description="Lists the seed models `train --model` accepts.")
    m.set_defaults(func=_cmd_models)

    # serve -----------------------------------------------------------------
    v = sub.add_parser(
        "serve", help="serve a model over TF Serving's REST API, with a web page",
        description="Serves a .keras/.h5 model: GET /v1/models/NAME[/metadata], POST\n"
                    "/v1/models/NAME:predict and :classify (a photo), and a web page at /.\n"
                    "See docs/SERVING.md. Needs the serve extra: pip install 'fmnistcpp[serve]'.",
        formatter_class=fmt,
    )
    v.add_argument("model", nargs="?", metavar="MODEL",
                   help="model file (default: the newest runs/*/model.keras `train` wrote)")
    v.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    v.add_argument("--port", type=_nonnegative_int, default=8501,
                   help="port (default: 8501, TF Serving's REST port; 0 picks a free one)")
    v.add_argument("--name", metavar="NAME", help="model name in the URLs (default: fashion_mnist)")
    v.add_argument("--max-batch-size", type=_positive_int, default=256, metavar="N",
                   help="rows per predict when requests are batched; 1 serves one request at a "
                        "time (default: 256)")
    v.add_argument("--batch-timeout-ms", type=_number(float, lambda x: 0 <= x <= 1000, "0-1000 ms"),
                   default=0.0, metavar="MS",
                   help="wait up to MS for more requests to join a batch (default: 0, take "
                        "only those already waiting)")
    v.add_argument("--max-body-mb", type=_positive_float, default=16.0, metavar="MB",
                   help="largest request body accepted (default: 16)")
    v.add_argument("--threads", type=_positive_int, metavar="N",
                   help="threads the C++ engine uses (default: OpenMP's)")
    v.add_argument("--access-log", action="store_true", help="log every request")
    v.set_defaults(func=_cmd_serve)
    return parser


# ---------------------------------------------------------------------------
# helpers


def _version() -> str:
    v = getattr(_package(), "__version__", None)
    if v:
        return str(v)
    try:
        from importlib.metadata import version

        return version("fmnistcpp")
    except Exception:  # noqa: BLE001 - not installed (running from source)
        return "unknown"


def _package():
    import importlib

    return importlib.import_module(__package__ or "fmnistcpp")


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        return float(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (bool, int, str)) or obj is None:
        return obj
    return str(obj)


def _fmt_seconds(s: float) -> str:
    return f"{s:.2f}s" if s < 60 else f"{int(s // 60)}m{s % 60:04.1f}s"


def _classification_report(y_true, y_pred, names):
    """Returns (title line, report text, per-class dict, confusion matrix),
    all from scikit-learn (a dependency: the report users know)."""
    from sklearn.metrics import classification_report, confusion_matrix

    labels = list(range(len(names)))
    per_class = classification_report(
        y_true, y_pred, labels=labels, target_names=list(names), zero_division=0,
        output_dict=True,
    )
    per_class = {n: {k: (int(v) if k == "support" else float(v)) for k, v in per_class[n].items()}
                 for n in names}
    text = classification_report(
        y_true, y_pred, labels=labels, target_names=list(names), digits=4, zero_division=0,
    )
    cm = confusion_matrix(y_true, y_pred, labels=labels)
    return "Per-class report (sklearn.metrics.classification_report):", text.rstrip(), per_class, cm


def _confusion_text(cm, names) -> str:
    corner = "true \\ predicted"
    first = max(len(corner), max(len(n) for n in names))
    col = max(max(len(n) for n in names), len(str(int(cm.max()))))
    lines = [f"{corner:>{first}}  " + " ".join(f"{n:>{col}}" for n in names)]
    for n, row in zip(names, cm):
        lines.append(f"{n:>{first}}  " + " ".join(f"{v:>{col}d}" for v in row))
    return "\n".join(lines)


def _default_run_dir(model_name: str) -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path("runs") / f"{model_name}-{stamp}"
    path, i = base, 1
    while path.exists():
        path = base.with_name(f"{base.name}-{i}")
        i += 1
    return path


def _load_sets(args):
    from .datasets import fashion_mnist

    need_idx = not (args.train_csv and args.test_csv)
    train = test = None
    if need_idx:
        train, test = fashion_mnist.load_data(path=args.data)
    if args.train_csv:
        train = fashion_mnist.load_csv(args.train_csv)
    if args.test_csv:
        test = fashion_mnist.load_csv(args.test_csv)
    return train, test


def _error(cmd: str, msg: str) -> int:
    print(f"{PROG} {cmd}: error: {msg}", file=sys.stderr)
    return 1


# ---------------------------------------------------------------------------
# train


def _cmd_train(args) -> int:
    try:
        return _train(args)
    except (FileNotFoundError, NotADirectoryError, PermissionError) as e:
        return _error("train", str(e))


def _make_recorder(callbacks_mod):
    base = getattr(callbacks_mod, "Callback", None)
    if base is None:  # no callback support: only the total fit time is known
        return None

    class _Recorder(base):
        """Records per-epoch logs and wall times (also kept if training is interrupted)."""

        def __init__(self):
            super().__init__()
            self.t0 = time.perf_counter()
            self.begin = None
            self.times = []
            self.logs = {}
            self.epochs = []

        def on_epoch_begin(self, epoch, logs=None):
            self.begin = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            now = time.perf_counter()
            prev = self.begin if self.begin is not None else (self.t0 + sum(self.times))
            self.times.append(now - prev)
            self.begin = None
            self.epochs.append(int(epoch))
            for k, v in (logs or {}).items():
                self.logs.setdefault(k, []).append(float(v))

    return _Recorder()


def _train(args) -> int:
    keras = _package()
    from . import plotting
    from .datasets.fashion_mnist import CLASS_NAMES

    name = args.model
    cfg = architectures.defaults(name)
    epochs = args.epochs or cfg["epochs"]
    batch_size = args.batch_size or cfg["batch_size"]
    optimizer = args.optimizer or cfg["optimizer"]
    lr = args.learning_rate
    if lr is None:
        lr = cfg["learning_rate"] if optimizer == cfg["optimizer"] else architectures.DEFAULT_LEARNING_RATES[optimizer]
    val_split = cfg["validation_split"] if args.validation_split is None else args.validation_split
    verbose = "auto" if args.verbose is None else args.verbose

    run_dir = Path(args.out) if args.out else _default_run_dir(name)
    if run_dir.exists() and not run_dir.is_dir():
        return _error("train", f"--out {str(run_dir)!r} exists and is not a directory")

    # data ------------------------------------------------------------------
    (x_train, y_train), (x_test, y_test) = _load_sets(args)
    if args.limit is not None:
        x_train, y_train = x_train[: args.limit], y_train[: args.limit]
    n_train = len(x_train)
    # Keras's split: the last fraction, before shuffling, floor(n * (1 - split)) kept
    n_val = n_train - int(math.floor(n_train * (1.0 - val_split))) if val_split > 0 else 0
    if val_split > 0 and (n_val == 0 or n_val == n_train):
        return _error(
            "train",
            f"--validation-split {val_split:g} of {n_train} training samples leaves "
            f"{n_val} for validation and {n_train - n_val} for training; use more samples "
            f"(--limit) or another split (0 disables validation)",
        )
    x_train, y_train_enc = architectures.prepare(x_train, y_train, cfg)
    x_test, y_test_enc = architectures.prepare(x_test, y_test, cfg)
    y_test_int = np.asarray(y_test).reshape(-1).astype(np.int64)

    if args.threads is not None:
        setter = getattr(keras.utils, "set_num_threads", None)
        if setter is None:
            return _error("train", "--threads: this build cannot set the number of threads")
        setter(args.threads)
    threads = getattr(keras.utils, "get_num_threads", lambda: None)()
    if args.seed is not None:
        keras.utils.set_random_seed(args.seed)
    model, _ = architectures.build(name)
    architectures.compile_model(model, cfg, optimizer=optimizer, learning_rate=lr)

    print(f"fmnistcpp {_version()} - {cfg['description']}")
    print(
        f"Data: {n_train} training images ({n_train - n_val} train, {n_val} validation), "
        f"{len(x_test)} test images; input {tuple(cfg['input_shape'])}, {cfg['labels']} labels"
    )
    print(
        f"Training: {optimizer} lr {lr:g}, {cfg['loss']}, batch {batch_size}, "
        f"{epochs} epoch{'s' if epochs != 1 else ''}, validation_split {val_split:g}"
        + (f", seed {args.seed}" if args.seed is not None else "")
        + (f", {threads} thread{'s' if threads != 1 else ''}" if threads else "")
    )
    model.summary()
    sys.stdout.flush()

    recorder = _make_recorder(getattr(keras, "callbacks", None))
    callbacks = [recorder] if recorder is not None else []
    if recorder is None:
        recorder = argparse.Namespace(times=[], logs={}, epochs=[])
    interrupted = False
    history = None
    t_fit = time.perf_counter()
    try:
        history = model.fit(
            x_train,
            y_train_enc,
            batch_size=batch_size,
            epochs=epochs,
            verbose=verbose,
            validation_split=val_split,
            callbacks=callbacks,
        )
    except KeyboardInterrupt:
        interrupted = True
        print(f"\nTraining interrupted after {len(recorder.epochs)} complete epoch(s); "
              f"evaluating the model as it is.", flush=True)
    fit_time = time.perf_counter() - t_fit

    if history is not None:
        hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
        epoch_ids = [int(e) for e in getattr(history, "epoch", recorder.epochs)]
        params = dict(getattr(history, "params", {}) or {})
    else:
        hist, epoch_ids, params = recorder.logs, recorder.epochs, {}

    # test ------------------------------------------------------------------
    eval_bs = max(batch_size, 256)
    result = model.evaluate(x_test, y_test_enc, batch_size=eval_bs, verbose=0)
    names = ["loss"] + list(cfg["metrics"])
    values = result if isinstance(result, (list, tuple)) else [result]
    test_metrics = {n: float(v) for n, v in zip(names, values)}
    probs = np.asarray(model.predict(x_test, batch_size=eval_bs, verbose=0))
    y_pred = probs.argmax(axis=1)
    correct = int((y_pred == y_test_int).sum())
    test_acc = test_metrics.get("accuracy", correct / len(y_test_int))

    print()
    print(f"Test loss: {test_metrics['loss']:.4f}")
    print(f"Test accuracy: {test_acc:.4f} ({correct}/{len(y_test_int)} correct)")
    title, report, per_class, cm = _classification_report(y_test_int, y_pred, CLASS_NAMES)
    print(title)
    print(report)
    if recorder.times:
        print("Seconds per epoch: " + ", ".join(f"{t:.2f}" for t in recorder.times)
              + f" (fit total {fit_time:.2f}s)")

    # run folder ------------------------------------------------------------
    run_dir.mkdir(parents=True, exist_ok=True)
    record = {
        "model": name,
        "description": cfg["description"],
        "fmnistcpp_version": _version(),
        "created": _dt.datetime.now().isoformat(timespec="seconds"),
        "settings": {
            "epochs": epochs,
            "batch_size": batch_size,
            "optimizer": optimizer,
            "learning_rate": lr,
            "loss": cfg["loss"],
            "metrics": list(cfg["metrics"]),
            "labels": cfg["labels"],
            "input_shape": list(cfg["input_shape"]),
            "validation_split": val_split,
            "seed": args.seed,
            "threads": threads,
            "limit": args.limit,
            "train_samples": n_train - n_val,
            "validation_samples": n_val,
            "test_samples": int(len(y_test_int)),
        },
        "history": hist,
        "epoch": epoch_ids,
        "params": params,
        "epoch_times": recorder.times,
        "fit_time": fit_time,
        "interrupted": interrupted,
        "test": dict(test_metrics, accuracy=test_acc, correct=correct),
        "per_class": per_class,
        "confusion_matrix": cm.tolist(),
    }
    with open(run_dir / "history.json", "w", encoding="utf-8") as f:
        json.dump(_jsonable(record), f, indent=2)
        f.write("\n")

    weights = model.get_weights()
    np.savez(run_dir / "weights.npz", **{f"w{i:03d}": np.asarray(w) for i, w in enumerate(weights)})
    model.save(run_dir / "model.keras")  # what `serve` loads

    png = None
    if hist and any(len(v) for v in hist.values()):
        fig = plotting.plot_history(hist, path=run_dir / "history.png")
        plotting.plt.close(fig)
        png = run_dir / "history.png"

    lines = [
        f"fmnistcpp {_version()} run of {name}",
        cfg["description"],
        "",
        "Settings: " + ", ".join(f"{k}={v}" for k, v in record["settings"].items()),
        "",
    ]
    for i, e in enumerate(epoch_ids):
        parts = [f"{k}: {v[i]:.4f}" for k, v in hist.items() if i < len(v)]
        t = f" - {recorder.times[i]:.2f}s" if i < len(recorder.times) else ""
        lines.append(f"Epoch {e + 1}/{epochs}{t} - " + " - ".join(parts))
    if interrupted:
        lines.append(f"(interrupted after {len(epoch_ids)} epoch(s))")
    lines += [
        "",
        f"Test loss: {test_metrics['loss']:.4f}",
        f"Test accuracy: {test_acc:.4f} ({correct}/{len(y_test_int)} correct)",
        "",
        title,
        report,
        "",
        "Confusion matrix (rows: true class, columns: predicted):",
        _confusion_text(cm, CLASS_NAMES),
        "",
        "Files: history.json (history, params, settings, test metrics, seconds per epoch),",
        "history.png (curves), weights.npz (model.get_weights(), keys w000, w001, ...),",
        "model.keras (the model; `python -m fmnistcpp serve` serves it).",
        "To restore the model in Python:",
        "    import numpy as np",
        "    from fmnistcpp import architectures",
        f"    model, cfg = architectures.build({name!r})",
        "    w = np.load('weights.npz')",
        "    model.set_weights([w[k] for k in sorted(w.files)])",
        "",
    ]
    (run_dir / "report.txt").write_text("\n".join(lines), encoding="utf-8")

    print(f"Run folder: {run_dir}" + ("" if png else " (no history.png: no epoch completed)"))
    return 130 if interrupted else 0


# ---------------------------------------------------------------------------
# graph-history


def _cmd_graph_history(args) -> int:
    from . import plotting

    src = Path(args.file)
    out = Path(args.out) if args.out else src.with_suffix(".png")
    if out.resolve() == src.resolve():
        return _error("graph-history", f"--out {str(out)!r} would overwrite the history file")
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics else None
    try:
        fig = plotting.plot_history(src, metrics=metrics, path=out)
    except (OSError, ValueError, TypeError) as e:
        return _error("graph-history", str(e))
    print(f"Saved {out}")
    if args.show:
        import matplotlib

        if matplotlib.get_backend().lower() == "agg":
            print("(--show: no display, the figure was only saved)", file=sys.stderr)
        else:
            plotting.plt.show()
    plotting.plt.close(fig)
    return 0


# ---------------------------------------------------------------------------
# models


def _cmd_models(args) -> int:
    print("Seed models (python -m fmnistcpp train --model NAME):")
    print(_models_table())
    return 0


# ---------------------------------------------------------------------------
# serve


def _cmd_serve(args) -> int:
    from .serving import server

    if args.threads is not None:
        _package().utils.set_num_threads(args.threads)
    return server.run(args.model, host=args.host, port=args.port, name=args.name,
                      max_batch_size=args.max_batch_size, batch_timeout_ms=args.batch_timeout_ms,
                      max_body_mb=args.max_body_mb, access_log=args.access_log)


# ---------------------------------------------------------------------------


def main(argv=None) -> int:
    """Runs the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help (0) or a bad argument (2)
        code = e.code
        return code if isinstance(code, int) else (0 if code is None else 2)
    if args.version:
        print(f"fmnistcpp {_version()}")
        return 0
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    return int(args.func(args))
