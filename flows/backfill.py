"""Backfill a date range: the deployment operators start from the Prefect UI."""

from __future__ import annotations

from datetime import date

from prefect import flow

from flows.pipeline import run_pipeline
from indexlake.calendar import latest_completed_trading_day
from indexlake.config import load_settings
from indexlake.pipeline.ingest import Mode
from indexlake.pipeline.ranges import check_range
from indexlake.pipeline.summary import RunSummary


@flow(name="backfill", flow_run_name="backfill {start}..{end} ({mode})")
def backfill(
    start: date,
    end: date,
    strategies: list[str] | None = None,
    symbols: list[str] | None = None,
    mode: Mode = "missing",
) -> RunSummary:
    """Land prices and market caps for [start, end], then recompute every output.

    mode "missing" skips chunks (calendar years of the range) whose prices and market caps
    are already landed for every trading day; "all" refetches and replaces the whole range.
    strategies limits which strategies are recomputed; symbols limits which are fetched.
    """
    settings = load_settings()
    check_range(start, end, latest_completed_trading_day())
    return run_pipeline(settings, start, end, strategy_ids=strategies, symbols=symbols, mode=mode)
