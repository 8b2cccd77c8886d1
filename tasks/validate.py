"""Prefect task around validation: run a batch's suite, record it, log the outcome."""

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
    return report
