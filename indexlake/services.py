"""Local services the CLI starts as child processes: the Prefect server and its worker.

Nothing here imports Prefect; the server and worker are the ``prefect`` executables of the
environment this package runs in.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

PREFECT_PORT = 4200
HOST = "127.0.0.1"


class ServiceError(RuntimeError):
    """A local service that did not start, with what to look at."""


def prefect_executable() -> str:
    """The ``prefect`` command next to this interpreter (the project's venv)."""
    local = Path(sys.executable).parent / "prefect"
    return str(local) if local.exists() else (shutil.which("prefect") or "prefect")


def api_healthy(api_url: str, timeout: float = 1.0) -> bool:
    """True if a Prefect API answers its health check at ``api_url``."""
    try:
        return httpx.get(f"{api_url.rstrip('/')}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def port_free(port: int, host: str = HOST) -> bool:
    with socket.socket() as s:
        return s.connect_ex((host, port)) != 0


def free_port(host: str = HOST) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _default_signals() -> None:
    # A child of a non-interactive shell inherits SIGINT as ignored; Prefect's worker turns
    # SIGTERM into SIGINT, so it must be able to receive it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # If the parent is killed outright (no chance to stop its children), the kernel sends
    # SIGTERM to the child, so no server outlives `indexlake up`. Linux only; elsewhere skipped.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start_process(args: Sequence[str], log: Path, env: dict[str, str]) -> subprocess.Popen:
    """Start a child in its own process group, output to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as fh:
        return subprocess.Popen(
            list(args),
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            preexec_fn=_default_signals,
        )


def stop_process(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """Stop a child's process group: SIGINT (graceful), then SIGTERM, then SIGKILL."""
    for sig, wait in ((signal.SIGINT, timeout), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def wait_until(
    ready: Callable[[], bool], proc: subprocess.Popen, what: str, timeout: float = 90.0
) -> None:
    """Poll ``ready`` until it holds; fail early if ``proc`` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if proc.poll() is not None:
            raise ServiceError(f"{what}: exited with code {proc.returncode}")
        time.sleep(0.25)
    raise ServiceError(f"{what}: not ready after {timeout:.0f}s")


@contextmanager
def prefect_server(prefect_home: Path, port: int | None = None) -> Iterator[str]:
    """Use the Prefect API at ``PREFECT_API_URL`` or 127.0.0.1:4200, else start one.

    Yields the API URL. A server started here is stopped on exit; one found running is left
    alone.
    """
    configured = os.environ.get("PREFECT_API_URL")
    if configured and api_healthy(configured):
        yield configured
        return
    port = port or PREFECT_PORT
    default_url = f"http://{HOST}:{port}/api"
    if api_healthy(default_url):
        yield default_url
        return
    if not port_free(port):
        port = free_port()
    api_url = f"http://{HOST}:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(prefect_home), "PREFECT_API_URL": api_url}
    log = Path(prefect_home) / "server.log"
    proc = start_process(
        [
            prefect_executable(),
            "server",
            "start",
            "--host",
            HOST,
            "--port",
            str(port),
            "--analytics-off",
        ],
        log,
        env,
    )
    try:
        wait_until(lambda: api_healthy(api_url), proc, f"Prefect server; see {log}")
        yield api_url
    finally:
        stop_process(proc)


WORK_POOL = "indexlake"


def _prefect(args: Sequence[str], env: dict[str, str]) -> None:
    done = subprocess.run(
        [prefect_executable(), "--no-prompt", *args], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise ServiceError(f"prefect {' '.join(args)} failed:\n{done.stdout}{done.stderr}")


def run_stack(
    prefect_home: Path, api_host: str, api_port: int, prefect_port: int = PREFECT_PORT
) -> int:
    """Prefect server + deployments of prefect.yaml + a process worker + the read API.

    Runs until Ctrl-C (or SIGTERM), then stops every child; returns an exit code.
    """
    logs = Path(prefect_home) / "logs"
    with prefect_server(prefect_home, prefect_port) as api_url:
        env = {
            **os.environ,
            "PREFECT_API_URL": api_url,
            "PREFECT_HOME": str(prefect_home),
            "INDEXLAKE_ROOT": str(Path.cwd()),
        }
        _prefect(["work-pool", "create", WORK_POOL, "--type", "process", "--overwrite"], env)
        # One pipeline run at a time: the lake has a single writer.
        _prefect(["work-pool", "set-concurrency-limit", WORK_POOL, "1"], env)
        _prefect(["deploy", "--all"], env)
        children = {
            "worker": start_process(
                [prefect_executable(), "worker", "start", "--pool", WORK_POOL],
                logs / "worker.log",
                env,
            ),
            "api": start_process(
                [sys.executable, "-m", "indexlake.cli", "api"], logs / "api.log", env
            ),
        }
        wait_until(
            lambda: api_healthy(f"http://{api_host}:{api_port}"),
            children["api"],
            f"read API on {api_host}:{api_port}; see {logs / 'api.log'}",
        )
        ui = api_url.removesuffix("/api")
        print(f"Prefect UI   {ui}  (deployments: backfill/backfill, daily-refresh/daily)")
        print(f"read API     http://{api_host}:{api_port}/docs")
        print(f"logs         {logs}")
        print("Ctrl-C stops everything.", flush=True)
        code = 0
        stop = {"now": False}

        def _stop(*_: object) -> None:
            stop["now"] = True

        previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            while not stop["now"]:
                dead = [n for n, p in children.items() if p.poll() is not None]
                if dead:
                    print(f"{', '.join(dead)} stopped unexpectedly; see {logs}", file=sys.stderr)
                    code = 1
                    break
                time.sleep(0.5)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            for proc in children.values():
                stop_process(proc)
        print("stopped.")
        return code
