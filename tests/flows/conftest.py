"""A real Prefect test server for the flow tests, and a sandbox-backed lake in tmp_path."""

from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
N_SYMBOLS = 30


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture
def lake_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_server: None) -> Path:
    """Settings pointing at a fresh data dir, the shipped strategies and suites, 30 symbols."""
    monkeypatch.chdir(tmp_path)  # no indexlake.toml from the checkout
    monkeypatch.delenv("INDEXLAKE_CONFIG", raising=False)
    monkeypatch.setenv("INDEXLAKE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("INDEXLAKE_STRATEGIES_DIR", str(REPO / "strategies"))
    monkeypatch.setenv("INDEXLAKE_EXPECTATIONS_DIR", str(REPO / "expectations"))
    monkeypatch.setenv("INDEXLAKE_SANDBOX__N_SYMBOLS", str(N_SYMBOLS))
    return tmp_path / "data"
