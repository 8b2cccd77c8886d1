"""The real app under uvicorn, queried over loopback while the pipeline holds the catalog lock."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import httpx
import pytest
import uvicorn

from indexlake.api import app as api_app
from indexlake.api.app import create_app, serve
from indexlake.config import Settings

STARTUP_TIMEOUT_S = 10.0
# Stands in for a pipeline run: opens the catalog read-write and holds it until stdin closes.
PIPELINE_WRITER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("CREATE OR REPLACE TABLE runs AS SELECT 1 AS run_id")
print("locked", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def live_url(settings: Settings, lake) -> Iterator[str]:
    """Base URL of the app served by uvicorn on a free loopback port, in a thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_TIMEOUT_S)
        sock.close()


@pytest.fixture
def pipeline_holding_catalog(settings: Settings) -> Iterator[Path]:
    """A separate process holding a read-write DuckDB connection on the catalog file."""
    catalog = settings.catalog_path
    catalog.parent.mkdir(parents=True, exist_ok=True)
    writer = subprocess.Popen(
        [sys.executable, "-c", PIPELINE_WRITER, str(catalog)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "locked"
        yield catalog
    finally:
        assert writer.stdin is not None
        writer.stdin.close()
        writer.wait(timeout=10)


def test_serves_while_the_pipeline_holds_the_catalog_lock(
    live_url: str, pipeline_holding_catalog: Path
) -> None:
    # The lock is real: a reader that did open the catalog would fail now.
    with pytest.raises(duckdb.IOException, match="lock"):
        duckdb.connect(str(pipeline_holding_catalog), read_only=True)

    paths = [
        "/health",
        "/v1/strategies",
        "/v1/strategies/alpha/levels",
        "/v1/strategies/alpha/allocations",
        "/v1/strategies/alpha/orders",
        "/v1/strategies/alpha/risk",
        "/v1/strategies/alpha/vs-benchmark",
        "/v1/strategies/2024/levels?start=2024-01-02&end=2024-01-05",
    ]
    with httpx.Client(base_url=live_url, timeout=10) as client:
        # Concurrent requests: each runs on its own DuckDB cursor in uvicorn's thread pool.
        with ThreadPoolExecutor(max_workers=4) as pool:
            responses = list(pool.map(client.get, paths * 3))
        assert [r.status_code for r in responses] == [200] * len(responses)
        assert client.get("/health").json()["status"] == "ok"
        window = client.get("/v1/strategies/2024/levels?start=2024-01-02&end=2024-01-05")
        assert len(window.json()["levels"]) == 4


def test_serve_runs_uvicorn_on_the_configured_address(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[object, dict[str, object]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    serve(settings.model_copy(update={"api": settings.api.model_copy(update={"port": 8123})}))
    [(app, kwargs)] = calls
    assert kwargs == {"host": "127.0.0.1", "port": 8123}
    assert app.title == "indexlake"
    assert api_app.API_PREFIX == "/v1"
