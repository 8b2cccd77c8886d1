"""Prefect tasks around ingest: pick what to fetch, fetch and land a chunk."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger
from prefect.tasks import exponential_backoff

from indexlake.pipeline import ingest
from indexlake.sources.base import Source


@task(name="check-landed", task_run_name="check landed {start}..{end}", cache_policy=NO_CACHE)
def chunk_landed(lake_root: Path, symbols: list[str], start: date, end: date) -> bool:
    """Whether a chunk is already landed for every trading day (then "missing" skips it)."""
    landed = ingest.chunk_landed(lake_root, symbols, start, end)
    if landed:
        get_run_logger().info("%s..%s already landed: skipped", start, end)
    return landed


@task(
    name="ingest-chunk",
    task_run_name="ingest {start}..{end}",
    retries=2,
    retry_delay_seconds=exponential_backoff(backoff_factor=2),
    retry_jitter_factor=0.5,
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
) -> list[ingest.StagedBatch]:
    """Fetch one chunk of prices and market caps and land it in staging."""
    logger = get_run_logger()
    batches = ingest.ingest_chunk(source, data_dir, run_id, symbols, benchmarks, start, end)
    served = batches[0].benchmark
    if served != benchmarks[0]:
        logger.warning("benchmark %s unavailable: %s served instead", benchmarks[0], served)
    for b in batches:
        logger.info("landed %s %s: %d rows in staging", b.dataset, b.label, b.rows)
        for err in b.errors:
            logger.warning("%s %s: %s (code %d)", b.dataset, err.symbol, err.message, err.code)
    return batches
