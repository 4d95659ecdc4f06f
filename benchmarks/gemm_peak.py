"""Single-precision GEMM peak of this machine, measured with oneDNN's own
``dnnl_sgemm`` (the libdnnl.so.3 fmnistcpp is linked against) through ctypes.

The yardstick for "how close to the hardware is a training step": the
achieved GFLOP/s of a large square SGEMM, median of several runs, for a
given thread count. oneDNN here is the GNU-OpenMP build, so the thread
count is ``OMP_NUM_THREADS``; ``peak(threads=...)`` therefore measures each
thread count in a fresh subprocess (a running OpenMP pool cannot be resized
reliably from outside).

    python benchmarks/gemm_peak.py                      # 1 and 2 threads, n 2048 and 4096
    python benchmarks/gemm_peak.py --threads 1 4 --sizes 1024 2048 --runs 5

In Python::

    from gemm_peak import sgemm, measure, peak
    c = sgemm(a, b)                 # a @ b by dnnl_sgemm (float32, row-major)
    measure(2048, runs=5)           # GFLOP/s in this process, median of 5
    peak(threads=[1, 2])            # {"1": {...}, "2": {...}} via subprocesses
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

_LIB = None


def _libdnnl():
    """The libdnnl.so.3 that fmnistcpp uses, with ``dnnl_sgemm``'s prototype set."""
    global _LIB
    if _LIB is not None:
        return _LIB
    import fmnistcpp  # noqa: F401  (preloads libdnnl.so.3 globally)
    from fmnistcpp import _dnnl_loader

    try:
        lib = ctypes.CDLL("libdnnl.so.3")
    except OSError:
        paths = [p for p in _dnnl_loader._candidates() if p.exists()]
        if not paths:
            raise
        lib = ctypes.CDLL(str(paths[0]))
    i64, f32, ptr = ctypes.c_int64, ctypes.c_float, ctypes.c_void_p
    ch = ctypes.c_char
    # dnnl_status_t dnnl_sgemm(char transa, char transb, dnnl_dim_t M,
    #     dnnl_dim_t N, dnnl_dim_t K, float alpha, const float *A, dnnl_dim_t lda,
    #     const float *B, dnnl_dim_t ldb, float beta, float *C, dnnl_dim_t ldc);
    # (row-major, dnnl_dim_t = int64_t)
    lib.dnnl_sgemm.argtypes = [ch, ch, i64, i64, i64, f32, ptr, i64, ptr, i64, f32, ptr, i64]
    lib.dnnl_sgemm.restype = ctypes.c_int
    _LIB = lib
    return lib


def _f32(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32)


def sgemm(a, b, c=None, alpha: float = 1.0, beta: float = 0.0) -> np.ndarray:
    """``alpha * a @ b + beta * c`` computed by oneDNN's ``dnnl_sgemm``.

    ``a`` (M, K) and ``b`` (K, N) are converted to C-contiguous float32; ``c``
    (M, N), if given, must already be C-contiguous float32 and is written in
    place. Returns ``c``. Raises RuntimeError if oneDNN returns an error status.
    """
    a, b = _f32(a), _f32(b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"sgemm needs (M, K) @ (K, N) matrices, got {a.shape} @ {b.shape}")
    m, k = a.shape
    n = b.shape[1]
    if c is None:
        c = np.zeros((m, n), dtype=np.float32)
    elif c.shape != (m, n) or c.dtype != np.float32 or not c.flags.c_contiguous:
        raise ValueError(f"c must be a C-contiguous float32 ({m}, {n}) array")
    status = _libdnnl().dnnl_sgemm(b"N", b"N", m, n, k, alpha, a.ctypes.data, k,
                                   b.ctypes.data, n, beta, c.ctypes.data, n)
    if status != 0:
        raise RuntimeError(f"dnnl_sgemm returned status {status}")
    return c


def measure(n: int, runs: int = 5) -> dict:
    """GFLOP/s of an (n, n) @ (n, n) SGEMM in this process, after one warm-up call.

    Uses the calling process's OpenMP thread count. Returns ``{"n", "runs",
    "seconds" (each run), "gflops" (median), "gflops_max"}``; one multiply is
    ``2 n^3`` floating-point operations.
    """
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    c = np.empty((n, n), dtype=np.float32)
    sgemm(a, b, c)  # warm-up: page faults, OpenMP pool start, kernel dispatch
    secs = []
    for _ in range(runs):
        t0 = time.perf_counter()
        sgemm(a, b, c)
        secs.append(time.perf_counter() - t0)
    flops = 2.0 * n ** 3
    return {"n": n, "runs": runs, "seconds": secs,
            "gflops": flops / statistics.median(secs) / 1e9,
            "gflops_max": flops / min(secs) / 1e9}


def peak(threads=(1, 2), sizes=(2048, 4096), runs: int = 5) -> dict:
    """The SGEMM peak for each thread count, each measured in its own subprocess.

    Returns ``{str(threads): {"threads", "gflops" (best median over sizes),
    "n" (its size), "by_size": [measure(...) dicts]}}``.
    """
    out = {}
    for t in threads:
        env = dict(os.environ, OMP_NUM_THREADS=str(t))
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--runs", str(runs),
               "--sizes", *map(str, sizes)]
        res = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"gemm_peak worker ({t} threads) failed:\n{res.stderr[-2000:]}")
        by_size = json.loads(res.stdout.strip().splitlines()[-1])
        best = max(by_size, key=lambda r: r["gflops"])
        out[str(t)] = {"threads": t, "gflops": best["gflops"], "n": best["n"], "by_size": by_size}
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--sizes", type=int, nargs="+", default=[2048, 4096])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps([measure(n, args.runs) for n in args.sizes]))
        return 0
    res = peak(args.threads, args.sizes, args.runs)
    if args.json:
        print(json.dumps(res, indent=1))
        return 0
    for t, r in res.items():
        sizes = ", ".join(f"n={s['n']}: {s['gflops']:.1f}" for s in r["by_size"])
        print(f"{t} thread(s): peak {r['gflops']:.1f} GFLOP/s (n={r['n']}; {sizes})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
