"""Validate a staged batch with its suite, record the outcome, quarantine what fails.

Flow of one batch: ``validate_batch`` runs the dataset's suite (GX expectations + indexlake
checks, with the published days just before the batch as context) and lands every outcome in
``dq_results``; rows failing a critical expectation go to the ``quarantine`` dataset.
``publishable_batch`` then says what may be published: the batch as staged, the batch with
its quarantined rows taken out and any known split repaired (``meta.partial_publish``), or
nothing (the batch waits in staging). After publishing, ``resolve_quarantine`` closes the
quarantine rows of keys that have now published clean.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from indexlake.calendar import latest_completed_trading_day
from indexlake.lake.partitions import (
    partition_dir,
    partition_file,
    read_partition,
    to_table,
    write_file_atomic,
)
from indexlake.lake.query import query_frame
from indexlake.lake.schemas import DATASETS, DQ_RESULTS, MARKET_CAPS, PRICES
from indexlake.pipeline.ingest import StagedBatch, read_staged
from indexlake.quality.checks import CheckContext, load_splits
from indexlake.quality.quarantine import key_strings, quarantine_rows, resolve_slice
from indexlake.quality.runner import ValidationReport, validate_frame

# Calendar days of published history given to the look-back checks (> 63 sessions).
HISTORY_DAYS = 120
KNOWN_SPLITS = "known_splits.json"
FRESHNESS_SUITE = "freshness"


def suite_path(expectations_dir: Path, dataset: str) -> Path:
    """The JSON suite that guards ``dataset``."""
    return Path(expectations_dir) / f"{dataset}.json"


def check_context(
    dataset: str,
    expectations_dir: Path,
    lake_root: Path,
    symbols: list[str] | None = None,
    start: date | None = None,
) -> CheckContext:
    """Known splits, and the published rows of ``symbols`` in the days before ``start``."""
    history = pd.DataFrame()
    sql = {PRICES.name: "dq_price_history", MARKET_CAPS.name: "dq_market_cap_history"}.get(dataset)
    if sql and symbols and start is not None and _has_partitions(lake_root, dataset, start):
        params = {"symbols": symbols, "start": start - timedelta(days=HISTORY_DAYS), "end": start}
        history = query_frame(lake_root, sql, params)
    return CheckContext(
        dataset=dataset,
        history=history,
        splits=load_splits(Path(expectations_dir) / KNOWN_SPLITS),
    )


def _has_partitions(lake_root: Path, dataset: str, start: date) -> bool:
    """Whether any year partition the look-back window before ``start`` falls in exists (an
    empty lake, or a backfill's first chunk, has no history to read)."""
    first = (start - timedelta(days=HISTORY_DAYS)).year
    return any(
        partition_file(lake_root, DATASETS[dataset], year).exists()
        for year in range(first, start.year + 1)
    )


def record_results(report: ValidationReport, lake_root: Path, run_id: str, name: str) -> None:
    """Land a report's outcomes as one ``dq_results`` file of its dataset partition."""
    results = report.to_frame(run_id=run_id, validated_at=datetime.now(tz=UTC))
    write_file_atomic(
        to_table(results, DQ_RESULTS), partition_dir(lake_root, DQ_RESULTS, report.dataset) / name
    )


def validate_batch(
    batch: StagedBatch, expectations_dir: Path, lake_root: Path, run_id: str
) -> ValidationReport:
    """Run the dataset's suite on a staged batch, land the results in ``dq_results`` and the
    rows failing a critical expectation in ``quarantine``."""
    context = check_context(batch.dataset, expectations_dir, lake_root, batch.symbols, batch.start)
    report = validate_frame(
        read_staged(batch),
        suite_path(expectations_dir, batch.dataset),
        dataset=batch.dataset,
        partition=batch.label,
        context=context,
    )
    record_results(report, lake_root, run_id, f"run-{run_id}-{batch.start}_{batch.end}.parquet")
    report.quarantined = len(quarantine_rows(report, run_id, lake_root))
    _stage_clean(batch, report, lake_root)
    report.frame = None  # the batch stays on disk; do not carry its rows around
    return report


def _repaired(report: ValidationReport) -> bool:
    return any(o.expectation.endswith("_repaired") and o.unexpected_count for o in report.outcomes)


def _stage_clean(batch: StagedBatch, report: ValidationReport, lake_root: Path) -> None:
    """Stage what to publish instead of the batch, when that differs from the batch.

    For a batch that partial publishing lets through, or with a repaired split, a ``.clean``
    staging file gets the validated rows minus the quarantined ones, plus the currently
    published rows at the quarantined keys (so publishing keeps those rather than leaving
    holes); ``report.clean_path`` names it.
    """
    if not report.publishable or (report.success and not _repaired(report)):
        return
    bad = report.bad_rows()
    clean = report.frame.loc[~bad]
    if bad.any():
        clean = pd.concat([clean, _published_at(report.frame.loc[bad], batch, lake_root)])
    path = batch.path.with_name(f"{batch.path.stem}.clean.parquet")
    table = to_table(clean.reset_index(drop=True), DATASETS[batch.dataset])
    write_file_atomic(table, path)
    report.clean_path, report.clean_rows = path, table.num_rows


def publishable_batch(batch: StagedBatch, report: ValidationReport) -> StagedBatch | None:
    """The batch to publish after validation, or None if it must wait in staging: the batch
    as staged, or its clean rows (see ``validate_batch``)."""
    if not report.publishable:
        return None
    if report.clean_path is None:
        return batch
    return dataclasses.replace(batch, path=report.clean_path, rows=report.clean_rows)


def _published_at(rows: pd.DataFrame, batch: StagedBatch, lake_root: Path) -> pd.DataFrame:
    """The published rows with the same keys as ``rows`` (the values a quarantine keeps)."""
    dataset = DATASETS[batch.dataset]
    dates = pd.to_datetime(rows["date"])
    wanted = set(key_strings(rows, batch.dataset))
    found = []
    for year in sorted(dates.dt.year.dropna().unique()):
        part = read_partition(lake_root, dataset, int(year))
        if part.empty:
            continue
        part = part[part["symbol"].isin(rows["symbol"].unique())]
        if part.empty:
            continue
        found.append(part[[k in wanted for k in key_strings(part, batch.dataset)]])
    return pd.concat(found, ignore_index=True) if found else rows.iloc[0:0]


def resolve_quarantine(lake_root: Path, batch: StagedBatch, run_id: str) -> int:
    """After ``batch`` published: close the open quarantine rows its clean publish superseded
    (keys of the symbols it replaced, inside its date range, not quarantined again by this
    run); returns how many."""
    return resolve_slice(
        lake_root, batch.dataset, batch.replace_symbols, batch.start, batch.end, run_id
    )


def validate_freshness(
    expectations_dir: Path, lake_root: Path, run_id: str, as_of: date | None = None
) -> ValidationReport:
    """Run the freshness suite on the lake's latest landed prices day and record it."""
    latest = query_frame(lake_root, "latest_landed_date")
    context = CheckContext(dataset=PRICES.name, as_of=as_of or latest_completed_trading_day())
    report = validate_frame(
        latest,
        suite_path(expectations_dir, FRESHNESS_SUITE),
        dataset=PRICES.name,
        partition="latest",
        context=context,
    )
    record_results(report, lake_root, run_id, f"run-{run_id}-freshness.parquet")
    return report


class OutputGate:
    """Validates each strategy's outputs before they are published and keeps the reports.

    A plain class (not a dataclass) on purpose: task runners copy dataclass arguments, and the
    caller reads ``reports`` back after the compute step.
    """

    def __init__(self, expectations_dir: Path, lake_root: Path, run_id: str) -> None:
        self.expectations_dir = Path(expectations_dir)
        self.lake_root = Path(lake_root)
        self.run_id = run_id
        self.reports: list[ValidationReport] = []

    def check(self, strategy_id: str, frames: dict[str, pd.DataFrame]) -> list[ValidationReport]:
        """Validate each output frame (dataset name -> frame) with its suite and record the
        outcomes in ``dq_results`` (partition = the strategy id); returns the reports."""
        reports = []
        for dataset, frame in frames.items():
            report = validate_frame(
                frame,
                suite_path(self.expectations_dir, dataset),
                dataset=dataset,
                partition=strategy_id,
                context=CheckContext(dataset=dataset),
            )
            name = f"run-{self.run_id}-{strategy_id}.parquet"
            record_results(report, self.lake_root, self.run_id, name)
            report.frame = None
            reports.append(report)
        self.reports.extend(reports)
        return reports

    def check_outputs(self, outputs: Any) -> list[ValidationReport]:
        """Validate a ``StrategyOutputs``' levels, allocations, orders and risk metrics."""
        return self.check(
            outputs.strategy_id,
            {
                "index_levels": outputs.levels,
                "allocations": outputs.allocations,
                "rebalance_orders": outputs.orders,
                "risk_metrics": outputs.risk,
            },
        )

    def failures_of(self, strategy_id: str) -> list[ValidationReport]:
        """The failing reports of one strategy's outputs."""
        return [r for r in self.failures if r.partition == strategy_id]

    @property
    def failures(self) -> list[ValidationReport]:
        """Reports that blocked publishing a strategy's outputs."""
        return [r for r in self.reports if not r.success]
