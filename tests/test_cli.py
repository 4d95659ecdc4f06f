"""`python -m fmnistcpp`: the train / graph-history / models commands."""

import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

from fmnistcpp import architectures, cli
from fmnistcpp.datasets.fashion_mnist import CLASS_NAMES

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
KNOWN = ["seed000-cnn", "seed001-cnn", "seed002-mlp", "seed003-mlp", "seed004-mlp"]


def run_cli(*args, timeout=600):
    env = dict(os.environ, PYTHONUNBUFFERED="1", MPLBACKEND="Agg")
    return subprocess.run(
        [sys.executable, "-m", "fmnistcpp", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@pytest.fixture(scope="module")
def mlp_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "seed002"
    proc = run_cli(
        "train", "--model", "seed002-mlp", "--epochs", 1, "--limit", 3000,
        "--seed", 7, "--verbose", 2, "--threads", 1, "--out", out,
    )
    return proc, out


def test_train_exit_code_and_output(mlp_run):
    proc, out = mlp_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Test accuracy" in proc.stdout
    for name in CLASS_NAMES:
        assert name in proc.stdout, name
    assert "Total params" in proc.stdout  # model.summary()
    assert "101,770" in proc.stdout  # seed 002's parameter count, as Keras prints it
    assert f"Run folder: {out}" in proc.stdout


def test_train_history_json(mlp_run):
    proc, out = mlp_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = json.loads((out / "history.json").read_text())
    hist = record["history"]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert len(hist[key]) == 1, key
        assert np.isfinite(hist[key][0])
    assert 0.0 <= hist["accuracy"][0] <= 1.0
    assert record["model"] == "seed002-mlp"
    assert record["epoch"] == [0]
    assert record["params"]["epochs"] == 1
    assert len(record["epoch_times"]) == 1 and record["epoch_times"][0] > 0
    s = record["settings"]
    assert (s["train_samples"], s["validation_samples"], s["test_samples"]) == (2400, 600, 10000)
    assert s["batch_size"] == 32 and s["optimizer"] == "adam" and s["seed"] == 7
    assert s["threads"] == 1
    test = record["test"]
    # 1 epoch on 2,400 images: far better than chance (0.1), far from perfect
    assert 0.5 < test["accuracy"] < 0.95
    assert test["loss"] > 0
    assert test["correct"] == round(test["accuracy"] * 10000)
    assert sorted(record["per_class"]) == sorted(CLASS_NAMES)
    cm = np.array(record["confusion_matrix"])
    assert cm.shape == (10, 10) and cm.sum() == 10000
    assert (cm.sum(axis=1) == 1000).all()  # 1,000 test images per class
    assert np.trace(cm) == test["correct"]


def test_train_png_weights_report(mlp_run):
    proc, out = mlp_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    png = (out / "history.png").read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 5000
    with np.load(out / "weights.npz") as w:
        assert w.files == ["w000", "w001", "w002", "w003"]
        assert [w[k].shape for k in w.files] == [(784, 128), (128,), (128, 10), (10,)]
        assert all(w[k].dtype == np.float32 for k in w.files)
        assert np.abs(w["w000"]).max() > 0
    report = (out / "report.txt").read_text()
    assert "Test accuracy" in report and "Confusion matrix" in report
    for name in CLASS_NAMES:
        assert name in report


def test_unknown_model_lists_known_ones(tmp_path):
    proc = run_cli("train", "--model", "resnet50", "--out", tmp_path / "x", timeout=120)
    assert proc.returncode != 0
    assert "resnet50" in proc.stderr
    for name in KNOWN:
        assert name in proc.stderr
    assert not (tmp_path / "x").exists()


def test_graph_history_from_pickle(tmp_path):
    hist = {"loss": [0.6, 0.4], "accuracy": [0.78, 0.85],
            "val_loss": [0.5, 0.45], "val_accuracy": [0.82, 0.84]}
    src = tmp_path / "history.pkl"
    with open(src, "wb") as f:
        pickle.dump(hist, f)
    out = tmp_path / "plots" / "curves.png"
    proc = run_cli("graph-history", src, "--out", out, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes().startswith(PNG_MAGIC)
    assert str(out) in proc.stdout
    # default output: next to the file, suffix .png
    assert cli.main(["graph-history", str(src)]) == 0
    assert (tmp_path / "history.png").read_bytes().startswith(PNG_MAGIC)


def test_graph_history_bad_file(tmp_path, capsys):
    bad = tmp_path / "h.pkl"
    bad.write_bytes(b"garbage")
    assert cli.main(["graph-history", str(bad), "--out", str(tmp_path / "h.png")]) == 1
    assert "neither JSON nor a pickle" in capsys.readouterr().err
    assert cli.main(["graph-history", str(tmp_path / "nope.pkl")]) == 1
    assert not (tmp_path / "h.png").exists()


def test_help(capsys):
    assert cli.main(["--help"]) == 0
    text = capsys.readouterr().out
    for word in ("train", "graph-history", "models"):
        assert word in text
    assert cli.main(["train", "--help"]) == 0
    text = capsys.readouterr().out
    for opt in ("--model", "--epochs", "--batch-size", "--optimizer", "--learning-rate",
                "--validation-split", "--seed", "--limit", "--out", "--verbose", "--threads"):
        assert opt in text, opt
    for name in KNOWN:
        assert name in text
    assert cli.main(["graph-history", "--help"]) == 0
    assert "--out" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["train", "--epochs", "0"], "--epochs"),
        (["train", "--batch-size", "-3"], "--batch-size"),
        (["train", "--learning-rate", "nan"], "--learning-rate"),
        (["train", "--validation-split", "1.5"], "--validation-split"),
        (["train", "--optimizer", "rmsprop"], "--optimizer"),
        (["train", "--verbose", "3"], "--verbose"),
        (["train", "--limit", "abc"], "--limit"),
        (["train", "--threads", "0"], "--threads"),
        (["train", "--model", "seed9"], "known models"),
        (["fly"], "invalid choice"),
    ],
)
def test_bad_arguments(argv, needle, capsys):
    assert cli.main(argv) == 2
    assert needle in capsys.readouterr().err


def test_no_command_prints_usage(capsys):
    assert cli.main([]) == 2
    assert "usage" in capsys.readouterr().err


def test_models_command(capsys):
    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    for name in KNOWN:
        assert name in out


def test_validation_split_too_large_for_limit(tmp_path, capsys):
    rc = cli.main(["train", "--model", "seed003-mlp", "--limit", "1", "--validation-split",
                   "0.2", "--out", str(tmp_path / "r")])
    assert rc == 1
    assert "validation" in capsys.readouterr().err


def test_missing_data_dir(tmp_path, capsys):
    rc = cli.main(["train", "--model", "seed003-mlp", "--data", str(tmp_path), "--out",
                   str(tmp_path / "r")])
    assert rc == 1
    assert "Fashion-MNIST" in capsys.readouterr().err


# --- the architecture registry the CLI trains from -------------------------

PARAMS = {  # parameter counts of the same models in Keras
    "seed000-cnn": 2_336_558,
    "seed001-cnn": 3_709_626,
    "seed002-mlp": 101_770,
    "seed003-mlp": 25_450,
    "seed004-mlp": 238_314,
}


@pytest.mark.parametrize("name", KNOWN)
def test_architectures(name):
    assert architectures.names() == KNOWN
    model, cfg = architectures.build(name)
    assert cfg["name"] == name and cfg["description"].startswith("Seed " + name[4:7])
    weights = model.get_weights()
    assert sum(int(np.prod(w.shape)) for w in weights) == PARAMS[name]
    cnn = name.endswith("cnn")
    assert tuple(cfg["input_shape"]) == ((28, 28, 1) if cnn else (28, 28))
    assert cfg["labels"] == ("onehot" if name == "seed000-cnn" else "sparse")
    assert cfg["loss"] == ("categorical_crossentropy" if cfg["labels"] == "onehot"
                           else "sparse_categorical_crossentropy")
    x = np.full((3, 28, 28), 255, dtype=np.uint8)
    y = np.array([0, 3, 9], dtype=np.uint8)
    xp, yp = architectures.prepare(x, y, cfg)
    assert xp.dtype == np.float32 and xp.shape == (3,) + tuple(cfg["input_shape"])
    assert xp.max() == 1.0
    if cfg["labels"] == "onehot":
        np.testing.assert_array_equal(yp.argmax(axis=1), y)
    else:
        np.testing.assert_array_equal(yp, y)
    architectures.compile_model(model, cfg)
    probs = np.asarray(model.predict(xp, verbose=0))
    assert probs.shape == (3, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_architecture_defaults_and_lookup():
    d = architectures.get("seed004-mlp").defaults
    assert (d["optimizer"], d["learning_rate"], d["batch_size"], d["epochs"]) == ("sgd", 0.02, 32, 30)
    d = architectures.defaults("seed000-cnn")
    assert (d["batch_size"], d["epochs"], d["validation_split"]) == (100, 5, 0.2)
    d = architectures.defaults("seed001-cnn")
    assert (d["batch_size"], d["learning_rate"]) == (64, 0.001)
    assert architectures.get("seed002").name == "seed002-mlp"
    assert architectures.get("2").name == "seed002-mlp"
    d["epochs"] = 999  # a fresh copy each time
    assert architectures.defaults("seed001-cnn")["epochs"] == 20
    with pytest.raises(KeyError, match="known models: seed000-cnn"):
        architectures.get("seed")
    with pytest.raises(ValueError, match="unknown optimizer"):
        architectures.make_optimizer("rmsprop")
