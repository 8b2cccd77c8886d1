"""Prefect tasks that publish: validated batches into the lake, strategy outputs, the catalog."""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from indexlake.lake.catalog import build_catalog
from indexlake.pipeline import ingest, summary


@task(
    name="publish-batch",
    task_run_name="publish {batch.dataset} {batch.label}",
    cache_policy=NO_CACHE,
)
def publish_batch(lake_root: Path, batch: ingest.StagedBatch) -> int:
    """Merge one validated batch into the lake's partitions."""
    rows = ingest.publish_batch(lake_root, batch)
    get_run_logger().info("published %s %s: %d rows", batch.dataset, batch.label, rows)
    return rows


@task(name="publish-catalog", cache_policy=NO_CACHE)
def publish_catalog(lake_root: Path, catalog_path: Path) -> None:
    """Make sure the DuckDB catalog has a view for every dataset."""
    rebuilt = build_catalog(lake_root, catalog_path)
    get_run_logger().info("catalog %s %s", catalog_path, "rebuilt" if rebuilt else "up to date")


@task(name="clear-staging", cache_policy=NO_CACHE)
def clear_staging(data_dir: Path, run_id: str) -> None:
    """Drop a run's staging files once all of them are published."""
    ingest.clear_staging(data_dir, run_id)


@task(name="report-run", cache_policy=NO_CACHE)
def report_run(run: summary.RunSummary) -> summary.RunSummary:
    """Fill in the strategy table and attach the run summary as a markdown artifact."""
    run.strategies = summary.strategy_table(run.lake_root, run.benchmark)
    run.comparison = summary.comparison_table(run.lake_root)
    create_markdown_artifact(
        key="indexlake-run-summary",
        markdown=summary.render_markdown(run),
        description=f"indexlake run {run.run_id}",
    )
    if run.stopped:
        get_run_logger().warning("run stopped early, strategies not recomputed: %s", run.stopped)
    return run
