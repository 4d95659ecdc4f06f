"""Requests per second under 1, 8, 32 concurrent clients: batched vs one request at a time.

``python -m fmnistcpp.serving.loadtest MODEL`` starts two servers on
127.0.0.1 (``serve MODEL``, batching as configured, and ``serve MODEL
--max-batch-size 1``, which predicts each request alone), then for each
client count measures both in the order A B B A (half the requests and
half the time each), with the same requests: one Fashion-MNIST test image
per ``:predict`` request, scaled ``/ 255`` as the model was trained. Every
client is a thread with its own keep-alive connection; a run stops after
``--requests`` requests or ``--duration`` seconds, whichever comes first. The clients share the machine with the
servers, so the numbers are for the whole setup on one machine.

:func:`run_clients` is the measuring loop; the tests use it too.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
from typing import List, Optional

import numpy as np

__all__ = ["call", "encode_multipart", "run_clients", "predict_bodies", "start_server",
           "stop_server", "main"]


def call(base: str, method: str, path: str, body: Optional[bytes] = None, headers=None,
         timeout: float = 30.0):
    """One request with the standard library: ``(status, headers, JSON or raw bytes)``."""
    parts = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        response = conn.getresponse()
        data = response.read()
        answer = data
        if response.getheader("Content-Type", "").startswith("application/json"):
            answer = json.loads(data)
        return response.status, dict(response.getheaders()), answer
    finally:
        conn.close()


def encode_multipart(fields: dict):
    """``(body, content_type)`` of a multipart/form-data form; a value is ``bytes``
    (a file part, named after its field) or ``(filename, bytes, mime type)``."""
    boundary = f"fmnistcpp{os.urandom(8).hex()}"
    chunks = []
    for name, value in fields.items():
        filename, data, mime = value if isinstance(value, tuple) else (name, value, "application/octet-stream")
        chunks.append(
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; "
            f"filename=\"{filename}\"\r\nContent-Type: {mime}\r\n\r\n".encode() + data + b"\r\n"
        )
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def predict_bodies(n: int = 64, input_shape=(None, 28, 28)) -> List[bytes]:
    """``n`` one-image :predict bodies from the Fashion-MNIST test set."""
    from ..datasets import fashion_mnist

    (_, _), (x, _) = fashion_mnist.load_data()
    x = (x[:n].astype(np.float32) / 255.0).reshape((-1,) + tuple(input_shape[1:]))
    return [json.dumps({"instances": [img.tolist()]}).encode() for img in x]


def run_clients(url: str, bodies: List[bytes], clients: int, requests: int,
                duration: float, timeout: float = 30.0, keep_latencies: bool = False) -> dict:
    """POSTs ``bodies`` (round robin) to ``url`` from ``clients`` threads.

    Stops after ``requests`` requests in all or ``duration`` seconds. Returns
    ``clients``, ``requests`` (answered 200), ``errors`` (other statuses or
    failed connections, with the first few messages in ``error_samples``),
    ``seconds``, ``rps`` and the latency percentiles ``p50_ms``, ``p99_ms``
    (and every latency as ``latencies_ms`` if ``keep_latencies``).
    """
    parts = urllib.parse.urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    lock = threading.Lock()
    issued = [0]
    latencies: List[float] = []
    errors: List[str] = []
    start = threading.Barrier(clients + 1)
    deadline = [0.0]

    def take() -> bool:
        with lock:
            if issued[0] >= requests or time.perf_counter() > deadline[0]:
                return False
            issued[0] += 1
            return True

    def client(k: int):
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        mine, failed = [], []
        start.wait()
        i = k
        while take():
            body = bodies[i % len(bodies)]
            i += clients
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body, {"Content-Type": "application/json"})
                response = conn.getresponse()
                data = response.read()
                if response.status == 200:
                    mine.append(time.perf_counter() - t0)
                else:
                    failed.append(f"{response.status}: {data[:200]!r}")
            except (OSError, http.client.HTTPException) as e:
                failed.append(f"{type(e).__name__}: {e}")
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors.extend(failed)

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    t0 = time.perf_counter()
    deadline[0] = t0 + duration
    start.wait()
    for t in threads:
        t.join(duration + timeout + 5)
    seconds = time.perf_counter() - t0
    lat = np.array(latencies) * 1e3 if latencies else np.zeros(1)
    extra = {"latencies_ms": (np.array(latencies) * 1e3).tolist()} if keep_latencies else {}
    return {
        **extra,
        "clients": clients,
        "requests": len(latencies),
        "errors": len(errors),
        "error_samples": errors[:5],
        "seconds": seconds,
        "rps": len(latencies) / seconds if seconds > 0 else 0.0,
        "p50_ms": float(np.percentile(lat, 50)),
        "p99_ms": float(np.percentile(lat, 99)),
    }


def start_server(model: str, *args: str, timeout: float = 120.0, cwd=None):
    """Starts ``python -m fmnistcpp serve MODEL --port 0 ARGS``; returns (process, base URL).

    The URL is read from the line the command prints once it listens (what it
    printed until then is ``process.startup_log``, all it prints goes on into
    ``process.log_lines``); the server is ready when ``/stats`` answers."""
    cmd = [sys.executable, "-m", "fmnistcpp", "serve", *([str(model)] if model else []),
           "--port", "0", *map(str, args)]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env, cwd=cwd)
    end = time.monotonic() + timeout
    lines = []
    base = None
    while base is None:
        line = proc.stdout.readline()
        if not line:
            proc.wait(10)
            raise RuntimeError(f"serve exited with {proc.returncode}:\n" + "".join(lines))
        lines.append(line)
        m = re.search(r"page:\s+(http://\S+?)/\s*$", line)
        if m:
            base = m.group(1)
        if time.monotonic() > end:
            proc.kill()
            raise RuntimeError("serve did not start in time:\n" + "".join(lines))
    proc.startup_log = "".join(lines)
    proc.log_lines = lines
    # keep reading the log, so the server never blocks on a full pipe
    threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()
    host, port = urllib.parse.urlsplit(base).hostname, urllib.parse.urlsplit(base).port
    while time.monotonic() < end:
        try:
            conn = http.client.HTTPConnection(host, port, timeout=5)
            conn.request("GET", "/stats")
            if conn.getresponse().status == 200:
                conn.close()
                return proc, base
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("serve listens but does not answer")


def stop_server(proc) -> Optional[int]:
    """Stops a server from :func:`start_server` (SIGTERM, then SIGKILL); its exit code."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    return proc.returncode


def _stats(base: str) -> dict:
    return call(base, "GET", "/stats")[2]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m fmnistcpp.serving.loadtest", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="model file to serve (.keras or .h5)")
    p.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    p.add_argument("--requests", type=int, default=3000, help="requests per run at most")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per run at most")
    p.add_argument("--threads", type=int, default=1, help="engine threads of each server")
    p.add_argument("--max-batch-size", type=int, default=256, help="the batched server's")
    p.add_argument("--json", metavar="FILE", help="also write the results here")
    args = p.parse_args(argv)

    from .. import models
    from .app import DEFAULT_NAME

    predict_path = f"/v1/models/{DEFAULT_NAME}:predict"
    input_shape = models.load_model(args.model).input_shape
    bodies = predict_bodies(64, input_shape)
    common = ["--threads", str(args.threads)]
    servers = {
        "batched": start_server(args.model, *common, "--max-batch-size", str(args.max_batch_size)),
        "one at a time": start_server(args.model, *common, "--max-batch-size", "1"),
    }
    results = []
    try:
        for base in (b for _, b in servers.values()):  # warm both up
            run_clients(base + predict_path, bodies, 4, 200, 5.0)
        for clients in args.clients:
            # A B B A, half the requests each: a drift in the machine's load
            # (other jobs) falls on both servers alike
            parts = {label: [] for label in servers}
            for label in list(servers) + list(servers)[::-1]:
                base = servers[label][1]
                before = _stats(base)["batching"]
                r = run_clients(base + predict_path, bodies, clients, args.requests // 2,
                                args.duration / 2, keep_latencies=True)
                after = _stats(base)["batching"]
                r["predicts"] = after["batches"] - before["batches"]
                parts[label].append(r)
            for label, (a, b) in parts.items():
                lat = np.array(a["latencies_ms"] + b["latencies_ms"] or [0.0])
                r = {
                    "server": label, "clients": clients,
                    "requests": a["requests"] + b["requests"], "errors": a["errors"] + b["errors"],
                    "error_samples": a["error_samples"] + b["error_samples"],
                    "seconds": a["seconds"] + b["seconds"],
                    "p50_ms": float(np.percentile(lat, 50)), "p99_ms": float(np.percentile(lat, 99)),
                }
                r["rps"] = r["requests"] / r["seconds"]
                r["mean_batch"] = r["requests"] / max(1, a["predicts"] + b["predicts"])
                results.append(r)
                print(f"{label:>14}  {clients:>3} clients  {r['rps']:8.0f} req/s  "
                      f"p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms  "
                      f"{r['mean_batch']:5.1f} requests/predict  {r['errors']} errors",
                      flush=True)
    finally:
        for proc, _ in servers.values():
            stop_server(proc)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            for r in results:
                r.pop("latencies_ms", None)
            json.dump(results, f, indent=2)
    return 0 if all(r["errors"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
