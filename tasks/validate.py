"""Prefect tasks around validation: run a batch's suite, quarantine, decide what publishes."""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from indexlake.pipeline import validate
from indexlake.pipeline.ingest import StagedBatch
from indexlake.quality.runner import ValidationReport


@task(
    name="validate-batch",
    task_run_name="validate {batch.dataset} {batch.label}",
    cache_policy=NO_CACHE,
)
def validate_batch(
    batch: StagedBatch, expectations_dir: Path, lake_root: Path, run_id: str
) -> ValidationReport:
    """Validate one staged batch; the caller decides what a failure stops."""
    report = validate.validate_batch(batch, expectations_dir, lake_root, run_id)
    logger = get_run_logger()
    if report.success:
        logger.info("%s %s: suite %s passed", batch.dataset, batch.label, report.suite)
    else:
        logger.error("%s", report.failure_message())
    warnings = [o for o in report.outcomes if not o.success and not o.fails_batch]
    for outcome in warnings:
        logger.warning("%s %s: %s", batch.dataset, batch.label, outcome.describe())
    if report.quarantined:
        logger.warning(
            "%s %s: %d rows quarantined (dataset quarantine)",
            batch.dataset,
            batch.label,
            report.quarantined,
        )
    return report


@task(name="gate-batch", task_run_name="gate {batch.dataset} {batch.label}", cache_policy=NO_CACHE)
def publishable_batch(batch: StagedBatch, report: ValidationReport) -> StagedBatch | None:
    """The batch to publish (its clean rows when partial publishing applies), or None."""
    clean = validate.publishable_batch(batch, report)
    if clean is None:
        get_run_logger().error("%s %s stays in staging (not published)", batch.dataset, batch.label)
    elif clean is not batch:
        get_run_logger().warning(
            "%s %s: publishing %d clean rows of %d",
            batch.dataset,
            batch.label,
            clean.rows,
            batch.rows,
        )
    return clean


@task(name="resolve-quarantine", cache_policy=NO_CACHE)
def resolve_quarantine(lake_root: Path, batch: StagedBatch, run_id: str) -> int:
    """Close the quarantine rows of keys the published batch now holds clean."""
    resolved = validate.resolve_quarantine(lake_root, batch, run_id)
    if resolved:
        get_run_logger().info(
            "%s %s: %d quarantined rows resolved", batch.dataset, batch.label, resolved
        )
    return resolved


@task(name="check-freshness", cache_policy=NO_CACHE)
def check_freshness(expectations_dir: Path, lake_root: Path, run_id: str) -> ValidationReport:
    """Is the latest landed trading day recent enough? A warning, not a failure, by default."""
    report = validate.validate_freshness(expectations_dir, lake_root, run_id)
    logger = get_run_logger()
    for outcome in report.outcomes:
        if not outcome.success:
            log = logger.error if outcome.fails_batch else logger.warning
            log("freshness: %s", outcome.describe())
    return report


@task(name="build-data-docs", cache_policy=NO_CACHE)
def build_data_docs(reports: list[ValidationReport], run_id: str, data_dir: Path) -> Path | None:
    """Render the run's GX results as static Data Docs; a failure here never fails the run."""
    from indexlake.quality import docs

    try:
        index = docs.build_data_docs(reports, run_id, docs.docs_dir(data_dir))
    except Exception as exc:  # rendering is a report, not a gate: log and go on
        get_run_logger().warning("Data Docs not built: %s: %s", type(exc).__name__, exc)
        return None
    if index is not None:
        get_run_logger().info("Data Docs: %s", index.as_uri())
    return index
