"""Risk outputs through the real flow: alerts land in the lake, the summary and Prefect events."""

import asyncio
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest
from prefect.client.orchestration import get_client
from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter

from flows.backfill import backfill
from tasks.risk import ALERT_EVENT

START, END = date(2023, 3, 1), date(2023, 12, 29)
STRATEGY = "equal_weight"


async def _alert_events(run_id: str) -> list:
    async with get_client() as client:
        page = await client.read_events(
            EventFilter(
                event=EventNameFilter(name=[ALERT_EVENT]),
                resource=EventResourceFilter(id=[f"indexlake.strategy.{STRATEGY}"]),
            ),
            limit=50,
        )
    return [e for e in page.events if e.payload.get("run_id") == run_id]


def test_breaches_are_published_summarised_and_emitted(
    lake_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A tracking error threshold no index meets; the other two out of reach.
    monkeypatch.setenv("INDEXLAKE_RISK__ALERTS__TRACKING_ERROR", "0.0001")
    monkeypatch.setenv("INDEXLAKE_RISK__ALERTS__VOLATILITY", "100")
    monkeypatch.setenv("INDEXLAKE_RISK__ALERTS__DRAWDOWN", "-0.99")
    state = backfill(start=START, end=END, strategies=[STRATEGY], mode="all", return_state=True)
    assert state.is_completed(), state.message
    run = state.result()

    assert list(run.alerts["metric"]) == ["tracking_error"]
    alert = run.alerts.iloc[0]
    assert alert["strategy_id"] == STRATEGY and alert["threshold"] == 0.0001

    con = duckdb.connect(str(lake_env / "indexlake.duckdb"), read_only=True)
    try:
        stored = con.execute(
            "select metric, value, run_id from risk_alerts where strategy_id = ?", [STRATEGY]
        ).fetchall()
        te = con.execute(
            "select tracking_error from risk_metrics where strategy_id = ? and subject = "
            "'strategy' and \"window\" = 'trailing_252d'",
            [STRATEGY],
        ).fetchone()[0]
        comparison = con.execute(
            "select count(*), min(benchmark_symbol) from strategy_comparison"
        ).fetchone()
        kinds = con.execute("select distinct test from stress_tests order by 1").fetchall()
        rolling = con.execute("select count(*) from rolling_series").fetchone()[0]
    finally:
        con.close()
    assert stored == [("tracking_error", pytest.approx(te), run.run_id)]
    assert comparison == (1, "SPX")
    assert [k for (k,) in kinds] == [
        "beta_shock",
        "historical_window",
        "sector_shock",
        "worst_period",
    ]
    assert rolling > 0
    assert not run.comparison.empty

    events: list = []
    deadline = time.monotonic() + 30
    while not events and time.monotonic() < deadline:
        events = asyncio.run(_alert_events(run.run_id))
        if not events:
            time.sleep(0.5)
    assert len(events) == 1
    payload = events[0].payload
    assert payload["metric"] == "tracking_error" and payload["window"] == "trailing_252d"
    assert payload["value"] == pytest.approx(te)
    assert payload["comparison"] == "above" and payload["threshold"] == 0.0001
