"""mixed_bfloat16 on seed 000's CNN: fmnistcpp mixed_bfloat16 vs fmnistcpp
float32 vs Keras 3 mixed_bfloat16 (and Keras float32 with --keras-float32),
epoch time side by side, and test accuracy after the seed's 5 epochs.

    python benchmarks/mixed_precision.py                       # speed, 3 rounds, 12000 samples
    python benchmarks/mixed_precision.py --samples 48000 --rounds 3
    python benchmarks/mixed_precision.py --accuracy --seeds 0 1 2   # 5 epochs, full data

Speed: every run is its own subprocess (fresh thread pools), the runs of a
round alternate (fmnistcpp float32, fmnistcpp mixed_bfloat16, Keras
mixed_bfloat16), each trains 2 epochs on the first --samples training
images (seed 000's batch 100, Adam, one-hot cross-entropy, shuffled) and
the second epoch is timed (the first builds primitives / traces graphs).
Accuracy: fmnistcpp float32 and mixed_bfloat16, for each seed, fit on the
48000 images validation_split=0.2 trains on for 5 epochs, then evaluate on
the 10000 test images. Prints the CPU, the ISA oneDNN dispatches to and a
Markdown table; --json FILE also writes the raw numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

MODEL = "seed000-cnn"


def _run(framework, policy, samples, epochs, threads, seed, test):
    """One training run in this process; returns its numbers."""
    import numpy as np

    import fmnistcpp
    from fmnistcpp import architectures

    cfg = architectures.defaults(MODEL)
    (x, y), (xt, yt) = fmnistcpp.datasets.fashion_mnist.load_data()
    x, y = architectures.prepare(x[:samples], y[:samples], cfg)
    if framework == "fmnistcpp":
        lib = fmnistcpp
        lib.utils.set_num_threads(threads)
    else:
        import keras as lib
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    lib.utils.set_random_seed(seed)
    lib.mixed_precision.set_global_policy(policy)
    model = architectures.build_in(lib, MODEL)  # the seed's layers, as a user would flip the switch
    model.compile(optimizer=lib.optimizers.Adam(learning_rate=cfg["learning_rate"]),
                  loss=cfg["loss"], metrics=["accuracy"])

    class Timer(lib.callbacks.Callback):
        times: list = []

        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            Timer.times.append(time.perf_counter() - self.t0)

    h = model.fit(x, y, batch_size=cfg["batch_size"], epochs=epochs, shuffle=True,
                  callbacks=[Timer()], verbose=0)
    out = {"framework": framework, "policy": policy, "seed": seed, "samples": len(x),
           "epoch_s": Timer.times, "loss": [float(v) for v in h.history["loss"]]}
    if test:
        xt, yt = architectures.prepare(xt, yt, cfg)
        p = np.asarray(model.predict(xt, batch_size=1000, verbose=0), np.float32)
        truth = yt.argmax(1) if yt.ndim == 2 else yt
        out["test_accuracy"] = float((p.argmax(1) == truth).mean())
    return out


def _child(framework, policy, samples, epochs, threads, seed, test, env=None):
    spec = json.dumps([framework, policy, samples, epochs, threads, seed, test])
    full_env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **(env or {}))
    proc = subprocess.run([sys.executable, __file__, "--worker", spec], capture_output=True,
                          text=True, env=full_env)
    if proc.returncode != 0:
        raise RuntimeError(f"{framework} {policy} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def machine() -> dict:
    import fmnistcpp
    from fmnistcpp import _core

    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"cpu": model, "cores": os.cpu_count(), "onednn_isa": _core.cpu_isa(),
            "bf16_kernels": _core.bf16_supported(), "onednn": _core.onednn_version(),
            "fmnistcpp": fmnistcpp.__version__}


def speed(args) -> dict:
    runs = [("fmnistcpp", "float32"), ("fmnistcpp", "mixed_bfloat16"),
            ("keras", "mixed_bfloat16")]
    if args.keras_float32:
        runs.append(("keras", "float32"))
    times = {r: [] for r in runs}
    for rnd in range(args.rounds):
        for fw, pol in runs:
            r = _child(fw, pol, args.samples, 2, args.threads, rnd, False)
            times[(fw, pol)].append(r["epoch_s"][1])
            print(f"round {rnd + 1}: {fw:9s} {pol:14s} {r['epoch_s'][1]:7.2f} s", flush=True)
    rows = ["| run | epoch 2 (s), each round | median |", "|---|---|---|"]
    for (fw, pol), ts in times.items():
        rows.append(f"| {fw} {pol} | {', '.join(f'{t:.2f}' for t in ts)} | "
                    f"{statistics.median(ts):.2f} |")
    fm32, fm16 = times[("fmnistcpp", "float32")], times[("fmnistcpp", "mixed_bfloat16")]
    k16 = times[("keras", "mixed_bfloat16")]
    vs_k = [k / f for k, f in zip(k16, fm16)]
    vs_32 = [a / b for a, b in zip(fm32, fm16)]
    rows.append(f"\nspeed-up of fmnistcpp mixed_bfloat16, per round: vs Keras mixed_bfloat16 "
                f"{', '.join(f'{v:.2f}x' for v in vs_k)} (target >= 2x); vs fmnistcpp float32 "
                f"{', '.join(f'{v:.2f}x' for v in vs_32)} (target >= 1.5x)")
    print("\n".join(rows))
    return {"epoch_s": {f"{fw} {pol}": ts for (fw, pol), ts in times.items()},
            "vs_keras_bf16": vs_k, "vs_fmnistcpp_fp32": vs_32}


def accuracy(args) -> dict:
    acc = {p: [] for p in args.policies}
    for seed in args.seeds:
        for pol in args.policies:
            r = _child("fmnistcpp", pol, 48000, 5, args.threads, seed, True)
            acc[pol].append(r["test_accuracy"])
            print(f"seed {seed}: fmnistcpp {pol:14s} test accuracy {r['test_accuracy']:.4f} "
                  f"(epochs {', '.join(f'{t:.1f}' for t in r['epoch_s'])} s)", flush=True)
    for pol, a in acc.items():
        print(f"{pol}: mean test accuracy {statistics.mean(a):.4f} over seeds {args.seeds}")
    if len(acc) == 2:
        a, b = (statistics.mean(v) for v in acc.values())
        print(f"difference: {100 * (b - a):+.2f} points (target within 0.5)")
    return {"test_accuracy": acc}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--samples", type=int, default=12000, help="training images per speed run")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--keras-float32", action="store_true", help="also time Keras in float32")
    p.add_argument("--accuracy", action="store_true", help="5-epoch test accuracy instead")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--policies", nargs="+", default=["float32", "mixed_bfloat16"])
    p.add_argument("--json", help="write the numbers here")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(_run(*json.loads(args.worker))))
        return 0
    info = machine()
    print(f"CPU {info['cpu']} ({info['cores']} cores), oneDNN {info['onednn']} dispatching "
          f"{info['onednn_isa']}, bf16 kernels: {info['bf16_kernels']}, threads {args.threads}")
    result = {"machine": info, **(accuracy(args) if args.accuracy else speed(args))}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
