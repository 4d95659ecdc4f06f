"""A second numeric process beside a benchmark: a NumPy matrix-product loop
on two BLAS threads, as when a second notebook trains on the same machine.

It runs in its own process (its own BLAS thread pool, like a real
neighbour) and appends one line per ``--interval`` to a log: the
``time.perf_counter()`` of the moment (CLOCK_MONOTONIC, the same clock in
every process of the machine) and the matrix products done so far. So the
neighbour's throughput over any window, e.g. one framework's training run,
is read off afterwards (``NumpyLoad.gflops(t0, t1)``) without disturbing it.

    python benchmarks/numpy_load.py --seconds 10          # prints its GFLOP/s
    with NumpyLoad() as load:                              # in a benchmark
        t0 = time.perf_counter(); run(); t1 = time.perf_counter()
    load.gflops(t0, t1)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

#: Matrix side: a 1024 x 1024 float32 product is 2.1 GFLOP, 10-40 ms on two
#: cores, so the loop's throughput is sampled finely and it never pauses long.
DEFAULT_N = 1024
DEFAULT_THREADS = 2
#: Where the neighbour runs relative to the benchmark (see NumpyLoad).
SESSIONS = ("same", "own")


def _loop(n: int, log: str, interval: float, seconds: float | None,
          parent: int | None = None) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.random((n, n), dtype=np.float32)
    b = rng.random((n, n), dtype=np.float32)
    c = np.empty_like(a)
    done = 0
    start = last = time.perf_counter()
    with open(log, "a", buffering=1) as f:
        f.write(f"{start:.6f} 0\n")
        while seconds is None or last - start < seconds:
            np.matmul(a, b, out=c)
            done += 1
            now = time.perf_counter()
            if now - last >= interval:
                f.write(f"{now:.6f} {done}\n")
                last = now
                # A benchmark killed before it could stop us must not leave
                # a load running on a shared machine: we exit with it.
                if parent is not None and os.getppid() != parent:
                    return
        f.write(f"{time.perf_counter():.6f} {done}\n")


def read_log(path: str) -> list:
    """[(perf_counter time, products done)] from a load log."""
    rows = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                rows.append((float(parts[0]), int(parts[1])))
    return rows


def gflops_between(rows: list, t0: float, t1: float, n: int) -> float | None:
    """The loop's GFLOP/s between t0 and t1, from its log rows (linear between
    samples); None when the log does not cover the window."""
    if len(rows) < 2 or rows[0][0] > t0 or rows[-1][0] < t1 or t1 <= t0:
        return None

    def done_at(t):
        for (ta, da), (tb, db) in zip(rows, rows[1:]):
            if ta <= t <= tb:
                return da + (db - da) * ((t - ta) / (tb - ta) if tb > ta else 1.0)
        return rows[-1][1]

    return (done_at(t1) - done_at(t0)) * 2 * n ** 3 / (t1 - t0) / 1e9


class NumpyLoad:
    """The loop in a child process for the duration of a ``with`` block.

    ``threads`` BLAS threads (OpenBLAS, MKL or whatever NumPy has, all told
    through their environment variables). Entering waits until the loop has
    done its first products, so the load is on when the block starts.

    ``session`` decides how Linux shares the cores, because with
    ``kernel.sched_autogroup_enabled=1`` (Debian's and Ubuntu's default) the
    scheduler is fair between *sessions* first and between threads only
    within one: ``"own"`` starts the loop in a session of its own, as a
    second Jupyter kernel (jupyter_client starts every kernel with
    ``start_new_session=True``) or a script in another terminal runs;
    ``"same"`` keeps it in the benchmark's session, as a worker process the
    training script started itself would be, where every thread of both
    processes gets an equal share."""

    def __init__(self, threads: int = DEFAULT_THREADS, n: int = DEFAULT_N,
                 interval: float = 0.1, python: str = sys.executable, session: str = "same"):
        if session not in SESSIONS:
            raise ValueError(f"session must be one of {SESSIONS}, got {session!r}")
        self.threads, self.n, self.interval, self.python = threads, n, interval, python
        self.session = session
        self._dir = None
        self.proc = None
        self.log = None

    def __enter__(self):
        self._dir = tempfile.TemporaryDirectory()
        self.log = os.path.join(self._dir.name, "load.log")
        t = str(self.threads)
        env = dict(os.environ, OPENBLAS_NUM_THREADS=t, OMP_NUM_THREADS=t, MKL_NUM_THREADS=t)
        self.proc = subprocess.Popen(
            [self.python, os.path.abspath(__file__), "--n", str(self.n), "--log", self.log,
             "--interval", str(self.interval), "--parent", str(os.getpid())], env=env,
            start_new_session=self.session == "own")
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the NumPy load exited with {self.proc.returncode}")
            if os.path.exists(self.log) and len(read_log(self.log)) >= 2:
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("the NumPy load did not start within 60 s")

    def gflops(self, t0: float, t1: float) -> float | None:
        """The loop's GFLOP/s between two ``time.perf_counter()`` readings.
        Waits (a few log intervals at most) until the log covers t1."""
        deadline = time.perf_counter() + 20 * self.interval + 1.0
        rows = read_log(self.log)
        while rows and rows[-1][0] < t1 and time.perf_counter() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                break
            time.sleep(self.interval / 2)
            rows = read_log(self.log)
        return gflops_between(rows, t0, t1, self.n)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __exit__(self, *exc):
        self.stop()
        self._dir.cleanup()
        return False


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=DEFAULT_N, help="matrix side (float32)")
    p.add_argument("--log", help="append (time, products) lines here; default: print GFLOP/s")
    p.add_argument("--interval", type=float, default=0.1, help="seconds between log lines")
    p.add_argument("--seconds", type=float, default=None, help="stop after this long")
    p.add_argument("--parent", type=int, default=None,
                   help="exit when this process (the benchmark) is gone")
    p.add_argument("--threads", type=int, default=None,
                   help="BLAS threads (default: as the environment says)")
    args = p.parse_args(argv)
    if args.threads:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    if args.log:
        _loop(args.n, args.log, args.interval, args.seconds, args.parent)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "load.log")
        _loop(args.n, log, args.interval, args.seconds or 5.0)
        rows = read_log(log)
    print(f"{gflops_between(rows, rows[0][0], rows[-1][0], args.n):.1f} GFLOP/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
