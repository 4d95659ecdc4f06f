"""Where a training step's time goes, primitive by primitive, and how far
each runs from the machine's GEMM peak.

Trains a seed model for a number of batches in a subprocess with oneDNN's
``ONEDNN_VERBOSE=profile_exec``, which prints one line per executed
primitive with its implementation, shapes and time. The lines are summed
per (primitive, propagation, problem); convolution and inner-product lines
carry their sizes, so their FLOPs and GFLOP/s follow, and are set against
``gemm_peak.measure`` at the same thread count. Whatever the primitives do
not account for (loss, optimizer, gather, Python) is reported as the rest.

    python benchmarks/profile_layers.py                          # seed000-cnn, 2 threads
    python benchmarks/profile_layers.py --model seed002-mlp --batches 1500 --threads 1
    python benchmarks/profile_layers.py --precision mixed_bfloat16   # under Keras's bf16 policy

Prints a Markdown table (for docs/PERFORMANCE.md).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))

# mb100_ic24oc48_ih24oh22kh3sh1dh0ph0_iw24ow22kw3sw1dw0pw0
_CONV = re.compile(r"mb(\d+)_(?:g\d+)?ic(\d+)oc(\d+)_ih\d+oh(\d+)kh(\d+)\S*_iw\d+ow(\d+)kw(\d+)")
# mb100ic23232oc100 (or mb100ic24ih22iw22oc100 for a 4-D source)
_IP = re.compile(r"mb(\d+)ic(\d+)(?:ih(\d+))?(?:iw(\d+))?oc(\d+)")
# 100x23232:23232x100 (src:weights of a 2-D matmul; a third part, dst, may follow)
_MATMUL = re.compile(r"^(\d+)x(\d+):(\d+)x(\d+)(?::\d+x\d+)?$")


def problem_flops(kind: str, problem: str) -> int:
    """FLOPs (2 per multiply-add) of one convolution, inner-product or 2-D
    matmul execution from oneDNN's verbose problem string; 0 for other
    primitives.
    Forward, backward-data and backward-weights cost the same."""
    if kind == "convolution":
        m = _CONV.search(problem)
        if m:
            mb, ic, oc, oh, kh, ow, kw = (int(v) for v in m.groups())
            return 2 * mb * oc * oh * ow * ic * kh * kw
    if kind == "inner_product":
        m = _IP.search(problem)
        if m:
            mb, ic, ih, iw, oc = m.groups()
            spatial = int(ih or 1) * int(iw or 1)
            return 2 * int(mb) * int(ic) * spatial * int(oc)
    if kind in ("matmul", "gemm_api"):  # gemm_api: a dnnl_sgemm call, the same string
        m = _MATMUL.match(problem)
        if m:
            rows, inner, _, cols = (int(v) for v in m.groups())
            return 2 * rows * inner * cols
    return 0


def parse(lines):
    """Sums profile_exec lines per (kind, implementation, propagation,
    problem): {key: [executions, milliseconds]}."""
    agg = collections.OrderedDict()
    for line in lines:
        if not line.startswith("onednn_verbose,") or ",exec," not in line:
            continue
        parts = line.rstrip().split(",")
        # onednn_verbose,exec,cpu,<kind>,<impl>,<prop>,<mds>,<attrs>,<aux>,<problem>,<ms>
        try:
            ms = float(parts[-1])
        except ValueError:
            continue
        key = (parts[3], parts[4], parts[5], parts[-2])
        entry = agg.setdefault(key, [0, 0.0])
        entry[0] += 1
        entry[1] += ms
    return agg


def _child(model_name: str, batches: int, threads: int, precision: str) -> None:
    """Runs in the subprocess: one warm-up epoch of a few batches, then the
    measured batches; prints the wall time of the measured part."""
    import fmnistcpp
    from fmnistcpp import architectures

    fmnistcpp.utils.set_num_threads(threads)
    fmnistcpp.utils.set_random_seed(0)
    fmnistcpp.mixed_precision.set_global_policy(precision)
    model, cfg = architectures.build(model_name)
    architectures.compile_model(model, cfg)
    (x, y), _ = fmnistcpp.datasets.fashion_mnist.load_data()
    n = batches * cfg["batch_size"]
    x, y = architectures.prepare(x[:n], y[:n], cfg)
    warm = 5 * cfg["batch_size"]
    model.fit(x[:warm], y[:warm], batch_size=cfg["batch_size"], epochs=1, verbose=0)
    print("PROFILE-START", flush=True)
    start = time.perf_counter()
    model.fit(x, y, batch_size=cfg["batch_size"], epochs=1, verbose=0)
    print("PROFILE-WALL", time.perf_counter() - start, flush=True)


def profile(model_name: str, batches: int, threads: int, precision: str = "float32") -> dict:
    env = dict(os.environ, ONEDNN_VERBOSE="profile_exec", OMP_NUM_THREADS=str(threads))
    out = subprocess.run(
        [sys.executable, __file__, "--child", model_name, str(batches), str(threads), precision],
        env=env, capture_output=True, text=True, check=True).stdout.splitlines()
    start = out.index("PROFILE-START")
    wall_ms = 1000 * float(next(l for l in out if l.startswith("PROFILE-WALL")).split()[1])
    rows = []
    for (kind, impl, prop, problem), (count, ms) in parse(out[start:]).items():
        flops = problem_flops(kind, problem) * count
        if kind == "gemm_api" and threads > 1:
            # Dense split by its kernel's rows (cpp/kernel_row_split.hpp) calls
            # dnnl_sgemm once per thread inside one parallel region: the calls
            # run side by side, so their wall time is their sum divided by the threads
            ms /= threads
            kind = "gemm_api (one call per thread, side by side)"
        rows.append({"kind": kind, "impl": impl, "prop": prop, "problem": problem,
                     "executions": count, "ms": ms,
                     "gflops": flops / ms / 1e6 if flops and ms else None})
    rows.sort(key=lambda r: -r["ms"])
    return {"model": model_name, "batches": batches, "threads": threads, "precision": precision,
            "wall_ms": wall_ms, "primitives_ms": sum(r["ms"] for r in rows), "rows": rows}


def render(result: dict, peak_gflops: float | None) -> str:
    wall = result["wall_ms"]
    lines = [
        f"{result['model']} ({result.get('precision', 'float32')}), {result['batches']} "
        f"training batches, {result['threads']} "
        f"thread(s): {wall:.0f} ms wall (verbose logging adds a little), of which oneDNN "
        f"primitives {result['primitives_ms']:.0f} ms"
        + (f"; GEMM peak {peak_gflops:.0f} GFLOP/s" if peak_gflops else ""),
        "",
        "| primitive | propagation | problem | implementation | ms | % of wall | GFLOP/s | % of GEMM peak |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        if r["ms"] < 0.002 * wall:
            continue
        g = r["gflops"]
        rate = f"{g:.0f}" if g else ""
        pct = f"{100 * g / peak_gflops:.0f} %" if g and peak_gflops else ""
        lines.append(f"| {r['kind']} | {r['prop']} | {r['problem']} | {r['impl']} | "
                     f"{r['ms']:.0f} | {100 * r['ms'] / wall:.1f} % | {rate} | {pct} |")
    rest = wall - result["primitives_ms"]
    lines.append(f"| (outside oneDNN: loss, optimizer, gather, Python) | | | | {rest:.0f} | "
                 f"{100 * rest / wall:.1f} % | | |")
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        _child(argv[1], int(argv[2]), int(argv[3]), argv[4])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="seed000-cnn")
    ap.add_argument("--batches", type=int, default=120)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--precision", default="float32", choices=["float32", "mixed_bfloat16"],
                    help="Keras dtype policy set before the model is built")
    ap.add_argument("--no-peak", action="store_true", help="skip the GEMM peak measurement")
    ap.add_argument("--json", help="also write the result here")
    args = ap.parse_args(argv)
    peak_gflops = None
    if not args.no_peak:
        sys.path.insert(0, _HERE)
        from gemm_peak import peak

        peak_gflops = peak(threads=[args.threads], sizes=(2048, 4096))[str(args.threads)]["gflops"]
    result = profile(args.model, args.batches, args.threads, args.precision)
    result["gemm_peak_gflops"] = peak_gflops
    print(render(result, peak_gflops))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
