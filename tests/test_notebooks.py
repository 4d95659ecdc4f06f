"""The notebooks in notebooks/ run, headless, in a real Jupyter kernel.

Every ``notebooks/*.ipynb`` (found by glob: a new notebook is tested as soon as
it is added) is executed top to bottom with nbclient in a temporary
directory, so the files it writes (data CSVs, logs, histories, models) never
land in the repository. Right after its ``parameters`` cell a cell is injected
that shrinks the run (``EPOCHS = 1``, ``TRAIN_SAMPLES = 1000`` unless
``SMALL_PARAMS`` says otherwise for that notebook); any cell error fails the
test (nbclient raises ``CellExecutionError``).

A second test checks that the committed notebooks carry the outputs of a full
run (the real parameters, every code cell executed, no error output).
"""

import ast
import os
import re
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))

# The settings injected after a notebook's parameters cell for the test run.
DEFAULT_SMALL_PARAMS = {"EPOCHS": 1, "TRAIN_SAMPLES": 1000}
# Per notebook, replacing DEFAULT_SMALL_PARAMS (one entry per line).
SMALL_PARAMS = {
    "seed000_cnn.ipynb": {"EPOCHS": 1, "TRAIN_SAMPLES": 1000},
    "seed001_cnn.ipynb": {"EPOCHS": 1, "TRAIN_SAMPLES": 1000},
    "seed002_mlp.ipynb": {"EPOCHS": 2, "MAX_EPOCHS": 2, "TRAIN_SAMPLES": 1000},
    "seed003_mlp.ipynb": {"EPOCHS": 2, "TRAIN_SAMPLES": 1000},
    "seed004_mlp.ipynb": {"EPOCHS": 3, "TRAIN_SAMPLES": 1000},
}

# What a notebook must print (substrings of its text output) and the files it
# must write (globs, relative to its working directory), beyond the checks
# every notebook gets.
EXPECTED_TEXT = {
    "seed000_cnn.ipynb": ["Best validation accuracy:", "Test accuracy:"],
    "seed001_cnn.ipynb": ["Test top-5 accuracy:", "Saved history/fashion-mnist-cnn.png"],
    "seed003_mlp.ipynb": ["Test accuracy:", "Class 6 (Shirt)", "incorrect labels"],
    "seed004_mlp.ipynb": ["Test accuracy:", "Same predictions after loading: True"],
}
EXPECTED_FILES = {
    "seed000_cnn.ipynb": ["data/fashion-mnist-train.zip", "data/fashion-mnist-test.zip"],
    "seed001_cnn.ipynb": [
        "tensorboard_logs/train/events.out.tfevents.*",
        "tensorboard_logs/validation/events.out.tfevents.*",
        "history/fashion-mnist-cnn.pkl",
        "history/fashion-mnist-cnn.png",
    ],
    "seed003_mlp.ipynb": ["data/fashion-mnist_train.csv", "data/fashion-mnist_test.csv"],
    "seed004_mlp.ipynb": ["models/Keras_CNN_model.keras", "results/Results.png"],
}

# "accuracy" followed by a number: "Test accuracy: 0.8871", "accuracy: 0.8871", "accuracy 0.89"
ACCURACY_RE = re.compile(r"accuracy\S*[:=]?\s+(\d*\.\d+)", re.IGNORECASE)
# Chance is 0.10 on 10 balanced classes. Every notebook trains at least one
# epoch on 1000 images, which reaches 0.4-0.7 test accuracy with any of the
# seed models; 0.2 (twice chance) only catches a model that did not learn.
MIN_SMALL_ACCURACY = 0.2

CELL_TIMEOUT = 600  # seconds per cell; the small runs take a few seconds each


def _ids(paths):
    return [p.name for p in paths]


def _parameters_cells(nb):
    return [
        i for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])
    ]


def _assigned_names(source):
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    names.add(t.id)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def _text_outputs(nb):
    out = []
    for c in nb.cells:
        for o in c.get("outputs", []):
            if o.output_type == "stream":
                out.append(o.text)
            elif "data" in o and "text/plain" in o["data"]:
                out.append(o["data"]["text/plain"])
    return "\n".join(out)


def _png_outputs(nb):
    return [
        o for c in nb.cells for o in c.get("outputs", [])
        if "data" in o and "image/png" in o["data"]
    ]


def _draws_figures(nb):
    src = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    return "matplotlib" in src or "plotting" in src or "IPython.display" in src


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory):
    """Makes kernel "python3" start this interpreter, in a small-thread environment.

    nbclient starts the kernel from the kernelspec called "python3" that
    jupyter_client finds first on the Jupyter path. The spec pip's ipykernel
    installs says argv "python", which jupyter_client replaces by
    sys.executable, so a fresh venv works as it is (checked). But a spec
    found earlier on the path can name another interpreter by its absolute
    path: Debian's python3-ipykernel (/usr/bin/python3), or
    `ipykernel install --user` run from another environment (user specs come
    before the environment's outside a venv). That kernel would lack fmnistcpp
    or run another version of it. So a spec for sys.executable is written
    into a temporary prefix (ipykernel's own installer) and that prefix is put
    first on $JUPYTER_PATH, which jupyter_client searches before the user,
    environment and system directories; the spec found is then checked.
    """
    import ipykernel.kernelspec

    prefix = tmp_path_factory.mktemp("jupyter_prefix")
    ipykernel.kernelspec.install(prefix=str(prefix), kernel_name="python3")
    mp = pytest.MonkeyPatch()
    old = os.environ.get("JUPYTER_PATH")
    data_dir = str(prefix / "share" / "jupyter")
    mp.setenv("JUPYTER_PATH", data_dir + (os.pathsep + old if old else ""))
    # The kernel inherits this environment. The machine has few cores, shared:
    # OpenMP with more threads than free cores slows down badly, so at most 2.
    threads = os.environ.get("OMP_NUM_THREADS", "")
    mp.setenv("OMP_NUM_THREADS", threads if threads in ("1", "2") else "1")
    # No MPLBACKEND: the kernel then uses Jupyter's inline backend, whose PNG
    # outputs are checked below (an inherited MPLBACKEND=Agg would hide them).
    mp.delenv("MPLBACKEND", raising=False)
    mp.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    spec = KernelSpecManager().get_kernel_spec("python3")
    assert spec.argv[0] == sys.executable, spec.argv
    assert Path(spec.resource_dir).is_relative_to(prefix), spec.resource_dir
    yield
    mp.undo()


def test_notebooks_found():
    names = _ids(NOTEBOOKS)
    for name in SMALL_PARAMS:
        assert name in names, f"notebooks/{name} is missing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs(path, tmp_path, kernel_env):
    nb = nbformat.read(path, as_version=4)
    params = _parameters_cells(nb)
    assert len(params) == 1, f"{path.name}: expected exactly one cell tagged 'parameters', found {len(params)}"
    p = params[0]
    assigned = _assigned_names(nb.cells[p].source)
    assert {"EPOCHS", "TRAIN_SAMPLES"} <= assigned, f"{path.name}: parameters cell sets {assigned}"
    later = "\n".join(c.source for c in nb.cells[p + 1:] if c.cell_type == "code")
    for name in ("EPOCHS", "TRAIN_SAMPLES"):
        assert re.search(rf"\b{name}\b", later), f"{path.name}: no cell after the parameters uses {name}"

    small = SMALL_PARAMS.get(path.name, DEFAULT_SMALL_PARAMS)
    injected = nbformat.v4.new_code_cell("\n".join(f"{k} = {v!r}" for k, v in small.items()))
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(p + 1, injected)

    # The working directory is a temporary one: whatever the notebook writes
    # stays there. coalesce_streams keeps only the final state of each
    # progress-bar line, as Jupyter displays it.
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
        coalesce_streams=True,
    )
    client.execute()  # raises CellExecutionError on the first failing cell

    for c in nb.cells:
        if c.cell_type == "code":
            assert c.execution_count is not None
            errors = [o for o in c.outputs if o.output_type == "error"]
            assert not errors, errors

    text = _text_outputs(nb)
    accuracies = [float(v) for v in ACCURACY_RE.findall(text)]
    assert accuracies, f"{path.name}: no accuracy printed"
    assert max(accuracies) <= 1.0
    final = re.findall(r"Test accuracy:\s*(\d*\.\d+)", text)
    if final:
        assert float(final[-1]) > MIN_SMALL_ACCURACY, final
    for s in EXPECTED_TEXT.get(path.name, []):
        assert s in text, f"{path.name}: {s!r} not in the outputs"
    if _draws_figures(nb):
        pngs = _png_outputs(nb)
        assert pngs, f"{path.name}: no figure in the outputs"
        import base64

        for o in pngs:
            assert base64.b64decode(o["data"]["image/png"]).startswith(b"\x89PNG\r\n\x1a\n")
    for pattern in EXPECTED_FILES.get(path.name, []):
        assert list(tmp_path.glob(pattern)), f"{path.name} did not write {pattern}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_committed_notebook_has_full_run_outputs(path):
    """The committed notebook shows a full run: real parameters, every code cell executed in order."""
    nb = nbformat.read(path, as_version=4)
    params = _parameters_cells(nb)
    assert len(params) == 1
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    assert re.search(r"^TRAIN_SAMPLES\s*=\s*None\b", nb.cells[params[0]].source, re.M), (
        f"{path.name}: the committed run must use all the data (TRAIN_SAMPLES = None)"
    )
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
    assert None not in counts, f"{path.name}: code cells without outputs of a run: {counts}"
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: cells run out of order: {counts}"
    for c in nb.cells:
        if c.cell_type == "code":
            assert not [o for o in c.outputs if o.output_type == "error"], f"{path.name}: error output"
    assert ACCURACY_RE.search(_text_outputs(nb)), f"{path.name}: no accuracy in the outputs"
    if _draws_figures(nb):
        assert _png_outputs(nb), f"{path.name}: no figure in the outputs"
