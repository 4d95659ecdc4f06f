"""Epoch time of one seed model under two fmnistcpp builds (two Python
interpreters, e.g. two venvs), run alternately in fresh processes so load
on a shared machine falls on both alike. Reports per-run epoch medians and
the ratio of the medians. Used to check that a change to the engine did
not slow Sequential models (docs/PERFORMANCE.md).

    python benchmarks/compare_builds.py --a /venv-old/bin/python --b /venv-new/bin/python \\
        --model seed002-mlp --runs 5 --epochs 3
"""

import argparse
import json
import statistics
import subprocess
import sys

CHILD = r"""
import json, sys, time
import numpy as np
import fmnistcpp as keras
from fmnistcpp import architectures
name, epochs, threads, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
keras.utils.set_num_threads(threads)
keras.utils.set_random_seed(0)
(x, y), _ = keras.datasets.fashion_mnist.load_data()
model, cfg = architectures.build(name)
architectures.compile_model(model, cfg)
x, y = architectures.prepare(x[:n], y[:n], cfg)
times = []
class T(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None): self.t = time.perf_counter()
    def on_epoch_end(self, epoch, logs=None): times.append(time.perf_counter() - self.t)
model.fit(x, y, batch_size=cfg["batch_size"], epochs=epochs, verbose=0, callbacks=[T()])
print(json.dumps({"epochs": times[1:] or times}))
"""


def run(python, args):
    out = subprocess.run([python, "-c", CHILD, args.model, str(args.epochs), str(args.threads),
                          str(args.samples)], capture_output=True, text=True, check=True)
    return statistics.median(json.loads(out.stdout.strip().splitlines()[-1])["epochs"])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--a", required=True, help="python of build A (the baseline)")
    p.add_argument("--b", required=True, help="python of build B")
    p.add_argument("--model", default="seed002-mlp")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--epochs", type=int, default=3, help="per run; the first is not timed")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--samples", type=int, default=60000)
    args = p.parse_args()
    a, b = [], []
    for i in range(args.runs):
        for build, times in ((args.a, a), (args.b, b)) if i % 2 == 0 else ((args.b, b), (args.a, a)):
            times.append(run(build, args))
        print(f"run {i}: A {a[-1]:.4f} s  B {b[-1]:.4f} s", file=sys.stderr)
    result = {"model": args.model, "threads": args.threads, "samples": args.samples,
              "A_epoch_s": a, "B_epoch_s": b, "A_median": statistics.median(a),
              "B_median": statistics.median(b),
              "A_over_B": statistics.median(a) / statistics.median(b)}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
