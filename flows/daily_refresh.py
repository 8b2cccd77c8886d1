"""Daily refresh: land what each symbol is missing since its last landed day, then append the
new sessions to each strategy (or recompute it when its definition or earlier inputs changed)."""

from __future__ import annotations

from prefect import flow

from flows.pipeline import run_pipeline
from indexlake.calendar import latest_completed_trading_day
from indexlake.config import load_settings
from indexlake.pipeline.ranges import history_range
from indexlake.pipeline.summary import RunSummary
from indexlake.sources.factory import benchmark_candidates, universe
from tasks.ingest import plan_refresh


@flow(name="daily-refresh")
def daily_refresh(strategies: list[str] | None = None) -> RunSummary:
    """Fetch, per symbol, the sessions after its own last landed one (the default history for
    a symbol never landed); symbols already up to date fetch nothing."""
    settings = load_settings()
    latest = latest_completed_trading_day()
    history_start, _ = history_range(latest, settings.history_years)
    jobs = plan_refresh(
        settings.lake_root,
        universe(settings),
        list(benchmark_candidates(settings)),
        history_start,
        latest,
        settings.chunk_years,
    )
    start = min((j.start for j in jobs), default=latest)
    return run_pipeline(
        settings,
        start,
        latest,
        strategy_ids=strategies,
        symbols=None,
        mode="missing",
        jobs=jobs,
        incremental=True,
    )
