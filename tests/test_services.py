"""`indexlake up` (what `make up` runs): Prefect server + UI, deployments, worker and read API.

Starts the real stack on free ports with state in tmp_path, runs the backfill deployment the
way an operator's "Custom run" does, and stops everything with Ctrl-C (SIGINT).
"""

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx
import pytest

from indexlake.services import free_port

REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT = 120.0
RUN_TIMEOUT = 180.0


def _wait_for_line(proc: subprocess.Popen, text: str, timeout: float) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        if text in line:
            return seen
    raise AssertionError(f"no {text!r} within {timeout}s; output:\n{''.join(seen)}")


@pytest.fixture
def stack(tmp_path: Path):
    prefect_port, api_port = free_port(), free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / ".prefect"),
        "INDEXLAKE_DATA_DIR": str(tmp_path / "data"),
        "INDEXLAKE_API__PORT": str(api_port),
        "INDEXLAKE_SANDBOX__N_SYMBOLS": "20",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("PREFECT_API_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "indexlake.cli", "up", "--prefect-port", str(prefect_port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        _wait_for_line(proc, "Ctrl-C stops everything", START_TIMEOUT)
        yield proc, f"http://127.0.0.1:{prefect_port}/api", f"http://127.0.0.1:{api_port}"
    finally:
        if proc.poll() is None:  # a failed test: stop the stack the way Ctrl-C does
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def test_up_serves_ui_and_api_and_runs_a_backfill_from_the_deployment(stack) -> None:
    proc, prefect_api, read_api = stack
    assert httpx.get(f"{prefect_api}/health", timeout=5).status_code == 200
    assert httpx.get(prefect_api.removesuffix("/api"), timeout=5).status_code == 200  # the UI
    assert httpx.get(f"{read_api}/health", timeout=5).status_code == 200

    deployments = httpx.post(f"{prefect_api}/deployments/filter", json={}, timeout=10).json()
    by_name = {d["name"]: d for d in deployments}
    assert set(by_name) == {"backfill", "daily"}
    form = by_name["backfill"]["parameter_openapi_schema"]["properties"]
    assert form["start"]["format"] == form["end"]["format"] == "date"  # date pickers
    assert form["mode"]["enum"] == ["missing", "all"]  # a dropdown
    schedule = by_name["daily"]["schedules"][0]["schedule"]
    assert schedule["cron"] == "30 18 * * 1-5" and schedule["timezone"] == "America/New_York"

    # Like Prefect's own client, retry what the server calls transient (busy database).
    for _ in range(10):
        created = httpx.post(
            f"{prefect_api}/deployments/{by_name['backfill']['id']}/create_flow_run",
            json={"parameters": {"start": str(date(2024, 1, 2)), "end": str(date(2024, 3, 28))}},
            timeout=30,
        )
        if created.status_code not in (408, 429, 500, 502, 503):
            break
        time.sleep(2)
    assert created.status_code == 201, f"{created.status_code}: {created.text}"
    run = created.json()
    deadline = time.monotonic() + RUN_TIMEOUT
    state = None
    while time.monotonic() < deadline:
        state = httpx.get(f"{prefect_api}/flow_runs/{run['id']}", timeout=5).json()["state"]
        if state["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            break
        time.sleep(1)
    assert state is not None and state["type"] == "COMPLETED", state

    strategies = httpx.get(f"{read_api}/v1/strategies", timeout=10).json()
    # Three months of history: too short for the lookbacks of inverse_vol (63 returns) and
    # min_variance (252), which are listed (from their files) but not computed yet.
    computed = sorted(s["id"] for s in strategies if s["last_date"] is not None)
    assert computed == ["capped_cap10", "equal_weight", "top50_cap", "top50_cap_tr", "ucits_capped"]
    assert {s["id"] for s in strategies} >= {"inverse_vol", "min_variance"}
    levels = httpx.get(f"{read_api}/v1/strategies/equal_weight/levels", timeout=10).json()
    assert levels["levels"][0]["level"] == 1000.0
    assert levels["levels"][-1]["date"] == "2024-03-28"

    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in the terminal
    assert proc.wait(timeout=60) == 0
    assert "stopped." in proc.stdout.read()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{prefect_api}/health", timeout=2)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{read_api}/health", timeout=2)


def test_children_stop_when_up_is_killed(stack) -> None:
    """A SIGKILL leaves no time to clean up: the children must not outlive `indexlake up`."""
    proc, prefect_api, read_api = stack
    assert httpx.get(f"{read_api}/health", timeout=5).status_code == 200
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 30
    alive = True
    while alive and time.monotonic() < deadline:
        alive = False
        for url in (f"{prefect_api}/health", f"{read_api}/health"):
            try:
                httpx.get(url, timeout=1)
                alive = True
            except httpx.TransportError:
                pass
        time.sleep(0.5)
    assert not alive, "Prefect server or read API still answering after `indexlake up` died"
