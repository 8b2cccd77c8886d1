"""Daily refresh: land the trading days since the last landed one, then recompute outputs."""

from __future__ import annotations

from datetime import timedelta

from prefect import flow

from flows.pipeline import run_pipeline
from indexlake.calendar import latest_completed_trading_day
from indexlake.config import load_settings
from indexlake.pipeline.ingest import latest_landed_date
from indexlake.pipeline.ranges import history_range
from indexlake.pipeline.summary import RunSummary


@flow(name="daily-refresh")
def daily_refresh(strategies: list[str] | None = None) -> RunSummary:
    """Fetch what is new since the last landed session (or the default history on first run)."""
    settings = load_settings()
    latest = latest_completed_trading_day()
    last = latest_landed_date(settings.lake_root)
    if last is None:
        start, end = history_range(latest, settings.history_years)
    else:
        # Up to date: the latest session alone, which "missing" then finds landed and skips.
        start, end = min(last + timedelta(days=1), latest), latest
    return run_pipeline(settings, start, end, strategy_ids=strategies, symbols=None, mode="missing")
