"""fmnistcpp's training epoch beside a busy neighbour, with training on
lanes (cpp/lanes.cpp) left to the engine or turned off, the neighbour in
the benchmark's session or in its own (see numpy_load.NumpyLoad).

Each case runs in a fresh process (the adaptive team starts from scratch)
beside a fresh neighbour, cases alternating, and prints the epoch times
(the first includes the team's and the lanes' first looks), the median of
the others, how many steps ran on lanes, and the neighbour's GFLOP/s over
the timed epochs.

    python benchmarks/lanes_under_load.py                        # seed 000, 6000 images
    python benchmarks/lanes_under_load.py --model seed002-mlp --n-train 48000 --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import numpy_load  # noqa: E402

#: (label, forced lanes, neighbour's session): 0 lets the engine decide,
#: 1 never runs on lanes.
CASES = {"idle": ("idle, team", 0, None),
         "same": ("same session, engine decides", 0, "same"),
         "same-off": ("same session, lanes off", 1, "same"),
         "own": ("own session, engine decides", 0, "own")}

WORKER = r"""
import json, sys, time
import fmnistcpp
from fmnistcpp import architectures, _core
spec = json.loads(sys.argv[1])
fmnistcpp.utils.set_num_threads(spec["threads"])
_core._set_forced_lanes(spec["lanes"])
fmnistcpp.utils.set_random_seed(0)
fmnistcpp.mixed_precision.set_global_policy(spec["precision"])
model, cfg = architectures.build(spec["model"])
architectures.compile_model(model, cfg)
(x, y), _ = fmnistcpp.datasets.fashion_mnist.load_data()
x, y = architectures.prepare(x[:spec["n_train"]], y[:spec["n_train"]], cfg)
windows = []
for _ in range(spec["epochs"]):
    t0 = time.perf_counter()
    model.fit(x, y, batch_size=cfg["batch_size"], epochs=1, verbose=0)
    windows.append((t0, time.perf_counter()))
print(json.dumps({"windows": windows, "state": _core.thread_team_state()}))
"""


def run_case(spec: dict, session) -> dict:
    """One fresh process training spec's model, beside a fresh neighbour in
    `session` ("same", "own") or alone (None)."""
    def child():
        out = subprocess.run([sys.executable, "-c", WORKER, json.dumps(spec)],
                             capture_output=True, text=True, timeout=1800)
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-3000:])
        return json.loads(out.stdout.strip().splitlines()[-1])

    if session is None:
        r = child()
        r["load_gflops"] = None
        return r
    with numpy_load.NumpyLoad(session=session) as load:
        r = child()
        timed = r["windows"][1:]
        r["load_gflops"] = load.gflops(timed[0][0], timed[-1][1])
    return r


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="seed000-cnn")
    p.add_argument("--n-train", type=int, default=6000)
    p.add_argument("--epochs", type=int, default=3, help="per run; the first is not timed")
    p.add_argument("--rounds", type=int, default=1, help="alternating rounds over the cases")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--precision", default="float32")
    p.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    args = p.parse_args(argv)
    spec = {"model": args.model, "n_train": args.n_train, "epochs": args.epochs,
            "threads": args.threads, "precision": args.precision}
    print(f"{args.model}, {args.n_train} images, {args.threads} threads, {args.precision}; "
          f"sched_autogroup_enabled "
          f"{open('/proc/sys/kernel/sched_autogroup_enabled').read().strip() if os.path.exists('/proc/sys/kernel/sched_autogroup_enabled') else '?'}",
          flush=True)
    for rnd in range(args.rounds):
        for label, lanes, session in (CASES[c] for c in args.cases):
            r = run_case(dict(spec, lanes=lanes), session)
            epochs = [b - a for a, b in r["windows"]]
            load = f", neighbour {r['load_gflops']:.0f} GFLOP/s" if r["load_gflops"] else ""
            print(f"round {rnd} {label:30s} epochs {' '.join(f'{e:.3f}' for e in epochs)}  "
                  f"median {statistics.median(epochs[1:]):.3f} s, "
                  f"lane steps {r['state']['lane_steps']}{load}", flush=True)
            time.sleep(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
