"""Validate a pandas frame against a Great Expectations suite kept as JSON in ``expectations/``.

Great Expectations is imported lazily (it takes seconds) and one ephemeral context is reused per
process. Results become plain dataclasses that tell bad data (an expectation failed) from a
broken check (the expectation itself raised), and convert to the ``dq_results`` dataset.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from indexlake.lake.schemas import DQ_RESULTS
from indexlake.quality.checks import PREFIX, CheckContext, run_check
from indexlake.quality.gx_context import batch_definition, gc_paused, memoized_configurations
from indexlake.quality.suites import DEFAULT_SEVERITY, gx_suite, load_suite

SAMPLE_ROWS = 5
# One thread for the indexlake checks of the validation running on the caller's thread.
_CHECKS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="indexlake-checks")

__all__ = [
    "ExpectationOutcome",
    "ValidationFailed",
    "ValidationReport",
    "load_suite",
    "raise_if_failed",
    "validate_frame",
]


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


def validate_frame(
    frame: pd.DataFrame,
    suite_path: Path,
    *,
    dataset: str,
    partition: str,
    context: CheckContext | None = None,
) -> ValidationReport:
    """Validate ``frame`` against the suite at ``suite_path`` and report every expectation.

    The suite's indexlake checks run first (a check may repair the frame, e.g. an unadjusted
    known split); the GX expectations then run on the (repaired) frame. Outcomes follow the
    suite: GX expectations in order, then the indexlake checks.
    """
    with gc_paused():
        return _validate_frame(frame, suite_path, dataset, partition, context)


def _validate_frame(
    frame: pd.DataFrame,
    suite_path: Path,
    dataset: str,
    partition: str,
    context: CheckContext | None,
) -> ValidationReport:
    suite_json = load_suite(suite_path)
    # GX reports failing rows by index label: positions, once the index is a RangeIndex.
    original = frame.reset_index(drop=True)
    context = context or CheckContext(dataset=dataset)
    # The indexlake checks (numpy over whole columns, mostly outside the GIL) run in a thread
    # while GX (mostly Python) validates the frame: on two cores that hides most of them.
    definition = batch_definition()  # imports GX (quietly) on first use
    suite = gx_suite(suite_json, suite_path)  # an invalid expectation raises here, first
    checks = _CHECKS.submit(_run_checks, original, suite_json.get("checks", []), context)
    try:
        fast, gx_result = _run_gx(original, suite_json, suite, definition)
    finally:
        checked, check_outcomes = checks.result()  # never leave the checks running
    if checked is not original:  # a check repaired rows (a known split): GX sees the repair
        fast, gx_result = _run_gx(checked, suite_json, suite, definition)
    results = gx_result.results

    order = {
        _config_key(c.type, c.kwargs): i for i, c in enumerate(suite.expectation_configurations)
    }
    outcomes = sorted(
        (_outcome(r, checked) for r in results),
        key=lambda o: order.get(o[0], len(order)),
    )
    gx_outcomes = [o[1] for o in outcomes]
    _attach_unexpected_rows(suite_json["expectations"], gx_outcomes, definition, fast, checked)
    return ValidationReport(
        suite=suite.name,
        dataset=dataset,
        partition=partition,
        outcomes=gx_outcomes + check_outcomes,
        partial_publish=bool((suite_json.get("meta") or {}).get("partial_publish", False)),
        frame=checked,
        gx_result=gx_result,
    )


def _run_gx(frame: pd.DataFrame, suite_json: dict, suite: Any, definition: Any) -> tuple:
    """GX's result of ``suite`` on ``frame`` and the frame GX scanned (see ``_fast_frame``)."""
    from great_expectations.validator.v1_validator import Validator

    fast = _fast_frame(frame, suite_json["expectations"])
    # BASIC: success and counts for every expectation (SUMMARY's value counts and row
    # positions cost ~40% more GX time on a clean 600 k-row batch); the rows behind a nonzero
    # count come from a second, COMPLETE pass over those expectations only.
    validator = Validator(
        batch_definition=definition,
        batch_parameters={"dataframe": fast},
        result_format={
            "result_format": "BASIC",
            "partial_unexpected_count": SAMPLE_ROWS,
            "return_unexpected_index_query": False,
        },
    )
    with memoized_configurations():
        return fast, validator.validate_expectation_suite(suite)


def _run_checks(
    frame: pd.DataFrame, checks: list[dict], context: CheckContext
) -> tuple[pd.DataFrame, list[ExpectationOutcome]]:
    """Evaluate the suite's indexlake checks in order; a check that raises is broken."""
    outcomes = []
    for item in checks:
        name = item["name"]
        severity = str((item.get("meta") or {}).get("severity", DEFAULT_SEVERITY))
        kwargs = dict(item.get("kwargs") or {})
        column = _column_of(kwargs)
        try:
            run = run_check(name, frame, context, kwargs)
        except Exception as exc:
            outcomes.append(
                ExpectationOutcome(
                    expectation=PREFIX + name,
                    column=column,
                    success=False,
                    unexpected_count=0,
                    element_count=len(frame),
                    severity=severity,
                    broken=f"{type(exc).__name__}: {exc}",
                )
            )
            continue
        frame = run.frame
        for result in run.results:
            if result.mask is not None:
                rows = np.flatnonzero(result.mask)
                failed = len(rows) > 0
            else:
                rows, failed = None, bool(result.failed)
            outcomes.append(
                ExpectationOutcome(
                    expectation=PREFIX + result.name,
                    column=column,
                    success=not failed,
                    unexpected_count=0 if rows is None else len(rows),
                    element_count=len(frame),
                    sample=_sample_rows(frame, [] if rows is None else rows[:SAMPLE_ROWS]),
                    severity=result.severity or severity,
                    observed_value=_jsonable(result.observed),
                    rows=rows,
                )
            )
    return frame, outcomes


# GX expectations whose failures are rows of the batch (the others are table-level).
_ROW_LEVEL_PREFIXES = ("expect_column_values_", "expect_column_pair_values_", "expect_compound_")


def _attach_unexpected_rows(
    items: list[dict],
    outcomes: list[ExpectationOutcome],
    definition: Any,
    fast: pd.DataFrame,
    frame: pd.DataFrame,
) -> None:
    """Give each row-level GX outcome with unexpected rows the positions of all of them, and
    its sample rows (from ``frame``, the validated frame in its own dtypes).

    Only those expectations are re-run, with GX's COMPLETE result format, so a clean batch
    pays nothing for it.
    """
    flagged = [
        (o, item)
        for o, item in zip(outcomes, items, strict=False)
        if (o.unexpected_count or not o.success)
        and o.broken is None
        and o.expectation.startswith(_ROW_LEVEL_PREFIXES)
    ]
    if not flagged:
        return
    from great_expectations.core import ExpectationSuite
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )
    from great_expectations.validator.v1_validator import Validator

    domain = [ExpectationConfiguration(**item).to_domain_obj() for _, item in flagged]
    rerun = ExpectationSuite(name="rows", expectations=list(domain))
    validator = Validator(
        batch_definition=definition,
        batch_parameters={"dataframe": fast},
        result_format={"result_format": "COMPLETE", "return_unexpected_index_query": False},
    )
    with memoized_configurations():
        results = validator.validate_expectation_suite(rerun).results
    by_key = {
        _config_key(r.expectation_config.type, r.expectation_config.kwargs): r for r in results
    }
    for (outcome, _), expectation in zip(flagged, domain, strict=True):
        config = expectation.configuration
        result = by_key.get(_config_key(config.type, config.kwargs))
        indexes = ((result.result or {}) if result is not None else {}).get("unexpected_index_list")
        if indexes is None:
            continue
        outcome.rows = np.unique(np.asarray([int(i) for i in indexes], dtype=np.int64))
        outcome.sample = outcome.sample or _sample_rows(frame, outcome.rows[:SAMPLE_ROWS].tolist())


# Expectations that give the same answer on a categorical column as on its strings (they
# compare values, nulls or row identity, never the dtype or the text itself).
_CATEGORICAL_SAFE = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_be_unique",
        "expect_compound_columns_to_be_unique",
        "expect_select_column_values_to_be_unique_within_record",
        "expect_multicolumn_values_to_be_unique",
        "expect_column_distinct_values_to_be_in_set",
        "expect_column_distinct_values_to_contain_set",
        "expect_column_distinct_values_to_equal_set",
    }
)
# Expectations that look at column names only (any column may be categorical under them).
_NAMES_ONLY = frozenset(
    {
        "expect_table_row_count_to_be_between",
        "expect_table_row_count_to_equal",
        "expect_table_column_count_to_equal",
        "expect_table_column_count_to_be_between",
        "expect_table_columns_to_match_ordered_list",
        "expect_table_columns_to_match_set",
        "expect_column_to_exist",
    }
)


def _fast_frame(frame: pd.DataFrame, expectations: list[dict] | None = None) -> pd.DataFrame:
    """The frame GX scans, in dtypes it scans several times faster; values, nulls and
    positions are unchanged.

    - object columns of dates become datetime64;
    - nullable integers become float64 with NaN for missing (~40x faster in GX);
    - string columns become categorical when every expectation on them only compares values
      or nulls (``_CATEGORICAL_SAFE``): GX copies and filters the whole frame per expectation,
      and integer codes copy, factorize and compare far faster than strings (the prices
      suite: 0.42 -> 0.31 s per 600 k rows). A column that any other expectation names (a
      regex, a type, a length) keeps its strings.
    """
    keep_strings = _columns_needing_strings(expectations or [])
    converted = {}
    for name in frame.columns:
        column = frame[name]
        if isinstance(column.dtype, pd.Int64Dtype | pd.Int32Dtype):
            converted[name] = column.to_numpy(dtype="float64", na_value=np.nan)
            continue
        if isinstance(column.dtype, pd.StringDtype) and name not in keep_strings:
            converted[name] = column.astype("category")
            continue
        if column.dtype != object or column.empty:
            continue
        first = column.iloc[0]
        if isinstance(first, dt.date) and not isinstance(first, dt.datetime):
            try:
                converted[name] = pd.to_datetime(column)
            except (TypeError, ValueError, OverflowError):
                continue
    return frame.assign(**converted) if converted else frame


def _columns_needing_strings(expectations: list[dict]) -> set[str] | _AllColumns:
    """Columns named by an expectation outside ``_CATEGORICAL_SAFE`` (and ``_NAMES_ONLY``);
    every column, if such an expectation does not say which it looks at."""
    needing: set[str] = set()
    for item in expectations:
        kind = item.get("type", "")
        if kind in _CATEGORICAL_SAFE or kind in _NAMES_ONLY:
            continue
        kwargs = item.get("kwargs") or {}
        named = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
        named += list(kwargs.get("column_list") or [])
        if kind.startswith(("expect_table_", "expect_multicolumn_sum")) or not named:
            return _AllColumns()
        needing.update(str(c) for c in named)
    return needing


class _AllColumns:
    """Contains every column name."""

    def __contains__(self, name: object) -> bool:
        return True


def _config_key(expectation_type: str, kwargs: dict) -> str:
    """A key matching a suite expectation to its result (GX adds ``batch_id`` and reorders)."""
    clean = {k: v for k, v in kwargs.items() if k != "batch_id"}
    return expectation_type + json.dumps(clean, sort_keys=True, default=str)


def _outcome(result: Any, frame: pd.DataFrame) -> tuple[str, ExpectationOutcome]:
    """Convert one GX ``ExpectationValidationResult`` into an outcome (and its suite key)."""
    config = result.expectation_config
    kwargs = dict(config.kwargs)
    meta = config.meta or {}
    severity = str(meta.get("severity") or _native_severity(config) or DEFAULT_SEVERITY)
    details = result.result or {}
    broken = _exception_text(result.exception_info)
    indexes = details.get("partial_unexpected_index_list") or []
    return _config_key(config.type, kwargs), ExpectationOutcome(
        expectation=config.type,
        column=_column_of(kwargs),
        success=bool(result.success) and broken is None,
        unexpected_count=int(details.get("unexpected_count") or 0),
        element_count=int(details.get("element_count", len(frame))),
        sample=_sample_rows(frame, indexes),
        severity=severity,
        broken=broken,
        observed_value=_jsonable(details.get("observed_value")),
    )


def _native_severity(config: Any) -> str | None:
    """GX 1.x's own ``severity`` field on the expectation, if set to something other than
    its default (the suite's ``meta.severity`` wins)."""
    value = getattr(config, "severity", None)
    value = getattr(value, "value", value)
    return None if not value or value == DEFAULT_SEVERITY else "warning"


def _column_of(kwargs: dict) -> str | None:
    """The column, column pair or column list an expectation looks at, comma-joined."""
    if "column" in kwargs:
        return str(kwargs["column"])
    if "column_A" in kwargs and "column_B" in kwargs:
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    if "column_list" in kwargs:
        return ",".join(str(c) for c in kwargs["column_list"])
    return None


def _exception_text(info: Any) -> str | None:
    """The exception message of a check that raised, or None. GX reports either one flat
    dict or a dict of them keyed by metric."""
    if not info:
        return None
    entries = [info] if "raised_exception" in info else list(info.values())
    messages = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        message = entry.get("exception_message")
        if entry.get("raised_exception") or message:
            messages.append(str(message or "exception raised"))
    return "; ".join(dict.fromkeys(messages)) or None


def _sample_rows(frame: pd.DataFrame, indexes: list) -> list[dict]:
    """Whole rows at the given positions of ``frame``, as JSON-able dicts."""
    positions = [int(i) for i in indexes[:SAMPLE_ROWS] if isinstance(i, int | np.integer)]
    positions = [p for p in positions if 0 <= p < len(frame)]
    if not positions:  # the usual case; even an empty take copies Arrow-backed columns
        return []
    rows = frame.iloc[positions].to_dict(orient="records")
    return [{str(k): _jsonable(v) for k, v in row.items()} for row in rows]


def _jsonable(value: Any) -> Any:
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
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
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
