"""Trains each seed architecture in fmnistcpp and in Keras 3 (TensorFlow CPU)
on the full Fashion-MNIST data, side by side on this machine, and reports
test accuracy, epoch times and peak memory.

Each (framework, model, seed) run is its own subprocess, so thread pools
never share a process and peak RSS is per run; fmnistcpp and Keras runs
alternate. Both get the same architecture (the Keras model is built from
fmnistcpp's layer configs), optimizer, loss, batch size, epochs,
validation split and preprocessing (fmnistcpp.architectures).

    python benchmarks/compare_keras.py                      # all five, 1 seed
    python benchmarks/compare_keras.py --models seed000-cnn seed002-mlp --seeds 3
    python benchmarks/compare_keras.py --epochs 2           # quick

Writes a JSON file and prints a Markdown table (for docs/RESULTS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

# The model building, epoch timer and machine description are shared with
# the speed benchmark next to this file.
from compare_frameworks import _cpu, _epoch_timer, compiled_model  # noqa: E402


def _worker(framework: str, model_name: str, epochs: int, seed: int, threads: int) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import fmnistcpp
    from fmnistcpp import architectures

    (x, y), (xt, yt) = fmnistcpp.datasets.fashion_mnist.load_data()
    cfg = architectures.defaults(model_name)
    x, y = architectures.prepare(x, y, cfg)
    xt, yt = architectures.prepare(xt, yt, cfg)
    epochs = epochs or cfg["epochs"]

    model, lib, _ = compiled_model(framework, model_name, cfg, threads, seed)
    timer = _epoch_timer(lib.callbacks.Callback)
    history = model.fit(x, y, batch_size=cfg["batch_size"], epochs=epochs,
                        validation_split=cfg["validation_split"], callbacks=[timer], verbose=0)
    t0 = time.perf_counter()
    loss, acc = model.evaluate(xt, yt, batch_size=cfg["batch_size"], verbose=0)
    eval_s = time.perf_counter() - t0
    return {
        "framework": framework, "model": model_name, "seed": seed, "epochs": epochs,
        "batch_size": cfg["batch_size"], "epoch_s": timer.times,
        # The first epoch includes one-off work (JIT, graph tracing); the
        # median of the rest is the steady state.
        "median_epoch_s": statistics.median(timer.times[1:] or timer.times),
        "test_accuracy": float(acc), "test_loss": float(loss), "evaluate_s": eval_s,
        "val_accuracy": [float(v) for v in history.history["val_accuracy"]],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main(argv=None) -> int:
    from fmnistcpp import architectures

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="+", default=architectures.names())
    p.add_argument("--epochs", type=int, default=0,
                   help="epochs per run (default: each seed's own, CNNs capped at 5)")
    p.add_argument("--seeds", type=int, default=1, help="runs per framework and model")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--frameworks", nargs="+", default=["fmnistcpp", "keras"])
    p.add_argument("--json", default="benchmarks/results/compare_keras.json")
    p.add_argument("--worker", nargs=4, metavar=("FRAMEWORK", "MODEL", "EPOCHS", "SEED"),
                   help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker:
        fw, model, epochs, seed = args.worker
        print(json.dumps(_worker(fw, model, int(epochs), int(seed), args.threads)))
        return 0

    runs = []
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    for model in args.models:
        cfg = architectures.defaults(model)
        epochs = args.epochs or (min(cfg["epochs"], 5) if "cnn" in model else cfg["epochs"])
        for seed in range(args.seeds):
            for fw in args.frameworks:
                cmd = [sys.executable, __file__, "--threads", str(args.threads),
                       "--worker", fw, model, str(epochs), str(seed)]
                out = subprocess.run(cmd, env=env, capture_output=True, text=True)
                if out.returncode != 0:
                    print(out.stderr[-3000:], file=sys.stderr)
                    return 1
                run = json.loads(out.stdout.strip().splitlines()[-1])
                runs.append(run)
                print(f"{model:12s} {fw:10s} seed {seed}: test acc {run['test_accuracy']:.4f}, "
                      f"median epoch {run['median_epoch_s']:.2f}s, "
                      f"peak RSS {run['peak_rss_mb']:.0f} MB", flush=True)

    os.makedirs(os.path.dirname(args.json) or ".", exist_ok=True)
    with open(args.json, "w") as f:
        json.dump({"machine": {"cpu": _cpu(), "cores": os.cpu_count(),
                               "python": platform.python_version(), "threads": args.threads},
                   "command": " ".join(["python", "benchmarks/compare_keras.py"] + (argv or sys.argv[1:])),
                   "runs": runs}, f, indent=1)
    print()
    print(_table(runs))
    return 0


def _table(runs) -> str:
    lines = ["| model | epochs | batch | fmnistcpp test acc | Keras test acc | fmnistcpp epoch (s) "
             "| Keras epoch (s) | speed-up | fmnistcpp peak RSS (MB) | Keras peak RSS (MB) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    models = list(dict.fromkeys(r["model"] for r in runs))
    for m in models:
        by = {fw: [r for r in runs if r["model"] == m and r["framework"] == fw]
              for fw in ("fmnistcpp", "keras")}
        if not by["fmnistcpp"] or not by["keras"]:
            continue
        acc = {fw: statistics.mean(r["test_accuracy"] for r in rs) for fw, rs in by.items()}
        ep = {fw: statistics.median(r["median_epoch_s"] for r in rs) for fw, rs in by.items()}
        mem = {fw: max(r["peak_rss_mb"] for r in rs) for fw, rs in by.items()}
        r0 = by["fmnistcpp"][0]
        lines.append(f"| {m} | {r0['epochs']} | {r0['batch_size']} | {acc['fmnistcpp']:.4f} | "
                     f"{acc['keras']:.4f} | {ep['fmnistcpp']:.2f} | {ep['keras']:.2f} | "
                     f"{ep['keras'] / ep['fmnistcpp']:.1f}x | {mem['fmnistcpp']:.0f} | "
                     f"{mem['keras']:.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
