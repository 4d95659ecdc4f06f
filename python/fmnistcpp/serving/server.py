"""``python -m fmnistcpp serve``: find and load the model, listen, run uvicorn."""

from __future__ import annotations

import contextlib
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Optional

__all__ = ["find_default_model", "MissingModel", "load", "listen", "run", "serve_in_thread"]

#: Where ``python -m fmnistcpp train`` writes its run folders by default.
RUNS = Path("runs")
_SUFFIXES = (".keras", ".h5", ".hdf5")


class MissingModel(RuntimeError):
    """No model file given or found; the message says how to get one."""


def find_default_model(runs: Path = RUNS) -> Path:
    """The newest ``runs/*/model.keras`` (by modification time) that ``train`` wrote."""
    found = [p for p in Path(runs).glob("*/model.keras") if p.is_file()]
    if not found:
        raise MissingModel(
            f"no MODEL given and no {runs}/*/model.keras found under {Path.cwd()}; train one "
            f"with `python -m fmnistcpp train` (it writes {runs}/<model>-<time>/model.keras) "
            f"or pass a .keras or .h5 file"
        )
    return max(found, key=lambda p: p.stat().st_mtime)


def load(path):
    """``fmnistcpp.models.load_model(path)``, with a clear error for a wrong file."""
    from .. import models

    path = Path(path)
    if not path.is_file():
        raise MissingModel(f"model file {str(path)!r} does not exist")
    if path.suffix.lower() not in _SUFFIXES:
        raise MissingModel(f"model file {str(path)!r}: expected a .keras or .h5 file")
    return models.load_model(str(path))


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket (port 0: any free port), or OSError saying why not."""
    family, kind, proto, _, addr = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def run(
    model_path: Optional[str],
    host: str = "127.0.0.1",
    port: int = 8501,
    name: Optional[str] = None,
    max_batch_size: int = 256,
    batch_timeout_ms: float = 0.0,
    max_body_mb: float = 16.0,
    access_log: bool = False,
    out=sys.stdout,
) -> int:
    """Serves until Ctrl-C or SIGTERM; returns the exit code (1: could not start)."""
    try:
        import uvicorn

        from .app import DEFAULT_NAME, create_app
    except ImportError as e:
        print(f"serve needs the 'serve' extra ({e.name} is missing): "
              f"pip install 'fmnistcpp[serve]'", file=sys.stderr)
        return 1
    try:
        path = Path(model_path) if model_path else find_default_model()
        model = load(path)
    except MissingModel as e:
        print(f"serve: error: {e}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as e:
        print(f"serve: error: cannot load {str(model_path)!r}: {e}", file=sys.stderr)
        return 1
    name = name or DEFAULT_NAME
    app = create_app(
        model, name=name, max_batch_size=max_batch_size,
        max_delay=batch_timeout_ms / 1e3, max_body=int(max_body_mb * 1024 * 1024),
    )
    try:
        sock = listen(host, port)
    except OSError as e:
        print(f"serve: error: cannot listen on {host}:{port}: {e}; choose another --port",
              file=sys.stderr)
        return 1
    bound = sock.getsockname()
    shown = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
    base = f"http://{shown}:{bound[1]}"
    print(f"Serving {path} as {name!r} (input {tuple(model.input_shape)}, batches of up to "
          f"{max_batch_size})", file=out)
    print(f"  page:    {base}/", file=out)
    print(f"  status:  {base}/v1/models/{name}", file=out)
    print(f"  predict: {base}/v1/models/{name}:predict", file=out, flush=True)
    config = uvicorn.Config(app, log_level="info", access_log=access_log, lifespan="on",
                            timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal
    # to the handler it found: this one records it, so the command returns
    # 0 (SIGTERM) or 130 (Ctrl-C, as `train`) instead of dying by the signal
    received = []
    handled = (signal.SIGINT, signal.SIGTERM)
    main = threading.current_thread() is threading.main_thread()
    before = {s: signal.signal(s, lambda sig, frame: received.append(sig)) for s in handled} if main else {}
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        for s, handler in before.items():
            signal.signal(s, handler)
    if not server.started:
        return 1
    return 130 if signal.SIGINT in received else 0


@contextlib.contextmanager
def serve_in_thread(app, host: str = "127.0.0.1", port: int = 0, timeout: float = 60.0):
    """Serves ``app`` with uvicorn in a background thread (a notebook, a test);
    yields the base URL (``port=0``: a free port) and stops the server on exit."""
    import uvicorn

    sock = listen(host, port)
    bound = sock.getsockname()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name="fmnistcpp-serve")
    thread.start()
    try:
        end = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > end:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        host_text = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
        yield f"http://{host_text}:{bound[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()
