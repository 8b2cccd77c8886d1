"""Validation reports: the outcome of each expectation and check on one batch, what they make
of the batch (pass, fail, which rows to quarantine), failure messages and ``dq_results`` rows.

Plain dataclasses; the only GX object in a report is GX's own result of the suite, carried for
the Data Docs.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from indexlake.lake.schemas import DQ_RESULTS
from indexlake.quality.suites import DEFAULT_SEVERITY

SAMPLE_ROWS = 5


@dataclass
class ExpectationOutcome:
    """The result of one expectation on one batch."""

    expectation: str
    column: str | None
    success: bool
    unexpected_count: int
    element_count: int
    sample: list[dict] = field(default_factory=list)
    severity: str = DEFAULT_SEVERITY
    broken: str | None = None
    observed_value: Any = None
    # Positions of every flagged row in the validated frame (None: a table-level outcome).
    rows: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def fails_batch(self) -> bool:
        """True if this outcome makes the whole batch fail (critical failure or broken check)."""
        return self.broken is not None or (not self.success and self.severity == "critical")

    def describe(self) -> str:
        """One human-readable line (plus example rows) for a failing or broken outcome."""
        target = f"{self.expectation}({self.column})" if self.column else self.expectation
        if self.broken is not None:
            return f"broken check {target} [{self.severity}]: {self.broken}"
        if self.unexpected_count or self.sample:
            what = f"{self.unexpected_count} of {self.element_count} rows unexpected"
        else:
            what = f"observed {self.observed_value!r} on {self.element_count} rows"
        lines = [f"{target} [{self.severity}]: {what}"]
        lines += [f"      e.g. {json.dumps(row)}" for row in self.sample]
        return "\n".join(lines)


@dataclass
class ValidationReport:
    """All expectation outcomes of one suite on one dataset partition."""

    suite: str
    dataset: str
    partition: str
    outcomes: list[ExpectationOutcome]
    # The suite allows publishing the clean rows when the failures are row-level.
    partial_publish: bool = False
    # The frame that was validated, after any repair (e.g. a known split), by position.
    frame: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    # Rows moved to the quarantine dataset, once the caller has done so.
    quarantined: int = 0
    # Where the caller staged the rows to publish instead of the batch (clean rows, repairs).
    clean_path: Path | None = None
    clean_rows: int = 0
    # GX's own result of the suite's expectations, for Data Docs.
    gx_result: Any = field(default=None, repr=False, compare=False)

    @property
    def success(self) -> bool:
        """False if any critical expectation failed or any check is broken."""
        return not any(o.fails_batch for o in self.outcomes)

    @property
    def row_level(self) -> bool:
        """True if every batch-failing outcome names the rows it failed on (no broken check,
        no table-level failure): those rows can be quarantined and the rest kept."""
        failing = [o for o in self.outcomes if o.fails_batch]
        return all(o.broken is None and o.rows is not None for o in failing)

    @property
    def publishable(self) -> bool:
        """Passed, or failed only on rows that partial publishing quarantines."""
        return self.success or (self.partial_publish and self.row_level)

    def bad_rows(self) -> np.ndarray:
        """Boolean mask over ``frame``: rows failing a critical expectation."""
        n = 0 if self.frame is None else len(self.frame)
        mask = np.zeros(n, dtype=bool)
        for o in self.outcomes:
            if o.fails_batch and o.rows is not None:
                mask[o.rows[o.rows < n]] = True
        return mask

    def failure_message(self) -> str:
        """Name the suite, each failing expectation and column, its count and example rows."""
        where = f"suite '{self.suite}' on {self.dataset} partition {self.partition}"
        if self.success:
            return f"Validation of {where} passed ({len(self.outcomes)} expectations)."
        failing = [o for o in self.outcomes if o.fails_batch]
        warnings = [o for o in self.outcomes if not o.success and not o.fails_batch]
        lines = [f"Validation of {where} failed: {len(failing)} of {len(self.outcomes)} checks"]
        lines += [f"  - {o.describe()}" for o in failing]
        if warnings:
            lines.append("  warnings (do not fail the batch):")
            lines += [f"  - {o.describe()}" for o in warnings]
        return "\n".join(lines)

    def to_frame(self, run_id: str, validated_at: dt.datetime) -> pd.DataFrame:
        """Rows of the ``dq_results`` dataset (without its ``dataset`` partition column)."""
        stamp = pd.Timestamp(validated_at)
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        n = len(self.outcomes)
        frame = pd.DataFrame(
            {
                "run_id": pd.Series([run_id] * n, dtype="str"),
                "validated_at": pd.Series([stamp] * n, dtype="datetime64[us, UTC]"),
                "partition": pd.Series([self.partition] * n, dtype="str"),
                "suite": pd.Series([self.suite] * n, dtype="str"),
                "expectation": pd.Series([o.expectation for o in self.outcomes], dtype="str"),
                "column": pd.Series([o.column for o in self.outcomes], dtype="str"),
                "success": pd.Series([o.success for o in self.outcomes], dtype="bool"),
                "unexpected_count": pd.Series(
                    [o.unexpected_count for o in self.outcomes], dtype="int64"
                ),
                "element_count": pd.Series([o.element_count for o in self.outcomes], dtype="int64"),
                "sample": pd.Series([_sample_json(o) for o in self.outcomes], dtype="str"),
                "severity": pd.Series([o.severity for o in self.outcomes], dtype="str"),
            }
        )
        return frame[DQ_RESULTS.columns]


class ValidationFailed(Exception):
    """Raised when one or more batches fail validation; ``.reports`` holds every report."""

    def __init__(self, reports: list[ValidationReport]) -> None:
        self.reports = list(reports)
        failed = [r for r in self.reports if not r.success] or self.reports
        super().__init__("\n\n".join(r.failure_message() for r in failed))


def raise_if_failed(reports: list[ValidationReport]) -> None:
    """Raise ``ValidationFailed`` carrying all reports if any of them failed."""
    if any(not r.success for r in reports):
        raise ValidationFailed(reports)


def sample_rows(frame: pd.DataFrame, indexes: list) -> list[dict]:
    """Whole rows at the given positions of ``frame``, as JSON-able dicts."""
    positions = [int(i) for i in indexes[:SAMPLE_ROWS] if isinstance(i, int | np.integer)]
    positions = [p for p in positions if 0 <= p < len(frame)]
    if not positions:  # the usual case; even an empty take copies Arrow-backed columns
        return []
    rows = frame.iloc[positions].to_dict(orient="records")
    return [{str(k): jsonable(v) for k, v in row.items()} for row in rows]


def jsonable(value: Any) -> Any:
    """A JSON-friendly version of a cell: ISO dates, plain numbers, None for missing."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else str(value)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, str | int | float | bool):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _sample_json(outcome: ExpectationOutcome) -> str:
    """The ``sample`` column: example rows, or the error of a broken check."""
    if outcome.broken is not None:
        return json.dumps([{"error": outcome.broken}])
    return json.dumps(outcome.sample)
