"""Serve the sandbox from a child process instead of a thread of the client's process.

In a thread, the sandbox's JSON building and HTTP serving share the client's GIL, so fetching
is bound to one core however the work splits. In its own process the server runs beside the
client on another core, as the vendor's servers do: ``SandboxSettings.own_process`` picks this
for large runs (the benchmark). Switchable faults need the in-thread server (their read-back is
in-process) and are refused here.

The parent binds and listens on the socket and hands it to the child (``pass_fds``), so the
URL is known at once and no port can be taken in between; requests sent before the child
serves wait in the listen backlog.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import httpx

PR_SET_PDEATHSIG = 1  # linux/prctl.h
START_SECONDS = 30.0


def _die_with_parent() -> None:
    # The kernel sends SIGTERM to the child if the parent dies without stopping it (Linux).
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@contextmanager
def serve_sandbox_process(
    seed: int,
    n_symbols: int,
    as_of: date | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    **app_options: Any,
) -> Iterator[str]:
    """Serve ``SandboxMarket(seed, n_symbols, as_of)`` from a child process; yields its base
    URL and stops the child on exit. ``app_options`` go to ``create_sandbox_app``."""
    if app_options.get("faults") is not None:
        raise ValueError("sandbox faults need the in-process server: turn own_process off")
    app_options.pop("faults", None)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    url = f"http://{host}:{sock.getsockname()[1]}"
    config = {
        "seed": seed,
        "n_symbols": n_symbols,
        "as_of": as_of.isoformat() if as_of else None,
        "fd": sock.fileno(),
        "options": app_options,
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "indexlake.sources.sandbox.process", json.dumps(config)],
        pass_fds=[sock.fileno()],
        preexec_fn=_die_with_parent,  # only a prctl call between fork and exec
    )
    try:
        _wait_until_serving(url, child)
        yield url
    finally:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        sock.close()


def _wait_until_serving(url: str, child: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        if child.poll() is not None:
            raise RuntimeError(f"sandbox process exited with code {child.returncode} at start")
        try:
            httpx.get(f"{url}/__requests", timeout=1.0)
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"sandbox process did not serve {url} in time") from None
            time.sleep(0.05)


def main(argv: list[str] | None = None) -> None:
    """Child side: build the market and app, serve the inherited socket until terminated."""
    import uvicorn

    from indexlake.sources.sandbox.market import SandboxMarket
    from indexlake.sources.sandbox.server import create_sandbox_app

    config = json.loads((argv or sys.argv[1:])[0])
    as_of = date.fromisoformat(config["as_of"]) if config["as_of"] else None
    market = SandboxMarket(config["seed"], config["n_symbols"], as_of)
    app = create_sandbox_app(market, **config["options"])
    sock = socket.socket(fileno=config["fd"])
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", log_config=None)
    )
    signal.signal(signal.SIGTERM, lambda *_: setattr(server, "should_exit", True))
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()
