"""fmnistcpp vs Keras 3 (TensorFlow CPU) vs PyTorch (eager, CPU): the same
seed models trained on the same data, side by side on this machine.

Every framework gets the same architecture (the seed model of
``fmnistcpp.architectures``; Keras's is rebuilt from fmnistcpp's layer
configs, PyTorch's mirrors the layer shapes with Glorot-uniform init), the
same preprocessing (``architectures.prepare``), the same training data (the
first 80 % of the Fashion-MNIST training set, i.e. what ``validation_split=0.2``
trains on; no validation during the timed epochs), batch size, optimizer
(Keras defaults: Adam betas 0.9/0.999, eps 1e-7), loss and thread count.

Each (framework, model) run is its own subprocess (fresh thread pools,
its own peak RSS) and the frameworks alternate: for each repeat, for each
model, fmnistcpp then Keras then PyTorch. Reported per model and framework:
median epoch time after a warm-up epoch, training GFLOP/s (analytic FLOPs,
``flops.py``) against the machine's SGEMM peak (``gemm_peak.py``), predict
throughput on the test images, peak RSS during fit, final test accuracy, and
fmnistcpp's speed-ups.

    python benchmarks/compare_frameworks.py                       # 3 models, 4 epochs, 2 threads
    python benchmarks/compare_frameworks.py --repeats 3 --models seed000-cnn
    python benchmarks/compare_frameworks.py --quick --frameworks fmnistcpp keras
    python benchmarks/compare_frameworks.py --models seed000-cnn --repeats 3 --load numpy
    python benchmarks/compare_frameworks.py --models seed000-cnn --precision mixed_bfloat16

``--load numpy`` starts a 2-thread NumPy matrix-product loop
(``numpy_load.py``) beside every run, as a second notebook training on the
same machine would, and reports its GFLOP/s during the timed epochs next to
its throughput alone, so a framework cannot look fast by starving it.
``--precision mixed_bfloat16`` trains Keras under
``keras.mixed_precision.set_global_policy("mixed_bfloat16")``, PyTorch under
``torch.autocast("cpu", dtype=torch.bfloat16)`` and fmnistcpp under its own
``fmnistcpp.mixed_precision.set_global_policy``. The report names the CPU
and the ISA and kernels oneDNN dispatched (``onednn_isa.py``).

Writes ``<out-dir>/compare_frameworks-<timestamp>.{md,json,png}`` (default
``benchmarks/results``) and prints the Markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.metadata
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import flops as flops_mod  # noqa: E402
import gemm_peak  # noqa: E402
import numpy_load  # noqa: E402
import onednn_isa  # noqa: E402

FRAMEWORKS = ("fmnistcpp", "keras", "torch")
LABELS = {"fmnistcpp": "fmnistcpp", "keras": "Keras 3 / TF", "torch": "PyTorch eager"}
DEFAULT_MODELS = ("seed000-cnn", "seed001-cnn", "seed002-mlp")
#: Predict batch per framework: Keras's default (32) for Keras and fmnistcpp
#: (whose default is Keras's), 1000 for PyTorch (no default; a typical eval loop).
PREDICT_BATCH = {"fmnistcpp": 32, "keras": 32, "torch": 1000}
QUICK = {"n_train": 3000, "epochs": 2, "n_test": 1000, "gemm_sizes": [1024], "gemm_runs": 3}
FULL = {"n_train": None, "epochs": 4, "n_test": None, "gemm_sizes": [2048, 4096], "gemm_runs": 5}
PRECISIONS = ("float32", "mixed_bfloat16")
LOADS = ("none", "numpy")


class PolicyUnavailable(RuntimeError):
    """The framework under test has no such precision policy (reported, not a failure)."""


# ---------------------------------------------------------------------------
# worker: one (framework, model) run in its own process


def _load(model_name: str, n_train, n_test):
    import numpy as np

    import fmnistcpp
    from fmnistcpp import architectures

    cfg = architectures.defaults(model_name)
    (x, y), (xt, yt) = fmnistcpp.datasets.fashion_mnist.load_data()
    x, y = architectures.prepare(x, y, cfg)
    xt, yt = architectures.prepare(xt, yt, cfg)
    n = int(len(x) * (1 - cfg["validation_split"]))  # what validation_split trains on
    n = min(n, n_train) if n_train else n
    nt = min(len(xt), n_test) if n_test else len(xt)
    y_int = np.argmax(yt, axis=1) if yt.ndim == 2 else yt
    return cfg, x[:n], y[:n], xt[:nt], np.asarray(y_int[:nt])


def _epoch_timer(base):
    class EpochTimer(base):
        def __init__(self):
            super().__init__()
            self.times, self.windows = [], []

        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            t1 = time.perf_counter()
            self.times.append(t1 - self.t0)
            # perf_counter is CLOCK_MONOTONIC, shared with the load process's log
            self.windows.append((self.t0, t1))

    return EpochTimer()


def _time_predict(fn, repeats=3):
    out = fn()  # warm-up (graph tracing, primitive creation)
    secs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        secs.append(time.perf_counter() - t0)
    return out, secs


def set_precision(framework, precision):
    """Sets a Keras-shaped framework's global dtype policy the way a user
    would; raises PolicyUnavailable when fmnistcpp has no such API yet."""
    if precision == "float32":
        return
    if framework == "fmnistcpp":
        import fmnistcpp

        mp = getattr(fmnistcpp, "mixed_precision", None)
        if mp is None or not hasattr(mp, "set_global_policy"):
            raise PolicyUnavailable(
                f"fmnistcpp {fmnistcpp.__version__} has no "
                f"fmnistcpp.mixed_precision.set_global_policy: {precision!r} is not available "
                "in this build")
        mp.set_global_policy(precision)
    else:
        import keras

        keras.mixed_precision.set_global_policy(precision)


def compiled_model(framework, model_name, cfg, threads, seed, precision="float32"):
    """A seed model compiled as its seed compiles it, in fmnistcpp or in Keras
    (rebuilt layer by layer from fmnistcpp's layer configs, so both train the
    same architecture), with the framework's thread count, random seed and
    global dtype policy set. Returns (model, framework module, version string)."""
    from fmnistcpp import architectures

    set_precision(framework, precision)
    if framework == "fmnistcpp":
        import fmnistcpp as lib

        lib.utils.set_num_threads(threads)
        lib.utils.set_random_seed(seed)
        model, _ = architectures.build(model_name)
        version = lib.__version__
    else:
        import keras as lib
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
        lib.utils.set_random_seed(seed)
        model = architectures.build_in(lib, model_name)
        version = f"keras {lib.__version__}, tensorflow {tf.__version__}"
    opt = (lib.optimizers.Adam(learning_rate=cfg["learning_rate"]) if cfg["optimizer"] == "adam"
           else lib.optimizers.SGD(learning_rate=cfg["learning_rate"]))
    model.compile(optimizer=opt, loss=cfg["loss"], metrics=["accuracy"])
    return model, lib, version


def _run_keras_like(framework, model_name, cfg, x, y, xt, epochs, threads, seed, precision):
    model, lib, version = compiled_model(framework, model_name, cfg, threads, seed, precision)
    timer = _epoch_timer(lib.callbacks.Callback)
    model.fit(x, y, batch_size=cfg["batch_size"], epochs=epochs, shuffle=True,
              callbacks=[timer], verbose=0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    probs, secs = _time_predict(lambda: model.predict(xt, verbose=0))  # default batch (32)
    return timer.times, timer.windows, rss, probs, secs, version


def torch_model(specs):
    """An ``nn.Sequential`` mirroring ``flops.layer_specs`` (channels-first, logits out).

    Valid padding, ReLU where the Keras layer has it, the final softmax left to
    ``CrossEntropyLoss``; Glorot-uniform weights and zero biases as in Keras.
    """
    from torch import nn

    mods = []
    for s in specs:
        kind, cfg = s["kind"], s["config"]
        act = cfg.get("activation", "linear")
        if kind == "Conv2D":
            if cfg.get("padding", "valid") != "valid":
                raise ValueError("only padding='valid' is mirrored")
            mods.append(nn.Conv2d(s["in"][-1], s["out"][-1], tuple(cfg["kernel_size"]),
                                  stride=tuple(cfg.get("strides", (1, 1)))))
        elif kind == "Dense":
            mods.append(nn.Linear(s["in"][-1], s["out"][-1]))
        elif kind == "MaxPooling2D":
            mods.append(nn.MaxPool2d(tuple(cfg["pool_size"]),
                                     stride=tuple(cfg.get("strides") or cfg["pool_size"])))
        elif kind == "Dropout":
            mods.append(nn.Dropout(cfg["rate"]))
        elif kind == "Flatten":
            mods.append(nn.Flatten())
        else:
            raise ValueError(f"torch mirror: unsupported layer {kind}")
        if act == "relu":
            mods.append(nn.ReLU())
        elif act not in ("linear", None) and not (act == "softmax" and s is specs[-1]):
            raise ValueError(f"torch mirror: unsupported activation {act!r}")
    model = nn.Sequential(*mods)
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def _run_torch(model_name, cfg, x, y, xt, epochs, threads, seed, precision):
    import contextlib

    import numpy as np
    import torch

    # PyTorch's CPU mixed precision: autocast around forward and loss (the
    # recipe of its AMP docs); weights, gradients and Adam stay float32.
    def autocast():
        if precision == "mixed_bfloat16":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    torch.set_num_threads(threads)
    torch.set_num_interop_threads(threads)
    torch.manual_seed(seed)
    specs, _ = flops_mod.model_specs(model_name)
    model = torch_model(specs)
    y_int = np.argmax(y, axis=1) if y.ndim == 2 else y
    X = torch.from_numpy(x)
    Xt = torch.from_numpy(xt)
    if X.dim() == 4:  # NHWC -> NCHW, PyTorch's default layout
        X = X.permute(0, 3, 1, 2).contiguous()
        Xt = Xt.permute(0, 3, 1, 2).contiguous()
    Y = torch.from_numpy(np.asarray(y_int, dtype=np.int64))
    if cfg["optimizer"] == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=cfg["learning_rate"],
                               betas=(0.9, 0.999), eps=1e-7)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=cfg["learning_rate"])
    loss_fn = torch.nn.CrossEntropyLoss()
    bs, n = cfg["batch_size"], len(X)
    times, windows = [], []
    for _ in range(epochs):
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(n)
        running_loss, correct = 0.0, 0
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            xb, yb = X[idx], Y[idx]
            opt.zero_grad()
            with autocast():
                logits = model(xb)
                loss = loss_fn(logits, yb)
            loss.backward()
            opt.step()
            running_loss += loss.item() * len(idx)
            correct += (logits.argmax(1) == yb).sum().item()
        t1 = time.perf_counter()
        times.append(t1 - t0)
        windows.append((t0, t1))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    model.eval()
    pb = PREDICT_BATCH["torch"]

    def predict():
        with torch.inference_mode(), autocast():
            return torch.cat([model(Xt[i:i + pb]).float()
                              for i in range(0, len(Xt), pb)]).numpy()

    logits, secs = _time_predict(predict)
    return times, windows, rss, logits, secs, f"torch {torch.__version__}"


def worker(framework, model_name, epochs, threads, seed, n_train=None, n_test=None,
           precision="float32") -> dict:
    """Trains and times one model in one framework in this process; returns the run dict."""
    import numpy as np

    cfg, x, y, xt, yt = _load(model_name, n_train, n_test)
    run = _run_torch if framework == "torch" else (
        lambda *a: _run_keras_like(framework, *a))
    try:
        times, windows, rss, out, psecs, version = run(model_name, cfg, x, y, xt, epochs,
                                                       threads, seed, precision)
    except PolicyUnavailable as e:
        return {"framework": framework, "model": model_name, "seed": seed,
                "precision": precision, "unavailable": str(e)}
    acc = float(np.mean(np.argmax(np.asarray(out), axis=1) == yt))
    pmed = statistics.median(psecs)
    team = None
    if framework == "fmnistcpp":
        from fmnistcpp import _core

        # the team the adaptive engine chose last (thread_team.hpp), if it has one
        team = _core.thread_team_state() if hasattr(_core, "thread_team_state") else None
    return {
        "thread_team": team,
        "framework": framework, "model": model_name, "seed": seed, "threads": threads,
        "epochs": epochs, "batch_size": cfg["batch_size"], "n_train": len(x), "n_test": len(xt),
        "precision": precision, "epoch_s": times, "epoch_windows": windows,
        # epoch 1 includes one-off work (tracing, primitive creation): excluded
        "median_epoch_s": statistics.median(times[1:] or times),
        "predict_batch": PREDICT_BATCH[framework], "predict_s": psecs,
        "predict_ips": len(xt) / pmed, "peak_rss_mb": rss,
        "peak_rss_mb_end": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "test_accuracy": acc, "version": version,
    }


# ---------------------------------------------------------------------------
# summary and output


def _median(xs):
    return statistics.median(xs) if xs else None


def summarize(result: dict) -> list:
    """One row per (model, framework) over the repeats: medians of epoch time and
    predict throughput, max peak RSS, mean accuracy, GFLOP/s, speed-ups."""
    runs = [r for r in result["runs"] if "error" not in r and "unavailable" not in r]
    threads = str(result["settings"]["threads"])
    peak = (result.get("gemm_peak") or {}).get(threads, {}).get("gflops")
    rows = []
    for m in dict.fromkeys(r["model"] for r in result["runs"]):
        base = {}
        for fw in FRAMEWORKS:
            rs = [r for r in runs if r["model"] == m and r["framework"] == fw]
            if not rs:
                continue
            ep = _median([r["median_epoch_s"] for r in rs])
            train_flops = result["flops"][m]["train"]
            gflops = train_flops * rs[0]["n_train"] / ep / 1e9
            row = {
                "model": m, "framework": fw, "repeats": len(rs),
                "batch_size": rs[0]["batch_size"], "median_epoch_s": ep,
                "train_gflops": gflops, "pct_gemm_peak": 100 * gflops / peak if peak else None,
                "predict_batch": rs[0]["predict_batch"],
                "predict_ips": _median([r["predict_ips"] for r in rs]),
                "peak_rss_mb": max(r["peak_rss_mb"] for r in rs),
                "test_accuracy": statistics.mean(r["test_accuracy"] for r in rs),
                "load_gflops": _median([r["load_gflops"] for r in rs
                                        if r.get("load_gflops") is not None]),
                "epochs_by_repeat": {r["seed"]: r["median_epoch_s"] for r in rs},
            }
            if fw == "fmnistcpp":
                base = row
            rows.append(row)
        for row in rows:
            if row["model"] == m and base and row["framework"] != "fmnistcpp":
                row["speedup_epoch"] = row["median_epoch_s"] / base["median_epoch_s"]
                # "in every run": the ratio within each repeat, not only of the medians
                mine, theirs = base["epochs_by_repeat"], row["epochs_by_repeat"]
                row["speedup_by_repeat"] = [theirs[k] / mine[k] for k in sorted(theirs)
                                            if k in mine]
                row["speedup_predict"] = base["predict_ips"] / row["predict_ips"]
    return rows


def _fmt(v, spec, suffix=""):
    return "—" if v is None else f"{v:{spec}}{suffix}"


def render_markdown(result: dict) -> str:
    """The report: settings, machine, GEMM peak, then one table row per model and framework."""
    mach, st = result["machine"], result["settings"]
    lines = [f"# fmnistcpp vs Keras vs PyTorch ({result['timestamp']})", "",
             f"`{result['command']}`", "",
             f"- CPU: {mach['cpu']}, {mach['cores']} cores ({mach.get('affinity', '?')} usable), "
             f"load average at start {mach.get('loadavg_start', '?')}, "
             f"kernel.sched_autogroup_enabled {mach.get('sched_autogroup', '?')}",
             f"- versions: " + ", ".join(f"{k} {v}" for k, v in mach["versions"].items()),
             f"- {st['threads']} thread(s) per framework; {st['epochs']} epochs (first = warm-up, "
             f"excluded), {st['n_train']} training images, {st['n_test']} test images, "
             f"{st['repeats']} repeat(s); precision {st.get('precision', 'float32')}; "
             f"load beside each run: {st.get('load', 'none')}"]
    for fw, isa in (mach.get("onednn") or {}).items():
        if isa.get("isa") or isa.get("kernels"):
            lines.append(f"- oneDNN in {LABELS[fw]}: {isa.get('isa') or '?'}; kernels: "
                         + (", ".join(isa.get("kernels", [])[:8]) or "none reported"))
    alone = result.get("load_alone_gflops")
    if alone:
        lines.append("- NumPy neighbour alone (2 BLAS threads, no framework beside it): "
                     + ", ".join(f"{g:.1f}" for g in alone) + " GFLOP/s")
    for t, g in sorted((result.get("gemm_peak") or {}).items(), key=lambda kv: int(kv[0])):
        lines.append(f"- SGEMM peak (oneDNN `dnnl_sgemm`, n={g['n']}), {t} thread(s): "
                     f"{g['gflops']:.1f} GFLOP/s")
    lines += ["", "| model | framework | batch | median epoch (s) | fmnistcpp speed-up "
              "| train GFLOP/s | % of GEMM peak | predict batch | predict (img/s) "
              "| fmnistcpp predict speed-up | peak RSS in fit (MB) | test acc "
              "| speed-up per repeat | neighbour GFLOP/s |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["summary"]:
        fw = r["framework"]
        sp = "—" if fw == "fmnistcpp" else _fmt(r.get("speedup_epoch"), ".2f", "x")
        spp = "—" if fw == "fmnistcpp" else _fmt(r.get("speedup_predict"), ".2f", "x")
        lines.append(
            f"| {r['model']} | {LABELS[fw]} | {r['batch_size']} | {r['median_epoch_s']:.3f} | "
            f"{sp} | {r['train_gflops']:.2f} | {_fmt(r['pct_gemm_peak'], '.1f', ' %')} | "
            f"{r['predict_batch']} | {r['predict_ips']:.0f} | {spp} | {r['peak_rss_mb']:.0f} | "
            f"{r['test_accuracy']:.4f} | "
            + (", ".join(f"{v:.2f}x" for v in r.get("speedup_by_repeat", [])) or "—")
            + f" | {_fmt(r.get('load_gflops'), '.1f')} |")
    for r in result["runs"]:
        if "unavailable" in r:
            lines += ["", f"Not run: {r['framework']} {r['model']}: {r['unavailable']}"]
    errors = [r for r in result["runs"] if "error" in r]
    if errors:
        lines += ["", "Failed runs:"] + [f"- {r['framework']} {r['model']}: {r['error'][-300:]}"
                                        for r in errors]
    lines += ["", "Train GFLOP/s: analytic conv/dense FLOPs of a training step (about 3x "
              "forward, `benchmarks/flops.py`) x training images / median epoch time; "
              f"% of the {st['threads']}-thread SGEMM peak."]
    return "\n".join(lines) + "\n"


def plot(result: dict, path: str) -> None:
    """Two panels: median epoch time per model and framework (log axis, bars
    labelled with fmnistcpp's speed-up), and predict throughput."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["summary"]
    models = list(dict.fromkeys(r["model"] for r in rows))
    fws = [fw for fw in FRAMEWORKS if any(r["framework"] == fw for r in rows)]
    colors = {"fmnistcpp": "#2a7ab9", "keras": "#d9534f", "torch": "#ee8a2a"}
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    width = 0.8 / max(len(fws), 1)
    panels = [("median_epoch_s", "speedup_epoch", "median epoch time (s), log scale",
               "Training: epoch time (lower is better)"),
              ("predict_ips", "speedup_predict", "images / s, log scale",
               "Predict throughput (higher is better)")]
    for ax, (key, sp_key, ylabel, title) in zip(axes, panels):
        for j, fw in enumerate(fws):
            xs, hs, labels = [], [], []
            for i, m in enumerate(models):
                r = next((r for r in rows if r["model"] == m and r["framework"] == fw), None)
                if r is None:
                    continue
                xs.append(i + (j - (len(fws) - 1) / 2) * width)
                hs.append(r[key])
                sp = r.get(sp_key)
                unit = " s" if key == "median_epoch_s" else "/s"
                labels.append(f"{sp:.1f}x" if sp else (f"{r[key]:.3g}{unit}"
                                                        if fw == "fmnistcpp" else ""))
            label = LABELS[fw] + (f" (batch {PREDICT_BATCH[fw]})" if key == "predict_ips" else "")
            bars = ax.bar(xs, hs, width, label=label, color=colors[fw])
            ax.bar_label(bars, labels=labels, fontsize=8, padding=2)
        ax.set_yscale("log")
        ax.set_xticks(range(len(models)))
        ax.set_xticklabels(models)
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8)
        ax.margins(y=0.15)
    st = result["settings"]
    fig.suptitle(f"{result['machine']['cpu']}, {st['threads']} thread(s); bar labels: "
                 f"fmnistcpp's speed-up over that framework", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_outputs(result: dict, out_dir: str, stamp: str) -> dict:
    """Writes ``compare_frameworks-<stamp>.{md,json,png}`` in ``out_dir``; returns the paths."""
    os.makedirs(out_dir, exist_ok=True)
    result.setdefault("timestamp", stamp)
    result["summary"] = summarize(result)
    base = os.path.join(out_dir, f"compare_frameworks-{stamp}")
    paths = {"md": base + ".md", "json": base + ".json", "png": base + ".png"}
    with open(paths["md"], "w") as f:
        f.write(render_markdown(result))
    with open(paths["json"], "w") as f:
        json.dump(result, f, indent=1)
    plot(result, paths["png"])
    return paths


# ---------------------------------------------------------------------------
# driver


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown"


def _version(*dists):
    for d in dists:
        try:
            return importlib.metadata.version(d)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def _read_first_line(path: str):
    try:
        with open(path) as f:
            return f.readline().strip()
    except OSError:
        return None


def machine_info() -> dict:
    import fmnistcpp
    from fmnistcpp import _core

    versions = {"fmnistcpp": fmnistcpp.__version__,
                "oneDNN (fmnistcpp)": ".".join(map(str, _core.onednn_version())),
                "tensorflow": _version("tensorflow-cpu", "tensorflow"),
                "keras": _version("keras"), "torch": _version("torch"),
                "numpy": _version("numpy"), "python": platform.python_version()}
    return {"cpu": _cpu(), "cores": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)),
            "platform": platform.platform(), "loadavg_start": os.getloadavg(),
            "sched_autogroup": _read_first_line("/proc/sys/kernel/sched_autogroup_enabled"),
            "versions": {k: v for k, v in versions.items() if v is not None}}


def _run_child(fw, model, epochs, threads, seed, n_train, n_test, precision="float32",
               load=None) -> dict:
    """One worker subprocess; with ``load`` (a running NumpyLoad) the run
    also gets the neighbour's GFLOP/s over its timed epochs."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), TF_CPP_MIN_LOG_LEVEL="3",
               TF_ENABLE_ONEDNN_OPTS=os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1"))
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "run.json")
        spec = json.dumps({"framework": fw, "model_name": model, "epochs": epochs,
                           "threads": threads, "seed": seed, "n_train": n_train,
                           "n_test": n_test, "precision": precision})
        t0 = time.perf_counter()
        res = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", spec, out],
                             env=env, capture_output=True, text=True)
        if res.returncode != 0 or not os.path.exists(out):
            return {"framework": fw, "model": model, "seed": seed,
                    "error": (res.stderr or res.stdout)[-3000:]}
        with open(out) as f:
            run = json.load(f)
    run["wall_s"] = time.perf_counter() - t0
    windows = run.get("epoch_windows") or []
    if load is not None and windows:
        timed = windows[1:] or windows  # the epochs the median is taken over
        run["load_gflops"] = load.gflops(timed[0][0], timed[-1][1])
    return run


def _measure_load_alone(threads: int, session: str, seconds: float = 5.0) -> float:
    """The neighbour's GFLOP/s with nothing else of ours running."""
    with numpy_load.NumpyLoad(threads=threads, session=session) as load:
        t0 = time.perf_counter()
        time.sleep(seconds)
        return load.gflops(t0, time.perf_counter())


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS))
    p.add_argument("--frameworks", nargs="+", default=list(FRAMEWORKS), choices=FRAMEWORKS)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--epochs", type=int, default=None,
                   help="epochs per run, the first is warm-up (default 4; --quick: 2)")
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--quick", action="store_true",
                   help="smoke test: 3000 training images, 2 epochs, 1000 test images, "
                        "small GEMM")
    p.add_argument("--n-train", type=int, default=None,
                   help="train on the first N of the 48000 images (default all; --quick: 3000)")
    p.add_argument("--precision", default="float32", choices=PRECISIONS,
                   help="global dtype policy in every framework (PyTorch: CPU autocast)")
    p.add_argument("--load", default="none", choices=LOADS,
                   help="numpy: a NumPy matrix-product loop (numpy_load.py) beside every run")
    p.add_argument("--load-threads", type=int, default=numpy_load.DEFAULT_THREADS,
                   help="BLAS threads of the --load neighbour (default 2)")
    p.add_argument("--load-session", default="same", choices=numpy_load.SESSIONS,
                   help="same: the neighbour in this benchmark's session (every thread gets "
                        "an equal share); own: in a session of its own, as a second Jupyter "
                        "kernel or a second terminal is (with sched_autogroup, each session "
                        "gets an equal share). Default same")
    p.add_argument("--out-dir", default=os.path.join(HERE, "results"))
    p.add_argument("--worker", nargs=2, metavar=("SPEC", "OUT"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker:
        run = worker(**json.loads(args.worker[0]))
        with open(args.worker[1], "w") as f:
            json.dump(run, f)
        return 0

    from fmnistcpp import architectures

    models = [architectures.get(m).name for m in args.models]
    mode = dict(QUICK if args.quick else FULL)
    if args.n_train:
        mode["n_train"] = args.n_train
    epochs = args.epochs or mode["epochs"]
    if epochs < 2:
        p.error("--epochs must be at least 2 (the first is a warm-up)")
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    result = {
        "timestamp": stamp,
        "command": " ".join(["python", "benchmarks/compare_frameworks.py"] + argv),
        "machine": machine_info(),
        "settings": {"threads": args.threads, "epochs": epochs, "repeats": args.repeats,
                     "quick": args.quick, "models": models, "frameworks": args.frameworks,
                     "n_train": mode["n_train"] or "48000 (first 80 %)",
                     "n_test": mode["n_test"] or 10000, "predict_batch": PREDICT_BATCH,
                     "precision": args.precision,
                     "load": (f"numpy ({args.load_threads} BLAS threads, "
                              f"{numpy_load.DEFAULT_N}x{numpy_load.DEFAULT_N} float32 matmul, "
                              f"{args.load_session} session)"
                              if args.load == "numpy" else "none")},
        "flops": {m: {k: v for k, v in flops_mod.train_flops(
            flops_mod.model_specs(m)[0]).items()} for m in models},
    }
    print(f"CPU: {result['machine']['cpu']}", flush=True)
    result["machine"]["onednn"] = {}
    for fw in args.frameworks:
        info = onednn_isa.probe(fw, args.precision, args.threads)
        result["machine"]["onednn"][fw] = info
        print(f"oneDNN in {fw}: {info.get('isa') or '?'}; kernels: "
              f"{', '.join(info.get('kernels', [])) or info.get('note', 'none reported')}",
              flush=True)
    threads = sorted({1, args.threads})
    print(f"SGEMM peak ({', '.join(map(str, threads))} threads) ...", flush=True)
    result["gemm_peak"] = gemm_peak.peak(threads, mode["gemm_sizes"], mode["gemm_runs"])
    for t, g in result["gemm_peak"].items():
        print(f"  {t} thread(s): {g['gflops']:.1f} GFLOP/s (n={g['n']})", flush=True)

    if args.load == "numpy":
        result["load_alone_gflops"] = [_measure_load_alone(args.load_threads, args.load_session)]
        print(f"NumPy neighbour alone: {result['load_alone_gflops'][0]:.1f} GFLOP/s", flush=True)
    runs = result["runs"] = []
    for rep in range(args.repeats):
        for m in models:
            for fw in args.frameworks:
                # a fresh neighbour per run: each framework meets the same load
                with (numpy_load.NumpyLoad(threads=args.load_threads, session=args.load_session)
                      if args.load == "numpy" else contextlib.nullcontext()) as load:
                    run = _run_child(fw, m, epochs, args.threads, rep, mode["n_train"],
                                     mode["n_test"], args.precision, load)
                runs.append(run)
                if "unavailable" in run:
                    print(f"{m:12s} {fw:10s} repeat {rep}: NOT AVAILABLE: {run['unavailable']}",
                          flush=True)
                    continue
                if "error" in run:
                    print(f"{m:12s} {fw:10s} repeat {rep}: FAILED\n{run['error']}",
                          file=sys.stderr, flush=True)
                    continue
                print(f"{m:12s} {fw:10s} repeat {rep}: median epoch {run['median_epoch_s']:.3f} s, "
                      f"predict {run['predict_ips']:.0f} img/s, peak RSS "
                      f"{run['peak_rss_mb']:.0f} MB, test acc {run['test_accuracy']:.4f}"
                      + (f", neighbour {run['load_gflops']:.1f} GFLOP/s"
                         if run.get("load_gflops") is not None else ""), flush=True)
    if args.load == "numpy":
        result["load_alone_gflops"].append(
            _measure_load_alone(args.load_threads, args.load_session))
    result["machine"]["loadavg_end"] = os.getloadavg()
    paths = write_outputs(result, args.out_dir, stamp)
    print()
    print(render_markdown(result))
    print("wrote " + ", ".join(paths.values()))
    return 1 if any("error" in r for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
