"""Prefect tasks around ingest: plan what to fetch, fetch and land a chunk."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger
from prefect.tasks import exponential_backoff

from indexlake.pipeline import ingest
from indexlake.pipeline.incremental import FetchJob, backfill_jobs, refresh_jobs
from indexlake.pipeline.ingest import Mode
from indexlake.sources.base import Source
from indexlake.sources.errors import AuthError, BadRequestError, DailyLimitError, PlanError


def _worth_retrying(task: object, task_run: object, state: object) -> bool:
    """Retry a chunk after transient failures, never after the vendor refused for good: a bad
    key, a plan without the data, a bad request, or the day's credits spent."""
    try:
        state.result()  # type: ignore[attr-defined]
    except (AuthError, PlanError, BadRequestError, DailyLimitError):
        return False
    except Exception:
        return True
    return True


@task(name="plan-backfill", task_run_name="plan {mode} {start}..{end}", cache_policy=NO_CACHE)
def plan_backfill(
    lake_root: Path, symbols: list[str], start: date, end: date, chunk_years: int, mode: Mode
) -> list[FetchJob]:
    """The chunks to fetch; in "missing" mode without the years already landed and validated."""
    jobs = backfill_jobs(lake_root, symbols, start, end, chunk_years, mode)
    logger = get_run_logger()
    fetched = {y for j in jobs for y in range(j.start.year, j.end.year + 1)}
    skipped = [y for y in range(start.year, end.year + 1) if y not in fetched]
    if skipped:
        logger.info("already landed and validated, skipped: %s", ", ".join(map(str, skipped)))
    logger.info("to fetch: %s", ", ".join(j.label for j in jobs) or "nothing")
    return jobs


@task(name="plan-refresh", cache_policy=NO_CACHE)
def plan_refresh(
    lake_root: Path,
    symbols: list[str],
    benchmarks: list[str],
    history_start: date,
    latest: date,
    chunk_years: int,
) -> list[FetchJob]:
    """The daily refresh's fetches: every symbol from the day after its own last landed date."""
    jobs = refresh_jobs(lake_root, symbols, benchmarks, history_start, latest, chunk_years)
    logger = get_run_logger()
    for j in jobs:
        logger.info("to fetch %s: %d symbols", j.label, len(j.symbols))
    if not jobs:
        logger.info("every symbol is landed through %s: nothing to fetch", latest)
    return jobs


@task(
    name="ingest-chunk",
    task_run_name="ingest {start}..{end}",
    retries=2,
    retry_delay_seconds=exponential_backoff(backoff_factor=2),
    retry_jitter_factor=0.5,
    retry_condition_fn=_worth_retrying,
    cache_policy=NO_CACHE,
)
def ingest_chunk(
    source: Source,
    data_dir: Path,
    run_id: str,
    symbols: list[str],
    benchmarks: list[str],
    start: date,
    end: date,
    *,
    dividends: bool = True,
) -> list[ingest.StagedBatch]:
    """Fetch one chunk of prices, market caps and dividends and land it in staging."""
    logger = get_run_logger()
    batches = ingest.ingest_chunk(
        source, data_dir, run_id, symbols, benchmarks, start, end, dividends=dividends
    )
    served = batches[0].benchmark
    if served != benchmarks[0]:
        logger.warning("benchmark %s unavailable: %s served instead", benchmarks[0], served)
    for b in batches:
        logger.info("landed %s %s: %d rows in staging", b.dataset, b.label, b.rows)
        for err in b.errors:
            logger.warning("%s %s: %s (code %d)", b.dataset, err.symbol, err.message, err.code)
    return batches
