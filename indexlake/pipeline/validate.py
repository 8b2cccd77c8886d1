"""Validate a staged batch with its Great Expectations suite and record the outcome."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from indexlake.lake.partitions import partition_dir, to_table, write_file_atomic
from indexlake.lake.schemas import DQ_RESULTS
from indexlake.pipeline.ingest import StagedBatch, read_staged
from indexlake.quality.runner import ValidationReport, validate_frame


def suite_path(expectations_dir: Path, dataset: str) -> Path:
    """The JSON suite that guards ``dataset``."""
    return Path(expectations_dir) / f"{dataset}.json"


def validate_batch(
    batch: StagedBatch, expectations_dir: Path, lake_root: Path, run_id: str
) -> ValidationReport:
    """Run the dataset's suite on a staged batch and land the results in ``dq_results``."""
    report = validate_frame(
        read_staged(batch),
        suite_path(expectations_dir, batch.dataset),
        dataset=batch.dataset,
        partition=batch.label,
    )
    results = report.to_frame(run_id=run_id, validated_at=datetime.now(tz=UTC))
    name = f"run-{run_id}-{batch.start}_{batch.end}.parquet"
    write_file_atomic(
        to_table(results, DQ_RESULTS), partition_dir(lake_root, DQ_RESULTS, batch.dataset) / name
    )
    return report
